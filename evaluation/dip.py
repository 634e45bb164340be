"""DIP (按病种分值付费, Big Data Diagnosis-Intervention Packet): the catalogue of disease-intervention groups
built from a region's own cases, the matching of cases to it, and each case's points.

Follows the national technical specification (国家医疗保障按病种分值付费(DIP)技术规范 and 病种目录库 1.0,
医保办发〔2020〕50号):

* a case's combination is its principal diagnosis at the 亚目 level (the code up to the first character after
  the dot: I74.801 -> I74.8) and the set of its procedure codes (order and repeats ignored);
* core groups (核心病种) are the combinations with at least ``min_cases`` cases (15 in the specification); the
  other cases form comprehensive groups (综合病种) by diagnosis category (类目, 3 characters) and kind of
  treatment: conservative (保守治疗, no procedure), diagnostic (诊断性操作), therapeutic (治疗性操作), surgical
  (相关手术), a case taking the highest kind among its procedures;
* a group's score (病种分值) is its mean cost over the mean cost of all cases (or of a named reference group)
  times 1,000;
* the auxiliary catalogue (辅助目录) tiers each core group's cases by a Charlson comorbidity index of the
  secondary diagnoses (CCI 0 / 1-2 / 3+, :mod:`evaluation.risk.comorbidity`) and by age (under 18 / 18-64 / 65+); a
  tier's score adjustment is its mean cost over the group's where the two differ significantly (Welch's t-test,
  p < 0.05, at least ``min_cases`` cases in the tier), else 1;
* matching (病例入组): the core group of the same diagnosis and procedure set; else the core group of that
  diagnosis whose procedures the case has, most procedures first, ties to the group whose mean cost is closest to
  the case's cost, then the higher score, then the smaller group id; else the comprehensive group of its
  category and kind of treatment;
* points (病例分值): the score times the severity adjustment and the hospital's level coefficient; a case above
  ``high`` (2) times its group's mean cost scores ``score x (cost / mean - high + 1)``, one below ``low`` (0.5)
  times scores ``score x cost / mean`` (费用超高 / 费用超低病例).
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from .common import EvaluationError
from .risk.comorbidity import charlson_index, code_bits

SPEC = "国家医疗保障按病种分值付费(DIP)技术规范(医保办发〔2020〕50号)"
TREATMENTS = ("conservative", "diagnostic", "therapeutic", "surgical")  # in rank order: a case takes its highest
TREATMENT_ZH = {"conservative": "保守治疗", "diagnostic": "诊断性操作", "therapeutic": "治疗性操作", "surgical": "相关手术"}
KIND_ZH = {"core": "核心病种", "comprehensive": "综合病种"}
CCI_TIERS = ("cci0", "cci1-2", "cci3+")
AGE_TIERS = ("age<18", "age18-64", "age65+")
GROUP_COLUMNS = ("group_id", "kind", "dx", "procedures", "category", "treatment", "cases", "mean_cost", "cv", "score")
SEVERITY_COLUMNS = ("group_id", "dimension", "tier", "cases", "mean_cost", "p_value", "adjustment")
# ICD-9-CM-3 chapters of diagnostic procedures (87-88 radiology, 89 interview and examination, 90-91 microscopy)
DIAGNOSTIC_CHAPTERS = ("87", "88", "89", "90", "91")
DIAGNOSTIC_WORDS = ("诊断性", "活检", "活组织检查", "造影", "镜检查", "检查")
_NONE: frozenset = frozenset()
_SUBCATEGORY = r"^\s*(?P<sub>[A-Za-z][0-9A-Za-z]{2}(?:\.[0-9A-Za-z])?)"


# -- the keys of a case -------------------------------------------------------------------------------------------
def subcategory(codes: pa.Array) -> pa.Array:
    """亚目 of diagnosis codes: the code up to the first character after the dot (I74.801 -> I74.8, I10.x00 ->
    I10.x; a code without a dot: its 3 characters); null for an empty or malformed code."""
    got = pc.extract_regex(pc.cast(codes, pa.string()), _SUBCATEGORY)
    return pc.struct_field(got, [0])


def procedure_kind(code: str, surgical: frozenset, name: str = "") -> str:
    """The kind of treatment of one procedure: surgical when the scheme lists it as an operating-room procedure,
    diagnostic by its ICD-9-CM-3 chapter (87-91) or its name (诊断性, 活检, 造影, ...), else therapeutic."""
    if code in surgical:
        return "surgical"
    if code[:2] in DIAGNOSTIC_CHAPTERS or any(w in (name or "") for w in DIAGNOSTIC_WORDS):
        return "diagnostic"
    return "therapeutic"


def procedure_kinds_table(scheme_dir: str | None, codes) -> pd.DataFrame:
    """(code, kind) for the procedures of a scheme's px_codes.csv (names help) and any other ``codes``."""
    import csv

    surgical, names = set(), {}
    if scheme_dir:
        for fname, into in (("or_procedures.csv", surgical), ("px_codes.csv", None)):
            p = os.path.join(scheme_dir, fname)
            if os.path.exists(p):
                with open(p, encoding="utf-8-sig", newline="") as f:
                    for r in csv.DictReader(f):
                        if into is not None:
                            into.add(r["code"])
                        names[r["code"]] = r.get("name", "")
    allc = sorted(set(names) | {c for c in codes if c})
    surgical = frozenset(surgical)
    return pd.DataFrame({"code": allc, "kind": [procedure_kind(c, surgical, names.get(c, "")) for c in allc]})


