"""`drg report`: one self-contained HTML file (Plotly charts with plotly.js inline, inline CSS/JS, no
network) and an Excel workbook with the same tables, in one language (Chinese by default).

Reads every table set of drg under a folder, at any depth and name, found by the manifest each command writes
(``.drg-output.json``, :func:`find_outputs`), and a ``drg group`` summary beside them; a section whose tables are
absent is listed at the end with the command that makes them. Every text that comes from the data is escaped; every
chart has its numbers in a table beside it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.common import unlabel
from evaluation.text import VALUE_LABELS

from .atomic import check_file_target, discard, publish, refuse_overlap, temp_file
from .charts import esc, finite
from .io import InputError
from .text import REPORT

CSS = """
body{font-family:"DRG CJK Sans","Noto Sans CJK SC","Microsoft YaHei","PingFang SC",system-ui,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#1f4e79;color:#fff;padding:18px 32px}header h1{margin:0;font-size:24px}header p{margin:4px 0 0;opacity:.85}
main{padding:16px 32px;max-width:1400px}section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:16px 0;padding:16px 20px}
h2{font-size:19px;margin:0 0 12px;color:#1f4e79}h3{font-size:15px;margin:14px 0 6px}
.kpis{display:flex;gap:16px;flex-wrap:wrap}.kpi{background:#eef3f8;border-radius:6px;padding:10px 16px;min-width:150px}
.kpi b{display:block;font-size:22px;color:#1f4e79}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}th,td{border:1px solid #d9e2ec;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#e4ecf5;cursor:pointer;position:sticky;top:0}td:first-child,th:first-child{text-align:left}
.tablewrap{max-height:420px;overflow:auto;border:1px solid #d9e2ec}input.search{margin:4px 0;padding:4px 8px;width:260px;font-family:inherit}
.flag{color:#c0392b;font-weight:bold}.ok{color:#1e8449}.chart{width:100%;min-width:520px;margin:8px 0}
p.note{color:#52606d;font-size:13px;margin:4px 0 8px}
details summary{cursor:pointer;color:#1f4e79;margin:6px 0}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:20px}
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

PLOT_JS = """
(function(){
  var F=JSON.parse(document.getElementById('drg-figures').textContent);
  var lang=document.documentElement.getAttribute('lang');
  if(lang==='zh-CN'){Plotly.register(JSON.parse(document.getElementById('drg-locale').textContent));}
  var cfg={responsive:true,displaylogo:false,locale:lang==='zh-CN'?'zh-CN':'en',modeBarButtonsToRemove:['select2d','lasso2d']};
  Object.keys(F).forEach(function(id){Plotly.newPlot(id,F[id].data,F[id].layout,cfg);});
})();
"""



def fmt(v, col: str = "", kind: str | None = None) -> str:
    """A cell by meaning (:mod:`drg.formats`: counts as integers, money with thousands separators, rates as %,
    indices with 4 decimals, means with 2, years as written; ``kind`` when the row decides); missing as empty (never
    <NA> or nan)."""
    from .formats import kind as kind_of
    from .formats import text

    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return ""
    f = finite(v)
    if f is None or isinstance(v, (bool, np.bool_)) or isinstance(v, str):
        return esc("" if v is None or (isinstance(v, float) and math.isnan(v)) else v)
    return text(f, kind or kind_of(col, integer=isinstance(v, (int, np.integer))))


class Ids:
    def __init__(self):
        self.n = 0

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


MAX_ROWS = 1500  # rows of a table on the page; the workbook and the Parquet tables hold them all


def table_html(df: pd.DataFrame, ids: Ids, lang: str, max_rows: int = MAX_ROWS, searchable: bool = True) -> str:
    """``df`` with English column names (formats follow them), shown under headers in ``lang``."""
    from .formats import row_kinds

    tid = ids("t")
    cols = list(df.columns)
    head = "".join(f"<th>{esc(header(c, lang))}</th>" for c in cols)
    body = []
    mixed = row_kinds(df) or {}
    for r, row in enumerate(df.head(max_rows).itertuples(index=False)):
        cells = []
        for c, v in zip(cols, row):
            f = finite(v) if not isinstance(v, (str, bool, np.bool_)) else None
            dv = f' data-v="{f!r}"' if f is not None else ""
            cells.append(f"<td{dv}>{fmt(v, c, mixed[c][r] if c in mixed else None)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    search = f'<input class="search" data-table="{tid}" placeholder="{esc(REPORT[lang]["search"])}">' if searchable else ""
    if len(df) > max_rows:
        search += f"<p class='note'>{esc(REPORT[lang]['truncated'].format(shown=max_rows, total=len(df)))}</p>"
    return f'{search}<div class="tablewrap"><table id="{tid}" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


EN_HEADERS = {"cmi": "CMI", "drg": "DRG", "adrg": "ADRG", "mdc": "MDC", "oe_ratio": "O/E", "oe_low": "O/E low (95%)",
              "oe_high": "O/E high (95%)", "rw": "RW", "cv": "CV", "cv_los": "CV of LOS", "did": "DiD", "se": "SE",
              "ci_low": "95% CI low", "ci_high": "95% CI high", "p_value": "P", "q_value": "q (FDR)", "tau2": "tau²",
              "hospital_id": "hospital", "doctor_id": "doctor", "z_score": "z", "rank_cmi": "rank CMI (1 = highest)",
              "rank_cost_index": "rank cost index (1 = lowest cost)", "rank_time_index": "rank time index (1 = shortest stays)",
              "rank_low_risk_mortality": "rank low-risk mortality (1 = lowest)"}


def header(col: str, lang: str) -> str:
    """What a reader sees above column ``col``: the Chinese label, or English words (not snake_case)."""
    from evaluation.common import column_label

    if lang == "zh":
        return column_label(col)
    if col in EN_HEADERS:
        return EN_HEADERS[col]
    words = str(col).replace("_", " ").strip()
    for a, b in (("cmi", "CMI"), ("drg", "DRG"), ("los", "LOS"), ("riv", "RIV"), ("fen", "(fen)")):
        words = re.sub(rf"\b{a}\b", b, words)
    return words[:1].upper() + words[1:]


def display_values(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Coded values (levels, flags, classes, True/False) in the report's language; columns keep their names."""
    from evaluation.common import label

    if lang == "zh":
        shown = label(df, "zh")
        shown.columns = df.columns
        return shown
    out = df.copy(deep=False)
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_bool_dtype(s.dtype):
            out[c] = s.map({True: "yes", False: "no"})
        elif c == "indicator":
            out[c] = s.astype(object).map(lambda v: header(v, "en") if isinstance(v, str) else v)
        elif c in VALUE_LABELS and not pd.api.types.is_numeric_dtype(s.dtype):
            out[c] = s.astype(object).map(lambda v: v.replace("_", " ") if isinstance(v, str) else v)
    return out


def data_details(df: pd.DataFrame, ids: Ids, lang: str) -> str:
    return f"<details><summary>{esc(REPORT[lang]['data'])}</summary>{table_html(display_values(df, lang), ids, lang)}</details>"


def _read(folder: Path | None, name: str) -> pd.DataFrame | None:
    if folder is None:
        return None
    p = folder / f"{name}.parquet"
    if not p.exists():
        return None
    try:
        df = pd.read_parquet(p)
    except Exception as e:  # pyarrow raises several kinds for a damaged file
        raise InputError(f"{p}: not a readable Parquet table ({type(e).__name__}); re-run the command that wrote it") from None
    return unlabel(df)


# the table sets a report reads, by the command that wrote them (the ``command`` of their folder's manifest)
SETS = {"evaluate": ("hospital", "outcomes", "weights", "quality", "discipline_mdc", "risk_model", "risk_calibration",
                     "dept", "doctor", "hospital_dept", "hospital_month", "hospital_quarter", "hospital_year"),
        "pay": ("settlement", "drg_profit_loss"), "tiered-care": ("county", "region", "hospital"),
        "support": ("support", "support_did", "support_summary"), "risk": ("model", "calibration"),
        "audit": ("hospital_flags",), "check": ("hospitals", "rules"), "dip pay": ("hospitals", "parameters")}
PREFIX = {"pay": "payment", "tiered-care": "tiered_care", "support": "support", "risk": "risk", "audit": "audit", "check": "check",
          "dip pay": "dip"}


def find_outputs(root: str) -> dict:
    """{command: [folders]} of every folder of drg output under ``root`` (itself included, at any depth and under any
    name), found by its manifest (``.drg-output.json``: the command that wrote it), shallowest first, then by name.
    Hidden folders (a run's temporaries) are not looked into."""
    from .atomic import MANIFEST

    found: dict = {}
    base = Path(root)
    for here, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if MANIFEST not in files:
            continue
        try:
            manifest = json.loads((Path(here) / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            continue  # not one of ours after all (or damaged): its tables are not read
        command = manifest.get("command") if isinstance(manifest, dict) else None
        if isinstance(command, str):
            found.setdefault(command, []).append(Path(here))
    for folders in found.values():
        folders.sort(key=lambda p: (len(p.relative_to(base).parts), str(p)))
    if not found:  # evaluation tables copied without their manifest (the folder itself, or a demo's evaluation/)
        bare = [f for f in (base, base / "evaluation") if (f / "hospital.parquet").exists()]
        if bare:
            found["evaluate"] = bare[:1]
    return found


def load_outputs(root: str) -> dict:
    """Every table a report can show, from the folders of drg output under ``root`` (:func:`find_outputs`): the
    evaluation's (the first evaluate folder with a hospital table; the department, doctor and period views from
    any evaluate folder), payment, tiered care, support, risk model and audit tables, and a group summary
    (``*.summary.json`` of ``drg group``) beside them. A table set that is absent leaves its sections out."""
    r = Path(root)
    if not r.is_dir():
        raise InputError(f"{root}: not a folder; pass the folder that holds the outputs of drg evaluate, pay, ... "
                         "(or of drg demo)")
    sets = find_outputs(root)
    if not sets or set(sets) <= {"synth", "demo"}:
        raise InputError(f"{root}: no drg output under it (no folder with {'.drg-output.json'}); run e.g. "
                         f"drg evaluate grouped.parquet -o {os.path.join(root, 'eval')} first, or drg demo")
    out: dict = {"folders": {k: [str(p) for p in v] for k, v in sets.items()}}
    evaluations = sets.get("evaluate", [])
    main = _main_evaluation(evaluations)
    for name in ("hospital", "outcomes", "weights", "quality", "discipline_mdc"):
        out[name] = _read(main, name) if main is not None else None
    for name in ("model", "calibration"):  # drg evaluate --risk-model copies the model tables
        out[f"risk.{name}"] = _read(main, f"risk_{name}") if main is not None else None
    for name in ("dept", "doctor", "hospital_dept", "hospital_month"):  # drg evaluate --by / --period, in any folder
        out[f"views.{name}"] = next((t for t in (_read(f, name) for f in evaluations) if t is not None), None)
    for command, names in SETS.items():
        if command == "evaluate":
            continue
        folder = (sets.get(command) or [None])[0]
        for name in names:
            key = f"{PREFIX[command]}.{name}"
            if folder is None:
                out.setdefault(key, None)
            elif command == "audit":
                out[key] = _audit_flags(folder)
            elif out.get(key) is None:
                out[key] = _read(folder, name)
    if out["hospital"] is None:
        out["hospital"] = _hospitals_of(out)
    out["summary"] = _group_summary(r)
    return out


def _main_evaluation(folders: list) -> Path | None:
    """The evaluate folder the hospital sections come from: one with a hospital table, by preference one of the
    hospital view (not a department or doctor view, whose hospital tables are the same but whose run may have been
    cut to a department's hospitals) with the most of the main tables; then the shallowest, then by name."""
    def score(f: Path):
        views = sum((f / f"{n}.parquet").exists() for n in ("dept", "doctor", "hospital_dept"))
        main = sum((f / f"{n}.parquet").exists() for n in ("outcomes", "weights", "quality", "discipline_mdc"))
        return (views > 0, -main)

    have = [f for f in folders if (f / "hospital.parquet").exists()]
    return min(have, key=score) if have else None  # min is stable: the first of equals in the folders' order


def _hospitals_of(o: dict) -> pd.DataFrame:
    """Without an evaluation: the hospitals the other tables name (id only), so their sections can still name them."""
    ids = set()
    for key in ("payment.settlement", "tiered_care.hospital", "audit.hospital_flags", "check.hospitals"):
        t = o.get(key)
        if t is not None and "hospital_id" in t.columns:
            ids |= set(t["hospital_id"].dropna().astype(str))
    return pd.DataFrame({"hospital_id": sorted(ids)})


def _group_summary(root: Path) -> dict | None:
    """The first ``drg group`` summary (``NAME.summary.json``) in ``root`` or a folder below it (shallowest first)."""
    candidates = sorted((p for p in root.rglob("*.summary.json") if not any(part.startswith(".") for part in
                                                                             p.relative_to(root).parts)),
                        key=lambda p: (len(p.relative_to(root).parts), str(p)))
    for summary in candidates:
        try:
            data = json.loads(summary.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f"{summary}: not a readable summary ({type(e).__name__}); re-run drg group to rewrite it, "
                             "or delete it to report without grouping statuses") from None
        except OSError:
            continue
        if not isinstance(data, dict):
            raise InputError(f"{summary}: not a drg group summary (a JSON object); re-run drg group to rewrite it, "
                             "or delete it")
        if "status_counts" in data:
            return _summary_fields(data)
    return None


def _summary_fields(s: dict) -> dict:
    """The parts of a group summary the report shows, each of the type drg group writes; anything else (a file
    edited by hand or by another tool) is left out."""
    out = {}
    if isinstance(s.get("scheme"), dict):
        out["scheme"] = {k: str(v) for k, v in s["scheme"].items() if isinstance(v, (str, int, float))}
    for key in ("input", "output"):
        if isinstance(s.get(key), str):
            out[key] = s[key]
    for key in ("rows_in", "rows_out"):
        if isinstance(s.get(key), int) and not isinstance(s.get(key), bool):
            out[key] = s[key]
    counts = s.get("status_counts")
    if isinstance(counts, dict):
        out["status_counts"] = {str(k): v for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)}
    for key in ("top_unknown_dx", "top_unknown_px", "top_reasons"):
        v = s.get(key)
        if isinstance(v, list):
            out[key] = [e for e in v if isinstance(e, list) and len(e) == 2 and isinstance(e[1], int)]
    return out


def _audit_flags(folder: Path) -> pd.DataFrame | None:
    """``drg audit``'s hospital flags with English names and the target area's id in ``area``."""
    from .audit import AREA_TEXT, AUDIT_LABELS

    df = _read(folder, "hospital_flags")
    if df is None:
        return None
    df = df.rename(columns={zh: en for en, zh in AUDIT_LABELS.items()})
    df = df.rename(columns={"area_rate": "rate", "area_expected_rate": "expected_rate"})  # the report's own names of 比率
    ids = {names[0]: k for k, names in AREA_TEXT["zh"].items()} | {k: k for k in AREA_TEXT["zh"]}
    df["area"] = df["target_area"].map(ids).fillna(df["target_area"])
    df["flag"] = df["flag"].fillna(False).astype(bool)  # unlabel turned 是/否 back into True/False
    return df


def report_inputs(root: str) -> list[str]:
    """The files a report reads under ``root`` (an output may not replace one of them)."""
    return [str(p) for p in Path(root).rglob("*") if p.suffix in (".parquet", ".json") and p.is_file()]


def _with_names_and_levels(h: pd.DataFrame) -> pd.DataFrame:
    """The hospital table with a name for every hospital (its id where the hospitals file gave none) and a level
    and peer group for every hospital ("unknown", shown as 级别未知, where none is known)."""
    h = h.copy()
    if "hospital_id" not in h.columns:
        return h
    ids = h["hospital_id"].astype(str)
    if "name" not in h.columns:
        h["name"] = ids
    else:
        blank = h["name"].isna() | (h["name"].astype(str).str.strip() == "")
        h["name"] = h["name"].astype(object).where(~blank, ids)
    for col in ("level", "peer_group"):
        if col not in h.columns:
            h[col] = "unknown"
        else:
            h[col] = h[col].astype(object).where(h[col].notna(), "unknown")
    return h


class Page:
    """What the sections share: the loaded tables, the words of the report's language, and the charts
    and tables registered on the page."""

    def __init__(self, o: dict, lang: str):
        from .report_sections import reason_translator

        self.o, self.lang, self.t = o, lang, REPORT[lang]
        self.h = _with_names_and_levels(o["hospital"])
        self.ids, self.figures = Ids(), {}
        ok = "hospital_id" in self.h.columns and "name" in self.h.columns
        self.names = dict(zip(self.h["hospital_id"].astype(str), self.h["name"].fillna("").astype(str))) if ok else {}
        w = o.get("weights")
        ok = w is not None and "drg" in w.columns and "drg_name" in w.columns
        self.drg_names = dict(zip(w["drg"].astype(str), w["drg_name"].fillna("").astype(str))) if ok else {}
        self.reason = reason_translator(lang)

    def name(self, hospital_id) -> str:
        return self.names.get(str(hospital_id)) or str(hospital_id)

    def value(self, column: str, v) -> str:
        if self.lang == "zh":
            return VALUE_LABELS.get(column, {}).get(v, v)
        return header(v, "en") if column == "indicator" else str(v).replace("_", " ")

    def area(self, key: str) -> str:
        from .audit import AREA_TEXT

        return AREA_TEXT[self.lang].get(key, (key,))[0]

    def chart(self, fig: dict) -> str:
        cid = self.ids("c")
        self.figures[cid] = fig
        return f"<div class='chart' id='{cid}' style='height:{int(fig['layout'].get('height', 420))}px'></div>"

    def table(self, df: pd.DataFrame, searchable: bool = True) -> str:
        return table_html(display_values(df, self.lang), self.ids, self.lang, searchable=searchable)

    def details(self, df: pd.DataFrame) -> str:
        return data_details(df, self.ids, self.lang)


# what a table someone edited, cut or wrote by another tool can raise inside a section's arithmetic and charts
SECTION_ERRORS = (KeyError, ValueError, TypeError, AttributeError, IndexError, ZeroDivisionError, OverflowError,
                  ArithmeticError)


def _guarded(section, page) -> str:
    """A section's HTML; when its tables are incomplete (a column missing, text where numbers belong, infinite
    values) the section is left out with a note instead of failing the report, and its half-made charts are
    dropped."""
    charts = dict(page.figures)
    try:
        return section(page)
    except SECTION_ERRORS as e:
        page.figures = charts
        from .terminal import clean

        why = clean(f"{type(e).__name__}: {e}", 160)  # for whoever reads the page's source, not on the page
        name = getattr(section, "__name__", "")
        return (f"<section class='note' data-section='{esc(name)}' data-error='{esc(why)}'>"
                f"<p>{esc(page.t['section_skipped'])}</p></section>")


def render(o: dict, lang: str = "zh") -> str:
    from plotly.offline import get_plotlyjs

    from .charts import ZH_LOCALE, figures_json
    from .fonts import font_face_css
    from .report_sections import SECTIONS

    if lang not in REPORT:
        raise InputError(f"--lang {lang!r}: use zh (default) or en")
    page = Page(o, lang)
    parts = [_guarded(section, page) for section in SECTIONS]
    t, s = page.t, o.get("summary") or {}
    head = (f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
            f"script-src 'unsafe-inline'; img-src data: blob:; font-src data:\">"
            f"<title>{esc(t['title'])}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(t['title'])}</h1><p>{esc(t['generated'])}: {esc((s.get('scheme') or {}).get('name', ''))} "
            f"{esc(s.get('input', ''))}</p></header><main>")
    body = "".join(p for p in parts if p)
    fonts = font_face_css(head + body + json.dumps(page.figures, ensure_ascii=False) + json.dumps(ZH_LOCALE, ensure_ascii=False))
    head = head.replace("<style>", f"<style>{fonts}", 1)
    scripts = (f"<script type='application/json' id='drg-figures'>{figures_json(page.figures)}</script>"
               f"<script type='application/json' id='drg-locale'>{figures_json(ZH_LOCALE)}</script>"
               f"<script>{get_plotlyjs()}</script><script>{PLOT_JS}</script><script>{JS}</script>")
    return head + body + "</main>" + scripts + "</body></html>"


def excel_tables(o: dict) -> dict:
    names = {"hospital": "hospital", "outcomes": "outcomes", "weights": "weights", "quality": "quality", "discipline_mdc": "discipline_mdc",
             "payment.settlement": "settlement", "tiered_care.county": "county", "tiered_care.region": "region",
             "support.support": "support", "support.support_did": "support_did", "risk.model": "risk_model",
             "risk.calibration": "risk_calibration", "dip.hospitals": "dip_hospitals", "dip.parameters": "dip_parameters"}
    return {v: o[k] for k, v in names.items() if o.get(k) is not None}


REPORT_ID = "drg-report-id"


def report_id(path: str) -> str | None:
    """The pair id of a report (.html: its meta tag) or of its workbook (.xlsx: a custom property), or None."""
    import re

    if path.lower().endswith(".xlsx"):
        from .excel import workbook_property

        return workbook_property(path, REPORT_ID)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return None
    m = re.search(r'<meta name="drg-report-id" content="([0-9a-f]+)">', head)
    return m.group(1) if m else None


def report_pair_matches(html: str, xlsx: str) -> bool:
    """Whether a report and a workbook were written by one run (:func:`build_report` writes both with one id)."""
    a, b = report_id(html), report_id(xlsx)
    return a is not None and a == b


def report_command(a) -> int:
    """`drg report EVAL_DIR -o report.html [--xlsx FILE]`."""
    sizes = build_report(a.eval_dir, a.output, a.xlsx, lang=a.lang)
    print(", ".join(f"{p} ({n / 1e6:.1f} MB)" for p, n in sizes.items()))
    return 0


def build_report(root: str, out_html: str, xlsx: str | None = None, lang: str = "zh") -> dict:
    """Write the HTML report (and the workbook); returns {path: bytes}."""
    from evaluation.common import label

    from .excel import stage_workbook

    targets = [out_html] + ([xlsx] if xlsx else [])
    if xlsx and os.path.realpath(xlsx) == os.path.realpath(out_html):
        raise InputError(f"-o {out_html} and --xlsx {xlsx} are the same file; give the workbook its own name (e.g. report.xlsx)")
    if xlsx and not xlsx.lower().endswith(".xlsx"):
        raise InputError(f"--xlsx {xlsx}: not an .xlsx name; name the workbook e.g. report.xlsx")
    for path in targets:
        check_file_target(path)
        refuse_overlap(report_inputs(root), path)
    o = load_outputs(root)
    text = render(o, lang)
    # the pair's id (the report's content): in the HTML and in the workbook, so a report and a workbook of
    # different runs (a run killed between the two renames) are told apart by report_pair_matches
    pair_id = hashlib.sha256(f"{lang}\0{text}".encode("utf-8")).hexdigest()[:32]
    text = text.replace("<meta charset='utf-8'>", f"<meta charset='utf-8'><meta name=\"drg-report-id\" content=\"{pair_id}\">", 1)
    parent = os.path.dirname(os.path.abspath(out_html))
    os.makedirs(parent, exist_ok=True)
    staged = []
    try:  # both files are complete before either replaces anything
        staged.append(temp_file(out_html))
        with open(staged[0], "w", encoding="utf-8") as f:
            f.write(text)
        if xlsx:
            staged.append(stage_workbook({k: label(v, lang) for k, v in excel_tables(o).items()}, xlsx, lang=lang,
                                         properties={REPORT_ID: pair_id}))
    except BaseException:
        discard(*staged)
        raise
    for tmp, path in zip(staged, targets):
        publish(tmp, path)
    return {path: os.path.getsize(path) for path in targets}
