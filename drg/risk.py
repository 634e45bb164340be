"""`drg risk`: patient-level expected death, LOS and cost per case, streamed in three passes over the grouped
records (memory follows the batch and the fitting sample, not the input; locally or on a Dask cluster alike), and the
hospital tables and model report built from them (:mod:`evaluation.risk` holds the models)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evaluation.analysis import Pass
from evaluation.coded import Vocab, included, local_codes, numbers, years

from .io import InputError

RISK_COLUMNS = ["case_id", "hospital_id", "year", "status", "drg", "adrg", "dx", "age_years", "age_days", "sex",
                "admission_route", "leaving_type", "los_days", "total_cost"]
NEEDED = {"case_id": "names each case in cases.parquet", "hospital_id": "the hospital tables",
          "drg": "the DRG the model conditions on (group the records first: drg group)"}
OUTCOME_NEEDS = {"death": "leaving_type", "los": "los_days", "cost": "total_cost"}
# a model fit to adjust hospitals' expectations: discrimination at least "acceptable" (c >= 0.7, Hosmer & Lemeshow,
# Applied Logistic Regression, 3rd ed., 5.2.4) is the usual bar; 0.6 is the floor below which it ranks hardly better
# than chance; a calibration slope far from 1 means its spread of risk is wrong (Steyerberg, Clinical Prediction
# Models, 2nd ed., 15.3)
USEFUL_C, USEFUL_SLOPE, USEFUL_R2 = 0.6, (0.5, 2.0), 0.02
EVAL_ROWS = 2_000_000  # held-out predictions kept for the model report (exact metrics on this many cases)


class TooFewCases(InputError):
    """The data hold too few cases (or events) for a patient-level model: a run can go on without it."""

def code_lookup(scheme_path: str | None):
    """MCC/CC tables of the scheme (for the MCC/CC features), from its compiled (cached) arrays; empty
    without one."""
    from evaluation.risk import CodeLookup

    if not scheme_path:
        return CodeLookup({}, {}, {})
    from grouper.scheme import load_scheme

    s = load_scheme(scheme_path)
    a, codes = s.arrays, s.codes

    def table(ex):
        at = np.flatnonzero(np.asarray(ex)[: len(codes)] >= 0)
        return dict(zip((codes[i] for i in at), np.asarray(ex)[at].tolist()))

    return CodeLookup(table(a["mcc_ex"]), table(a["cc_ex"]), table(a["pdx_ex"]))


def _year(batch: pa.Table) -> pa.Array:
    """The year of each case as int64 (:func:`evaluation.coded.years`), null where it has none."""
    v = years(batch)
    if v is None:
        return pa.nulls(batch.num_rows, pa.int64())
    ok = np.isfinite(v)
    return pa.array(np.where(ok, v, 0).astype(np.int64), mask=~ok)


def _num(batch: pa.Table, name: str):
    """A column as float64 (:func:`evaluation.coded.numbers`); ``None`` when the input has no such column (batches
    arrive under canonical names: drg.contract)."""
    return numbers(batch.column(name)) if name in batch.column_names else None


def _outcomes(batch: pa.Table) -> dict:
    n = batch.num_rows
    nan = np.full(n, np.nan)
    out = {"death": nan, "los": nan, "cost": nan}
    if "leaving_type" in batch.column_names:
        lt = pc.cast(batch.column("leaving_type"), pa.string())
        died = pc.equal(lt, "5").to_numpy(zero_copy_only=False)
        out["death"] = np.where(pc.is_null(lt).to_numpy(zero_copy_only=False), np.nan, died.astype(float))
    from evaluation.common import usable_cost, usable_los

    los = _num(batch, "los_days")
    if los is not None:  # a stay of 0 days has no log: as before, only stays of a day or more are modelled
        los = usable_los(los)
        out["los"] = np.where(los > 0, los, np.nan)
    cost = _num(batch, "total_cost")
    if cost is not None:
        out["cost"] = usable_cost(cost)
    out["log_los"], out["log_cost"] = np.log(out["los"]), np.log(out["cost"])
    return out


def _dx_features(batch: pa.Table, lookup) -> dict:
    from evaluation.risk import diagnosis_features

    n = batch.num_rows
    if "dx" in batch.column_names and pa.types.is_string(batch.schema.field("dx").type):
        # a CSV of drg group's output: diagnoses as "A|B|C" (or "A,B,C")
        text = pc.replace_substring(batch.column("dx"), ",", "|")
        batch = batch.set_column(batch.column_names.index("dx"), "dx", pc.split_pattern(text, "|"))
    if "dx" not in batch.column_names or not pa.types.is_list(batch.schema.field("dx").type):
        return {"bits": np.zeros(n, np.uint64), "secondary_dx": np.full(n, np.nan, np.float32),
                "mcc": np.full(n, np.nan, np.float32), "cc": np.full(n, np.nan, np.float32)}
    lists = batch.column("dx").combine_chunks()
    values = lists.values
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(pc.cast(values, pa.string()))
    idx = values.indices.to_numpy(zero_copy_only=False)
    idx = np.where(values.indices.is_null().to_numpy(zero_copy_only=False), -1, np.nan_to_num(idx)).astype(np.int64)
    offsets = lists.offsets.to_numpy()
    idx = idx[offsets[0]:offsets[-1]]
    words = [w if w is not None else "" for w in values.dictionary.to_pylist()]
    return diagnosis_features(offsets, idx, words, lookup)


def _adrg(batch: pa.Table):
    """The ADRG column; without one the DRG code's first three characters, as the evaluation takes it."""
    if "adrg" in batch.column_names:
        return batch.column("adrg")
    return pc.utf8_slice_codeunits(batch.column("drg").cast(pa.string()), 0, 3)


