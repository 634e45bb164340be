"""`drg pay`: settle every year of a grouped file under the payment rules (evaluation.payment).

The command streams: :func:`pay_streamed` makes three passes over the batches (evaluation.payment.batches),
with the year's budget, the previous year's volume for the sheet's volume basis, the special-review list,
self-pay amounts and discharge months when the data have them. :func:`case_frame` and :func:`settle_years`
settle the cases of a DataFrame in memory: the per-case reference the streamed passes are tested against
(tests/test_pay_streamed.py), and the library path for small tables.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa

from evaluation.analysis import Pass

PAY_COLUMNS = ["case_id", "hospital_id", "drg", "status", "mdc", "adrg", "total_cost", "los_days", "leaving_type", "year",
               "level", "discharge_date", "dept"]

from .contract import ALIASES

# the patients' share of a case (医保结算清单 exports; drg.contract renames them to self_pay on reading)
SELF_PAY_ALIASES = ALIASES["self_pay"]


def case_frame(data: pd.DataFrame, hospitals: pd.DataFrame | None) -> pd.DataFrame:
    """The evaluation frame of every case, with ``case_id``, ``level``, and ``self_pay``/``month`` when present."""
    from evaluation.common import attach_levels, prepare

    cases = attach_levels(prepare(data), hospitals)
    cases["case_id"] = data["case_id"] if "case_id" in data.columns else pd.Series(np.arange(len(data)), index=data.index)
    sp = next((c for c in SELF_PAY_ALIASES if c in data.columns), None)
    if sp is not None:
        from evaluation.payment import usable_self_pay

        cases["self_pay"] = usable_self_pay(pd.to_numeric(data[sp], errors="coerce").astype(float))  # unusable: none
    if "discharge_date" in data.columns:
        cases["month"] = pd.to_datetime(data["discharge_date"], errors="coerce").dt.month.astype(float)
    return cases


def settle_years(cases: pd.DataFrame, weights: pd.DataFrame, budgets: dict, cfg, *, special_review=None,
                 variants: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Settle each year of ``cases`` with ``budgets[year]`` (or ``budgets[None]`` for all years).

    Returns the per-case table and ``{settlement, parameters, monthly, drg_profit_loss[, scenarios]}``."""
    from evaluation.common import EvaluationError
    from evaluation.payment import Period, drg_profit_loss, scenarios, simulate

    years = sorted(cases["year"].dropna().unique().astype(int)) if "year" in cases.columns else [None]
    parts: dict = {"cases": [], "settlement": [], "parameters": [], "monthly": [], "drg_profit_loss": [], "scenarios": []}
    prior = None
    for y in years:
        sub = cases if y is None else cases[cases["year"] == y]
        budget = budgets.get(y, budgets.get(None))
        if budget is None:
            raise EvaluationError(f"--budget has no amount for year {y}; give one for every year or a single amount")
        period = Period(budget=budget, prior=prior, special_review=special_review,
                        self_pay=sub["self_pay"].to_numpy() if "self_pay" in sub.columns else None,
                        month=sub["month"].to_numpy() if "month" in sub.columns else None)
        pc, st, par = simulate(sub, weights, period, cfg)
        monthly = par.pop("_monthly", None)
        tables = {"cases": pc, "settlement": st, "drg_profit_loss": drg_profit_loss(pc), "monthly": monthly}
        if variants:  # a variant's budget per year ({year: yuan}) or for every year
            of_year = {n: (b.get(y, b.get(None)) if isinstance(b, dict) else b, c) for n, (b, c) in variants.items()}
            tables["scenarios"] = scenarios(sub, weights, period, cfg, of_year)
        for name, t in tables.items():
            if t is not None:
                t.insert(0, "year", y)
                parts[name].append(t)
        row = {"year": y, **par, "cases_cost_unusable": int(sub["cost"].isna().sum()),
               "cases_los_unusable": int(sub["los"].isna().sum())}
        if cfg.method == "rate" and cfg.rate_basis == "volume":
            row["volume_basis"] = "prior_year" if prior is not None else "this_year"
        parts["parameters"].append(row)
        prior = sub
    if "year" in cases.columns and cases["year"].isna().any():
        parts["cases"].append(_unsettled(cases[cases["year"].isna()], weights, cfg, parts["cases"]))
    per_case = pd.concat(parts.pop("cases"), ignore_index=True)
    out = {"settlement": pd.concat(parts["settlement"], ignore_index=True), "parameters": pd.DataFrame(parts["parameters"])}
    for name in ("monthly", "drg_profit_loss", "scenarios"):
        if parts[name]:
            out[name] = pd.concat(parts[name], ignore_index=True)
    return per_case, out


