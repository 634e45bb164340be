"""The analysis commands as functions: read the grouped records, compute, write one output folder as
a unit, and return what a caller prints. The CLI parses options into these arguments; the demo calls
them directly."""

from __future__ import annotations

import os

from .contract import load_mapping, note_year_source, read_plan
from .io import InputError
from .regions import load_region
from .streamed import LINKED_COLUMNS, evaluate_streamed, support_streamed, tiered_streamed
from .tables import (
    case_id_list,
    drg_list,
    factors,
    output_folder,
    procedure_grades,
    risk_levels,
    supplied_weights,
    support_pairs,
    write_tables,
)

def _written(folder, tables: dict, lang: str, stem: str) -> dict:
    """``tables`` written into the command's output folder (swapped in as a unit); returned for the caller."""
    with folder as out:
        write_tables(tables, out, lang, stem)
    return tables


def evaluate_to(grouped: str, output: str, *, hospitals: str | None = None, weights: str | None = None,
                risk_levels_csv: str | None = None, hospital_ids: list | None = None, lang: str = "zh",
                risk_model: str | None = None, columns: str | None = None, batch_size: int = 1_000_000,
                dask: str | None = None, **options) -> dict:
    """`drg evaluate`: the tables of :func:`evaluation.api.evaluate` (``options`` are its keywords);
    ``risk_model``: a ``drg risk`` output folder whose per-case expected deaths replace the DRG rates.

    Every table is made from cells (:class:`evaluation.cells.CaseCells`) built in one pass of ``batch_size`` rows --
    per hospital x DRG, and for a department or doctor view per unit x DRG too -- locally or on the parts of a Dask
    cluster with ``dask``; a risk model's expectations are read beside the batches (:class:`drg.risk.RiskRows`), and a
    doctor view adjusted by it solves its hospital effects in a few more passes. Memory follows the batch and the
    cells, not the cases."""
    from evaluation.api import EVAL_COLUMNS, VIEW_COLUMNS

    folder = output_folder(output, [grouped, hospitals, weights, risk_levels_csv, risk_model], "evaluate")  # before any work
    note_year_source(grouped, ["year"], load_mapping(columns), lang)  # said once, before the work
    supplied, fixed_levels = supplied_weights(weights), risk_levels(risk_levels_csv)  # small files: before the big one
    extra = VIEW_COLUMNS.get(options.get("by"), []) + (VIEW_COLUMNS["period"] if options.get("period") else [])
    rows, model_tables = None, {}
    if risk_model:
        from .io import count_rows, input_files
        from .risk import RiskRows, risk_model_tables

        rows = RiskRows(risk_model, count_rows(*input_files(grouped)))
        model_tables = risk_model_tables(risk_model)
    tables = evaluate_streamed(grouped, EVAL_COLUMNS + extra + (["case_id"] if rows else []), load_mapping(columns),
                               hospitals, hospital_ids, supplied, fixed_levels, batch_size, dask, options, rows)
    tables.update(model_tables)
    return _written(folder, tables, lang, "evaluation")


