"""The analysis commands that stream: `drg evaluate` (hospital, MDC, ADRG and period tables), `drg support` (the
DRG-partition proxy) and `drg tiered-care` (receivers named or not linkable). Each is one reduce per batch and one
merge in input order (:func:`stream`): locally over batches read ahead in a thread, or on a Dask cluster whose
workers reduce their own parts (:func:`drg.cluster.reduce_dask`); the driver merges the same per-batch results in
the same order, so both give the same bytes. Memory follows the batch and the number of cells, not the rows."""

from __future__ import annotations

import functools

import pandas as pd

from .io import InputError
from .regions import hospitals_table
from .tables import only_hospitals

HOSPITAL = {"hospital_id": "which hospital treated the case (定点医疗机构代码)"}
DRG = {"drg": "the case's DRG: run drg group on the records first"}
EVALUATED_BY = ("hospital", "hospital-mdc", "hospital-adrg")
REDUCE_THREADS: int | None = None  # threads that reduce batches; None: one per core, at most 4
TEXT_CODES = ("hospital_id", "residence_county")  # few distinct values: read as codes
SUPPORT_COLUMNS = ["hospital_id", "drg", "status", "mdc", "adrg", "total_cost", "los_days", "leaving_type", "year"]
TIERED_COLUMNS = SUPPORT_COLUMNS + ["residence_county", "drug_cost", "consumables_cost", "exam_cost", "receiving_institution"]


def stream(grouped: str, wanted: list, mapping, batch_size: int, dask: str | None, reduce_batch, merge,
           offsets: bool = False, max_threads: int | None = None, dictionary: tuple = ()) -> None:
    """``merge(reduce_batch(batch))`` for every batch of the ``wanted`` columns, in input order; with ``offsets``,
    ``reduce_batch(batch, offset)`` (the batch's first row in the input). Columns named in ``dictionary`` are read
    dictionary-encoded (:func:`drg.contract.dictionary_columns`), locally and on a cluster alike.

    Locally the batches are reduced a few at a time (one thread per core, at most 4, or :data:`REDUCE_THREADS`;
    never more than ``max_threads``), read ahead in one more thread, and merged in input order as they finish: a
    reduce is a pure function of its batch (it also runs on Dask workers), NumPy and Arrow release the GIL inside
    their loops, and the merge sees the same results in the same order as one thread would, so the output is the
    same bytes. Memory: a batch per thread in the reduce (their results merged as soon as they are next in order),
    one read ahead and one being read."""
    if batch_size < 1:
        raise InputError(f"--batch-size {batch_size}: must be a positive number of rows")
    if dask:
        from .cluster import reduce_dask

        reduce_dask(grouped, wanted, mapping, batch_size, dask, reduce_batch, merge, offsets, dictionary)
        return
    import collections
    import concurrent.futures
    import os

    from .batch import prefetch
    from .contract import batches

    threads = REDUCE_THREADS or max(1, min(4, os.cpu_count() or 1))
    threads = min(threads, max_threads) if max_threads else threads
    offset = 0
    pending: collections.deque = collections.deque()
    with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="drg-reduce") as pool:
        try:
            for b in prefetch(batches(grouped, wanted, mapping, batch_size, dictionary)):  # reading overlaps the reduce
                pending.append(pool.submit(reduce_batch, b, offset) if offsets else pool.submit(reduce_batch, b))
                offset += b.num_rows
                del b
                while len(pending) >= threads or (pending and pending[0].done()):
                    merge(pending.popleft().result())
            while pending:
                merge(pending.popleft().result())
        except BaseException:
            for f in pending:
                f.cancel()
            raise