def _unsettled(cases: pd.DataFrame, weights: pd.DataFrame, cfg, settled: list) -> pd.DataFrame:
    """The per-case rows of cases without a readable year: in no year's budget, so class ``no_year``, paid 0 (every
    input case appears once in the per-case table), with their weight and coefficients as a settled case has."""
    from evaluation.payment import CLASSES, NO_YEAR, coefficients, to_fen

    level_k, quality = coefficients(cases, cfg)
    n = len(cases)
    cost = cases["cost"].to_numpy(float)
    out = pd.DataFrame({
        "year": pd.array([pd.NA] * n, dtype="Int64"),
        "case_id": cases["case_id"].to_numpy() if "case_id" in cases.columns else np.arange(n),
        "hospital_id": cases["hospital_id"].to_numpy(), "level": cases["level"].astype(str).to_numpy(),
        "drg": cases["drg"].to_numpy(),
        "rw": cases["drg"].map(dict(zip(weights["drg"], weights["rw"].astype(float)))).astype(float).to_numpy(),
        "coefficient": level_k, "quality_factor": quality,
        "payment_class": pd.Categorical.from_codes(np.full(n, NO_YEAR), CLASSES), "total_cost": cost,
        "points": np.full(n, np.nan), "payment_fen": np.zeros(n, np.int64), "payment": np.zeros(n),
        "cost_fen": to_fen(cost), "cost_usable": np.isfinite(cost), "special_review_over_cap": np.zeros(n, bool)})
    if "dept" in cases.columns:
        out["dept"] = cases["dept"].to_numpy()
    if "self_pay" in cases.columns:
        out["self_pay_fen"] = to_fen(cases["self_pay"].to_numpy(float))
        out["fund_payment_fen"] = np.zeros(n, np.int64)
    if "month" in cases.columns:
        out["month"] = cases["month"].to_numpy(float)
    columns = list(settled[0].columns) if settled else list(out.columns)
    return out[[c for c in columns if c in out.columns]]


WORKBOOK_PROFIT_LOSS_ROWS = 10_000


def payment_workbook(tables: dict) -> dict:
    """The tables for payment.xlsx: all of them, except that the per-DRG profit and loss (hospitals ×
    DRGs × years: millions of cells at province scale, minutes to write) is the latest year's, the
    largest losses first, at most 10,000 rows, and the monthly advances (hospitals × months × years: past
    Excel's million rows at national scale) the latest year's, by hospital and month, at most as many;
    the Parquet files hold every row."""
    out = dict(tables)
    for name, order in (("drg_profit_loss", ["balance_fen", "hospital_id", "drg"]), ("monthly", ["hospital_id", "month"])):
        t = tables.get(name)
        if t is not None and len(t) > WORKBOOK_PROFIT_LOSS_ROWS:
            last = t[t["year"] == t["year"].max()] if "year" in t.columns and t["year"].notna().any() else t
            out[name] = last.sort_values(order).head(WORKBOOK_PROFIT_LOSS_ROWS)
    return out


def payment_config(config: str | None, method: str | None = None, rate_basis: str | None = None):
    """The payment rules: ``--config`` TOML ([payment]) or the defaults, with ``--method`` / ``--rate-basis``
    applied; one line naming the problem when the file is missing or a value is wrong."""
    import os

    from evaluation.common import EvaluationError
    from evaluation.payment import PaymentConfig

    from .io import InputError

    if config and not os.path.exists(config):
        raise InputError(f"--config {config}: no such file; check the path")
    try:
        cfg = PaymentConfig.from_toml(config) if config else PaymentConfig()
        if method:
            cfg.method = method
        if rate_basis:
            cfg.rate_basis = rate_basis
        cfg.check()
    except (EvaluationError, TypeError, ValueError) as e:
        raise InputError(f"--config {config}: {e}") from None
    return cfg


# -- streamed: drg pay in three passes (evaluation.payment.batches) ----------------------------------------
def _reduce_first(t, offset, hospitals, listed):
    from evaluation.payment.batches import first_pass

    return first_pass(t, offset, hospitals, listed)


def _reduce_second(t, offset, plan):
    from evaluation.payment.batches import second_pass

    return second_pass(t, offset, plan)


def _reduce_third(t, offset, plan):
    """Pass 3 of one batch, its per-case table in Arrow, canonical names and codes (on the worker, with a cluster)."""
    from evaluation.payment.batches import third_pass

    part = third_pass(t, offset, plan)
    table = pa.Table.from_pandas(part.cases, preserve_index=False).replace_schema_metadata(None)
    table = _plain_dictionaries(table)
    ids = t.column("case_id") if "case_id" in t.column_names else pa.array(np.arange(offset, offset + t.num_rows))
    if pa.types.is_dictionary(ids.type):
        ids = ids.dictionary_decode() if isinstance(ids, pa.Array) else pa.chunked_array([c.dictionary_decode() for c in ids.chunks])
    part.cases = table.add_column(1, "case_id", ids)
    return part


