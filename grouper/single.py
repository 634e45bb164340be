"""Group one record at a time, in microseconds: what `drg serve` answers a coder with while a case is coded.

``group_table`` on a one-row table costs about a millisecond of fixed pyarrow work (hashing, casting, building
dictionary columns). A record that needs none of the batch encoder's repairs -- codes as a list of texts without
``,``/``|`` inside, numbers as numbers (or sex as 1/2/男/女), no value that would be warned about, no map mode -- is
encoded here with dictionary lookups into the very arrays ``records.encode`` builds, grouped by the same kernel
body (in the calling thread) and decoded by the same tables, its unknown codes warned about in the same words. Any
other record goes through ``group_table`` on a one-row table, so every record gets exactly what ``drg group`` gives
it; ``tests/test_serve.py`` compares the two on the reference cases and on random records (Hypothesis).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from .columns import WIDE, ColumnError, norm_header, resolve_columns
from .codes import STAT_REJECT
from .decode import PLAUSIBLE, RESULT_COLUMNS, outcome_rows, reason_table, shown_code
from .kernel import group_kernel_serial, scheme_arrays
from .language import FIELD_SLOTS, N_FIELDS, NULL, STR_SLOT0
from .records import INT_COLUMNS, STR_COLUMNS, prefix_id
from .text import TEXT

_SEX_TEXT = {"1": 1, "2": 2, "男": 1, "女": 2}
_LIMIT = 2**53  # beyond this a batch clamps the value; such a record takes the batch path
_CACHE: dict = {}  # id(scheme) -> (scheme, tables): a process serves one or two schemes


class _Tables:
    """What decoding one record needs, built once per scheme: the result rows (with the failure rows after them),
    the kernel's arrays and the reason texts per language."""

    def __init__(self, scheme):
        self.scheme = scheme
        self.rows = outcome_rows(scheme)
        self.n_res = len(scheme.result_rows)
        self.arrays = scheme_arrays(scheme)
        self.reasons = {}
        self.dx_known = scheme.arrays["dx_known"]
        self.px_known = scheme.arrays["px_known"]
        self.retry = bool(scheme.meta.get("retry_secondary_px_alone"))
        self.zero_fill = bool(scheme.meta.get("missing_age_days_weight_as_zero"))
        self.literals = list(scheme.str_literals)
        # reason_ids for one record (its sentinels appended: a scheme may have no steps)
        self.step_result = scheme.arrays["step_nosplit"].tolist() + [-1]
        self.step_qy = [k == "qy" for k in scheme.step_kinds] + [False]
        self.n_steps = len(scheme.step_names)
        self.base_step = 8 + len(scheme.mdc_names)
        self.names: dict = {}  # tuple of a record's keys -> {canonical: key}, or None when the record needs the batch path

    def reason(self, lang: str, res: int, stat: int, info: int) -> str:
        """decode.reason_ids for one record, its text in ``lang``."""
        if lang not in self.reasons:
            self.reasons[lang] = reason_table(self.scheme, lang)
        done = self.base_step + 2 * self.n_steps
        if stat >= STAT_REJECT:
            k = done + 1 + stat - STAT_REJECT
        elif stat > 0:
            k = stat - 1
        elif res == 0:
            k = 7 if info == -1 else 8 + (-info - 2) if info <= -2 else done
        elif self.step_qy[info]:
            k = self.base_step + info
        elif res == self.step_result[info]:
            k = self.base_step + self.n_steps + info
        else:
            k = done
        return self.reasons[lang][k]


def _tables(scheme) -> _Tables:
    hit = _CACHE.get(id(scheme))
    if hit is None or hit[0] is not scheme:
        _CACHE[id(scheme)] = hit = (scheme, _Tables(scheme))
    return hit[1]


def _columns(t: _Tables, record: dict):
    """{canonical: key} of a record's keys, or None when they need ``canonicalize`` (wide columns, two keys for
    one field, a missing required one): the batch path then gives the same error or result as ``drg group``."""
    keys = tuple(record)
    if keys not in t.names:
        try:
            found = resolve_columns(list(keys))
        except ColumnError:
            found = None
        if found is not None and not {"sex", "age_years", "dx"} <= set(found):
            found = None
        if found is not None and any(_looks_wide(k) for k in keys if k not in found.values()):
            found = None
        if len(t.names) < 1024:  # clients send a handful of key sets; never grow without bound
            t.names[keys] = found
        return found
    return t.names[keys]


_WIDE_STEMS = tuple(norm_header(stem) for which in WIDE.values() for names in which for stem in names)


def _looks_wide(key) -> bool:
    return norm_header(key).startswith(_WIDE_STEMS)


def _whole(v, name: str):
    """A field value as the batch encoder reads it, or False when only the batch path reads it exactly
    (text other than a plain sex, a value that would be warned about)."""
    if v is None:
        return NULL
    if isinstance(v, bool):
        return False
    if isinstance(v, float):
        if not math.isfinite(v) or abs(v) >= _LIMIT:
            return False
        v = int(v)  # trunc, as the batch encoder
    elif isinstance(v, int):
        if abs(v) >= _LIMIT:
            return False
    elif isinstance(v, str) and name == "sex" and v in _SEX_TEXT:
        return _SEX_TEXT[v]
    else:
        return False
    if v < 0 and name in ("age_years", "age_days", "los", "weight_g"):
        return False  # warned about
    if name in PLAUSIBLE:
        lo, hi = PLAUSIBLE[name]
        if v > hi or 0 < v < lo:
            return False
    return v