def release_freed_memory() -> None:
    """Hand memory freed by the process back to the system (glibc's ``malloc_trim``; elsewhere nothing). Many small
    arrays freed together (a DRG's costs per batch) leave holes in the heap that the allocator keeps: without this,
    pay's later passes ran on top of the first pass's 12 bytes a case, freed but still resident."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def check_columns(grouped: str, wanted: list, mapping, command: str) -> None:
    from .contract import read_plan, require

    cols, rename = read_plan(grouped, wanted, mapping)
    require(grouped, [rename[c] for c in cols], {**HOSPITAL, **DRG}, command)


def hospital_ids_of(grouped: str, mapping: dict | None) -> list:
    """The distinct hospital ids of a grouped file, read column by column in batches."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .contract import batches

    ids = set()
    for b in batches(grouped, ["hospital_id"], mapping):
        if "hospital_id" in b.column_names:
            col = b.column("hospital_id")
            u = pc.unique(col.dictionary_decode() if pa.types.is_dictionary(col.type) else col)
            ids.update(v for v in u.to_pylist() if v is not None)
    return sorted(map(str, ids))


def region_table(hospitals: str | None, ids, command: str) -> pd.DataFrame:
    """The hospitals table with each hospital's level (and county when known: a table without one gets an empty
    county column, and nothing is computed by county), or one line saying how to give it."""
    table = hospitals_table(hospitals, ids)
    if table is None:
        raise InputError(f"drg {command} needs each hospital's level, and the hospitals of the file are in no built-in "
                         "network; pass --hospitals CSV (hospital_id, level[, county]) or a region folder")
    if "county" not in table.columns:
        table = table.assign(county=None)
    return table


