"""Tiered-care (分级诊疗) indicators against the pilots' targets (methodology.md sections 6.1-6.6).

Episodes are all inpatient cases (grouped or not) unless an indicator needs a DRG. Hospital county
and level come from the hospitals table; residence from ``residence_county``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..common import EvaluationError, on_categories, normalize_level, read_toml
from ..words import DEFINITIONS
from ..weights import baseline_weights

# Targets of the seed cities' plans (methodology.md section 6): (operator, value, definition). The
# definition is part of the target: the revenue-share target of 50% was set on the broad share
# (医务性收入占比: tests count as service), which the narrow national-assessment share rarely reaches.
TARGET_PRESET = {
    "in_county_rate": (">=", 0.90, "in_county"),        # Dezhou by 2021, Wenzhou by 2018
    "in_region_rate": (">=", 0.90, "in_region"),        # Shaoxing: 85% then ~90%
    "primary_share": (">=", 0.10, "facility"),          # Shaoxing: 7% then 10%
    "service_share": (">=", 0.50, "broad"),             # Wenzhou 2017: medical-service revenue >= 50%
    "basic_care_tertiary_share": ("falling", None, "basic_care"),  # Chengdu: fewer common conditions in tertiary hospitals
}
SERVICE_SHARE = {"narrow": "service_share_narrow", "broad": "service_share_broad"}


def load_targets(path: str | None) -> dict:
    """Targets from a TOML file over the preset: ``[targets]`` with ``name = value`` or
    ``name = {op = ">=", value = 0.35, definition = "narrow"}`` (the service share's definition is
    ``narrow`` or ``broad``; ``service_share_narrow`` / ``service_share_broad`` name it too)."""
    targets = dict(TARGET_PRESET)
    if not path:
        return targets
    data = read_toml(path, "--targets", "[targets] in_county_rate = 0.9")
    table = data.get("targets", data)
    if not isinstance(table, dict):
        raise EvaluationError(f"{path}: [targets] must be a table of name = value lines")
    for k, v in table.items():
        name, target = _target(path, k, v)
        targets[name] = target
    return targets


def _target(path: str, key: str, v) -> tuple[str, tuple]:
    """(target name, (op, value, definition)) of one TOML entry: a number, or {op, value, definition}."""
    name = "service_share" if key in ("service_share_narrow", "service_share_broad") else key
    if name not in TARGET_PRESET:
        raise EvaluationError(f"{path}: unknown target {key!r}; known: {', '.join(TARGET_PRESET)}")
    spec = v if isinstance(v, dict) else {"value": v}
    op, value = spec.get("op", ">="), spec.get("value")
    if op not in (">=", "<=", "falling") or not (op == "falling" or isinstance(value, (int, float)) and not isinstance(value, bool)):
        raise EvaluationError(f"{path}: target {key!r}: write a number, or {{op = \">=\" or \"<=\", value = 0.9}}")
    definition = spec.get("definition", key.rsplit("_", 1)[1] if name != key else TARGET_PRESET[name][2])
    if name == "service_share" and definition not in SERVICE_SHARE:
        raise EvaluationError(f"{path}: service_share definition {definition!r}; use narrow or broad")
    return name, (op, float(value) if value is not None else None, definition)


def targets_table(targets: dict, lang: str = "zh") -> pd.DataFrame:
    """One row per target: indicator, operator, value, and the definition it is checked on, in words."""
    words = DEFINITIONS["en" if lang == "en" else "zh"]
    return pd.DataFrame([{"indicator": k, "op": op, "target": value, "definition": d, "definition_text": words.get(d, d)}
                         for k, (op, value, d) in targets.items()])


def _check(value, target):
    op, t = target[0], target[1]
    if value is None or (isinstance(value, float) and np.isnan(value)) or op == "falling":
        return None, np.nan
    met = value >= t if op == ">=" else value <= t
    return bool(met), float(value - t)


def county_rates(cases: pd.DataFrame, hospitals: pd.DataFrame, targets: dict | None = None) -> pd.DataFrame:
    """In-county (6.1) and in-region (6.2) rates by residence county and year, with targets."""
    return county_table(county_counts(cases, hospitals), hospitals, targets)


def county_counts(cases: pd.DataFrame, hospitals: pd.DataFrame) -> pd.DataFrame:
    """Episodes per residence county, year and hospital county (missing ones kept): what :func:`county_table`
    needs, and what batches of a large file add up to."""
    hc = {h: (None if pd.isna(c) else str(c)) for h, c in zip(hospitals["hospital_id"].astype(str), hospitals["county"])}
    df = pd.DataFrame({
        "county": cases["residence_county"].astype(object).where(cases["residence_county"].notna(), None),
        "hospital_county": cases["hospital_id"].astype(str).map(hc).astype(object),
        "year": cases["year"] if "year" in cases.columns else 0,
    })
    return df.groupby(["county", "year", "hospital_county"], dropna=False, sort=False).size().rename("n").reset_index()


def county_table(counts: pd.DataFrame, hospitals: pd.DataFrame, targets: dict | None = None) -> pd.DataFrame:
    """:func:`county_rates` from :func:`county_counts`."""
    targets = targets or TARGET_PRESET
    region = set(hospitals["county"].astype(str))
    known = counts["county"].notna()
    d = counts[known]
    key = [d["county"], d["year"]]
    n = d["n"]
    out = pd.DataFrame({"residents": n.groupby(key).sum()})
    out["in_county"] = n.where(d["hospital_county"] == d["county"], 0).groupby(key).sum()
    out["in_region"] = n.where(d["hospital_county"].isin(region), 0).groupby(key).sum()
    out["in_county_rate"] = out["in_county"] / out["residents"]
    out["in_region_rate"] = out["in_region"] / out["residents"]
    # Episodes of the region's residents in hospitals outside the region are what the in-region rate
    # measures; data that hold only the region's own hospitals (no such episode at all) cannot show
    # them, and would report 100% everywhere: the rate is then not measurable, not "met".
    outside = d["hospital_county"].isna() | ~d["hospital_county"].isin(region)
    measurable = bool((outside & (n > 0)).any())
    if not measurable:
        out["in_region"] = np.nan
        out["in_region_rate"] = np.nan
    out = out.reset_index()
    out["in_region_status"] = "ok" if measurable else "not_measurable: the data hold only the region's own hospitals"
    out["missing_residence"] = int(counts.loc[~known, "n"].sum())
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


def region_indicators(cases: pd.DataFrame, hospitals: pd.DataFrame, weights: pd.DataFrame | None = None,
                      targets: dict | None = None, basic_care: list | None = None) -> pd.DataFrame:
    """Per year: primary-level inpatient share (6.3), tertiary share of basic-care DRG cases and basic-care
    share of tertiary caseload (6.4), with targets (the basic-care share must fall year on year).

    Without ``weights`` the basic-care list comes from weights of the first data year, frozen for every
    year (6.4: a trend of case mix, not of weight drift); ``weights_from`` says which."""
    weights_from = "given"
    if weights is None and not basic_care:
        first = int(cases["year"].min()) if "year" in cases.columns and cases["year"].notna().any() else 0
        weights, base = baseline_weights(cases, first + 1)
        weights_from = f"baseline {base[0]}" if base else "none"
    return region_table(region_counts(cases, hospitals), weights, weights_from, targets, basic_care)


def region_counts(cases: pd.DataFrame, hospitals: pd.DataFrame) -> pd.DataFrame:
    """Episodes per year, hospital level, DRG and whether included: what :func:`region_table` needs."""
    lv = dict(zip(hospitals["hospital_id"].astype(str), normalize_level(hospitals["level"])))
    df = pd.DataFrame({"year": cases["year"] if "year" in cases.columns else 0,
                       "level": cases["hospital_id"].astype(str).map(lv).fillna("unknown").astype(object),
                       "drg": cases["drg"].astype(str).astype(object), "included": cases["included"].astype(bool)})
    return df.groupby(["year", "level", "drg", "included"], dropna=False, sort=False).size().rename("n").reset_index()


def region_table(counts: pd.DataFrame, weights: pd.DataFrame | None, weights_from: str, targets: dict | None = None,
                 basic_care: list | None = None) -> pd.DataFrame:
    """:func:`region_indicators` from :func:`region_counts` and the weights the basic-care list comes from."""
    targets = targets or TARGET_PRESET
    gb = basic_care_drgs(weights, supplied=basic_care)
    c = counts
    is_basic = c["drg"].isin(gb) & c["included"].astype(bool)
    rows = []
    for y in sorted(c["year"].dropna().unique()):
        m = c["year"] == y
        n_all = int(c.loc[m, "n"].sum())
        n_primary = int(c.loc[m & (c["level"] == "primary"), "n"].sum())
        tert = m & (c["level"] == "tertiary")
        b = m & is_basic
        n_b, n_bt, n_t = int(c.loc[b, "n"].sum()), int(c.loc[b & tert, "n"].sum()), int(c.loc[tert, "n"].sum())
        rows.append({
            "year": int(y), "episodes": n_all, "primary_episodes": n_primary,
            "primary_share": n_primary / n_all if n_all else np.nan,
            "basic_care_cases": n_b,
            "basic_care_tertiary_share": n_bt / n_b if n_b else np.nan,
            "tertiary_basic_care_share": n_bt / n_t if n_t else np.nan,
        })
    out = pd.DataFrame(rows, columns=["year", "episodes", "primary_episodes", "primary_share", "basic_care_cases",
                                      "basic_care_tertiary_share", "tertiary_basic_care_share"])  # no year: no rows
    res = [_check(v, targets["primary_share"]) for v in out["primary_share"]]
    out["primary_share_target"] = targets["primary_share"][1]
    out["primary_share_met"] = [r[0] for r in res]
    out["primary_share_gap"] = [r[1] for r in res]
    prev = out["basic_care_tertiary_share"].shift(1)
    out["basic_care_tertiary_share_falling"] = np.where(prev.isna(), None, out["basic_care_tertiary_share"] < prev)
    out["weights_from"] = weights_from if basic_care is None else "list"
    out.attrs["basic_care_drgs"] = sorted(gb)
    return out


LEVEL_RANK = {"primary": 1, "secondary": 2, "tertiary": 3}
TRANSFER_WINDOW_DAYS = 1  # a transfer's receiving admission starts on the day of discharge or the next


def link_stays(sent: pd.DataFrame, later: pd.DataFrame) -> pd.DataFrame:
    """Each transfer's receiver by patient and dates: ``sent`` (row, patient, hospital, discharge) and ``later``
    (patient, hospital_to, admit_to: every stay of those patients) -> (row, hospital_to) of the same patient's earliest
    admission at another hospital from the discharge day to ``TRANSFER_WINDOW_DAYS`` after (ties: the smaller
    hospital id). Used on a whole table and on the stays a streamed run collects."""
    sent = sent.dropna(subset=["patient", "discharge"])
    later = later.dropna(subset=["admit_to"])
    m = sent[["row", "patient", "hospital", "discharge"]].merge(later[["patient", "hospital_to", "admit_to"]], on="patient")
    gap = (m["admit_to"] - m["discharge"]).dt.days
    m = m[(gap >= 0) & (gap <= TRANSFER_WINDOW_DAYS) & (m["hospital_to"] != m["hospital"])]
    return m.sort_values(["row", "admit_to", "hospital_to"]).drop_duplicates("row")[["row", "hospital_to"]]


def transfer_receivers(raw: pd.DataFrame, hospitals: pd.DataFrame, leaving: pd.Series | None = None) -> tuple[pd.Series, str]:
    """Per case, the hospital that received a type-2 transfer (医嘱转院), or missing; and how it was found.

    From the receiving-institution column (拟接收医疗机构: a hospital code, else the exact name, of the
    hospitals table) when present; else from ``patient_id`` and dates: the same patient's admission at
    another hospital starting on the discharge day or within ``TRANSFER_WINDOW_DAYS`` after (the earliest
    such admission). Transfers found neither way stay missing (methodology 6.5: not counted as down,
    reported as ``transfer_unknown_level``). ``leaving``: the leaving types as text (default: the column)."""
    if leaving is None:
        leaving = raw["leaving_type"].astype(str) if "leaving_type" in raw.columns else pd.Series("", index=raw.index)
    rows = np.flatnonzero((leaving == "2").to_numpy())  # only the transfers' texts are read (2% of the cases)
    out = pd.Series(pd.NA, index=raw.index, dtype="string")
    ids = hospitals["hospital_id"].astype(str)
    if "receiving_institution" in raw.columns:
        text = raw["receiving_institution"].iloc[rows].astype("string").str.strip()
        by_name = {}
        if "name" in hospitals.columns:
            names = hospitals["name"].astype(str).str.strip()
            unique = ~names.duplicated(keep=False)  # a name two hospitals share identifies neither
            by_name = dict(zip(names[unique], ids[unique]))
        found = text.where(text.isin(set(ids))).fillna(text.map(by_name).astype("string"))
        out.iloc[rows] = found.to_numpy()
        return out, "receiving_institution"
    if {"patient_id", "admit_date", "discharge_date"} <= set(raw.columns):
        patient = raw["patient_id"].astype("string")
        sent_patients = set(patient.iloc[rows].dropna())
        mine = np.flatnonzero(patient.isin(sent_patients).to_numpy())  # every stay of a transferred patient
        stays = pd.DataFrame({"patient": patient.iloc[mine], "hospital": raw["hospital_id"].iloc[mine].astype(str),
                              "admit": pd.to_datetime(raw["admit_date"].iloc[mine], errors="coerce"),
                              "discharge": pd.to_datetime(raw["discharge_date"].iloc[mine], errors="coerce")})
        sent = stays.loc[stays.index.intersection(raw.index[rows])].reset_index(names="row")
        first = link_stays(sent, stays.rename(columns={"hospital": "hospital_to", "admit": "admit_to"}))
        out[first["row"].to_numpy()] = first["hospital_to"].to_numpy()
        return out, "patient_id+dates"
    return out, "none"


def hospital_referrals_and_revenue(cases: pd.DataFrame, raw: pd.DataFrame, hospitals: pd.DataFrame,
                                   targets: dict | None = None) -> pd.DataFrame:
    """Per hospital and year: down-referral rate (6.5) and medical-service revenue share, narrow and broad (6.6).

    Down-referrals: leaving type 3, and type-2 transfers whose receiver (:func:`transfer_receivers`) has a
    lower level; up-referrals: type-2 transfers to a higher level. ``transfer_unknown_level`` counts the
    type-2 transfers whose receiver could not be found or has no level, ``transfer_unmatched_share`` their
    share, ``transfer_match`` says how receivers were found."""
    sums, how = referral_sums(cases, raw, hospitals)
    return referral_table(sums, how, hospitals, targets)


REVENUE = ["drug_cost", "consumables_cost", "exam_cost"]


def referral_sums(cases: pd.DataFrame, raw: pd.DataFrame, hospitals: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Per hospital and year the counts (alive, down, transfers by direction) and, when the cost parts are there,
    the revenue sums of :func:`referral_table`; and how transfer receivers were found."""
    year = cases["year"] if "year" in cases.columns else pd.Series(0, index=cases.index)
    key = [cases["hospital_id"].astype(str), year]
    lt = cases["leaving_type"].astype(str)
    lv_map = dict(zip(hospitals["hospital_id"].astype(str), normalize_level(hospitals["level"])))
    rank_of = {h: LEVEL_RANK.get(lv, np.nan) for h, lv in lv_map.items()}
    receiver, how = transfer_receivers(raw, hospitals, lt)
    transfer = lt == "2"
    hid = cases["hospital_id"]
    sender_rank = (on_categories(hid, lambda h: rank_of.get(h, np.nan)) if isinstance(hid.dtype, pd.CategoricalDtype)
                   else hid.astype(str).map(rank_of)).astype(float)  # per hospital, not per case
    receiver_rank = pd.Series(np.nan, index=cases.index)
    receiver_rank[transfer] = receiver[transfer].astype(object).map(rank_of).astype(float)
    known = transfer & receiver_rank.notna() & sender_rank.notna()
    t_down = known & (receiver_rank < sender_rank)
    t_up = known & (receiver_rank > sender_rank)
    flags = pd.DataFrame({"alive": lt != "5", "down": (lt == "3") | t_down, "transfers": transfer, "transfer_down": t_down,
                          "transfer_up": t_up, "transfer_unknown_level": transfer & ~known})
    if all(c in raw.columns for c in REVENUE) and "total_cost" in raw.columns:
        total = pd.to_numeric(raw["total_cost"], errors="coerce")
        parts = raw[REVENUE].apply(pd.to_numeric, errors="coerce")
        complete = total.notna() & (total > 0) & parts.notna().all(axis=1)
        flags["narrow"] = (total - parts.sum(axis=1)).where(complete, 0.0)
        flags["broad"] = (total - parts["drug_cost"] - parts["consumables_cost"]).where(complete, 0.0)
        flags["total"] = total.where(complete, 0.0)
    return flags.groupby(key, observed=True).sum().rename_axis(["hospital_id", "year"]), how


