"""Canonical record batch -> integer arrays and offsets for the kernel.

Codes are dictionary-encoded once per batch with pyarrow compute (the batch's
distinct strings are looked up in the scheme's code dictionary, then the ids are
gathered), so per-row work is integer work. Parquet columns read with
``read_dictionary`` arrive already dictionary-encoded and skip the hashing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .codes import STAT_DX_MAP, STAT_PX_MAP
from .kernel import fill_empty, map_codes
from .language import FIELD_SLOTS, FLAG_FIELDS, NULL, STR_SLOT0

INT_COLUMNS = {"sex": "sex", "age_years": "age_years", "age_days": "age_days", "weight_g": "weight_g", "los": "los_days",
               "icu_hours": "icu_hours", "admission_weight_g": "admission_weight_g", "new_technique": "new_technique",
               "intensive_care": "intensive_care", "day_surgery": "day_surgery", "crrt_hours": "crrt_hours"}
STR_COLUMNS = {"dept": "dept", "leaving_type": "leaving_type"}
SEX_WORDS = {"男": 1, "女": 2, "m": 1, "f": 2, "male": 1, "female": 2}
# yes / no as exports write the flags (新技术, 日间手术, 重症监护): 1 / 0
FLAG_WORDS = {"是": 1, "否": 0, "有": 1, "无": 0, "y": 1, "n": 0, "yes": 1, "no": 0, "true": 1, "false": 0}
# Units that 病案首页 exports write after a number ("70岁", "3500克", "12天"), per field, as the
# factor to the field's unit; any other suffix leaves the value unreadable (reported, never empty).
UNITS = {
    "age_years": {"岁": 1, "周岁": 1},
    "age_days": {"天": 1, "日": 1},
    "weight_g": {"克": 1, "g": 1, "kg": 1000, "千克": 1000, "公斤": 1000},
    "los": {"天": 1, "日": 1},
    "icu_hours": {"小时": 1, "h": 1, "时": 1},
    "admission_weight_g": {"克": 1, "g": 1, "kg": 1000, "千克": 1000, "公斤": 1000},
    "crrt_hours": {"小时": 1, "h": 1, "时": 1},
}
_NUMBER_UNIT = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*([^\d\s.+-]+)$")
INVALID = -1  # an unparseable sex: not null, not 1/2, so check 1 reports it
_CLAMP = 2**53


@dataclass
class Encoded:
    """One batch as the kernel sees it, plus what decode needs for warnings."""

    n: int
    dx: np.ndarray  # int32 code ids, -1 = unknown to the scheme
    dx_off: np.ndarray  # int64 offsets, len n+1
    px: np.ndarray
    px_off: np.ndarray
    fields: np.ndarray  # (n, scheme.field_width) int64, NULL for null
    sids: np.ndarray  # (n, 2) int32 scheme ids of dept, leaving_type
    lit_rank: np.ndarray  # rank of each string literal in this batch's string order
    empty_rank: int
    pre_stat: np.ndarray  # int8: 6/7 map-mode failures
    dx_in_off: np.ndarray  # offsets of the input lists (before filling/mapping)
    px_in_off: np.ndarray
    dx_ids_in: np.ndarray  # ids of the input codes (before the dx [] -> [""] fill and map mode)
    px_ids_in: np.ndarray
    dx_dict: pa.Array  # distinct input codes of the batch, and each flat code's index in it
    dx_idx: np.ndarray  # (len(dx_dict) = a null code)
    px_dict: pa.Array
    px_idx: np.ndarray
    bad_fields: dict  # column -> bool mask of values that could not be read as integers
    problem: dict = field(default_factory=dict)  # (which, map_mode) -> mask of problem codes (decode.problem_codes)
    split_rows: dict = field(default_factory=dict)  # "dx"/"px" -> mask of rows with a code split at , or | (warned)


def _flat_codes(col) -> tuple[pa.Array, np.ndarray]:
    """(flat values, int64 offsets) of a list column; null lists are empty, null codes are ""."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else (col.chunk(0) if col.num_chunks else pa.array([], col.type))
    lengths = pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    off = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    values = pc.list_flatten(col)
    return values, off