class _Pass:
    """What the passes compute per batch: ids, folds, outcomes and the patient features (the DRG and ADRG words are
    all met in pass 1: later passes, on threads or workers, only look them up)."""

    def __init__(self, folds: int, by_hospital: bool, seed: int, lookup):
        self.folds, self.by_hospital, self.seed, self.lookup = folds, by_hospital, seed, lookup
        self.drg, self.adrg = Vocab(), Vocab()

    def rows_and_folds(self, batch: pa.Table, start: int) -> tuple[np.ndarray, np.ndarray]:
        """Each case's row in the input and its fold (by row, or by hospital)."""
        from evaluation.risk import case_folds, hospital_folds

        rows = np.arange(start, start + batch.num_rows, dtype=np.int64)
        fold = (hospital_folds(batch.column("hospital_id").to_numpy(zero_copy_only=False), self.folds, self.seed)
                if self.by_hospital else case_folds(rows, self.folds, self.seed))
        return rows, fold.astype(np.int64)

    def keys(self, batch: pa.Table, start: int) -> dict:
        rows, fold = self.rows_and_folds(batch, start)
        return {"row": rows, "fold": fold, "drg": self.drg.encode(batch.column("drg")), "adrg": self.adrg.encode(_adrg(batch))}

    def features(self, batch: pa.Table) -> np.ndarray:
        from evaluation.common import usable_age
        from evaluation.risk import case_features

        days = _num(batch, "age_days")
        return case_features(usable_age(_num(batch, "age_years")) if "age_years" in batch.column_names else np.full(batch.num_rows, np.nan),
                             None if days is None else usable_age(days, 365.0), _num(batch, "sex"), _num(batch, "admission_route"),
                             _dx_features(batch, self.lookup))


def _check_columns(grouped: str, have: list, outcomes: list) -> list:
    from .contract import require

    require(grouped, have, NEEDED, "risk")
    lacking = [o for o in outcomes if OUTCOME_NEEDS[o] not in have]
    if lacking:
        raise InputError(f"{grouped}: --outcomes {','.join(lacking)} needs column "
                         f"{', '.join(OUTCOME_NEEDS[o] for o in lacking)}; leave those outcomes out or add the column")
    return [c for c in RISK_COLUMNS if c in have]


DEATH_SHARE = 0.25  # the fitting sample holds deaths up to this share (stratified); weights restore the population


