"""The report page: its CSS and scripts, what the sections share (:class:`Page`), each section guarded, the HTML put
together, and the workbook and report written as a pair."""

from __future__ import annotations

import hashlib
import json
import os

import pandas as pd

from evaluation.words import VALUE_LABELS

from ..atomic import check_file_target, discard, publish, refuse_overlap, temp_file
from ..charts import esc
from ..io import InputError
from ..text import REPORT
from .html import Ids, data_details, display_values, header, table_html
from .outputs import load_outputs, report_inputs, with_names_and_levels


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


class Page:
    """What the sections share: the loaded tables, the words of the report's language, and the charts
    and tables registered on the page."""

    def __init__(self, o: dict, lang: str):
        from .sections import reason_translator

        self.o, self.lang, self.t = o, lang, REPORT[lang]
        self.h = with_names_and_levels(o["hospital"])
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
        from evaluation.words import AREA_TEXT

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
        from ..terminal import clean

        why = clean(f"{type(e).__name__}: {e}", 160)  # for whoever reads the page's source, not on the page
        name = getattr(section, "__name__", "")
        return (f"<section class='note' data-section='{esc(name)}' data-error='{esc(why)}'>"
                f"<p>{esc(page.t['section_skipped'])}</p></section>")


def render(o: dict, lang: str = "zh") -> str:
    from plotly.offline import get_plotlyjs

    from ..charts import ZH_LOCALE, figures_json
    from ..fonts import font_face_css
    from .sections import SECTIONS

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
        from ..excel import workbook_property

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
    from evaluation.words import label

    from ..excel import stage_workbook

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