def _text(v):
    """dept / leaving_type as the batch encoder reads a one-row column: text as it is, a whole number as its digits."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float) and math.isfinite(v) and v == int(v) and abs(v) < _LIMIT:
        return str(int(v))
    return False


def _codes(v, index: dict, known, prefixes) -> tuple | None:
    """(scheme ids, the codes a warning names) of a code list, or None when the batch encoder would repair it
    (not a list, a null code, a code holding , or |)."""
    if v is None:
        return np.zeros(0, np.int32), []
    if not isinstance(v, list):
        return None
    out = np.empty(len(v), np.int32)
    problems = []
    for k, c in enumerate(v):
        if not isinstance(c, str) or "," in c or "|" in c:
            return None
        i = index.get(c, -1)
        if i < 0 and prefixes:
            i = prefix_id(c, prefixes, index)
        if i < 0 or not known[i]:
            problems.append(c)
        out[k] = i
    return out, problems


def _warnings(dx_problems: list, px_problems: list, index: dict, lang: str):
    """decode.warnings_column for a record whose only warnings are its problem codes."""
    t = TEXT[lang]
    parts = [t["unknown_" + which] + ",".join(shown_code(c, index, t) for c in codes)
             for which, codes in (("dx", dx_problems), ("px", px_problems)) if codes]
    return "; ".join(parts) or None


def encode_one(record: dict, scheme):
    """The kernel's arrays for one record, or None when the record needs the batch encoder."""
    t = _tables(scheme)
    found = _columns(t, record)
    if found is None:
        return None
    index = scheme.code_index
    dx = _codes(record.get(found["dx"]), index, t.dx_known, scheme.prefix_set)
    px = _codes(record.get(found["px"]) if "px" in found else None, index, t.px_known, scheme.prefix_set)
    if dx is None or px is None:
        return None
    (dx, dx_problems), (px, px_problems) = dx, px
    if len(dx) == 0:  # [quirk] dx [] -> [""], as records.encode fills it (the input check then refuses the record)
        dx = np.array([index[""]], np.int32)
    fields = np.empty((1, N_FIELDS), np.int64)
    for field_name, canon in INT_COLUMNS.items():
        v = _whole(record.get(found[canon]) if canon in found else None, field_name)
        if v is False:
            return None
        fields[0, FIELD_SLOTS[field_name]] = v
    if t.zero_fill:
        for f in ("age_days", "weight_g"):
            if fields[0, FIELD_SLOTS[f]] == NULL:
                fields[0, FIELD_SLOTS[f]] = 0
    texts = []
    for canon in STR_COLUMNS.values():
        v = _text(record.get(found[canon]) if canon in found else None)
        if v is False:
            return None
        texts.append(v)
    universe = sorted(set(t.literals) | {""} | {v for v in texts if v is not None})
    rank_of = {s: i for i, s in enumerate(universe)}
    sids = np.empty((1, 2), np.int32)
    for j, v in enumerate(texts):
        fields[0, STR_SLOT0 + j] = NULL if v is None else rank_of[v]
        sids[0, j] = -1 if v is None else index.get(v, -1)
    lit_rank = np.array([rank_of[s] for s in t.literals], np.int64) if t.literals else np.zeros(1, np.int64)
    return dx, px, fields, sids, lit_rank, rank_of[""], dx_problems, px_problems


def group_one(record: dict, scheme, *, map_codes: bool = False, lang: str = "zh") -> dict:
    """One record's ``status, status_code, mdc, adrg, drg, drg_name, reason, warnings`` (and its ``case_id`` when it
    has one), exactly as ``group_table`` gives them. Raises :class:`grouper.columns.ColumnError` for a record
    ``drg group`` could not read either (a missing diagnosis field, two keys for one field)."""
    enc = None if map_codes else encode_one(record, scheme)
    if enc is None:
        return _batch_path(record, scheme, map_codes, lang)
    t = _tables(scheme)
    dx, px, fields, sids, lit_rank, empty_rank, dx_problems, px_problems = enc
    res, stat, info = group_kernel_serial(t.arrays, dx, np.array([0, len(dx)], np.int64), px,
                                          np.array([0, len(px)], np.int64), fields, sids, np.zeros(1, np.int8), lit_rank,
                                          np.int64(empty_rank), t.retry)
    s = int(stat[0])
    row = t.rows[t.n_res + s - 1 if s > 0 else int(res[0])]
    out = dict(zip(RESULT_COLUMNS[:6], row))
    out["reason"] = t.reason(lang, int(res[0]), s, int(info[0]))
    out["warnings"] = _warnings(dx_problems, px_problems, scheme.code_index, lang) if dx_problems or px_problems else None
    return _with_case_id(record, out, _columns(t, record))


def _with_case_id(record: dict, out: dict, found: dict) -> dict:
    """The record's own case id (as it was sent) ahead of its result."""
    return {"case_id": record[found["case_id"]], **out} if "case_id" in found else out


def _batch_path(record: dict, scheme, map_codes: bool, lang: str) -> dict:
    from .api import group_table

    table = _one_row_table(record)
    out = group_table(table, scheme, map_codes=map_codes, lang=lang, only_results=True, keep_dictionary=False)
    row = out.to_pylist()[0]
    return _with_case_id(record, {k: row[k] for k in RESULT_COLUMNS}, resolve_columns(list(record)))


def _one_row_table(record: dict) -> pa.Table:
    """A one-row table of a JSON record: lists stay lists of text, every other value keeps its JSON type (a
    column of a value that Arrow cannot hold becomes text, as a CSV cell would)."""
    cols = {}
    for k, v in record.items():
        if isinstance(v, list):
            cols[str(k)] = pa.array([[None if x is None else x if isinstance(x, str) else str(x) for x in v]],
                                    pa.list_(pa.string()))
            continue
        try:
            cols[str(k)] = pa.array([v])
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            cols[str(k)] = pa.array([None if v is None else str(v)], pa.string())
    return pa.table(cols)