def pay_to(grouped: str, output: str, budgets: dict, cfg, *, hospitals: str | None = None, weights: str | None = None,
           special_review: str | None = None, quality_factors: str | None = None, variants: dict | None = None,
           lang: str = "zh", columns: str | None = None, batch_size: int = 1_000_000, dask: str | None = None):
    """`drg pay`: settle every year (``budgets``: year or None -> yuan) under ``cfg`` in three passes of
    ``batch_size`` rows (:func:`drg.settlement.pay_streamed`), on a Dask cluster with ``dask``; returns (tables,
    {"cases": settled cases, "cost_unusable": cases without a usable cost})."""
    from evaluation.common import EvaluationError

    from .settlement import PAY_COLUMNS, pay_streamed, payment_workbook
    from .streamed import check_columns

    folder = output_folder(output, [grouped, hospitals, weights, special_review, quality_factors], "pay")
    note_year_source(grouped, ["year"], load_mapping(columns), lang)  # said once, before the work
    if quality_factors:
        cfg.quality_factors = factors(quality_factors, "--quality-factors")
        try:  # one check of every rule, whichever source set it
            cfg.check()
        except EvaluationError as e:
            raise InputError(f"--quality-factors {quality_factors}: {e}") from None
    special = case_id_list(special_review, "--special-review") if special_review else None
    supplied = supplied_weights(weights)
    mapping = load_mapping(columns)
    check_columns(grouped, PAY_COLUMNS + ["self_pay"], mapping, "pay")
    with folder as out:
        try:
            tables, counts = pay_streamed(grouped, out, budgets, cfg, hospitals_arg=hospitals, supplied=supplied, special=special,
                                          variants=variants or {}, lang=lang, mapping=mapping, batch_size=batch_size,
                                          dask=dask)
        except EvaluationError as e:
            raise InputError(str(e)) from None
        write_tables(tables, out, lang, "payment", workbook=payment_workbook(tables))
    return tables, counts


def tiered_care_to(grouped: str, output: str, *, hospitals: str | None = None, targets: str | None = None,
                   basic_care: str | None = None, lang: str = "zh", columns: str | None = None, dask: str | None = None,
                   batch_size: int = 1_000_000) -> dict:
    """`drg tiered-care`: county, region, hospital and targets tables, streamed (:func:`drg.streamed.tiered_streamed`:
    one pass; two when transfers are linked by patient and dates), locally or on a Dask cluster."""
    from evaluation.common import EvaluationError
    from evaluation.tiered_care import load_targets, targets_table

    folder = output_folder(output, [grouped, hospitals, targets, basic_care], "tiered-care")
    note_year_source(grouped, ["year"], load_mapping(columns), lang)  # said once, before the work
    if targets and not os.path.exists(targets):
        raise InputError(f"--targets {targets}: no such file; pass a TOML with [targets] name = value")
    try:
        goals = load_targets(targets)
    except EvaluationError as e:
        raise InputError(f"--targets {e}") from None  # the message starts with the file's name
    basic = drg_list(basic_care, "--basic-care") if basic_care else None
    mapping = load_mapping(columns)
    have = set(read_plan(grouped, LINKED_COLUMNS, mapping)[1].values())
    if "receiving_institution" in have or not {"patient_id", "admit_date", "discharge_date"} <= have:
        tables = tiered_streamed(grouped, mapping, hospitals, goals, basic, batch_size, dask)  # no patient linking: one pass
        tables["targets"] = targets_table(goals, lang)
        return _written(folder, tables, lang, "tiered_care")
    tables = tiered_streamed(grouped, mapping, hospitals, goals, basic, batch_size, dask, link=True)  # two passes
    tables["targets"] = targets_table(goals, lang)
    return _written(folder, tables, lang, "tiered_care")


def support_to(grouped: str, output: str, *, pairs: str | None = None, hospitals: str | None = None, start: int = 2019,
               grades: str | None = None, control_group: str = "never", lang: str = "zh", columns: str | None = None,
               dask: str | None = None, batch_size: int = 1_000_000) -> dict:
    """`drg support`: trajectories, DiD per program and indicator, event study, supporter summary, streamed in one
    pass (:func:`drg.streamed.support_streamed`; with ``grades`` the principal procedures' level-2+ surgeries are
    counted in the same pass), locally or on a Dask cluster."""
    folder = output_folder(output, [grouped, hospitals, pairs, grades], "support")
    note_year_source(grouped, ["year"], load_mapping(columns), lang)  # said once, before the work
    grade_of = procedure_grades(grades) if grades else None
    plan = support_pairs(pairs) if pairs else load_region("dezhou")[1]
    tables = support_streamed(grouped, hospitals, plan, start, control_group, load_mapping(columns), batch_size, dask,
                              grades=grade_of)
    return _written(folder, tables, lang, "support")