def case_keys(table: pa.Table, kinds: dict, with_procedures: bool = True) -> dict:
    """Per case: ``dx`` (亚目), ``category``, ``procedures`` (sorted distinct codes joined by '+'; only
    ``with_procedures``), ``treatment`` (index into :data:`TREATMENTS`), ``cost`` (NaN unless a positive finite
    number), ``age``, ``cci``; and the procedures as ``px_dict`` (distinct codes), ``px_idx`` (per flat code, its
    index there; -1 an empty cell) and ``px_off`` (offsets per case)."""
    n = table.num_rows
    dx = _list_column(table, "dx", n)
    sub = subcategory(_principal(dx, n))
    px = pc.fill_null(_list_column(table, "px", n), pa.scalar([], pa.list_(pa.string())))
    lengths = pc.list_value_length(px).to_numpy(zero_copy_only=False).astype(np.int64)
    off = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=off[1:])
    enc = pc.dictionary_encode(pc.fill_null(pc.list_flatten(px), ""))
    codes = enc.dictionary.to_pylist()
    idx = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    blank = np.array([not c.strip() for c in codes] + [True], bool)
    idx = np.where(blank[idx], -1, idx) if len(idx) else idx
    rank = {k: i for i, k in enumerate(TREATMENTS)}
    kind_d = np.array([rank[kinds.get(c) or procedure_kind(c, _NONE)] for c in codes] + [0], np.int64)
    row = np.repeat(np.arange(n), lengths)
    treatment = np.zeros(n, np.int64)
    has = idx >= 0
    if has.any():
        np.maximum.at(treatment, row[has], kind_d[idx[has]])
    out = {"dx": sub, "category": pc.utf8_slice_codeunits(sub, 0, 3), "treatment": treatment, "px_dict": codes,
           "px_idx": idx, "px_off": off}
    if with_procedures:
        out["procedures"] = _procedure_sets(codes, idx, row, n)
    cost = _numbers(table, "total_cost", n)
    out["cost"] = np.where(np.isfinite(cost) & (cost > 0), cost, np.nan)
    out["age"] = _numbers(table, "age_years", n)
    out["cci"] = _cci(dx, n)
    return out


def _principal(dx: pa.Array, n: int) -> pa.Array:
    """The first code of each list (null for a null or empty list)."""
    lengths = pc.fill_null(pc.list_value_length(dx), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    first = np.zeros(n, np.int64)
    np.cumsum(lengths[:-1], out=first[1:]) if n > 1 else None
    flat = pc.list_flatten(dx)
    at = pa.array(np.where(lengths > 0, first, 0), pa.int64(), mask=lengths == 0)
    return flat.take(at) if len(flat) else pa.nulls(n, pa.string())


def _list_column(table: pa.Table, name: str, n: int) -> pa.Array:
    col = table.column(name) if name in table.column_names else pa.nulls(n, pa.list_(pa.string()))
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return col.cast(pa.list_(pa.string()))


def _procedure_sets(codes: list, idx: np.ndarray, row: np.ndarray, n: int) -> pa.Array:
    """Per case its distinct procedure codes, sorted, joined by '+' ('' without any)."""
    order_of = np.argsort(np.array(codes, dtype=object), kind="stable") if codes else np.zeros(0, np.int64)
    rank = np.empty(len(codes), np.int64)
    rank[order_of] = np.arange(len(codes))
    keep = idx >= 0
    r, k = row[keep], rank[idx[keep]]
    o = np.lexsort((k, r))
    r, k = r[o], k[o]
    first = np.ones(len(r), bool)
    first[1:] = (r[1:] != r[:-1]) | (k[1:] != k[:-1])
    r, k = r[first], k[first]
    off = np.zeros(n + 1, np.int32)
    np.cumsum(np.bincount(r, minlength=n), out=off[1:])
    values = pa.array(np.array(codes, dtype=object)[order_of][k] if len(k) else np.array([], dtype=object), pa.string())
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(off), values), "+")


