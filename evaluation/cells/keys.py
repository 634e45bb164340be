"""The integer keys of the cells (:mod:`evaluation.cells`): a discharge date's period, the dense cell codes of a batch,
codes of one batch made a run's, the order of cells by their keys, each code's first row, sorted categoricals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..common import EvaluationError, fits_slots

CELL_BITS = 21  # hospital, DRG-triple and period (or unit) codes each below 2**21 in a cell id


def month_index(col, per_year: int) -> np.ndarray:
    """Per case its period as year * per_year + part of the year, -1 where the date is missing or unreadable."""
    t = col.type
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        d = col.cast(pa.date32()) if pa.types.is_timestamp(t) else col
        days = d.cast(pa.int32()).to_numpy(zero_copy_only=False) if d.null_count == 0 else \
            d.cast(pa.int32()).fill_null(np.iinfo(np.int32).min).to_numpy(zero_copy_only=False)
        missing = days == np.iinfo(np.int32).min
        if missing.all():
            return np.full(len(days), -1, np.int64)
        lo, hi = int(days[~missing].min()), int(days[~missing].max())
        span = np.arange(lo, hi + 1).astype("datetime64[D]")  # a few thousand days: the calendar once per day
        year = span.astype("datetime64[Y]").astype(np.int64) + 1970
        month = span.astype("datetime64[M]").astype(np.int64) % 12 + 1
        lut = year * per_year + (month - 1) * per_year // 12
        return np.where(missing, -1, lut[np.clip(days.astype(np.int64) - lo, 0, hi - lo)])
    else:
        parsed = pd.to_datetime(col.to_pandas(), errors="coerce")
        missing = parsed.isna().to_numpy()
        year = parsed.dt.year.fillna(0).to_numpy(np.int64)
        month = parsed.dt.month.fillna(1).to_numpy(np.int64)
    return np.where(missing, -1, year * per_year + (month - 1) * per_year // 12)


def dense_cells(h, g, mdc, adrg, p, included, n_h: int, n_g: int):
    """Cells counted over a dense key hospital x DRG x period, or None where that key would be too wide for the
    batch. A grouped file gives each DRG one MDC and one ADRG: then the DRG code stands for the triple (checked
    on the included cases; a DRG seen with two MDCs or ADRGs in the batch goes the hashed way).

    Returns (cell code per case, k (the code of the cases left out), and per cell its hospital, DRG, MDC, ADRG and
    period codes), cells in the order of their key."""
    n_m = int(mdc.max(initial=-1)) + 2
    ma = np.where(included, (adrg + 1) * n_m + (mdc + 1), -1)  # MDC and ADRG in one code; -1: left out
    gj = np.where(included, g, n_g)  # the cases left out share one extra slot
    ma_of = np.full(n_g + 1, -1, np.int64)
    ma_of[gj] = ma
    if not np.array_equal(ma_of[gj], ma):
        return None
    mdc_of, adrg_of = ma_of[:n_g] % n_m - 1, ma_of[:n_g] // n_m - 1
    dated = p > 0
    lo = int(p[dated].min()) if dated.any() else 1
    n_p = int(p.max(initial=0)) - lo + 2 if dated.any() else 1
    size = n_h * n_g * n_p
    if not fits_slots(size, len(h)):
        return None
    key = (h * n_g + g) * n_p + (np.where(dated, p - (lo - 1), 0) if n_p > 1 else 0)
    key = np.where(included, key, size)
    at = np.flatnonzero(np.bincount(key, minlength=size + 1)[:size])
    k = len(at)
    lut = np.full(size + 1, k, np.int32 if k < 2**31 - 1 else np.int64)
    lut[at] = np.arange(k)
    cp = at % n_p
    cg = (at // n_p) % n_g
    return lut[key], k, at // (n_p * n_g), cg, mdc_of[cg], adrg_of[cg], np.where(cp > 0, cp + (lo - 1), 0)


def sorted_categorical(values, codes: np.ndarray) -> pd.Categorical:
    """``values[codes]`` as a Categorical whose categories are the distinct values, sorted (None is missing)."""
    values = np.asarray(list(values), dtype=object)
    present = [v for v in values if v is not None]
    cats = np.array(sorted(set(present)), dtype=object)
    position = {v: i for i, v in enumerate(cats)}
    recode = np.array([position.get(v, -1) if v is not None else -1 for v in values] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(recode[np.where(codes < len(values), codes, len(values))], categories=cats)


def key_order(cells: pd.DataFrame, keys: list, fit_bits: int = 62) -> np.ndarray:
    """The row order of ``cells.sort_values(keys, kind="stable")`` for keys that are categoricals with sorted
    categories (and a float period): by their codes, missing last, as one integer key where it fits in 62 bits
    (sorting five object columns took a third of a second per million cells)."""
    parts = []
    for k in keys:
        col = cells[k]
        if isinstance(col.dtype, pd.CategoricalDtype):
            code, width = col.cat.codes.to_numpy().astype(np.int64), len(col.cat.categories)
        else:  # the period: whole numbers >= 0 or NaN
            v = col.to_numpy(float)
            ok = ~np.isnan(v)
            code, width = np.where(ok, v, -1).astype(np.int64), int(v[ok].max()) + 1 if ok.any() else 0
        parts.append((np.where(code >= 0, code, width), width + 1))  # missing after every value
    if float(np.prod([float(w) for _, w in parts])) < 2.0 ** fit_bits:
        key = np.zeros(len(cells), np.int64)
        for code, width in parts:
            key = key * width + code
        return np.argsort(key, kind="stable")
    return np.lexsort([code for code, _ in reversed(parts)])


def codes_into(values: list, new: list) -> np.ndarray:
    """Codes in ``values`` (extended in place) of each of ``new``; the last entry maps a missing (-1) code."""
    index = {v: i for i, v in enumerate(values)}
    out = np.empty(len(new) + 1, np.int64)
    for i, v in enumerate(new):
        if v not in index:
            index[v] = len(values)
            values.append(v)
        out[i] = index[v]
    out[-1] = (1 << CELL_BITS) - 1
    if len(values) >= (1 << CELL_BITS) - 1:
        raise EvaluationError(f"more than {(1 << CELL_BITS) - 2:,} hospitals, DRGs or doctors: split the input by region or year")
    return out


def compact_los(los: np.ndarray, integral: bool = False) -> np.ndarray:
    """LOS as float32 when that is exact (whole days below 2**24 are), else float64: 4 bytes a case instead of 8."""
    f = los.astype(np.float32)
    if integral:
        return f if max(np.fmax.reduce(los, initial=0), -np.fmin.reduce(los, initial=0)) < 2**24 else los
    return f if np.array_equal(f.astype(float), los, equal_nan=True) else los


def first_rows(h: np.ndarray, k: int) -> np.ndarray:
    """Row of the first occurrence of each code 0..k-1 of ``h`` (``len(h)`` where absent; -1 codes are skipped).

    Codes that Arrow's dictionary encoding assigns appear in order (code j first appears after code j-1), so
    the running maximum finds them by binary search; other orders fall back to ``np.minimum.at``."""
    n = len(h)
    present = np.zeros(k + 1, bool)
    present[h] = True  # code -1 marks the last slot
    present = present[:k]
    first = np.searchsorted(np.maximum.accumulate(h), np.arange(k), side="left") if n else np.zeros(k, np.int64)
    at = np.minimum(first, max(n - 1, 0))
    if n and np.array_equal(h[at[present]], np.flatnonzero(present)):
        return np.where(present, first, n)
    first = np.full(k + 1, n)
    np.minimum.at(first, np.where(h >= 0, h, k), np.arange(n))
    return first[:k]
