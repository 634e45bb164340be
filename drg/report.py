"""`drg report`: one self-contained HTML file (inline SVG charts, inline CSS/JS, no network) and an
Excel workbook with the same tables.

Reads an output folder of the toolkit (as written by ``drg demo``): ``evaluation/`` and, when
present, ``payment/``, ``tiered_care/``, ``support/`` and ``grouped.parquet.summary.json``. Every
text that comes from the data is escaped; every chart has its numbers in a table beside it.
"""

from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.common import unlabel
from evaluation.text import LABELS

from .atomic import check_file_target, discard, publish, refuse_overlap, temp_file
from .io import InputError
from .text import REPORT

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",system-ui,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#1f4e79;color:#fff;padding:18px 32px}header h1{margin:0;font-size:24px}header p{margin:4px 0 0;opacity:.85}
main{padding:16px 32px;max-width:1400px}section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:16px 0;padding:16px 20px}
h2{font-size:19px;margin:0 0 12px;color:#1f4e79}h3{font-size:15px;margin:14px 0 6px}
.kpis{display:flex;gap:16px;flex-wrap:wrap}.kpi{background:#eef3f8;border-radius:6px;padding:10px 16px;min-width:150px}
.kpi b{display:block;font-size:22px;color:#1f4e79}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}th,td{border:1px solid #d9e2ec;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#e4ecf5;cursor:pointer;position:sticky;top:0}td:first-child,th:first-child{text-align:left}
.tablewrap{max-height:420px;overflow:auto;border:1px solid #d9e2ec}input.search{margin:4px 0;padding:4px 8px;width:260px}
.flag{color:#c0392b;font-weight:bold}.ok{color:#1e8449}svg.chart{background:#fff;display:block;margin:8px 0}
details summary{cursor:pointer;color:#1f4e79;margin:6px 0}.grid{display:flex;flex-wrap:wrap;gap:20px}
"""

JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var body=t.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
      var asc=th.getAttribute('data-dir')!=='asc';
      t.querySelectorAll('th').forEach(function(h){h.removeAttribute('data-dir');});
      th.setAttribute('data-dir',asc?'asc':'desc');
      rows.sort(function(a,b){
        var x=a.cells[i].getAttribute('data-v')||a.cells[i].textContent,y=b.cells[i].getAttribute('data-v')||b.cells[i].textContent;
        var nx=parseFloat(x),ny=parseFloat(y);
        if(!isNaN(nx)&&!isNaN(ny)){return asc?nx-ny:ny-nx;}
        if(isNaN(nx)!==isNaN(ny)){return isNaN(nx)?1:-1;}
        return asc?String(x).localeCompare(String(y)):String(y).localeCompare(String(x));
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
});
document.querySelectorAll('input.search').forEach(function(inp){
  inp.addEventListener('input',function(){
    var t=document.getElementById(inp.getAttribute('data-table'));var q=inp.value.toLowerCase();
    Array.prototype.forEach.call(t.tBodies[0].rows,function(r){r.style.display=r.textContent.toLowerCase().indexOf(q)>=0?'':'none';});
  });
});
"""

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def esc(v) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def fmt(v, col: str = "") -> str:
    f = _num(v)
    if f is None or isinstance(v, (bool, np.bool_)) or isinstance(v, str):
        return esc("" if v is None or (isinstance(v, float) and math.isnan(v)) else v)
    if isinstance(v, (int, np.integer)) or (f.is_integer() and abs(f) >= 1000 and "rate" not in col):
        return f"{f:,.0f}"
    if col.endswith("_index") or col in ("cmi", "rw", "cv", "cv_los", "relative_cmi", "oe_ratio", "oe_low", "oe_high"):
        return f"{f:.4f}"
    if any(k in col for k in ("mortality", "share", "rate", "coverage")):
        return f"{100 * f:.2f}%"
    if any(k in col for k in ("cost", "payment", "balance", "amount")):
        return f"{f:,.2f}"
    return f"{f:.4f}"


class Ids:
    def __init__(self):
        self.n = 0

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


def table_html(df: pd.DataFrame, ids: Ids, lang: str, max_rows: int = 20000, searchable: bool = True) -> str:
    tid = ids("t")
    cols = list(df.columns)
    head = "".join(f"<th>{esc(LABELS.get(c, c) if lang == 'zh' else c)}</th>" for c in cols)
    body = []
    for row in df.head(max_rows).itertuples(index=False):
        cells = []
        for c, v in zip(cols, row):
            f = _num(v) if not isinstance(v, (str, bool, np.bool_)) else None
            dv = f' data-v="{f!r}"' if f is not None else ""
            cells.append(f"<td{dv}>{fmt(v, c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    search = f'<input class="search" data-table="{tid}" placeholder="{esc(REPORT[lang]["search"])}">' if searchable else ""
    return f'{search}<div class="tablewrap"><table id="{tid}" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def data_details(df: pd.DataFrame, ids: Ids, lang: str) -> str:
    return f"<details><summary>{esc(REPORT[lang]['data'])}</summary>{table_html(df, ids, lang)}</details>"


def _scale(lo, hi, a, b):
    if hi <= lo:
        hi = lo + 1.0
    return lambda v: a + (v - lo) / (hi - lo) * (b - a)


def _axes(W, H, m, xlabel, ylabel, xt, yt, sx, sy):
    out = [f'<line x1="{m}" y1="{H - m}" x2="{W - 10}" y2="{H - m}" stroke="#555"/>',
           f'<line x1="{m}" y1="10" x2="{m}" y2="{H - m}" stroke="#555"/>']
    def tick(v):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"

    for v in xt:
        out.append(f'<text x="{sx(v):.1f}" y="{H - m + 16}" font-size="10" text-anchor="middle">{tick(v)}</text>')
    for v in yt:
        out.append(f'<text x="{m - 4}" y="{sy(v) + 3:.1f}" font-size="10" text-anchor="end">{tick(v)}</text>')
    out.append(f'<text x="{(W + m) / 2:.0f}" y="{H - 6}" font-size="11" text-anchor="middle">{esc(xlabel)}</text>')
    out.append(f'<text x="12" y="{H / 2:.0f}" font-size="11" transform="rotate(-90 12 {H / 2:.0f})" text-anchor="middle">{esc(ylabel)}</text>')
    return out


def scatter_svg(points: list, xlabel, ylabel, vline=None, hline=None, curves=None, W=560, H=380, cid="c") -> str:
    """points: (x, y, label, color)."""
    m = 50
    xs = [p[0] for p in points] + ([vline] if vline is not None else [])
    ys = [p[1] for p in points] + ([hline] if hline is not None else [])
    for cv in curves or []:
        ys += [y for _, y in cv[0] if y is not None]
    if not xs:
        xs, ys = [0, 1], [0, 1]
    xlo, xhi = min(xs), max(xs)
    ylo, yhi = min(ys), max(ys)
    pad_x, pad_y = (xhi - xlo) * 0.05 or 0.5, (yhi - ylo) * 0.05 or 0.5
    sx = _scale(xlo - pad_x, xhi + pad_x, m, W - 10)
    sy = _scale(ylo - pad_y, yhi + pad_y, H - m, 10)
    el = _axes(W, H, m, xlabel, ylabel, np.linspace(xlo, xhi, 5), np.linspace(ylo, yhi, 5), sx, sy)
    for pts, color, dash in curves or []:
        d = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(p for p in pts if p[1] is not None))
        el.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-dasharray="{dash}"/>')
    if vline is not None:
        el.append(f'<line x1="{sx(vline):.1f}" y1="10" x2="{sx(vline):.1f}" y2="{H - m}" stroke="#888" stroke-dasharray="4 3"/>')
    if hline is not None:
        el.append(f'<line x1="{m}" y1="{sy(hline):.1f}" x2="{W - 10}" y2="{sy(hline):.1f}" stroke="#888" stroke-dasharray="4 3"/>')
    for x, y, label, color in points:
        el.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="{color}" fill-opacity="0.8"><title>{esc(label)}</title></circle>')
    return f'<svg class="chart" id="{cid}" width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg">{"".join(el)}</svg>'


def bars_svg(items: list, ylabel, W=900, H=300, target=None, cid="b", colors=None) -> str:
    """items: (label, value[, color])."""
    m = 55
    vals = [v for _, v, *_ in items if v is not None] + ([target] if target is not None else [])
    lo, hi = min(vals + [0.0]), max(vals + [0.0])
    sy = _scale(lo, hi if hi > lo else lo + 1, H - m, 10)
    n = max(len(items), 1)
    bw = (W - m - 10) / n
    el = _axes(W, H, m, "", ylabel, [], np.linspace(lo, hi, 5), lambda v: v, sy)
    for i, item in enumerate(items):
        label, v = item[0], item[1]
        if v is None:
            continue
        color = item[2] if len(item) > 2 else ("#2e86c1" if v >= 0 else "#c0392b")
        y0, y1 = sy(0), sy(v)
        el.append(f'<rect x="{m + i * bw + 1:.1f}" y="{min(y0, y1):.1f}" width="{max(bw - 2, 1):.1f}" height="{max(abs(y1 - y0), 0.5):.1f}" '
                  f'fill="{color}"><title>{esc(label)}: {v:,.4g}</title></rect>')
        if n <= 40:
            el.append(f'<text x="{m + (i + 0.5) * bw:.1f}" y="{H - m + 12}" font-size="9" text-anchor="end" '
                      f'transform="rotate(-45 {m + (i + 0.5) * bw:.1f} {H - m + 12})">{esc(label)}</text>')
    if target is not None:
        el.append(f'<line x1="{m}" y1="{sy(target):.1f}" x2="{W - 10}" y2="{sy(target):.1f}" stroke="#c0392b" stroke-dasharray="6 3"/>')
    return f'<svg class="chart" id="{cid}" width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg">{"".join(el)}</svg>'


def heatmap_svg(df: pd.DataFrame, row: str, col: str, value: str, cid="h", cell=12) -> str:
    rows = sorted(df[row].astype(str).unique())
    cols = sorted(df[col].astype(str).unique())
    v = df[value].astype(float)
    lo, hi = np.nanmin(v) if len(v) else 0, np.nanmax(v) if len(v) else 1
    left, top = 70, 40
    W, H = left + cell * len(cols) + 10, top + cell * len(rows) + 10
    ri = {r: i for i, r in enumerate(rows)}
    ci = {c: i for i, c in enumerate(cols)}
    el = [f'<text x="{left + (j + 0.5) * cell:.1f}" y="{top - 4}" font-size="8" text-anchor="start" '
          f'transform="rotate(-60 {left + (j + 0.5) * cell:.1f} {top - 4})">{esc(c)}</text>' for j, c in enumerate(cols)]
    if len(rows) <= 80:
        el += [f'<text x="{left - 3}" y="{top + (i + 0.8) * cell:.1f}" font-size="8" text-anchor="end">{esc(r)}</text>' for i, r in enumerate(rows)]
    for r, c, x in zip(df[row].astype(str), df[col].astype(str), v):
        if np.isnan(x):
            continue
        t = 0.0 if hi <= lo else (x - lo) / (hi - lo)
        color = f"rgb({int(255 - 200 * t)},{int(245 - 120 * t)},{int(255 - 60 * t)})"
        el.append(f'<rect x="{left + ci[c] * cell}" y="{top + ri[r] * cell}" width="{cell - 1}" height="{cell - 1}" fill="{color}">'
                  f'<title>{esc(r)} {esc(c)}: {x:.3f}</title></rect>')
    return f'<svg class="chart" id="{cid}" width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg">{"".join(el)}</svg>'


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    p = folder / f"{name}.parquet"
    if not p.exists():
        return None
    try:
        df = pd.read_parquet(p)
    except Exception as e:  # pyarrow raises several kinds for a damaged file
        raise InputError(f"{p}: not a readable Parquet table ({type(e).__name__}); re-run the command that wrote it") from None
    return unlabel(df)


def load_outputs(root: str) -> dict:
    r = Path(root)
    ev = r / "evaluation" if (r / "evaluation").is_dir() else r
    if not (ev / "hospital.parquet").exists():
        raise FileNotFoundError(f"{root}: no evaluation tables (hospital.parquet); run drg evaluate -o {root}/evaluation first, or drg demo")
    out = {name: _read(ev, name) for name in ("hospital", "outcomes", "weights", "quality", "discipline_mdc")}
    for sub, names in (("payment", ("settlement",)), ("tiered_care", ("county", "region", "hospital")),
                       ("support", ("support", "support_did", "support_summary")), ("risk", ("model", "calibration"))):
        for name in names:
            out[f"{sub}.{name}"] = _read(r / sub, name) if (r / sub).is_dir() else None
    for name in ("model", "calibration"):  # drg evaluate --risk-model copies the model tables
        if out.get(f"risk.{name}") is None:
            out[f"risk.{name}"] = _read(ev, f"risk_{name}")
    summary = r / "grouped.parquet.summary.json"
    out["summary"] = None
    if summary.exists():
        try:
            out["summary"] = json.loads(summary.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f"{summary}: not a readable summary ({type(e).__name__}); re-run drg group to rewrite it, "
                             "or delete it to report without grouping statuses") from None
        if not isinstance(out["summary"], dict):
            raise InputError(f"{summary}: not a drg group summary (a JSON object); re-run drg group to rewrite it, "
                             "or delete it")
    return out


def report_inputs(root: str) -> list[str]:
    """The files a report reads under ``root`` (an output may not replace one of them)."""
    return [str(p) for p in Path(root).rglob("*") if p.suffix in (".parquet", ".json") and p.is_file()]


def _section_overview(o: dict, h, t: dict, ids, lang: str, parts: list) -> None:
    # 1. overview
    s = o.get("summary") or {}
    status = pd.DataFrame(list((s.get("status_counts") or {}).items()), columns=[t["status"], t["count"]])
    reasons = pd.DataFrame(s.get("top_reasons") or [], columns=[t["reason"], t["count"]])
    rate = None
    if o.get("quality") is not None:
        q = o["quality"].set_index("metric")["value"]
        rate = q.get("grouping_rate")
    kpis = [(t["cases"], f"{int(h['cases'].sum()):,}"), (t["hospitals"], f"{len(h):,}"),
            (t["drgs"], f"{len(o['weights']) if o.get('weights') is not None else 0:,}"),
            (t["grouping_rate"], f"{100 * rate:.2f}%" if rate is not None else "")]
    bars = bars_svg([(k, float(v)) for k, v in (s.get("status_counts") or {}).items()], t["count"], W=500, H=260, cid=ids("c"))
    parts.append(f"<section id='overview'><h2>{esc(t['overview'])}</h2><div class='kpis'>"
                 + "".join(f"<div class='kpi'>{esc(k)}<b>{esc(v)}</b></div>" for k, v in kpis) + "</div>"
                 + f"<h3>{esc(t['status'])}</h3>{bars}{data_details(status, ids, lang)}"
                 + f"<h3>{esc(t['reasons'])}</h3>{table_html(reasons, ids, lang, searchable=False)}</section>")


def _section_peers(o: dict, h, t: dict, ids, lang: str, parts: list) -> None:
    # 2. peer tables and quadrants
    cols = [c for c in ["hospital_id", "name", "level", "cases", "drg_count", "total_weight", "cmi", "cost_index", "time_index",
                        "low_risk_mortality", "midlow_risk_mortality", "quadrant_cost", "rank_cmi", "rank_cost_index"] if c in h.columns]
    sec = [f"<section id='peer'><h2>{esc(t['peer'])}</h2>"]
    for g, sub in h.groupby("peer_group", sort=True):
        sub = sub.sort_values("cmi", ascending=False)
        sec.append(f"<h3>{esc(g)}</h3>{table_html(sub[cols], ids, lang)}")
    sec.append("</section>")
    parts.append("".join(sec))
    sec = [f"<section id='quadrant'><h2>{esc(t['quadrant'])}</h2><div class='grid'>"]
    for i, (g, sub) in enumerate(h.dropna(subset=["cmi", "cost_index"]).groupby("peer_group", sort=True)):
        x_star = float(sub["total_weight"].sum() / max(sub["cases"].sum(), 1))
        pts = [(r.cmi, r.cost_index, f"{r.hospital_id} {getattr(r, 'name', '')} CMI {r.cmi:.3f} / {r.cost_index:.3f}", PALETTE[i % 8])
               for r in sub.itertuples()]
        sec.append(f"<div><h3>{esc(g)}</h3>{scatter_svg(pts, 'CMI', LABELS['cost_index'] if lang == 'zh' else 'cost_index', vline=x_star, hline=1.0, cid=ids('c'))}"
                   f"{data_details(sub[['hospital_id', 'cmi', 'cost_index', 'time_index', 'quadrant_cost']], ids, lang)}</div>")
    sec.append("</div></section>")
    parts.append("".join(sec))


def _section_funnel(o: dict, h, t: dict, ids, lang: str, parts: list) -> None:
    # 3. funnel
    if o.get("outcomes") is not None:
        from evaluation.outcomes import funnel_curve

        oc = o["outcomes"].dropna(subset=["oe_ratio"])
        oc = oc[oc["expected"] > 0]
        # one funnel per peer group: over-dispersion (tau2) is estimated within each
        charts = []
        for g, sub in (oc.groupby("peer_group", sort=True) if "peer_group" in oc.columns else [("", oc)]):
            first = sub.iloc[0]
            curve = funnel_curve(float(sub["expected"].max()), method=first.get("od_method"),
                                 phi=float(first.get("phi", 1.0)), tau2=float(first.get("tau2", 0.0)))
            curves = [(list(zip(curve["expected"], curve[c])), col, dash) for c, col, dash in
                      (("limit95_low", "#e67e22", "4 2"), ("limit95_high", "#e67e22", "4 2"), ("limit998_low", "#c0392b", ""), ("limit998_high", "#c0392b", ""))]
            pts = [(r.expected, r.oe_ratio, f"{r.hospital_id} O/E {r.oe_ratio:.2f}", "#c0392b" if str(r.funnel_flag).startswith("alarm") else "#2e86c1")
                   for r in sub.itertuples()]
            charts.append((f"<h3>{esc(g)}</h3>" if g else "") + scatter_svg(pts, "E", "O/E", hline=1.0, curves=curves, W=700, cid=ids("c")))
        named = oc[oc["funnel_flag"].astype(str).str.startswith("alarm")]
        names = dict(zip(h["hospital_id"], h["name"])) if "name" in h.columns else {}
        listing = ", ".join(f"{esc(r.hospital_id)} {esc(names.get(r.hospital_id, ''))} (O/E {r.oe_ratio:.2f})" for r in named.itertuples()) or esc(t["none"])
        parts.append(f"<section id='funnel'><h2>{esc(t['funnel'])}</h2>{''.join(charts)}"
                     f"<p><b>{esc(t['outliers'])}:</b> <span class='flag' id='funnel-outliers'>{listing}</span></p>"
                     f"{data_details(o['outcomes'], ids, lang)}</section>")


def _section_heatmap(o: dict, h, t: dict, ids, lang: str, parts: list) -> None:
    # 4. discipline heat map
    d = o.get("discipline_mdc")
    if d is not None and len(d):
        parts.append(f"<section id='heatmap'><h2>{esc(t['heatmap'])}</h2>{heatmap_svg(d, 'hospital_id', 'mdc', 'cmi', cid=ids('c'))}"
                     f"{data_details(d, ids, lang)}</section>")


def _section_weights(o: dict, h, t: dict, ids, lang: str, parts: list) -> None:
    # 5. weights
    w = o.get("weights")
    if w is not None:
        flagged = int((w["cv"] >= 1).sum())
        wt = w.assign(**{"cv_flag": np.where(w["cv"] >= 1, "⚠", "")})
        parts.append(f"<section id='weights'><h2>{esc(t['weights'])}</h2><p>{esc(t['cv_flag'])}: {flagged}</p>"
                     f"{table_html(wt, ids, lang)}</section>")


def _section_payment(o: dict, h, t: dict, ids, lang: str, parts: list) -> None:
    # 6. payment
    st = o.get("payment.settlement")
    if st is not None and len(st):
        last = st[st["year"] == st["year"].max()] if "year" in st.columns else st
        last = last.sort_values("balance")
        items = [(f"{r.hospital_id}", float(r.balance)) for r in last.itertuples()]
        parts.append(f"<section id='payment'><h2>{esc(t['payment'])} ({esc(last['year'].max() if 'year' in last.columns else '')})</h2>"
                     f"{bars_svg(items, 'yuan', cid=ids('c'))}{data_details(st, ids, lang)}</section>")


def _section_tiered(o: dict, h, t: dict, ids, lang: str, parts: list) -> None:
    # 7. tiered care
    cty = o.get("tiered_care.county")
    if cty is not None and len(cty):
        last = cty[cty["year"] == cty["year"].max()]
        items = [(r.county, float(r.in_county_rate), "#1e8449" if r.in_county_rate_met else "#c0392b") for r in last.itertuples()]
        target = float(last["in_county_rate_target"].iloc[0]) if "in_county_rate_target" in last.columns else None
        reg = o.get("tiered_care.region")
        parts.append(f"<section id='tiered'><h2>{esc(t['tiered'])}</h2>{bars_svg(items, LABELS['in_county_rate'] if lang == 'zh' else 'in_county_rate', W=700, target=target, cid=ids('c'))}"
                     f"{data_details(cty, ids, lang)}" + (table_html(reg, ids, lang, searchable=False) if reg is not None else "") + "</section>")


def _section_support(o: dict, h, t: dict, ids, lang: str, parts: list) -> None:
    # 8. support
    sp = o.get("support.support")
    if sp is not None and len(sp) and "period" in sp.columns:
        tp = sp[sp["program"] == "tertiary_pairing"] if (sp["program"] == "tertiary_pairing").any() else sp
        pp = tp[tp["period"].isin(["pre", "post"])].groupby(["recipient_id", "period"])["cmi"].mean().unstack()
        items = []
        for rid, r in pp.iterrows():
            items.append((f"{rid} {t['pre']}", _num(r.get("pre")), "#95a5a6"))
            items.append((f"{rid} {t['post']}", _num(r.get("post")), "#2e86c1"))
        dd = o.get("support.support_did")
        parts.append(f"<section id='support'><h2>{esc(t['support'])}</h2>{bars_svg(items, 'CMI', W=900, cid=ids('c'))}"
                     f"{data_details(pp.reset_index(), ids, lang)}" + (table_html(dd, ids, lang, searchable=False) if dd is not None else "") + "</section>")


def _section_risk(o: dict, h, t: dict, ids, lang: str, parts: list) -> None:
    # patient-level risk model: calibration by decile of predicted risk, and the model's measures
    cal, model = o.get("risk.calibration"), o.get("risk.model")
    if cal is None or not len(cal) or model is None:
        return
    death = cal[cal["outcome"] == "death"]
    if not len(death):
        return
    obs = (death["observed_sum"] / death["cases"]).astype(float)
    exp = (death["expected_sum"] / death["cases"]).astype(float)
    pts = [(float(e), float(v), f"{t['decile']} {int(d)}: {t['expected']} {e:.4f}, {t['observed']} {v:.4f}", "#2e86c1")
           for d, e, v in zip(death["decile"], exp, obs)]
    top = float(max(exp.max(), obs.max())) * 1.05
    diagonal = [([(0.0, 0.0), (top, top)], "#7f8c8d", "")]
    parts.append(f"<section id='risk'><h2>{esc(t['risk'])}</h2>"
                 f"{scatter_svg(pts, t['expected'], t['observed'], curves=diagonal, cid=ids('c'))}"
                 f"{table_html(model, ids, lang, searchable=False)}{data_details(cal, ids, lang)}</section>")


def _section_trends(o: dict, h, t: dict, ids, lang: str, parts: list) -> None:
    # 9. trends
    reg = o.get("tiered_care.region")
    if reg is not None and len(reg):
        pts = [(float(r.year), float(r.episodes), f"{r.year}: {r.episodes:,}", "#1f77b4") for r in reg.itertuples()]
        curve = [(list(zip(reg["year"].astype(float), reg["episodes"].astype(float))), "#1f77b4", "")]
        parts.append(f"<section id='trends'><h2>{esc(t['trends'])}</h2>{scatter_svg(pts, t['year'], t['cases'], curves=curve, cid=ids('c'))}"
                     f"{data_details(reg[['year', 'episodes', 'primary_share', 'basic_care_tertiary_share']], ids, lang)}</section>")


def render(o: dict, lang: str = "zh") -> str:
    t = REPORT[lang]
    ids = Ids()
    parts = []
    h = o["hospital"]
    for section in (_section_overview, _section_peers, _section_funnel, _section_heatmap, _section_weights,
                    _section_risk, _section_payment, _section_tiered, _section_support, _section_trends):
        section(o, h, t, ids, lang, parts)
    s = o.get("summary") or {}
    head = (f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
            f"<title>{esc(t['title'])}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(t['title'])}</h1><p>{esc(t['generated'])}: {esc((s.get('scheme') or {}).get('name', ''))} {esc(s.get('input', ''))}</p></header><main>")
    return head + "".join(parts) + f"</main><script>{JS}</script></body></html>"


def excel_tables(o: dict) -> dict:
    names = {"hospital": "hospital", "outcomes": "outcomes", "weights": "weights", "quality": "quality", "discipline_mdc": "discipline_mdc",
             "payment.settlement": "settlement", "tiered_care.county": "county", "tiered_care.region": "region",
             "support.support": "support", "support.support_did": "support_did", "risk.model": "risk_model",
             "risk.calibration": "risk_calibration"}
    return {v: o[k] for k, v in names.items() if o.get(k) is not None}


def build_report(root: str, out_html: str, xlsx: str | None = None, lang: str = "zh") -> dict:
    """Write the HTML report (and the workbook); returns {path: bytes}."""
    from evaluation.common import label

    from .excel import stage_workbook

    targets = [out_html] + ([xlsx] if xlsx else [])
    for path in targets:
        check_file_target(path)
        refuse_overlap(report_inputs(root), path)
    o = load_outputs(root)
    text = render(o, lang)
    parent = os.path.dirname(os.path.abspath(out_html))
    os.makedirs(parent, exist_ok=True)
    staged = []
    try:  # both files are complete before either replaces anything
        staged.append(temp_file(out_html))
        with open(staged[0], "w", encoding="utf-8") as f:
            f.write(text)
        if xlsx:
            staged.append(stage_workbook({k: label(v, lang) for k, v in excel_tables(o).items()}, xlsx, lang=lang))
    except BaseException:
        discard(*staged)
        raise
    for tmp, path in zip(staged, targets):
        publish(tmp, path)
    return {path: os.path.getsize(path) for path in targets}
