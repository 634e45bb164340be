"""The sections of `drg report`: each reads the loaded output tables and returns its HTML (charts as Plotly
figures registered on the page, each with its numbers in a table), or "" when its tables are absent."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from evaluation.text import VALUE_LABELS

from .charts import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    PALETTE,
    RED,
    esc,
    finite,
    hbar,
    heatmap_with_selector,
    layout,
    line,
    quadrant_notes,
    scatter,
    tick_format,
)
from .text import MDC_NAMES, QUADRANTS_EN, STATUS_EN

LEVEL_ORDER = {"tertiary": 0, "secondary": 1, "primary": 2}
TOP_HOSPITALS = 30  # rows of the heat map before the selector widens it


def level_name(v, lang: str) -> str:
    if lang == "zh":
        parts = str(v).split("/")
        return "/".join(VALUE_LABELS["level" if i == 0 else "kind"].get(p, p) for i, p in enumerate(parts))
    return str(v).replace("_", " ")


def _peer_groups(df: pd.DataFrame):
    keys = sorted(df["peer_group"].dropna().unique(), key=lambda g: (LEVEL_ORDER.get(str(g).split("/")[0], 9), str(g)))
    return [(g, df[df["peer_group"] == g]) for g in keys]


def _wan(v) -> str:
    """Yuan as 万元 text with sign (−516.2万元)."""
    return f"{v / 1e4:,.1f}"


def flag_color(flag) -> str:
    """A funnel point's colour: red beyond the 99.8% limits (alarm), orange beyond 95% (alert), else blue."""
    f = str(flag)
    return RED if f.startswith("alarm") else ORANGE if f.startswith("alert") else BLUE


def section(sid: str, title: str, body: str) -> str:
    return f"<section id='{sid}'><h2>{esc(title)}</h2>{body}</section>"


def overview(r) -> str:
    o, t, h = r.o, r.t, r.h
    s = o.get("summary") or {}
    counts = dict(s.get("status_counts") or {})
    rate = None
    if o.get("quality") is not None:
        q = o["quality"].set_index("metric")["value"]
        rate = finite(q.get("grouping_rate"))
    total = int(s.get("rows_in") or h["cases"].sum())
    if not counts and rate is not None:  # evaluate output alone: grouped and not grouped from the grouping rate
        grouped = int(round(rate * total))
        counts = {"分组成功": grouped, "无法入组": total - grouped}
    kpis = [(t["cases"], f"{total:,}"), (t["hospitals"], f"{int((h['cases'] > 0).sum()):,}"),
            (t["drgs"], f"{len(o['weights']) if o.get('weights') is not None else 0:,}"),
            (t["grouping_rate"], f"{100 * rate:.2f}%" if rate is not None else "")]
    body = "<div class='kpis'>" + "".join(f"<div class='kpi'>{esc(k)}<b>{esc(v)}</b></div>" for k, v in kpis) + "</div>"
    if counts:
        names = [k if r.lang == "zh" else STATUS_EN.get(k, k) for k in counts]
        n = sum(counts.values()) or 1
        texts = [f"{v:,} ({100 * v / n:.2f}%)" for v in counts.values()]
        colors = [GREEN if k == "分组成功" else RED for k in counts]
        fig = hbar(names, [max(v, 0.9) for v in counts.values()], t["status"], t["cases_log"], texts=texts, colors=colors,
                   hover=[f"{esc(a)}: {b}" for a, b in zip(names, texts)], xtype="log")
        status = pd.DataFrame({t["status"]: names, t["count"]: list(counts.values())})
        body += r.chart(fig) + r.details(status)
    reasons = pd.DataFrame([(r.reason(a), b) for a, b in (s.get("top_reasons") or [])], columns=[t["reason"], t["count"]])
    if len(reasons):
        body += f"<h3>{esc(t['reasons'])}</h3>" + r.table(reasons, searchable=False)
    return section("overview", t["overview"], body)


PEER_COLUMNS = ["hospital_id", "name", "level", "cases", "drg_count", "total_weight", "cmi", "cost_index", "time_index",
                "low_risk_mortality", "midlow_risk_mortality", "quadrant_cost", "rank_cmi", "rank_cost_index"]


