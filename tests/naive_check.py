"""A slow, obvious reference of ``drg check``'s rule kinds, written from docs/check-rules.md alone: its own CSV
reading of the rule tables, one record at a time in plain Python, no code shared with drg.check."""

from __future__ import annotations

import csv
import functools
import datetime as dt
import re


COLUMNS = ("rule_id", "kind", "severity", "field", "codes", "other_codes", "position", "sex", "age_min", "age_max",
           "age_unit", "min", "max", "pattern", "tolerance")


def read_rules(*paths) -> list[dict]:
    rules: dict = {}
    for p in paths:
        with open(p, encoding="utf-8-sig", newline="") as f:
            for r in csv.DictReader(f):
                rules.pop(r["rule_id"], None)
                rules[r["rule_id"]] = {k: (r.get(k) or "").strip() for k in COLUMNS}
    return [r for r in rules.values() if r["severity"] != "off"]


def norm(code: str) -> str:
    c = str(code).strip().upper().split("+")[0]
    return "".join(ch for ch in c if ch not in ".*† \t")


@functools.lru_cache(maxsize=None)
def _ranges(text: str) -> tuple:
    out = []
    for token in text.split("|"):
        lo, _, hi = token.strip().partition("-")
        out.append((norm(lo), norm(hi or lo)))
    return tuple(out)


def in_set(code: str, text: str) -> bool:
    c = norm(code)
    for lo, hi in _ranges(text):
        if lo == hi and c.startswith(lo):
            return True
        if lo != hi and c[:len(lo)] >= lo and c[:len(hi)] <= hi:
            return True
    return False


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or str(v).strip() == ""


def _num(v):
    if _blank(v):
        return None
    try:
        return float(str(v).strip())
    except ValueError:
        return "bad"


def _sex(v) -> int:
    s = "" if _blank(v) else str(v).strip().lower()
    if s.endswith(".0"):
        s = s[:-2]
    return {"1": 1, "2": 2, "男": 1, "女": 2, "m": 1, "f": 2, "male": 1, "female": 2}.get(s, 0)


def _age(rec: dict, unit: str):
    y, d = _num(rec.get("age_years")), _num(rec.get("age_days"))
    y = None if y == "bad" else y
    d = None if d == "bad" else d
    days = d if d is not None and (y is None or y == 0) else (None if y is None else y * 365)
    if unit == "days":
        return days
    return y if y is not None else (None if days is None else days / 365)


def _outside(v, lo, hi) -> bool:
    return v is not None and ((lo != "" and v < float(lo)) or (hi != "" and v > float(hi)))


def _date(v):
    if _blank(v):
        return None
    try:
        return dt.date.fromisoformat(str(v)[:10])
    except ValueError:
        return "bad"


def check_record(rec: dict, rules: list[dict], known: dict) -> list[tuple]:
    """(rule_id, value) of every issue of one record (no duplicates: they need the file)."""
    out = []
    for r in rules:
        k, field = r["kind"], r["field"]
        if field in ("dx", "px") and k not in ("required_field",):
            codes = [str(c) for c in (rec.get(field) or [])]
            for i, c in enumerate(codes):
                pos_ok = r["position"] in ("", "any") or (r["position"] == "principal") == (i == 0)
                if k == "not_principal":
                    pos_ok = i == 0
                hit = r["codes"] and in_set(c, r["codes"]) and pos_ok
                sex = _sex(rec.get("sex"))
                low, high = r["age_min"], r["age_max"]
                if k == "unknown_code":
                    bad = c.strip() != "" and c not in known[field] and pos_ok
                elif k in ("code_position", "not_principal"):
                    bad = hit
                elif k == "sex_code":
                    bad = hit and sex != 0 and sex != int(r["sex"])
                elif k == "age_code":
                    bad = hit and _outside(_age(rec, r["age_unit"] or "years"), low, high)
                elif k == "newborn_only":
                    a = _age(rec, "days")
                    bad = hit and a is not None and a > float(high or 28)
                elif k == "maternal_only":
                    bad = hit and ((sex not in (0, 2)) or _outside(_age(rec, r["age_unit"] or "years"), low, high))
                elif k == "dagger_asterisk":
                    star = (in_set(c, r["codes"]) or c.strip().endswith("*")) and "+" not in c and pos_ok
                    prev = codes[i - 1].strip() if i > 0 else None
                    bad = star and not (prev is not None and (prev.endswith("†") or prev.endswith("+")
                                                              or (r["other_codes"] and in_set(prev, r["other_codes"]))))
                elif k == "requires_code":
                    bad = hit and not any(in_set(o, r["other_codes"]) for o in codes)
                elif k == "exclusive_codes":
                    bad = hit and any(in_set(o, r["other_codes"]) and not in_set(o, r["codes"]) for o in codes)
                else:
                    raise AssertionError(k)
                if bad:
                    out.append((r["rule_id"], c))
            continue
        fields = field.split("|")
        if k == "required_field":
            present = [f for f in fields if f in rec]
            if not present:
                continue
            if r["age_min"] or r["age_max"]:
                a = _age(rec, r["age_unit"] or "years")
                if a is None or _outside(a, r["age_min"], r["age_max"]):
                    continue

            def empty(f):
                v = rec.get(f)
                if f in ("dx", "px"):
                    return not v or _blank(v[0])
                return _blank(v)
            if all(empty(f) for f in present):
                out.append((r["rule_id"], None))
        elif k == "field_format":
            v = rec.get(field)
            if not _blank(v):
                text = str(v).strip()
                text = text[:-2] if isinstance(v, float) and text.endswith(".0") else text
                if not re.fullmatch(f"(?:{r['pattern']})", text):
                    out.append((r["rule_id"], text))
        elif k == "field_range":
            v = _num(rec.get(field))
            if v == "bad" or _outside(v, r["min"], r["max"]):
                out.append((r["rule_id"], str(rec.get(field)).strip()))
        elif k == "date_los":
            a, d = _date(rec.get(fields[0])), _date(rec.get(fields[1]))
            los = _num(rec.get(fields[2])) if len(fields) > 2 else None
            if a is None and d is None and not (fields[0] in rec):
                continue
            wrong = a == "bad" or d == "bad"
            if not wrong and a is not None and d is not None:
                wrong = d < a or (los not in (None, "bad") and abs(los - max((d - a).days, 1)) > float(r["tolerance"] or 0))
            if wrong:
                out.append((r["rule_id"], None))
        elif k == "cost_total":
            total = _num(rec.get(fields[0]))
            parts = [_num(rec.get(f)) for f in fields[1:] if f in rec]
            if total in (None, "bad") or not parts:
                continue
            s = sum(p for p in parts if p not in (None, "bad"))
            tol = float(r["tolerance"] or 0) + 1e-9
            whole = len(parts) == len(fields) - 1
            if (abs(s - total) > tol) if whole else (s - total > tol):
                out.append((r["rule_id"], None))
    return out