def _split_separators(values: pa.Array, off: np.ndarray) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """FORMAT.md 5.1: lists are joined with ',' and split on ',' and '|'; a code holding one is split.
    Returns the split codes, their offsets and the mask of rows where a code was split (a warning says so)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    parts = pc.split_pattern_regex(pc.fill_null(values, ""), r"[,|]")
    plen = pc.list_value_length(parts).to_numpy(zero_copy_only=False).astype(np.int64)
    row = np.repeat(np.arange(len(off) - 1), np.diff(off))
    counts = np.bincount(row, weights=plen, minlength=len(off) - 1).astype(np.int64)
    new_off = np.zeros(len(off), dtype=np.int64)
    np.cumsum(counts, out=new_off[1:])
    split = np.bincount(row, weights=plen > 1, minlength=len(off) - 1) > 0
    return pc.list_flatten(parts), new_off, split


def _dictionary(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(distinct strings, indices) of flat codes; dictionary-typed input is used as it is."""
    if pa.types.is_dictionary(values.type):
        return values.dictionary, values.indices
    enc = pc.dictionary_encode(values)
    return enc.dictionary, enc.indices


# fewer distinct codes than this: dict lookups (index_in hashes the scheme's ~50k codes on every call, ~2.3 ms; a dict
# lookup is ~0.14 us a code, so below ~16k codes the lookups are faster)
SMALL_DICTIONARY = 12_000


def prefix_id(code: str, prefixes, index: dict) -> int:
    """The id of a code unknown to a scheme with prefix lists: the entry of its longest prefix that a rule tests
    (``compile.PREFIX_END``), -1 when it starts with none. That entry is in exactly the prefix lists whose prefixes
    the code starts with, so ``pdx prefix in L`` is exact for any code."""
    for k in range(len(code), -1, -1):
        if code[:k] in prefixes:
            return index[code[:k] + "\x00"]
    return -1


def encode_codes(dictionary: pa.Array, indices: pa.Array, value_set: pa.Array, index: dict | None = None,
                 prefixes=None) -> tuple[np.ndarray, np.ndarray]:
    """(scheme ids, dictionary indices) of dictionary-encoded codes.

    Ids are int32, -1 for a code unknown to the scheme; a null code reads as "".
    Indices are int64 positions in ``dictionary``, ``len(dictionary)`` for null. ``index`` (code -> position in
    ``value_set``) makes a small dictionary cheap to look up; the ids are the same. ``prefixes`` (a set, with
    ``index``): unknown codes get :func:`prefix_id`."""
    if pa.types.is_large_string(dictionary.type):
        dictionary = pc.cast(dictionary, pa.string())
    if index is not None and len(dictionary) < SMALL_DICTIONARY:
        lookup = np.array([-1 if s is None else index.get(s, -1) for s in dictionary.to_pylist()] + [index.get("", -1)],
                          dtype=np.int32)
    else:
        lookup = pc.fill_null(pc.index_in(dictionary, value_set=value_set), -1).to_numpy(zero_copy_only=False).astype(np.int32)
        empty_id = pc.index_in(pa.array([""]), value_set=value_set)[0].as_py()
        lookup = np.append(lookup, np.int32(-1 if empty_id is None else empty_id))
    if prefixes:
        unknown = np.flatnonzero(lookup[:-1] < 0)
        if len(unknown):
            texts = dictionary.take(pa.array(unknown)).to_pylist()
            lookup[unknown] = [prefix_id(c, prefixes, index) for c in texts]
    if indices.null_count:
        indices = pc.fill_null(indices, len(lookup) - 1)
    idx = indices.to_numpy(zero_copy_only=False)
    return lookup[idx], idx


def _has_separator(dictionary: pa.Array) -> bool:
    if len(dictionary) == 0:
        return False
    return bool(pc.any(pc.match_substring_regex(pc.fill_null(dictionary, ""), r"[,|]")).as_py())


