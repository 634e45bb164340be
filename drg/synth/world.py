"""drg synth's region: hospitals with their planted effects, support programs, residents choosing hospitals,
case mix by level and kind, departments and doctors, seasons, and each case's outcomes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa

from ..regions import load_region
from .params import (
    AGE_LOG_OR,
    CASEMIX_PREVALENCE,
    COMORBIDITIES,
    DEPT_BY_MDC,
    DOCTORS_PER_DEPT,
    DOCTOR_COST,
    DOCTOR_DEATH_OR,
    ERROR_RATE,
    KIND_VOLUME,
    LEVEL_PRICE,
    LEVEL_TILT,
    LEVEL_VOLUME,
    QUALITY_OUTLIERS,
    QUALITY_SD,
    SEASON_AMPLITUDE,
    SEASON_PEAK_DAY,
    SUPPORT_START,
    SUPPORT_SURGICAL,
    SUPPORT_TILT,
    SURGICAL_DEPT,
    SYNTH_WORDS,
    TOWNSHIP_DEPT,
    UNKNOWN_PDX,
)
from .templates import NEW_FIELDS, TemplateLists, build_templates, drg_profile


# -- region -------------------------------------------------------------------------------------

def plant_hospitals(hospitals: pd.DataFrame, rng) -> pd.DataFrame:
    h = hospitals[hospitals["level"].isin(LEVEL_VOLUME)].copy().reset_index(drop=True)
    n = len(h)
    h["volume"] = [LEVEL_VOLUME[lv] * KIND_VOLUME.get(k, 1.0) for lv, k in zip(h["level"], h["kind"])]
    # efficiency factors spread evenly (log scale, +-0.3) within each level, in random order, so that
    # neighbours in a peer group differ by more than the sampling noise of their cost and time indices
    h["cost_factor"] = 1.0
    h["los_factor"] = 1.0
    for lv, idx in h.groupby("level").groups.items():
        k = len(idx)
        grid = np.exp(np.linspace(-0.3, 0.3, k)) if k > 1 else np.ones(1)
        h.loc[idx, "cost_factor"] = rng.permutation(grid)
        h.loc[idx, "los_factor"] = rng.permutation(grid)
    # over-dispersion without outliers: ordinary hospitals differ in true mortality (log odds ratio ~ N(0, sd)
    # cut at +-2 sd), as real hospitals do; a funnel must not call them outliers for it
    h["death_or"] = np.exp(np.clip(rng.normal(0.0, QUALITY_SD, n), -2 * QUALITY_SD, 2 * QUALITY_SD))
    # quality outlier: a mid-sized secondary hospital, enough deaths to be a clear outlier, small enough
    # that its excess deaths barely move the regional reference mortality the others are judged by
    mid = h.index[(h["level"] == "secondary") & (h["kind"] != "general")].to_numpy()
    if len(mid) < 3:
        mid = h.index[h["level"].isin(["tertiary", "secondary"])].to_numpy()
    # at most three planted outliers of any kind in a peer group (here: one quality outlier and two case-mix-
    # only hospitals among ~26 secondary hospitals): the funnel's over-dispersion is estimated on winsorised
    # z-scores (10% each side), which a larger share of outliers would inflate until they mask each other
    outliers = rng.choice(mid, size=min(QUALITY_OUTLIERS, len(mid)), replace=False)
    h["quality_outlier"] = False
    h.loc[outliers, "death_or"] = 3.0
    h.loc[outliers, "quality_outlier"] = True
    eff = rng.choice(np.setdiff1d(np.arange(n), outliers), size=min(4, n), replace=False)
    h["efficiency_outlier"] = False
    h.loc[eff[:2], "cost_factor"] = 1.6
    h.loc[eff[2:3], "cost_factor"] = 0.65
    h.loc[eff[3:4], "los_factor"] = 1.6
    h.loc[eff, "efficiency_outlier"] = True
    # case-mix-only hospitals: sicker patients within their DRGs (more comorbidities), ordinary quality and
    # efficiency; a DRG-only O/E calls them unsafe, a patient-level model must not
    general = h.index[(h["level"] == "secondary") & (h["kind"] == "general")].to_numpy()
    pool = np.setdiff1d(general if len(general) >= 2 else h.index[h["level"] != "primary"].to_numpy(), np.union1d(outliers, eff))
    casemix = rng.choice(pool, size=min(2, len(pool)), replace=False)
    h["casemix_only"] = False
    h.loc[casemix, "casemix_only"] = True
    h.loc[casemix, "death_or"] = 1.0
    return h


EFFECT_PROGRAMS = ("tertiary_pairing",)  # planted: these programs move the recipients' case mix; others have no effect


def plan_support(pairs: pd.DataFrame, hospitals: pd.DataFrame, years: list, rng) -> pd.DataFrame:
    """The synthetic world's support plan: ``pairs`` with a ``start_year`` and a ``planted_effect`` per pair.

    A ``start_year`` in the pairs file is kept. Otherwise the starts are staggered (planted): the
    tertiary-pairing recipients start in the second or third data year (random halves); every other
    program (the county alliances, no planted effect) starts county by county in one of those years or
    after the last data year, so that the townships of some counties are not yet supported while the
    data run (the comparison group a difference-in-differences needs)."""
    pairs = pairs.copy()
    years = sorted(int(y) for y in years)
    mids = years[1:-1][:2] or [SUPPORT_START]  # a start with at least one year before and one after it
    after = years[-1] + 1
    given = pd.to_numeric(pairs["start_year"], errors="coerce") if "start_year" in pairs.columns else pd.Series(np.nan, index=pairs.index)
    start = np.full(len(pairs), -1, dtype=np.int64)
    pairing = (pairs["program"] == "tertiary_pairing").to_numpy()
    rec = pairs.loc[pairing, "recipient_id"].to_numpy()
    start[pairing] = np.array(mids)[rng.permutation(len(rec)) % len(mids)]
    counties = sorted(set(hospitals["county"].astype(str)))
    options = mids + [after] * len(mids)
    by_county = dict(zip(counties, np.array(options)[rng.permutation(len(counties)) % len(options)]))
    county = pairs["recipient_id"].map(dict(zip(hospitals["hospital_id"], hospitals["county"].astype(str))))
    other = np.flatnonzero(~pairing)
    start[other] = county.iloc[other].map(by_county).fillna(after).to_numpy(np.int64)
    pairs["start_year"] = np.where(given.notna(), given.fillna(0).astype(np.int64), start)
    pairs["planted_effect"] = pairs["program"].isin(EFFECT_PROGRAMS)
    return pairs


# Type-2 transfers (医嘱转院): the receiver's level by the sender's (primary, secondary, tertiary)
TRANSFER_LEVELS = {"primary": (0.0, 0.6, 0.4), "secondary": (0.25, 0.0, 0.75), "tertiary": (0.2, 0.4, 0.4)}
RECEIVER_AS = (0.75, 0.15, 0.10)  # the receiver written as its code, as its name, or left blank


def _transfer_receivers(h: pd.DataFrame, hosp: np.ndarray, transfer: np.ndarray, rng):
    """Per case: the receiving hospital of a type-2 transfer (truth: its row in ``h``) and what the record
    says of it (拟接收医疗机构: its code ``k``, its name ``len(h) + k``, or blank); -1 for every other case."""
    levels = ("primary", "secondary", "tertiary")
    level_code = h["level"].map({lv: i for i, lv in enumerate(levels)}).to_numpy()
    rows = np.flatnonzero(transfer)
    to_level = _sample_grouped(level_code[hosp[rows]], lambda k: (np.arange(3), np.array(TRANSFER_LEVELS[levels[k]])), rng)
    vol = h["volume"].to_numpy()

    def at_level(k):
        cand = np.flatnonzero(level_code == k)
        return cand, vol[cand] / vol[cand].sum()

    to = _sample_grouped(to_level, at_level, rng)
    same = to == hosp[rows]  # never to itself: the next hospital of the same level instead
    if same.any():
        for i in np.flatnonzero(same):
            cand = np.flatnonzero(level_code == level_code[to[i]])
            to[i] = cand[(np.searchsorted(cand, to[i]) + 1) % len(cand)] if len(cand) > 1 else to[i]
    receiver = np.full(len(hosp), -1, np.int64)
    text = np.full(len(hosp), -1, np.int64)
    receiver[rows] = to
    how = rng.choice(3, size=len(rows), p=RECEIVER_AS)
    text[rows] = np.where(how == 0, to, np.where(how == 1, len(h) + to, -1))
    return receiver, text


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")``; keys that fit 16 bits are sorted as such (numpy's radix sort)."""
    if len(keys) and 0 <= keys.min() and keys.max() < 2**16:
        keys = keys.astype(np.uint16)
    return np.argsort(keys, kind="stable")


