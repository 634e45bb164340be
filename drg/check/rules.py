"""The rule table of ``drg check`` (docs/check-rules.md): one CSV row per rule, of a kind the engine implements
once (:mod:`drg.check.kinds`). The package's default rules (``drg/data/check/rules.csv``) come first; every
``*.csv`` of ``--rules DIR`` follows in name order, and a row whose ``rule_id`` is already known replaces that
rule (``severity`` ``off`` switches it off). A rule is data only: code sets are prefixes and ranges, patterns are
RE2 expressions (linear time, no code), every value is checked when the table is read."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import InputError

COLUMNS = ("rule_id", "kind", "severity", "field", "codes", "other_codes", "position", "sex", "age_min", "age_max",
           "age_unit", "min", "max", "pattern", "tolerance", "message_zh", "message_en", "source", "source_en")
NEEDED = ("rule_id", "kind", "severity", "field", "message_zh", "message_en")
SEVERITIES = ("error", "warning", "off")
POSITIONS = ("any", "principal", "secondary")
DEFAULT_RULES = str(Path(__file__).resolve().parent.parent / "data" / "check" / "rules.csv")
_STRIP = str.maketrans("", "", ".*†+ \t")


def normal_code(text: str) -> str:
    """A code as rules compare it: upper case, the part before ``+`` (a combined dagger-asterisk code is its
    dagger code), without ``.``, ``*``, ``†`` and spaces: ``A01.002+G01*`` -> ``A01002``, ``g01*`` -> ``G01``."""
    return str(text).strip().upper().split("+", 1)[0].translate(_STRIP)


class CodeSet:
    """Codes given as prefixes and ranges joined by ``|``: ``O00-O99|Z37`` holds every code whose first three
    characters are from O00 to O99, and every code starting Z37 (compared as :func:`normal_code` writes them)."""

    def __init__(self, text: str, where: str):
        self.text = text
        self.parts = []
        for token in filter(None, (t.strip() for t in str(text).split("|"))):
            lo, _, hi = token.partition("-")
            lo, hi = normal_code(lo), normal_code(hi or lo)
            if not lo or not hi or not (lo + hi).isalnum() or not (lo + hi).isascii() or lo[:len(hi)] > hi[:len(lo)]:
                raise InputError(f"{where}: codes {token!r} is not a code prefix or range; write e.g. O00-O99|Z37")
            self.parts.append((lo, hi))
        if not self.parts:
            raise InputError(f"{where}: codes is empty; write code prefixes or ranges, e.g. O00-O99|Z37")

    def contains(self, codes: np.ndarray) -> np.ndarray:
        """Membership of each of ``codes`` (a numpy unicode array of normal codes), vectorised: a prefix compare
        is a cast to the prefix's width (numpy truncates), so no code is looked at in Python."""
        out = np.zeros(len(codes), dtype=bool)
        for lo, hi in self.parts:
            if lo == hi:
                out |= codes.astype(f"U{len(lo)}") == lo
            else:
                out |= (codes.astype(f"U{len(lo)}") >= lo) & (codes.astype(f"U{len(hi)}") <= hi)
        return out


@dataclass(frozen=True)
class Rule:
    """One checked rule (a row of a rule table, validated)."""

    rule_id: str
    kind: str
    severity: str
    fields: tuple
    codes: CodeSet | None
    other: CodeSet | None
    position: str
    sex: int
    age_min: float | None
    age_max: float | None
    age_unit: str
    min: float | None
    max: float | None
    pattern: str
    tolerance: float
    message_zh: str
    message_en: str
    source: str
    source_en: str = ""

    @property
    def field(self) -> str:
        return self.fields[0]

    def message(self, lang: str) -> str:
        return self.message_zh if lang == "zh" else self.message_en

    def cited(self, lang: str) -> str:
        """The source in ``lang`` (``source`` in Chinese, ``source_en`` in English; either when the other is blank)."""
        return (self.source or self.source_en) if lang == "zh" else (self.source_en or self.source)

    def age_window(self) -> tuple:
        """(low, high, unit) of the rule's ages, open ends as -inf / inf."""
        return (-np.inf if self.age_min is None else self.age_min, np.inf if self.age_max is None else self.age_max,
                self.age_unit or "years")