def _int_column(col, name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """int64 values with NULL for null, and a mask of values that were present but unreadable."""
    out = np.full(n, NULL, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    if col is None:
        return out, bad
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.dictionary_decode()
        t = col.type
    if pa.types.is_uint64(t):  # beyond int64: clamp before the cast (a cast would refuse them)
        col = pa.array(np.minimum(pc.fill_null(col, 0).to_numpy(zero_copy_only=False), _CLAMP).astype(np.int64),
                       mask=pc.is_null(col).to_numpy(zero_copy_only=False))
        t = col.type
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        vals = pc.cast(col, pa.int64())
        if vals.null_count == 0:
            out[:] = vals.to_numpy()
        else:
            valid = pc.is_valid(col).to_numpy(zero_copy_only=False)
            out[valid] = pc.fill_null(vals, 0).to_numpy()[valid]
        return out, bad
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        f = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        ok = np.isfinite(f)
        bad = ~ok & ~np.isnan(f)
        out[ok] = np.trunc(np.clip(f[ok], -_CLAMP, _CLAMP)).astype(np.int64)
        return out, bad
    # strings (CSV/Excel exports): parse the distinct values once
    s = pc.cast(col, pa.string()) if not pa.types.is_string(t) else col
    enc = pc.dictionary_encode(s)
    parsed = np.full(len(enc.dictionary) + 1, NULL, dtype=np.int64)
    unread = np.zeros(len(enc.dictionary) + 1, dtype=bool)
    for k, text in enumerate(enc.dictionary.to_pylist()):
        v = unicodedata.normalize("NFKC", text).strip()
        if v == "":
            continue
        if name == "sex" and v.lower() in SEX_WORDS:
            parsed[k] = SEX_WORDS[v.lower()]
            continue
        if name in FLAG_FIELDS and v.lower() in FLAG_WORDS:
            parsed[k] = FLAG_WORDS[v.lower()]
            continue
        try:
            fv = _number(v, name)
            if not np.isfinite(fv):
                raise ValueError
            parsed[k] = int(np.trunc(np.clip(fv, -_CLAMP, _CLAMP)))
        except ValueError:
            unread[k] = True
            if name == "sex":
                parsed[k] = INVALID
    idx = pc.fill_null(enc.indices, len(enc.dictionary)).to_numpy(zero_copy_only=False)
    return parsed[idx], unread[idx]


def _number(text: str, name: str) -> float:
    """A number, or a number followed by a unit of the field (``70岁`` -> 70, ``3.5kg`` -> 3500)."""
    try:
        return float(text)
    except ValueError:
        m = _NUMBER_UNIT.match(text.lower())
        factor = UNITS.get(name, {}).get(m.group(2)) if m else None
        if factor is None:
            raise
        return float(m.group(1)) * factor


def _str_column(col, n: int) -> pa.DictionaryArray:
    """A text field (dept, leaving_type) dictionary-encoded with string values; dictionary-typed
    input (Parquet read with ``read_dictionary``) is used as it is, without hashing every row."""
    if col is None:
        return pc.dictionary_encode(pa.nulls(n, pa.string()))
    if isinstance(col, pa.ChunkedArray):
        if col.num_chunks > 1 and pa.types.is_dictionary(col.type):
            col = col.unify_dictionaries()
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if pa.types.is_dictionary(col.type):
        if pa.types.is_string(col.type.value_type) or pa.types.is_large_string(col.type.value_type):
            d = col.dictionary if pa.types.is_string(col.dictionary.type) else pc.cast(col.dictionary, pa.string())
            return pa.DictionaryArray.from_arrays(col.indices, d)
        col = col.dictionary_decode()
    if pa.types.is_floating(col.type):  # 1.0 from a spreadsheet means "1"
        f = col.to_numpy(zero_copy_only=False)
        whole = np.isfinite(f) & (f == np.trunc(f))
        if whole[~np.isnan(f)].all():
            col = pc.cast(pc.cast(col, pa.int64()), pa.string())
    if not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())
    return pc.dictionary_encode(col)


def encode(table: pa.Table, scheme, map_mode: bool = False) -> Encoded:
    """Encode a canonical table (see ``grouper.columns.canonicalize``) for the kernel."""
    n = table.num_rows
    names = set(table.column_names)
    value_set = scheme.value_set
    codes_index = scheme.code_index

    lists, split_rows = {}, {}
    for which in ("dx", "px"):
        if which in names:
            values, off = _flat_codes(table.column(which))
        else:
            values, off = pa.array([], pa.string()), np.zeros(n + 1, dtype=np.int64)
        dictionary, indices = _dictionary(values)
        if _has_separator(dictionary):  # rare: split, then encode again
            values, off, split_rows[which] = _split_separators(values, off)
            dictionary, indices = _dictionary(values)
        ids, idx = encode_codes(dictionary, indices, value_set, codes_index, scheme.prefix_set)
        lists[which] = (values, off, ids, dictionary, idx)

    _, dx_in_off, dx_ids_in, dx_dict, dx_idx = lists["dx"]
    _, px_in_off, px_ids_in, px_dict, px_idx = lists["px"]
    dx, px = dx_ids_in, px_ids_in
    empty_id = codes_index[""]
    dash_id = codes_index["-"]
    if (np.diff(dx_in_off) == 0).any():
        dx, dx_off = fill_empty(dx, dx_in_off, np.int32(empty_id))  # [quirk] dx [] -> [""]
    else:
        dx_off = dx_in_off
    px_off = px_in_off
    pre_stat = np.zeros(n, dtype=np.int8)
    if map_mode:
        dx, dx_off, dx_bad = map_codes(dx, dx_off, scheme.arrays["dx_map"], np.int32(empty_id), np.int32(dash_id))
        px, px_off, px_bad = map_codes(px, px_off, scheme.arrays["px_map"], np.int32(empty_id), np.int32(dash_id))
        pre_stat[px_bad] = STAT_PX_MAP
        pre_stat[dx_bad] = STAT_DX_MAP

    width = scheme.field_width
    fields = np.empty((n, width), dtype=np.int64)  # a 1.x scheme reads no 2.0 field: not encoded
    bad_fields = {}
    for field_name, col_name in INT_COLUMNS.items():
        if FIELD_SLOTS[field_name] >= width:
            continue
        col = table.column(col_name) if col_name in names else None
        vals, bad = _int_column(col, field_name, n)
        fields[:, FIELD_SLOTS[field_name]] = vals
        if bad.any():
            bad_fields[col_name] = bad
    if scheme.meta.get("missing_age_days_weight_as_zero"):
        for f in ("age_days", "weight_g"):
            col = fields[:, FIELD_SLOTS[f]]
            col[col == NULL] = 0

    # String fields: membership uses scheme ids; comparisons use ranks in one sorted
    # order of this batch's values and the rules' literals (exact string order).
    literals = scheme.str_literals
    str_cols = [_str_column(table.column(c) if c in names else None, n) for c in STR_COLUMNS.values()]
    encs = str_cols
    universe = sorted(set(literals) | {""} | {v for e in encs for v in e.dictionary.to_pylist()})
    rank_of = {s: i for i, s in enumerate(universe)}
    sids = np.empty((n, 2), dtype=np.int32)
    for j, e in enumerate(encs):
        d = e.dictionary.to_pylist()
        rank = np.array([rank_of[s] for s in d] + [NULL], dtype=np.int64)
        ids = np.array([codes_index.get(s, -1) for s in d] + [-1], dtype=np.int32)
        idx = pc.fill_null(e.indices, len(d)).to_numpy(zero_copy_only=False)
        fields[:, STR_SLOT0 + j] = rank[idx]
        sids[:, j] = ids[idx]
    lit_rank = np.array([rank_of[s] for s in literals], dtype=np.int64) if literals else np.zeros(1, np.int64)

    return Encoded(
        n=n, dx=dx, dx_off=dx_off, px=px, px_off=px_off, fields=fields, sids=sids,
        lit_rank=lit_rank, empty_rank=rank_of[""], pre_stat=pre_stat,
        dx_in_off=dx_in_off, px_in_off=px_in_off,
        dx_ids_in=dx_ids_in, px_ids_in=px_ids_in, dx_dict=dx_dict, dx_idx=dx_idx, px_dict=px_dict, px_idx=px_idx,
        bad_fields=bad_fields, split_rows=split_rows,
    )
