"""DIP: the keys of a case -- its principal diagnosis at the 亚目 level, its set of procedures, the kind of its
treatment, its comorbidity and age tiers -- and the specification's vocabulary."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..risk.comorbidity import charlson_index, code_bits

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
    from ..coded import numbers

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


def tier_tables(cat: dict) -> dict:
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