def _count_batch(batch: pa.Table, offset: int, p: "_Pass") -> dict:
    """Pass 1 of one batch: the DRG and ADRG codes (local), fold, outcomes, included rule and the sampling draw."""
    from evaluation.risk import uniform

    rows, fold = p.rows_and_folds(batch, offset)
    y = _outcomes(batch)
    return {"drg": local_codes(batch.column("drg")), "adrg": local_codes(_adrg(batch)), "fold": fold,
            "y": y, "inc": included(batch), "stratum": (y["death"] == 1).astype(np.int64), "u": uniform(rows, p.seed + 1)}


class _Counts:
    """Pass 1's merge: the DRG statistics per fold (the encoder), included cases per stratum, and per stratum the
    ``size`` smallest draws (bottom-k: the sample's cut)."""

    def __init__(self, p: "_Pass", encoder, sizes: dict):
        self.p, self.encoder, self.sizes = p, encoder, sizes
        self.totals, self.rows = np.zeros(2, np.int64), 0
        self.draws: dict = {0: np.zeros(0), 1: np.zeros(0)}

    def merge(self, part: dict) -> None:
        drg, adrg = self.p.drg.of_local(*part["drg"]), self.p.adrg.of_local(*part["adrg"])
        inc, y = part["inc"], part["y"]
        self.encoder.add(drg[inc], adrg[inc], part["fold"][inc], {o: v[inc] for o, v in y.items()}, len(self.p.drg.ids),
                         len(self.p.adrg.ids))
        st = part["stratum"][inc]
        self.totals += np.bincount(st, minlength=2)
        self.rows += len(inc)
        for s, k in self.sizes.items():
            d = np.concatenate([self.draws[s], part["u"][inc][st == s]])
            self.draws[s] = np.partition(d, k - 1)[:k] if len(d) > 2 * k else d

    def cuts(self) -> dict:
        """Per stratum the draw at or below which a case is in the sample (1.0: every case of a small stratum)."""
        return {s: 1.0 if self.totals[s] <= k else float(np.partition(self.draws[s], k - 1)[k - 1])
                for s, k in self.sizes.items()}


def _sample_batch(batch: pa.Table, offset: int, p: "_Pass", cuts: dict) -> dict | None:
    """Pass 2 of one batch: the sampled cases (draw at or below their stratum's cut) with features and outcomes."""
    from evaluation.risk import uniform

    k = p.keys(batch, offset)
    y = _outcomes(batch)
    stratum = (y["death"] == 1).astype(np.int64)
    u = uniform(k["row"], p.seed + 1)
    take = np.flatnonzero(included(batch) & (u <= np.where(stratum == 1, cuts[1], cuts[0])))
    if not len(take):
        return None
    return {"X": p.features(batch.take(pa.array(take))), "u": u[take], "stratum": stratum[take],
            **{n: v[take] for n, v in k.items()}, **{o: y[o][take] for o in ("death", "los", "cost")}}


def fitting_sample(grouped: str, columns: list, p: "_Pass", encoder, size: int):
    """Passes 1 and 2: DRG statistics per fold over every case, and the fitting sample -- stratified by outcome
    (deaths up to ``DEATH_SHARE`` of ``size``, the rest from everyone else), each stratum the cases with the smallest
    fixed random draws (the same rows whatever the batch size, the file format or the cluster), with weights (stratum
    cases / sampled cases) that restore the population. Returns (sample, rows). Memory: the draws of twice the sample
    in pass 1, the sample in pass 2."""
    import functools

    sizes = {1: int(size * DEATH_SHARE), 0: size - int(size * DEATH_SHARE)}
    counts = _Counts(p, encoder, sizes)
    light = [c for c in columns if c not in ("dx", "case_id", "age_years", "age_days", "sex", "admission_route")]
    yield Pass(light, functools.partial(_count_batch, p=p), counts.merge, offsets=True)
    parts: list = []
    yield Pass(columns, functools.partial(_sample_batch, p=p, cuts=counts.cuts()),
               lambda part: parts.append(part) if part is not None else None, offsets=True)
    if not parts:
        raise InputError(f"{grouped}: no records to fit a model on")
    sample = {n: np.concatenate([x[n] for x in parts]) for n in parts[0]}
    sampled = np.bincount(sample["stratum"], minlength=2)
    weight = (counts.totals / np.maximum(sampled, 1))[sample["stratum"]]
    sample["weight"] = weight / weight.mean()  # relative weights: the ridge penalty keeps its strength
    return sample, counts.rows