def linked_referral_sums(sums: pd.DataFrame, sent: pd.DataFrame, later: pd.DataFrame, hospitals: pd.DataFrame) -> pd.DataFrame:
    """:func:`referral_sums` with transfers linked by patient and dates, from the sums of a pass that could not link
    them (every type-2 transfer counted as of unknown level) and the transfers and stays a streamed run collected
    (:func:`evaluation.tiered_care.batches.transfer_stays`, :func:`~evaluation.tiered_care.batches.candidate_stays`):
    each linked transfer whose two levels are known moves from ``transfer_unknown_level`` to down or up."""
    return apply_moves(sums, linked_moves(sent, later, hospitals))


def linked_moves(sent: pd.DataFrame | None, later: pd.DataFrame | None, hospitals: pd.DataFrame) -> pd.DataFrame:
    """Each transfer of ``sent`` linked to a receiver among ``later`` (:func:`link_stays`) with both levels known:
    its referral cell (``hospital_id``, ``year``) and whether it went ``down`` or ``up``."""
    cols = {"hospital_id": pd.Series(dtype=object), "year": pd.Series(dtype=object), "down": pd.Series(dtype=bool),
            "up": pd.Series(dtype=bool)}
    if sent is None or later is None or not len(sent):
        return pd.DataFrame(cols)
    lv_map = dict(zip(hospitals["hospital_id"].astype(str), normalize_level(hospitals["level"])))
    rank_of = {h: LEVEL_RANK.get(lv, np.nan) for h, lv in lv_map.items()}
    first = link_stays(sent, later)
    sent = sent[sent["cell_hospital"].notna()].merge(first, on="row", how="left")
    sender = sent["cell_hospital"].map(rank_of).astype(float)
    receiver = sent["hospital_to"].astype(object).map(rank_of).astype(float)
    known = (sender.notna() & receiver.notna()).to_numpy()
    moved = pd.DataFrame({"hospital_id": sent["cell_hospital"], "year": sent["cell_year"], "down": receiver < sender,
                          "up": receiver > sender})
    return moved[known].reset_index(drop=True)


