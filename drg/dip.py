"""``drg dip build | group | pay``: DIP (按病种分值付费) from a region's own cases, streamed batch by batch.

* ``drg dip build BASE -o catalogue/``: the catalogue (:mod:`evaluation.dip`): groups.csv, severity.csv,
  procedure_kinds.csv, catalogue.json, written as a unit;
* ``drg dip group CASES -o OUT --catalogue DIR``: every case to one group, the input's columns kept and
  ``dip_group, dip_kind, dip_match, dip_score, dip_mean_cost, dip_adjustment, dip_status, dip_status_code,
  dip_reason`` added;
* ``drg dip pay GROUPED_DIP --budget ... -o pay/`` (cases.parquet, hospitals.parquet, parameters.parquet, dip.xlsx,
  pay.json): points per case, the point value per year, every case's
  payment in integer fen by the largest remainders of ``drg pay`` (:func:`evaluation.payment.remainders.shares_fen`:
  the budget exact), per hospital its settlement, DIP case-mix index, cost per point and the violation indices of
  the auxiliary catalogue as reported factors.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evaluation import dip as D
from evaluation.common import EvaluationError

DIP_COLUMNS = ("dip_group", "dip_kind", "dip_match", "dip_score", "dip_mean_cost", "dip_adjustment", "dip_status",
               "dip_status_code", "dip_reason")
REASONS = {
    "zh": {0: "主要诊断(亚目)与手术操作组合与核心病种一致", 1: "主要诊断相同,按所含手术操作最多的核心病种入组",
           2: "按主要诊断类目与治疗方式入综合病种", -1: "无主要诊断或主要诊断编码无法识别", -2: "目录中没有该类目与治疗方式的综合病种"},
    "en": {0: "principal diagnosis (subcategory) and procedures equal a core group's",
           1: "same principal diagnosis: the core group with the most of the case's procedures",
           2: "comprehensive group of the diagnosis category and kind of treatment",
           -1: "no principal diagnosis, or one that is not a diagnosis code",
           -2: "the catalogue has no comprehensive group of this category and kind of treatment"},
}
READMIT_DAYS = 15  # 二次入院: a readmission to the same hospital within 15 days of discharge
LONG_STAY_DAYS = 60  # 超长住院


DIP_HEADERS_ZH = {"dip_group": "DIP病种编码", "dip_kind": "DIP病种类型", "dip_match": "DIP入组方式", "dip_score": "DIP病种分值",
                  "dip_mean_cost": "DIP病种平均费用", "dip_adjustment": "DIP严重程度调整系数", "dip_status": "DIP入组状态",
                  "dip_status_code": "DIP状态代码", "dip_reason": "DIP入组原因"}
MATCH_ZH = {"exact": "精确匹配核心病种", "partial": "部分匹配核心病种", "comprehensive": "综合病种"}


def _batches(spec: str, batch_size: int, mapping: dict | None = None, with_input: bool = False):
    """The input's batches with canonical names: dx / px lists (any layout drg group reads) and the analysis
    columns (total_cost, hospital_id, year, ... under the names of drg.contract); ``with_input``: (the batch as
    read, the batch with canonical names)."""
    from grouper.columns import canonicalize

    from .batch import prefetch
    from .contract import add_year, resolve
    from .io import read_batches

    batches = prefetch(read_batches(spec, batch_size=batch_size))
    try:  # closed on any exit: the reading thread stops with the command
        for b in batches:
            t = canonicalize(b, required=("dx",))
            found = resolve(t.column_names, mapping)
            have = set(t.column_names)
            rename = {src: canon for canon, src in found.items() if src != canon and canon not in have}
            t = t.rename_columns([rename.get(c, c) for c in t.column_names])
            source = next((c for c in ("discharge_date", "settlement_date") if c in t.column_names), None)
            yield (b, add_year(t, source)) if with_input else add_year(t, source)
    finally:
        batches.close()


def _scheme_dir(arg: str | None) -> str:
    from grouper.scheme import DEFAULT_SCHEME

    return arg or os.environ.get("DRG_SCHEME") or DEFAULT_SCHEME


def _say(lang: str, key: str, **values) -> None:
    import sys

    from .text import say

    print(say(lang, key, **values), file=sys.stderr)


# -- build ---------------------------------------------------------------------------------------------------------
def build(input_spec: str, output: str, *, scheme: str | None = None, min_cases: int = 15, years=None,
          reference: str | None = None, batch_size: int = 200_000, mapping: dict | None = None) -> dict:
    """Build the catalogue of ``input_spec`` (base-year cases) into the folder ``output``; returns catalogue.json."""
    from .tables import output_folder

    kinds = D.procedure_kinds_table(_scheme_dir(scheme), [])
    builder = D.CatalogueBuilder(dict(zip(kinds["code"], kinds["kind"])))
    for t in _batches(input_spec, batch_size, mapping):
        if years:
            if "year" not in t.column_names:
                raise EvaluationError(f"{input_spec}: --years needs a year (or discharge date) column")
            t = t.filter(pc.is_in(t.column("year"), value_set=pa.array(sorted(years), t.column("year").type)))
        builder.add(t)
    cat = D.build_catalogue(builder.sums(), min_cases=min_cases, reference=reference)
    cat["meta"]["base_years"] = sorted(years) if years else None
    cat["meta"]["input"] = os.path.basename(str(input_spec))
    with output_folder(output, [input_spec], "dip build") as out:
        D.write_catalogue(cat, kinds, out)
    return cat["meta"]


# -- group ---------------------------------------------------------------------------------------------------------
def _coded(index: np.ndarray, values, none: np.ndarray) -> pa.DictionaryArray:
    """A dictionary column: ``values[index]``, null where ``none``."""
    return pa.DictionaryArray.from_arrays(pa.array(np.where(none, 0, index).astype(np.int32), mask=none),
                                          pa.array(list(values), pa.string()))


def dip_columns(t: pa.Table, matcher: D.Matcher, lang: str = "zh", people: bool = False) -> dict:
    """The DIP columns (:data:`DIP_COLUMNS`) of a batch with canonical names; ``people`` (a CSV or xlsx in Chinese):
    kinds and matches in Chinese words."""
    r = matcher.match(t)
    g, how = r["group"], r["match"]
    groups = matcher.groups
    ok = g >= 0
    safe = np.where(ok, g, 0)
    no_comp = ~ok & pc.is_valid(r["dx"]).to_numpy(zero_copy_only=False)
    code = np.where(ok, how, np.where(no_comp, -2, -1))
    words = REASONS[lang]
    adj = D.severity_adjustment(matcher, g, r["cci"], r["age"])
    kinds = sorted(D.KIND_ZH)
    kind_of = np.array([kinds.index(k) for k in groups["kind"]], np.int64)
    zh = people and lang == "zh"
    every = np.zeros(len(g), bool)
    return {
        "dip_group": _coded(safe, groups["group_id"], ~ok),
        "dip_kind": _coded(kind_of[safe], [D.KIND_ZH[k] for k in kinds] if zh else kinds, ~ok),
        "dip_match": _coded(np.clip(how, 0, 2), [MATCH_ZH[m] for m in D.MATCH_NAMES] if zh else D.MATCH_NAMES, ~ok),
        "dip_score": pa.array(np.where(ok, matcher.score[safe], np.nan), pa.float64(), from_pandas=True),
        "dip_mean_cost": pa.array(np.where(ok, matcher.mean[safe], np.nan), pa.float64(), from_pandas=True),
        "dip_adjustment": pa.array(np.where(ok, adj, np.nan), pa.float64(), from_pandas=True),
        "dip_status": _coded((~ok).astype(np.int64), ["分组成功", "无法入组"], every),
        "dip_status_code": _coded((~ok).astype(np.int64), ["ok", "ungroupable"], every),
        "dip_reason": _coded(code + 2, [words[c] for c in range(-2, 3)], every),
    }


def group(input_spec: str, output: str, catalogue: str, *, lang: str = "zh", batch_size: int = 200_000,
          mapping: dict | None = None) -> dict:
    """Group ``input_spec`` to the catalogue folder into the file ``output`` (the input's columns as they were read,
    the DIP columns after them: Chinese headers and words in a CSV or xlsx with ``lang`` zh); returns counts by
    match."""
    from .contract import numeric_headers
    from .io import atomic_writer, input_columns, output_kind

    cat = D.load_catalogue(catalogue)
    matcher = D.Matcher(cat)
    people = output_kind(output) in ("csv", "excel")
    have = set(input_columns(input_spec))
    headers = {k: v for k, v in DIP_HEADERS_ZH.items() if v not in have} if people and lang == "zh" else {}
    counts = {"cases": 0, "exact": 0, "partial": 0, "comprehensive": 0, "ungroupable": 0}
    with atomic_writer(output, headers=headers, numeric=numeric_headers(list(have)) if output_kind(output) == "excel" else ()) as w:
        for raw, t in _batches(input_spec, batch_size, mapping, with_input=True):
            cols = dip_columns(t, matcher, lang, people)
            out = raw.drop_columns([c for c in DIP_COLUMNS if c in raw.column_names])
            for name, col in cols.items():
                out = out.append_column(name, col)
            g = pc.fill_null(cols["dip_match"].indices, -1).to_numpy(zero_copy_only=False)
            for j, k in enumerate(D.MATCH_NAMES):
                counts[k] += int((g == j).sum())
            counts["ungroupable"] += int((g < 0).sum())
            counts["cases"] += t.num_rows
            w.write(out)
    return counts


# -- pay -----------------------------------------------------------------------------------------------------------
PAY_NEEDS = ("dip_group", "dip_score", "dip_mean_cost", "dip_adjustment")


def _priced(t: pa.Table, coefficients: dict, high: float, low: float) -> dict:
    """Points and deviation class of a batch of grouped cases; year and hospital as text."""
    from evaluation.coded import numbers

    n = t.num_rows
    score = numbers(t.column("dip_score"))
    mean = numbers(t.column("dip_mean_cost"))
    adj = numbers(t.column("dip_adjustment"))
    adj = np.where(np.isfinite(adj) & (adj > 0), adj, 1.0)
    cost = numbers(t.column("total_cost")) if "total_cost" in t.column_names else np.full(n, np.nan)
    cost = np.where(np.isfinite(cost) & (cost > 0), cost, np.nan)
    coef = np.ones(n)
    if coefficients and "level" in t.column_names:
        level = _text(t, "level")
        for k, v in coefficients.items():
            coef[level == k] = v
    points, cls = D.case_points(score, mean, cost, adj, coef, high=high, low=low)
    year = numbers(t.column("year")) if "year" in t.column_names else np.full(n, np.nan)
    return {"points": points, "class": cls, "year": year, "cost": cost, "coefficient": coef, "score": score}


def _text(t: pa.Table, name: str) -> np.ndarray:
    if name not in t.column_names:
        return np.full(t.num_rows, "", object)
    col = t.column(name)
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return np.array(pc.fill_null(pc.cast(col, pa.string()), "").to_pylist(), object)


def pay(input_spec: str, output: str, budgets: dict, *, coefficients: dict | None = None, high: float = 2.0,
        low: float = 0.5, batch_size: int = 200_000, mapping: dict | None = None, lang: str = "zh") -> dict:
    """Settle ``input_spec`` (drg dip group's output) into the folder ``output``: cases.parquet, hospitals.parquet,
    parameters.parquet, pay.json. ``budgets``: {year: yuan} (None: every year)."""
    from evaluation.exact import exact_sums, split_exact
    from evaluation.payment import PaymentConfig
    from evaluation.payment.batches import Run
    from evaluation.payment.remainders import resolve_ties, select_remainders, tied_rows

    coefficients = coefficients or {}

    from .contract import resolve
    from .io import input_columns

    missing = [c for c in PAY_NEEDS if c not in resolve(input_columns(input_spec), mapping)]
    if missing:  # before reading anything
        raise EvaluationError(f"{input_spec}: column(s) {', '.join(missing)} missing; pay the output of drg dip group")

    def read():
        batches = _batches(input_spec, batch_size, mapping)
        try:
            for t in batches:
                yield t, _priced(t, coefficients, high, low)
        finally:
            batches.close()

    sums: dict = {}
    for _, p in read():  # pass 1: the exact points of every year
        y = p["year"]
        ok = np.isfinite(y)
        exact_sums(p["points"][ok], y[ok].astype(np.int64), sums)
    years = sorted(int(y) for y, v in sums.items() if v > 0)
    if not years:
        raise EvaluationError(f"{input_spec}: no grouped case with a year and points; check the year (or discharge "
                                "date) column and that drg dip group grouped the cases")
    per_year = {y: budgets.get(y, budgets.get(None)) for y in years}
    lacking = [y for y, b in per_year.items() if b is None]
    if lacking:
        raise EvaluationError(f"--budget has no amount for {lacking[0]}; give every year, e.g. {lacking[0]}=1.2e9, "
                                "or one amount for all")
    run = Run("base", PaymentConfig(method="points"), per_year)
    for i, y in enumerate(years):
        run.denom[i] = split_exact(sums[y])

    def chunks():
        first = 0
        for _, p in read():
            y = _year_index(p["year"], years)
            yield first, y, p["points"]
            first += len(y)

    select_remainders(run, years, chunks)  # pass 2: the remainders' threshold per year
    need = tied_rows([run])
    ids: dict = {}
    if len(need):  # pass 3 (only for ties): the case ids that break them
        first = 0
        for t, _ in read():
            rows = need[(need >= first) & (need < first + t.num_rows)]
            if len(rows):
                cid = _text(t, "case_id")
                ids.update({int(r): cid[r - first] for r in rows})
            first += t.num_rows
    resolve_ties(run, lambda rows: [ids[int(r)] for r in rows])
    return _settle(read, run, years, output, input_spec, lang)


def _settle(read, run, years: list, output: str, input_spec: str, lang: str) -> dict:
    from evaluation.payment.remainders import shares_fen

    from .tables import output_folder

    hosp: dict = {}
    first = 0
    with output_folder(output, [input_spec], "dip pay") as out:
        spill = ReadmissionSpill(out)
        writer = None
        try:
            for t, p in read():  # the last pass: every case's fen
                n = t.num_rows
                y = _year_index(p["year"], years)
                settled = y >= 0
                rows = first + np.arange(n)
                fen = np.zeros(n, np.int64)
                if settled.any():
                    fen[settled] = shares_fen(p["points"][settled], y[settled], rows[settled], run, years)
                h = _text(t, "hospital_id")
                cases = pa.table({
                    "case_id": pa.array(_text(t, "case_id"), pa.string()), "hospital_id": pa.array(h, pa.string()),
                    "year": pa.array(np.where(settled, p["year"], np.nan), pa.float64(), from_pandas=True).cast(pa.int32()),
                    "dip_group": t.column("dip_group"), "deviation": pa.array(np.array(D.DEVIATION, object)[p["class"]], pa.string()),
                    "score": pa.array(p["score"], pa.float64(), from_pandas=True), "coefficient": pa.array(p["coefficient"]),
                    "points": pa.array(p["points"]), "total_cost": pa.array(p["cost"], pa.float64(), from_pandas=True),
                    "payment_fen": pa.array(np.where(settled, fen, 0))})
                if writer is None:
                    writer = pq.ParquetWriter(os.path.join(out, "cases.parquet"), cases.schema)
                writer.write_table(cases)
                _tally(hosp, t, h, p, fen, settled)
                spill.add(t, h)
                first += n
        finally:
            if writer is not None:
                writer.close()
        readmit = spill.counts()
        hospitals = _hospitals(hosp, readmit)
        params = pd.DataFrame([{"year": y, "budget": run.total_fen(y) / 100, "points": float(run.denom[i][0]),
                                "point_value": run.budgets[y] / float(run.denom[i][0])} for i, y in enumerate(years)])
        pq.write_table(pa.Table.from_pandas(hospitals, preserve_index=False), os.path.join(out, "hospitals.parquet"))
        pq.write_table(pa.Table.from_pandas(params, preserve_index=False), os.path.join(out, "parameters.parquet"))
        from evaluation.words import label

        from .excel import write_workbook

        zh = lang == "zh"
        write_workbook({("医院结算" if zh else "hospitals"): label(hospitals, lang), ("点值" if zh else "point values"): label(params, lang)},
                       os.path.join(out, "dip.xlsx"), lang=lang)
        summary = {"cases": first, "years": years, "paid_fen": int(hospitals["payment_fen"].sum()),
                   "budget_fen": int(sum(run.total_fen(y) for y in years)), "specification": D.SPEC}
        with open(os.path.join(out, "pay.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False, indent=2)
    return summary


def _year_index(year: np.ndarray, years: list) -> np.ndarray:
    """Each case's index in ``years`` (sorted), -1 for a year not settled."""
    arr = np.array(years, float)
    pos = np.clip(np.searchsorted(arr, year), 0, len(arr) - 1)
    return np.where(np.isfinite(year) & (arr[pos] == year), pos, -1).astype(np.int64)


def _tally(hosp: dict, t: pa.Table, h: np.ndarray, p: dict, fen: np.ndarray, settled: np.ndarray) -> None:
    """Per hospital: cases, grouped cases, points, score sum, cost, fen, deviation counts, long stays, deaths in
    low-score groups."""
    from evaluation.coded import numbers

    n = t.num_rows
    los = numbers(t.column("los_days")) if "los_days" in t.column_names else np.full(n, np.nan)
    died = _text(t, "leaving_type") == "5"
    grouped = np.isfinite(p["score"])
    low_score = grouped & (p["score"] < LOW_SCORE)
    df = pd.DataFrame({"h": h, "cases": 1, "grouped": grouped.astype(int), "points": p["points"],
                       "score": np.where(grouped, p["score"], 0.0), "cost": np.nan_to_num(p["cost"]),
                       "costed": np.isfinite(p["cost"]).astype(int), "costed_points": np.where(np.isfinite(p["cost"]), p["points"], 0.0),
                       "fen": np.where(settled, fen, 0), "high": (p["class"] == 1).astype(int), "low": (p["class"] == 2).astype(int),
                       "long_stay": (los > LONG_STAY_DAYS).astype(int), "low_risk": low_score.astype(int),
                       "low_risk_died": (low_score & died).astype(int)})
    for k, row in df.groupby("h", sort=False).sum().iterrows():
        acc = hosp.setdefault(k, {c: 0 for c in row.index})
        for c, v in row.items():
            acc[c] += v


LOW_SCORE = 500.0  # 低风险病种: a score below half the region's mean case (死亡风险 factor)


class ReadmissionSpill:
    """二次入院 in memory that follows the batch: each case's (patient hash, hospital hash, admit day, discharge day)
    appended to one of :data:`BUCKETS` files by its patient, then each bucket sorted and scanned on its own."""

    BUCKETS = 64
    DTYPE = np.dtype([("p", "<u8"), ("h", "<u8"), ("a", "<i8"), ("d", "<i8")])

    def __init__(self, folder: str):
        self.folder = folder
        self.names: dict = {}  # hospital hash -> id
        self.used = False

    def add(self, t: pa.Table, h: np.ndarray) -> None:
        if not {"patient_id", "admit_date", "discharge_date"} <= set(t.column_names):
            return
        from evaluation.audit.cases import days as day_numbers

        patient = _text(t, "patient_id")
        days = [day_numbers(t.column(c)) for c in ("admit_date", "discharge_date")]
        ok = (patient != "") & (days[0] >= 0) & (days[1] >= 0)  # the audit's reading of dates: -1 unreadable
        if not ok.any():
            return
        ph = pd.util.hash_array(patient[ok].astype(object), categorize=True)
        hh = pd.util.hash_array(h[ok].astype(object), categorize=True)
        self.names.update(zip(hh.tolist(), h[ok].tolist()))
        rec = np.empty(int(ok.sum()), self.DTYPE)
        rec["p"], rec["h"], rec["a"], rec["d"] = ph, hh, days[0][ok], days[1][ok]
        bucket = (ph % np.uint64(self.BUCKETS)).astype(np.int64)
        for b in np.unique(bucket):
            with open(os.path.join(self.folder, f"readmit-{b:02d}.bin"), "ab") as f:
                rec[bucket == b].tofile(f)
        self.used = True

    def counts(self) -> dict:
        """{hospital id: its cases that are a readmission within READMIT_DAYS of a discharge from it}."""
        out: dict = {}
        for b in range(self.BUCKETS):
            path = os.path.join(self.folder, f"readmit-{b:02d}.bin")
            if not os.path.exists(path):
                continue
            rec = np.fromfile(path, self.DTYPE)
            os.unlink(path)
            rec = rec[np.lexsort((rec["a"], rec["h"], rec["p"]))]
            same = (rec["p"][1:] == rec["p"][:-1]) & (rec["h"][1:] == rec["h"][:-1])
            gap = rec["a"][1:] - rec["d"][:-1]
            hit = rec["h"][1:][same & (gap >= 0) & (gap <= READMIT_DAYS)]
            for k, n in zip(*np.unique(hit, return_counts=True)):
                name = self.names[int(k)]
                out[name] = out.get(name, 0) + int(n)
        return out


def _hospitals(hosp: dict, readmit: dict) -> pd.DataFrame:
    """One row per hospital: settlement, DIP case-mix index (mean score of grouped cases), cost per point, and the
    violation indices (a hospital's rate over the region's: 二次入院, 低标入院, 超长住院, 死亡风险)."""
    df = pd.DataFrame.from_dict(hosp, orient="index").sort_index()
    df.index.name = "hospital_id"
    df["readmissions"] = pd.Series(readmit, dtype=float).reindex(df.index).fillna(0).astype(int)
    out = pd.DataFrame({"hospital_id": df.index, "cases": df["cases"].astype(int), "grouped": df["grouped"].astype(int),
                        "points": df["points"], "dip_cmi": df["score"] / df["grouped"].where(df["grouped"] > 0),
                        "cost_per_point": df["cost"] / df["costed_points"].where(df["costed_points"] > 0),
                        "payment_fen": df["fen"].astype(np.int64), "high_cases": df["high"].astype(int),
                        "low_cases": df["low"].astype(int)})
    rates = {"readmission": df["readmissions"] / df["cases"], "low_standard": df["low"] / df["grouped"].where(df["grouped"] > 0),
             "long_stay": df["long_stay"] / df["cases"], "death_risk": df["low_risk_died"] / df["low_risk"].where(df["low_risk"] > 0)}
    region = {"readmission": df["readmissions"].sum() / df["cases"].sum(), "low_standard": df["low"].sum() / max(df["grouped"].sum(), 1),
              "long_stay": df["long_stay"].sum() / df["cases"].sum(), "death_risk": df["low_risk_died"].sum() / max(df["low_risk"].sum(), 1)}
    for k, r in rates.items():
        out[f"{k}_rate"] = r.to_numpy()
        out[f"{k}_index"] = (r / region[k]).to_numpy() if region[k] > 0 else np.nan
    return out.reset_index(drop=True)


# -- the commands --------------------------------------------------------------------------------------------------
def _refusing(run):
    """A command whose evaluation errors are one line (drg: error: ...; fix), as every command's."""
    from evaluation.common import EvaluationError

    from .io import InputError

    def command(a) -> int:
        try:
            return run(a)
        except EvaluationError as e:
            raise InputError(str(e)) from None
    command.__doc__ = run.__doc__
    return command


@_refusing
def dip_build(a) -> int:
    meta = build(a.input, a.output, scheme=a.scheme, min_cases=a.min_cases, years=a.years, reference=a.reference,
                 batch_size=a.batch_size)
    _say(a.lang, "dip_built", core=meta["core_groups"], share=meta["core_share"], comp=meta["comprehensive_groups"], output=a.output)
    return 0


@_refusing
def dip_group(a) -> int:
    c = group(a.input, a.output, a.catalogue, lang=a.lang, batch_size=a.batch_size)
    _say(a.lang, "dip_grouped", **c, output=a.output)
    return 0


@_refusing
def dip_pay(a) -> int:
    from .arguments import parse_budgets, parse_coefficients

    s = pay(a.input, a.output, parse_budgets(a.budget), coefficients=parse_coefficients(a.coefficients), high=a.high, low=a.low, batch_size=a.batch_size,
            lang=a.lang)
    _say(a.lang, "dip_paid", cases=s["cases"], paid=s["paid_fen"] / 100, budget=s["budget_fen"] / 100, output=a.output)
    return 0