def _predict_batch(batch: pa.Table, offset: int, p, encoder, models: dict, steps: dict, eval_rate: float):
    """Pass 3 of one batch: each case predicted by its own fold's model and calibrated; (its rows of cases.parquet,
    the hospital-year sums over the grouped cases, the held-out predictions kept for the report)."""
    from evaluation.risk import calibrate, predict_cross_fitted, uniform

    k = p.keys(batch, offset)
    y = _outcomes(batch)
    raw = predict_cross_fitted(models, p.features(batch), k["drg"], k["adrg"], k["fold"], encoder)
    exp = {o: calibrate(o, raw[o], steps[o]) if o in raw else np.full(batch.num_rows, np.nan)
           for o in ("death", "los", "cost")}
    hospital = pc.cast(batch.column("hospital_id"), pa.string())
    year = _year(batch)
    out = pa.table({"case_id": pc.cast(batch.column("case_id"), pa.string()), "hospital_id": hospital, "year": year,
                    **{f"expected_{o}": pa.array(exp[o]) for o in exp}})
    keep = uniform(k["row"], p.seed + 2) < eval_rate
    return (out, _hospital_sums(included(batch), hospital, year, y, exp, list(raw)),
            {**{o: y[o][keep] for o in raw}, **{f"p_{o}": raw[o][keep] for o in raw}})


def predictions(columns, p, encoder, models: dict, steps: dict, out_path: str, eval_rate: float):
    """Pass 3: predict every case with its own fold's model, calibrated by ``steps``; write the cases file (canonical
    names) in input order; sum observed and expected per hospital and year over the grouped cases; keep the
    held-out predictions of a fixed random subset for the report. Returns (sums, held)."""
    import functools

    import pyarrow.parquet as pq

    held, sums, state = [], [], {"writer": None}

    def merge(part):
        out, s, h = part
        state["writer"] = state["writer"] or pq.ParquetWriter(out_path, out.schema)
        state["writer"].write_table(out)
        sums.append(s)
        held.append(h)

    try:
        yield Pass(columns, functools.partial(_predict_batch, p=p, encoder=encoder, models=models, steps=steps,
                                              eval_rate=eval_rate), merge, offsets=True, max_threads=2)
    finally:
        if state["writer"] is not None:
            state["writer"].close()
    per = pd.concat(sums).groupby(level=["hospital_id", "year"], sort=True, dropna=False).sum()
    return per, {n: np.concatenate([h[n] for h in held]) for n in held[0]}


def _hospital_sums(grouped: np.ndarray, hospital, year, y: dict, exp: dict, outcomes: list) -> pd.DataFrame:
    """Per hospital and year, over the grouped cases: cases, and per outcome the observed and expected sums
    and the cases without an outcome or a prediction (dropped)."""
    d = {"hospital_id": hospital.to_numpy(zero_copy_only=False)[grouped],
         "year": year.to_numpy(zero_copy_only=False)[grouped], "cases": np.ones(int(grouped.sum()), np.int64)}
    for o in outcomes:
        ok = ~np.isnan(y[o]) & ~np.isnan(exp[o])
        d[f"{o}_dropped"] = (~ok)[grouped].astype(np.int64)
        d[f"{o}_observed"] = np.where(ok, y[o], 0.0)[grouped]
        d[f"{o}_expected"] = np.where(ok, exp[o], 0.0)[grouped]
    return pd.DataFrame(d).groupby(["hospital_id", "year"], sort=True, dropna=False).sum()


MIN_EVENTS = 200  # deaths (and survivors) a death model needs in its fitting sample; cases for LOS and cost: 50x