def _numbers(table: pa.Table, name: str, n: int) -> np.ndarray:
    from .coded import numbers

    return numbers(table.column(name)) if name in table.column_names else np.full(n, np.nan)


def _cci(dx, n: int) -> np.ndarray:
    """Charlson comorbidity index of the secondary diagnoses (:mod:`evaluation.risk.comorbidity`)."""
    if n == 0:
        return np.zeros(0, np.int64)
    lengths = pc.fill_null(pc.list_value_length(dx), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(dx)
    enc = pc.dictionary_encode(pc.fill_null(flat, ""))
    bits_d = code_bits(enc.dictionary.to_pylist())
    idx = enc.indices.to_numpy(zero_copy_only=False)
    off = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=off[1:])
    secondary = np.ones(len(idx), bool)
    secondary[off[:-1][lengths > 0]] = False
    row = np.repeat(np.arange(n), lengths)
    bits = np.zeros(n, np.uint64)
    np.bitwise_or.at(bits, row[secondary], bits_d[idx[secondary]])
    return charlson_index(bits)


def cci_tier(cci: np.ndarray) -> np.ndarray:
    return np.where(cci <= 0, 0, np.where(cci <= 2, 1, 2))


def age_tier(age: np.ndarray) -> np.ndarray:
    """-1 for an unknown age."""
    return np.where(~np.isfinite(age), -1, np.where(age < 18, 0, np.where(age < 65, 1, 2)))


# -- building the catalogue ----------------------------------------------------------------------------------------
class CatalogueBuilder:
    """Sums of the base cases by combination, batch by batch (memory follows the distinct combinations)."""

    def __init__(self, kinds: dict):
        self.kinds = kinds
        self.parts: list = []
        self.cases = 0

    def add(self, table: pa.Table) -> None:
        k = case_keys(table, self.kinds)
        ok = np.isfinite(k["cost"])
        df = pd.DataFrame({"dx": k["dx"].to_numpy(zero_copy_only=False), "procedures": k["procedures"].to_numpy(zero_copy_only=False),
                           "treatment": k["treatment"], "cost": k["cost"], "cci_t": cci_tier(k["cci"]), "age_t": age_tier(k["age"])})
        df = df[ok & df["dx"].notna().to_numpy()]
        df["cost2"] = df["cost"] ** 2
        df["n"] = 1
        self.parts.append(df.groupby(["dx", "procedures", "treatment", "cci_t", "age_t"], sort=False)[["n", "cost", "cost2"]].sum())
        self.cases += table.num_rows
        if len(self.parts) >= 16:
            self.parts = [pd.concat(self.parts).groupby(level=[0, 1, 2, 3, 4]).sum()]

    def sums(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["dx", "procedures", "treatment", "cci_t", "age_t", "n", "cost", "cost2"])
        return pd.concat(self.parts).groupby(level=[0, 1, 2, 3, 4]).sum().reset_index()


def _stats(g: pd.DataFrame) -> pd.DataFrame:
    """cases, mean_cost and cv (population standard deviation over the mean) of summed rows."""
    n = g["n"].astype(float)
    mean = g["cost"] / n
    var = np.maximum(g["cost2"] / n - mean ** 2, 0.0)
    return pd.DataFrame({"cases": g["n"].astype(np.int64), "mean_cost": mean, "cv": np.sqrt(var) / mean,
                         "var": var}, index=g.index)