def apply_moves(sums: pd.DataFrame, moved: pd.DataFrame) -> pd.DataFrame:
    """The referral sums with the moves of :func:`linked_moves` (each from unknown level to down or up)."""
    out = sums.copy()
    for (h, y), g in moved.groupby(["hospital_id", "year"], sort=False):
        down, up = int(g["down"].sum()), int(g["up"].sum())
        out.loc[(h, y), ["down", "transfer_down", "transfer_up", "transfer_unknown_level"]] += [down, down, up, -len(g)]
    return out


def referral_table(sums: pd.DataFrame, how: str, hospitals: pd.DataFrame, targets: dict | None = None) -> pd.DataFrame:
    """:func:`hospital_referrals_and_revenue` from :func:`referral_sums` (index hospital_id, year)."""
    targets = targets or TARGET_PRESET
    lv_map = dict(zip(hospitals["hospital_id"].astype(str), normalize_level(hospitals["level"])))
    counts = ["alive", "down", "transfers", "transfer_down", "transfer_up", "transfer_unknown_level"]
    out = sums[counts].astype(np.int64)
    alive = out["alive"].where(out["alive"] > 0)
    out["down_rate"] = out["down"] / alive
    out["up_rate"] = out["transfer_up"] / alive  # 上转率: of interest for primary facilities
    out["transfer_unmatched_share"] = out["transfer_unknown_level"] / out["transfers"].where(out["transfers"] > 0)
    out["transfer_match"] = how
    if "total" in sums.columns:
        s = sums
        out["service_share_narrow"] = s["narrow"] / s["total"].where(s["total"] > 0)
        out["service_share_broad"] = s["broad"] / s["total"].where(s["total"] > 0)
        target = targets["service_share"]
        res = [_check(v, target) for v in out[SERVICE_SHARE[target[2]]]]
        out["service_share_definition"] = target[2]  # the share the target is checked on
        out["service_share_target"] = target[1]
        out["service_share_met"] = [r[0] for r in res]
        out["service_share_gap"] = [r[1] for r in res]
    out = out.reset_index()
    out.insert(1, "level", out["hospital_id"].map(lv_map).fillna("unknown"))
    return out