def enough_events(sample: dict, outcomes: list, folds: int, lang: str = "en") -> tuple[list, dict]:
    """(outcomes with enough data to fit, {outcome: why not} for the others): a death model needs
    ``MIN_EVENTS`` deaths and survivors, a LOS or cost model 50 times as many valid cases, so that each
    fold's model (fitted on (folds-1)/folds of them) rests on enough events for its ~110 columns."""
    fitted, skipped = [], {}
    for o in outcomes:
        y = sample[o][~np.isnan(sample[o])]
        if o == "death":
            deaths = int(y.sum())
            if min(deaths, len(y) - deaths) < MIN_EVENTS:
                skipped[o] = (f"死亡：{len(y):,}例中死亡{deaths:,}例，死亡与存活各需至少{MIN_EVENTS}例" if lang == "zh" else
                              f"death: {deaths:,} deaths among {len(y):,} cases, at least {MIN_EVENTS} of each are needed")
                continue
        elif len(y) < 50 * MIN_EVENTS:
            skipped[o] = (f"{ {'los': '住院日', 'cost': '费用'}.get(o, o)}：有效病例{len(y):,}例，至少需要{50 * MIN_EVENTS:,}例"
                          if lang == "zh" else f"{o}: {len(y):,} valid cases, at least {50 * MIN_EVENTS:,} are needed")
            continue
        fitted.append(o)
    return fitted, skipped


def risk_to(grouped: str, output: str, *, outcomes=("death", "los", "cost"), hospitals: str | None = None,
            scheme_path: str | None = None, folds: int = 5, folds_by: str = "case", sample: int = 250_000, seed: int = 0,
            overdispersion="auto", peer: str = "level", min_cases: int = 100, batch_size: int = 1_000_000,
            lang: str = "zh", columns: str | None = None, dask: str | None = None) -> dict:
    """`drg risk`: cases.parquet (expected death, LOS, cost per case), hospital and hospital_year tables
    (observed, expected, O/E with CI and funnel flags, LOS and cost O/E), model and calibration tables; three passes
    (:func:`risk_analysis`) run by :func:`drg.driver.run`, on a Dask cluster with ``dask``."""
    from .contract import load_mapping, note_year_source, read_plan
    from .driver import run
    from .tables import output_folder

    folder = output_folder(output, [grouped, hospitals], "risk")
    mapping = load_mapping(columns)
    note_year_source(grouped, ["year"], mapping, lang)  # said once, before the work
    columns = _check_columns(grouped, list(read_plan(grouped, RISK_COLUMNS, mapping)[1].values()), list(outcomes))
    p = _Pass(folds, folds_by == "hospital", seed, code_lookup(scheme_path))
    with folder as out:
        return run(risk_analysis(grouped, out, columns, p, list(outcomes), hospitals, folds, folds_by, sample, seed,
                                 overdispersion, peer, min_cases, lang), grouped, mapping, batch_size, dask)


def risk_analysis(grouped, out, columns, p, outcomes, hospitals, folds, folds_by, sample, seed, overdispersion, peer,
                  min_cases, lang):
    """The fitting sample (passes 1 and 2), the cross-fitted models and their calibration (plan), every case
    predicted and written (pass 3), then the hospital and model tables written into ``out``."""
    from evaluation.risk import Encoder, fit_cross_fitted, predict_cross_fitted, region_calibration
    from evaluation.risk.tables import hospital_tables, model_tables

    from . import progress
    from .regions import hospitals_table
    from .tables import write_tables

    encoder = Encoder(folds)
    fit_sample, n_rows = yield from fitting_sample(grouped, columns, p, encoder, sample)
    fitted, skipped = enough_events(fit_sample, outcomes, folds, lang)  # the why goes into the model table
    if not fitted:  # one line in the command's language
        if lang == "zh":
            raise TooFewCases(f"{grouped}：病例太少，无法拟合风险模型({'；'.join(skipped.values())}); 请合并更多年度或医院的"
                              "数据，或使用 drg evaluate 按DRG死亡率计算的期望死亡")
        raise TooFewCases(f"{grouped}: too few cases to fit a risk model ({'; '.join(skipped.values())}); "
                          "pool more years or hospitals, or use drg evaluate's DRG-based expected deaths")
    progress.phase(progress.word("fit"))
    models = {o: fit_cross_fitted(fit_sample, encoder, o, folds, seed) for o in fitted}
    # the calibration step from the sample's own cross-fitted predictions (each by the model of its fold),
    # weighted back to the population: no pass over the data for it
    oof = predict_cross_fitted(models, fit_sample["X"], fit_sample["drg"], fit_sample["adrg"], fit_sample["fold"], encoder)
    steps = {o: region_calibration(o, fit_sample[o], oof[o], fit_sample["weight"]) for o in fitted}
    eval_rate = min(1.0, EVAL_ROWS / max(n_rows, 1))
    per, held = yield from predictions(columns, p, encoder, models, steps, os.path.join(out, "cases.parquet"),
                                       eval_rate)
    progress.phase(progress.word("tables"))
    table = hospitals_table(hospitals, per.index.get_level_values(0).unique())
    tables = hospital_tables(per, table, fitted, overdispersion=overdispersion, peer=peer, min_cases=min_cases)
    tables.update(model_tables(held, fitted, fit_sample, n_rows, folds, folds_by, steps, skipped))
    write_tables(tables, out, lang, "risk")
    return tables