def peers(r) -> str:
    h, t = r.h, r.t
    cols = [c for c in PEER_COLUMNS if c in h.columns]
    body = "".join(f"<h3>{esc(level_name(g, r.lang))}</h3>" + r.table(sub.sort_values("cmi", ascending=False)[cols])
                   for g, sub in _peer_groups(h))
    return section("peer", t["peer"], body)


def quadrants(r) -> str:
    h, t = r.h.dropna(subset=["cmi", "cost_index"]), r.t
    words = [VALUE_LABELS["quadrant_cost"][k] if r.lang == "zh" else QUADRANTS_EN[k] for k in ("I", "II", "III", "IV")]
    body = []
    for g, sub in _peer_groups(h):
        x_star = float(sub["total_weight"].sum() / max(sub["cases"].sum(), 1))
        pts = [{"x": row.cmi, "y": row.cost_index, "text": r.name(row.hospital_id),
                "hover": f"{r.name(row.hospital_id)} ({row.hospital_id})<br>CMI {row.cmi:.3f}<br>{t['cost_index']} "
                         f"{row.cost_index:.3f}<br>{t['cases']} {int(row.cases):,}",
                "color": PALETTE[(0 if row.cost_index <= 1 else 3) if row.cmi >= x_star else (1 if row.cost_index > 1 else 2)]}
               for row in sub.itertuples()]
        far = sorted(pts, key=lambda p: -(abs(np.log(max(p["y"], 1e-9))) + abs(p["x"] - x_star) / max(x_star, 1e-9)))
        fig = scatter(pts, f"{t['quadrant']} · {level_name(g, r.lang)}", t["cmi_axis"], t["cost_index_axis"],
                      label_points=far, max_labels=LABELLED, vline=x_star, hline=1.0, xformat=".2f",
                      yformat=".2f", annotations=quadrant_notes(words))
        body.append(f"<div>{r.chart(fig)}{r.details(sub[['hospital_id', 'name', 'cmi', 'cost_index', 'time_index', 'quadrant_cost']])}</div>")
    note = f"<p class='note'>{esc(t['quadrant_note'])}</p>"
    return section("quadrant", t["quadrant"], note + "<div class='grid'>" + "".join(body) + "</div>")


def funnel(r) -> str:
    from evaluation.outcomes import funnel_curve

    o, t = r.o, r.t
    if o.get("outcomes") is None:
        return ""
    oc = o["outcomes"].dropna(subset=["oe_ratio"])
    oc = oc[oc["expected"] > 0]
    charts = []
    for g, sub in (_peer_groups(oc) if "peer_group" in oc.columns else [("", oc)]):
        first = sub.iloc[0]
        curve = funnel_curve(float(sub["expected"].max()), method=first.get("od_method"), phi=float(first.get("phi", 1.0)),
                             tau2=float(sub["tau2"].median()) if "tau2" in sub.columns else 0.0)
        if "peer_centre" in sub.columns:  # random-effects limits sit about the peers' centre (each hospital's own in the table)
            for col in ("limit95_low", "limit95_high", "limit998_low", "limit998_high"):
                curve[col] = curve[col] * float(sub["peer_centre"].median())
        extra = []
        for col, color, dash, name in (("limit95_high", ORANGE, "dash", t["limit95"]), ("limit95_low", ORANGE, "dash", None),
                                       ("limit998_high", RED, "solid", t["limit998"]), ("limit998_low", RED, "solid", None)):
            extra.append({"type": "scatter", "mode": "lines", "x": [finite(v) for v in curve["expected"]],
                          "y": [finite(v) for v in curve[col]], "line": {"color": color, "dash": dash, "width": 1.5},
                          "name": esc(name or ""), "showlegend": bool(name), "hoverinfo": "skip"})
        pts = []
        for row in sub.itertuples():
            alarm = str(row.funnel_flag).startswith("alarm")
            pts.append({"x": row.expected, "y": row.oe_ratio, "text": r.name(row.hospital_id),
                        "hover": f"{r.name(row.hospital_id)} ({row.hospital_id})<br>{t['observed_deaths']} {int(row.observed)}"
                                 f"<br>{t['expected_deaths']} {row.expected:.1f}<br>O/E {row.oe_ratio:.2f}<br>{r.value('funnel_flag', row.funnel_flag)}",
                        "color": flag_color(row.funnel_flag),
                        "alarm": alarm})
        # the funnel's shape in view: from no deaths expected, and high enough for the 99.8% limit where the
        # smallest hospital stands (at most 6, unless a hospital is above it)
        e_min = min(p["x"] for p in pts) if pts else 1.0
        upper = np.interp(e_min, np.asarray(curve["expected"], float), np.asarray(curve["limit998_high"], float))
        top = max(max([p["y"] for p in pts] + [2.0]) * 1.08, min(float(upper) * 1.05, 6.0))
        fig = scatter(pts, f"{t['funnel']} · {level_name(g, r.lang)}" if g else t["funnel"], t["expected_deaths_axis"],
                      t["oe_axis"], label_points=[p for p in pts if p["alarm"]], every_label=True, hline=1.0, extra=extra, yformat=".1f",
                      xformat=",.0f")
        fig["layout"]["yaxis"]["range"] = [0, top]
        fig["layout"]["xaxis"]["range"] = [0, float(sub["expected"].max()) * 1.06]
        fig["layout"]["xaxis"]["tickformat"] = tick_format(",.0f", 0, float(sub["expected"].max()))
        charts.append(r.chart(fig))
    named = oc[oc["funnel_flag"].astype(str).str.startswith("alarm")]
    listing = ", ".join(f"{esc(r.name(x.hospital_id))} ({esc(x.hospital_id)}, O/E {x.oe_ratio:.2f})" for x in named.itertuples()) \
        or esc(t["none"])
    body = (f"<p class='note'>{esc(t['funnel_note'])}</p>" + "".join(charts)
            + f"<p><b>{esc(t['outliers'])}:</b> <span class='flag' id='funnel-outliers'>{listing}</span></p>"
            + r.details(o["outcomes"]))
    return section("funnel", t["funnel"], body)