def _sample_grouped(keys: np.ndarray, choices_for, rng) -> np.ndarray:
    """For each distinct key, draw len(group) choices with that key's (values, p)."""
    out = np.empty(len(keys), dtype=np.int64)
    order = stable_order(keys)
    sk = keys[order]
    bounds = np.flatnonzero(np.diff(sk)) + 1
    for chunk in np.split(order, bounds):
        if len(chunk) == 0:
            continue
        values, p = choices_for(int(keys[chunk[0]]))
        out[chunk] = rng.choice(values, size=len(chunk), p=p)
    return out


def comorbidity_codes(scheme) -> list:
    """The planted comorbidities that the scheme has a neutral code for: (category, codes, prevalence,
    death log-OR, LOS/cost log-effect). A neutral code is a known diagnosis that is no CC or MCC and in no
    rule list, so adding it as a secondary diagnosis leaves every record's DRG as it was."""
    from evaluation.risk.comorbidity import code_bits, column_names

    a = scheme.arrays
    n = len(a["member_ptr"]) - 1
    neutral = a["dx_known"][:n] & (a["mcc_ex"][:n] < 0) & (a["cc_ex"][:n] < 0) & (np.diff(a["member_ptr"]) == 0)
    codes = np.array(scheme.codes[:n], dtype=object)[neutral]
    bits = code_bits(codes)
    names = column_names()
    out = []
    for cat, prevalence, log_or, effect in COMORBIDITIES:
        mine = codes[((bits >> np.uint64(names.index(cat))) & np.uint64(1)).astype(bool)]
        if len(mine):
            out.append((cat, np.sort(mine.astype(str)), prevalence, log_or, effect))
    return out