def risk_summary(tables: dict, output: str, lang: str = "zh") -> str:
    """What `drg risk` prints (in ``lang``): the models' quality and the hospitals outside the 99.8% funnel."""
    from .terminal import clean

    zh = lang == "zh"
    m = tables["model"].set_index("outcome")
    ok = m[m["status"] == "ok"]
    parts = []
    if "death" in ok.index:
        c, slope = ok.loc["death", "c_statistic"], ok.loc["death", "calibration_slope"]
        parts.append(f"死亡模型C统计量 {c:.3f}，校准斜率 {slope:.2f}" if zh else f"death c-statistic {c:.3f}, calibration slope {slope:.2f}")
    names = {"los": "住院日", "cost": "费用", "death": "死亡"}
    parts += [f"{names[o] if zh else o} R² {ok.loc[o, 'r2']:.2f}" for o in ("los", "cost") if o in ok.index]
    warnings = []
    if "death" in ok.index:  # a model that ranks no better than chance, or whose spread is wrong, adjusts nothing
        c, slope = float(ok.loc["death", "c_statistic"]), float(ok.loc["death", "calibration_slope"])
        if not (c >= USEFUL_C and USEFUL_SLOPE[0] <= slope <= USEFUL_SLOPE[1]):
            warnings.append(f"警告：死亡模型不可用于风险调整(C统计量 {c:.3f}，应至少 {USEFUL_C}；校准斜率 {slope:.2f}，应在 "
                            f"{USEFUL_SLOPE[0]}–{USEFUL_SLOPE[1]} 之间)；其期望死亡与按DRG的期望相比没有改进，请勿用 "
                            "--risk-model 评价医院" if zh else
                            f"warning: the death model is not fit for risk adjustment (c-statistic {c:.3f}, at least "
                            f"{USEFUL_C} is needed; calibration slope {slope:.2f}, {USEFUL_SLOPE[0]}-{USEFUL_SLOPE[1]} "
                            "is needed); do not judge hospitals with it (--risk-model)")
    for o in ("los", "cost"):
        if o in ok.index and float(ok.loc[o, "r2"]) < USEFUL_R2:
            warnings.append(f"警告：{names[o]}模型几乎不能解释差异(R² {float(ok.loc[o, 'r2']):.2f})" if zh else
                            f"warning: the {o} model explains almost nothing (R² {float(ok.loc[o, 'r2']):.2f})")
    parts += [(f"无{names.get(o, o)}模型：{m.loc[o, 'note']}" if zh else f"no {o} model: {m.loc[o, 'note']}")
              for o in m.index if m.loc[o, "status"] != "ok"]
    n = int(m["cases"].iloc[0])
    lines = [f"风险模型：{n:,}例({'；'.join(parts)}) -> {output}/" if zh else f"risk models on {n:,} cases ({'; '.join(parts)}) -> {output}/"]
    h = tables["hospital"]
    if "funnel_flag" in h.columns:
        out = h[h["funnel_flag"].isin(["alarm_high", "alarm_low"])]
        if len(out):
            lines.append(("经患者层面调整后超出99.8%控制限：" if zh else "outside the 99.8% funnel after patient-level adjustment: ")
                         + ", ".join(f"{clean(r.hospital_id, 40)} (O/E {r.oe_ratio:.2f})" for r in out.itertuples()))
    return "\n".join(lines + warnings)


