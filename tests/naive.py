"""A slow, obviously correct grouper written from FORMAT.md alone.

No code is shared with the product: its own CSV reading, its own rule parser
(recursive descent straight to Python closures), plain Python lists and sets.
Tests compare the Numba kernel with it on reference cases, on random records
and on random schemes.
"""

from __future__ import annotations

import csv
import os
import re

OK, QY, FAIL, INPUT = "分组成功", "歧义病案", "无法入组", "信息校验不通过"
DX_MAP_FAIL, PX_MAP_FAIL = "诊断不能转换为分组器支持的编码", "手术操作不能转换为分组器支持的编码"


def _rows(path, name):
    p = os.path.join(path, name)
    if not os.path.exists(p):
        return []
    with open(p, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class NaiveScheme:
    def __init__(self, path):
        self.meta = {r["key"]: r["value"] for r in _rows(path, "meta.csv")}
        self.lists = {}
        for r in _rows(path, "lists.csv"):
            self.lists.setdefault(r["list"], set()).add(r["code"])
        self.lists["OR"] = {r["code"] for r in _rows(path, "or_procedures.csv")}
        self.tagged = {}
        for r in _rows(path, "tagged_lists.csv"):
            self.tagged.setdefault(r["list"], {}).setdefault(r["code"], r["tag"])
        self.regions = {}
        for r in _rows(path, "region_lists.csv"):
            self.regions.setdefault(r["list"], {})[r["code"]] = r["region"]
        self.mcc = {r["code"]: r["exclusion_id"] for r in _rows(path, "mcc.csv")}
        self.cc = {r["code"]: r["exclusion_id"] for r in _rows(path, "cc.csv")}
        self.excl = {r["pdx"]: r["exclusion_id"] for r in _rows(path, "cc_exclusion.csv")}
        self.dx_codes = {r["code"] for r in _rows(path, "dx_codes.csv")}
        self.px_codes = {r["code"] for r in _rows(path, "px_codes.csv")}
        self.dx_map = {r["from"]: r["to"] for r in _rows(path, "dx_map.csv")}
        self.px_map = {r["from"]: r["to"] for r in _rows(path, "px_map.csv")}
        self.mdcs = sorted(_rows(path, "mdc.csv"), key=lambda r: int(r["order"]))
        self.steps = {}
        for r in _rows(path, "adrg.csv"):
            self.steps.setdefault(r["mdc"], []).append(r)
        for v in self.steps.values():
            v.sort(key=lambda r: int(r["seq"]))
        self.rejects = sorted(_rows(path, "reject.csv"), key=lambda r: int(r["seq"]))
        self.splits = {}
        for r in _rows(path, "drg.csv"):
            self.splits.setdefault(r["step"], []).append(r)
        for v in self.splits.values():
            v.sort(key=lambda r: int(r["seq"]))
        self._cache = {}

    def rule(self, text):
        if text not in self._cache:
            self._cache[text] = RuleParser(text, self).parse()
        return self._cache[text]


TOKEN = re.compile(r'\s*("[^"]*"|==|!=|<=|>=|<|>|[(){},]|@[^\s(){},"]+|-?\d+(?![\w.])|[A-Za-z_][A-Za-z_0-9]*)')


class RuleParser:
    """rule := or; or := and ('or' and)*; and := not ('and' not)*; not := 'not' not | primary."""

    def __init__(self, text, scheme):
        self.toks, pos = [], 0
        text = text.strip()
        while pos < len(text):
            m = TOKEN.match(text, pos)
            assert m and m.end() > pos, f"bad rule {text!r} at {pos}"
            self.toks.append(m.group(1))
            pos = m.end()
        self.i = 0
        self.s = scheme

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def take(self):
        self.i += 1
        return self.toks[self.i - 1]

    def parse(self):
        f = self.or_()
        assert self.peek() is None
        return f

    def or_(self):
        fs = [self.and_()]
        while self.peek() == "or":
            self.take()
            fs.append(self.and_())
        return lambda r: any(f(r) for f in fs)

    def and_(self):
        fs = [self.not_()]
        while self.peek() == "and":
            self.take()
            fs.append(self.not_())
        return lambda r: all(f(r) for f in fs)

    def not_(self):
        if self.peek() == "not":
            self.take()
            f = self.not_()
            return lambda r: not f(r)
        return self.primary()

    def codes(self):
        t = self.take()
        if t.startswith("@"):
            name = t[1:]
            return self.s.lists.get(name, set())
        assert t == "{"
        out = set()
        while True:
            out.add(self.take()[1:-1])
            if self.take() == "}":
                return out

    def primary(self):
        t = self.peek()
        if t == "(":
            self.take()
            f = self.or_()
            assert self.take() == ")"
            return f
        if t in ("true", "false"):
            self.take()
            v = t == "true"
            return lambda r: v
        if t in ("pdx", "ppx") and self.peek(1) == "prefix":
            self.take(), self.take(), self.take()
            P = tuple(self.codes())
            key = "dx" if t == "pdx" else "px"
            return lambda r: len(r[key]) > 0 and r[key][0] is not None and r[key][0].startswith(P)
        if t == "count":
            self.take(), self.take()
            distinct = self.peek() == "distinct"
            if distinct:
                self.take()
            what = self.take()
            self.take()
            L = self.codes()
            self.take()
            op = self.take()
            n = int(self.take())
            key = "dx" if "dx" in what else "px"
            start = 1 if what.startswith("s") else 0

            def f(r):
                hits = [c for c in r[key][start:] if c in L]
                return cmp(len(set(hits)) if distinct else len(hits), op, n)
            return f
        if t in ("pdx", "ppx") and self.peek(1) == "in":
            self.take(), self.take()
            L = self.codes()
            key = "dx" if t == "pdx" else "px"
            return lambda r: len(r[key]) > 0 and r[key][0] in L
        if t == "any":
            self.take()
            what = self.take()
            self.take()
            L = self.codes()
            key = "dx" if "dx" in what else "px"
            start = 1 if what.startswith("s") else 0
            return lambda r: any(c in L for c in r[key][start:])
        if t == "px" and self.peek(1) == "tag":
            self.take(), self.take()
            tag = self.take()[1:-1]
            self.take()
            T = self.s.tagged.get(self.take()[1:], {})
            return lambda r: any(T.get(c) == tag for c in r["px"])
        if t in ("mcc", "cc"):
            self.take()
            table = self.s.mcc if t == "mcc" else self.s.cc
            def f(r):
                dx = r["dx"]
                if len(dx) <= 1 or (self.s.meta.get("day_surgery_no_cc") == "true" and r["day_surgery"] == 1):
                    return False
                e = self.s.excl.get(dx[0], "")
                return any(x in table and not (e != "" and e == table[x]) for x in dx[1:])
            return f
        if t in ("known", "nonzero"):
            self.take(), self.take()
            fld = self.take()
            self.take()
            if t == "known":
                return lambda r: r[fld] is not None
            return lambda r: r[fld] is not None and r[fld] != 0 and r[fld] != ""
        if t == "dx_region_count":
            self.take(), self.take()
            R = self.s.regions.get(self.take()[1:], {})
            self.take()
            op = self.take()
            n = int(self.take())
            return lambda r: cmp(len({R[c] for c in set(r["dx"]) if c in R}), op, n)
        if t in ("dept", "leaving_type") and self.peek(1) == "in":
            self.take(), self.take()
            L = self.codes()
            return lambda r: r[t] is not None and r[t] in L
        left = self.value()
        op = self.take()
        right = self.value()
        def f(r):
            a, b = left(r), right(r)
            if op == "==":
                return a == b and type(a) is type(b) if a is not None and b is not None else a is None and b is None
            if op == "!=":
                return not (a == b and type(a) is type(b) if a is not None and b is not None else a is None and b is None)
            if a is None or b is None or type(a) is not type(b):
                return False
            return cmp(a, op, b)
        return f

    def value(self):
        t = self.take()
        if t.startswith('"'):
            s = t[1:-1]
            return lambda r: s
        if re.fullmatch(r"-?\d+", t):
            n = int(t)
            return lambda r: n
        if t in ("dx_count", "px_count"):
            key = t[:2]
            return lambda r: len(r[key])
        return lambda r: r[t]


def cmp(a, op, b):
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _split(codes):
    """Join with ',' and split on ',' and '|' (FORMAT.md 5.1)."""
    joined = ",".join("" if c is None else c for c in codes)
    return re.split(r"[,|]", joined)


def _map(codes, table):
    cur = list(codes)
    unmapped = False
    for i in range(len(cur)):
        x = cur[i]
        j = cur.index(x)
        if x in table:
            cur[j] = table[x]
        else:
            cur[j] = ""
            unmapped = True
    if cur and cur[0] == "-":
        unmapped = True
    return [c for c in cur if c not in ("", "-")], unmapped


def group_record(s: NaiveScheme, rec: dict, map_mode: bool = False):
    """(status, mdc, adrg, drg) for one record (dict with canonical fields; None = null)."""
    rej = s.meta.get("output_codes_rejected", "0000|00|0000").split("|")
    dx = _split(rec.get("dx") or [])  # an empty list joins to "" and splits to [""]
    px = _split(rec["px"]) if rec.get("px") else []
    if map_mode:
        dx, bad_dx = _map(dx, s.dx_map)
        bad_px = False
        if px:
            px, bad_px = _map(px, s.px_map)
        if bad_dx:
            return (DX_MAP_FAIL, *rej)
        if bad_px:
            return (PX_MAP_FAIL, *rej)
    r = {
        "dx": dx, "px": px, "sex": rec.get("sex"), "age_years": rec.get("age_years"), "age_days": rec.get("age_days"),
        "weight_g": rec.get("weight_g"), "los": rec.get("los_days"), "icu_hours": rec.get("icu_hours"),
        "dept": rec.get("dept"), "leaving_type": rec.get("leaving_type"),
    }
    for k in ("admission_weight_g", "new_technique", "intensive_care", "day_surgery", "crrt_hours"):
        r[k] = rec.get(k)
    if s.meta.get("missing_age_days_weight_as_zero") == "true":
        for k in ("age_days", "weight_g"):
            if r[k] is None:
                r[k] = 0
    checks = s.meta.get("input_checks", "sex|age_years|age_days|weight_g|dx").split("|")
    if (("sex" in checks and r["sex"] not in (1, 2)) or ("age_years" in checks and r["age_years"] is None)
            or ("age_days" in checks and r["age_years"] == 0 and r["age_days"] is None)
            or ("weight_g" in checks and r["age_years"] == 0 and r["age_days"] is not None and r["age_days"] <= 28
                and r["weight_g"] is None)
            or ("dx" in checks and not r["dx"])):
        return (INPUT, *rej)
    for row in s.rejects:  # the reject step, on the record as coded
        if s.rule(row["rule"])(r):
            return (row["status"].strip(), *rej)
    invalid = s.lists.get(s.meta.get("null_ppx_list", "").lstrip("@"), set()) if s.meta.get("null_ppx_list") else set()

    def run(r):
        # routing sees a principal procedure on the invalid list as no code at all (its position kept)
        nulled = bool(r["px"]) and r["px"][0] in invalid
        route = dict(r, px=[None] + r["px"][1:]) if nulled else r
        medical_only = s.meta.get("medical_only_without_ppx") == "true" and (not r["px"] or nulled)
        for m in s.mdcs:
            if not s.rule(m["rule"])(route):
                continue
            for st in s.steps.get(m["mdc"], []):
                if medical_only and st["kind"] != "qy" and not ("R" <= st["adrg"][1:2] <= "Z"):
                    continue
                if not s.rule(st["rule"])(route):
                    continue
                if st["kind"] == "qy":
                    return st["adrg"]
                for sp in s.splits.get(st["step"], []):
                    if s.rule(sp["rule"])(r):
                        return sp["drg"]
                if st["kind"] == "adrg":
                    return st["adrg"] + (":0000" if s.meta.get("output_no_split") == "0000" else "")
        return "0000"

    res = run(r)
    if res == "0000" and s.meta.get("retry_secondary_px_alone") == "true" and len(px) > 1:
        for p in px[1:]:
            res = run(dict(r, px=[p]))
            if res != "0000":
                break
    if res == "0000":
        return (FAIL, "0000", "00", s.meta.get("output_drg_fail", "0000"))
    if res.endswith(":0000"):
        return (FAIL, "MDC" + res[0], res[:-5], "0000")
    if res[1:3] == "QY":
        return (QY, "MDC" + res[0], res if s.meta.get("output_qy_adrg") == "code" else "QY", res)
    if res[1:3] == "00":
        return (FAIL, "MDC" + res[0], "00", s.meta.get("output_drg_fail_in_mdc", "0000"))
    return (OK, "MDC" + res[0], res[:3], res)


# -- comorbidities and MCC/CC features, written from Quan 2005 and FORMAT.md 4.1 alone ------------------

def quan_categories(path):
    """{(system, category): [stems]} from the table, ranges expanded by hand-rolled string arithmetic."""
    out = {}
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            stems = []
            for part in r["codes"].split():
                if "-" in part:
                    lo, hi = (x.replace(".", "") for x in part.split("-"))
                    width = len(lo) - 1
                    stems += [lo[0] + str(k).zfill(width) for k in range(int(lo[1:]), int(hi[1:]) + 1)]
                else:
                    stems.append(part.replace(".", ""))
            out[(r["system"], r["category"])] = stems
    return out


def code_categories(code, cats):
    """The (system, category) pairs a diagnosis code falls in: its dotless form starts with a stem."""
    c = code.strip().upper().replace(".", "")
    return {key for key, stems in cats.items() if any(c.startswith(s) for s in stems)} if c else set()


def diagnosis_row(codes, cats, mcc, cc, pdx_ex):
    """For one record's diagnoses (principal first): categories of the secondary ones, their number, and
    whether an MCC / a CC counts (a secondary diagnosis in the table whose exclusion id is not the
    principal's)."""
    if not codes:
        return set(), 0, False, False
    pdx, secondary = codes[0], [c for c in codes[1:] if c is not None]
    e = pdx_ex.get(pdx) if pdx is not None else None
    found = set()
    for c in secondary:
        found |= code_categories(c, cats)
    has_mcc = any(c in mcc and not (e is not None and mcc[c] == e) for c in secondary)
    has_cc = any(c in cc and not (e is not None and cc[c] == e) for c in secondary)
    return found, len(secondary), has_mcc, has_cc


# -- drg audit: stays of the same patient, written from the definitions alone --------------------------------

def patient_pairs(stays, windows=(15, 30), split_gap=2):
    """``stays``: list of dicts (patient or None, admit, discharge (int days or None), hospital, mdc (None: not
    grouped), ended). Returns ({window: set of readmitted index stays}, {second stay: first stay})."""
    readmit = {w: set() for w in windows}
    split = {}
    by_patient = {}
    for i, s in enumerate(stays):
        if s["patient"] is not None and s["admit"] is not None and s["discharge"] is not None:
            by_patient.setdefault(s["patient"], []).append(i)
    for idx in by_patient.values():
        idx.sort(key=lambda i: (stays[i]["admit"], stays[i]["discharge"], i))
        for pos, i in enumerate(idx):
            a = stays[i]
            if pos + 1 < len(idx):
                j = idx[pos + 1]
                b = stays[j]
                if (not a["ended"] and a["mdc"] is not None and b["mdc"] == a["mdc"] and b["hospital"] == a["hospital"]
                        and 0 <= b["admit"] - a["discharge"] <= split_gap):
                    split[j] = i
            if a["ended"] or a["mdc"] is None:
                continue
            for j in idx[pos + 1:]:
                gap = stays[j]["admit"] - a["discharge"]
                for w in windows:
                    if 0 <= gap <= w and stays[j]["mdc"] == a["mdc"]:
                        readmit[w].add(i)
    return readmit, split


# -- DIP matching, written from the DIP technical specification (医保办发〔2020〕50号) and docs/dip.md alone ----------
DIP_TREATMENTS = ["conservative", "diagnostic", "therapeutic", "surgical"]


def dip_subcategory(code):
    """The 亚目: a letter and two characters, then the dot and one more when there is one; None for anything else."""
    m = re.match(r"\s*([A-Za-z][0-9A-Za-z]{2})(\.[0-9A-Za-z])?", code or "")
    return None if m is None else m.group(1) + (m.group(2) or "")


def dip_match(dx, px, cost, groups, kinds):
    """(row of ``groups``, 0 exact / 1 partial / 2 comprehensive), (-1, -1) for no group. ``groups``: dicts in
    catalogue order; ``kinds``: {procedure: kind}."""
    sub = dip_subcategory(dx[0]) if dx else None
    if sub is None:
        return -1, -1
    mine = {p for p in px if p is not None and p.strip()}
    gap = lambda g: abs(g["mean_cost"] - cost) if cost is not None and cost == cost and 0 < cost < float("inf") else float("inf")  # noqa: E731
    core = [(i, g) for i, g in enumerate(groups) if g["kind"] == "core" and g["dx"] == sub]
    for i, g in core:
        if set(p for p in g["procedures"].split("+") if p) == mine:
            return i, 0
    within = [(i, g) for i, g in core if set(p for p in g["procedures"].split("+") if p) <= mine]
    if within:
        i, _ = max(within, key=lambda ig: (len([p for p in ig[1]["procedures"].split("+") if p]), -gap(ig[1]), ig[1]["score"], -ig[0]))
        return i, 1

    def kind(p):
        if p in kinds:
            return kinds[p]
        return "diagnostic" if p[:2] in ("87", "88", "89", "90", "91") else "therapeutic"

    treatment = max((DIP_TREATMENTS.index(kind(p)) for p in mine), default=0)
    for i, g in enumerate(groups):
        if g["kind"] == "comprehensive" and g["category"] == sub[:3] and g["treatment"] == DIP_TREATMENTS[treatment]:
            return i, 2
    return -1, -1
