"""The analyses of `drg evaluate` (hospital, MDC, ADRG and period tables), `drg support` (the DRG-partition proxy) and
`drg tiered-care` (receivers named or not linkable): each one pass (:class:`evaluation.analysis.Pass`: a reduce per
batch, a merge in input order) and a finish, run by :func:`drg.driver.run` locally or on a Dask cluster with the same
bytes. Memory follows the batch and the number of cells, not the rows."""

from __future__ import annotations

import functools

import pandas as pd

from evaluation.analysis import Pass

from .io import InputError
from .regions import hospitals_table
from .tables import only_hospitals

HOSPITAL = {"hospital_id": "which hospital treated the case (定点医疗机构代码)"}
DRG = {"drg": "the case's DRG: run drg group on the records first"}
TEXT_CODES = ("hospital_id", "residence_county")  # few distinct values: read as codes
SUPPORT_COLUMNS = ["hospital_id", "drg", "status", "mdc", "adrg", "total_cost", "los_days", "leaving_type", "year"]
TIERED_COLUMNS = SUPPORT_COLUMNS + ["residence_county", "drug_cost", "consumables_cost", "exam_cost", "receiving_institution"]


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


def region_table(hospitals: str | None, ids, command: str) -> pd.DataFrame:
    """The hospitals table with each hospital's level (and county when known: a table without one gets an empty
    county column, and nothing is computed by county), or one line saying how to give it."""
    from .region_of import with_levels

    return with_levels(hospitals_table(hospitals, ids), command)


def region_frame(data: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The evaluation frame of grouped records with level, kind, year (0 when the file has none) and residence."""
    from evaluation.common import attach_levels, prepare

    cases = attach_levels(prepare(data), table)
    if "year" not in cases.columns:
        cases["year"] = 0
    cases["residence_county"] = data["residence_county"] if "residence_county" in data.columns else None
    return cases


# -- evaluate ------------------------------------------------------------------------------------------
def _cells_of(batch, table, cc_args, keep, unit=None, expected=False, newton=None):
    """The batch's cells; with a department or doctor view (``unit``), also its cells per unit (with ``newton``, only
    those, at the given hospital effects)."""
    from evaluation.cells import CaseCells

    batch = only_hospitals(batch, keep)
    view = dict(unit=unit, keep_costs=False, expected=expected, newton=newton)
    if newton is not None:
        return CaseCells(table, **{**cc_args, "period": None}, **view).of_batch(batch)
    cells = CaseCells(table, **cc_args, expected=expected).of_batch(batch)
    if unit is None:
        return cells
    return cells, CaseCells(table, **{**cc_args, "period": None}, **view).of_batch(batch)


def _with_expected(batch, offset, risk_rows, **cells_args):
    """:func:`_cells_of` of the batch with its cases' expected deaths (:class:`drg.risk.RiskRows`) beside it."""
    return _cells_of(risk_rows(batch, offset), expected=True, **cells_args)


def evaluate_streamed(grouped, wanted, mapping, hospitals, hospital_ids, supplied, fixed_levels, batch_size, dask,
                      options, risk_rows=None) -> dict:
    """`drg evaluate`'s tables from one pass (:mod:`evaluation.cells`, :mod:`evaluation.cells.tables`)."""
    from evaluation.common import EvaluationError

    from .region_of import run_in_region

    check_columns(grouped, wanted, mapping, "evaluate")
    opts = dict(options)
    cc_args = dict(years=opts.pop("years", None), levels=opts.pop("levels", None), period=opts.pop("period", None))
    try:
        return run_in_region(lambda table: evaluate_analysis(grouped, wanted, table, hospital_ids, supplied, fixed_levels,
                                                             cc_args, opts, risk_rows),
                             grouped, mapping, batch_size, dask, hospitals)
    except InputError:
        raise
    except (EvaluationError, ValueError) as e:
        raise InputError(str(e)) from None


