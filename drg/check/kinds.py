"""The rule kinds, each implemented once and registered by name (a rule table row names its kind): adding a kind
touches no caller. A kind's ``find(rule, batch)`` returns the issues of one rule in one batch, vectorised: code
kinds test the batch's distinct codes once and gather to the codes by position; field kinds compare columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..io import InputError

CODE_FIELDS = ("dx", "px")


@dataclass
class Found:
    """The issues of one rule in one batch: row of each (in the batch), its value, and for a code issue the code's
    place among the batch's flat codes of ``which`` (what regrouping removes or corrects)."""

    rows: np.ndarray
    values: pa.Array
    elements: np.ndarray | None = None
    which: str | None = None


@dataclass(frozen=True)
class Kind:
    name: str
    find: Callable
    needs: tuple  # what a rule of this kind must give: codes, other_codes, sex, age, pattern, range, fields2, fields3
    code: bool  # a code kind: field is dx or px
    doc: str
    fix: str  # how regrouping fixes an issue: "remove" the code (a conversion where the scheme has one), "demote" it
    # (a code never principal made the last secondary), "add" a code the rule cannot name (not regrouped), "blank" the field


KINDS: dict = {}


def kind(name: str, *, needs: tuple = (), code: bool = False, fix: str | None = None):
    """Register a rule kind under ``name``."""
    def register(find):
        KINDS[name] = Kind(name, find, needs, code, (find.__doc__ or "").strip(), fix or ("remove" if code else "blank"))
        return find
    return register


def validate(rule, where: str) -> None:
    """One line naming what a rule of its kind lacks."""
    k = KINDS[rule.kind]
    if k.code and (len(rule.fields) != 1 or rule.field not in CODE_FIELDS):
        raise InputError(f"{where}: a {rule.kind} rule checks dx or px; write field dx or px")
    wants = {"codes": rule.codes is not None, "other_codes": rule.other is not None, "sex": rule.sex in (1, 2),
             "age_min or age_max": rule.age_min is not None or rule.age_max is not None,
             "pattern": bool(rule.pattern), "min or max": rule.min is not None or rule.max is not None,
             "2 fields": len(rule.fields) >= 2, "3 fields": len(rule.fields) == 3}
    for need in k.needs:
        if not wants[need]:
            raise InputError(f"{where}: a {rule.kind} rule needs {need}; see docs/check-rules.md")
    if rule.pattern:
        try:  # RE2 (linear time, no backreferences): a pattern is data, never a program
            pc.match_substring_regex(pa.array([""]), f"^(?:{rule.pattern})$")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise InputError(f"{where}: pattern {rule.pattern!r} is not a regular expression we read "
                             f"({str(e).splitlines()[0][:80]}); write e.g. [1-5]|9") from None


def _code_found(batch, rule, elements: np.ndarray) -> Found:
    c = batch.codes(rule.field)
    where = np.flatnonzero(elements)
    return Found(c.row[where], c.values(where), where, rule.field)


def _in_codes(batch, rule, codeset=None) -> np.ndarray:
    c = batch.codes(rule.field)
    return c.elements(batch.member(rule.field, codeset or rule.codes), rule.position)


