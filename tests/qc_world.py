"""Settlement-list records for ``drg check``'s tests, made here (not by ``drg synth``): clean records drawn from
the packaged scheme's own code lists (codes no default rule restricts, ages 20-50, dates, LOS and costs that
agree), and records with one planted error each, of every rule kind."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from drg.check.rules import normal_code

# a test-only rule of the one kind the default rules do not use, appended with --rules
EXTRA_RULES = ("rule_id,kind,severity,field,codes,position,message_zh,message_en,source\n"
               "T901,code_position,error,dx,Z51,secondary,医疗照顾(Z51)不应作为其他诊断,Z51 is not a secondary diagnosis,测试规则\n")


class World:
    """Code pools of one scheme under a set of rules, and a random source."""

    def __init__(self, scheme, rules, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.scheme = scheme
        codes = np.array(scheme.codes, dtype=object)
        norm = np.array([normal_code(c) for c in codes], dtype="U16")
        self.norm = norm
        self.codes = codes
        restricted = np.zeros(len(codes), dtype=bool)
        for r in rules:
            for s in (r.codes, r.other):
                if s is not None:
                    restricted |= s.contains(norm)
        plain = np.array(["*" not in c and "+" not in c for c in codes])
        self.plain = plain
        self._ranges: dict = {}
        self.pool = {w: codes[scheme.arrays[f"{w}_known"] & ~restricted & plain] for w in ("dx", "px")}

    def known(self, which: str, lo: str, hi: str | None = None) -> str:
        """A random known ``which`` code in the range lo..hi (3-character prefixes)."""
        key = (which, lo, hi or lo)
        if key not in self._ranges:
            hi = hi or lo
            m = self.scheme.arrays[f"{which}_known"] & (self.norm.astype(f"U{len(lo)}") >= lo) & (self.norm.astype(f"U{len(hi)}") <= hi)
            self._ranges[key] = self.codes[m & self.plain]
        return str(self.rng.choice(self._ranges[key]))

    def clean(self, i: int) -> dict:
        rng = self.rng
        los = int(rng.integers(1, 30))
        admit = dt.date(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 300)))
        parts = rng.integers(1_000, 2_000_000, size=5)  # fen: the total is their exact sum
        return {
            "case_id": f"ZY{i:07d}", "hospital_id": f"H{int(rng.integers(1, 6)):02d}", "dept": str(rng.choice(["内科", "外科", "妇科"])),
            "sex": int(rng.integers(1, 3)), "age_years": int(rng.integers(20, 51)), "age_days": None, "weight_g": None,
            "los_days": los, "leaving_type": "1", "icu_hours": 0,
            "admit_date": admit.isoformat(), "discharge_date": (admit + dt.timedelta(days=los)).isoformat(),
            "dx": [str(c) for c in rng.choice(self.pool["dx"], size=int(rng.integers(1, 6)), replace=False)],
            "px": [str(c) for c in rng.choice(self.pool["px"], size=int(rng.integers(0, 3)), replace=False)],
            "total_cost": int(parts.sum()) / 100, "drug_cost": int(parts[0]) / 100, "consumables_cost": int(parts[1]) / 100,
            "service_cost": int(parts[2]) / 100, "exam_cost": int(parts[3]) / 100, "other_cost": int(parts[4]) / 100,
        }


def _add_secondary(r: dict, code: str) -> None:
    r["dx"] = r["dx"][:1] + [code] + r["dx"][1:]


def plant_unknown_code(w, r):
    _add_secondary(r, "A00.999X999")
    return "C101"


def plant_code_position(w, r):
    _add_secondary(r, w.known("dx", "Z51"))
    return "T901"


def plant_not_principal(w, r):
    r["dx"] = [w.known("dx", "V01", "Y98")] + r["dx"]
    return "C201"


def plant_sex_code(w, r):
    if w.rng.random() < 0.5:
        r["sex"] = 2
        _add_secondary(r, w.known("dx", "N40", "N51"))
        return "C302"
    r["sex"] = 1
    _add_secondary(r, w.known("dx", "N70", "N98"))
    return "C301"


def plant_age_code(w, r):
    _add_secondary(r, w.known("dx", "Z38"))
    return "C403"


def plant_newborn_only(w, r):
    r["dx"] = [w.known("dx", "P00", "P96")] + r["dx"]
    return "C402"


def plant_maternal_only(w, r):
    if w.rng.random() < 0.5:
        r["sex"] = 1
    else:
        r["sex"], r["age_years"] = 2, int(w.rng.integers(60, 90))
    _add_secondary(r, w.known("dx", "O00", "O79"))
    return "C401"


def plant_dagger_asterisk(w, r):
    _add_secondary(r, str(w.rng.choice(["G01*", "J17.0*", "M01.3*"])))
    return "C501"


def plant_requires_code(w, r):
    _add_secondary(r, w.known("dx", "Z37"))
    return "C602"


def plant_exclusive_codes(w, r):
    r["sex"], r["age_years"] = 2, 30
    r["dx"] = [w.known("dx", "O80"), w.known("dx", "O82")] + r["dx"][1:]
    return "C701"


def plant_required_field(w, r):
    field, rule = [("leaving_type", "F107"), ("admit_date", "F108"), ("total_cost", "F110"), ("sex", "F103")][int(w.rng.integers(0, 4))]
    r[field] = None
    return rule


def plant_field_format(w, r):
    r["leaving_type"] = str(w.rng.choice(["7", "0", "死亡"]))
    return "F202"


def plant_field_range(w, r):
    r["age_years"] = int(w.rng.integers(151, 999))
    return "F301"


def plant_date_los(w, r):
    r["los_days"] += int(w.rng.choice([-5, 3, 40]))
    if r["los_days"] < 0:
        r["los_days"] = 60
    return "D101"


def plant_cost_total(w, r):
    r["total_cost"] = round(r["total_cost"] + float(w.rng.choice([-100.0, 0.5, 2000.0])), 2)
    return "K101"


PLANTS = {name[len("plant_"):]: f for name, f in globals().items() if name.startswith("plant_")}


def records(world: World, clean: int = 1500, per_kind: int = 25) -> tuple[pd.DataFrame, pd.Series]:
    """``clean`` clean records with ``per_kind`` planted ones of every kind mixed in (and duplicate copies of
    earlier records); returns the records and, per row, the planted kind and rule ('' for a clean row)."""
    rows, planted = [], []
    for i in range(clean):
        rows.append(world.clean(i))
        planted.append(("", ""))
    n = clean
    for kind, plant in PLANTS.items():
        for _ in range(per_kind):
            r = world.clean(n)
            planted.append((kind, plant(world, r)))
            rows.append(r)
            n += 1
    for _ in range(per_kind):  # duplicate_case: a copy of an earlier clean record, later in the file
        rows.append(dict(rows[int(world.rng.integers(0, clean))]))
        planted.append(("duplicate_case", "U101"))
    order = world.rng.permutation(len(rows))
    # copies stay after their originals: a clean original never moves behind its copy
    frame = pd.DataFrame([rows[k] for k in order])
    for c in ("sex", "age_years", "los_days", "icu_hours"):
        frame[c] = frame[c].astype("Int64")
    truth = pd.DataFrame([planted[k] for k in order], columns=["kind", "rule_id"])
    firsts = ~frame.duplicated(["hospital_id", "case_id"], keep="first")
    truth.loc[firsts & (truth["kind"] == "duplicate_case"), ["kind", "rule_id"]] = ""
    dup_clean = ~firsts & (truth["kind"] == "")
    truth.loc[dup_clean, ["kind", "rule_id"]] = ("duplicate_case", "U101")
    return frame.reset_index(drop=True), truth.reset_index(drop=True)


def wide_export(frame: pd.DataFrame) -> pd.DataFrame:
    """The records as an office's settlement-list export: Chinese wide headers, every cell text, blanks empty."""
    out = pd.DataFrame({
        "病案号": frame["case_id"], "定点医疗机构代码": frame["hospital_id"], "出院科别": frame["dept"],
        "性别": frame["sex"], "年龄": frame["age_years"], "实际住院天数": frame["los_days"], "离院方式": frame["leaving_type"],
        "入院日期": frame["admit_date"], "出院日期": frame["discharge_date"], "医疗总费用": frame["total_cost"],
        "药品费": frame["drug_cost"], "耗材费": frame["consumables_cost"], "医疗服务费": frame["service_cost"],
        "检查化验费": frame["exam_cost"], "其他费": frame["other_cost"]})
    width = max(len(d) for d in frame["dx"])
    out["主要诊断编码"] = [d[0] if d else "" for d in frame["dx"]]
    for k in range(1, width):
        out[f"其他诊断编码{k}"] = [d[k] if len(d) > k else "" for d in frame["dx"]]
    pwidth = max(1, max(len(p) for p in frame["px"]))
    out["主要手术操作编码"] = [p[0] if p else "" for p in frame["px"]]
    for k in range(1, pwidth):
        out[f"手术操作编码{k}"] = [p[k] if len(p) > k else "" for p in frame["px"]]
    return out.map(lambda v: "" if v is None or pd.isna(v) else str(v))


