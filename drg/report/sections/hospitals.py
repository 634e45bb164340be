"""The hospital sections: overview, peers, quadrants, the mortality funnel, the discipline heat map, weights, the
patient-level risk model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.words import VALUE_LABELS

from ...charts import (
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
    quadrant_notes,
    scatter,
    tick_format,
)
from ...text import MDC_NAMES, QUADRANTS_EN, STATUS_EN
from .common import LABELLED, LEVEL_ORDER, TOP_HOSPITALS, flag_color, level_name, peer_groups, section


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
                   for g, sub in peer_groups(h))
    return section("peer", t["peer"], body)


def quadrants(r) -> str:
    h, t = r.h.dropna(subset=["cmi", "cost_index"]), r.t
    words = [VALUE_LABELS["quadrant_cost"][k] if r.lang == "zh" else QUADRANTS_EN[k] for k in ("I", "II", "III", "IV")]
    body = []
    for g, sub in peer_groups(h):
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
    for g, sub in (peer_groups(oc) if "peer_group" in oc.columns else [("", oc)]):
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
