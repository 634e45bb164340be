"""`drg explain` in words: the names of the lists, MDCs, ADRGs, DRGs and codes of the scheme beside each
step of the engine's trace (the rule syntax stays, so a reader can still match it to the scheme tables)."""

from __future__ import annotations

import csv
import os
import re

from .text import MDC_NAMES

LIST_KINDS = {
    "zh": {"zd": "主要诊断表", "zd1": "诊断表", "ss": "手术操作表", "ss1": "手术操作表(二)", "dept": "科室表", "ss_tags": "手术标签表",
           "zd_regions": "损伤部位表", "OR": "手术室手术表"},
    "en": {"zd": "principal-diagnosis list", "zd1": "diagnosis list", "ss": "procedure list", "ss1": "second procedure list",
           "dept": "department list", "ss_tags": "tagged procedure list", "zd_regions": "injury-region list", "OR": "operating-room procedures"},
}
LIST_REF = re.compile(r"@([A-Za-z0-9_]+)\.([a-z_0-9]+)|@OR\b")
STEP = re.compile(r"^(\s*\S+ )([A-Za-z0-9_.]+)( \((?:adrg|qy|[a-z_]+)\))")
CODE_IN_NOTE = re.compile(r"\(([A-Z0-9][A-Za-z0-9.+x]*)\)")


def _names(path: str, key: str = "code") -> dict:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        return {r[key]: r.get("name") or "" for r in csv.DictReader(f)}


def adrg_names(drg_names: dict) -> dict:
    """An ADRG's name: its DRGs' common name without the severity ending (，伴严重并发症或合并症 ...)."""
    out: dict = {}
    for drg, name in sorted(drg_names.items()):
        base = re.split(r"[，,]\s*(?:伴|不伴|with|without)", name)[0]
        out.setdefault(drg[:3], base)
    return out


class Words:
    """The scheme's names, read from its folder (``drg_names.csv``, ``dx_codes.csv``, ``px_codes.csv``)."""

    def __init__(self, scheme_dir: str, lang: str):
        self.lang = lang
        self.drg = _names(os.path.join(scheme_dir, "drg_names.csv"), "drg")
        self.adrg = adrg_names(self.drg)
        self.dx = _names(os.path.join(scheme_dir, "dx_codes.csv"))
        self.px = _names(os.path.join(scheme_dir, "px_codes.csv"))

    def unit(self, name: str) -> str:
        """An MDC, ADRG step (``NA1_1`` -> ``NA1``) or DRG code in words."""
        if name in MDC_NAMES[self.lang]:
            return MDC_NAMES[self.lang][name]
        if name in self.drg:
            return self.drg[name]
        return self.adrg.get(name.split("_")[0][:3], "") if re.match(r"^[A-Z]{2}[0-9A-Z]", name) else ""

    def code(self, code: str) -> str:
        return self.dx.get(code) or self.px.get(code) or ""

    def list_ref(self, m: re.Match) -> str:
        kinds = LIST_KINDS[self.lang]
        if m.group(0) == "@OR":
            return f"@OR〔{kinds['OR']}〕"
        owner, kind = m.group(1), m.group(2)
        what = kinds.get(kind, kind)
        unit = self.unit(owner)
        return f"{m.group(0)}〔{unit + ' ' if unit else ''}{what}〕"

    def line(self, text: str) -> str:
        mdc = re.match(r"^MDC (MDC[A-Z]):", text)
        if mdc:
            text = f"MDC {mdc.group(1)} {MDC_NAMES[self.lang].get(mdc.group(1), '')}:" + text[mdc.end():]
        step = STEP.match(text)
        if step and self.unit(step.group(2)):
            text = f"{step.group(1)}{step.group(2)} {self.unit(step.group(2))}{step.group(3)}" + text[step.end():]
        text = LIST_REF.sub(self.list_ref, text)
        return CODE_IN_NOTE.sub(lambda m: f"({m.group(1)} {self.code(m.group(1))})" if self.code(m.group(1)) else m.group(0), text)

    def codes(self, dx: list, px: list) -> list[str]:
        zh = self.lang == "zh"
        out = []
        for label, codes in (("诊断" if zh else "diagnoses", dx), ("手术操作" if zh else "procedures", px)):
            if codes:
                out.append(f"{label}: " + "; ".join(f"{c} {self.code(c) or ('(方案编码库中无此编码)' if zh else '(not in the scheme)')}"
                                                    for c in codes))
        return out


def explain_in_words(explanation, scheme_dir: str, dx: list, px: list, lang: str, words: Words | None = None) -> str:
    """The trace with names: the codes of the record first, then every line with its lists and units named
    (``words``: the scheme's names already read, as `drg serve` keeps them)."""
    w = words or Words(scheme_dir, lang)
    lines = list(explanation.lines)
    return "\n".join(lines[:1] + w.codes(dx, px) + [w.line(x) for x in lines[1:]])
