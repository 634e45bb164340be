"""Plotly figures of the report as plain figure dicts (``{"data": [...], "layout": {...}}``), drawn in the
browser by plotly.js, which the report carries inline (the ``plotly`` wheel ships it: no network, one file).

Every text that comes from the data is HTML-escaped here: plotly.js renders a subset of HTML in labels
and hover texts. Numbers are formatted by meaning (money with thousands separators, rates as %,
indices with 2-3 decimals, counts as integers); every figure has a title and axis titles with units.
"""

from __future__ import annotations

import html
import json
import math

FONT = '"DRG CJK Sans","Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC","WenQuanYi Micro Hei",system-ui,sans-serif'
BLUE, RED, ORANGE, GREEN, GREY = "#2e86c1", "#c0392b", "#e67e22", "#1e8449", "#95a5a6"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

# plotly.js's own words (mode bar, zoom hints) in Chinese: a locale registered before the first plot
ZH_LOCALE = {
    "moduleType": "locale", "name": "zh-CN",
    "dictionary": {"Autoscale": "自动缩放", "Box Select": "矩形选择", "Click to enter Colorscale title": "点击输入色阶标题",
                   "Compare data on hover": "悬停比较数据", "Double-click to zoom back out": "双击还原",
                   "Download plot as a png": "下载为PNG图片", "Download plot": "下载图片", "Lasso Select": "套索选择",
                   "Orbital rotation": "轨道旋转", "Pan": "平移", "Produced with Plotly.js": "由 Plotly.js 绘制",
                   "Reset": "重置", "Reset axes": "重置坐标轴", "Reset view": "重置视图",
                   "Show closest data on hover": "悬停显示最近数据", "Snapshot succeeded": "截图成功",
                   "Taking snapshot - this may take a few seconds": "正在截图，请稍候", "Toggle Spike Lines": "切换辅助线",
                   "Zoom": "缩放", "Zoom in": "放大", "Zoom out": "缩小", "trace": "数据系列", "Click to enter Plot title": "点击输入标题",
                   "Click to enter X axis title": "点击输入X轴标题", "Click to enter Y axis title": "点击输入Y轴标题"},
    "format": {"days": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
               "shortDays": ["日", "一", "二", "三", "四", "五", "六"],
               "months": ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"],
               "shortMonths": ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
               "date": "%Y-%m-%d", "decimal": ".", "thousands": ","},
}


