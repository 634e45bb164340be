"""The coding sections: the audit's target areas and settlement-list quality control; grouping reasons in the
page's language."""

from __future__ import annotations

import re

from ...charts import RED, esc, hbar
from .common import section


def audit(r) -> str:
    fl, t = r.o.get("audit.hospital_flags"), r.t
    if fl is None or not len(fl):
        return ""
    flagged = fl[fl["flag"].astype(bool)]
    counts = flagged.groupby("area", sort=True).size().sort_values(ascending=False)
    areas = [r.area(a) for a in counts.index]
    body = ""
    if len(counts):
        hover = [f"{esc(n)}<br>{esc(', '.join(sorted({r.name(i) for i in flagged.loc[flagged['area'] == a, 'hospital_id']})))}"
                 for a, n in zip(counts.index, areas)]
        fig = hbar(areas, list(counts), t["audit_chart"], t["flag_axis"], texts=[str(v) for v in counts], colors=RED, hover=hover)
        body += r.chart(fig)
    cols = [c for c in ("hospital_id", "name", "year", "area", "rate", "expected_rate", "oe_ratio", "z_score", "q_value") if c in flagged.columns]
    show = flagged[cols].assign(area=[r.area(a) for a in flagged["area"]]).sort_values(["hospital_id", "year"], kind="stable")
    show = show.rename(columns={"area": "target_area", "rate": "area_rate", "expected_rate": "area_expected_rate"})
    if not len(show):  # nothing flagged: said, not an empty table
        body += f"<p class='note'>{esc(t['audit_note'])}</p><p class='ok'>{esc(t['audit_none'].format(n=len(fl)))}</p>"
        return section("audit", t["audit"], body)
    body += f"<p class='note'>{esc(t['audit_note'])}</p>" + r.table(show)
    return section("audit", t["audit"], body)


def quality_control(r) -> str:
    """drg check: the hospitals with the lowest 质控通过率, the region's rate, the rules that found issues, every hospital."""
    h, rules, t = r.o.get("check.hospitals"), r.o.get("check.rules"), r.t
    if h is None or not len(h):
        return ""
    h = h.assign(hospital_id=h["hospital_id"].fillna("—")).sort_values(["pass_rate", "hospital_id"], kind="stable")
    worst = h.head(20)
    fig = hbar([r.name(i) for i in worst["hospital_id"]], list(worst["pass_rate"]), t["check_chart"], t["check_axis"],
               texts=[f"{v:.1%}" for v in worst["pass_rate"]], tickformat=".0%")
    cases, errors = int(h["cases"].sum()), int(h["cases_with_errors"].sum())
    body = r.chart(fig) + f"<p class='note'>{esc(t['check_note'].format(cases=cases, errors=errors, rate=1 - errors / max(cases, 1)))}</p>"
    if rules is not None and len(rules):
        found = rules[rules["issues"] > 0].sort_values(["issues", "rule_id"], ascending=[False, True], kind="stable")
        body += r.table(found[["rule_id", "severity", "message", "issues", "cases", "affects_grouping_issues"]])
    cols = ["hospital_id", "cases", "cases_with_errors", "cases_with_warnings", "pass_rate", "top_rules"]
    return section("check", t["check"], body + r.table(h[cols]))


def reason_translator(lang: str):
    """Grouping reasons as written by ``drg group`` (in either language) in ``lang``."""
    from grouper.text import TEXT

    pairs = []
    for key in ("no_mdc", "mdc_no_adrg", "qy", "adrg_only"):
        for src in ("zh", "en"):
            pattern = re.escape(TEXT[src][key])
            for name in ("mdc", "step", "adrg"):
                pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>.+?)")
            pairs.append((re.compile("^" + pattern + "$"), TEXT[lang][key]))
    for src in ("zh", "en"):
        for a, b in zip(TEXT[src]["fail"], TEXT[lang]["fail"]):
            pairs.append((re.compile("^" + re.escape(a) + "$"), b))

    def translate(text: str) -> str:
        for rx, target in pairs:
            m = rx.match(str(text))
            if m:
                return target.format(**m.groupdict())
        return str(text)

    return translate
