"""The ``warnings`` column equals a plain-Python reference on random records.

The product builds the text with a Numba kernel straight into Arrow buffers
(``grouper.textkernel``); the reference below writes each row's text with
string operations, from the message templates (data) and the rules of
``grouper.decode``: problem codes in input order (dx, then px), a hint when the
NFKC/stripped/upper-cased form is a scheme code, unreadable values, negative values,
implausible ages and birth weights.
"""

from __future__ import annotations

import math
import os
import unicodedata

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grouper
from grouper.decode import FIELD_LABEL, TEXT
from naive import NaiveScheme, _split

INT_COLUMNS = ("sex", "age_years", "age_days", "weight_g", "los_days", "icu_hours")
NEGATIVE_CHECKED = ("age_years", "age_days", "los_days", "weight_g")
SEX_WORDS = {"男", "女", "m", "f", "male", "female"}
CODES = ["I63.900", "I61.000", "J96.000", "E11.900", "P07.100", "37.5100", "01.2400", "I63.9"]
VARIANTS = [" I63.900", "i63.900", "Ｉ６３．９００", "37.5100 ", "X99.999", "", None, "I61.000|E11.900", "abc,01.2400", "j96.000 "]
VALUES = ["1", "2", "-3", "0", " 45 ", "4.7", "-0.5", "-7.9", "abc", "", "inf", "-inf", "nan", "１２", "1e30", None, "男", "F", "—",
          "70岁", "3500克", "3.5kg", "12天", "7小时", "5 岁", "70年", "200", "99", "20000", "366"]
# What each field accepts after a number, and the factor to its unit (written out here, not imported).
UNIT_WORDS = {"age_years": {"岁": 1, "周岁": 1}, "age_days": {"天": 1, "日": 1},
              "weight_g": {"克": 1, "g": 1, "kg": 1000, "千克": 1000, "公斤": 1000},
              "los_days": {"天": 1, "日": 1}, "icu_hours": {"小时": 1, "h": 1, "时": 1}}
IMPLAUSIBLE = {"age_years": lambda v: v > 150, "age_days": lambda v: v > 365, "weight_g": lambda v: v > 10000 or 0 < v < 100}
RANGES = {"age_years": (0, 150), "age_days": (0, 365), "weight_g": (100, 10000)}


def _all_codes(s: NaiveScheme) -> set:
    codes = s.dx_codes | s.px_codes | set(s.dx_map) | set(s.dx_map.values()) | set(s.px_map) | set(s.px_map.values())
    for members in s.lists.values():
        codes |= members
    return codes | set(s.mcc) | set(s.cc) | set(s.excl)


def _parse(text, col=""):
    """(value or None, unreadable) of a text cell, as a 病案首页 export means it."""
    if text is None:
        return None, False
    v = unicodedata.normalize("NFKC", text).strip()
    if v == "":
        return None, False
    factor = 1
    for unit, k in sorted(UNIT_WORDS.get(col, {}).items(), key=lambda u: -len(u[0])):  # "kg" before "g"
        if v.lower().endswith(unit):
            v, factor = v[: -len(unit)].strip(), k
            break
    try:
        f = float(v) * factor
    except ValueError:
        return None, True
    if not math.isfinite(f):
        return None, True
    return math.trunc(max(-(2**53), min(2**53, f))), False


def reference_warning(s: NaiveScheme, rec: dict, map_mode: bool, lang: str):
    t = TEXT[lang]
    known_codes = _all_codes(s)
    parts = []
    for which, table in (("dx", s.dx_codes), ("px", s.px_codes)):
        codes = rec[which] or []
        if codes:
            codes = _split(codes) if any(c and ("," in c or "|" in c) for c in codes) else ["" if c is None else c for c in codes]
        usable = (s.dx_map if which == "dx" else s.px_map) if map_mode else table
        bad = [c for c in codes if c not in usable]
        if bad:
            shown = []
            for c in bad:
                if c == "":
                    shown.append(t["empty_code"])
                    continue
                norm = unicodedata.normalize("NFKC", c).strip()
                hint = next((h for h in (norm, norm.upper()) if h != c and h in known_codes), None)
                shown.append(c + (t["looks_like"].format(code=hint) if hint else ""))
            parts.append(t[("unmapped_" if map_mode else "unknown_") + which] + ",".join(shown))
    for which in ("dx", "px"):  # a code holding a separator is split (FORMAT.md 5.1), and said
        if any(c and ("," in c or "|" in c) for c in rec[which] or []):
            parts.append(t["split_" + which])
    labels = FIELD_LABEL[lang]
    parsed = {}
    for col in INT_COLUMNS:
        value, unreadable = _parse(rec[col], col)
        if col == "sex" and rec[col] is not None and unicodedata.normalize("NFKC", rec[col]).strip().lower() in SEX_WORDS:
            value, unreadable = 1, False
        parsed[col] = value
        if unreadable:
            parts.append(t["unreadable"].format(col=labels.get(col, col)))
    for col in NEGATIVE_CHECKED:
        if parsed[col] is not None and parsed[col] < 0:
            parts.append(t["negative"].format(col=labels.get(col, col)))
    for col, odd in IMPLAUSIBLE.items():
        if parsed[col] is not None and parsed[col] >= 0 and odd(parsed[col]):
            lo, hi = RANGES[col]
            parts.append(t["implausible"].format(col=labels.get(col, col), lo=lo, hi=hi))
    return "; ".join(parts) if parts else None


code = st.one_of(st.sampled_from(CODES), st.sampled_from(VARIANTS))
record = st.fixed_dictionaries({
    **{c: st.sampled_from(VALUES) for c in INT_COLUMNS},
    "dx": st.one_of(st.none(), st.lists(code, max_size=6)),
    "px": st.one_of(st.none(), st.lists(code, max_size=6)),
})


@settings(max_examples=int(os.environ.get("DRG_HYPOTHESIS_EXAMPLES", "300")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(recs=st.lists(record, min_size=1, max_size=40), map_mode=st.booleans(), lang=st.sampled_from(["zh", "en"]))
def test_warnings_equal_reference(tiny, tiny_dir, recs, map_mode, lang):
    naive = NaiveScheme(str(tiny_dir))
    df = pd.DataFrame(recs, columns=[*INT_COLUMNS, "dx", "px"])
    out = grouper.group(df, tiny, map_codes=map_mode, lang=lang)
    got = [None if (w is None or (isinstance(w, float) and math.isnan(w))) else w for w in out["warnings"]]
    want = [reference_warning(naive, r, map_mode, lang) for r in recs]
    assert got == want