def evaluate_analysis(grouped, wanted, table, hospital_ids, supplied, fixed_levels, cc_args, opts, risk_rows=None):
    """One pass building the cells of every case (:class:`evaluation.cells.CaseCells`; per unit too for a department
    or doctor view), then the tables; a doctor view with a patient-level model adds the passes of its hospital
    effects (:func:`hospital_effects`)."""
    from evaluation.cells import CaseCells
    from evaluation.cells.tables import evaluate_cells
    from evaluation.cells.units import UNITS, view_table

    keep = set(hospital_ids) if hospital_ids else None
    by = opts.get("by", "hospital")
    unit, expected = UNITS.get(by), risk_rows is not None
    cc = CaseCells(table, **cc_args, expected=expected)
    vc = CaseCells(table, **{**cc_args, "period": None}, unit=unit, keep_costs=False, expected=expected) if unit else None
    args = dict(table=table, cc_args=cc_args, keep=keep, unit=unit)
    reduce = functools.partial(_with_expected, risk_rows=risk_rows, **args) if expected else functools.partial(_cells_of, **args)
    yield Pass(wanted, reduce, cc.merge if unit is None else lambda part: (cc.merge(part[0]), vc.merge(part[1])),
               offsets=expected, dictionary=TEXT_CODES)
    if keep and not cc.first_all:
        raise InputError(f"--hospital {','.join(hospital_ids)}: none of these hospital ids is in {grouped}")
    tables = evaluate_cells(cc, hospitals=table, weights=supplied, risk_levels_table=fixed_levels,
                            **{**opts, "by": "hospital" if unit else by})
    if unit:
        newton = None
        if expected and unit == "doctor_id":
            newton = yield from hospital_effects(vc, wanted, args, risk_rows)
        tables[by.replace("-", "_")] = view_table(cc, vc, tables, by, opts.get("overdispersion", "auto"), newton)
    return tables


def hospital_effects(vc, wanted, args, risk_rows, iterations: int = 30):
    """Newton's method for the hospital effects of a doctor view adjusted by a patient-level model, one pass per step
    (:func:`evaluation.views.own_hospital_expectation` per case: ``expit(logit(p_i) + theta_h)`` summed over a
    hospital's cases must equal its deaths), started from the cells' solution with each cell's mean probability.
    Returns the view's cells at the solution (their ``q_sum`` are the expected deaths)."""
    from evaluation.cells import CaseCells
    from evaluation.cells.units import newton_start, newton_step

    theta, rate = newton_start(vc.cells())
    for _ in range(iterations):
        at = (theta.to_dict(), rate)
        nc = CaseCells(vc.hospitals, years=vc.years, levels=vc.levels, unit=vc.unit, keep_costs=False, newton=at)
        yield Pass(wanted, functools.partial(_with_expected, risk_rows=risk_rows, **args, newton=at), nc.merge,
                   offsets=True, dictionary=TEXT_CODES)
        cells = nc.cells()
        theta, step = newton_step(cells, theta)
        if step < 1e-10:
            break
    return cells


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
                     dask: str | None = None, grades: dict | None = None) -> dict:
    """`drg support` from per-year cells: CMI with baseline weights, the hospital-year panel, then the same DiD as
    the per-case path (:func:`evaluation.support.support_tables`); ``grades`` ({procedure code: surgical grade}):
    level-2+ surgery counted from each case's principal procedure in the same pass, else the DRG-partition proxy."""
    from .contract import require
    from .region_of import run_in_region

    check_columns(grouped, SUPPORT_COLUMNS, mapping, "support")
    if grades is not None:
        from .contract import read_plan

        cols, rename = read_plan(grouped, SUPPORT_COLUMNS + ["px"], mapping)
        require(grouped, [rename[c] for c in cols], {"px": "--procedure-grades grades the principal procedure"}, "support")
    return run_in_region(lambda table: support_analysis(table, plan, start, control_group, grades), grouped, mapping,
                         batch_size, dask, hospitals, "support")


def _support_batch(batch, level2_codes: frozenset | None):
    """A batch's per-year cells and, with procedure grades, its level-2+ surgeries per (hospital, year)."""
    from evaluation.support import level2_counts

    return _years_of(batch), (None if level2_codes is None else level2_counts(batch, level2_codes))


def _merge_support(by_year: dict, level2: dict, part) -> None:
    years_part, counts = part
    _merge_years(by_year, years_part)
    for key, n in (counts or {}).items():
        level2[key] = level2.get(key, 0) + n