def heatmap(r) -> str:
    d, t, h = r.o.get("discipline_mdc"), r.t, r.h
    if d is None or not len(d):
        return ""
    value = "relative_cmi" if "relative_cmi" in d.columns else "cmi"
    mdcs = sorted(d["mdc"].astype(str).unique())
    x_labels = [f"{m[3:] if m.startswith('MDC') else m} {MDC_NAMES[r.lang].get(m, '')}".strip() for m in mdcs]
    cells = d.pivot_table(index="hospital_id", columns="mdc", values=value, aggfunc="first").reindex(columns=mdcs)
    n_cases = d.pivot_table(index="hospital_id", columns="mdc", values="cases", aggfunc="first").reindex(columns=mdcs)
    order = h.set_index("hospital_id")["cases"].reindex(cells.index).fillna(0).sort_values(ascending=False, kind="stable")
    level = h.set_index("hospital_id")["peer_group"] if "peer_group" in h.columns else pd.Series(dtype=object)

    def view(label, ids):
        z = [[finite(v) for v in cells.loc[i]] for i in ids]
        cases = [[int(c) if finite(c) is not None else 0 for c in n_cases.loc[i]] for i in ids]
        return (label, [r.name(i) for i in ids], z, cases)

    ids = list(order.index)
    views = [view(t["top_n"].format(n=min(TOP_HOSPITALS, len(ids))), ids[:TOP_HOSPITALS])]
    for g in sorted(level.dropna().unique(), key=lambda g: LEVEL_ORDER.get(str(g).split("/")[0], 9)):
        sub = [i for i in ids if level.get(i) == g][:80]
        if sub:
            views.append(view(f"{level_name(g, r.lang)} ({t['top_n'].format(n=len(sub))})", sub))
    views.append(view(t["all_hospitals"].format(n=len(ids)), ids))
    hover = f"%{{y}}<br>%{{x}}<br>{esc(t['cases'])} %{{customdata:,}}<br>{esc(t[value])} %{{z:.2f}}<extra></extra>"
    fig = heatmap_with_selector(views, x_labels, t["heatmap"], t["mdc_axis"], t[value], hover, zmid=1.0 if value == "relative_cmi" else None)
    if value == "relative_cmi":  # never below 0: the bar runs 0-2 around 1 (above 2 shows as 2's colour; hover tells)
        fig["data"][0].update({"zmin": 0.0, "zmax": 2.0, "zauto": False})
        fig["data"][0].pop("zmid", None)
    shown = cells.loc[ids[:TOP_HOSPITALS]].round(4)
    shown.columns = x_labels  # MDC code and name: the table reads like the chart
    table = shown.reset_index()
    table.insert(1, "name", [r.name(i) for i in table["hospital_id"]])
    return section("heatmap", t["heatmap"], f"<p class='note'>{esc(t['heatmap_note'])}</p>" + r.chart(fig) + r.details(table))


