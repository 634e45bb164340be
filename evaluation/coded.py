"""Grouped cases as coded arrays, and the one rule of which cases an analysis counts.

Every analysis (evaluate and its views, risk, audit, pay, tiered care) reads grouped tables through these functions, so
"included" means one thing everywhere: a case is *included* when its hospital is known, its DRG is a real group (not
empty, not one of the grouper's failure codes ``0000`` / ``000`` / ``0000A`` / ``0000B``, not a ``QY`` catch-all) and,
where the file has a status column, its status says it was grouped. Text columns are dictionary-encoded once and the
rule is decided per distinct value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FAIL_CODES = frozenset({"", "0000", "000", "0000A", "0000B"})  # the grouper's codes for a case it could not group
GROUPED_STATUS = ("分组成功", "ok")  # drg group's status of a grouped case, in Chinese and English output


def grouped_code(code) -> bool:
    """Whether a DRG code is a real group: not missing or blank, not a failure code, not a QY catch-all."""
    if code is None:
        return False
    code = str(code).strip()
    return bool(code) and code not in FAIL_CODES and "QY" not in code


def grouped_status(value) -> bool:
    """Whether a status value says the case was grouped (drg group's 分组成功 / ok)."""
    return value is not None and str(value).strip() in GROUPED_STATUS


def known(value) -> bool:
    """Whether a text value is there: not missing, not blank."""
    return value is not None and bool(str(value).strip())


def text_codes(col) -> tuple[np.ndarray, list]:
    """(int64 codes, values as str or None) of a column; -1 for a missing value. The values are each distinct
    value's text (``str(v)``), as :func:`evaluation.common._categorical` makes it."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if not pa.types.is_dictionary(col.type):
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            cat = pd.Categorical(col.to_pandas())
            return cat.codes.astype(np.int64), [str(v) for v in cat.categories]
        col = pc.dictionary_encode(col)
    idx = col.indices.to_numpy(zero_copy_only=False)
    codes = np.where(col.indices.is_null().to_numpy(zero_copy_only=False), -1, idx).astype(np.int64) \
        if col.indices.null_count else idx.astype(np.int64)
    values = col.dictionary.to_pylist()
    return codes, [None if v is None else str(v) for v in values]


def on_values(codes: np.ndarray, values: list, rule) -> np.ndarray:
    """``rule`` decided once per distinct value, spread to the cases (a missing value, code -1, gets ``rule(None)``)."""
    lut = np.array([bool(rule(v)) for v in values] + [bool(rule(None))])
    return lut[np.where(codes >= 0, codes, len(values))]


def included_codes(drg: tuple, hospital: tuple, status: tuple | None = None) -> np.ndarray:
    """The included cases from (codes, values) of the DRG, hospital and (optional) status columns."""
    ok = on_values(*drg, grouped_code) & on_values(*hospital, known)
    if status is not None:
        ok &= on_values(*status, grouped_status)
    return ok


def included(batch: pa.Table) -> np.ndarray:
    """Per case of a grouped batch (canonical names: ``drg``, ``hospital_id``, optional ``status``) whether it is
    included (module docstring)."""
    names = batch.column_names
    hospital = text_codes(batch.column("hospital_id")) if "hospital_id" in names else (np.full(batch.num_rows, -1), [])
    status = text_codes(batch.column("status")) if "status" in names else None
    return included_codes(text_codes(batch.column("drg")), hospital, status)


def numbers(col) -> np.ndarray:
    """A column as float64: NaN where missing or not a number; text such as "1" or " 2.5 " is read as its number,
    each distinct text once."""
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    t = col.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t):
        return pc.cast(col, pa.float64(), safe=False).to_numpy(zero_copy_only=False).astype(float, copy=False)
    enc = pc.dictionary_encode(pc.cast(col, pa.string()))
    lut = np.array([_to_float(v) for v in enc.dictionary.to_pylist()] + [np.nan])
    idx = enc.indices.to_numpy(zero_copy_only=False)
    return lut[np.where(enc.indices.is_null().to_numpy(zero_copy_only=False), len(lut) - 1,
                        np.nan_to_num(idx).astype(np.int64))]


def years(batch: pa.Table) -> np.ndarray | None:
    """The year of each case as float64, whole (a fractional year is its whole part), NaN where it is not a year from
    1 to 9999 (blank, text, 0, 1e308); ``None`` when the batch has no year column (drg.contract adds one from the
    discharge date where it can)."""
    if "year" not in batch.column_names:
        return None
    v = numbers(batch.column("year"))
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(v) & (v >= 1) & (v < 10000), np.floor(v), np.nan)


def _to_float(v) -> float:
    if v is None or "_" in v:  # Python reads 1_000 as a number; an export's cell "1_000" is not one
        return float("nan")
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def local_codes(col) -> tuple[np.ndarray, list]:
    """(codes local to the batch, -1 for a missing value; their words) in order of first appearance, as
    :meth:`Vocab.encode` meets them: a merge that passes them through :meth:`Vocab.lut` in input order gives the run's
    ids in the same order as encoding each batch would (a reduce on a worker cannot share the run's vocabulary)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    enc = pc.dictionary_encode(pc.cast(arr, pa.string()))
    words = enc.dictionary.to_pylist()
    idx = enc.indices.to_numpy(zero_copy_only=False)
    null = enc.indices.is_null().to_numpy(zero_copy_only=False)
    return np.where(null, -1, np.nan_to_num(idx).astype(np.int64)), words


class Vocab:
    """Text value -> dense id, growing over batches; -1 for a missing or blank value (a blank cell is not a value)."""

    def __init__(self):
        self.ids: dict = {}
        self.words: list = []

    def lut(self, words) -> np.ndarray:
        out = np.empty(len(words) + 1, np.int64)
        for k, w in enumerate(words):
            if not known(w):
                out[k] = -1
                continue
            w = str(w)
            i = self.ids.get(w)
            if i is None:
                i = self.ids[w] = len(self.words)
                self.words.append(w)
            out[k] = i
        out[-1] = -1
        return out

    def encode(self, col) -> np.ndarray:
        return self.of_local(*local_codes(col))

    def of_local(self, local: np.ndarray, words: list) -> np.ndarray:
        """Codes local to a batch (:func:`local_codes`) as the run's ids (-1 stays -1; a blank word is -1)."""
        return self.lut(words)[np.where(local >= 0, local, len(words))]