def messy(world: World, i: int) -> dict:
    """A record with anything in it: restricted, asterisk, dagger and unknown codes, odd sexes and ages, blank or
    unreadable fields, dates and costs that may disagree (for the comparison with the naive checker)."""
    rng = world.rng
    r = world.clean(i)
    pick = rng.random
    anything = [c for c in world.codes[rng.integers(0, len(world.codes), size=6)]]
    extra = ["G01*", "A17.0†", "J17.0*", "A00.999X999", " ", "Z37.000", "O80.000", "O82.000", "E10.900", "E11.900",
             world.known("dx", "P00", "P96"), world.known("dx", "O00", "O99"), world.known("dx", "S00", "T98")]
    dx = list(r["dx"]) + [anything[k] for k in range(int(rng.integers(0, 4)))]
    dx += [extra[k] for k in rng.integers(0, len(extra), size=int(rng.integers(0, 3)))]
    r["dx"] = [str(c) for c in rng.permutation(dx)] if pick() < 0.9 else []
    r["px"] = list(r["px"]) + ([world.known("px", "60", "75")] if pick() < 0.3 else [])
    r["sex"] = [1, 2, None, "男", "女", "9", "M"][int(rng.integers(0, 7))]
    if pick() < 0.3:
        r["age_years"], r["age_days"] = 0, int(rng.integers(0, 400))
    elif pick() < 0.1:
        r["age_years"] = [None, "abc", -1, 151][int(rng.integers(0, 4))]
    r["leaving_type"] = ["1", "5", "9", "7", None, ""][int(rng.integers(0, 6))]
    if pick() < 0.2:
        r["los_days"] = int(rng.integers(0, 400))
    if pick() < 0.1:
        r["admit_date"] = ["", None, "2024-13-45", r["discharge_date"]][int(rng.integers(0, 4))]
    if pick() < 0.2:
        r["total_cost"] = round(r["total_cost"] + float(rng.choice([-1.0, 0.005, 0.02, 500.0])), 3)
    if pick() < 0.05:
        r["drug_cost"] = None
    return {k: (None if v is None else str(v)) if k in ("sex", "age_years", "age_days", "leaving_type") else v
            for k, v in r.items()}