def build_catalogue(sums: pd.DataFrame, *, min_cases: int = 15, reference: str | None = None) -> dict:
    """The catalogue tables from :meth:`CatalogueBuilder.sums`: ``groups`` (:data:`GROUP_COLUMNS`), ``severity``
    (:data:`SEVERITY_COLUMNS`) and ``meta``."""
    if sums.empty or sums["n"].sum() == 0:
        raise EvaluationError("no base case with a principal diagnosis and a positive total cost: the catalogue "
                              "needs the base year's grouped cases with dx and total_cost")
    combo = sums.groupby(["dx", "procedures"], sort=True)[["n", "cost", "cost2"]].sum()
    treatment = sums.groupby(["dx", "procedures"], sort=True)["treatment"].max()
    core_keys = combo.index[combo["n"] >= min_cases]
    core = _stats(combo.loc[core_keys]).reset_index()
    core["kind"] = "core"
    core["category"] = core["dx"].str[:3]
    core["treatment"] = [TREATMENTS[t] for t in treatment.loc[core_keys].to_numpy()]
    is_core = pd.Series(combo["n"] >= min_cases, index=combo.index)
    rest = sums[~is_core.reindex(pd.MultiIndex.from_arrays([sums["dx"], sums["procedures"]])).to_numpy()]
    rest = rest.assign(category=rest["dx"].str[:3])
    comp = _stats(rest.groupby(["category", "treatment"], sort=True)[["n", "cost", "cost2"]].sum()).reset_index()
    comp["treatment"] = [TREATMENTS[t] for t in comp["treatment"]]
    comp["kind"] = "comprehensive"
    comp["dx"] = ""
    comp["procedures"] = ""
    groups = pd.concat([core, comp], ignore_index=True)
    groups["group_id"] = [f"DIP{i + 1:05d}" for i in range(len(groups))]
    all_mean = float(sums["cost"].sum() / sums["n"].sum())
    denom = all_mean
    if reference is not None:
        hit = groups[groups["group_id"] == reference]
        if hit.empty:
            raise EvaluationError(f"--reference {reference}: no such group; name a group_id of groups.csv")
        denom = float(hit["mean_cost"].iloc[0])
    groups["score"] = groups["mean_cost"] / denom * 1000.0
    severity = _severity(sums, core, groups, min_cases)
    cases = int(sums["n"].sum())
    meta = {"specification": SPEC, "min_cases": min_cases, "cases": cases, "mean_cost": all_mean,
            "reference": reference, "score_denominator": denom, "core_groups": int(len(core)),
            "comprehensive_groups": int(len(comp)), "core_share": float(core["cases"].sum() / cases)}
    return {"groups": groups[list(GROUP_COLUMNS)].reset_index(drop=True), "severity": severity, "meta": meta}


def _severity(sums: pd.DataFrame, core: pd.DataFrame, groups: pd.DataFrame, min_cases: int) -> pd.DataFrame:
    """Each core group's CCI and age tiers with their adjustments (Welch's t-test of the tier against the rest of
    the group, p < 0.05, and at least ``min_cases`` cases in the tier; else 1)."""
    from .distributions import t_sf  # scipy.stats' bits without its 0.8 s import

    ids = dict(zip(zip(groups["dx"], groups["procedures"]), groups["group_id"]))
    mine = sums.merge(core[["dx", "procedures"]], on=["dx", "procedures"])
    rows = []
    for dim, col, names in (("cci", "cci_t", CCI_TIERS), ("age", "age_t", AGE_TIERS)):
        by = mine[mine[col] >= 0].groupby(["dx", "procedures", col], sort=True)[["n", "cost", "cost2"]].sum()
        total = mine.groupby(["dx", "procedures"], sort=True)[["n", "cost", "cost2"]].sum()
        for (dx, procs, tier), r in by.iterrows():
            tot = total.loc[(dx, procs)]
            n1, s1, q1 = float(r["n"]), float(r["cost"]), float(r["cost2"])
            n2, s2, q2 = float(tot["n"]) - n1, float(tot["cost"]) - s1, float(tot["cost2"]) - q1
            m1, mg = s1 / n1, float(tot["cost"]) / float(tot["n"])
            p = 1.0
            if n1 >= 2 and n2 >= 2:
                v1 = max(q1 - n1 * m1 ** 2, 0.0) / (n1 - 1)
                m2 = s2 / n2
                v2 = max(q2 - n2 * m2 ** 2, 0.0) / (n2 - 1)
                se = math.sqrt(v1 / n1 + v2 / n2)
                if se > 0:
                    df = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
                    p = float(2 * t_sf(abs(m1 - m2) / se, df))
            adj = m1 / mg if (p < 0.05 and n1 >= min_cases) else 1.0
            rows.append((ids[(dx, procs)], dim, names[int(tier)], int(n1), m1, p, adj))
    return pd.DataFrame(rows, columns=list(SEVERITY_COLUMNS))