def case_mix(h: pd.DataFrame, prof: pd.DataFrame, hi: int, period: int) -> np.ndarray:
    """DRG probabilities of hospital ``hi`` by its level and kind; period 1 = supported, after its start."""
    cx, surg = prof["complexity"].to_numpy(), prof["surgical"].to_numpy()
    level, kind = h.at[hi, "level"], h.at[hi, "kind"]
    w = prof["popularity"].to_numpy() * np.exp(LEVEL_TILT[level] * cx)
    if kind == "tcm":
        w = w * np.where(surg, 0.4, 2.0)
    elif kind == "maternal_child":
        w = w * np.where(prof["perinatal_or_obstetric"].to_numpy(), 25.0, 0.15)
    if period:
        w = w * np.exp(SUPPORT_TILT * cx) * np.where(surg, SUPPORT_SURGICAL, 1.0)
    return w / w.sum()


def make_world(scheme, region: str, years: list, rng, say, words: dict = SYNTH_WORDS["zh"]) -> SimpleNamespace:
    """Templates, DRG profile, hospitals with their planted factors, counties, the support plan."""
    w = SimpleNamespace(years=years)
    hospitals_all, pairs = load_region(region, levels_required=True)
    w.templates = build_templates(scheme, rng)
    w.prof = drg_profile(w.templates, rng)
    w.drgs = w.prof.index.to_numpy()
    w.n_drg = len(w.drgs)
    t_drg = w.templates["drg"].map({d: i for i, d in enumerate(w.drgs)}).to_numpy()
    w.t_start = np.searchsorted(t_drg, np.arange(w.n_drg))
    w.t_count = np.bincount(t_drg, minlength=w.n_drg)
    say(words["templates"].format(n=len(w.templates), drgs=w.n_drg))
    w.comorbidities = comorbidity_codes(scheme)
    h = w.h = plant_hospitals(hospitals_all, rng)
    w.counties = sorted(h["county"].unique())
    w.h_county = h["county"].map({c: i for i, c in enumerate(w.counties)}).to_numpy()
    w.in_county_rate = np.round(rng.uniform(0.78, 0.96, len(w.counties)), 3)
    population = np.array([h.loc[w.h_county == i, "volume"].sum() for i in range(len(w.counties))])
    w.population = population / population.sum()
    w.plan = plan_support(pairs, h, years, rng)
    effect = w.plan[w.plan["planted_effect"] & w.plan["recipient_id"].isin(set(h["hospital_id"]))]
    w.recipients = set(effect["recipient_id"])
    h["supported"] = h["hospital_id"].isin(w.recipients)
    # a recipient's case mix tilts from its own start year on (staggered adoption)
    h["support_start"] = h["hospital_id"].map(effect.groupby("recipient_id")["start_year"].min()).fillna(10**4).astype(np.int64)
    return w


