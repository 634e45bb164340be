"""``drg check INPUT -o OUT``: settlement-list quality control, streamed batch by batch.

OUT is a folder written as a unit: ``issues.parquet`` (one row per issue: row, case_id, hospital_id, dept,
rule_id, severity, field, value, message, affects_grouping; duplicates of a case come last, found once the whole
input was read), ``hospitals.parquet`` and ``departments.parquet`` (cases checked, cases with errors, 质控通过率,
top rules), ``rules.parquet`` (each rule: applied or not, issues, cases), ``check.xlsx`` (the same for people, in
the output language) and ``check.json`` (the run). Exit 0 whatever was found."""

from __future__ import annotations

import collections
import json
import os
import sys
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .engine import ISSUE_SCHEMA, Checker
from .rules import load_rules

XLSX_ISSUES = 50_000  # issue rows in check.xlsx; issues.parquet has them all
# the workbook's headers of drg check's own columns; the shared ones (病案号, 规则编号, 质控通过率 ...) are
# evaluation.words's LABELS, read through column_label
LABELS_ZH = {"row": "行号", "hospital_id": "定点医疗机构代码", "field": "字段", "value": "值", "affects_grouping": "影响分组",
             "kind": "规则类型", "source": "依据", "applied": "已执行"}
KIND_ZH = {"unknown_code": "编码不在方案中", "code_position": "编码位置", "not_principal": "不能作主要诊断", "sex_code": "性别限定编码",
           "age_code": "年龄限定编码", "newborn_only": "新生儿编码", "maternal_only": "孕产编码", "dagger_asterisk": "剑号星号配对",
           "requires_code": "须附加编码", "exclusive_codes": "互斥编码", "required_field": "必填项", "field_format": "格式",
           "field_range": "取值范围", "date_los": "日期与住院天数", "cost_total": "费用合计", "duplicate_case": "重复病例"}
BLANK = {"zh": "(未填写)", "en": "(blank)"}


class Tally:
    """Counts for the summaries: per (hospital, department) cases, cases with errors and with warnings, issues;
    per (hospital, rule) and per rule issues, cases and issues that affect grouping."""

    def __init__(self):
        self.units: dict = collections.defaultdict(lambda: np.zeros(4, dtype=np.int64))
        self.unit_rules: collections.Counter = collections.Counter()  # (hospital, department, rule) -> issues
        self.rules: dict = collections.defaultdict(lambda: np.zeros(3, dtype=np.int64))
        self.cases = 0

    def add(self, hospital: pa.Array, dept: pa.Array, error: np.ndarray, warning: np.ndarray, issues: pa.Table) -> None:
        n = len(hospital)
        per_row = np.bincount(issues.column("row").to_numpy() - 1 - self.cases, minlength=n)
        t = pa.table({"h": hospital, "d": dept, "n": np.ones(n, np.int64), "e": error.astype(np.int64),
                      "w": warning.astype(np.int64), "i": per_row.astype(np.int64)})
        g = t.group_by(["h", "d"], use_threads=False).aggregate([("n", "sum"), ("e", "sum"), ("w", "sum"), ("i", "sum")])
        sums = np.column_stack([g.column(f"{c}_sum").to_numpy() for c in "newi"])
        for h, d, v in zip(g.column("h").to_pylist(), g.column("d").to_pylist(), sums):
            self.units[(h, d)] += v
        self.cases += n
        self.add_issues(issues)

    def add_issues(self, issues: pa.Table) -> None:
        if not issues.num_rows:
            return
        df = issues.select(["row", "hospital_id", "dept", "rule_id", "affects_grouping"]).to_pandas()
        df["hospital_id"] = df["hospital_id"].fillna("")
        df["dept"] = df["dept"].fillna("")
        for (h, d, r), n in df.groupby(["hospital_id", "dept", "rule_id"], sort=False).size().items():
            self.unit_rules[(h, d, r)] += int(n)
        g = df.groupby("rule_id", sort=False)
        for r, (n, c, a) in pd.DataFrame({"n": g.size(), "c": g["row"].nunique(), "a": g["affects_grouping"].sum()}).iterrows():
            self.rules[r] += np.array([n, c, a], dtype=np.int64)

    def add_late(self, found: pa.Table, severity: str) -> None:
        """Cases found only at the end (duplicates): counted with errors/warnings unless they were already."""
        t = found.to_pandas()
        for (h, d), g in t.groupby([t["hospital_id"].fillna(""), t["dept"].fillna("")], sort=False):
            u = self.units[(h, d)]
            u[1 if severity == "error" else 2] += int((~g["had_error" if severity == "error" else "had_warning"]).sum())
            u[3] += len(g)


