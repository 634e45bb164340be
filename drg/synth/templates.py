"""drg synth's case templates: records built to satisfy each ADRG step of the scheme, grouped by the engine (each
template's DRG is the one the engine gives it), and the DRG profile (cost, stay, death risk per DRG)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from grouper.atoms import atom_of
from grouper.codes import STATUS_OK


# -- templates ---------------------------------------------------------------------------------

class TemplateLists:
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


# CHS-DRG 2.0 / 3.0 fields (FORMAT.md 2): drawn only when a rule asks for them, else unknown; their usual range
NEW_FIELDS = ("admission_weight_g", "new_technique", "intensive_care", "day_surgery", "crrt_hours")
NEW_RANGE = {"admission_weight_g": (400, 5000), "new_technique": (0, 1), "intensive_care": (0, 1), "day_surgery": (0, 1),
             "crrt_hours": (0, 400)}


class _Draft:
    def __init__(self):
        self.dx0 = None
        self.sdx: list = []
        self.px0 = None
        self.spx: list = []
        self.bounds = {f: [-10**9, 10**9] for f in ("sex", "age_years", "age_days", "weight_g", "los", "icu_hours") + NEW_FIELDS}
        self.need = set()
        self.strs: dict = {}
        self.min_dx = 1
        self.min_px = 0


def _satisfy(node, d: _Draft, L: TemplateLists, rng) -> None:
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


def _finish(d: _Draft, L: TemplateLists, rng, level: int) -> dict:
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
    new = {f: _pick(b[f], *NEW_RANGE[f], rng) if f in d.need else None for f in NEW_FIELDS}
    los_lo = b["los"][0] if b["los"][0] > -10**9 else 1
    los_hi = b["los"][1] if b["los"][1] < 10**9 else 10**6
    return {
        "sex": sex, "age_years": age, "age_days": age_days, "weight_g": weight,
        "dept": d.strs.get("dept", ""), "leaving_type": d.strs.get("leaving_type"), "icu_hours": icu,
        "los_lo": max(int(los_lo), 1), "los_hi": int(max(los_hi, 1)), "complication": level,
        "dx": [pdx] + sdx, "px": px, **new,
    }


def build_templates(scheme, rng, per_step: int = 24) -> pd.DataFrame:
    """Records aimed at every ADRG step, grouped by the engine; one row per usable template."""
    L = TemplateLists(scheme)
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
    used = [f for f in NEW_FIELDS if df[f].notna().any()]
    table = pa.Table.from_pandas(df[["sex", "age_years", "age_days", "weight_g", "dept", "leaving_type", "icu_hours", "dx", "px"]
                                    + used].astype({f: "Int64" for f in used}), preserve_index=False)
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
