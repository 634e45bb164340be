"""Counterpart support (对口支援): recipient trajectories and difference-in-differences against
unsupported peers (methodology.md section 6.7). Surgery and level-2 surgery use the DRG-partition
proxy (2nd character A-J = operating-room group) unless procedure grades are supplied."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .common import normalize_level

# Specialty names of the support plans -> MDCs whose cases count for that specialty (CHS-DRG MDC letters).
SPECIALTY_MDC = {
    "妇科": "N", "产科": "O", "妇产科": "NO", "儿科": "P", "新生儿科": "P", "眼科": "C", "耳鼻喉科": "D", "口腔科": "D",
    "呼吸内科": "E", "心内科": "F", "心血管内科": "F", "消化内科": "GH", "普外科": "GH", "肝胆外科": "H", "骨外": "I",
    "骨外科": "I", "骨科": "I", "皮肤科": "J", "内分泌科": "K", "肾内科": "L", "泌尿外科": "LM", "血液科": "Q",
    "肿瘤科": "R", "神经内科": "B", "神经外科": "B", "康复医学": "BIU", "康复科": "BIU", "中医科": "BFI",
    "内科": "BEFGKL", "外科": "GHI", "急诊科": "XYZ", "重症医学科": "A", "精神科": "U", "感染科": "S",
}


def hospital_year_panel(cases: pd.DataFrame, weights: pd.DataFrame, hospital_ids, specialty_mdcs: dict | None = None,
                        principal_grade: pd.Series | None = None) -> pd.DataFrame:
    """Per hospital and year: N, DRG count, CMI, surgical share, level-2+ surgery count/share, specialty cases.

    ``principal_grade``: per case, the surgical grade (1-4) of the principal procedure from a grade
    table; level-2+ surgery is then grade >= 2 (``grade_source = "table"``), else the DRG-partition
    proxy (every operating-room DRG, ``grade_source = "proxy"``)."""
    rw = dict(zip(weights["drg"].astype(str), weights["rw"].astype(float)))
    inc = cases[cases["included"] & cases["hospital_id"].astype(str).isin(set(map(str, hospital_ids)))]
    drg = inc["drg"].astype(str)
    part = drg.str[1:2]
    surgical = part.between("A", "J")  # proxy: OR-procedure partition, grade >= 2
    level2 = surgical if principal_grade is None else (principal_grade.loc[inc.index] >= 2)
    df = pd.DataFrame({"hospital_id": inc["hospital_id"].astype(str), "year": inc["year"].astype(int),
                       "rw": drg.map(rw).astype(float), "surgical": surgical, "level2": level2, "drg": drg,
                       "mdc_letter": drg.str[:1]})
    g = df.groupby(["hospital_id", "year"], observed=True)
    out = pd.DataFrame({"cases": g.size(), "drg_count": g["drg"].nunique(), "cmi": g["rw"].mean(),
                        "surgical_share": g["surgical"].mean(), "level2_surgery": g["level2"].sum()})
    out["level2_share"] = out["level2_surgery"] / out["cases"]  # a share of the hospital's cases
    out["grade_source"] = "proxy" if principal_grade is None else "table"
    if specialty_mdcs:
        letters = {h: set("".join(v)) for h, v in specialty_mdcs.items()}
        spec = df["mdc_letter"].groupby([df["hospital_id"], df["year"]], observed=True)
        out["specialty_cases"] = [
            int(spec.get_group(k).isin(letters.get(k[0], set())).sum()) if letters.get(k[0]) else 0 for k in out.index
        ]
    return out.reset_index()


def did(panel: pd.DataFrame, treated: set, y: str, start: int, alpha: float = 0.05) -> dict:
    """Two-way fixed-effects DiD ``y_ht = a_h + l_t + b*(treated_h*post_t)`` with SE clustered by hospital.

    Periods before ``start`` are pre, after ``start`` post; the period containing ``start`` is dropped."""
    p = panel[(panel["year"] != start)].dropna(subset=[y]).copy()
    p["post"] = (p["year"] > start).astype(float)
    p["treat"] = p["hospital_id"].isin(treated).astype(float)
    both = p.groupby("hospital_id")["post"].agg(lambda s: s.min() == 0 and s.max() == 1)
    p = p[p["hospital_id"].isin(both[both].index)]
    n_t = p.loc[p["treat"] == 1, "hospital_id"].nunique()
    n_c = p.loc[p["treat"] == 0, "hospital_id"].nunique()
    res = {"indicator": y, "treated_hospitals": n_t, "control_hospitals": n_c, "did": np.nan, "se": np.nan,
           "ci_low": np.nan, "ci_high": np.nan, "simple_did": np.nan, "treated_pre": np.nan, "treated_post": np.nan,
           "control_pre": np.nan, "control_post": np.nan}
    if n_t == 0 or n_c == 0:
        return res
    m = p.groupby(["treat", "post"])[y].mean()
    res.update(treated_pre=m.get((1.0, 0.0)), treated_post=m.get((1.0, 1.0)), control_pre=m.get((0.0, 0.0)),
               control_post=m.get((0.0, 1.0)))
    res["simple_did"] = (res["treated_post"] - res["treated_pre"]) - (res["control_post"] - res["control_pre"])
    hosp = pd.Categorical(p["hospital_id"])
    years = pd.Categorical(p["year"])
    X = np.column_stack([
        (p["treat"] * p["post"]).to_numpy(),
        np.eye(len(hosp.categories))[hosp.codes],
        np.eye(len(years.categories))[years.codes][:, 1:],
    ])
    yv = p[y].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, yv, rcond=None)
    u = yv - X @ beta
    xtx_inv = np.linalg.pinv(X.T @ X)
    meat = np.zeros((X.shape[1], X.shape[1]))
    for code in range(len(hosp.categories)):
        rows = hosp.codes == code
        s = X[rows].T @ u[rows]
        meat += np.outer(s, s)
    G, N, K = len(hosp.categories), len(yv), np.linalg.matrix_rank(X)
    V = xtx_inv @ meat @ xtx_inv * (G / (G - 1)) * ((N - 1) / max(N - K, 1))
    se = float(np.sqrt(max(V[0, 0], 0.0)))
    t = stats.t.ppf(1 - alpha / 2, G - 1)
    res.update(did=float(beta[0]), se=se, ci_low=float(beta[0] - t * se), ci_high=float(beta[0] + t * se))
    return res


def evaluate_support(cases: pd.DataFrame, hospitals: pd.DataFrame, pairs: pd.DataFrame, weights: pd.DataFrame,
                     start: int = 2019, indicators=("cmi", "surgical_share", "drg_count", "cases", "level2_surgery"),
                     principal_grade: pd.Series | None = None):
    """Returns (trajectories, did, supporter summary).

    trajectories: one row per pair and year (recipient indicators, pre/post label); did: per program and
    indicator, recipients vs hospitals of the same level and kind that no program supports, with a
    ``status`` (``ok``, or why there is no estimate: "no valid comparison group"); summary: per supporter,
    the mean before/after change over its recipients.
    """
    h = hospitals.copy()
    h["hospital_id"] = h["hospital_id"].astype(str)
    h["level"] = normalize_level(h["level"])
    pairs = pairs.copy()
    for c in ("supporter_id", "recipient_id"):
        pairs[c] = pairs[c].astype(str)
    spec = {}
    for r in pairs.itertuples():
        letters = "".join(SPECIALTY_MDC.get(str(s).strip(), "") for s in (getattr(r, "specialty_1", ""), getattr(r, "specialty_2", ""))
                          if isinstance(s, str))
        spec[r.recipient_id] = spec.get(r.recipient_id, "") + letters
    recipients = set(pairs["recipient_id"])
    kinds = h.set_index("hospital_id")[["level", "kind"]] if "kind" in h.columns else h.set_index("hospital_id")[["level"]].assign(kind="")
    peer_ids = kinds.index[kinds.set_index(["level", "kind"]).index.isin(kinds.loc[kinds.index.intersection(list(recipients))]
                                                                          .set_index(["level", "kind"]).index)]
    panel = hospital_year_panel(cases, weights, set(peer_ids) | recipients, spec, principal_grade)
    panel["period"] = np.where(panel["year"] < start, "pre", np.where(panel["year"] > start, "post", "start"))
    traj = pairs.merge(panel, left_on="recipient_id", right_on="hospital_id", how="left").drop(columns=["hospital_id"])
    rows = []
    for program, grp in pairs.groupby("program"):
        treated = set(grp["recipient_id"])
        rec = kinds.loc[kinds.index.intersection(list(treated))]
        same = kinds.set_index(["level", "kind"]).index.isin(rec.set_index(["level", "kind"]).index)
        # section 6.7: controls are never recipients of ANY program (a recipient of another program carries
        # that program's effect and would show up here as this program's effect), same level and kind
        controls = set(kinds.index[same]) - recipients
        sub = panel[panel["hospital_id"].isin(treated | controls)]
        for ind in indicators:
            res = did(sub, treated, ind, start)
            if res["control_hospitals"] == 0:
                status = "no valid comparison group"  # no estimate, never a number against the wrong peers
            elif res["treated_hospitals"] == 0:
                status = "no recipient with data before and after the start"
            else:
                status = "ok"
            rows.append({"program": program, "status": status, **res})
    did_table = pd.DataFrame(rows)
    pp = panel[panel["period"] != "start"].groupby(["hospital_id", "period"])[["cmi", "surgical_share", "cases"]].mean().unstack("period")
    change = pd.DataFrame({f"{c}_change": pp[(c, "post")] - pp[(c, "pre")] for c in ("cmi", "surgical_share", "cases")
                           if (c, "post") in pp.columns and (c, "pre") in pp.columns})
    summ = pairs.merge(change, left_on="recipient_id", right_index=True, how="left")
    summary = summ.groupby(["supporter_id", "program"]).agg(
        recipients=("recipient_id", "nunique"), **{k: (k, "mean") for k in change.columns}).reset_index()
    return traj, did_table, summary