def _number(v: str, where: str, name: str):
    if not v:
        return None
    try:
        x = float(v)
    except ValueError:
        x = float("nan")
    if not np.isfinite(x):
        raise InputError(f"{where}: {name} {v!r} is not a number; write a number or leave it blank")
    return x


def _rule(row: dict, where: str) -> Rule:
    from .kinds import KINDS, validate

    kind = row["kind"]
    if kind not in KINDS:
        raise InputError(f"{where}: kind {kind!r} is not one of ours; use one of {', '.join(sorted(KINDS))}")
    severity = row["severity"].lower()
    if severity not in SEVERITIES:
        raise InputError(f"{where}: severity {row['severity']!r}; use error, warning or off")
    position = (row.get("position") or "any").lower()
    if position not in POSITIONS:
        raise InputError(f"{where}: position {row['position']!r}; use any, principal or secondary")
    unit = (row.get("age_unit") or "").lower()
    if unit not in ("", "years", "days"):
        raise InputError(f"{where}: age_unit {row['age_unit']!r}; use years or days")
    sex = row.get("sex") or ""
    if sex not in ("", "1", "2"):
        raise InputError(f"{where}: sex {sex!r}; use 1 (male) or 2 (female), or leave it blank")
    for name in ("message_zh", "message_en"):
        if not row.get(name):
            raise InputError(f"{where}: {name} is blank; write what the coder should read")
    rule = Rule(
        rule_id=row["rule_id"], kind=kind, severity=severity,
        fields=tuple(f.strip() for f in row["field"].split("|") if f.strip()),
        codes=CodeSet(row["codes"], where) if row.get("codes") else None,
        other=CodeSet(row["other_codes"], where) if row.get("other_codes") else None,
        position=position, sex=int(sex) if sex else 0,
        age_min=_number(row.get("age_min", ""), where, "age_min"), age_max=_number(row.get("age_max", ""), where, "age_max"),
        age_unit=unit, min=_number(row.get("min", ""), where, "min"), max=_number(row.get("max", ""), where, "max"),
        pattern=row.get("pattern") or "", tolerance=_number(row.get("tolerance", ""), where, "tolerance") or 0.0,
        message_zh=row["message_zh"], message_en=row["message_en"], source=row.get("source") or "",
        source_en=row.get("source_en") or "")
    if not rule.fields:
        raise InputError(f"{where}: field is blank; name the column the rule checks (e.g. dx, sex, los_days)")
    validate(rule, where)
    return rule


def read_rule_table(path: str, option: str = "--rules") -> list[Rule]:
    """The rules of one CSV (UTF-8 or GBK), every row checked; one line naming the file and row otherwise."""
    from ..tables import option_csv

    t = option_csv(path, f"{option}", NEEDED, "rule_id, kind, severity, field, message_zh, message_en (docs/check-rules.md)",
                   ids=("rule_id", "kind", "severity", "field"), unique=("rule_id",), optional=COLUMNS)
    unknown = [c for c in t.columns if c not in COLUMNS]
    if unknown:
        raise InputError(f"{option} {path}: unknown column {', '.join(unknown[:5])}; the columns are {', '.join(COLUMNS)}")
    t = t.fillna("")
    return [_rule({k: str(v).strip() for k, v in r.items()}, f"{option} {path} row {i + 2} ({r['rule_id']})")
            for i, r in enumerate(t.to_dict("records"))]


def load_rules(rules_dir: str | None = None, defaults: bool = True) -> list[Rule]:
    """The default rules, then every ``*.csv`` of ``rules_dir`` in name order (a known ``rule_id`` replaces the
    rule; severity ``off`` removes it). ``rules_dir`` may also be one CSV file."""
    rules: dict = {}
    files = [DEFAULT_RULES] if defaults else []
    if rules_dir:
        if os.path.isdir(rules_dir):
            found = sorted(str(p) for p in Path(rules_dir).glob("*.csv"))
            if not found:
                raise InputError(f"--rules {rules_dir}: no .csv file in the folder; put rule tables (docs/check-rules.md) in it")
            files += found
        elif os.path.isfile(rules_dir):
            files.append(rules_dir)
        else:
            raise InputError(f"--rules {rules_dir}: no such folder or file; give a folder of rule tables (CSV)")
    for f in files:
        for rule in read_rule_table(f):
            rules.pop(rule.rule_id, None)
            rules[rule.rule_id] = rule
    return [r for r in rules.values() if r.severity != "off"]
