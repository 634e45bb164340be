"""Tiered-care (分级诊疗) indicators against the pilots' targets (methodology.md sections 6.1-6.6).

Episodes are all inpatient cases (grouped or not) unless an indicator needs a DRG. Hospital county
and level come from the hospitals table; residence from ``residence_county``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import EvaluationError, normalize_level

# Targets of the seed cities' plans (methodology.md section 6 and the issue): (operator, value).
TARGET_PRESET = {
    "in_county_rate": (">=", 0.90),        # Dezhou by 2021, Wenzhou by 2018
    "in_region_rate": (">=", 0.90),        # Shaoxing: 85% then ~90%
    "primary_share": (">=", 0.10),         # Shaoxing: 7% then 10%
    "service_share_broad": (">=", 0.50),   # Wenzhou 2017: medical-service revenue >= 50%
    "basic_care_tertiary_share": ("falling", None),  # Chengdu: fewer common conditions in tertiary hospitals
}


def load_targets(path: str | None) -> dict:
    """Targets from a TOML file (``[targets]`` with ``name = value`` or ``name = {op = ">=", value = 0.9}``) over the preset."""
    targets = dict(TARGET_PRESET)
    if path:
        import tomllib

        with open(path, "rb") as f:
            data = tomllib.load(f)
        for k, v in data.get("targets", data).items():
            if k not in TARGET_PRESET:
                raise EvaluationError(f"{path}: unknown target {k!r}; known: {', '.join(TARGET_PRESET)}")
            targets[k] = (v.get("op", ">="), v.get("value")) if isinstance(v, dict) else (">=", float(v))
    return targets


def _check(value, target):
    op, t = target
    if value is None or (isinstance(value, float) and np.isnan(value)) or op == "falling":
        return None, np.nan
    met = value >= t if op == ">=" else value <= t
    return bool(met), float(value - t)


def county_rates(cases: pd.DataFrame, hospitals: pd.DataFrame, targets: dict | None = None) -> pd.DataFrame:
    """In-county (6.1) and in-region (6.2) rates by residence county and year, with targets."""
    targets = targets or TARGET_PRESET
    hc = dict(zip(hospitals["hospital_id"].astype(str), hospitals["county"].astype(str)))
    region = set(hospitals["county"].astype(str))
    df = pd.DataFrame({
        "county": cases["residence_county"].astype(object).where(cases["residence_county"].notna(), None),
        "hospital_county": cases["hospital_id"].astype(str).map(hc),
        "year": cases["year"] if "year" in cases.columns else 0,
    })
    known = df["county"].notna()
    d = df[known]
    g = d.groupby(["county", "year"], observed=True)
    out = pd.DataFrame({"residents": g.size()})
    out["in_county"] = (d["hospital_county"] == d["county"]).groupby([d["county"], d["year"]], observed=True).sum()
    out["in_region"] = d["hospital_county"].isin(region).groupby([d["county"], d["year"]], observed=True).sum()
    out["in_county_rate"] = out["in_county"] / out["residents"]
    out["in_region_rate"] = out["in_region"] / out["residents"]
    # Episodes of the region's residents in hospitals outside the region are what the in-region rate
    # measures; data that hold only the region's own hospitals (no such episode at all) cannot show
    # them, and would report 100% everywhere: the rate is then not measurable, not "met".
    outside = d["hospital_county"].isna() | ~d["hospital_county"].isin(region)
    measurable = bool(outside.any())
    if not measurable:
        out["in_region"] = np.nan
        out["in_region_rate"] = np.nan
    out = out.reset_index()
    out["in_region_status"] = "ok" if measurable else "not_measurable: the data hold only the region's own hospitals"
    out["missing_residence"] = int((~known).sum())
    for name in ("in_county_rate", "in_region_rate"):
        res = [_check(v, targets[name]) for v in out[name]]
        out[f"{name}_target"] = targets[name][1]
        out[f"{name}_met"] = [r[0] for r in res]
        out[f"{name}_gap"] = [r[1] for r in res]
    return out


def basic_care_drgs(weights: pd.DataFrame, theta: float = 0.8, supplied: list | None = None) -> set:
    """Section 6.4 default list: medical partition (2nd character R-Z) and RW < theta."""
    if supplied:
        return set(supplied)
    w = weights.dropna(subset=["rw"])
    return {g for g, rw in zip(w["drg"].astype(str), w["rw"]) if len(g) >= 2 and "R" <= g[1] <= "Z" and rw < theta}


def region_indicators(cases: pd.DataFrame, hospitals: pd.DataFrame, weights: pd.DataFrame, targets: dict | None = None,
                      basic_care: list | None = None) -> pd.DataFrame:
    """Per year: primary-level inpatient share (6.3), tertiary share of basic-care DRG cases and basic-care
    share of tertiary caseload (6.4), with targets (the basic-care share must fall year on year)."""
    targets = targets or TARGET_PRESET
    lv = dict(zip(hospitals["hospital_id"].astype(str), normalize_level(hospitals["level"])))
    level = cases["hospital_id"].astype(str).map(lv).fillna("unknown")
    year = cases["year"] if "year" in cases.columns else pd.Series(0, index=cases.index)
    gb = basic_care_drgs(weights, supplied=basic_care)
    is_basic = cases["drg"].astype(str).isin(gb) & cases["included"]
    rows = []
    for y in sorted(year.dropna().unique()):
        m = year == y
        n_all = int(m.sum())
        n_primary = int((m & (level == "primary")).sum())
        tert = m & (level == "tertiary")
        b = m & is_basic
        rows.append({
            "year": int(y), "episodes": n_all, "primary_episodes": n_primary,
            "primary_share": n_primary / n_all if n_all else np.nan,
            "basic_care_cases": int(b.sum()),
            "basic_care_tertiary_share": (b & tert).sum() / b.sum() if b.sum() else np.nan,
            "tertiary_basic_care_share": (b & tert).sum() / tert.sum() if tert.sum() else np.nan,
        })
    out = pd.DataFrame(rows)
    res = [_check(v, targets["primary_share"]) for v in out["primary_share"]]
    out["primary_share_target"] = targets["primary_share"][1]
    out["primary_share_met"] = [r[0] for r in res]
    out["primary_share_gap"] = [r[1] for r in res]
    prev = out["basic_care_tertiary_share"].shift(1)
    out["basic_care_tertiary_share_falling"] = np.where(prev.isna(), None, out["basic_care_tertiary_share"] < prev)
    out.attrs["basic_care_drgs"] = sorted(gb)
    return out


def hospital_referrals_and_revenue(cases: pd.DataFrame, raw: pd.DataFrame, hospitals: pd.DataFrame,
                                   targets: dict | None = None) -> pd.DataFrame:
    """Per hospital and year: down-referral rate (6.5) and medical-service revenue share, narrow and broad (6.6)."""
    targets = targets or TARGET_PRESET
    year = cases["year"] if "year" in cases.columns else pd.Series(0, index=cases.index)
    key = [cases["hospital_id"].astype(str), year]
    lt = cases["leaving_type"].astype(str)
    alive = lt != "5"
    down = lt == "3"  # type 2 transfers: the receiver is not in the data -> transfer_unknown_level
    g = pd.DataFrame({"alive": alive, "down": down, "transfer_unknown_level": lt == "2"}).groupby(key, observed=True).sum()
    out = g.rename_axis(["hospital_id", "year"])
    out["down_rate"] = out["down"] / out["alive"].where(out["alive"] > 0)
    # up-referral (上转) of primary facilities: their transfers (type 2) go to a higher level; the receiver
    # is not in these data, so this is a proxy and labelled as such
    lv_map = dict(zip(hospitals["hospital_id"].astype(str), normalize_level(hospitals["level"])))
    is_primary = out.index.get_level_values("hospital_id").map(lambda h: lv_map.get(h) == "primary")
    out["up_referral_proxy"] = np.where(is_primary, out["transfer_unknown_level"], 0)
    out["up_rate_proxy"] = np.where(is_primary, out["up_referral_proxy"] / out["alive"].where(out["alive"] > 0), np.nan)
    comp = ["drug_cost", "consumables_cost", "exam_cost"]
    if all(c in raw.columns for c in comp) and "total_cost" in raw.columns:
        total = pd.to_numeric(raw["total_cost"], errors="coerce")
        parts = raw[comp].apply(pd.to_numeric, errors="coerce")
        complete = total.notna() & (total > 0) & parts.notna().all(axis=1)
        narrow = (total - parts.sum(axis=1)).where(complete, 0.0)
        broad = (total - parts["drug_cost"] - parts["consumables_cost"]).where(complete, 0.0)
        tot = total.where(complete, 0.0)
        s = pd.DataFrame({"narrow": narrow, "broad": broad, "total": tot}).groupby(key, observed=True).sum()
        out["service_share_narrow"] = s["narrow"] / s["total"].where(s["total"] > 0)
        out["service_share_broad"] = s["broad"] / s["total"].where(s["total"] > 0)
        res = [_check(v, targets["service_share_broad"]) for v in out["service_share_broad"]]
        out["service_share_broad_met"] = [r[0] for r in res]
        out["service_share_broad_gap"] = [r[1] for r in res]
    lv = dict(zip(hospitals["hospital_id"].astype(str), normalize_level(hospitals["level"])))
    out = out.reset_index()
    out.insert(1, "level", out["hospital_id"].map(lv).fillna("unknown"))
    return out