def region_frame(data: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The evaluation frame of grouped records with level, kind, year (0 when the file has none) and residence."""
    from evaluation.common import attach_levels, prepare

    cases = attach_levels(prepare(data), table)
    if "year" not in cases.columns:
        cases["year"] = 0
    cases["residence_county"] = data["residence_county"] if "residence_county" in data.columns else None
    return cases


# -- evaluate ------------------------------------------------------------------------------------------
def _cells_of(batch, table, cc_args, keep):
    from evaluation.cells import CaseCells

    return CaseCells(table, **cc_args).of_batch(only_hospitals(batch, keep))


def evaluate_streamed(grouped, wanted, mapping, hospitals, hospital_ids, supplied, fixed_levels, batch_size, dask,
                      options) -> dict:
    """`drg evaluate`'s tables from one pass (:mod:`evaluation.cells`, :mod:`evaluation.streamed`)."""
    from evaluation.cells import CaseCells
    from evaluation.common import EvaluationError
    from evaluation.streamed import evaluate_cells

    check_columns(grouped, wanted, mapping, "evaluate")
    table = hospitals_table(hospitals, None if hospitals else hospital_ids_of(grouped, mapping))
    keep = set(hospital_ids) if hospital_ids else None
    opts = dict(options)
    cc_args = dict(years=opts.pop("years", None), levels=opts.pop("levels", None), period=opts.pop("period", None))
    try:
        cc = CaseCells(table, **cc_args)
        stream(grouped, wanted, mapping, batch_size, dask, functools.partial(_cells_of, table=table, cc_args=cc_args,
                                                                            keep=keep), cc.merge,
               dictionary=TEXT_CODES)
        if keep and not cc.first_all:
            raise InputError(f"--hospital {','.join(hospital_ids)}: none of these hospital ids is in {grouped}")
        return evaluate_cells(cc, hospitals=table, weights=supplied, risk_levels_table=fixed_levels, **opts)
    except InputError:
        raise
    except (EvaluationError, ValueError) as e:
        raise InputError(str(e)) from None


# -- support -------------------------------------------------------------------------------------------
def _years_of(batch) -> dict:
    from evaluation.cells import CaseCells, add_by_year

    out: dict = {}
    add_by_year(out, batch, CaseCells)
    return out


def _merge_years(by_year: dict, part: dict, keep_first: bool = False) -> None:
    from evaluation.cells import CaseCells

    for y, cells in part.items():
        by_year.setdefault(y, CaseCells()).merge(cells)
    if keep_first:  # only the first year's cells are needed: the others are dropped as they come
        for y in sorted(by_year)[1:]:
            del by_year[y]


def support_streamed(grouped, hospitals, plan, start, control_group, mapping=None, batch_size: int = 1_000_000,
                     dask: str | None = None) -> dict:
    """`drg support` from per-year cells: CMI with baseline weights, the hospital-year panel, then the same DiD as
    the per-case path (:func:`evaluation.support.support_tables`)."""
    from evaluation.streamed import baseline_weights_cells, support_panel_cells
    from evaluation.support import support_plan, support_tables

    check_columns(grouped, SUPPORT_COLUMNS, mapping, "support")
    table = region_table(hospitals, None if hospitals else hospital_ids_of(grouped, mapping), "support")
    by_year: dict = {}
    stream(grouped, SUPPORT_COLUMNS, mapping, batch_size, dask, _years_of, functools.partial(_merge_years, by_year),
           dictionary=TEXT_CODES)
    pairs = support_plan(plan, start)
    last_year = max(by_year) if by_year else start
    first_start = int(pairs["start_year"].min()) if len(pairs) else start
    weights, base = baseline_weights_cells(by_year, first_start)
    weights_from = f"baseline {base[0]}-{base[-1]}" if base else "none"
    traj, did, summary, event = support_tables(table, pairs, lambda ids, spec: support_panel_cells(by_year, weights, ids, spec),
                                               last_year, weights_from, control_group=control_group)
    return {"support": traj, "support_did": did, "support_event": event, "support_summary": summary}


# -- tiered care ---------------------------------------------------------------------------------------
def _tiered_of(batch, table, basic):
    from evaluation.tiered_batches import batch_counts

    county, region, sums, how = batch_counts(batch, table)
    return None if basic is not None else _years_of(batch), county, region, sums, how


class _TieredTotals:
    """The counts and sums of the tiered-care tables so far; batches are added in input order."""

    def __init__(self):
        self.first: dict = {}  # the first year's cells (the basic-care weights)
        self.county = self.region = self.sums = None
        self.how = "none"

    def add(self, part) -> None:
        years, county, region, sums, self.how = part
        if years is not None:
            _merge_years(self.first, years, keep_first=True)
        self.county = _added(self.county, county, ["county", "year", "hospital_county"])
        self.region = _added(self.region, region, ["year", "level", "drg", "included"])
        self.sums = sums if self.sums is None else pd.concat([self.sums, sums]).groupby(level=[0, 1], sort=False).sum()


def _added(total: pd.DataFrame | None, part: pd.DataFrame, keys: list) -> pd.DataFrame:
    """Counts of a batch added to those so far (same keys; missing keys kept)."""
    if total is None:
        return part
    return pd.concat([total, part], ignore_index=True).groupby(keys, dropna=False, sort=False).sum().reset_index()


def tiered_streamed(grouped, mapping, hospitals, goals, basic, batch_size: int = 1_000_000, dask: str | None = None) -> dict:
    """`drg tiered-care` batch by batch: per batch the counts and sums of the county, region and hospital tables
    (:mod:`evaluation.tiered_care`), added up; the basic-care list's weights from the first year's cells."""
    from evaluation.streamed import baseline_weights_cells
    from evaluation.tiered_care import county_table, referral_table, region_table as region_indicators_table

    check_columns(grouped, TIERED_COLUMNS, mapping, "tiered-care")
    table = region_table(hospitals, None if hospitals else hospital_ids_of(grouped, mapping), "tiered-care")
    total = _TieredTotals()
    stream(grouped, TIERED_COLUMNS, mapping, batch_size, dask, functools.partial(_tiered_of, table=table, basic=basic),
           total.add, dictionary=TEXT_CODES)
    weights, weights_from = None, "given"
    if basic is None:
        weights, base = baseline_weights_cells(total.first, min(total.first) + 1 if total.first else 1)
        weights_from = f"baseline {base[0]}" if base else "none"
    county = county_table(total.county, table, goals)
    if table["county"].isna().all():  # no hospital's county known: no in-county rate can be told
        county = county.iloc[0:0]
    return {"county": county,
            "region": region_indicators_table(total.region, weights, weights_from, goals, basic),
            "hospital": referral_table(total.sums.sort_index(), total.how, table, goals)}
