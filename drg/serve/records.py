"""The JSON record of `drg serve`: what a request may carry, checked before anything is grouped.

A record is the input contract of `drg group` as JSON: the canonical fields or their Chinese aliases
(``grouper.columns``), wide code columns (主要诊断编码, 其他诊断编码1 ...), ``dx``/``px`` as lists or ``A|B`` strings,
values as numbers or text (男/女, ``70岁``), plus ``total_cost`` (总费用) for the payment estimate. Anything else is a
:class:`RequestError` with the fix, never a server error: an unknown field, a nested value, a text of 200+ characters.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

import pyarrow as pa

from grouper.columns import CANONICAL, WIDE, norm_header, resolve_columns

from ..contract import ALIASES as CONTRACT_ALIASES

COST_FIELDS = ("total_cost", "总费用", "住院总费用", "医疗总费用")
COST_SET = frozenset(COST_FIELDS)
MAX_CODES = 200  # codes in one list: a settlement list holds at most a few dozen
MAX_TEXT = 200  # characters of one value
MAX_RECORDS = 100_000  # records in one batch request
SEPARATORS = frozenset("|,;")  # of an A|B text
ASCII_CODE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.+*/- ")


def code_characters(scheme) -> frozenset:
    """The characters a code may hold: those of the scheme's own codes (ICD letters, digits, . + * /, and the few
    Chinese words some lists use), ASCII letters and digits, space. A code with any other character (< > ' " = ; $
    { } control characters ...) is no code of any scheme: refused with the fix, instead of grouped as unknown."""
    return (frozenset("".join(scheme.codes)) - {"\x00"}) | ASCII_CODE  # \x00 ends a prefix's entry, never a code


# read by /api/check, not by grouping (no patient or doctor identifiers: the checks need none)
LIST_FIELDS = ("hospital_id", "admit_date", "discharge_date", "total_cost", "drug_cost", "consumables_cost", "service_cost",
               "exam_cost", "other_cost", "self_pay")
_LIST_FIELDS = frozenset(norm_header(a) for k in LIST_FIELDS for a in CONTRACT_ALIASES[k])
_WIDE_STEMS = tuple(norm_header(x) for which in WIDE.values() for names in which for x in names)
_FIELDS_HELP = (", ".join(CANONICAL) + " (or their Chinese names: 性别, 年龄, 主要诊断编码, 其他诊断编码1 ...), total_cost, "
                "and for /api/check hospital_id, admit_date, discharge_date and the cost components")


class RequestError(ValueError):
    """A request the server will not group: ``error`` says what is wrong, ``fix`` what to send instead."""

    def __init__(self, error: str, fix: str, status: int = 400):
        super().__init__(error)
        self.error, self.fix, self.status = error, fix, status


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_kind(key: str) -> str | None:
    """"codes" (dx, px), "code" (a wide column: 主要诊断编码, 其他诊断编码3), "value", "cost", "list" (a field of the
    settlement list grouping does not read: hospital, dates, cost components; checked by /api/check) or None."""
    if key in COST_FIELDS:
        return "cost"
    found = resolve_columns([key])
    if found:
        return "codes" if next(iter(found)) in ("dx", "px") else "value"
    h = norm_header(key)
    if any(h == s or (h.startswith(s) and h[len(s):].isdigit()) for s in _WIDE_STEMS):
        return "code"
    if h in _LIST_FIELDS:
        return "list"
    return None


_KINDS: dict = {}


def field_kind(key: str) -> str | None:
    if key not in _KINDS:
        kind = _field_kind(key)
        if len(_KINDS) > 4096:
            return kind
        _KINDS[key] = kind
    return _KINDS[key]


def check_record(rec, where: str = "record", chars: frozenset = ASCII_CODE) -> dict:
    """The record itself when every field is one `drg group` reads and every code is made of ``chars``
    (:func:`code_characters`); :class:`RequestError` otherwise."""
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
                    check_code(c, chars, where, key)
                continue
            if v is None or (isinstance(v, str) and len(v) <= MAX_TEXT * 4):
                check_code(v, chars | SEPARATORS, where, key)
                continue
            raise RequestError(f"{where}: {key} is {_short(v)}", f'send {key} as a list of codes or one "A|B" text')
        if kind == "code":
            if v is None or (isinstance(v, str) and len(v) <= MAX_TEXT):
                check_code(v, chars, where, key)
                continue
            raise RequestError(f"{where}: {key} is {_short(v)}", f"{key} holds one code text, e.g. I21.000")
        if v is None or isinstance(v, (int, float)) and not isinstance(v, bool) or isinstance(v, str) and len(v) <= MAX_TEXT:
            continue
        raise RequestError(f"{where}: {key} is {_short(v)}", f"{key} is a number or a short text (男/女, 70岁, 3500克), or null")
    return rec


def check_code(c, chars: frozenset, where: str, key: str) -> None:
    if c and not (c.isascii() and c.isalnum()) and not set(unicodedata.normalize("NFKC", c)) <= chars:
        raise RequestError(f"{where}: {key} holds {_short(c)}, which is not a diagnosis or procedure code",
                           "send codes such as I21.000 or 36.0600 (letters, digits, . + * / and the scheme's own characters); "
                           "find a code by its name with GET /api/codes?q=名称")


def check_records(body, chars: frozenset = ASCII_CODE) -> dict:
    """The fields of a batch request's ``records`` as columns ({field: values, None where a record lacks it}, fields
    in the order they first appear), checked a field at a time over all records (each column's types, lengths and
    characters at once: 10,000 records in a few milliseconds); a column that fails is checked record by record for
    the message naming the first bad record."""
    recs = body.get("records")
    if not isinstance(recs, list):
        raise RequestError("records is not a list", '{"records": [{...}, {...}]}')
    if len(recs) > MAX_RECORDS:
        raise RequestError(f"{len(recs):,} records in one request", f"send at most {MAX_RECORDS:,} per request, or a file to /api/group-file", 413)
    if not all(type(r) is dict for r in recs):
        _one_by_one(recs, chars)
    cols = columns_of(recs)
    for key, vals in cols.items():
        kind = field_kind(key) if isinstance(key, str) else None
        if kind is None or not _column_ok(kind, vals, chars):
            _one_by_one(recs, chars)
    return cols


def columns_of(recs: list) -> dict:
    """{field: [value or None per record]}, the fields in the order they first appear."""
    return {k: [r.get(k) for r in recs] for k in dict.fromkeys(itertools.chain.from_iterable(recs))}


def _one_by_one(recs: list, chars: frozenset) -> None:
    for i, r in enumerate(recs):
        check_record(r, f"records[{i}]", chars)


_VALUE_TYPES = {int, float, str, type(None)}
_PATTERNS: dict = {}  # a character set -> the regular expression of any other character


def _foreign(chars: frozenset):
    if chars not in _PATTERNS:
        if len(_PATTERNS) > 16:
            _PATTERNS.clear()
        _PATTERNS[chars] = re.compile("[^" + "".join(re.escape(c) for c in sorted(chars)) + "]")
    return _PATTERNS[chars]


def _text_ok(texts: list, limit: int, chars: frozenset) -> bool:
    """Every text at most ``limit`` characters and made of ``chars`` (as :func:`check_code` reads them)."""
    if not texts:
        return True
    if max(map(len, texts)) > limit:
        return False
    joined = "".join(texts)
    foreign = _foreign(chars)
    return not foreign.search(joined) and (joined.isascii() or not foreign.search(unicodedata.normalize("NFKC", joined)))


def _column_ok(kind: str, vals: list, chars: frozenset) -> bool:
    """True when every value of one field would pass :func:`check_record` (a stricter test is fine: a False only
    sends the batch through the record-by-record check)."""
    types = set(map(type, vals))
    if kind == "codes":
        if not types <= {list, str, type(None)}:
            return False
        if types == {list}:  # the usual form
            if max(map(len, vals)) > MAX_CODES:
                return False
            flat = list(itertools.chain.from_iterable(vals))
            return set(map(type, flat)) <= {str} and _text_ok(flat, MAX_TEXT, chars)
        lists = [v for v in vals if type(v) is list]
        if lists and max(map(len, lists)) > MAX_CODES:
            return False
        flat = list(itertools.chain.from_iterable(lists))
        if not set(map(type, flat)) <= {str, type(None)}:
            return False
        return (_text_ok([c for c in flat if c], MAX_TEXT, chars)
                and _text_ok([v for v in vals if type(v) is str and v], MAX_TEXT * 4, chars | SEPARATORS))
    if kind == "code":
        return types <= {str, type(None)} and _text_ok([v for v in vals if v], MAX_TEXT, chars)
    if not types <= _VALUE_TYPES:
        return False
    texts = [v for v in vals if type(v) is str] if str in types else ()
    return not texts or max(map(len, texts)) <= MAX_TEXT


def grouping_fields(rec: dict) -> dict:
    """The record without the fields grouping does not read (the cost, the settlement list's other fields)."""
    kinds = [field_kind(k) for k in rec]
    return rec if "cost" not in kinds and "list" not in kinds else {k: v for k, v in rec.items() if field_kind(k) not in ("cost", "list")}


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
    """The records as one table, as `drg group` would read them from a file: see :func:`columns_table`."""
    return columns_table(columns_of(recs), len(recs))


def columns_table(cols: dict, n: int) -> pa.Table:
    """Columns (:func:`columns_of`) as one table, as `drg group` would read them from a file: the union of the
    records' fields (a field a record lacks is blank), lists of codes as lists of text, a field of mixed numbers and
    text as text."""
    out = {}
    for k, vals in cols.items():
        if field_kind(k) == "codes" and any(type(v) is list for v in vals):
            out[k] = pa.array([v if type(v) is list or v is None else _split(v) for v in vals], pa.list_(pa.string()))
            continue
        try:
            out[k] = pa.array(vals)
            if pa.types.is_null(out[k].type):
                out[k] = pa.array(vals, pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            out[k] = pa.array([None if v is None else str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                               for v in vals], pa.string())
    return pa.table(out) if out else pa.table({"sex": pa.nulls(n, pa.string())})