def write_catalogue(cat: dict, kinds: pd.DataFrame, folder: str) -> None:
    """groups.csv, severity.csv, procedure_kinds.csv (UTF-8, full float precision) and catalogue.json."""
    cat["groups"].to_csv(os.path.join(folder, "groups.csv"), index=False, float_format="%.17g")
    cat["severity"].to_csv(os.path.join(folder, "severity.csv"), index=False, float_format="%.17g")
    kinds.to_csv(os.path.join(folder, "procedure_kinds.csv"), index=False)
    with open(os.path.join(folder, "catalogue.json"), "w", encoding="utf-8") as f:
        json.dump(cat["meta"], f, ensure_ascii=False, indent=2)


def load_catalogue(folder: str) -> dict:
    """A catalogue folder (ours, or a region's official one in the same layout: groups.csv with
    :data:`GROUP_COLUMNS`; severity.csv and procedure_kinds.csv optional)."""
    path = os.path.join(folder, "groups.csv")
    if not os.path.isfile(path):
        raise EvaluationError(f"{folder}: no groups.csv; pass the folder drg dip build wrote (or an official catalogue "
                              "in its layout, docs/dip.md)")
    groups = _read_csv(path, dtype={"group_id": str, "kind": str, "dx": str, "procedures": str, "category": str,
                                    "treatment": str})
    missing = [c for c in GROUP_COLUMNS if c not in groups.columns]
    if missing:
        raise EvaluationError(f"{path}: column(s) {', '.join(missing)} missing; groups.csv needs {','.join(GROUP_COLUMNS)}")
    bad = sorted(set(groups["kind"]) - set(KIND_ZH)) + sorted(set(groups["treatment"]) - set(TREATMENTS))
    if bad:
        raise EvaluationError(f"{path}: value {bad[0]!r} in kind/treatment; kind is core or comprehensive, treatment one "
                              f"of {', '.join(TREATMENTS)}")
    if groups["group_id"].duplicated().any():
        raise EvaluationError(f"{path}: group_id {groups['group_id'][groups['group_id'].duplicated()].iloc[0]!r} twice; "
                              "each group has its own id")
    for c in ("mean_cost", "score"):
        groups[c] = pd.to_numeric(groups[c], errors="coerce")
        if groups[c].isna().any() or (groups[c] <= 0).any():
            raise EvaluationError(f"{path}: column {c} needs a positive number on every row")
    sev_path = os.path.join(folder, "severity.csv")
    severity = (_read_csv(sev_path, dtype={"group_id": str, "dimension": str, "tier": str})
                if os.path.isfile(sev_path) else pd.DataFrame(columns=list(SEVERITY_COLUMNS)))
    kinds_path = os.path.join(folder, "procedure_kinds.csv")
    kinds = _read_csv(kinds_path, dtype=str) if os.path.isfile(kinds_path) else pd.DataFrame(columns=["code", "kind"])
    odd = sorted(set(kinds["kind"]) - set(TREATMENTS[1:]))
    if odd:
        raise EvaluationError(f"{kinds_path}: kind {odd[0]!r}; a procedure is diagnostic, therapeutic or surgical")
    return {"groups": groups, "severity": severity, "kinds": dict(zip(kinds["code"], kinds["kind"]))}


