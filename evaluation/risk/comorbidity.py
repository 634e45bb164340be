"""Comorbidities from secondary diagnoses: the Charlson and Elixhauser categories of the enhanced ICD-10
coding algorithms of Quan H, Sundararajan V, Halfon P, et al., "Coding algorithms for defining
comorbidities in ICD-9-CM and ICD-10 administrative data", Med Care 2005;43:1130-1139 (tables 1 and 2),
with the Charlson weights of Charlson et al. 1987 and the usual hierarchy (a severe form replaces its
mild form in the index).

The code lists are data (``data/comorbidity_quan2005.csv``), written as ICD-10 stems at 3 or 4
characters and ranges of stems (``I42.5-I42.9``, ``J40-J47``). Chinese national codes (国家临床版 2.0 /
医保版) extend ICD-10 after the stem (``I21.000x001``), so a code belongs to a category when, without
its dot, it starts with one of the category's stems.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np

TABLE = Path(__file__).resolve().parents[1] / "data" / "comorbidity_quan2005.csv"  # evaluation/data
# Charlson hierarchy: when both are present the index counts only the severe form (Quan 2005 / Charlson 1987)
CHARLSON_HIERARCHY = (("msld", "mld"), ("diabwc", "diab"), ("metacanc", "canc"))


def _stems(spec: str) -> list[str]:
    """``I42.5-I42.9`` -> I425 ... I429; ``J40-J47`` -> J40 ... J47; ``I21`` -> I21 (dots dropped)."""
    out = []
    for part in spec.split():
        lo, _, hi = part.partition("-")
        lo, hi = lo.replace(".", ""), (hi or lo).replace(".", "")
        if len(lo) != len(hi) or len(lo) not in (3, 4) or lo[0] != hi[0] or len(lo) == 4 and lo[:3] != hi[:3]:
            raise ValueError(f"{TABLE.name}: bad code range {part!r}")
        head = lo[0]
        for k in range(int(lo[1:]), int(hi[1:]) + 1):
            out.append(f"{head}{k:0{len(lo) - 1}d}")
    return out


@lru_cache(maxsize=1)
def categories() -> tuple:
    """The categories as rows ``(system, category, weight, name_zh, name_en, stems)``, in table order:
    17 Charlson categories, then 31 Elixhauser categories (bit ``i`` of :func:`code_bits` = row ``i``)."""
    with open(TABLE, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return tuple((r["system"], r["category"], int(r["weight"]) if r["weight"] else 0, r["name_zh"], r["name_en"],
                  tuple(_stems(r["codes"]))) for r in rows)


def column_names() -> list[str]:
    """Feature names of the bits: ``charlson_mi``, ..., ``elixhauser_depre``."""
    return [f"{system}_{cat}" for system, cat, *_ in categories()]


@lru_cache(maxsize=1)
def _stem_bits() -> dict:
    bits: dict = {}
    for i, (*_, stems) in enumerate(categories()):
        for s in stems:
            bits[s] = bits.get(s, 0) | (1 << i)
    return bits


def code_bits(codes) -> np.ndarray:
    """Per code (ICD-10 or a national extension, with or without its dot), a uint64 whose bit ``i``
    says that it belongs to category ``i`` of :func:`categories`. Empty or missing codes have none."""
    table = _stem_bits()
    out = np.zeros(len(codes), np.uint64)
    for k, code in enumerate(codes):
        if not code:
            continue
        c = str(code).strip().upper().replace(".", "")
        out[k] = np.uint64(table.get(c[:3], 0) | table.get(c[:4], 0))
    return out


def charlson_index(bits: np.ndarray) -> np.ndarray:
    """The weighted Charlson comorbidity index of per-case category bits (the hierarchy applied)."""
    cats = categories()
    pos = {cat: i for i, (system, cat, *_) in enumerate(cats) if system == "charlson"}
    bits = np.asarray(bits, np.uint64)
    score = np.zeros(len(bits), np.int64)
    drop = {mild for _, mild in CHARLSON_HIERARCHY}
    for cat, i in pos.items():
        has = (bits >> np.uint64(i)) & np.uint64(1)
        if cat in drop:
            severe = next(s for s, m in CHARLSON_HIERARCHY if m == cat)
            has = has & ~((bits >> np.uint64(pos[severe])) & np.uint64(1))
        score += has.astype(np.int64) * cats[i][2]
    return score


def bit_matrix(bits: np.ndarray) -> np.ndarray:
    """(cases, categories) 0/1 matrix of per-case bits, as float32 features."""
    n_cat = len(categories())
    b = np.ascontiguousarray(np.asarray(bits, np.uint64)).astype("<u8")
    unpacked = np.unpackbits(b.view(np.uint8).reshape(len(b), 8), axis=1, bitorder="little")
    return unpacked[:, :n_cat].astype(np.float32)