def weights(r) -> str:
    w, t = r.o.get("weights"), r.t
    if w is None:
        return ""
    ok = w.dropna(subset=["rw", "cv"])
    pts = [{"x": x.rw, "y": x.cv, "color": RED if x.cv >= 1 else BLUE,
            "hover": f"{x.drg} {getattr(x, 'drg_name', '') or ''}<br>RW {x.rw:.3f}<br>CV {x.cv:.2f}<br>{t['cases']} {int(x.cases):,}"}
           for x in ok.itertuples()]
    fig = scatter(pts, t["weights_chart"], t["rw_axis"], t["cv_axis"], hline=1.0, xtype="log", yformat=".1f", height=420)
    flagged = int((w["cv"] >= 1).sum())
    return section("weights", t["weights"], f"<p>{esc(t['cv_flag'])}: {flagged}</p>" + r.chart(fig) + r.details(w))


def risk(r) -> str:
    cal, model, t = r.o.get("risk.calibration"), r.o.get("risk.model"), r.t
    if cal is None or not len(cal) or model is None:
        return ""
    death = cal[cal["outcome"] == "death"]
    if not len(death):
        return ""
    obs = (death["observed_sum"] / death["cases"]).astype(float)
    exp = (death["expected_sum"] / death["cases"]).astype(float)
    pts = [{"x": e, "y": v, "text": str(int(d)), "hover": f"{t['decile']} {int(d)}<br>{t['expected']} {e:.2%}<br>{t['observed']} {v:.2%}"}
           for d, e, v in zip(death["decile"], exp, obs)]
    top = float(max(exp.max(), obs.max())) * 1.05
    diag = [{"type": "scatter", "mode": "lines", "x": [0, top], "y": [0, top], "line": {"color": GREY, "dash": "dash"},
             "name": esc(t["perfect"]), "hoverinfo": "skip"}]
    fig = scatter(pts, t["risk"], t["expected_axis"], t["observed_axis"], label_points=pts, extra=diag, xformat=".1%", yformat=".1%")
    return section("risk", t["risk"], r.chart(fig) + r.table(model, searchable=False) + r.details(cal))