def _read_csv(path: str, dtype) -> pd.DataFrame:
    """A catalogue table as a region saves it: UTF-8 (with or without BOM) or GBK / GB18030."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=dtype, keep_default_na=False, encoding=enc)
        except UnicodeDecodeError:
            continue
    raise EvaluationError(f"{path}: neither UTF-8 nor GBK text; save the table as UTF-8 CSV")


# -- matching ------------------------------------------------------------------------------------------------------
MATCH_NAMES = ("exact", "partial", "comprehensive")
EXACT = 1 << 40


class Matcher:
    """A catalogue compiled for :func:`match_kernel`: diagnosis and procedure dictionaries, the core groups of each
    diagnosis (CSR) with their sorted procedure ids, and the comprehensive group of each (category, treatment)."""

    def __init__(self, cat: dict):
        g = cat["groups"].reset_index(drop=True)
        self.groups = g
        self.kinds = cat["kinds"]
        kind, dx, procs = g["kind"].tolist(), g["dx"].tolist(), g["procedures"].tolist()
        core = [i for i, k in enumerate(kind) if k == "core"]
        self.dx_values = sorted({dx[i] for i in core})
        dx_index = {d: i for i, d in enumerate(self.dx_values)}
        px_all = sorted({p for i in core for p in procs[i].split("+") if p})
        self.px_values = px_all
        px_index = {p: i for i, p in enumerate(px_all)}
        order = sorted(core, key=lambda i: (dx_index[dx[i]], i))
        self.dx_ptr = np.zeros(len(self.dx_values) + 1, np.int64)
        np.cumsum(np.bincount([dx_index[dx[i]] for i in order], minlength=len(self.dx_values)), out=self.dx_ptr[1:])
        self.core_group = np.array(order, np.int64)
        sets = [sorted(px_index[p] for p in procs[i].split("+") if p) for i in order]
        self.set_ptr = np.zeros(len(sets) + 1, np.int64)
        np.cumsum([len(x) for x in sets], out=self.set_ptr[1:])
        self.set_ids = np.array([p for x in sets for p in x], np.int64)
        self.mean = g["mean_cost"].to_numpy(float)
        self.score = g["score"].to_numpy(float)
        category, treatment = g["category"].tolist(), g["treatment"].tolist()
        comp = [i for i, k in enumerate(kind) if k == "comprehensive"]
        self.cat_values = sorted({category[i] for i in comp})
        cat_index = {c: i for i, c in enumerate(self.cat_values)}
        self.comp = np.full((max(len(self.cat_values), 1), len(TREATMENTS)), -1, np.int64)
        rank = {k: i for i, k in enumerate(TREATMENTS)}
        for i in comp:
            self.comp[cat_index[category[i]], rank[treatment[i]]] = i
        self.dx_set = pa.array(self.dx_values, pa.string())
        self.px_set = pa.array(self.px_values, pa.string())
        self.cat_set = pa.array(self.cat_values, pa.string())
        self.tiers = _tier_tables(cat)

    def match(self, table: pa.Table) -> dict:
        """Per case: group (row of ``groups``, -1 none), match (0 exact, 1 partial, 2 comprehensive, -1 none), the
        case keys (:func:`case_keys`)."""
        k = case_keys(table, self.kinds, with_procedures=False)
        dx_id = pc.fill_null(pc.index_in(k["dx"], value_set=self.dx_set), -1).to_numpy(zero_copy_only=False).astype(np.int64)
        cat_id = pc.fill_null(pc.index_in(k["category"], value_set=self.cat_set), -1).to_numpy(zero_copy_only=False).astype(np.int64)
        lut = pc.fill_null(pc.index_in(pa.array(k["px_dict"], pa.string()), value_set=self.px_set), -1)
        lut = np.append(lut.to_numpy(zero_copy_only=False).astype(np.int64), -2)
        px_id = lut[np.where(k["px_idx"] >= 0, k["px_idx"], len(lut) - 1)]  # -1 unknown to the core groups, -2 empty
        has_dx = pc.is_valid(k["dx"]).to_numpy(zero_copy_only=False)
        group, how = match_kernel(dx_id, cat_id, k["treatment"], px_id, k["px_off"], k["cost"], has_dx, self.dx_ptr,
                                  self.core_group, self.set_ptr, self.set_ids, self.mean, self.score, self.comp)
        return {"group": group, "match": how, **k}


@njit(cache=True)
def match_kernel(dx_id, cat_id, treatment, px_id, px_off, cost, has_dx, dx_ptr, core_group, set_ptr, set_ids, mean,
                 score, comp):
    """The specification's matching for every case (see the module docstring); ``px_id``: catalogue procedure ids,
    -1 a procedure no core group has, -2 an empty cell."""
    n = dx_id.shape[0]
    group = np.full(n, -1, np.int64)
    how = np.full(n, -1, np.int64)
    for i in range(n):
        if not has_dx[i]:
            continue
        a, b = px_off[i], px_off[i + 1]
        mine = np.empty(b - a, np.int64)
        m = 0
        unknown = False
        for k in range(a, b):
            v = px_id[k]
            if v == -1:
                unknown = True
            elif v >= 0:
                mine[m] = v
                m += 1
        mine = np.unique(mine[:m])
        m = mine.shape[0]
        best, best_size, best_gap, best_score = -1, -1, np.inf, -np.inf
        d = dx_id[i]
        if d >= 0:
            for j in range(dx_ptr[d], dx_ptr[d + 1]):
                s0, s1 = set_ptr[j], set_ptr[j + 1]
                size = s1 - s0
                if size > m:
                    continue
                q = 0  # is the group's set within the case's (both sorted)?
                inside = True
                for t in range(s0, s1):
                    while q < m and mine[q] < set_ids[t]:
                        q += 1
                    if q == m or mine[q] != set_ids[t]:
                        inside = False
                        break
                    q += 1
                if not inside:
                    continue
                g = core_group[j]
                if size == m and not unknown:
                    best = g
                    best_size = EXACT  # nothing beats it
                    break
                gap = abs(mean[g] - cost[i]) if cost[i] == cost[i] else np.inf
                better = size > best_size or (size == best_size and (gap < best_gap or (gap == best_gap and (
                    score[g] > best_score or (score[g] == best_score and g < best)))))
                if better:
                    best, best_size, best_gap, best_score = g, size, gap, score[g]
        if best >= 0:
            group[i] = best
            how[i] = 0 if best_size == EXACT else 1
        elif cat_id[i] >= 0 and comp[cat_id[i], treatment[i]] >= 0:
            group[i] = comp[cat_id[i], treatment[i]]
            how[i] = 2
    return group, how


# -- points --------------------------------------------------------------------------------------------------------
DEVIATION = ("normal", "high", "low", "no_group")
DEVIATION_ZH = {"normal": "正常病例", "high": "费用超高病例", "low": "费用超低病例", "no_group": "未入组"}


def _tier_tables(cat: dict) -> dict:
    """{dimension: (groups + 1, tiers) adjustments} of the severity table (1 where none is listed)."""
    sev, g = cat.get("severity"), cat["groups"]
    row_of = {gid: i for i, gid in enumerate(g["group_id"])}
    out = {}
    for dim, tiers in (("cci", CCI_TIERS), ("age", AGE_TIERS)):
        table = np.ones((len(g) + 1, len(tiers)), float)
        if sev is not None and len(sev):
            sub = sev[sev["dimension"] == dim]
            for gid, tier, adj in zip(sub["group_id"], sub["tier"], pd.to_numeric(sub["adjustment"], errors="coerce")):
                if gid in row_of and tier in tiers and np.isfinite(adj) and adj > 0:
                    table[row_of[gid], tiers.index(tier)] = adj
        out[dim] = table
    return out


def severity_adjustment(cat, group: np.ndarray, cci: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Each case's severity adjustment: the product of its CCI tier's and age tier's (1 where none is listed).
    ``cat``: a catalogue dict, or a :class:`Matcher` (its tables built once)."""
    tables = cat.tiers if isinstance(cat, Matcher) else _tier_tables(cat)
    out = np.ones(len(group), float)
    for dim, values in (("cci", cci_tier(cci)), ("age", age_tier(age))):
        ok = (group >= 0) & (values >= 0)
        out[ok] *= tables[dim][group[ok], values[ok]]
    return out


def case_points(score: np.ndarray, mean: np.ndarray, cost: np.ndarray, adjustment: np.ndarray, coefficient: np.ndarray,
                high: float = 2.0, low: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(points, deviation class index into :data:`DEVIATION`) per case; ``score``/``mean`` NaN for a case in no
    group (0 points). A case without a usable cost is a normal case."""
    ratio = cost / mean
    cls = np.where(~np.isfinite(score), 3, np.where(ratio > high, 1, np.where(ratio < low, 2, 0)))
    base = np.where(cls == 1, score * (ratio - high + 1.0), np.where(cls == 2, score * ratio, score))
    points = np.where(cls == 3, 0.0, base * adjustment * coefficient)
    return points, cls.astype(np.int8)