def _top(counter_items, lang: str, k: int = 5) -> str:
    best = sorted(counter_items, key=lambda kv: (-kv[1], kv[0]))[:k]
    return ", ".join(f"{r}×{n}" for r, n in best)


def summaries(tally: Tally, checker: Checker, lang: str) -> dict:
    """The hospital, department and rule tables (canonical names; ``pass_rate`` a share of cases without errors)."""
    rows = [(h, d, *v.tolist()) for (h, d), v in tally.units.items()]
    units = pd.DataFrame(rows, columns=["hospital_id", "dept", "cases", "cases_with_errors", "cases_with_warnings", "issues"])
    units = units.sort_values(["hospital_id", "dept"], kind="stable").reset_index(drop=True)
    by_hospital, by_unit = collections.defaultdict(collections.Counter), collections.defaultdict(list)
    for (h, d, r), n in tally.unit_rules.items():
        by_hospital[h][r] += n
        by_unit[(h, d)].append((r, n))
    hospitals = units.groupby("hospital_id", sort=True)[["cases", "cases_with_errors", "cases_with_warnings", "issues"]].sum().reset_index()
    for t in (hospitals, units):
        t["pass_rate"] = 1.0 - t["cases_with_errors"] / t["cases"].where(t["cases"] > 0)
    hospitals["top_rules"] = [_top(by_hospital[h].items() if h in by_hospital else [], lang) for h in hospitals["hospital_id"]]
    units["top_rules"] = [_top(by_unit.get((h, d), []), lang) for h, d in zip(units["hospital_id"], units["dept"])]
    rules = pd.DataFrame([{
        "rule_id": r.rule_id, "kind": r.kind, "severity": r.severity, "field": "|".join(r.fields), "message": r.message(lang),
        "source": r.cited(lang), "applied": r.rule_id in checker.applied and r.rule_id not in checker.skipped,
        "issues": int(tally.rules[r.rule_id][0]) if r.rule_id in tally.rules else 0,
        "cases": int(tally.rules[r.rule_id][1]) if r.rule_id in tally.rules else 0,
        "affects_grouping_issues": int(tally.rules[r.rule_id][2]) if r.rule_id in tally.rules else 0}
        for r in checker.rules])
    for t in (hospitals, units):  # a blank hospital or department is null in Parquet, words only where people read
        t["hospital_id"] = t["hospital_id"].replace("", None)
    units["dept"] = units["dept"].replace("", None)
    return {"hospitals": hospitals, "departments": units, "rules": rules}


def field_zh(field: str) -> str:
    """A rule's field in Chinese: each canonical name as its first Chinese header (dx 诊断编码, sex 性别 ...)."""
    from ..contract import ALIASES

    from grouper.columns import ALIASES as GROUPING

    def one(name):
        names = GROUPING.get(name) or ALIASES.get(name) or []
        return next((n for n in names if any("\u4e00" <= ch <= "\u9fff" for ch in n)), name)
    return "|".join(one(f) for f in str(field).split("|"))


