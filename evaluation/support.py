"""Counterpart support (对口支援): recipient trajectories and difference-in-differences against
unsupported peers (methodology.md section 6.7). Surgery and level-2 surgery use the DRG-partition
proxy (2nd character A-J = operating-room group) unless procedure grades are supplied."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import distributions as dist
from .common import normalize_level
from .weights import baseline_weights

# Specialty names of the support plans -> MDCs whose cases count for that specialty (CHS-DRG MDC letters).
SPECIALTY_MDC = {
    "妇科": "N", "产科": "O", "妇产科": "NO", "儿科": "P", "新生儿科": "P", "眼科": "C", "耳鼻喉科": "D", "口腔科": "D",
    "呼吸内科": "E", "心内科": "F", "心血管内科": "F", "消化内科": "GH", "普外科": "GH", "肝胆外科": "H", "骨外": "I",
    "骨外科": "I", "骨科": "I", "皮肤科": "J", "内分泌科": "K", "肾内科": "L", "泌尿外科": "LM", "血液科": "Q",
    "肿瘤科": "R", "神经内科": "B", "神经外科": "B", "康复医学": "BIU", "康复科": "BIU", "中医科": "BFI",
    "内科": "BEFGKL", "外科": "GHI", "急诊科": "XYZ", "重症医学科": "A", "精神科": "U", "感染科": "S",
}


def level2_counts(batch, level2_codes: frozenset) -> dict:
    """{(hospital_id, year): included cases whose principal procedure (the first of ``px``) is in ``level2_codes``}
    of one Arrow batch: the count :func:`hospital_year_panel` makes from ``principal_grade >= 2``, batch by batch.
    Cases without a readable year are left out, as the year cells leave them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .coded import included, text_codes, years

    n = batch.num_rows
    px = batch.column("px").combine_chunks() if n else None
    hit = np.zeros(n, bool)
    wanted = pa.array(sorted(level2_codes), pa.string())
    if n and (pa.types.is_list(px.type) or pa.types.is_large_list(px.type)):
        lengths = pc.fill_null(pc.list_value_length(px), 0).to_numpy(zero_copy_only=False)
        has = np.flatnonzero(lengths > 0)
        values = px.values
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        first = pc.cast(values.take(pa.array(np.asarray(px.offsets)[:-1][has])), pa.string())
        hit[has] = pc.fill_null(pc.is_in(first, value_set=wanted), False).to_numpy(zero_copy_only=False)
    elif n:  # a delimited text column: its first code
        first = pc.list_element(pc.split_pattern_regex(pc.utf8_trim_whitespace(pc.cast(px, pa.string())), r"[|,;]"), 0)
        hit = pc.fill_null(pc.is_in(first, value_set=wanted), False).to_numpy(zero_copy_only=False)
    y = years(batch) if "year" in batch.column_names else np.zeros(n)
    keep = included(batch) & hit & np.isfinite(y)
    if not keep.any():
        return {}
    codes, words = text_codes(batch.column("hospital_id"))
    key = pd.DataFrame({"h": codes[keep], "y": y[keep].astype(np.int64)}).value_counts()
    return {(str(words[h]), int(yy)): int(c) for (h, yy), c in key.items()}


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
    df["no_weight"] = df["rw"].isna()  # a DRG without a (baseline) weight: outside the CMI, counted
    g = df.groupby(["hospital_id", "year"], observed=True)
    out = pd.DataFrame({"cases": g.size(), "drg_count": g["drg"].nunique(), "cmi": g["rw"].mean(),
                        "cases_no_weight": g["no_weight"].sum(),
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


NEVER = 10**4  # start year of a hospital that no program supports while the data run

WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def _multipliers(clusters: int, draws: int, seed: int) -> tuple[np.ndarray, str]:
    """Wild bootstrap weights per hospital (cluster): Webb's six-point distribution with fewer than 30
    clusters (Webb 2023, "Reworking wild bootstrap-based inference for clustered errors"; Rademacher's two
    points give too few distinct draws there), Rademacher otherwise."""
    rng = np.random.default_rng(seed)
    if clusters < 30:
        return WEBB[rng.integers(0, 6, size=(draws, clusters))], "wild cluster bootstrap (Webb 6-point)"
    return rng.choice([-1.0, 1.0], size=(draws, clusters)), "wild cluster bootstrap (Rademacher)"


def group_time_cells(Y: pd.DataFrame, start: pd.Series, controls: pd.Series):
    """Callaway & Sant'Anna (2021) group-time effects ATT(g, t) with a universal base period.

    ``Y``: hospitals x years (NaN where a hospital has no value); ``start``: each treated hospital's first
    year of support g (the year itself is left out: support begins during it, methodology 6.7);
    ``controls``: per hospital, the first year it can no longer serve as a control (``NEVER`` for
    hospitals no program supports; a later start for not-yet-supported ones). For each cohort g and year t
    (base b = g - 1, t != g, t != b): ATT(g, t) = mean over the cohort of (Y_t - Y_b) minus the same mean
    over the controls usable at t (those with control-until > max(t, b), outside the cohort). Returns one row per cell and the
    per-hospital influence of each cell (rows: hospitals of ``Y``), from which every aggregate's wild
    bootstrap follows, and the positions of the hospitals that enter a cell as treated and as controls (a
    not-yet-supported recipient can be both, in different cells)."""
    years = list(Y.columns)
    values = Y.to_numpy(float)
    pos = {h: i for i, h in enumerate(Y.index)}
    until = controls.reindex(Y.index).to_numpy(float)
    cells, infl, as_treated, as_control = [], [], set(), set()
    for g in sorted({int(x) for x in start}):
        b = g - 1
        if b not in years:
            continue
        cohort = np.array([pos[h] for h in start.index[start == g] if h in pos])
        for t in years:
            if t in (g, b):
                continue
            dt = values[cohort, years.index(t)] - values[cohort, years.index(b)]
            usable = np.setdiff1d(np.flatnonzero(until > max(t, b)), cohort)  # never the cohort itself
            dc = values[usable, years.index(t)] - values[usable, years.index(b)]
            tr, cr = cohort[~np.isnan(dt)], usable[~np.isnan(dc)]
            dt, dc = dt[~np.isnan(dt)], dc[~np.isnan(dc)]
            if len(dt) == 0 or len(dc) == 0:
                continue
            as_treated.update(tr.tolist())
            as_control.update(cr.tolist())
            psi = np.zeros(len(Y))
            # centred and scaled by sqrt(n / (n - 1)) (CR1): the bootstrap variance is then the unbiased
            # variance of a mean, not (n - 1)/n of it, which matters with cohorts of a few hospitals
            psi[tr] += (dt - dt.mean()) / len(dt) * np.sqrt(len(dt) / max(len(dt) - 1, 1))
            psi[cr] -= (dc - dc.mean()) / len(dc) * np.sqrt(len(dc) / max(len(dc) - 1, 1))
            cells.append({"cohort": g, "year": t, "event_time": t - g, "att": dt.mean() - dc.mean(),
                          "treated": len(dt), "controls": len(dc)})
            infl.append(psi)
    return (pd.DataFrame(cells, columns=["cohort", "year", "event_time", "att", "treated", "controls"]),
            np.array(infl).T if infl else np.zeros((len(Y), 0)), sorted(as_treated), sorted(as_control))


def _aggregate(cells: pd.DataFrame, infl: np.ndarray, mask: np.ndarray):
    """Weighted mean of the cells in ``mask`` with weights by their treated counts (CS "simple"/"dynamic"
    aggregation), and its influence per hospital."""
    w = cells["treated"].to_numpy(float) * mask
    if w.sum() == 0:
        return np.nan, np.zeros(infl.shape[0]), 0
    w = w / w.sum()
    return float(w @ cells["att"].to_numpy(float)), infl @ w, int(cells.loc[mask, "treated"].sum())


def staggered_did(panel: pd.DataFrame, y: str, start: pd.Series, controls: pd.Series, *, alpha: float = 0.05,
                  draws: int = 9999, seed: int = 0) -> tuple[dict, pd.DataFrame]:
    """Heterogeneity-robust DiD for staggered support starts: Callaway & Sant'Anna (2021, J. Econometrics
    225:200-230) group-time effects with never-supported (or not-yet-supported) controls, aggregated over
    the post-start cells (weights by treated hospitals) and by event time, with inference by a wild
    cluster bootstrap over hospitals (the multiplier bootstrap of CS section 4 on hospital-level
    influence functions, scaled CR1; Webb weights under 30 clusters) for the standard error, and t
    critical values with G - 1 degrees of freedom (G = the smaller group of hospitals). Pre-trend check:
    the event-study leads (event time <= -2, base -1) with their CIs and a joint Wald test (Hotelling's
    T^2 reading). Returns (summary dict, event-study table)."""
    Y = panel.pivot_table(index="hospital_id", columns="year", values=y, aggfunc="first")
    Y = Y.reindex(index=sorted(set(start.index) | set(controls.index)), columns=sorted(Y.columns))
    cells, infl, as_treated, as_control = group_time_cells(Y, start, controls)
    res = {"estimator": "Callaway-Sant'Anna", "did": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan,
           "p_value": np.nan, "inference": "", "bootstrap_draws": draws, "pretrend_leads": 0, "pretrend_stat": np.nan,
           "pretrend_p": np.nan, "treated_hospitals": 0, "control_hospitals": 0,
           "cohorts": ", ".join(f"{g}:{n}" for g, n in start.value_counts().sort_index().items())}
    post = (cells["event_time"] > 0).to_numpy()
    if not post.any():
        return res, pd.DataFrame()
    used = sorted(set(as_treated) | set(as_control))
    res["treated_hospitals"], res["control_hospitals"] = len(as_treated), len(as_control)
    events = sorted(set(cells["event_time"]))
    est, psi = [], []
    for e in events:
        a, p, n = _aggregate(cells, infl, (cells["event_time"] == e).to_numpy())
        est.append((e, a, n))
        psi.append(p)
    overall, p_all, _ = _aggregate(cells, infl, post)
    Psi = np.column_stack(psi + [p_all])[used]
    xi, how = _multipliers(len(used), draws, seed)
    dev = xi @ Psi  # draws x (events + overall): the bootstrap deviations of every aggregate, jointly
    theta = np.array([a for _, a, _ in est] + [overall])
    se = dev.std(axis=0, ddof=1)
    # few clusters: t critical values with G - 1 degrees of freedom, G the smaller of the two groups of
    # hospitals (Donald & Lang 2007; Bester, Conley & Hansen 2011): normal ones undercover with a dozen recipients
    df = max(min(res["treated_hospitals"], res["control_hospitals"]) - 1, 1)
    half = dist.t_ppf(1 - alpha / 2, df) * se
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = 2 * dist.t_sf(np.abs(theta / se), df)
    res.update(did=overall, se=float(se[-1]), ci_low=overall - half[-1], ci_high=overall + half[-1],
               p_value=float(p_value[-1]), inference=f"{how}, t({df})")
    leads = [i for i, (e, _, _) in enumerate(est) if e <= -2]
    res["pretrend_leads"] = len(leads)
    k = len(leads)
    if k and df >= k:
        # joint Wald test of the leads with the bootstrap covariance, read as Hotelling's T^2 with df
        # clusters (the chi-square reading rejects a true null several times too often with ~a dozen)
        V = np.atleast_2d(np.cov(dev[:, leads], rowvar=False))
        stat = float(theta[leads] @ np.linalg.pinv(V) @ theta[leads])
        res.update(pretrend_stat=stat, pretrend_p=float(dist.f_sf(stat * (df - k + 1) / (k * df), k, df - k + 1)))
    event = pd.DataFrame({"event_time": [e for e, _, _ in est], "estimate": theta[:-1], "se": se[:-1],
                          "ci_low": theta[:-1] - half[:-1], "ci_high": theta[:-1] + half[:-1],
                          "treated_hospitals": [n for _, _, n in est]})
    event["phase"] = np.where(event["event_time"] < 0, "lead", "post")
    return res, event


def _two_period_did(panel: pd.DataFrame, y: str, start: pd.Series, controls: set) -> float:
    """The sheet's descriptive DiD (6.7): means of hospital-years before and after the start, treated minus
    controls; only defined with a single start year."""
    if start.nunique() != 1:
        return np.nan
    s = int(start.iloc[0])
    p = panel[panel["year"] != s].dropna(subset=[y])
    post = p["year"] > s
    m = {}
    for name, ids in (("t", set(start.index)), ("c", controls)):
        sub = p["hospital_id"].isin(ids)
        m[name] = p.loc[sub & post, y].mean() - p.loc[sub & ~post, y].mean()
    return float(m["t"] - m["c"])


def _program_did(program, grp, active, supported, kinds, key, panel, last_year, indicators, control_group, draws, seed,
                 weights_from):
    """The DiD rows and event-study tables of one program (see :func:`evaluate_support`)."""
    own = grp.groupby("recipient_id")["start_year"].min()
    others = set(active.loc[active["program"] != program, "recipient_id"])
    excluded = sorted(set(own.index) & others)
    own = own.drop(excluded)
    treated = own[own <= last_year]
    rec = kinds.loc[kinds.index.intersection(list(treated.index))]
    same = set(kinds.index[key.isin(rec.set_index(["level", "kind"]).index)])
    # section 6.7: controls are never recipients of ANY program started while the data run (a recipient
    # of another program carries that program's effect), of the same level and kind as the recipients
    never = sorted(same - supported)
    until = pd.Series(NEVER, index=never, dtype=float)
    if control_group == "not_yet":
        until = pd.concat([until, treated.astype(float)])
    rows, events = [], []
    for ind in indicators:
        res, event = staggered_did(panel, ind, treated, until, draws=draws, seed=seed)
        if len(treated) and rec.empty:
            status = "recipients not in the hospitals table"  # their level and kind are unknown: no peers
        elif len(treated) and not never and control_group == "never":
            status = "no valid comparison group"  # no estimate, never a number against the wrong peers
        elif res["treated_hospitals"] == 0 or not np.isfinite(res["did"]):
            status = "no recipient with data before and after the start"
        elif res["treated_hospitals"] < 2:
            status = "one recipient: no inference"
            res.update(se=np.nan, ci_low=np.nan, ci_high=np.nan, p_value=np.nan)
        else:
            status = "ok"
        res["simple_did"] = _two_period_did(panel, ind, treated, set(never)) if never else np.nan
        rows.append({"program": program, "indicator": ind, "status": status, "control_group": control_group,
                     "excluded_other_program": len(excluded), "weights_from": weights_from, **res})
        if len(event):
            events.append(event.assign(program=program, indicator=ind))
    return rows, events


def evaluate_support(cases: pd.DataFrame, hospitals: pd.DataFrame, pairs: pd.DataFrame, weights: pd.DataFrame | None = None,
                     start: int = 2019, indicators=("cmi", "surgical_share", "drg_count", "cases", "level2_surgery"),
                     principal_grade: pd.Series | None = None, control_group: str = "never", draws: int = 9999,
                     seed: int = 0):
    """Returns (trajectories, did, supporter summary, event study).

    Each pair starts in its ``start_year`` (pairs CSV column; ``start`` where absent). Per program and
    indicator, recipients are compared with hospitals of the same level and kind that no program supports
    while the data run (``control_group="never"``, methodology 6.7) or, with ``"not_yet"``, also this
    program's recipients before their own start; a recipient of another program (started within the data)
    is neither treated here nor a control (its effect would be counted as this program's), and counted in
    ``excluded_other_program``. The estimate is :func:`staggered_did`; ``status`` is ``ok`` or why there is
    no number ("no valid comparison group"). CMI uses weights frozen at the baseline years
    (:func:`baseline_weights`) unless ``weights`` are given.
    """
    pairs = support_plan(pairs, start)
    last_year = int(cases["year"].max()) if len(cases) else start
    first_start = int(pairs["start_year"].min()) if len(pairs) else start
    if weights is None:
        weights, base_years = baseline_weights(cases, first_start)
        weights_from = f"baseline {base_years[0]}-{base_years[-1]}" if base_years else "none"
    else:
        weights_from = "given"
    return support_tables(hospitals, pairs, lambda ids, spec: hospital_year_panel(cases, weights, ids, spec, principal_grade),
                          last_year, weights_from, indicators=indicators, control_group=control_group, draws=draws, seed=seed)


def support_plan(pairs: pd.DataFrame, start: int) -> pd.DataFrame:
    """The pairs with text ids and each pair's ``start_year`` (``start`` where the file gives none)."""
    pairs = pairs.copy()
    for c in ("supporter_id", "recipient_id"):
        pairs[c] = pairs[c].astype(str)
    given = pd.to_numeric(pairs["start_year"], errors="coerce") if "start_year" in pairs.columns else pd.Series(np.nan, index=pairs.index)
    pairs["start_year"] = given.fillna(start).astype(int)
    return pairs


def support_tables(hospitals: pd.DataFrame, pairs: pd.DataFrame, panel_of, last_year: int, weights_from: str, *,
                   indicators=("cmi", "surgical_share", "drg_count", "cases", "level2_surgery"), control_group: str = "never",
                   draws: int = 9999, seed: int = 0):
    """:func:`evaluate_support` from the hospital-year panel: ``panel_of(hospital ids, {recipient: MDC letters})``
    gives it (:func:`hospital_year_panel` over cases, or the streamed panel of :mod:`evaluation.cells.tables`)."""
    h = hospitals.copy()
    h["hospital_id"] = h["hospital_id"].astype(str)
    h["level"] = normalize_level(h["level"])
    spec = {}
    for r in pairs.itertuples():
        letters = "".join(SPECIALTY_MDC.get(str(s).strip(), "") for s in (getattr(r, "specialty_1", ""), getattr(r, "specialty_2", ""))
                          if isinstance(s, str))
        spec[r.recipient_id] = spec.get(r.recipient_id, "") + letters
    active = pairs[pairs["start_year"] <= last_year]  # support that began while the data run
    supported = set(active["recipient_id"])
    kinds = h.set_index("hospital_id")[["level", "kind"]] if "kind" in h.columns else h.set_index("hospital_id")[["level"]].assign(kind="")
    key = kinds.set_index(["level", "kind"]).index
    peer_ids = kinds.index[key.isin(kinds.loc[kinds.index.intersection(list(set(pairs["recipient_id"])))].set_index(["level", "kind"]).index)]
    panel = panel_of(set(peer_ids) | set(pairs["recipient_id"]), spec)
    traj = pairs.merge(panel, left_on="recipient_id", right_on="hospital_id", how="left").drop(columns=["hospital_id"])
    traj["period"] = np.where(traj["year"] < traj["start_year"], "pre", np.where(traj["year"] > traj["start_year"], "post", "start"))
    rows, events = [], []
    for program, grp in pairs.groupby("program", sort=True):
        r, e = _program_did(program, grp, active, supported, kinds, key, panel, last_year, indicators, control_group,
                            draws, seed, weights_from)
        rows += r
        events += e
    did_table = pd.DataFrame(rows)
    event_table = (pd.concat(events, ignore_index=True)[["program", "indicator", "event_time", "phase", "estimate", "se", "ci_low",
                                                          "ci_high", "treated_hospitals"]] if events else
                   pd.DataFrame(columns=["program", "indicator", "event_time", "phase", "estimate", "se", "ci_low", "ci_high",
                                         "treated_hospitals"]))
    pp = traj[traj["period"] != "start"].groupby(["recipient_id", "period"])[["cmi", "surgical_share", "cases"]].mean().unstack("period")
    change = pd.DataFrame({f"{c}_change": pp[(c, "post")] - pp[(c, "pre")] for c in ("cmi", "surgical_share", "cases")
                           if (c, "post") in pp.columns and (c, "pre") in pp.columns})
    summ = pairs.merge(change, left_on="recipient_id", right_index=True, how="left")
    summary = summ.groupby(["supporter_id", "program"]).agg(
        recipients=("recipient_id", "nunique"), **{k: (k, "mean") for k in change.columns}).reset_index()
    return traj, did_table, summary, event_table