class RiskRows:
    """A ``drg risk`` folder's expected deaths, read row by row beside the grouped file it was made from: each batch gets
    its cases' ``expected_death`` (the rows at the same positions of cases.parquet, case ids checked), so a model's
    expectations join a file of any size in the batch's memory, on threads or Dask workers (it holds only paths)."""

    def __init__(self, folder: str, grouped_rows: int | None = None):
        import pyarrow.parquet as pq

        from evaluation.words import INVERSE_LABELS

        self.folder, self.path = folder, os.path.join(folder, "cases.parquet")
        if not os.path.exists(self.path):
            raise InputError(f"--risk-model {folder}: no cases.parquet there; pass the output folder of drg risk")
        meta = pq.ParquetFile(self.path).metadata
        names = {INVERSE_LABELS.get(n, n): n for n in meta.schema.to_arrow_schema().names}
        self.id_col, self.p_col = names.get("case_id"), names.get("expected_death")
        if self.p_col is None or _all_null(meta, self.p_col):
            raise InputError(f"--risk-model {folder}: the model has no expected deaths; run drg risk with --outcomes death")
        self.starts = np.cumsum([0] + [meta.row_group(i).num_rows for i in range(meta.num_row_groups)])
        if grouped_rows is not None and grouped_rows != self.starts[-1]:
            missing = abs(grouped_rows - int(self.starts[-1]))
            raise InputError(f"--risk-model {folder}: {missing:,} cases of the grouped file have no expectation there; "
                             "run drg risk on the same grouped file")

    def __call__(self, batch: pa.Table, offset: int) -> pa.Table:
        import pyarrow.parquet as pq

        if "case_id" not in batch.column_names:
            raise InputError("--risk-model needs case_id in the grouped records to match the model's cases")
        n = batch.num_rows
        if offset + n > self.starts[-1]:
            missing = offset + n - int(self.starts[-1])
            raise InputError(f"--risk-model {self.folder}: {missing:,} cases of the grouped file have no expectation there; "
                             "run drg risk on the same grouped file")
        lo = int(np.searchsorted(self.starts, offset, side="right")) - 1
        hi = int(np.searchsorted(self.starts, offset + n, side="left"))
        t = pq.ParquetFile(self.path).read_row_groups(list(range(lo, max(hi, lo + 1))), columns=[self.id_col, self.p_col])
        t = t.slice(offset - int(self.starts[lo]), n)
        ids, theirs = (pc.fill_null(pc.cast(c, pa.string()), "\x00") for c in (batch.column("case_id"), t.column(self.id_col)))
        if n and not pc.all(pc.equal(ids, theirs)).as_py():
            raise InputError(f"--risk-model {self.folder}: its cases are not those of the grouped file, row by row; run drg "
                             "risk on the same grouped file")
        return batch.append_column("expected_death", pc.cast(t.column(self.p_col), pa.float64()))


def _all_null(meta, column: str) -> bool:
    """Whether every value of a Parquet column is null (from the row groups' statistics; False where they are not kept)."""
    at = meta.schema.to_arrow_schema().get_field_index(column)
    for i in range(meta.num_row_groups):
        st = meta.row_group(i).column(at).statistics
        if st is None or not st.has_null_count or st.null_count < meta.row_group(i).num_rows:
            return False
    return meta.num_row_groups > 0


def risk_model_tables(folder: str) -> dict:
    """The model and calibration tables of a ``drg risk`` folder (shown beside the evaluation they adjust)."""
    import pyarrow.parquet as pq

    from evaluation.words import unlabel

    tables = {}
    for name in ("model", "calibration"):
        p = os.path.join(folder, f"{name}.parquet")
        if os.path.exists(p):
            tables[f"risk_{name}"] = unlabel(pq.read_table(p).to_pandas())
    return tables