def _plain_dictionaries(table):
    """Dictionary columns with int32 indices and text values, whatever the batch's categories (one schema for
    every batch of the per-case file)."""
    target = pa.dictionary(pa.int32(), pa.string())
    cols = [c.cast(target) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    return pa.table(cols, names=table.column_names)


def pay_streamed(grouped: str, out_dir: str, budgets: dict, cfg, *, hospitals=None, supplied=None, special=None,
                 variants: dict | None = None, lang: str = "zh", mapping=None, batch_size: int = 1_000_000,
                 dask: str | None = None, hospitals_arg: str | None = None) -> tuple[dict, dict]:
    """`drg pay` in three passes over the grouped file (:mod:`evaluation.payment.batches`, :func:`pay_analysis`) run by
    :func:`drg.driver.run`: writes ``cases.parquet`` into ``out_dir`` batch by batch and returns (the tables,
    {"cases": settled cases, "no_year": cases without a readable year (in no year's budget: not settled),
    "cost_unusable": n}). Memory follows the batch, the hospitals and DRGs, and a spill file of 10 bytes a case on disk
    (point method). ``hospitals``: a hospitals table; else ``hospitals_arg`` (--hospitals) or the built-in network
    (:func:`drg.region_of.run_in_region`)."""
    from .driver import run
    from .region_of import run_in_region

    def analysis(table):
        return pay_analysis(grouped, mapping, out_dir, budgets, cfg, table, supplied, special, variants, lang)

    if hospitals_arg is not None or hospitals is None:  # a --hospitals argument, or the built-in network if it applies
        return run_in_region(analysis, grouped, mapping, batch_size, dask, hospitals_arg)
    return run(analysis(hospitals), grouped, mapping, batch_size, dask)


def pay_analysis(grouped, mapping, out_dir, budgets, cfg, hospitals, supplied, special, variants, lang):
    """Pass 1: the cells that make the weights and the plan; pass 2: the rates' sums and each case's points (spilled);
    the exact shares of each budget from the spill (ties by case id: one more pass over case_id where any tie is
    left); pass 3: each case settled and written. Returns (tables, counts) as :func:`pay_streamed`."""
    import functools
    import tempfile

    from evaluation.payment import scenario_runs
    from evaluation.payment.batches import FirstPass, Run, plan_from_first
    from evaluation.payment.totals import finish

    from .streamed import release_freed_memory

    listed = None if special is None else [str(c) for c in special]
    # each pass reads only what it uses (case ids are the costliest column to read)
    priced = ["hospital_id", "drg", "status", "total_cost", "los_days", "leaving_type", "year", "level"]
    first_cols = priced + ["mdc", "adrg"] + (["case_id"] if listed else [])
    wanted = [c for c in PAY_COLUMNS + ["self_pay"] if c not in ("mdc", "adrg")]
    first = FirstPass(hospitals)
    yield Pass(first_cols, functools.partial(_reduce_first, hospitals=hospitals, listed=listed), first.merge, offsets=True)
    # a variant's budget: yuan for every year, {year: yuan}, or None (the base's)
    runs = [Run(name, c, dict(b) if isinstance(b, dict) else {None: float(b)} if b is not None else dict(budgets))
            for name, (b, c) in scenario_runs(None, cfg, variants or {}).items()]
    plan, _ = plan_from_first(first, hospitals, runs, supplied, listed)
    first.cells.costs.clear()  # the weights are made: each case's cost and stay (12 bytes a case) are not needed again
    release_freed_memory()

    # the spill lives inside the command's temporary output folder: a killed run's is removed with it by the next run
    with tempfile.TemporaryDirectory(prefix=".drg-pay-", dir=out_dir) as spill_dir:
        params = yield from _rates_and_shares(grouped, mapping, priced, plan, runs, spill_dir)
        totals = yield from _write_cases(wanted, plan, runs, out_dir)
    tables = finish(plan, params, totals, first)
    settled = int(first.per_year["cases"].sum()) if plan.years != [None] else first.cells.rows
    return tables, {"cases": settled, "no_year": first.cells.rows - settled,
                    "cost_unusable": int(tables["parameters"]["cases_cost_unusable"].sum())}


def _rates_and_shares(grouped, mapping, priced, plan, runs, spill_dir):
    """The second pass (sums for the rates; each case's points and year spilled to ``spill_dir``), then each run's
    exact shares of its budget from the spill and the ties resolved by case id. Returns the rates' parameters."""
    import functools

    from evaluation.payment.batches import denominators_from_spill, merge_second, rates_from_second, shares_budget
    from evaluation.payment.remainders import resolve_ties, select_remainders, tied_rows

    spills = [os.path.join(spill_dir, f"points{r}.f8") for r in range(len(runs))]
    year_file = os.path.join(spill_dir, "year.i2")
    state = {"sums": None}
    with open(year_file, "wb") as yf:
        files = [open(p, "wb") if shares_budget(run.cfg) else None for p, run in zip(spills, runs)]
        try:
            def merge2(part):
                sums, year, points = part
                state["sums"] = merge_second(state["sums"], sums)
                year.tofile(yf)
                for f, p in zip(files, points):
                    if f is not None:
                        p.tofile(f)

            yield Pass(priced, functools.partial(_reduce_second, plan=plan), merge2, offsets=True)
        finally:
            for f in files:
                if f is not None:
                    f.close()
    params = rates_from_second(plan, state["sums"] or [{} for _ in runs])
    for r, run in enumerate(runs):
        if run.cfg.method == "points":
            select_remainders(run, plan.years, functools.partial(_spilled, year_file, spills[r]))
        elif shares_budget(run.cfg):  # the balanced rate: shares a·r + b, their exact totals, then the same
            chunks = functools.partial(_spilled, year_file, spills[r], run=run, n_years=len(plan.years))
            denominators_from_spill(run, plan.years, chunks)
            select_remainders(run, plan.years, chunks)
    need = tied_rows(runs)
    ids = (yield from _case_ids_at(grouped, mapping, need)) if len(need) else {}
    for run in runs:
        resolve_ties(run, lambda rows: [ids[int(r)] for r in rows])
    return params


def _write_cases(wanted, plan, runs, out_dir):
    """The third pass: each case settled and written to ``out_dir``/cases.parquet (atomically: all or nothing), the
    next batch computed while one is written. Returns the totals."""
    import concurrent.futures
    import functools

    from evaluation.payment.totals import Totals

    from .io import AtomicWriter

    totals = Totals(len(runs))
    # a Parquet dictionary for the columns of few values only: for amounts and ids it is built and dropped
    writer = AtomicWriter(os.path.join(out_dir, "cases.parquet"), dictionary=list(FEW_VALUES))
    pending = []  # the batch being written while the next is computed (the write releases the GIL)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        try:
            def merge3(part):
                while pending:
                    pending.pop().result()
                pending.append(pool.submit(writer.write, part.cases))
                part.cases = None
                totals.add(part)

            # each result holds its batch's per-case table: two at a time keep memory near one batch's worth
            yield Pass(wanted, functools.partial(_reduce_third, plan=plan), merge3, offsets=True, max_threads=2)
            while pending:
                pending.pop().result()
            writer.commit()
        except BaseException:
            for f in pending:
                f.cancel()
            concurrent.futures.wait(pending)
            writer.abort()
            raise
    return totals


# the per-case table's columns of few distinct values (the rest: case ids and amounts, nearly one value per case)
FEW_VALUES = ["year", "hospital_id", "level", "drg", "rw", "coefficient", "quality_factor", "payment_class", "cost_usable",
              "special_review_over_cap", "dept", "month"]


def _spilled(year_file: str, points_file: str, chunk: int = 1 << 22, *, run=None, n_years: int = 0):
    """(first row, year indices, shares) of the spill files, ``chunk`` rows at a time (read, not mapped: a mapped
    file's pages would count in the process's memory): the points, or with ``run`` the rate method's ``a·r + b``
    from its spilled ``a, b`` pairs."""
    from evaluation.payment.batches import shares_from_spill

    with open(year_file, "rb") as yf, open(points_file, "rb") as pf:
        lo = 0
        while True:
            year = np.fromfile(yf, dtype=np.int16, count=chunk)
            if not len(year):
                return
            if run is None:
                yield lo, year, np.fromfile(pf, dtype=np.float64, count=len(year))
            else:
                pairs = np.fromfile(pf, dtype=np.float64, count=2 * len(year))
                yield lo, year, shares_from_spill(pairs, year.astype(np.int64), run, n_years)
            lo += len(year)


def _ids_at(b, offset, rows):
    """{row: case id as text} of the ``rows`` (sorted) that fall in the batch starting at ``offset``."""
    from evaluation.payment.batches import batch_case_ids

    lo, hi = np.searchsorted(rows, [offset, offset + b.num_rows])
    if hi <= lo:
        return {}
    ids = batch_case_ids(b, offset)
    return {int(r): ids[int(r) - offset].as_py() for r in rows[lo:hi]}


def _case_ids_at(grouped: str, mapping, rows: np.ndarray):
    """A pass returning {row: case id as text} of the given rows (sorted), read from the case_id column alone (the row
    numbers stand for the ids of a file without them)."""
    import functools

    from .contract import read_plan

    if not read_plan(grouped, ["case_id"], mapping)[0]:
        return {int(r): str(int(r)) for r in rows}
    out: dict = {}
    yield Pass(["case_id"], functools.partial(_ids_at, rows=rows), out.update, offsets=True)
    return out
