"""Synthetic region: a city's discharges with planted effects, for demos, tests and benchmarks.

Generation is generic over schemes (no per-scheme code):

1. *Templates*: for every ADRG step of the scheme, records are built to satisfy its
   rule (principal diagnosis / procedure from the rule's lists, newborn fields,
   age and sex bounds, secondary procedures, body regions ...), with no, CC or MCC
   secondary diagnoses, and grouped with the engine: each template's DRG is the
   one the engine gives it. An error variant of each template has an unknown
   principal diagnosis code (the deliberately miscoded share).
2. *DRG profile*: mean cost, mean LOS and death risk per DRG, from whether its
   templates are surgical and how many complications they carry, times a random
   DRG factor.
3. *Region*: residents choose hospitals inside their county at a planted
   county-specific rate; each hospital draws DRGs from a case mix tilted by its
   level (townships: common low-weight conditions; tertiary: complex ones) and
   kind; supported township hospitals tilt towards heavier and surgical DRGs from
   the pairing year on by a planted amount.
4. *Outcomes*: cost and LOS log-normal around the DRG means times each hospital's
   planted efficiency factors; in-hospital death from the DRG risk times the
   hospital's planted odds ratio; transfers and down-referrals.

Everything planted is written to ``truth.json`` (hospitals with their death odds ratios
-- ordinary ones spread around 1, the planted outliers at 3 --, counties, support programs
with their staggered start years and whether each has an effect, per-recipient gains) and
``truth.parquet`` (per case: the DRG aimed at, coding error flag, ``upcoded``, ``split_of``, ``low_value``) and
the coding games (hospitals' ``upcoding_from``, ``splits_admissions``, ``low_value_admissions``); the synthetic world's
support plan, with a ``start_year`` per pair, is ``support_pairs.csv``.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from grouper.atoms import atom_of
from grouper.codes import STATUS_OK

from .io import write_json_atomic, write_table_atomic
from .regions import load_region

LEVEL_VOLUME = {"tertiary": 30.0, "secondary": 8.0, "primary": 0.35}
KIND_VOLUME = {"general": 1.0, "tcm": 0.4, "maternal_child": 0.3, "township": 1.0}
LEVEL_TILT = {"tertiary": 0.7, "secondary": 0.0, "primary": -1.6}
LEVEL_PRICE = {"tertiary": 1.2, "secondary": 1.0, "primary": 0.8}
SUPPORT_START = 2019  # the pairing program's start where the pairs file gives none (the Dezhou plan's first year)
QUALITY_OUTLIERS = 1  # planted: secondary hospitals with death odds ratio 3
QUALITY_SD = 0.15  # planted over-dispersion: ordinary hospitals' log death odds ratio ~ N(0, sd), cut at 2 sd
SUPPORT_TILT = 0.8  # planted: supported townships' case-mix tilt towards heavier DRGs
SUPPORT_SURGICAL = 2.5  # planted: and towards surgical DRGs
# planted patient-level risk: comorbidities (secondary diagnoses from the Quan 2005 categories, codes that
# are neither CC/MCC nor in any rule list of the scheme, so the DRG stays the one aimed at) and age raise the
# true death odds, LOS and cost. (category, prevalence at age 60, death log-OR, LOS and cost log-effect)
COMORBIDITIES = (("charlson_cevd", 0.06, 0.6, 0.08), ("charlson_rend", 0.04, 0.8, 0.10), ("elixhauser_carit", 0.08, 0.6, 0.06),
                 ("elixhauser_pcd", 0.02, 0.9, 0.08), ("charlson_cpd", 0.06, 0.5, 0.06), ("elixhauser_valv", 0.03, 0.4, 0.05),
                 ("charlson_pvd", 0.03, 0.4, 0.05), ("charlson_mld", 0.03, 0.5, 0.05), ("charlson_diab", 0.10, 0.2, 0.04),
                 ("elixhauser_hypunc", 0.15, 0.1, 0.02), ("elixhauser_fed", 0.04, 0.7, 0.08), ("charlson_pud", 0.03, 0.3, 0.04),
                 ("elixhauser_obes", 0.04, 0.0, 0.03))
AGE_LOG_OR = 0.035  # per year of age (adults, 18-95), around 60
CASEMIX_PREVALENCE = 3.5  # planted: casemix_only hospitals' patients carry this many times the comorbidities
ERROR_RATE = 0.008
UNKNOWN_PDX = "R99.x99ERR"
# planted coding games (drg audit must find them; their own random stream, so every other plant stays as it was)
UPCODE_SHARE = 0.25  # of an upcoder's eligible cases from its onset year: an MCC/CC code the patient does not have
SPLIT_SHARE = 0.15  # of a splitter's eligible stays: cut into two, readmitted 0-2 days later
LOW_VALUE_EXTRA = 0.12  # a low-value admitter's extra 1-day stays in low-weight medical DRGs, per own case
READMIT_SHARE = 0.08  # natural repeat admissions: cases of a patient already seen in the county (any date)
# departments (科室): a specialty per MDC (the surgical DRGs of some MDCs in their surgical department; townships
# have one general department); doctors (主诊医师) per department by level, one planted high-cost doctor and one
# planted high-mortality doctor (their own random stream: every other plant stays as it was)
DEPT_BY_MDC = {"A": "重症医学科", "B": "神经内科", "C": "眼科", "D": "耳鼻咽喉科", "E": "呼吸内科", "F": "心血管内科",
               "G": "消化内科", "H": "肝胆外科", "I": "骨科", "J": "皮肤科", "K": "内分泌科", "L": "肾内科", "M": "泌尿外科",
               "N": "妇科", "O": "产科", "P": "新生儿科", "Q": "血液科", "R": "肿瘤科", "S": "感染科", "T": "精神科",
               "U": "精神科", "V": "急诊科", "W": "烧伤科", "X": "康复医学科", "Y": "感染科", "Z": "创伤外科"}
SURGICAL_DEPT = {"B": "神经外科", "E": "胸外科", "F": "心脏大血管外科", "G": "胃肠外科", "L": "泌尿外科"}
TOWNSHIP_DEPT = "全科医疗科"
DOCTORS_PER_DEPT = {"tertiary": 4, "secondary": 2, "primary": 1}
DOCTOR_COST = 1.5  # planted: the high-cost doctor's cost factor
DOCTOR_DEATH_OR = 3.0  # planted: the high-mortality doctor's death odds ratio
SEASON_AMPLITUDE = 0.15  # planted: discharges by day of year ~ 1 + a*cos(2*pi*(day - peak)/365), winter peak
SEASON_PEAK_DAY = 15


# -- templates ---------------------------------------------------------------------------------

class _Lists:
    """Code ids of each compiled list, for sampling codes that satisfy a rule."""

    def __init__(self, scheme):
        a = scheme.arrays
        ptr, lists = a["member_ptr"], a["member_lists"]
        codes = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        order = np.argsort(lists, kind="stable")
        self.by_list = {}
        if len(order):
            ls = lists[order]
            cs = codes[order]
            bounds = np.flatnonzero(np.diff(ls)) + 1
            for chunk_l, chunk_c in zip(np.split(ls, bounds), np.split(cs, bounds)):
                self.by_list[int(chunk_l[0])] = chunk_c
        self.ids = scheme.list_ids
        self.codes = scheme.codes
        known = a["dx_known"]
        self.mcc = np.flatnonzero((a["mcc_ex"] >= 0) & known)
        self.cc = np.flatnonzero((a["cc_ex"] >= 0) & (a["mcc_ex"] < 0) & known)
        self.filler = np.flatnonzero(known & (a["mcc_ex"] < 0) & (a["cc_ex"] < 0))
        self.mcc_ex, self.cc_ex, self.pdx_ex = a["mcc_ex"], a["cc_ex"], a["pdx_ex"]
        or_id = scheme.list_ids.get(("named", "OR"))
        self.or_codes = self.by_list.get(or_id, np.zeros(0, np.int64)) if or_id is not None else np.zeros(0, np.int64)
        self.px_known = np.flatnonzero(a["px_known"])
        self.region = a["region"]
        self.rlists = scheme.rlist_ids

    def members(self, key) -> np.ndarray:
        lid = self.ids.get(key)
        return self.by_list.get(lid, np.zeros(0, np.int64)) if lid is not None else np.zeros(0, np.int64)


class _Draft:
    def __init__(self):
        self.dx0 = None
        self.sdx: list = []
        self.px0 = None
        self.spx: list = []
        self.bounds = {f: [-10**9, 10**9] for f in ("sex", "age_years", "age_days", "weight_g", "los", "icu_hours")}
        self.need = set()
        self.strs: dict = {}
        self.min_dx = 1
        self.min_px = 0


def _satisfy(node, d: _Draft, L: _Lists, rng) -> None:
    """Make the draft meet the rule: both sides of ``and``, one side of ``or`` (at random), each atom as
    its class says (:mod:`grouper.atoms`). ``not``, ``true`` and ``false`` ask for nothing."""
    op = node[0]
    if op == "and":
        _satisfy(node[1], d, L, rng)
        _satisfy(node[2], d, L, rng)
    elif op == "or":
        _satisfy(node[1] if rng.random() < 0.5 else node[2], d, L, rng)
    elif op not in ("not", "true", "false"):
        atom_of(node).satisfy(node, d, L, rng)  # an unknown atom raises: never silently skipped


def _pick(b, default_lo, default_hi, rng, typical=None):
    lo = b[0] if b[0] > -10**9 else default_lo
    hi = b[1] if b[1] < 10**9 else default_hi
    if lo > hi:
        return int(lo)
    if typical is not None and lo <= typical[0] and typical[1] <= hi:
        lo, hi = typical
    return int(rng.integers(lo, hi + 1))


def _finish(d: _Draft, L: _Lists, rng, level: int) -> dict:
    """Turn a draft into a record: default fields, complications (0 none, 1 CC, 2 MCC), fillers."""
    if d.dx0 is None:
        d.dx0 = L.codes[int(rng.choice(L.filler))]
    pdx = d.dx0
    first = pdx[:1]
    sdx = list(d.sdx)
    if level == 2 and len(L.mcc):
        sdx.append(L.codes[int(rng.choice(L.mcc))])
    elif level == 1 and len(L.cc):
        sdx.append(L.codes[int(rng.choice(L.cc))])
    for _ in range(int(rng.integers(0, 3))):
        sdx.append(L.codes[int(rng.choice(L.filler))])
    while 1 + len(sdx) < d.min_dx:
        sdx.append(L.codes[int(rng.choice(L.filler))])
    px = ([d.px0] if d.px0 is not None else []) + list(d.spx)
    while len(px) < d.min_px:
        pool = L.or_codes if len(L.or_codes) else L.px_known
        px.append(L.codes[int(rng.choice(pool))])
    # ICD-10 chapter conventions for realism (pregnancy: women; perinatal: newborns; ...)
    newborn = first == "P" or d.bounds["age_days"][1] <= 28 or d.bounds["weight_g"][1] < 10**9
    b = d.bounds
    if newborn:
        age = _pick(b["age_years"], 0, 0, rng)
    elif first == "O" or pdx[:2] == "Z3":
        age = _pick(b["age_years"], 16, 50, rng, (20, 42))
    else:
        age = _pick(b["age_years"], 0, 100, rng, (int(rng.choice([3, 20, 40, 55])), 90))
    if b["sex"][0] == b["sex"][1] and b["sex"][0] in (1, 2):
        sex = b["sex"][0]
    elif first == "O" or pdx[:2] == "Z3" or pdx[:1] == "N" and pdx[1:3] >= "70":
        sex = 2
    elif pdx[:3] in ("C61", "N40", "N41", "N42", "N43", "N44", "N45", "N46", "N47", "N48", "N49", "N50", "N51"):
        sex = 1
    else:
        sex = int(rng.integers(1, 3))
    age_days = weight = None
    if age == 0 or "age_days" in d.need:
        age_days = _pick(b["age_days"], 0, 364 if not newborn else 28, rng)
    if (age == 0 and age_days is not None and age_days <= 28) or "weight_g" in d.need:
        weight = _pick(b["weight_g"], 400, 5000, rng, (2500, 4000))
    icu = _pick(b["icu_hours"], 0, 400, rng) if "icu_hours" in d.need else 0
    los_lo = b["los"][0] if b["los"][0] > -10**9 else 1
    los_hi = b["los"][1] if b["los"][1] < 10**9 else 10**6
    return {
        "sex": sex, "age_years": age, "age_days": age_days, "weight_g": weight,
        "dept": d.strs.get("dept", ""), "leaving_type": d.strs.get("leaving_type"), "icu_hours": icu,
        "los_lo": max(int(los_lo), 1), "los_hi": int(max(los_hi, 1)), "complication": level,
        "dx": [pdx] + sdx, "px": px,
    }


def build_templates(scheme, rng, per_step: int = 24) -> pd.DataFrame:
    """Records aimed at every ADRG step, grouped by the engine; one row per usable template."""
    L = _Lists(scheme)
    steps = [st for st, kind in enumerate(scheme.step_kinds) if kind != "qy"]
    df = _templates_for(scheme, L, steps, per_step, rng)
    # steps whose ADRG no template reached get a second, larger try
    reached = set(df["adrg"])  # once, not per step (it was 7 s of every synth)
    missing = [st for st in steps if scheme.step_adrg[st] not in reached]
    if missing:
        df = pd.concat([df, _templates_for(scheme, L, missing, per_step * 6, rng)], ignore_index=True)
    df = df.drop_duplicates(subset=["drg", "sex", "age_years", "age_days", "weight_g", "icu_hours", "los_lo"], keep="first")
    or_set = set(L.codes[c] for c in L.or_codes)
    df["surgical"] = [bool(p) and p[0] in or_set for p in df["px"]]
    return df.sort_values(["drg"], kind="stable").reset_index(drop=True)


def _templates_for(scheme, L, steps, per_step, rng) -> pd.DataFrame:
    import grouper

    rows = []
    for st in steps:
        ast = scheme.step_asts[st][1]
        for v in range(per_step):
            d = _Draft()
            # MDC first, then the step, then a split: the more specific rule has the last word
            mdc_ast = scheme.mdc_asts[next(m for m, (a, b) in enumerate(scheme.mdc_steps) if a <= st < b)][1]
            _satisfy(mdc_ast, d, L, rng)
            _satisfy(ast, d, L, rng)
            x, y = scheme.step_splits[st]
            if y > x and rng.random() < 0.5:  # aim at a split too
                _satisfy(scheme.split_asts[int(rng.integers(x, y))][2], d, L, rng)
            rec = _finish(d, L, rng, level=int(rng.choice(3, p=[0.5, 0.3, 0.2])))
            rec["step"] = st
            rows.append(rec)
    df = pd.DataFrame(rows)
    table = pa.Table.from_pandas(df[["sex", "age_years", "age_days", "weight_g", "dept", "leaving_type", "icu_hours", "dx", "px"]],
                                 preserve_index=False)
    table = table.append_column("los_days", pa.array(df["los_lo"].to_numpy(np.int64)))
    out = grouper.group_table(table, scheme, only_results=True, keep_dictionary=False)
    df["status"] = out.column("status").to_pylist()
    df["drg"] = out.column("drg").to_pylist()
    df["adrg"] = out.column("adrg").to_pylist()
    df["mdc"] = out.column("mdc").to_pylist()
    return df[df["status"] == STATUS_OK].reset_index(drop=True)


def drg_profile(templates: pd.DataFrame, rng) -> pd.DataFrame:
    g = templates.groupby("drg", sort=True)
    prof = pd.DataFrame({
        "adrg": g["adrg"].first(), "mdc": g["mdc"].first(), "surgical": g["surgical"].mean() > 0.5,
        "severity": 1.0 + 0.35 * g["complication"].mean(), "female_only": g["sex"].apply(lambda s: bool((s == 2).all())),
        "newborn": g["age_years"].apply(lambda a: bool((a == 0).all())), "n_templates": g.size(),
        "perinatal_or_obstetric": g["dx"].apply(lambda xs: bool(np.mean([x[0][:1] in ("O", "P") for x in xs]) > 0.5)),
    })
    n = len(prof)
    factor = np.exp(rng.normal(0, 0.45, n))
    prof["mean_cost"] = np.round(np.where(prof["surgical"], 24000.0, 7000.0) * prof["severity"] * factor, 2)
    prof["mean_los"] = np.where(prof["surgical"], 9.0, 7.0) * prof["severity"] ** 0.8 * np.exp(rng.normal(0, 0.25, n))
    prof["death_risk"] = np.clip(0.004 * prof["severity"] ** 4 * np.exp(rng.normal(0, 0.8, n)), 0.0003, 0.25)
    prof["popularity"] = np.exp(rng.normal(0, 1.1, n))
    lc = np.log(prof["mean_cost"].to_numpy())
    prof["complexity"] = (lc - lc.mean()) / lc.std()
    return prof


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
    """Per case: the receiving hospital of a type-2 transfer (truth) and what the record says of it
    (code, name or blank: 拟接收医疗机构), ``None`` for every other case."""
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
    ids, names = h["hospital_id"].to_numpy(object), h["name"].to_numpy(object)
    receiver = np.full(len(hosp), None, dtype=object)
    text = np.full(len(hosp), None, dtype=object)
    receiver[rows] = ids[to]
    how = rng.choice(3, size=len(rows), p=RECEIVER_AS)
    text[rows] = np.where(how == 0, ids[to], np.where(how == 1, names[to], None))
    return receiver, text


def _sample_grouped(keys: np.ndarray, choices_for, rng) -> np.ndarray:
    """For each distinct key, draw len(group) choices with that key's (values, p)."""
    out = np.empty(len(keys), dtype=np.int64)
    order = np.argsort(keys, kind="stable")
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
    from evaluation.comorbidity import code_bits, column_names

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