def esc(v) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def finite(v):
    """A float, or None for missing / infinite (JSON has no NaN)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def hover_text(v) -> str:
    """A hover text: escaped like every text from the data, its line breaks (``<br>``) kept as breaks."""
    return esc(v).replace("&lt;br&gt;", "<br>")


def tick_format(fmt, lo, hi, ticks: int = 6):
    """``fmt`` (a d3 format such as ``,.0f`` or ``.1f``) with as many decimals as ticks ``(hi - lo) / ticks`` apart
    need to differ (never ``3 4 4 5 5`` or ``1.00 1.00 0.99`` on a narrow axis); percentages likewise."""
    import re

    lo, hi = finite(lo), finite(hi)
    if not fmt or lo is None or hi is None or hi <= lo:
        return fmt
    m = re.fullmatch(r"(,?)\.(\d+)([f%])", fmt)
    if not m:
        return fmt
    step = (hi - lo) / ticks * (100 if m.group(3) == "%" else 1)
    need = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return f"{m.group(1)}.{max(int(m.group(2)), min(need, 6))}{m.group(3)}"


def _span(values, pad: float = 0.0):
    vals = [v for v in (finite(x) for x in values) if v is not None]
    if not vals:
        return None, None
    lo, hi = min(vals), max(vals)
    return lo - pad * (hi - lo), hi + pad * (hi - lo)


def layout(title: str, x: str = "", y: str = "", height: int = 420, **more) -> dict:
    out = {"title": {"text": esc(title), "x": 0.01, "xanchor": "left", "font": {"size": 15}},
           "font": {"family": FONT, "size": 12}, "height": height, "separators": ".,",
           "margin": {"l": 70, "r": 30, "t": 56, "b": 60}, "hovermode": "closest", "plot_bgcolor": "#fff",
           "xaxis": {"title": {"text": esc(x)}, "automargin": True, "gridcolor": "#e5e8ec", "zerolinecolor": "#aab"},
           "yaxis": {"title": {"text": esc(y)}, "automargin": True, "gridcolor": "#e5e8ec", "zerolinecolor": "#aab"},
           "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0, "yanchor": "bottom"}}
    for k, v in more.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    return out


def _finite_only(x):
    """``x`` with every NaN or infinite float as None (a gap in the chart): a table someone wrote with inf in it
    still gives valid JSON."""
    if isinstance(x, float):
        return x if x == x and x not in (float("inf"), float("-inf")) else None
    if isinstance(x, dict):
        return {k: _finite_only(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite_only(v) for v in x]
    return x


def figures_json(figures: dict) -> str:
    """The figures as JSON safe inside a <script> element (no "</script>", no HTML comment opener)."""
    text = json.dumps(_finite_only(figures), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def hbar(labels, values, title, x_title, *, texts=None, colors=None, hover=None, height=None, xtype="linear",
         tickformat=",.0f", target=None, target_text="") -> dict:
    """Horizontal bars (one per label, first at the top), each with its value written beside it."""
    n = len(labels)
    lo, hi = _span([0, *values, *([target] if target is not None else [])])
    axis = {"type": xtype, "tickformat": tick_format(tickformat, lo, hi) if xtype == "linear" else None}
    if xtype == "log":
        axis["dtick"] = 1  # a label at each power of ten only: no crowd of 2 3 4 5 between them
    elif lo is not None and hi > lo:  # room for the values written outside the bars' ends
        axis["range"] = [lo - 0.14 * (hi - lo) if lo < 0 else lo, hi + 0.14 * (hi - lo)]
    fig = {"data": [{"type": "bar", "orientation": "h", "y": [esc(v) for v in labels], "x": [finite(v) for v in values],
                     "marker": {"color": colors or BLUE}, "text": texts, "textposition": "outside", "cliponaxis": False,
                     "textfont": {"size": 11},  # one size for every bar's value, written beside the bar
                     "hovertext": hover,  # escaped by the caller, piece by piece
                     "hoverinfo": "text" if hover else "x+y"}],
           "layout": layout(title, x_title, "", height or max(260, 70 + 24 * n), xaxis=axis,
                            yaxis={"autorange": "reversed", "type": "category"}, bargap=0.25, margin={"r": 110})}
    if target is not None:
        fig["layout"]["shapes"] = [{"type": "line", "x0": target, "x1": target, "yref": "paper", "y0": 0, "y1": 1,
                                    "line": {"color": RED, "dash": "dash"}}]
        # above the plot area, never over a bar
        fig["layout"]["annotations"] = [{"x": target, "y": 1.0, "yref": "paper", "yanchor": "bottom", "yshift": 4,
                                         "text": esc(target_text), "showarrow": False, "font": {"color": RED},
                                         "bgcolor": "rgba(255,255,255,0.85)"}]
    return fig


def line(x, series: list, title, x_title, y_title, *, tickformat=None, y2=None, height=380) -> dict:
    """Lines over categories ``x`` (years or months shown as written, never as 2,018); ``series``:
    (name, values[, "y2"]) with an optional second axis titled ``y2``."""
    data = []
    for i, s in enumerate(series):
        name, values = s[0], s[1]
        on2 = len(s) > 2 and s[2] == "y2"
        data.append({"type": "scatter", "mode": "lines+markers", "name": esc(name), "x": [str(v) for v in x],
                     "y": [finite(v) for v in values], "yaxis": "y2" if on2 else "y",
                     "line": {"color": PALETTE[i % len(PALETTE)], "dash": "dot" if on2 else "solid"}})
    left = [v for s in series if not (len(s) > 2 and s[2] == "y2") for v in s[1]]
    right = [v for s in series if len(s) > 2 and s[2] == "y2" for v in s[1]]
    lay = layout(title, x_title, y_title, height, xaxis={"type": "category", "tickangle": -45 if len(x) > 12 else 0},
                 yaxis={"tickformat": tick_format(tickformat, *_span([0, *left])), "rangemode": "tozero"},
                 hovermode="x unified")  # from zero: 14.29% -> 14.47% is not drawn as a fall off a cliff
    if y2:
        lay["yaxis2"] = {"title": {"text": esc(y2[0])}, "overlaying": "y", "side": "right",
                         "tickformat": tick_format(y2[1], *_span([0, *right])), "rangemode": "tozero",
                         "automargin": True, "showgrid": False}
    return {"data": data, "layout": lay}


def scatter(points: list, title, x_title, y_title, *, label_points=(), vline=None, hline=None, extra=(), height=460,
            xformat=None, yformat=None, annotations=(), xtype="linear", max_labels: int | None = None,
            every_label: bool = False) -> dict:
    """``points``: dicts with x, y, text (label), hover, color, group (legend name). ``label_points``: the
    labels written on the chart (outliers, or every point when there are few)."""
    groups: dict = {}
    for p in points:
        groups.setdefault(p.get("group", ""), []).append(p)
    data = []
    for name, ps in groups.items():
        data.append({"type": "scatter", "mode": "markers", "name": esc(name) or None, "showlegend": bool(name),
                     "x": [finite(p["x"]) for p in ps], "y": [finite(p["y"]) for p in ps],
                     "hovertext": [hover_text(p.get("hover", p.get("text", ""))) for p in ps], "hoverinfo": "text",
                     "marker": {"color": [p.get("color", BLUE) for p in ps], "size": [p.get("size", 9) for p in ps],
                                "opacity": 0.85, "line": {"width": 0.5, "color": "#fff"}}})
    wanted = {id(q) for q in label_points}
    labelled = [p for p in points if p.get("text") and id(p) in wanted]
    order = {id(q): i for i, q in enumerate(label_points)}  # the caller's priority (the farthest out first)
    labelled = _apart(sorted(labelled, key=lambda p: order[id(p)]), _padded(points, "x", xtype, vline),
                      _padded(points, "y", "linear", hline), xtype, keep_all=every_label)[:max_labels]
    if labelled:
        data.append({"type": "scatter", "mode": "text", "showlegend": False, "hoverinfo": "skip",
                     "x": [finite(p["x"]) for p in labelled], "y": [finite(p["y"]) for p in labelled],
                     "text": [esc(p["text"]) for p in labelled], "textposition": [p.get("_at", "top center") for p in labelled],
                     "textfont": {"size": 11, "color": "#1f2933"}})
    data.extend(extra)
    shapes = []
    if vline is not None:
        shapes.append({"type": "line", "x0": vline, "x1": vline, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": "#7f8c8d", "dash": "dash"}})
    if hline is not None:
        shapes.append({"type": "line", "y0": hline, "y1": hline, "xref": "paper", "x0": 0, "x1": 1,
                       "line": {"color": "#7f8c8d", "dash": "dash"}})
    xr, yr = _padded(points, "x", xtype, vline), _padded(points, "y", "linear", hline)
    lay = layout(title, x_title, y_title, height,
                 xaxis={"tickformat": tick_format(xformat, *xr) if xr and xtype == "linear" else xformat, "type": xtype,
                        "range": xr, **({"dtick": "D2"} if xtype == "log" else {})},  # log: 0.1 0.2 0.5 1 2 5 only
                 yaxis={"tickformat": tick_format(yformat, *yr) if yr else yformat, "range": yr}, shapes=shapes,
                 annotations=[{**a, "text": esc(a["text"])} for a in annotations])
    return {"data": data, "layout": lay}


def _apart(points: list, xr, yr, xtype: str = "linear", width_px: float = 470.0, height_px: float = 330.0,
           keep_all: bool = False) -> list:
    """The labels that can be written without covering one another: each label (about 11 px a Chinese character,
    6 px a Latin one, 14 px high, centred above its point) is kept when its box overlaps none kept before it, in the
    given order of priority."""
    from .arguments import display_width

    if not points or not xr or not yr:
        return points
    def pos(v, r, log=False):
        v = math.log10(v) if log and v and v > 0 else v
        return (v - r[0]) / ((r[1] - r[0]) or 1.0)
    kept, boxes = [], []
    for p in points:
        x, y = finite(p["x"]), finite(p["y"])
        if x is None or y is None:
            continue
        cx, cy = pos(x, xr, xtype == "log") * width_px, pos(y, yr) * height_px
        w = display_width(str(p["text"])) * 5.8 + 4
        # near an edge the label runs inward, so it is not cut off by the plot's border
        at, left = ("top right", cx) if cx < w / 2 else ("top left", cx - w) if cx > width_px - w / 2 else \
            ("top center", cx - w / 2)
        free = lambda bx: all(bx[2] < b[0] or bx[0] > b[2] or bx[3] < b[1] or bx[1] > b[3] for b in boxes)  # noqa: E731
        box = (left, cy + 4, left + w, cy + 18)
        if not free(box) and keep_all:  # a label that must be written (an outlier's name): below its point instead
            below = (left, cy - 18, left + w, cy - 4)
            if free(below):
                box, at = below, at.replace("top", "bottom")
        if free(box) or keep_all:
            kept.append({**p, "_at": at})
            boxes.append(box)
    return kept


def _padded(points: list, key: str, kind: str = "linear", line=None):
    """An axis range with 8% room on each side (and a reference line inside), so a point and its label at
    the edge are not cut off."""
    vals = [finite(p[key]) for p in points] + [finite(line)]
    vals = [v for v in vals if v is not None and (kind != "log" or v > 0)]
    if not vals:
        return None
    if kind == "log":
        lo, hi = math.log10(min(vals)), math.log10(max(vals))
    else:
        lo, hi = min(vals), max(vals)
    if kind != "log":  # a narrow spread (indices 0.99-1.02) is not stretched over the whole height
        mid, least = (lo + hi) / 2, 0.1 * abs((lo + hi) / 2)
        if hi - lo < least:
            lo, hi = mid - least / 2, mid + least / 2
    pad = (hi - lo) * 0.08 or 0.5
    return [lo - pad, hi + 1.6 * pad]  # more room on top: a point's label is written above it


def quadrant_notes(names: tuple) -> list:
    """The four quadrant names in the corners of a CMI-index chart (I top-left clockwise as the sheet draws)."""
    corners = [(0.99, 0.02, "right", "bottom"), (0.99, 0.98, "right", "top"), (0.01, 0.98, "left", "top"),
               (0.01, 0.02, "left", "bottom")]
    return [{"x": x, "y": y, "xref": "paper", "yref": "paper", "xanchor": xa, "yanchor": ya, "text": n, "showarrow": False,
             "font": {"size": 11, "color": "#5d6d7e"}, "bgcolor": "rgba(238,243,248,0.6)"}
            for (x, y, xa, ya), n in zip(corners, names)]


def heatmap_with_selector(views: list, x_labels, title, x_title, colorbar: str, hovertemplate: str, zmid=None) -> dict:
    """A heat map with buttons for row subsets. ``views``: (button label, row labels, z rows, customdata rows: the
    numbers ``hovertemplate`` shows); the first view is shown."""
    first = views[0]
    data = [{"type": "heatmap", "x": [esc(v) for v in x_labels], "y": [esc(v) for v in first[1]], "z": first[2],
             "customdata": first[3], "hovertemplate": hovertemplate, "colorscale": "RdBu", "zmid": zmid,
             "colorbar": {"title": {"text": esc(colorbar)}}, "xgap": 1, "ygap": 1}]
    buttons = [{"label": esc(lbl), "method": "update",
                "args": [{"y": [[esc(v) for v in rows]], "z": [z], "customdata": [cd]}, {"height": max(360, 120 + 20 * len(rows))}]}
               for lbl, rows, z, cd in views]
    lay = layout(title, x_title, "", max(360, 120 + 20 * len(first[1])), xaxis={"type": "category", "tickangle": -45},
                 yaxis={"type": "category", "autorange": "reversed"},
                 updatemenus=[{"type": "buttons", "buttons": buttons, "direction": "right", "x": 1.0, "xanchor": "right", "y": 1.0,
                               "yanchor": "bottom", "pad": {"b": 6}, "showactive": True}], margin={"t": 90})
    return {"data": data, "layout": lay}