def _patients(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """Per case: comorbidity codes (one per present condition, or ""), and the risk they and age carry."""
    age = w.t_age[c.tmpl]
    adult = np.clip(age, 18, 95) - 60.0
    sick = np.where(w.h_casemix_only[c.hosp], CASEMIX_PREVALENCE, 1.0)
    base = np.where(age < 18, 0.1, np.clip(np.exp(0.03 * adult), 0.3, 2.5)) * sick
    # per planted condition, the code's id in w.dx_vocab (-1: absent); the last column is an upcoder's added code
    c.comorbid_ids = np.full((c.n, len(w.comorbidities) + 1), -1, dtype=np.int32)
    start = 0
    c.death_logit = AGE_LOG_OR * np.where(age < 18, 0.0, adult)
    c.resource_log = 0.004 * np.where(age < 18, 0.0, adult)
    for k, (_, codes, prevalence, log_or, effect) in enumerate(w.comorbidities):
        has = rng.random(c.n, dtype=np.float32) < np.minimum(prevalence * base, 0.8)
        c.comorbid_ids[:, k] = np.where(has, w.comorbid_dx[start + rng.integers(0, len(codes), c.n)], -1)
        start += len(codes)
        c.death_logit += log_or * has
        c.resource_log += effect * has
    # centred: the DRG profile's death risk, LOS and cost stay those of the region's average patient (in a
    # streamed synth: of the part's patients, a million or so, whose mean is the region's to the third digit)
    c.death_logit -= c.death_logit.mean()
    c.resource_log -= c.resource_log.mean()


def prepare_world(w: SimpleNamespace, scheme) -> None:
    """Per-hospital, per-template and per-DRG arrays and the output vocabularies, once for every part:
    a part's columns are integer codes into these, decoded by Arrow's ``take`` (no Python strings per case)."""
    h, t, prof = w.h, w.templates, w.prof
    w.lists = TemplateLists(scheme)
    w.h_los, w.h_death_or, w.h_cost = (h[k].to_numpy(float) for k in ("los_factor", "death_or", "cost_factor"))
    w.h_casemix_only = h["casemix_only"].to_numpy(bool)
    w.h_tertiary, w.h_secondary = (h["level"] == "tertiary").to_numpy(), (h["level"] == "secondary").to_numpy()
    w.h_price = np.array([LEVEL_PRICE[x] for x in h["level"]])
    w.h_support_start = h["support_start"].to_numpy()
    w.hospital_ids = pa.array(h["hospital_id"].astype(str).tolist(), pa.string())
    w.receiver_vocab = pa.array(h["hospital_id"].astype(str).tolist() + h["name"].astype(str).tolist(), pa.string())
    w.county_vocab = pa.array([str(x) for x in w.counties], pa.string())
    w.drg_vocab = pa.array([str(x) for x in w.drgs], pa.string())
    w.p_mean_los, w.p_mean_cost, w.p_death_risk = (prof[k].to_numpy(float) for k in ("mean_los", "mean_cost", "death_risk"))
    w.p_surgical = prof["surgical"].to_numpy(bool)
    w.t_age = t["age_years"].to_numpy().astype(float)
    w.t_los_lo, w.t_los_hi = t["los_lo"].to_numpy(), t["los_hi"].to_numpy()
    w.t_cols = {name: pa.array(t[name].to_numpy(), typ, from_pandas=True)
                for name, typ in (("sex", pa.int8()), ("age_years", pa.int16()), ("age_days", pa.int16()),
                                  ("weight_g", pa.int32()), ("icu_hours", pa.int32()))}
    # the 2.0 / 3.0 fields a scheme's rules use (none for 1.x schemes: their output keeps its columns)
    w.t_new = {f: pa.array(pd.array(t[f], dtype="Int64").to_numpy(dtype=float, na_value=np.nan), pa.int32(), from_pandas=True)
               for f in NEW_FIELDS if f in t.columns and t[f].notna().any()}
    w.t_px = pa.array(t["px"].tolist(), pa.list_(pa.string()))
    # leaving types (离院方式) as codes; a template may fix one
    fixed = t["leaving_type"]
    leave = sorted(set("12359") | set(fixed.dropna().astype(str)))
    w.leave = {s: i for i, s in enumerate(leave)}
    w.leave_vocab = pa.array(leave, pa.string())
    w.t_leave = np.array([w.leave[str(x)] if pd.notna(x) else -1 for x in fixed], np.int8)
    # departments: the template's own, else the DRG's specialty (set per case by place_doctors)
    t_dept = t["dept"].fillna("").astype(str).to_numpy(object)
    names = np.array(_departments(prof), dtype=object)
    w.depts = sorted(set(names) | {TOWNSHIP_DEPT})
    w.dept_of_drg = np.searchsorted(np.array(w.depts, dtype=object), names)
    vocab = np.array(sorted(set(w.depts) | set(t_dept[t_dept != ""])), dtype=object)
    w.dept_vocab = pa.array(vocab.tolist(), pa.string())
    w.dept_code = np.searchsorted(vocab, np.array(w.depts, dtype=object))
    w.t_dept = np.where(t_dept != "", np.searchsorted(vocab, t_dept), -1)
    # the games' eligible templates and DRGs
    split_adrg = t.groupby("adrg")["drg"].nunique()
    w.t_upcode_ok = ((t["complication"] == 0) & t["adrg"].map(split_adrg).gt(1)).to_numpy()
    w.t_free_los = ((t["los_lo"] <= 1) & (t["los_hi"] >= 10**5)).to_numpy()
    one_day = (t["los_lo"] <= 1).groupby(t["drg"]).all().reindex(prof.index, fill_value=False).to_numpy()
    cheap = prof["mean_cost"].to_numpy() <= np.quantile(prof["mean_cost"], 0.3)
    w.low_value_drgs = np.flatnonzero(~prof["surgical"].to_numpy() & cheap & one_day & ~prof["newborn"].to_numpy())
    # high-weight DRGs (planted mean cost 2.5 times the case-weighted mean or more: RW >= 2 in any year's data) with
    # stays long enough that a quarter of the mean is under a third of it
    pop, mean_cost = prof["popularity"].to_numpy(float), prof["mean_cost"].to_numpy(float)
    w.short_stay_drgs = (mean_cost >= 2.5 * np.sum(pop * mean_cost) / np.sum(pop)) & (prof["mean_los"].to_numpy(float) >= 6)
    # diagnosis codes: the scheme's, then any other the data may hold (the unknown code of a coding error)
    vocab = [str(x) for x in scheme.codes]
    index = {code: i for i, code in enumerate(vocab)}
    for code in [UNKNOWN_PDX] + [str(x) for _, codes, *_ in w.comorbidities for x in codes] + [str(x) for xs in t["dx"] for x in xs]:
        if code not in index:
            index[code] = len(vocab)
            vocab.append(code)
    w.dx_vocab = pa.array(vocab, pa.string())
    w.unknown_dx = index[UNKNOWN_PDX]
    lens = np.array([len(x) for x in t["dx"]], np.int64)
    w.t_dx_off = np.concatenate([[0], np.cumsum(lens)])
    w.t_dx_ids = np.array([index[str(x)] for xs in t["dx"] for x in xs], np.int64)
    w.comorbid_dx = np.array([index[str(x)] for _, codes, *_ in w.comorbidities for x in codes], np.int64)
    # upcoding: each template's principal diagnosis, as a scheme code id (-1: not a scheme code)
    scheme_index = {code: i for i, code in enumerate(w.lists.codes)}
    w.t_pdx_scheme = np.array([scheme_index.get(x[0], -1) for x in t["dx"]])
    _principal_alternatives(w, t, prof, lens)


def _principal_alternatives(w: SimpleNamespace, t: pd.DataFrame, prof: pd.DataFrame, lens: np.ndarray) -> None:
    """For the principal chosen by payment: each code's weight as a principal (the mean planted cost of the DRGs of
    the templates it heads) and, per medical template (no procedure), its secondary diagnosis of the highest such
    weight above the principal's (``w.t_swap_pos``: its place in the list, -1 none)."""
    cost = prof["mean_cost"].reindex(t["drg"]).to_numpy(float)
    first = w.t_dx_ids[w.t_dx_off[:-1][lens > 0]]
    size = len(w.dx_vocab)
    n = np.bincount(first, minlength=size)
    code_w = np.where(n > 0, np.bincount(first, weights=cost[lens > 0], minlength=size) / np.maximum(n, 1), np.nan)
    medical = np.array([len(x) == 0 for x in t["px"]])
    w.t_swap_pos = np.full(len(t), -1, np.int64)
    for i in np.flatnonzero(medical & (lens > 1)):
        ids = w.t_dx_ids[w.t_dx_off[i]:w.t_dx_off[i + 1]]
        weights = code_w[ids]
        k = int(np.nanargmax(weights[1:])) + 1 if np.isfinite(weights[1:]).any() else -1
        if k > 0 and np.isfinite(weights[0]) and weights[k] > 1.2 * weights[0]:
            w.t_swap_pos[i] = k


def _departments(prof: pd.DataFrame) -> list:
    """Department names per DRG (its MDC's specialty; surgical DRGs of some MDCs in their surgical department)."""
    letter = prof["mdc"].astype(str).str[-1].to_numpy()
    return [SURGICAL_DEPT.get(x, DEPT_BY_MDC.get(x, "内科")) if s else DEPT_BY_MDC.get(x, "内科")
            for x, s in zip(letter, prof["surgical"].to_numpy())]


def place_cases(w: SimpleNamespace, n: int, rng, window=None) -> SimpleNamespace:
    """Per case: year (and, in a part of a streamed synth, the day), residence, hospital (inside the county at
    the county's planted rate), DRG."""
    h = w.h
    c = SimpleNamespace(n=n)
    if window is None:
        weights = np.linspace(1.0, 1.15, len(w.years))
        c.year = rng.choice(np.array(w.years), size=n, p=weights / weights.sum())
    else:  # the part's days, drawn from the region's year and season density restricted to them
        at = rng.choice(window.days, size=n, p=window.p)
        c.year, c.day = window.year[at], window.day[at]
        c.person = window.first_case + np.arange(n, dtype=np.int64) + 1  # unique in the whole synth (_patient_ids)
    c.res = rng.choice(len(w.counties), size=n, p=w.population)
    inside = rng.random(n) < w.in_county_rate[c.res]
    vol = h["volume"].to_numpy()
    tertiary = np.flatnonzero(w.h_tertiary)
    secondary = np.flatnonzero(w.h_secondary)

    def hosp_choices(key: int):
        county, inn = divmod(key, 2)
        if inn:
            cand = np.flatnonzero(w.h_county == county)
            return cand, vol[cand] / vol[cand].sum()
        # outside the county: city tertiary hospitals, or another county's secondary ones
        cand = np.concatenate([tertiary[w.h_county[tertiary] != county], secondary[w.h_county[secondary] != county]])
        p = vol[cand] * np.where(np.isin(cand, tertiary), 3.0, 0.3)
        return cand, p / p.sum()

    c.hosp = _sample_grouped(c.res * 2 + inside.astype(np.int64), hosp_choices, rng)
    # a resident treated "outside" whose county holds the city tertiary hospitals is still inside
    c.in_county = w.h_county[c.hosp] == c.res
    period = (c.year >= w.h_support_start[c.hosp]).astype(np.int64)
    mixes: dict = {}

    def mix_for(key: int):
        if key not in mixes:
            mixes[key] = case_mix(h, w.prof, *divmod(key, 2))
        return np.arange(w.n_drg), mixes[key]

    c.drg = _sample_grouped(c.hosp * 2 + period, mix_for, rng)
    # every DRG appears in the tertiary hospitals (coverage for discipline evaluation; in the first part only)
    t_rows = np.flatnonzero(np.isin(c.hosp, tertiary))
    if len(t_rows) >= 2 * w.n_drg and (window is None or window.index == 0):
        pick = rng.choice(t_rows, size=2 * w.n_drg, replace=False)
        c.drg[pick] = np.tile(np.arange(w.n_drg), 2)
    return c


def seasonal_days(day: np.ndarray) -> np.ndarray:
    """Uniform days of the year (0..364) warped to the planted seasonal density 1 + a*cos(2*pi*(d - peak)/365)
    (inverse CDF on a fine grid: a monotone map, so no random draw is added or moved)."""
    grid = np.arange(366, dtype=float)
    dens = 1 + SEASON_AMPLITUDE * np.cos(2 * np.pi * (grid[:-1] + 0.5 - SEASON_PEAK_DAY) / 365)
    cdf = np.concatenate([[0.0], np.cumsum(dens)]) / dens.sum()
    return np.minimum(np.searchsorted(cdf, (day + 0.5) / 365, side="right") - 1, 364).astype(day.dtype)


def place_doctors(w: SimpleNamespace, c: SimpleNamespace, rng, planted: dict | None = None) -> dict:
    """Per case a department (the intended DRG's specialty) and a doctor of that department of its hospital; the
    doctors' planted factors (``c.doctor_cost``, ``c.doctor_or``): one high-cost and one high-mortality doctor,
    each in the busiest department of a tertiary general hospital. ``planted`` (doctor key -> (cost factor,
    death odds ratio)) is chosen here unless given (the other parts of a streamed synth get the first part's);
    returned."""
    h = w.h
    township = (h["level"] == "primary").to_numpy()
    depts = w.depts
    c.dept = np.where(township[c.hosp], depts.index(TOWNSHIP_DEPT), w.dept_of_drg[c.drg]).astype(np.int64)
    per = h["level"].map(DOCTORS_PER_DEPT).fillna(1).astype(int).to_numpy()
    unit = c.hosp * len(depts) + c.dept  # hospital x department
    k = (rng.random(c.n) * per[c.hosp]).astype(np.int64)
    key = unit * 8 + k
    uniq, c.doctor = np.unique(key, return_inverse=True)
    c.doctor_keys = uniq
    c.doctor_cost = np.ones(len(uniq))
    c.doctor_or = np.ones(len(uniq))
    if planted is None:
        planted = {}
        u_hosp = uniq // (len(depts) * 8)
        big = np.flatnonzero(w.h_tertiary & (h["kind"] == "general").to_numpy()
                             & ~h["quality_outlier"].to_numpy() & ~h["efficiency_outlier"].to_numpy())
        if len(big) >= 1:
            counts = np.bincount(c.doctor, minlength=len(uniq))
            risk = np.bincount(c.doctor, weights=w.p_death_risk[c.drg], minlength=len(uniq))
            at = [np.flatnonzero(u_hosp == b) for b in big[:2]]
            if len(at[0]):  # a tiny synth may have no case in these hospitals: then nobody is planted
                cost_doc = at[0][np.argmax(counts[at[0]])]
                planted[int(uniq[cost_doc])] = (DOCTOR_COST, 1.0)
                death_pool = at[-1][at[-1] != cost_doc]
                if len(death_pool):
                    planted[int(uniq[death_pool[np.argmax(risk[death_pool])]])] = (1.0, DOCTOR_DEATH_OR)
    for key_, (cost, odds) in planted.items():
        i = np.searchsorted(uniq, key_)
        if i < len(uniq) and uniq[i] == key_:
            c.doctor_cost[i], c.doctor_or[i] = cost, odds
    return planted


def doctor_names(w: SimpleNamespace, keys: np.ndarray) -> tuple[list, list, list]:
    """(doctor id, hospital id, department) of each doctor key (hospital x department x number)."""
    depts = w.depts
    ids = w.h["hospital_id"].astype(str).to_numpy(object)
    hosp, rest = np.divmod(keys, len(depts) * 8)
    dept, k = np.divmod(rest, 8)
    return ([f"{ids[a]}-D{b:02d}-{kk + 1}" for a, b, kk in zip(hosp, dept, k)], [str(ids[a]) for a in hosp],
            [depts[b] for b in dept])


def draw_outcomes(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """Template, coding error, LOS, death, leaving type and transfer receiver, cost and its parts, dates."""
    n, drg, hosp = c.n, c.drg, c.hosp
    c.tmpl = w.t_start[drg] + (rng.random(n) * w.t_count[drg]).astype(np.int64)
    c.error = rng.random(n) < ERROR_RATE
    _patients(w, c, rng)
    los_mean = w.p_mean_los[drg] * w.h_los[hosp] * np.exp(c.resource_log)
    los = np.maximum(1, np.round(los_mean * np.exp(rng.normal(-0.08, 0.4, n)))).astype(np.int64)
    c.los = np.clip(los, w.t_los_lo[c.tmpl], w.t_los_hi[c.tmpl])
    doctor_or, doctor_cost = c.doctor_or[c.doctor], c.doctor_cost[c.doctor]
    risk = w.p_death_risk[drg]
    odds = risk / (1 - risk) * w.h_death_or[hosp] * doctor_or * np.exp(c.death_logit)
    c.p_death = odds / (1 + odds)
    died = rng.random(n) < c.p_death
    u = rng.random(n)
    lv = w.leave
    transfer_share = 0.02 + np.where(w.h_tertiary[hosp], 0.05, np.where(w.h_secondary[hosp], 0.02, 0.0))
    leaving = np.where(died, lv["5"], np.where(u < 0.02, lv["2"], np.where(u < transfer_share, lv["3"],
                                                                           np.where(u > 0.995, lv["9"], lv["1"]))))
    fixed = w.t_leave[c.tmpl]  # a template that fixes the leaving type
    c.leaving = np.where(fixed >= 0, fixed, leaving).astype(np.int8)
    c.p_death = np.where(fixed < 0, c.p_death, c.leaving == lv["5"])
    c.receiver, c.receiver_text = _transfer_receivers(w.h, hosp, c.leaving == lv["2"], rng)
    total = (w.p_mean_cost[drg] * w.h_price[hosp] * w.h_cost[hosp] * doctor_cost
             * np.exp(c.resource_log + rng.normal(-0.06, 0.35, n)))
    del c.death_logit, c.resource_log  # not needed further: every per-case array is copied by the games
    c.total = np.round(total, 2)
    alpha = np.where(w.p_surgical[drg][:, None], [3.0, 4.0, 3.0, 2.0, 1.0], [5.0, 1.0, 3.0, 2.5, 1.0])
    shares = rng.gamma(alpha)
    shares /= shares.sum(axis=1, keepdims=True)
    c.parts = np.round(c.total[:, None] * shares[:, :4], 2)
    c.other = np.round(c.total - c.parts.sum(axis=1), 2)
    day = seasonal_days(rng.integers(0, 365, n)) if not hasattr(c, "day") else c.day
    c.discharge = (c.year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + day
    c.admit = c.discharge - c.los
