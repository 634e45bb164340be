"""One batch of records as the rule kinds read it: columns found once under their canonical names, codes
flattened and dictionary-encoded once (each rule looks at the batch's distinct codes, then gathers to the codes
by position), and the values rules compare (sex, age, numbers, dates) parsed once per batch, on demand."""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grouper.columns import canonicalize, norm_header
from grouper.records import SEX_WORDS

SEX_VALUES = {"1": 1, "2": 2, **SEX_WORDS}


def _plain(col) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return col


def as_text(col: pa.Array) -> pa.Array:
    """Values as trimmed text (numbers written as they read: 1, not 1.0), null stays null."""
    if pa.types.is_floating(col.type):
        v = col.to_numpy(zero_copy_only=False)
        if np.all(np.isnan(v) | (v == np.round(v))):
            col = pc.cast(pc.cast(col, pa.int64(), safe=False), pa.string())
    if not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())
    return pc.utf8_trim_whitespace(col)


def normal_codes(codes: pa.Array) -> np.ndarray:
    """Codes as rules compare them (``drg.check.rules.normal_code``, vectorised): upper case, the part before ``+``,
    without ``.``, ``*``, ``†`` and spaces; a numpy unicode array."""
    trimmed = pc.utf8_upper(pc.utf8_trim_whitespace(pc.fill_null(codes, "")))
    primary = pc.list_element(pc.split_pattern(trimmed, "+", max_splits=1), 0)
    normal = pc.replace_substring_regex(primary, r"[.*†\s]", "")
    return np.asarray(normal.to_numpy(zero_copy_only=False), dtype="U16")


def _numbers_with_units(text: pa.Array, field: str) -> tuple[np.ndarray, np.ndarray]:
    """Text numbers read as the grouper reads them (``grouper.records.UNITS``: 70岁, 3500克, 3.5kg = 3500 g, 12天; 元
    after a number of a field the grouper does not read): values (NaN when blank or unreadable) and the mask of
    unreadable non-blank values (a unit the field has not: 3斤)."""
    from grouper.records import INT_COLUMNS, UNITS

    slot = next((s for s, c in INT_COLUMNS.items() if c == field), None)
    units = {"": 1, **(UNITS.get(slot, {}) if slot else {"元": 1})}
    parts = pc.extract_regex(pc.utf8_lower(text), r"^(?P<n>[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(?P<u>[^\d\s.+-]*)$")
    number = pc.cast(pc.struct_field(parts, [0]), pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    at = pc.index_in(pc.struct_field(parts, [1]), value_set=pa.array(list(units)))
    factor = np.append(np.array(list(units.values()), dtype=np.float64), np.nan)
    v = number * factor[pc.fill_null(at, len(units)).to_numpy(zero_copy_only=False)]
    filled = np.asarray(pc.fill_null(pc.not_equal(text, ""), False), dtype=bool)
    return v, filled & np.isnan(v)


class SchemeCodes:
    """The scheme's codes as rules compare them, and each code set's membership over them, computed once per
    scheme and code set: a batch then looks its codes' membership up by scheme id, and tests only the codes the
    scheme does not have."""

    def __init__(self, scheme):
        self.norm = normal_codes(scheme.value_set)
        self._sets: dict = {}

    def member(self, codeset) -> np.ndarray:
        key = id(codeset)
        if key not in self._sets:
            self._sets[key] = (codeset, codeset.contains(self.norm))  # the set is kept: its id stays its own
        return self._sets[key][1]


class Codes:
    """The dx (or px) lists of a batch: flat codes, each code's row and place in its list, the batch's distinct
    codes (raw and as :func:`drg.check.rules.normal_code` writes them) and each code's index among them."""

    def __init__(self, col: pa.Array | None, n: int):
        if col is None:
            col = pa.array([[]] * n, pa.list_(pa.string()))
        col = _plain(col)
        lengths = pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        self.off = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.off[1:])
        values = pc.list_flatten(col)
        if pa.types.is_dictionary(values.type):
            self.raw, idx = values.dictionary, values.indices
        else:
            enc = pc.dictionary_encode(pc.fill_null(values, ""))
            self.raw, idx = enc.dictionary, enc.indices
        self.raw = pc.cast(self.raw, pa.string()) if not pa.types.is_string(self.raw.type) else self.raw
        self.idx = pc.fill_null(idx, 0).to_numpy(zero_copy_only=False).astype(np.int64)
        self.row = np.repeat(np.arange(n, dtype=np.int64), lengths)
        self.pos = np.arange(len(self.row), dtype=np.int64) - self.off[self.row]
        trimmed = pc.utf8_upper(pc.utf8_trim_whitespace(pc.fill_null(self.raw, "")))
        self._trimmed = trimmed
        self.blank = np.asarray(pc.equal(trimmed, ""), dtype=bool)
        self.combined = np.asarray(pc.match_substring(trimmed, "+"), dtype=bool)  # A01.002+G01*: dagger and asterisk
        self.asterisk = np.asarray(pc.ends_with(trimmed, "*"), dtype=bool)
        self.dagger = np.asarray(pc.or_(pc.ends_with(trimmed, "†"), pc.ends_with(trimmed, "+")), dtype=bool)

    @functools.cached_property
    def norm(self) -> np.ndarray:
        """The distinct codes as rules compare them (:func:`normal_codes`)."""
        return normal_codes(self._trimmed)

    def elements(self, in_set: np.ndarray, position: str = "any") -> np.ndarray:
        """Mask over the flat codes: the code's distinct value is in ``in_set``, at ``position``."""
        if position == "principal":  # one code a row: gather those only
            m = np.zeros(len(self.idx), dtype=bool)
            first = self.off[:-1][np.diff(self.off) > 0]
            m[first] = in_set[self.idx[first]]
            return m
        m = in_set[self.idx]
        if position == "secondary":
            m &= self.pos > 0
        return m

    def rows_having(self, in_set: np.ndarray, n: int) -> np.ndarray:
        """Mask over rows: some code of the row is in ``in_set``."""
        out = np.zeros(n, dtype=bool)
        out[self.row[in_set[self.idx]]] = True
        return out

    def lists(self, rows: np.ndarray) -> pa.ListArray:
        """The code lists of ``rows`` as list<string> (what the grouper reads), gathered for those rows only."""
        lengths = self.off[rows + 1] - self.off[rows]
        off = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=off[1:])
        owner = np.repeat(np.arange(len(rows)), lengths)
        pos = self.off[rows][owner] + (np.arange(off[-1]) - off[owner])
        return pa.ListArray.from_arrays(pa.array(off.astype(np.int32)), self.raw.take(pa.array(self.idx[pos])))

    def values(self, elements: np.ndarray) -> pa.Array:
        return self.raw.take(pa.array(self.idx[elements]))