def _patients(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """Per case: comorbidity codes (one per present condition, or ""), and the risk they and age carry."""
    age = w.templates["age_years"].to_numpy()[c.tmpl].astype(float)
    adult = np.clip(age, 18, 95) - 60.0
    sick = np.where(w.h["casemix_only"].to_numpy()[c.hosp], CASEMIX_PREVALENCE, 1.0)
    base = np.where(age < 18, 0.1, np.clip(np.exp(0.03 * adult), 0.3, 2.5)) * sick
    # ids into w.comorbidity_vocab (-1: absent), one column per planted condition
    c.comorbid_ids = np.full((c.n, len(w.comorbidities)), -1, dtype=np.int32)
    start = 0
    c.death_logit = AGE_LOG_OR * np.where(age < 18, 0.0, adult)
    c.resource_log = 0.004 * np.where(age < 18, 0.0, adult)
    for k, (_, codes, prevalence, log_or, effect) in enumerate(w.comorbidities):
        has = rng.random(c.n, dtype=np.float32) < np.minimum(prevalence * base, 0.8)
        c.comorbid_ids[:, k] = np.where(has, start + rng.integers(0, len(codes), c.n), -1)
        start += len(codes)
        c.death_logit += log_or * has
        c.resource_log += effect * has
    # centred: the DRG profile's death risk, LOS and cost stay those of the region's average patient
    c.death_logit -= c.death_logit.mean()
    c.resource_log -= c.resource_log.mean()


def _case_mix(h: pd.DataFrame, prof: pd.DataFrame, hi: int, period: int) -> np.ndarray:
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


def _world(scheme, region: str, years: list, rng, say) -> SimpleNamespace:
    """Templates, DRG profile, hospitals with their planted factors, counties, the support plan."""
    w = SimpleNamespace(years=years)
    hospitals_all, pairs = load_region(region)
    w.templates = build_templates(scheme, rng)
    w.prof = drg_profile(w.templates, rng)
    w.drgs = w.prof.index.to_numpy()
    w.n_drg = len(w.drgs)
    t_drg = w.templates["drg"].map({d: i for i, d in enumerate(w.drgs)}).to_numpy()
    w.t_start = np.searchsorted(t_drg, np.arange(w.n_drg))
    w.t_count = np.bincount(t_drg, minlength=w.n_drg)
    say(f"  {len(w.templates):,} verified templates over {w.n_drg} DRGs")
    w.codes = scheme.codes
    w.comorbidities = comorbidity_codes(scheme)
    w.comorbidity_vocab = pa.array(np.concatenate([x[1] for x in w.comorbidities] + [np.zeros(0, object)]).astype(str), pa.string())
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


def _place_cases(w: SimpleNamespace, n: int, rng) -> SimpleNamespace:
    """Per case: year, residence, hospital (inside the county at the county's planted rate), DRG."""
    h = w.h
    c = SimpleNamespace(n=n)
    weights = np.linspace(1.0, 1.15, len(w.years))
    c.year = rng.choice(np.array(w.years), size=n, p=weights / weights.sum())
    c.res = rng.choice(len(w.counties), size=n, p=w.population)
    inside = rng.random(n) < w.in_county_rate[c.res]
    vol = h["volume"].to_numpy()
    tertiary = np.flatnonzero(h["level"].to_numpy() == "tertiary")
    secondary = np.flatnonzero(h["level"].to_numpy() == "secondary")

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
    period = (c.year >= h["support_start"].to_numpy()[c.hosp]).astype(np.int64)
    mixes: dict = {}

    def mix_for(key: int):
        if key not in mixes:
            mixes[key] = _case_mix(h, w.prof, *divmod(key, 2))
        return np.arange(w.n_drg), mixes[key]

    c.drg = _sample_grouped(c.hosp * 2 + period, mix_for, rng)
    # every DRG appears in the tertiary hospitals (coverage for discipline evaluation)
    t_rows = np.flatnonzero(np.isin(c.hosp, tertiary))
    if len(t_rows) >= 2 * w.n_drg:
        pick = rng.choice(t_rows, size=2 * w.n_drg, replace=False)
        c.drg[pick] = np.tile(np.arange(w.n_drg), 2)
    return c


def _seasonal(day: np.ndarray) -> np.ndarray:
    """Uniform days of the year (0..364) warped to the planted seasonal density 1 + a*cos(2*pi*(d - peak)/365)
    (inverse CDF on a fine grid: a monotone map, so no random draw is added or moved)."""
    grid = np.arange(366, dtype=float)
    dens = 1 + SEASON_AMPLITUDE * np.cos(2 * np.pi * (grid[:-1] + 0.5 - SEASON_PEAK_DAY) / 365)
    cdf = np.concatenate([[0.0], np.cumsum(dens)]) / dens.sum()
    return np.minimum(np.searchsorted(cdf, (day + 0.5) / 365, side="right") - 1, 364).astype(day.dtype)


def _doctors(w: SimpleNamespace, c: SimpleNamespace, seed: int) -> None:
    """Per case a department (the intended DRG's specialty) and a doctor of that department of its hospital; the
    doctors' planted factors (``w.doctor_cost``, ``w.doctor_or``): one high-cost and one high-mortality doctor,
    each in the busiest department of a tertiary general hospital."""
    rng = np.random.default_rng([seed, 20])
    prof, h = w.prof, w.h
    letter = prof["mdc"].astype(str).str[-1].to_numpy()
    names = np.array([SURGICAL_DEPT.get(x, DEPT_BY_MDC.get(x, "内科")) if s else DEPT_BY_MDC.get(x, "内科")
                      for x, s in zip(letter, prof["surgical"].to_numpy())], dtype=object)
    w.depts = sorted(set(names) | {TOWNSHIP_DEPT})
    dept_of_drg = np.searchsorted(np.array(w.depts, dtype=object), names)
    township = (h["level"] == "primary").to_numpy()
    c.dept = np.where(township[c.hosp], w.depts.index(TOWNSHIP_DEPT), dept_of_drg[c.drg]).astype(np.int64)
    per = h["level"].map(DOCTORS_PER_DEPT).fillna(1).astype(int).to_numpy()
    unit = c.hosp * len(w.depts) + c.dept  # hospital x department
    k = (rng.random(c.n) * per[c.hosp]).astype(np.int64)
    key = unit * 8 + k
    uniq, c.doctor = np.unique(key, return_inverse=True)
    u_hosp, rest = np.divmod(uniq, len(w.depts) * 8)
    u_dept, u_k = np.divmod(rest, 8)
    ids = h["hospital_id"].to_numpy(object)
    w.doctor_ids = [f"{ids[a]}-D{b:02d}-{kk + 1}" for a, b, kk in zip(u_hosp, u_dept, u_k)]
    w.doctor_hosp = [str(ids[a]) for a in u_hosp]
    w.doctor_dept = [w.depts[b] for b in u_dept]
    w.doctor_cost = np.ones(len(uniq))
    w.doctor_or = np.ones(len(uniq))
    big = np.flatnonzero((h["level"] == "tertiary").to_numpy() & (h["kind"] == "general").to_numpy()
                         & ~h["quality_outlier"].to_numpy() & ~h["efficiency_outlier"].to_numpy())
    if len(big) >= 1:
        counts = np.bincount(c.doctor, minlength=len(uniq))
        risk = np.bincount(c.doctor, weights=prof["death_risk"].to_numpy()[c.drg], minlength=len(uniq))
        at = [np.flatnonzero(u_hosp == b) for b in big[:2]]
        cost_doc = at[0][np.argmax(counts[at[0]])]
        death_pool = at[-1][at[-1] != cost_doc]
        death_doc = death_pool[np.argmax(risk[death_pool])]
        w.doctor_cost[cost_doc] = DOCTOR_COST
        w.doctor_or[death_doc] = DOCTOR_DEATH_OR


def _outcomes(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """Template, coding error, LOS, death, leaving type and transfer receiver, cost and its parts, dates."""
    n, drg, prof, templates = c.n, c.drg, w.prof, w.templates
    c.tmpl = w.t_start[drg] + (rng.random(n) * w.t_count[drg]).astype(np.int64)
    c.error = rng.random(n) < ERROR_RATE
    c.hf = hf = w.h.iloc[c.hosp]
    _patients(w, c, rng)
    los_mean = prof["mean_los"].to_numpy()[drg] * hf["los_factor"].to_numpy() * np.exp(c.resource_log)
    los = np.maximum(1, np.round(los_mean * np.exp(rng.normal(-0.08, 0.4, n)))).astype(np.int64)
    c.los = np.clip(los, templates["los_lo"].to_numpy()[c.tmpl], templates["los_hi"].to_numpy()[c.tmpl])
    doctor_or, doctor_cost = w.doctor_or[c.doctor], w.doctor_cost[c.doctor]
    risk = prof["death_risk"].to_numpy()[drg]
    odds = risk / (1 - risk) * hf["death_or"].to_numpy() * doctor_or * np.exp(c.death_logit)
    c.p_death = odds / (1 + odds)
    died = rng.random(n) < c.p_death
    level = hf["level"].to_numpy()
    u = rng.random(n)
    leaving = np.where(died, "5", np.where(u < 0.02, "2", np.where(
        (u < 0.02 + np.select([level == "tertiary", level == "secondary"], [0.05, 0.02], 0.0)), "3", np.where(u > 0.995, "9", "1"))))
    fixed_leaving = templates["leaving_type"].to_numpy()[c.tmpl]
    c.leaving = np.where(pd.isna(fixed_leaving), leaving, fixed_leaving.astype(object)).astype(str)
    c.p_death = np.where(pd.isna(fixed_leaving), c.p_death, c.leaving == "5")  # a template that fixes the leaving type
    c.receiver, c.receiver_text = _transfer_receivers(w.h, c.hosp, c.leaving == "2", rng)
    price = np.array([LEVEL_PRICE[x] for x in level])
    total = (prof["mean_cost"].to_numpy()[drg] * price * hf["cost_factor"].to_numpy() * doctor_cost
             * np.exp(c.resource_log + rng.normal(-0.06, 0.35, n)))
    c.total = np.round(total, 2)
    alpha = np.where(prof["surgical"].to_numpy()[drg][:, None], [3.0, 4.0, 3.0, 2.0, 1.0], [5.0, 1.0, 3.0, 2.5, 1.0])
    shares = rng.gamma(alpha)
    shares /= shares.sum(axis=1, keepdims=True)
    c.parts = np.round(c.total[:, None] * shares[:, :4], 2)
    c.other = np.round(c.total - c.parts.sum(axis=1), 2)
    day = _seasonal(rng.integers(0, 365, n))
    c.discharge = (c.year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + day
    c.admit = c.discharge - c.los


def plant_gaming(h: pd.DataFrame, years: list, rng) -> pd.DataFrame:
    """Which hospitals game the payment (planted, disjoint from every other plant): two upcoders from the
    second and third data years (``upcoding_from``), two that split admissions, one that admits low-value
    short stays. All secondary hospitals: enough cases a year for an audit to judge them."""
    h = h.copy()
    h["upcoding_from"] = pd.Series([None] * len(h), dtype=object)
    h["splits_admissions"] = False
    h["low_value_admissions"] = False
    taken = h["quality_outlier"] | h["efficiency_outlier"] | h["casemix_only"] | h["supported"]
    pool = h.index[(h["level"] == "secondary") & ~taken].to_numpy()
    if len(pool) < 5:
        pool = h.index[(h["level"] != "primary") & ~taken].to_numpy()
    pick = rng.choice(pool, size=min(5, len(pool)), replace=False)
    onsets = (sorted(years)[1:3] or sorted(years)[:1]) * 2
    for k, hi in enumerate(pick[:2]):
        h.at[hi, "upcoding_from"] = int(onsets[k])
    h.loc[pick[2:4], "splits_admissions"] = True
    h.loc[pick[4:5], "low_value_admissions"] = True
    return h


def _take_rows(c: SimpleNamespace, rows: np.ndarray) -> None:
    """Every per-case array of ``c`` reduced (or extended) to ``rows``, in that order."""
    for name, v in list(vars(c).items()):
        if isinstance(v, np.ndarray) and v.ndim >= 1 and len(v) == c.n:
            setattr(c, name, v[rows])
    c.n = len(rows)


def _append_rows(c: SimpleNamespace, src: np.ndarray) -> np.ndarray:
    """Copies of the cases ``src`` appended to every per-case array; returns the new rows' indices."""
    n = c.n
    _take_rows(c, np.concatenate([np.arange(n), src]))
    return np.arange(n, c.n)


def _rescale_cost(c: SimpleNamespace, rows: np.ndarray, total: np.ndarray) -> None:
    """New total costs for ``rows``, with the parts scaled alike (rounded to the fen; other = the rest)."""
    f = total / np.maximum(c.total[rows], 0.01)
    c.total[rows] = np.round(total, 2)
    c.parts[rows] = np.round(c.parts[rows] * f[:, None], 2)
    c.other[rows] = np.round(c.total[rows] - c.parts[rows].sum(axis=1), 2)


def _upcode(w: SimpleNamespace, c: SimpleNamespace, scheme, rng) -> None:
    """An upcoder's cases from its onset year, in ADRGs the scheme splits, whose template carries no
    complication: a share get one MCC or CC code (valid for the principal diagnosis, so the DRG moves
    to a severe split) that the patient's true condition does not support (``c.upcode_code``)."""
    L = _Lists(scheme)
    t = w.templates
    onset = pd.to_numeric(w.h["upcoding_from"], errors="coerce").fillna(10**4).to_numpy(np.int64)
    split_adrg = t.groupby("adrg")["drg"].nunique()
    t_ok = ((t["complication"] == 0) & t["adrg"].map(split_adrg).gt(1)).to_numpy()
    eligible = (c.year >= onset[c.hosp]) & t_ok[c.tmpl] & ~c.error
    rows = np.flatnonzero(eligible & (rng.random(c.n) < UPCODE_SHARE))
    c.upcode_code = np.full(c.n, -1, np.int64)
    if not len(rows) or not (len(L.mcc) + len(L.cc)):
        return
    index = {code: i for i, code in enumerate(L.codes)}
    pdx_id = np.array([index.get(x[0], -1) for x in t["dx"]])[c.tmpl[rows]]
    pdx_ex = np.where(pdx_id >= 0, L.pdx_ex[np.maximum(pdx_id, 0)], -1)
    chosen = np.full(len(rows), -1, np.int64)
    for _ in range(6):  # a few draws until one is not excluded by the principal diagnosis (FORMAT.md 4.1)
        use_mcc = (rng.random(len(rows)) < 0.5) & (len(L.mcc) > 0) | (len(L.cc) == 0)
        cand = np.where(use_mcc, L.mcc[rng.integers(0, max(len(L.mcc), 1), len(rows)) % max(len(L.mcc), 1)] if len(L.mcc) else -1,
                        L.cc[rng.integers(0, max(len(L.cc), 1), len(rows)) % max(len(L.cc), 1)] if len(L.cc) else -1)
        ex = np.where(use_mcc, L.mcc_ex[cand], L.cc_ex[cand])
        ok = (chosen < 0) & (cand >= 0) & ((pdx_ex < 0) | (ex != pdx_ex))
        chosen[ok] = cand[ok]
    c.upcode_code[rows] = chosen


def _split_stays(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """A splitter's stays (routine discharge, no LOS bound on the template, 4+ days) cut in two: the
    patient is discharged and readmitted 0-2 days later for the rest of the stay (分解住院). ``c.split_src``:
    the first stay of each second stay (-1 otherwise). Costs follow the days, each stay a little dearer."""
    t = w.templates
    free = ((t["los_lo"] <= 1) & (t["los_hi"] >= 10**5)).to_numpy()
    doy = (c.discharge - c.discharge.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    eligible = (w.h["splits_admissions"].to_numpy()[c.hosp] & (c.leaving == "1") & ~c.error & (c.los >= 4)
                & free[c.tmpl] & (doy >= c.los + 5) & (doy <= 360) & (c.upcode_code < 0))
    first = np.flatnonzero(eligible & (rng.random(c.n) < SPLIT_SHARE))
    los, admit, total = c.los[first].copy(), c.admit[first].copy(), c.total[first].copy()
    second = _append_rows(c, first)
    c.split_src = np.full(c.n, -1, np.int64)
    c.split_src[second] = first
    los1 = np.clip(np.round(los * rng.uniform(0.3, 0.7, len(first))), 1, los - 1).astype(np.int64)
    gap = rng.choice(3, size=len(first), p=[0.5, 0.35, 0.15])
    c.los[first], c.discharge[first] = los1, admit + los1
    c.los[second], c.admit[second] = los - los1, admit + los1 + gap
    c.discharge[second] = c.admit[second] + (los - los1)
    _rescale_cost(c, first, total * los1 / los * 1.08)
    _rescale_cost(c, second, total * (los - los1) / los * 1.08)


def _low_value(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """The low-value admitter's extra 1-day stays in low-weight medical DRGs (低标准入院), cheap, routine
    discharge; they copy a random own case's date, patient features and residence (``c.low_value``)."""
    prof, t = w.prof, w.templates
    one_day = (t["los_lo"] <= 1).groupby(t["drg"]).all().reindex(prof.index, fill_value=False).to_numpy()
    cheap = prof["mean_cost"].to_numpy() <= np.quantile(prof["mean_cost"], 0.3)
    drgs = np.flatnonzero(~prof["surgical"].to_numpy() & cheap & one_day & ~prof["newborn"].to_numpy())
    own = np.flatnonzero(w.h["low_value_admissions"].to_numpy()[c.hosp])
    c.low_value = np.zeros(c.n, bool)
    if not len(drgs) or not len(own):
        return
    src = rng.choice(own, size=int(round(LOW_VALUE_EXTRA * len(own))))
    rows = _append_rows(c, src)
    p = prof["popularity"].to_numpy()[drgs]
    drg = rng.choice(drgs, size=len(rows), p=p / p.sum())
    c.drg[rows] = drg
    c.tmpl[rows] = w.t_start[drg] + (rng.random(len(rows)) * w.t_count[drg]).astype(np.int64)
    c.error[rows] = False
    c.upcode_code[rows] = -1
    c.split_src[rows] = -1
    c.comorbid_ids[rows] = -1
    c.los[rows] = 1
    c.admit[rows] = c.discharge[rows] - 1
    c.leaving[rows] = "1"
    c.receiver[rows] = None
    c.receiver_text[rows] = None
    c.p_death[rows] = prof["death_risk"].to_numpy()[drg] * 0.2
    c.low_value[rows] = True
    _rescale_cost(c, rows, prof["mean_cost"].to_numpy()[drg] * 0.25 * np.exp(rng.normal(0, 0.2, len(rows))))


def _keep_size(w: SimpleNamespace, c: SimpleNamespace, n: int, rng) -> None:
    """Back to ``n`` cases: for each added stay (a split's second stay, a low-value admission) one ordinary case
    of a hospital that plays no game, with the same residence county and in-county status, is left out, so
    the data hold the cases asked for and every county's planted in-county rate stays as it was."""
    added = np.arange(n, c.n)
    if not len(added):
        return
    gaming = (w.h["upcoding_from"].notna() | w.h["splits_admissions"] | w.h["low_value_admissions"]).to_numpy()
    ordinary = np.flatnonzero(~gaming[c.hosp[:n]] & (c.upcode_code[:n] < 0))
    key = c.res * 2 + c.in_county.astype(np.int64)
    drop = []
    for k, m in zip(*np.unique(key[added], return_counts=True)):
        pool = ordinary[key[ordinary] == k]
        drop.append(rng.choice(pool, size=min(m, len(pool)), replace=False))
    keep = np.ones(c.n, bool)
    keep[np.concatenate(drop)] = False
    new_index = np.cumsum(keep) - 1
    _take_rows(c, np.flatnonzero(keep))
    c.split_src = np.where(c.split_src >= 0, new_index[np.maximum(c.split_src, 0)], -1)


def _patient_ids(c: SimpleNamespace, rng) -> None:
    """A patient id per case (``c.patient``): mostly one stay each; a share are repeat admissions of a
    patient already treated in the county (at a random date: natural readmissions); the second stay of a
    split admission is the same patient as its first."""
    pid = rng.permutation(c.n).astype(np.int64) + 1
    repeat = np.flatnonzero((rng.random(c.n) < READMIT_SHARE) & (c.split_src < 0) & ~c.low_value)
    order = np.argsort(c.res, kind="stable")
    starts = np.searchsorted(c.res[order], c.res[repeat], "left")
    ends = np.searchsorted(c.res[order], c.res[repeat], "right")
    src = order[starts + (rng.random(len(repeat)) * (ends - starts)).astype(np.int64)]
    pid[repeat] = pid[src]
    second = np.flatnonzero(c.split_src >= 0)
    pid[second] = pid[c.split_src[second]]
    c.patient = pid


def _gaming(w: SimpleNamespace, c: SimpleNamespace, scheme, seed: int) -> None:
    """The planted coding games and patient ids, from their own random stream."""
    rng = np.random.default_rng([seed, 19])
    _upcode(w, c, scheme, rng)
    n = c.n
    _split_stays(w, c, rng)
    _low_value(w, c, rng)
    _keep_size(w, c, n, rng)
    c.year = c.discharge.astype("datetime64[Y]").astype(np.int64) + 1970
    c.hf = w.h.iloc[c.hosp]
    _patient_ids(c, rng)


def _tables(w: SimpleNamespace, c: SimpleNamespace) -> tuple[pa.Table, pa.Table]:
    """(discharges, truth per case), in discharge-date order."""
    templates, tmpl = w.templates, c.tmpl
    # dx/px lists from templates; error rows get an unknown principal diagnosis
    t_dx = pa.array(templates["dx"].tolist(), pa.list_(pa.string()))
    t_px = pa.array(templates["px"].tolist(), pa.list_(pa.string()))
    err_dx = pa.array([[UNKNOWN_PDX] + list(x[1:]) for x in templates["dx"]], pa.list_(pa.string()))
    dx = pa.concat_arrays([t_dx, err_dx]).take(pa.array(tmpl + np.where(c.error, len(templates), 0)))
    px = t_px.take(pa.array(tmpl))
    order = np.lexsort((c.hosp, c.discharge))
    # planted comorbidities, then an upcoder's added MCC/CC code
    up = c.upcode_code >= 0
    up_codes = np.unique(np.asarray(w.codes, dtype=object)[c.upcode_code[up]].astype(str)) if up.any() else np.zeros(0, str)
    up_ids = np.full(c.n, -1, np.int32)
    if up.any():
        up_ids[up] = len(w.comorbidity_vocab) + np.searchsorted(up_codes, np.asarray(w.codes, dtype=object)[c.upcode_code[up]].astype(str))
    vocab = pa.concat_arrays([w.comorbidity_vocab, pa.array(up_codes.tolist(), pa.string())])
    dx = _append_codes(dx.take(pa.array(order)), np.column_stack([c.comorbid_ids, up_ids])[order], vocab)
    case_id = pc.binary_join_element_wise("S", pc.utf8_lpad(pc.cast(pa.array(np.arange(1, c.n + 1)), pa.string()), 9, "0"), "")

    def tcol(name, typ):
        return pa.array(templates[name].to_numpy()[tmpl][order], typ, from_pandas=True)

    take = pa.array(order)
    position = np.empty(c.n, np.int64)
    position[order] = np.arange(c.n)
    src = c.split_src[order]
    split_of = case_id.take(pa.array(np.where(src >= 0, position[np.maximum(src, 0)], 0))).to_numpy(zero_copy_only=False)
    split_of = pa.array(np.where(src >= 0, split_of, None), pa.string())
    table = pa.table({
        "case_id": case_id,
        "hospital_id": pa.array(c.hf["hospital_id"].to_numpy()[order], pa.string()),
        "patient_id": pc.binary_join_element_wise("P", pc.utf8_lpad(pc.cast(pa.array(c.patient[order]), pa.string()), 10, "0"), ""),
        "year": pa.array(c.year[order].astype(np.int16)),
        "admit_date": pa.array(c.admit[order]),
        "discharge_date": pa.array(c.discharge[order]),
        "residence_county": pa.array(np.array(w.counties, dtype=object)[c.res][order], pa.string()),
        "sex": tcol("sex", pa.int8()),
        "age_years": tcol("age_years", pa.int16()),
        "age_days": tcol("age_days", pa.int16()),
        "weight_g": tcol("weight_g", pa.int32()),
        "dept": pa.array(np.where(templates["dept"].fillna("").to_numpy(object)[tmpl][order] != "",
                                  templates["dept"].fillna("").to_numpy(object)[tmpl][order],
                                  np.asarray(w.depts, dtype=object)[c.dept[order]]), pa.string()),
        "doctor_id": pa.array(np.asarray(w.doctor_ids, dtype=object)[c.doctor[order]], pa.string()),
        "los_days": pa.array(c.los[order].astype(np.int32)),
        "leaving_type": pa.array(c.leaving[order], pa.string()),
        "icu_hours": tcol("icu_hours", pa.int32()),
        "receiving_institution": pa.array(c.receiver_text[order], pa.string()),
        "dx": dx,
        "px": px.take(take),
        "total_cost": pa.array(c.total[order]),
        "drug_cost": pa.array(c.parts[order, 0]),
        "consumables_cost": pa.array(c.parts[order, 1]),
        "service_cost": pa.array(c.parts[order, 2]),
        "exam_cost": pa.array(c.parts[order, 3]),
        "other_cost": pa.array(c.other[order]),
    })
    truth_cases = pa.table({
        "case_id": case_id,
        "intended_drg": pa.array(w.drgs[c.drg][order], pa.string()),
        "coding_error": pa.array(c.error[order]),
        "in_county": pa.array(c.in_county[order]),
        "transfer_to": pa.array(c.receiver[order], pa.string()),
        "p_death": pa.array(c.p_death[order].astype(np.float64)),
        "comorbidities": pa.array((c.comorbid_ids[order] >= 0).sum(axis=1).astype(np.int8)),
        "upcoded": pa.array(up[order]),
        "split_of": split_of,
        "low_value": pa.array(c.low_value[order]),
    })
    return table, truth_cases


def _append_codes(lists: pa.ListArray, ids: np.ndarray, vocab: pa.Array) -> pa.ListArray:
    """Each row's list followed by the codes ``vocab[ids[row, k]]`` of its non-negative ids, in k order."""
    lists = pa.concat_arrays([lists]) if isinstance(lists, pa.ChunkedArray) else lists
    off = lists.offsets.to_numpy().astype(np.int64)
    base_len = np.diff(off)
    have = ids >= 0
    extra = have.sum(axis=1)
    new_off = np.zeros(len(off), np.int64)
    np.cumsum(base_len + extra, out=new_off[1:])
    n_base = int(off[-1] - off[0])
    src = np.empty(int(new_off[-1]), np.int64)
    row_of_base = np.repeat(np.arange(len(base_len)), base_len)
    src[new_off[:-1][row_of_base] + np.arange(n_base) - (off[:-1] - off[0])[row_of_base]] = np.arange(n_base)
    rows, _ = np.nonzero(have)  # row-major: a row's extras in k order
    rank = np.arange(len(rows)) - np.repeat(np.cumsum(extra) - extra, extra)
    src[new_off[:-1][rows] + base_len[rows] + rank] = n_base + np.arange(len(rows))
    values = pa.concat_arrays([lists.values.slice(off[0], n_base), vocab.take(pa.array(ids[have]))])
    return pa.ListArray.from_arrays(pa.array(new_off.astype(np.int32)), values.take(pa.array(src)))


def _planted_support(w: SimpleNamespace, c: SimpleNamespace) -> tuple[dict, dict]:
    """Per recipient the planted CMI gain, and per program its effect and start years."""
    prof, h, drg, n, n_drg = w.prof, w.h, c.drg, c.n, w.n_drg
    # in the generator's own weights (mean cost / overall mean) ...
    rw = prof["mean_cost"].to_numpy() / float(np.sum(prof["mean_cost"].to_numpy() * np.bincount(drg, minlength=n_drg)) / n)
    # ... and in weights as `drg support` estimates them: realized mean cost per DRG over the overall
    # mean in the baseline years (before the first start), frozen for every year
    base = c.year < int(w.plan["start_year"].min()) if len(w.plan) else np.ones(n, bool)
    if not base.any():
        base = np.ones(n, bool)
    realized = np.bincount(drg[base], weights=c.total[base], minlength=n_drg) / np.maximum(np.bincount(drg[base], minlength=n_drg), 1)
    rw_data = realized / c.total[base].mean()
    surg = prof["surgical"].to_numpy()
    support = {}
    for hid in sorted(w.recipients):
        hi = int(np.flatnonzero(h["hospital_id"].to_numpy() == hid)[0])
        before, after = _case_mix(h, prof, hi, 0), _case_mix(h, prof, hi, 1)
        support[hid] = {"program": "tertiary_pairing", "start_year": int(h.at[hi, "support_start"]),
                        "expected_cmi_before": float(before @ rw), "expected_cmi_after": float(after @ rw),
                        "planted_cmi_gain": float(after @ rw - before @ rw),
                        "planted_cmi_gain_data_weights": float(after @ rw_data - before @ rw_data),
                        "planted_surgical_share_gain": float(after @ surg - before @ surg)}
    programs = {}
    for prog, grp in w.plan.groupby("program", sort=True):
        programs[str(prog)] = {"planted_effect": bool(grp["planted_effect"].iloc[0]),
                               "recipients": int(grp["recipient_id"].nunique()),
                               "start_years": {str(k): int(v) for k, v in grp.groupby("start_year")["recipient_id"].nunique().items()}}
    return support, programs


def synthesize(scheme, out_dir: str, *, region: str = "dezhou", years=(2018, 2019, 2020, 2021), cases: int = 200_000,
               seed: int = 1, quiet: bool = False) -> dict:
    """Write discharges.parquet, truth.parquet, truth.json, support_pairs.csv and drg_profile.parquet to
    ``out_dir``; return the truth dict."""
    rng = np.random.default_rng(seed)
    years = list(years)
    os.makedirs(out_dir, exist_ok=True)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    w = _world(scheme, region, years, rng, say)
    w.h = plant_gaming(w.h, years, np.random.default_rng([seed, 19, 1]))
    c = _place_cases(w, int(cases), rng)
    _doctors(w, c, seed)
    _outcomes(w, c, rng)
    _gaming(w, c, scheme, seed)
    table, truth_cases = _tables(w, c)
    write_table_atomic(table, os.path.join(out_dir, "discharges.parquet"))
    write_table_atomic(truth_cases, os.path.join(out_dir, "truth.parquet"))
    support, programs = _planted_support(w, c)
    write_table_atomic(pa.Table.from_pandas(w.plan.drop(columns=["planted_effect"]), preserve_index=False),
                       os.path.join(out_dir, "support_pairs.csv"))
    truth = {
        "seed": seed, "cases": c.n, "years": years, "scheme": scheme.id, "region": str(region),
        "error_rate": ERROR_RATE, "unknown_pdx": UNKNOWN_PDX, "support_start": SUPPORT_START,
        "support_tilt": SUPPORT_TILT, "support_surgical_multiplier": SUPPORT_SURGICAL,
        "quality_overdispersion_sd": QUALITY_SD,
        "casemix_only": sorted(w.h.loc[w.h["casemix_only"], "hospital_id"].astype(str)),
        "patient_risk": {"age_log_or_per_year": AGE_LOG_OR, "casemix_prevalence_multiplier": CASEMIX_PREVALENCE,
                         "comorbidities": {cat: {"prevalence_at_60": p, "death_log_or": b, "los_cost_log_effect": e,
                                                 "codes": list(map(str, codes))}
                                           for cat, codes, p, b, e in w.comorbidities}},
        "gaming": {"upcode_share": UPCODE_SHARE, "split_share": SPLIT_SHARE, "low_value_extra": LOW_VALUE_EXTRA,
                   "readmit_share": READMIT_SHARE, "upcoded_cases": int((c.upcode_code >= 0).sum()),
                   "split_pairs": int((c.split_src >= 0).sum()), "low_value_cases": int(c.low_value.sum())},
        "programs": programs,
        "seasonality": {"amplitude": SEASON_AMPLITUDE, "peak_day": SEASON_PEAK_DAY},
        "doctors": {w.doctor_ids[i]: {"hospital_id": w.doctor_hosp[i], "dept": w.doctor_dept[i],
                                      "cost_factor": float(w.doctor_cost[i]), "death_or": float(w.doctor_or[i])}
                    for i in np.unique(c.doctor).tolist()},
        "counties": {name: {"planted_in_county_rate": float(w.in_county_rate[i]), "population_share": float(w.population[i])}
                     for i, name in enumerate(w.counties)},
        "hospitals": [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in w.h[["hospital_id", "name", "level", "kind", "county", "cost_factor", "los_factor", "death_or",
                            "quality_outlier", "casemix_only", "efficiency_outlier", "supported", "upcoding_from",
                            "splits_admissions", "low_value_admissions"]].to_dict("records")
        ],
        "support": support,
        "drgs": int(w.n_drg),
    }
    write_json_atomic(os.path.join(out_dir, "truth.json"), truth)
    prof_out = w.prof.reset_index().rename(columns={"index": "drg"})
    write_table_atomic(pa.Table.from_pandas(prof_out, preserve_index=False), os.path.join(out_dir, "drg_profile.parquet"))
    say(f"  wrote {c.n:,} discharges to {out_dir}/discharges.parquet")
    return truth
