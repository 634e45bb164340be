"""The JSON record of `drg serve`: what a request may carry, checked before anything is grouped.

A record is the input contract of `drg group` as JSON: the canonical fields or their Chinese aliases
(``grouper.columns``), wide code columns (主要诊断编码, 其他诊断编码1 ...), ``dx``/``px`` as lists or ``A|B`` strings,
values as numbers or text (男/女, ``70岁``), plus ``total_cost`` (总费用) for the payment estimate. Anything else is a
:class:`RequestError` with the fix, never a server error: an unknown field, a nested value, a text of 200+ characters.
"""

from __future__ import annotations

import re
import unicodedata

import pyarrow as pa

from grouper.columns import CANONICAL, WIDE, norm_header, resolve_columns

COST_FIELDS = ("total_cost", "总费用", "住院总费用", "医疗总费用")
MAX_CODES = 200  # codes in one list: a settlement list holds at most a few dozen
MAX_TEXT = 200  # characters of one value
MAX_RECORDS = 100_000  # records in one batch request
# what a diagnosis or procedure code is made of (ICD-10 / ICD-9-CM-3 as CHS-DRG writes them: I21.000x001, E10.400x110+G59.0*),
# after NFKC (full-width forms are codes typed on a Chinese keyboard; drg group warns about them); separators for A|B texts
CODE_TEXT = re.compile(r"[A-Za-z0-9.+*_\-x ]*")
CODES_TEXT = re.compile(r"[A-Za-z0-9.+*_\-x |,;]*")
_WIDE_STEMS = tuple(norm_header(x) for which in WIDE.values() for names in which for x in names)
_FIELDS_HELP = ", ".join(CANONICAL) + " (or their Chinese names: 性别, 年龄, 主要诊断编码, 其他诊断编码1 ...), total_cost"


class RequestError(ValueError):
    """A request the server will not group: ``error`` says what is wrong, ``fix`` what to send instead."""

    def __init__(self, error: str, fix: str, status: int = 400):
        super().__init__(error)
        self.error, self.fix, self.status = error, fix, status


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_kind(key: str) -> str | None:
    """"codes" (dx, px), "code" (a wide column: 主要诊断编码, 其他诊断编码3), "value", "cost" or None (unknown)."""
    if key in COST_FIELDS:
        return "cost"
    found = resolve_columns([key])
    if found:
        return "codes" if next(iter(found)) in ("dx", "px") else "value"
    h = norm_header(key)
    if any(h == s or (h.startswith(s) and h[len(s):].isdigit()) for s in _WIDE_STEMS):
        return "code"
    return None


_KINDS: dict = {}


def field_kind(key: str) -> str | None:
    if key not in _KINDS:
        kind = _field_kind(key)
        if len(_KINDS) > 4096:
            return kind
        _KINDS[key] = kind
    return _KINDS[key]


def check_record(rec, where: str = "record") -> dict:
    """The record itself when every field is one `drg group` reads; :class:`RequestError` otherwise."""
    if not isinstance(rec, dict):
        raise RequestError(f"{where} is {type(rec).__name__}, not a JSON object",
                           'send one object such as {"sex": 1, "age_years": 60, "dx": ["I21.000"], "px": []}')
    for key, v in rec.items():
        kind = field_kind(key)
        if kind is None:
            raise RequestError(f"{where}: unknown field {_short(key)}", f"use the fields of drg group's input: {_FIELDS_HELP}")
        if kind == "codes":
            if isinstance(v, list):
                if len(v) > MAX_CODES:
                    raise RequestError(f"{where}: {key} has {len(v)} codes", f"send at most {MAX_CODES} codes in one list")
                for c in v:
                    if not (c is None or isinstance(c, str)) or (isinstance(c, str) and len(c) > MAX_TEXT):
                        raise RequestError(f"{where}: {key} holds {_short(c)}", f'{key} is a list of code texts, e.g. ["I21.000", "I10.x00"]')
                    check_code(c, CODE_TEXT, where, key)
                continue
            if v is None or (isinstance(v, str) and len(v) <= MAX_TEXT * 4):
                check_code(v, CODES_TEXT, where, key)
                continue
            raise RequestError(f"{where}: {key} is {_short(v)}", f'send {key} as a list of codes or one "A|B" text')
        if kind == "code":
            if v is None or (isinstance(v, str) and len(v) <= MAX_TEXT):
                check_code(v, CODE_TEXT, where, key)
                continue
            raise RequestError(f"{where}: {key} is {_short(v)}", f"{key} holds one code text, e.g. I21.000")
        if v is None or isinstance(v, (int, float)) and not isinstance(v, bool):
            if isinstance(v, float) and v != v:
                continue
            continue
        if isinstance(v, str) and len(v) <= MAX_TEXT:
            continue
        raise RequestError(f"{where}: {key} is {_short(v)}", f"{key} is a number or a short text (男/女, 70岁, 3500克), or null")
    return rec


def check_code(c, pattern, where: str, key: str) -> None:
    if c and not pattern.fullmatch(unicodedata.normalize("NFKC", c)):
        raise RequestError(f"{where}: {key} holds {_short(c)}, which is not a diagnosis or procedure code",
                           "send codes such as I21.000 or 36.0600 (letters, digits and . + * x -); "
                           "find a code by its name with GET /api/codes?q=名称")


def check_records(body) -> list:
    """The ``records`` of a batch request, each checked."""
    recs = body.get("records")
    if not isinstance(recs, list):
        raise RequestError("records is not a list", '{"records": [{...}, {...}]}')
    if len(recs) > MAX_RECORDS:
        raise RequestError(f"{len(recs):,} records in one request", f"send at most {MAX_RECORDS:,} per request, or a file to /api/group-file", 413)
    for i, r in enumerate(recs):
        check_record(r, f"records[{i}]")
    return recs


def grouping_fields(rec: dict) -> dict:
    """The record without the fields grouping does not read (the cost)."""
    return {k: v for k, v in rec.items() if field_kind(k) != "cost"} if any(k in COST_FIELDS for k in rec) else rec


def cost_of(rec: dict) -> float | None:
    for k in COST_FIELDS:
        v = rec.get(k)
        if v is not None:
            try:
                return float(re.sub(r"[,，¥￥元\s]", "", v)) if isinstance(v, str) else float(v)
            except ValueError:
                raise RequestError(f"{k} is {_short(v)}", f"{k} is the case's total cost in yuan, a number") from None
    return None


def _split(text: str) -> list:
    """An ``A|B`` text as ``grouper.columns`` splits it (at | , ; with blanks dropped)."""
    return [x.strip() for x in re.split(r"[|,;]", text.strip()) if x.strip()]


def records_table(recs: list) -> pa.Table:
    """The records as one table, as `drg group` would read them from a file: the union of their fields (a field a
    record lacks is blank), lists of codes as lists of text, a field of mixed numbers and text as text."""
    keys: dict = {}
    for r in recs:
        for k in r:
            keys.setdefault(k, None)
    cols = {}
    for k in keys:
        vals = [r.get(k) for r in recs]
        if field_kind(k) == "codes" and any(isinstance(v, list) for v in vals):
            cols[k] = pa.array([v if isinstance(v, list) or v is None else _split(v) for v in vals], pa.list_(pa.string()))
            continue
        try:
            cols[k] = pa.array(vals)
            if pa.types.is_null(cols[k].type):
                cols[k] = pa.array(vals, pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            cols[k] = pa.array([None if v is None else str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                                for v in vals], pa.string())
    return pa.table(cols) if cols else pa.table({"sex": pa.nulls(len(recs))})
