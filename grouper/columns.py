"""Canonical record columns, the Chinese header aliases of 病案首页 / 医保结算清单 exports,
and the conversion of delimited-string and wide dx/px columns into lists.

``canonicalize(table)`` returns a table whose grouping columns carry the
canonical names of FORMAT.md section 2 (``case_id, sex, age_years, age_days,
weight_g, dept, los_days, leaving_type, icu_hours, dx, px``); every other input
column is kept as it is, in its place.
"""

from __future__ import annotations

import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

CANONICAL = ("case_id", "sex", "age_years", "age_days", "weight_g", "dept", "los_days", "leaving_type", "icu_hours",
             "admission_weight_g", "new_technique", "intensive_care", "day_surgery", "crrt_hours", "dx", "px")
REQUIRED = ("sex", "age_years", "dx")

# Header aliases (compared after NFKC normalisation, so full-width brackets match too,
# and case-insensitively). Listed in the README; keep the two in step.
ALIASES = {
    "case_id": ["case_id", "病案号", "病案编号", "住院号", "住院病案号", "病历号", "清单流水号", "结算清单流水号", "id"],
    "sex": ["sex", "gender", "性别", "性别代码"],
    "age_years": ["age_years", "age", "年龄", "年龄(岁)", "年龄（岁）", "年龄岁"],
    "age_days": ["age_days", "ageday", "age_day", "年龄不足1周岁的年龄(天)", "年龄不足1周岁的年龄", "不足1周岁年龄(天)", "年龄(天)", "新生儿年龄(天)", "新生儿入院年龄(天)"],
    "weight_g": ["weight_g", "weight", "birth_weight", "新生儿出生体重(克)", "新生儿出生体重", "出生体重(克)", "出生体重", "新生儿体重(克)"],
    "dept": ["dept", "department", "科室", "科室代码", "出院科别", "出院科室", "出院科别代码", "科别"],
    "los_days": ["los_days", "los", "inhospitaltime", "住院天数", "实际住院天数", "实际住院(天)", "住院天数(天)"],
    "leaving_type": ["leaving_type", "leavingtype", "discharge_type", "离院方式", "离院方式代码"],
    "icu_hours": ["icu_hours", "icuhours", "重症监护时长(小时)", "重症监护室时长(小时)", "重症监护时长", "icu时长(小时)", "icu时长"],
    "admission_weight_g": ["admission_weight_g", "admission_weight", "入院体重", "入院体重(克)", "新生儿入院体重(克)",
                           "新生儿入院体重"],
    "new_technique": ["new_technique", "新技术", "是否新技术", "新技术标志", "新技术项目"],
    "intensive_care": ["intensive_care", "是否重症监护", "重症监护标志", "入住重症监护室", "是否入住重症监护室"],
    "day_surgery": ["day_surgery", "日间手术", "是否日间手术", "日间手术标志"],
    "crrt_hours": ["crrt_hours", "crrt时长(小时)", "crrt时长", "crrt治疗时长(小时)", "连续性肾脏替代治疗时长(小时)"],
    "dx": ["dx", "diagnoses", "zdlist", "诊断编码", "诊断代码", "诊断", "诊断列表"],
    "px": ["px", "procedures", "sslist", "手术操作编码", "手术及操作编码", "手术操作代码", "手术操作", "手术列表"],
}
# Wide layouts: the principal code column, then numbered columns (1..N) in their numeric order.
WIDE = {  # principal headers in order of preference: a code column before one that may hold the name
    "dx": (["主要诊断编码", "主要诊断代码", "出院主要诊断编码", "出院主要诊断代码", "主诊断编码", "主诊断代码",
            "主要诊断疾病编码", "主要诊断", "出院主要诊断", "主诊断"],
           ["其他诊断编码", "其他诊断代码", "次要诊断编码", "其他诊断疾病编码"]),
    "px": (["主要手术操作编码", "主要手术及操作编码", "主要手术编码", "主手术操作编码", "主要手术操作代码",
            "主要手术操作", "主要手术及操作", "主要手术", "主手术"],
           ["手术操作编码", "其他手术操作编码", "手术及操作编码", "其他手术及操作编码", "手术操作代码"]),
}
# the fields whose value decides the group: two input columns for one of them is an error, never a silent choice
DECISIVE = ("sex", "age_years", "age_days", "weight_g", "los_days", "leaving_type", "icu_hours", "admission_weight_g",
            "new_technique", "intensive_care", "day_surgery", "crrt_hours", "dx", "px")
