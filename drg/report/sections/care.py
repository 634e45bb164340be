"""The care sections: tiered care (分级诊疗) and counterpart support (对口支援)."""

from __future__ import annotations

import pandas as pd

from ...charts import BLUE, GREEN, GREY, RED, esc, finite, hbar, layout
from .common import section


def tiered(r) -> str:
    cty, t = r.o.get("tiered_care.county"), r.t
    reg = r.o.get("tiered_care.region")
    if (cty is None or not len(cty)) and reg is not None and len(reg):  # no county known: the region's indicators only
        return section("tiered", t["tiered"], f"<p class='note'>{esc(t['no_county'])}</p>" + r.table(reg, searchable=False))
    if cty is None or not len(cty):
        return ""
    year = cty["year"].max()
    last = cty[cty["year"] == year].sort_values("in_county_rate", ascending=False, kind="stable")
    target = finite(last["in_county_rate_target"].iloc[0]) if "in_county_rate_target" in last.columns else None
    met = last["in_county_rate_met"] if "in_county_rate_met" in last.columns else pd.Series(True, index=last.index)
    fig = hbar(list(last["county"]), list(last["in_county_rate"]), t["tiered_chart"].format(year=year), t["rate_axis"],
               texts=[f"{v:.1%}" for v in last["in_county_rate"]], colors=[GREEN if m is True else RED for m in met],
               hover=[f"{esc(c)}<br>{t['in_county_rate']} {v:.1%}<br>{t['residents']} {int(n):,}" for c, v, n in
                      zip(last["county"], last["in_county_rate"], last["residents"])],
               tickformat=".0%", target=target, target_text=f"{t['target']} {target:.0%}" if target is not None else "")
    reg = r.o.get("tiered_care.region")
    return section("tiered", t["tiered"], r.chart(fig) + r.details(cty) + (r.table(reg, searchable=False) if reg is not None else ""))


def support(r) -> str:
    sp, t = r.o.get("support.support"), r.t
    if sp is None or not len(sp) or "period" not in sp.columns:
        return ""
    tp = sp[sp["program"] == "tertiary_pairing"] if (sp["program"] == "tertiary_pairing").any() else sp
    pp = tp[tp["period"].isin(["pre", "post"])].groupby(["recipient_id", "period"])["cmi"].mean().unstack()
    names = [r.name(i) for i in pp.index]
    data = [{"type": "bar", "name": esc(t[k]), "x": [esc(n) for n in names], "y": [finite(v) for v in pp.get(k, [])],
             "marker": {"color": c}, "text": [f"{v:.2f}" if finite(v) is not None else "" for v in pp.get(k, [])],
             "textposition": "outside"} for k, c in (("pre", GREY), ("post", BLUE)) if k in pp.columns]
    fig = {"data": data, "layout": layout(t["support_chart"], t["recipient_axis"], "CMI", 420, barmode="group",
                                          xaxis={"type": "category", "tickangle": -30}, yaxis={"tickformat": ".2f"})}
    body = r.chart(fig) + r.details(pp.reset_index().rename(columns={"pre": "cmi_pre", "post": "cmi_post"}))
    dd = r.o.get("support.support_did")
    if dd is not None and len(dd):
        est = dd.dropna(subset=["did"])
        charts = []
        for ind, sub in est.groupby("indicator", sort=False):  # one axis per indicator: CMI and case counts differ in scale
            labels = [r.value("program", p) for p in sub["program"]]
            charts.append(r.chart({"data": [{
                "type": "scatter", "mode": "markers", "y": [esc(v) for v in labels], "x": [finite(v) for v in sub["did"]],
                "error_x": {"type": "data", "symmetric": False, "array": [finite(a - b) for a, b in zip(sub["ci_high"], sub["did"])],
                            "arrayminus": [finite(b - a) for a, b in zip(sub["ci_low"], sub["did"])]},
                "marker": {"color": [RED if (finite(p) or 1.0) < 0.05 else BLUE for p in sub["p_value"]],
                           "size": 10},
                "hovertext": [f"{esc(lb)}<br>{t['did_hover'].format(d=d, a=a, b=b)}<br>P {p:.3f}" for lb, d, a, b, p in
                              zip(labels, sub["did"], sub["ci_low"], sub["ci_high"], sub["p_value"])], "hoverinfo": "text"}],
                "layout": layout(f"{t['did_chart']} · {r.value('indicator', ind)}", t["did_axis"], "", max(240, 120 + 40 * len(sub)),
                                 yaxis={"type": "category", "autorange": "reversed"}, margin={"t": 40, "b": 45},
                                 shapes=[{"type": "line", "x0": 0, "x1": 0, "yref": "paper", "y0": 0, "y1": 1,
                                          "line": {"color": GREY, "dash": "dash"}}])}))
        if charts:
            body += f"<h3>{esc(t['did'])}</h3><div class='grid'>" + "".join(f"<div>{c}</div>" for c in charts) + "</div>"
        body += r.table(dd, searchable=False)
    return section("support", t["support"], body)
