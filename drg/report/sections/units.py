"""The unit sections: department and doctor views, period trends, and the list of sections whose tables are absent."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...charts import ORANGE, PALETTE, RED, esc, finite, line, scatter
from .common import LABELLED, flag_color, section


def views(r) -> str:
    t, body = r.t, ""
    dept = r.o.get("views.dept")
    if dept is not None and len(dept):
        d = dept.dropna(subset=["cmi", "cost_index"])
        pts = [{"x": x.cmi, "y": x.cost_index, "text": str(x.dept), "size": 8 + 14 * min(1.0, (x.cases / max(d["cases"].max(), 1)) ** 0.5),
                "hover": f"{x.dept}<br>{t['cases']} {int(x.cases):,}<br>CMI {x.cmi:.3f}<br>{t['cost_index']} {x.cost_index:.3f}",
                "color": PALETTE[i % len(PALETTE)]} for i, x in enumerate(d.itertuples())]
        far = sorted(pts, key=lambda p: -(abs(np.log(max(p["y"], 1e-9))) + abs(np.log(max(p["x"], 1e-9)))))
        fig = scatter(pts, t["dept_chart"], t["cmi_axis"], t["cost_index_axis"],
                      label_points=far, max_labels=LABELLED, hline=1.0, xformat=".2f", yformat=".2f")
        body += f"<h3>{esc(t['dept'])}</h3>" + r.chart(fig) + r.details(dept)
    doc = r.o.get("views.doctor")
    if doc is not None and len(doc) and "oe_ratio" in doc.columns:
        d = doc.dropna(subset=["oe_ratio"])
        d = d[(d["expected"] > 0) & (d["status"] == "ok" if "status" in d.columns else True)]  # ranked doctors only
        pts = [{"x": x.expected, "y": x.oe_ratio, "text": f"{x.doctor_id}", "alarm": str(x.funnel_flag).startswith("alarm"),
                "hover": f"{x.doctor_id} · {r.name(getattr(x, 'hospital_id', ''))} · {getattr(x, 'dept', '')}<br>O/E {x.oe_ratio:.2f}"
                         f"<br>{t['expected_deaths']} {x.expected:.1f}<br>{r.value('funnel_flag', x.funnel_flag)}",
                "color": flag_color(x.funnel_flag),
                "size": 6} for x in d.itertuples()]
        extra = limit_lines(d, t)  # each doctor's own limits (at their E, within their hospital), as the flags use
        fig = scatter(pts, t["doctor_chart"], t["expected_deaths_axis"], t["oe_axis"], label_points=[p for p in pts if p["alarm"]],
                      every_label=True,
                      hline=1.0, yformat=".1f", extra=extra)
        fig["layout"]["yaxis"]["range"] = [0, max([p["y"] for p in pts] + [2.0]) * 1.08]  # every doctor on the chart
        body += f"<h3>{esc(t['doctor'])}</h3><p class='note'>{esc(t['doctor_note'])}</p>" + r.chart(fig) + r.details(
            doc[doc["funnel_flag"].astype(str).str.startswith(("alarm", "alert"))])
    return section("views", t["views"], body) if body else ""


def limit_lines(d: pd.DataFrame, t: dict) -> list:
    """Each unit's own upper and lower 95% and 99.8% limits at its expected deaths (the limits its flag was judged
    by: within its hospital and specialty they differ from unit to unit, so they are drawn as a short dash per unit,
    not as one curve), with a legend entry per level; the levels the table has."""
    if "expected" not in d.columns or not len(d):
        return []
    out = []
    for level, color, name in (("95", ORANGE, t["limit95"]), ("998", RED, t["limit998"])):
        cols = [f"limit{level}_high", f"limit{level}_low"]
        if not set(cols) <= set(d.columns):
            continue
        x = [finite(v) for v in d["expected"]] * 2
        y = [finite(v) for v in d[cols[0]]] + [finite(v) for v in d[cols[1]]]
        out.append({"type": "scatter", "mode": "markers", "x": x, "y": y, "name": esc(name), "showlegend": True,
                    "hoverinfo": "skip", "marker": {"symbol": "line-ew-open", "size": 9, "color": color,
                                                    "line": {"width": 1.5, "color": color}}})
    return out


def trends(r) -> str:
    t, body = r.t, ""
    reg = r.o.get("tiered_care.region")
    if reg is not None and len(reg):
        series = [(t["episodes"], list(reg["episodes"]))]
        y2 = None
        if "primary_share" in reg.columns:
            series.append((t["primary_share"], list(reg["primary_share"]), "y2"))
            y2 = (t["share_axis"], ".1%")
        fig = line(list(reg["year"]), series, t["year_chart"], t["year"], t["episodes_axis"], tickformat=",.0f", y2=y2)
        body += r.chart(fig) + r.details(reg[[c for c in ("year", "episodes", "primary_share", "basic_care_tertiary_share") if c in reg.columns]])
    hm = r.o.get("views.hospital_month")
    if hm is not None and len(hm):
        g = hm.assign(_w=hm["cmi"] * hm["cases"]).groupby("period", sort=True).agg(cases=("cases", "sum"), w=("_w", "sum"),
                                                                                     deaths=("deaths", "sum"))
        g["cmi"] = g["w"] / g["cases"]
        g["mortality"] = g["deaths"] / g["cases"]
        fig = line(list(g.index), [(t["cases"], list(g["cases"])), ("CMI", list(g["cmi"]), "y2")], t["month_chart"], t["month"],
                   t["cases_axis"], tickformat=",.0f", y2=("CMI", ".2f"))
        body += r.chart(fig) + r.details(g.drop(columns="w").reset_index())
    return section("trends", t["trends"], body) if body else ""


# the sections a report leaves out when their tables are absent, each with the command that makes them
ABSENT = (("outcomes", "funnel", "drg evaluate"), ("discipline_mdc", "heatmap", "drg evaluate --by hospital-mdc"),
          ("risk.calibration", "risk_section", "drg risk"), ("payment.settlement", "payment", "drg pay"),
          ("tiered_care.region", "tiered", "drg tiered-care"), ("support.support", "support", "drg support"),
          ("audit.hospital_flags", "audit", "drg audit"), ("check.hospitals", "check", "drg check"), ("views.dept", "dept_section", "drg evaluate --by dept"),
          ("views.doctor", "doctor_section", "drg evaluate --by doctor"),
          ("views.hospital_month", "month_section", "drg evaluate --period month"))


def absent(r) -> str:
    """A note naming each section the report leaves out for want of its tables, and the command that makes them."""
    t = r.t
    items = [f"<li>{esc(t[key])}：<code>{esc(cmd)}</code></li>" if r.lang == "zh" else
             f"<li>{esc(t[key])}: <code>{esc(cmd)}</code></li>"
             for table, key, cmd in ABSENT if r.o.get(table) is None or not len(r.o[table])]
    if not items:
        return ""
    return section("absent", t["absent"], f"<p class='note'>{esc(t['absent_note'])}</p><ul>{''.join(items)}</ul>")