class Batch:
    """A batch of input records for the rules: ``n`` rows, ``first_row`` its first row's number in the input."""

    def __init__(self, table: pa.Table, scheme, first_row: int = 0, aliases: dict | None = None,
                 scheme_codes: SchemeCodes | None = None):
        from ..contract import resolve

        self.scheme_codes = scheme_codes or SchemeCodes(scheme)
        self.canon = canonicalize(table)
        self.n = table.num_rows
        self.first_row = first_row
        self.scheme = scheme
        names = self.canon.column_names
        self.found = {c: c for c in names}
        for canon, col in resolve(names, aliases).items():
            self.found.setdefault(canon, col)
        self._norm = {norm_header(c): c for c in reversed(names)}
        self._memo: dict = {}

    def column(self, field: str) -> pa.Array | None:
        """The column a rule names: a canonical name (or its aliases), else the input's header as written."""
        name = self.found.get(field) or self._norm.get(norm_header(field))
        return None if name is None else _plain(self.canon.column(name))

    def has(self, field: str) -> bool:
        return field in self.found or norm_header(field) in self._norm

    def codes(self, which: str) -> Codes:
        key = ("codes", which)
        if key not in self._memo:
            self._memo[key] = Codes(self.column(which) if which in self.found else None, self.n)
        return self._memo[key]

    def scheme_ids(self, which: str) -> np.ndarray:
        """Per distinct code of ``which``: its id in the scheme's code dictionary, -1 when it has none."""
        from grouper.records import encode_codes

        key = ("ids", which)
        if key not in self._memo:
            c = self.codes(which)
            ids, _ = encode_codes(c.raw, pa.array(np.arange(len(c.raw), dtype=np.int64)), self.scheme.value_set,
                                  self.scheme.code_index)
            self._memo[key] = ids
        return self._memo[key]

    def member(self, which: str, codeset) -> np.ndarray:
        """Per distinct code of ``which``: in ``codeset``. Codes the scheme has are looked up in the scheme-wide
        membership; the others are tested here."""
        key = ("member", which, id(codeset))
        if key not in self._memo:
            ids = self.scheme_ids(which)
            out = np.zeros(len(ids), dtype=bool)
            have = ids >= 0
            out[have] = self.scheme_codes.member(codeset)[ids[have]]
            if not have.all():
                out[~have] = codeset.contains(self.codes(which).norm[~have])
            self._memo[key] = out
        return self._memo[key]

    def known(self, which: str) -> np.ndarray:
        """Per distinct code of ``which``: known to the scheme as a ``which`` code (the grouper's own test)."""
        ids = self.scheme_ids(which)
        return (ids >= 0) & self.scheme.arrays[which + "_known"][np.where(ids >= 0, ids, 0)]

    def conversions(self, which: str) -> np.ndarray:
        """Per distinct code of ``which``: the scheme id of its conversion (``dx_map``/``px_map``) when that is
        another code, else -1."""
        ids = self.scheme_ids(which)
        safe = np.where(ids >= 0, ids, 0)
        target = np.where(ids >= 0, self.scheme.arrays[which + "_map"][safe], -1)
        return np.where(target != ids, target, -1)

    @functools.cached_property
    def sex(self) -> np.ndarray:
        """1 male, 2 female, 0 blank or unreadable."""
        col = self.column("sex")
        if col is None:
            return np.zeros(self.n, dtype=np.int8)
        text = pc.utf8_lower(as_text(col))
        keys = list(SEX_VALUES)
        pos = pc.fill_null(pc.index_in(text, value_set=pa.array(keys)), -1).to_numpy(zero_copy_only=False)
        lookup = np.array([SEX_VALUES[k] for k in keys] + [0], dtype=np.int8)
        return lookup[np.where(pos < 0, len(keys), pos)]

    def blank(self, field: str) -> np.ndarray | None:
        """Mask of blank values (null, empty text, an empty code list); None when the column is absent."""
        if field in ("dx", "px"):
            if field not in self.found:
                return None
            c = self.codes(field)
            first = np.ones(self.n, dtype=bool)
            has = np.diff(c.off) > 0
            first[has] = c.blank[c.idx[c.off[:-1][has]]]
            return first
        col = self.column(field)
        if col is None:
            return None
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            return np.asarray(col.is_null(), dtype=bool)  # a number or a date is blank only when null
        return np.asarray(pc.fill_null(pc.equal(self.text(field), ""), True), dtype=bool)

    def text(self, field: str, rows: pa.Array | None = None) -> pa.Array | None:
        """The column as trimmed text (of ``rows`` only, when given); None when absent."""
        col = self.column(field)
        if col is None:
            return None
        if rows is not None:
            return as_text(col.take(rows))
        key = ("text", field)
        if key not in self._memo:
            self._memo[key] = as_text(col)
        return self._memo[key]

    def numbers(self, field: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(values as float64, NaN when blank or unreadable; mask of unreadable non-blank values)."""
        key = ("num", field)
        if key in self._memo:
            return self._memo[key]
        col = self.column(field)
        if col is None:
            return None
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_boolean(col.type):
            v = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
            bad = np.zeros(self.n, dtype=bool)
        else:
            v, bad = _numbers_with_units(as_text(col), field)
        self._memo[key] = (v, bad)
        return v, bad

    def dates(self, field: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(days since 1970-01-01 as float64, NaN when blank or unreadable; mask of unreadable values)."""
        col = self.column(field)
        if col is None:
            return None
        if pa.types.is_timestamp(col.type) or pa.types.is_date64(col.type):
            col = pc.cast(col, pa.date32())
        if pa.types.is_date32(col.type):
            v = pc.cast(col, pa.int32()).to_numpy(zero_copy_only=False).astype(np.float64)
            return v, np.zeros(self.n, dtype=bool)
        text = as_text(col)
        iso = pc.replace_substring_regex(pc.replace_substring_regex(text, r"[/.年月]", "-"), r"^(\d{4})(\d{2})(\d{2})", r"\1-\2-\3")
        day = pc.utf8_slice_codeunits(iso, 0, 10)
        parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
        v = pc.cast(pc.cast(parsed, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False).astype(np.float64)
        filled = np.asarray(pc.fill_null(pc.not_equal(text, ""), False), dtype=bool)
        return v, filled & np.isnan(v)

    @functools.cached_property
    def age_days(self) -> np.ndarray:
        """Age in days: the days column for a child under one (or when the years are blank), else years x 365."""
        years = self.numbers("age_years")
        days = self.numbers("age_days")
        y = years[0] if years is not None else np.full(self.n, np.nan)
        d = days[0] if days is not None else np.full(self.n, np.nan)
        use_days = ~np.isnan(d) & (np.isnan(y) | (y == 0))
        return np.where(use_days, d, y * 365.0)

    @functools.cached_property
    def age_years(self) -> np.ndarray:
        years = self.numbers("age_years")
        y = years[0] if years is not None else np.full(self.n, np.nan)
        return np.where(np.isnan(y), self.age_days / 365.0, y)

    def age(self, unit: str) -> np.ndarray:
        return self.age_days if unit == "days" else self.age_years