_PRINCIPAL_HINT = {"dx": ("主", "诊断"), "px": ("主", "手术")}
DELIMITERS = r"[|,;]"


class ColumnError(ValueError):
    """An input table that cannot be grouped; the message names the problem and the fix."""


def norm_header(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(name))).lower()


_ALIAS_INDEX = {norm_header(a): canon for canon, names in ALIASES.items() for a in names}


def resolve_columns(names: list[str]) -> dict:
    """Map canonical name -> input column name (first match wins, canonical names first). Two columns for one
    field that decides the group (``sex`` and ``性别``) is a :class:`ColumnError` naming both."""
    found: dict = {}
    for name in names:
        canon = _ALIAS_INDEX.get(norm_header(name))
        if canon in DECISIVE and canon in found:
            raise ColumnError(f"columns {found[canon]} and {name} both give {canon}; keep one (drop or rename the other)")
        if canon and (canon not in found or norm_header(name) == canon):
            found[canon] = name
    return found


def wide_columns(names: list[str], which: str) -> list[str]:
    """The wide columns of ``which`` (dx or px) in order: principal, then 1..N. The principal column is the first
    of :data:`WIDE`'s headers the input has (a code column before a name column); numbered columns without a
    principal one are a :class:`ColumnError` naming the candidate headers: a secondary code is never taken for the
    principal."""
    main_names, numbered = WIDE[which]
    by_norm = {norm_header(n): n for n in reversed(names)}
    main = [by_norm[norm_header(m)] for m in main_names if norm_header(m) in by_norm]
    nums = []
    for n in names:
        h = norm_header(n)
        for stem in numbered:
            m = re.fullmatch(re.escape(norm_header(stem)) + r"(\d+)", h)
            if m:
                nums.append((int(m.group(1)), n))
                break
    if nums and not main:
        word = {"dx": "principal diagnosis", "px": "principal procedure"}[which]
        a, b = _PRINCIPAL_HINT[which]
        near = [n for n in names if a in n and b in n and n not in {x for _, x in nums}]
        raise ColumnError(f"numbered {which} columns ({nums[0][1]}, ...) but no {word} column is recognised"
                          + (f" (candidates: {', '.join(near[:5])})" if near else "")
                          + f"; rename the {word} code column to {main_names[0]}")
    return main[:1] + [n for _, n in sorted(nums)]


def _scalar_code_type(t) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t)
            or pa.types.is_integer(t) or pa.types.is_null(t))


def _code_list(col, name: str) -> pa.Array:
    """:func:`_as_list_column`, with a one-line error for a column that cannot hold codes."""
    t = col.type
    inner = t.value_type if (pa.types.is_list(t) or pa.types.is_large_list(t)) else t
    if not _scalar_code_type(inner):
        raise ColumnError(f"column {name} has type {t}; codes must be text (A|B) or a list of text codes, "
                          "not nested lists, structs or maps: re-export the column as text")
    try:
        return _as_list_column(col)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise ColumnError(f"column {name}: cannot read its codes as text ({str(e).splitlines()[0][:100]}); "
                          "re-export the column as UTF-8 text") from None