def _labelled(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    from evaluation.words import column_label
    from evaluation.words import VALUE_LABELS

    out = df.copy()
    for c in ("hospital_id", "dept"):
        if c in out:
            out[c] = out[c].astype(object).where(out[c].notna(), BLANK[lang])
    if lang != "zh":
        return out
    if "severity" in out:
        out["severity"] = out["severity"].map(lambda v: VALUE_LABELS["severity"].get(v, v))
    if "kind" in out:
        out["kind"] = out["kind"].map(lambda v: KIND_ZH.get(v, v))
    if "field" in out:
        out["field"] = out["field"].map(field_zh)
    for c in ("affects_grouping", "applied"):
        if c in out:
            out[c] = out[c].map({True: "是", False: "否"})
    return out.rename(columns={c: LABELS_ZH.get(c) or column_label(c) for c in out.columns})


def _overview(run: dict, lang: str) -> pd.DataFrame:
    zh = lang == "zh"
    items = [("输入" if zh else "input", run["input"]), ("方案" if zh else "scheme", run["scheme"]),
             ("规则" if zh else "rules", ("默认规则" if zh else "default rules") + (" + " + run["rules"] if run["rules"] else "")),
             ("检查病例数" if zh else "cases checked", run["cases"]),
             ("有错误病例数" if zh else "cases with errors", run["cases_with_errors"]),
             ("有警告病例数" if zh else "cases with warnings", run["cases_with_warnings"]),
             ("质控通过率" if zh else "pass rate", run["pass_rate"]), ("问题数" if zh else "issues", run["issues"]),
             ("执行规则数" if zh else "rules applied", len(run["rules_applied"])),
             ("未执行规则(缺列)" if zh else "rules not applied (columns absent)", ", ".join(run["rules_not_applied"]) or "-")]
    return pd.DataFrame(items, columns=["项目", "值"] if zh else ["item", "value"])


def columns_read(input_spec: str, rules: list, aliases: dict | None = None) -> list[str]:
    """The input columns the rules and the regrouping read (the grouping columns, the case, hospital and
    department, every field a rule names), in the file's order; the others are never read."""
    from grouper.columns import norm_header

    from ..batch import grouping_columns
    from ..contract import resolve
    from ..io import input_columns

    names = input_columns(input_spec)
    wanted = {"case_id", "hospital_id", "dept"} | {f for r in rules for f in r.fields}
    keep = set(grouping_columns(input_spec))
    keep |= {col for canon, col in resolve(names, aliases).items() if canon in wanted}
    keep |= {n for n in names if norm_header(n) in {norm_header(f) for f in wanted}}
    return [n for n in names if n in keep]


def check_file(input_spec: str, output: str, scheme, *, rules_dir: str | None = None, lang: str = "zh",
               batch_size: int = 200_000, quiet: bool = False, aliases: dict | None = None) -> dict:
    """Check ``input_spec`` (anything ``drg group`` reads) into the folder ``output``; returns the run summary."""
    from ..batch import Progress, prefetch
    from ..excel import write_workbook
    from ..io import count_rows, input_files, read_batches
    from ..tables import output_folder
    from .duplicates import DuplicateSpill

    start = time.perf_counter()
    rules = load_rules(rules_dir)
    checker = Checker(scheme, rules, lang=lang, aliases=aliases)
    kind, files = input_files(input_spec)
    progress = Progress(count_rows(kind, files), quiet, lang=lang)
    tally = Tally()
    with output_folder(output, [input_spec], "check") as out:
        spills = [DuplicateSpill(r, os.path.join(out, f".keys-{r.rule_id}")) for r in rules if r.kind == "duplicate_case"]
        writer = pq.ParquetWriter(os.path.join(out, "issues.parquet"), ISSUE_SCHEMA)
        first = 0
        try:
            for table in prefetch(read_batches(input_spec, batch_size=batch_size, columns=columns_read(input_spec, rules, aliases))):
                issues, b = checker.check(table, first, skip_kinds=("duplicate_case",))
                err, warn = _flags(issues, first, b.n)
                hospital, dept = _text_or_blank(b, "hospital_id"), _text_or_blank(b, "dept")
                for s in spills:
                    s.add(b, err, warn)
                writer.write_table(issues)
                tally.add(hospital, dept, err, warn, issues)
                first += b.n
                progress.update(b.n)
            for s in spills:
                _finish_duplicates(s, checker, tally, writer, lang)
        finally:
            writer.close()
        progress.close()
        tables = summaries(tally, checker, lang)
        for name, df in tables.items():
            pq.write_table(pa.Table.from_pandas(df, preserve_index=False), os.path.join(out, f"{name}.parquet"))
        run = _run_summary(input_spec, scheme, tally, checker, rules_dir, time.perf_counter() - start)
        issues_head = pq.ParquetFile(os.path.join(out, "issues.parquet"))
        head = next(issues_head.iter_batches(batch_size=XLSX_ISSUES), None)
        head = (pa.Table.from_batches([head]) if head is not None else ISSUE_SCHEMA.empty_table()).to_pandas()
        zh = lang == "zh"
        sheets = {("概况" if zh else "overview"): _overview(run, lang),
                  ("医院" if zh else "hospitals"): _labelled(tables["hospitals"], lang),
                  ("科室" if zh else "departments"): _labelled(tables["departments"], lang),
                  ("规则" if zh else "rules"): _labelled(tables["rules"], lang),
                  ("问题明细" if zh else "issues"): _labelled(head, lang)}
        write_workbook(sheets, os.path.join(out, "check.xlsx"), lang=lang)
        with open(os.path.join(out, "check.json"), "w", encoding="utf-8") as f:
            json.dump(run, f, ensure_ascii=False, indent=2)
    return run


def _text_or_blank(b, field: str) -> pa.Array:
    t = b.text(field)
    return pa.array([""] * b.n, pa.string()) if t is None else pc.fill_null(t, "")


def _flags(issues: pa.Table, first: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rows = issues.column("row").to_numpy() - 1 - first
    sev = issues.column("severity")
    err = np.zeros(n, dtype=bool)
    warn = np.zeros(n, dtype=bool)
    err[rows[np.asarray(pc.equal(sev, "error"), dtype=bool)]] = True
    warn[rows[np.asarray(pc.equal(sev, "warning"), dtype=bool)]] = True
    return err, warn


def _finish_duplicates(spill, checker: Checker, tally: Tally, writer, lang: str) -> None:
    rule = spill.rule
    found = spill.finish()
    if not spill.applied:
        checker.skipped.add(rule.rule_id)
        return
    checker.applied.add(rule.rule_id)
    k = found.num_rows
    issues = pa.table({"row": pc.add(found.column("row"), 1), "case_id": found.column("case_id"),
                       "hospital_id": found.column("hospital_id"), "dept": found.column("dept"),
                       "rule_id": pa.array([rule.rule_id] * k, pa.string()), "severity": pa.array([rule.severity] * k, pa.string()),
                       "field": pa.array([rule.fields[-1]] * k, pa.string()), "value": found.column("key"),
                       "message": pa.array([rule.message(lang)] * k, pa.string()),
                       "affects_grouping": pa.array(np.zeros(k, dtype=bool))}, schema=ISSUE_SCHEMA)
    writer.write_table(issues)
    tally.add_issues(issues)
    tally.add_late(found, rule.severity)


def _run_summary(input_spec, scheme, tally: Tally, checker: Checker, rules_dir, seconds: float) -> dict:
    totals = np.sum(list(tally.units.values()), axis=0) if tally.units else np.zeros(4, dtype=np.int64)
    cases = int(totals[0])
    return {"input": input_spec, "scheme": f"{scheme.id} {scheme.name}", "rules": rules_dir,
            "cases": cases, "cases_with_errors": int(totals[1]), "cases_with_warnings": int(totals[2]),
            "pass_rate": round(1 - int(totals[1]) / cases, 6) if cases else None, "issues": int(totals[3]),
            "rules_applied": sorted(checker.applied - checker.skipped), "rules_not_applied": sorted(checker.skipped),
            "seconds": round(seconds, 3), "rows_per_second": round(cases / seconds) if seconds > 0 else None}


def check(a) -> int:
    """The command: ``drg check INPUT -o OUT [--scheme] [--rules] [--batch-size] [--columns] [--lang]``."""
    import grouper
    from grouper.numba_cache import skip_blas_probe
    from grouper.scheme import DEFAULT_SCHEME

    from ..contract import load_mapping
    from ..terminal import clean

    skip_blas_probe()
    scheme = grouper.load_scheme(a.scheme or os.environ.get("DRG_SCHEME") or DEFAULT_SCHEME)  # as every command
    run = check_file(a.input, a.output, scheme, rules_dir=a.rules, lang=a.lang, batch_size=a.batch_size,
                     quiet=a.quiet, aliases=load_mapping(a.columns))
    if not a.quiet:
        rate = "-" if run["pass_rate"] is None else f"{100 * run['pass_rate']:.2f}%"
        if a.lang == "zh":
            line = (f"检查 {run['cases']:,} 例：{run['cases_with_errors']:,} 例有错误，{run['cases_with_warnings']:,} 例有警告，"
                    f"质控通过率 {rate}；问题 {run['issues']:,} 条 -> {a.output} ({run['seconds']:.1f} 秒)")
            skipped = f"未执行的规则(输入缺少所需列)：{', '.join(run['rules_not_applied'])}"
        else:
            line = (f"checked {run['cases']:,} cases: {run['cases_with_errors']:,} with errors, {run['cases_with_warnings']:,} "
                    f"with warnings, pass rate {rate}; {run['issues']:,} issues -> {a.output} ({run['seconds']:.1f} s)")
            skipped = f"rules not applied (the input lacks their columns): {', '.join(run['rules_not_applied'])}"
        print(clean(line), file=sys.stderr)
        if run["rules_not_applied"]:
            print(clean(skipped), file=sys.stderr)
    return 0