def support_analysis(table, plan, start, control_group, grades: dict | None = None):
    """One pass building per-year cells (and, with procedure grades, the level-2+ surgeries per hospital and year),
    then the panel and the difference-in-differences."""
    from evaluation.cells.tables import baseline_weights_cells, support_panel_cells
    from evaluation.support import support_plan, support_tables

    by_year: dict = {}
    level2: dict = {}  # with grades: (hospital_id, year) -> level-2+ surgeries
    codes = None if grades is None else frozenset(str(c) for c, g in grades.items() if g >= 2)
    yield Pass(SUPPORT_COLUMNS + (["px"] if grades is not None else []), functools.partial(_support_batch, level2_codes=codes),
               functools.partial(_merge_support, by_year, level2), dictionary=TEXT_CODES)
    pairs = support_plan(plan, start)
    last_year = max(by_year) if by_year else start
    first_start = int(pairs["start_year"].min()) if len(pairs) else start
    weights, base = baseline_weights_cells(by_year, first_start)
    weights_from = f"baseline {base[0]}-{base[-1]}" if base else "none"
    traj, did, summary, event = support_tables(
        table, pairs, lambda ids, spec: support_panel_cells(by_year, weights, ids, spec, level2=level2 if grades else None),
        last_year, weights_from, control_group=control_group)
    return {"support": traj, "support_did": did, "support_event": event, "support_summary": summary}


# -- tiered care ---------------------------------------------------------------------------------------
def _tiered_of(batch, table, basic):
    from evaluation.tiered_care.batches import batch_counts

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


LINKED_COLUMNS = TIERED_COLUMNS + ["patient_id", "admit_date", "discharge_date"]
SENT_COLUMNS = ["hospital_id", "leaving_type", "year", "patient_id", "discharge_date"]  # linking's first pass


def tiered_streamed(grouped, mapping, hospitals, goals, basic, batch_size: int = 1_000_000, dask: str | None = None,
                    link: bool = False) -> dict:
    """`drg tiered-care` batch by batch: per batch the counts and sums of the county, region and hospital tables
    (:mod:`evaluation.tiered_care`), added up; the basic-care list's weights from the first year's cells. ``link``:
    transfers' receivers found by patient and dates (a first pass collects the transfers, the second the stays of
    their patients beside the counts)."""
    from .region_of import run_in_region

    check_columns(grouped, TIERED_COLUMNS, mapping, "tiered-care")
    return run_in_region(lambda table: tiered_analysis(table, goals, basic, link), grouped, mapping, batch_size, dask,
                         hospitals, "tiered-care")


def _sent_of(batch, offset):
    from evaluation.tiered_care.batches import transfer_stays

    return transfer_stays(batch, offset), offset + batch.num_rows


def _tiered_linked_of(batch, table, basic, bits):
    from evaluation.tiered_care.batches import candidate_stays

    return _tiered_of(batch, table, basic), candidate_stays(batch, bits)


def tiered_analysis(table, goals, basic, link: bool = False):
    """One pass adding up the counts and sums per batch (two with ``link``), then the county, region and hospital
    tables."""
    from evaluation.cells.tables import baseline_weights_cells
    from evaluation.tiered_care import apply_moves, county_table, referral_table, region_table as region_indicators_table
    from evaluation.tiered_care.linking import LinkSpill

    total = _TieredTotals()
    if not link:
        yield Pass(TIERED_COLUMNS, functools.partial(_tiered_of, table=table, basic=basic), total.add, dictionary=TEXT_CODES)
    else:
        # pass 1: every type-2 transfer (row, patient, hospital, discharge, its referral cell) to disk; pass 2: the
        # counts, and the stays of the transferred patients to disk by patient partition (evaluation.tiered_care.linking)
        spill = LinkSpill()
        yield Pass(SENT_COLUMNS, _sent_of, spill.add_sent, offsets=True, dictionary=TEXT_CODES)
        spill.plan()

        def merge(part):
            total.add(part[0])
            spill.add_stays(part[1])

        yield Pass(LINKED_COLUMNS, functools.partial(_tiered_linked_of, table=table, basic=basic, bits=spill.bits), merge,
                   dictionary=TEXT_CODES)
        moves = spill.moves(table)
        if total.sums is not None:
            total.sums = apply_moves(total.sums, moves)
        total.how = "patient_id+dates"
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