def _as_list_column(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A dx/px column as list<string>: lists pass through, strings are split on | , ;"""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    t = col.type
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        vt = t.value_type
        if pa.types.is_dictionary(vt):
            return col
        if not (pa.types.is_string(vt) or pa.types.is_large_string(vt)):
            col = pc.cast(col, pa.list_(pa.string()))
        return col
    if pa.types.is_dictionary(t):
        col = col.dictionary_decode()
        t = col.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        col = pc.cast(col, pa.string())
    # split at | , ; -- as split_pattern_regex(DELIMITERS), a third of its time: , and ; become | first
    parts = pc.split_pattern(pc.replace_substring(pc.replace_substring(pc.utf8_trim_whitespace(col), ",", "|"), ";", "|"), "|")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    keep = pc.not_equal(flat, "")
    lengths = pc.fill_null(pc.list_value_length(parts), 0)
    return _rebuild_lists(flat, lengths, keep)


def _rebuild_lists(flat: pa.Array, lengths, keep) -> pa.Array:
    import numpy as np

    lengths = np.asarray(lengths, dtype=np.int64)
    keep = np.asarray(pc.fill_null(keep, False), dtype=bool)
    bounds = np.zeros(len(lengths) + 1, dtype=np.int64)  # each row's range in ``flat``
    np.cumsum(lengths, out=bounds[1:])
    kept = np.zeros(len(keep) + 1, dtype=np.int64)  # codes kept before each position
    np.cumsum(keep, out=kept[1:])
    return pa.ListArray.from_arrays(pa.array(kept[bounds].astype(np.int32)), flat.filter(pa.array(keep)))


def _wide_to_list(table: pa.Table, cols: list[str]) -> pa.Array:
    """Wide columns -> list<string>, dropping blank cells, keeping column order."""
    import numpy as np

    n = table.num_rows
    k = len(cols)
    mats = []
    for c in cols:
        a = table.column(c)
        a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
        if pa.types.is_dictionary(a.type):
            a = a.dictionary_decode()
        if not pa.types.is_string(a.type):
            a = pc.cast(a, pa.string())
        mats.append(pc.utf8_trim_whitespace(a))
    # interleave row-major: row i's cells in column order
    flat = pa.concat_arrays(mats)
    order = (np.arange(k)[None, :] * n + np.arange(n)[:, None]).ravel()
    flat = flat.take(pa.array(order))
    keep = pc.and_(pc.is_valid(flat), pc.not_equal(pc.fill_null(flat, ""), ""))
    return _rebuild_lists(flat, np.full(n, k, dtype=np.int64), keep)


def canonicalize(table: pa.Table, required: tuple = REQUIRED) -> pa.Table:
    """Rename alias columns to canonical names and build list-typed ``dx``/``px``.

    Raises :class:`ColumnError` when a ``required`` column (default: sex, age, diagnoses) is missing.
    """
    names = table.column_names
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ColumnError(f"column(s) named twice: {', '.join(twice)}; rename or drop the copies (every column needs its own name)")
    found = resolve_columns(names)
    new_names = list(names)
    for canon, src in found.items():
        new_names[names.index(src)] = canon
    # a column already called like a canonical name but not chosen keeps a suffix
    seen: dict = {}
    for i, nm in enumerate(new_names):
        if nm in seen:
            new_names[i] = f"{nm}_{i}"
        seen[nm] = i
    table = table.rename_columns(new_names)
    for which in ("dx", "px"):
        if which in found:
            table = table.set_column(table.column_names.index(which), which, _code_list(table.column(which), found[which]))
        else:
            cols = wide_columns(names, which)
            if cols:
                table = table.append_column(which, _wide_to_list(table, cols))
    missing = [c for c in required if c not in table.column_names]
    if missing:
        hints = {"sex": "性别", "age_years": "年龄", "dx": "诊断编码 (a list or A|B string) or 主要诊断编码 + 其他诊断编码1..N"}
        raise ColumnError(
            "missing required column(s): " + ", ".join(f"{m} (or {hints[m]})" for m in missing)
            + f"; the input has {', '.join(names[:12])}{' ...' if len(names) > 12 else ''}. Rename the column or see README 'Input columns'"
        )
    return table