def payment(r) -> str:
    st, t = r.o.get("payment.settlement"), r.t
    if st is None or not len(st):
        return ""
    year = st["year"].max() if "year" in st.columns else ""
    last = st[st["year"] == year] if "year" in st.columns else st
    last = last.sort_values("balance", kind="stable")
    show = pd.concat([last.head(15), last.tail(15)]).drop_duplicates("hospital_id")
    names = [f"{r.name(i)}" for i in show["hospital_id"]]
    texts = [_wan(v) for v in show["balance"]]
    hover = [f"{esc(r.name(i))} ({esc(i)})<br>{t['balance']} {b:,.2f} {t['yuan']}<br>{t['payment_word']} {p:,.2f} {t['yuan']}"
             f"<br>{t['cost_word']} {c:,.2f} {t['yuan']}" for i, b, p, c in
             zip(show["hospital_id"], show["balance"], show["payment"], show["actual_cost"])]
    fig = hbar(names, list(show["balance"] / 1e4), t["payment_chart"].format(year=year), t["balance_axis"], texts=texts,
               colors=[RED if v < 0 else GREEN for v in show["balance"]], hover=hover, tickformat=",.0f")
    from evaluation.payment_classes import REGISTRY

    exceptions = [f"cases_{c.name}" for c in REGISTRY if c.settled and c.name != "normal"]  # every registered class
    keep = [c for c in ("year", "hospital_id", "level", "cases", "payment", "actual_cost", "balance", "balance_rate", "shared",
                        *exceptions) if c in st.columns]
    body = r.chart(fig) + r.details(last.sort_values("hospital_id", kind="stable")[keep])
    pl = r.o.get("payment.drg_profit_loss")
    if pl is not None and len(pl):
        p = pl[pl["year"] == pl["year"].max()] if "year" in pl.columns else pl
        by = p.groupby("drg", observed=True).agg(cases=("cases", "sum"), balance=("balance", "sum"), losing=("losing_cases", "sum"))
        by = by[by["cases"] > 0].sort_values("balance", kind="stable")
        worst = pd.concat([by.head(15), by.tail(5)])
        worst = worst[~worst.index.duplicated()]  # fewer than 20 DRGs: each once
        dn = {**r.drg_names, "0000": r.value("payment_class", "not_grouped")}  # the failure code: cases not grouped
        hover = [f"{esc(d)} {esc(dn.get(d, ''))}<br>{t['cases']} {int(c):,}<br>{t['balance']} {b:,.0f} {t['yuan']}"
                 f"<br>{t['loss_share']} {lz / max(c, 1):.0%}" for d, c, b, lz in zip(worst.index, worst["cases"], worst["balance"], worst["losing"])]
        fig = hbar([f"{d} {dn.get(d, '')}"[:28] for d in worst.index], list(worst["balance"] / 1e4),
                   t["pl_chart"].format(year=p["year"].max() if "year" in p.columns else ""), t["balance_axis"],
                   texts=[_wan(v) for v in worst["balance"]], colors=[RED if v < 0 else GREEN for v in worst["balance"]], hover=hover)
        body += f"<h3>{esc(t['pl'])}</h3>" + r.chart(fig) + r.details(by.reset_index().rename(columns={"losing": "losing_cases"}))
    return section("payment", f"{t['payment']} ({year})", body)


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


def dip(r) -> str:
    """drg dip pay: each hospital's DIP case-mix index, cost per point, settlement and violation indices; the point
    value of each year."""
    h, params, t = r.o.get("dip.hospitals"), r.o.get("dip.parameters"), r.t
    if h is None or not len(h):
        return ""
    h = h.sort_values(["dip_cmi", "hospital_id"], ascending=[False, True], kind="stable")
    top = h.head(30)
    fig = hbar([r.name(i) for i in top["hospital_id"]], list(top["dip_cmi"]), t["dip_chart"], t["dip_axis"],
               texts=[f"{v:,.0f}" for v in top["dip_cmi"]])
    body = r.chart(fig) + f"<p class='note'>{esc(t['dip_note'])}</p>"
    if params is not None and len(params):
        body += r.table(params[["year", "budget", "points", "point_value"]], searchable=False)
    cols = ["hospital_id", "cases", "grouped", "points", "dip_cmi", "cost_per_point", "payment_fen", "high_cases", "low_cases",
            "readmission_index", "low_standard_index", "long_stay_index", "death_risk_index"]
    return section("dip", t["dip"], body + r.table(h[cols]))


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
        extra = _limit_lines(d, t)  # each doctor's own limits (at their E, within their hospital), as the flags use
        fig = scatter(pts, t["doctor_chart"], t["expected_deaths_axis"], t["oe_axis"], label_points=[p for p in pts if p["alarm"]],
                      every_label=True,
                      hline=1.0, yformat=".1f", extra=extra)
        fig["layout"]["yaxis"]["range"] = [0, max([p["y"] for p in pts] + [2.0]) * 1.08]  # every doctor on the chart
        body += f"<h3>{esc(t['doctor'])}</h3><p class='note'>{esc(t['doctor_note'])}</p>" + r.chart(fig) + r.details(
            doc[doc["funnel_flag"].astype(str).str.startswith(("alarm", "alert"))])
    return section("views", t["views"], body) if body else ""


LABELLED = 10  # names written on a scatter: at most this many, the farthest out first, none covering another


def _limit_lines(d: pd.DataFrame, t: dict) -> list:
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


SECTIONS = (overview, peers, quadrants, funnel, heatmap, weights, risk, payment, dip, tiered, support, audit, quality_control,
            views, trends, absent)


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