def _outside(values: np.ndarray, low: float, high: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return ~np.isnan(values) & ((values < low) | (values > high))


@kind("unknown_code", code=True)
def unknown_code(rule, batch) -> Found:
    """A code the scheme does not list as a diagnosis (dx) or procedure (px) code; with ``codes``, one outside them."""
    c = batch.codes(rule.field)
    ok = batch.member(rule.field, rule.codes) if rule.codes is not None else batch.known(rule.field)
    return _code_found(batch, rule, c.elements(~ok & ~c.blank, rule.position))


@kind("code_position", needs=("codes",), code=True)
def code_position(rule, batch) -> Found:
    """A code of ``codes`` at ``position`` (principal, secondary or any)."""
    return _code_found(batch, rule, _in_codes(batch, rule))


@kind("not_principal", needs=("codes",), code=True, fix="demote")
def not_principal(rule, batch) -> Found:
    """A code of ``codes`` as the principal (first) code."""
    c = batch.codes(rule.field)
    return _code_found(batch, rule, c.elements(batch.member(rule.field, rule.codes), "principal"))


@kind("sex_code", needs=("codes", "sex"), code=True)
def sex_code(rule, batch) -> Found:
    """A code of ``codes`` (for one sex, ``sex``) on a case recorded as the other sex."""
    c = batch.codes(rule.field)
    sex = batch.sex[c.row]
    return _code_found(batch, rule, _in_codes(batch, rule) & (sex != 0) & (sex != rule.sex))


@kind("age_code", needs=("codes", "age_min or age_max"), code=True)
def age_code(rule, batch) -> Found:
    """A code of ``codes`` on a case whose age is outside ``age_min``..``age_max`` (``age_unit`` years or days)."""
    low, high, unit = rule.age_window()
    c = batch.codes(rule.field)
    return _code_found(batch, rule, _in_codes(batch, rule) & _outside(batch.age(unit), low, high)[c.row])


@kind("newborn_only", needs=("codes",), code=True)
def newborn_only(rule, batch) -> Found:
    """A code of ``codes`` for newborns on an older case: age above ``age_max`` days (default 28)."""
    c = batch.codes(rule.field)
    limit = 28.0 if rule.age_max is None else rule.age_max
    older = batch.age("days" if rule.age_unit in ("", "days") else "years") > limit
    return _code_found(batch, rule, _in_codes(batch, rule) & older[c.row])


@kind("maternal_only", needs=("codes",), code=True)
def maternal_only(rule, batch) -> Found:
    """A code of ``codes`` (pregnancy, childbirth) on a case not female, or aged outside ``age_min``..``age_max``."""
    c = batch.codes(rule.field)
    low, high, unit = rule.age_window()
    sex = batch.sex
    wrong = ((sex != 0) & (sex != 2)) | _outside(batch.age(unit), low, high)
    return _code_found(batch, rule, _in_codes(batch, rule) & wrong[c.row])


@kind("dagger_asterisk", needs=("codes",), code=True)
def dagger_asterisk(rule, batch) -> Found:
    """An asterisk code (of ``codes``, or written with ``*``) not combined with its dagger code (``A+B*``) and not
    right after a code written with ``†`` or ``+`` (or, given ``other_codes``, one of them)."""
    c = batch.codes(rule.field)
    star = (batch.member(rule.field, rule.codes) | c.asterisk) & ~c.combined
    elements = c.elements(star, rule.position)
    prev = np.flatnonzero(elements)
    ok = np.zeros(len(prev), dtype=bool)
    has_prev = c.pos[prev] > 0
    before = c.idx[prev[has_prev] - 1]
    dagger = c.dagger[before]
    if rule.other is not None:
        dagger |= batch.member(rule.field, rule.other)[before]
    ok[has_prev] = dagger
    elements[prev[ok]] = False
    return _code_found(batch, rule, elements)


@kind("requires_code", needs=("codes", "other_codes"), code=True, fix="add")
def requires_code(rule, batch) -> Found:
    """A code of ``codes`` (at ``position``) on a case with no code of ``other_codes``."""
    c = batch.codes(rule.field)
    has_other = c.rows_having(batch.member(rule.field, rule.other), batch.n)
    return _code_found(batch, rule, _in_codes(batch, rule) & ~has_other[c.row])


@kind("exclusive_codes", needs=("codes", "other_codes"), code=True)
def exclusive_codes(rule, batch) -> Found:
    """A code of ``codes`` on a case that also has a code of ``other_codes``."""
    c = batch.codes(rule.field)
    other = batch.member(rule.field, rule.other)
    has_other = c.rows_having(other & ~batch.member(rule.field, rule.codes), batch.n)
    return _code_found(batch, rule, _in_codes(batch, rule) & has_other[c.row])


def _field_found(batch, rule, mask: np.ndarray, values=None) -> Found:
    rows = np.flatnonzero(mask)
    if values is None:
        text = batch.text(rule.field, pa.array(rows))
        values = pa.nulls(len(rows), pa.string()) if text is None else text
    return Found(rows, values)


def _in_scope(rule, batch) -> np.ndarray:
    """Rows a field rule applies to: every row, or those aged within the rule's ages."""
    if rule.age_min is None and rule.age_max is None:
        return np.ones(batch.n, dtype=bool)
    low, high, unit = rule.age_window()
    age = batch.age(unit)
    with np.errstate(invalid="ignore"):
        return (age >= low) & (age <= high)


@kind("required_field")
def required_field(rule, batch) -> Found | None:
    """A blank value (null, empty, no code); with several fields ``a|b``, all blank. With ``age_min``/``age_max``,
    only for cases of those ages. A rule whose columns are all absent is not applied (the run says so)."""
    blanks = [b for b in (batch.blank(f) for f in rule.fields) if b is not None]
    if not blanks:
        return None
    mask = np.logical_and.reduce(blanks) & _in_scope(rule, batch)
    return _field_found(batch, rule, mask, values=pa.nulls(int(mask.sum()), pa.string()))


@kind("field_format", needs=("pattern",))
def field_format(rule, batch) -> Found | None:
    """A non-blank value that is not wholly matched by ``pattern`` (RE2 syntax)."""
    text = batch.text(rule.field)
    if text is None:
        return None
    enc = pc.dictionary_encode(text)  # a field of few values: each distinct value matched once
    wrong = pc.and_(pc.not_equal(enc.dictionary, ""), pc.invert(pc.match_substring_regex(enc.dictionary, f"^(?:{rule.pattern})$")))
    lookup = np.append(np.asarray(wrong, dtype=bool), False)
    mask = lookup[pc.fill_null(enc.indices, len(enc.dictionary)).to_numpy(zero_copy_only=False)]
    return _field_found(batch, rule, mask & _in_scope(rule, batch))


@kind("field_range", needs=("min or max",))
def field_range(rule, batch) -> Found | None:
    """A non-blank value that is not a number, or below ``min`` or above ``max``."""
    got = batch.numbers(rule.field)
    if got is None:
        return None
    v, bad = got
    low = -np.inf if rule.min is None else rule.min
    high = np.inf if rule.max is None else rule.max
    return _field_found(batch, rule, (bad | _outside(v, low, high)) & _in_scope(rule, batch))


@kind("date_los", needs=("2 fields",))
def date_los(rule, batch) -> Found | None:
    """Admission and discharge dates (``field`` admit|discharge|los): unreadable, discharge before admission, or
    the length of stay more than ``tolerance`` days from discharge minus admission (a same-day stay counts 1)."""
    admit, discharge = batch.dates(rule.fields[0]), batch.dates(rule.fields[1])
    if admit is None or discharge is None:
        return None
    a, d = admit[0], discharge[0]
    with np.errstate(invalid="ignore"):
        wrong = admit[1] | discharge[1] | (d < a)
        los = batch.numbers(rule.fields[2]) if len(rule.fields) > 2 else None
        if los is not None:
            expected = np.maximum(d - a, 1)
            wrong |= np.abs(los[0] - expected) > rule.tolerance
    rows = np.flatnonzero(wrong)
    parts = [batch.text(f, pa.array(rows)) for f in rule.fields if batch.has(f)]
    values = pc.binary_join_element_wise(*[pc.fill_null(p, "") for p in parts], " / ")
    return Found(rows, values)


@kind("cost_total", needs=("2 fields",))
def cost_total(rule, batch) -> Found | None:
    """Cost components (``field`` total|part|part...) that do not add up to the total within ``tolerance`` yuan;
    with some parts absent from the file, parts that exceed the total. Blank parts count 0."""
    total = batch.numbers(rule.fields[0])
    parts = [batch.numbers(f) for f in rule.fields[1:]]
    present = [p for p in parts if p is not None]
    if total is None or not present:
        return None
    s = np.sum([np.nan_to_num(p[0]) for p in present], axis=0)
    t = total[0]
    with np.errstate(invalid="ignore"):
        diff = s - t
        wrong = ~np.isnan(t) & ((np.abs(diff) > rule.tolerance + 1e-9) if len(present) == len(parts) else (diff > rule.tolerance + 1e-9))
    rows = np.flatnonzero(wrong)
    values = pa.array([f"{s[i]:.2f} ≠ {t[i]:.2f}" for i in rows], pa.string())
    return Found(rows, values)


@kind("duplicate_case", needs=())
def duplicate_case(rule, batch) -> Found | None:
    """A case whose ``field`` values (e.g. hospital_id|case_id) all equal an earlier case's; every later copy is
    an issue. ``drg check`` compares across the whole input (keys spilled to disk by hash, so memory stays by
    batch); one batch alone (``drg group --check``, ``drg serve``) compares within it."""
    keys = duplicate_keys(rule, batch)
    if keys is None:
        return None
    import pandas as pd

    s = pd.Series(keys.to_numpy(zero_copy_only=False), dtype=object)
    mask = s.duplicated().to_numpy() & s.notna().to_numpy()
    return _field_found(batch, rule, mask, values=keys.filter(pa.array(mask)))


def duplicate_keys(rule, batch) -> pa.Array | None:
    """Each row's key (the fields' values joined by ``/``), null where a field is blank; None when a field is absent."""
    texts = [batch.text(f) for f in rule.fields]
    if any(t is None for t in texts):
        return None
    blank = pc.equal(texts[0], "")
    for t in texts[1:]:
        blank = pc.or_kleene(blank, pc.equal(t, ""))
    joined = pc.binary_join_element_wise(*texts, "/") if len(texts) > 1 else texts[0]
    return pc.if_else(pc.fill_null(blank, True), pa.scalar(None, pa.string()), joined)
