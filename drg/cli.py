"""The ``drg`` command: group, explain, scheme check, demo.

Every user error (bad file, missing column, bad option, bad scheme) ends with
one line ``drg: error: <problem>; <fix>`` and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from .terminal import clean


class UsageError(ValueError):
    pass


def resolve_scheme_path(arg: str | None) -> str:
    """--scheme, else $DRG_SCHEME, else the national CHS-DRG 1.1 shipped with the package."""
    from grouper.scheme import DEFAULT_SCHEME

    return arg or os.environ.get("DRG_SCHEME") or DEFAULT_SCHEME


def _load(arg):
    import grouper

    return grouper.load_scheme(resolve_scheme_path(arg))


def _output_folder(a, inputs, command: str):
    """The command's output folder, built beside ``a.output`` and swapped in as a unit; refused
    when it is, or holds, one of the ``inputs`` (files, folders or globs)."""
    import glob

    from .atomic import OutputFolder

    files = []
    for spec in filter(None, inputs):
        if any(ch in spec for ch in "*?["):
            files += glob.glob(spec, recursive=True)
        elif os.path.isdir(spec):
            files += [str(p) for p in Path(spec).rglob("*") if p.is_file()] or [spec]
        else:
            files.append(spec)
    return OutputFolder(a.output, inputs=files, command=command)


def _threads(n):
    if n:
        import numba

        if n < 1 or n > numba.config.NUMBA_NUM_THREADS:
            raise UsageError(f"--threads {n}: choose 1..{numba.config.NUMBA_NUM_THREADS} (the cores Numba can use)")
        numba.set_num_threads(n)


def cmd_group(a) -> int:
    from .batch import group_file

    _threads(a.threads)
    if a.batch_size < 1:
        raise UsageError(f"--batch-size {a.batch_size}: must be a positive number of rows")
    scheme = _load(a.scheme)
    if a.dask:
        from grouper.dask import group_file_dask

        summary = group_file_dask(a.input, a.output, scheme, address=a.dask, map_codes=a.map_codes,
                                  only_results=a.only_results, lang=a.lang, batch_size=a.batch_size, quiet=a.quiet,
                                  csv_guard=not a.csv_raw)
    else:
        summary = group_file(a.input, a.output, scheme, map_codes=a.map_codes, only_results=a.only_results,
                             lang=a.lang, batch_size=a.batch_size, quiet=a.quiet, csv_guard=not a.csv_raw)
    if not a.quiet:
        counts = ", ".join(f"{k} {v:,}" for k, v in summary["status_counts"].items())
        print(clean(f"{summary['rows_in']:,} rows -> {a.output} in {summary['seconds']:.1f}s "
                    f"({summary['rows_per_second'] or 0:,} rows/s): {counts}"), file=sys.stderr)
        if summary["top_unknown_dx"]:
            top = ", ".join(f"{clean(c, 40) if c else '(empty)'}×{n}" for c, n in summary["top_unknown_dx"][:5])
            print(f"most frequent unknown diagnosis codes: {top}", file=sys.stderr)
    return 0


def _codes(text):
    if text is None:
        return []
    return [c for c in text.replace(";", "|").replace(",", "|").split("|") if c != ""]


def cmd_explain(a) -> int:
    import grouper

    scheme = _load(a.scheme)
    rec = {"case_id": "explain", "sex": a.sex, "age_years": a.age, "age_days": a.age_days, "weight_g": a.weight,
           "dept": a.dept, "los_days": a.los, "leaving_type": a.leaving_type, "icu_hours": a.icu_hours,
           "dx": _codes(a.dx), "px": _codes(a.px)}
    e = grouper.explain(rec, scheme, map_codes=a.map_codes, lang=a.lang)
    print(e)
    return 0


def cmd_scheme_check(a) -> int:
    import grouper

    scheme = grouper.load_scheme(a.dir, use_cache=False)
    info = scheme.summary()
    if a.json:
        print(json.dumps({**info, "warnings": scheme.warnings}, ensure_ascii=False, indent=2))
        return 0
    print(f"{info['id']} {info['name']}: OK")
    print(f"  MDC {info['mdc']}, ADRG {info['adrg']}, DRG {info['drg']}, steps {info['steps']} "
          f"(ambiguity checkpoints {info['qy_checkpoints']}, enabled {info['qy_enabled']}), split rules {info['split_rules']}")
    print(f"  code lists {info['lists']}, diagnosis codes {info['dx_codes']}, procedure codes {info['px_codes']}, "
          f"dx map {info['dx_map']}, px map {info['px_map']}")
    for w in scheme.warnings[:20]:
        print(f"  warning: {w}")
    if len(scheme.warnings) > 20:
        print(f"  ... {len(scheme.warnings) - 20} more warnings (--json lists all)")
    return 0


def cmd_demo(a) -> int:
    from .demo import run_demo

    _threads(a.threads)
    return run_demo(resolve_scheme_path(a.scheme), a.output, cases=a.cases, seed=a.seed, quiet=a.quiet)


def cmd_synth(a) -> int:
    from .synth import synthesize

    scheme = _load(a.scheme)
    years = _years(a.years)
    if a.cases < 1:
        raise UsageError(f"--cases {a.cases}: must be a positive number of discharges")
    with _output_folder(a, [], "synth") as out:
        synthesize(scheme, out, region=a.region, years=years, cases=a.cases, seed=a.seed, quiet=a.quiet)
    return 0


def _hospitals_table(arg: str | None, data_ids=None):
    """--hospitals CSV, or the built-in region's table when the data's hospital ids are all in it."""
    import pandas as pd

    from .synth import load_region

    if arg:
        p = Path(arg)
        if p.is_dir():
            return load_region(str(p))[0]
        if not p.exists():
            raise UsageError(f"--hospitals {arg}: no such file; pass a CSV with hospital_id, level[, kind, name]")
        h = pd.read_csv(p, dtype=str)
        if not {"hospital_id", "level"} <= set(h.columns):
            raise UsageError(f"--hospitals {arg}: needs columns hospital_id and level (tertiary/secondary/primary or 三级/二级/一级)")
        return h
    h = load_region("dezhou")[0]
    if data_ids is not None and set(map(str, data_ids)) <= set(h["hospital_id"]):
        return h
    return None


def _read_grouped(path: str, columns: list[str]):
    import pyarrow.parquet as pq

    from .io import input_columns, input_files, read_table

    kind, files = input_files(path)
    have = input_columns(path)
    cols = [c for c in columns if c in have]
    if kind == "parquet":
        import pyarrow as pa

        tables = [pq.read_table(f, columns=cols) for f in files]
        t = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    else:
        t = read_table(path, columns=cols)
    return t.to_pandas()  # dictionary columns arrive as Categoricals: evaluation works on their categories


def _write_tables(tables: dict, out_dir: str, lang: str, stem: str, workbook: dict | None = None) -> None:
    """Every table as Parquet, and a workbook of ``workbook`` (default: the same tables) for reading."""
    import pyarrow as pa

    from evaluation.common import label

    from .excel import write_workbook
    from .io import write_table_atomic

    labelled = {k: label(v, lang) for k, v in tables.items()}
    for name, df in labelled.items():
        write_table_atomic(pa.Table.from_pandas(df, preserve_index=False), os.path.join(out_dir, f"{name}.parquet"))
    sheets = labelled if workbook is None else {k: label(v, lang) for k, v in workbook.items()}
    write_workbook(sheets, os.path.join(out_dir, f"{stem}.xlsx"), lang=lang)


def cmd_evaluate(a) -> int:
    from evaluation.api import EVAL_COLUMNS, evaluate
    from evaluation.common import EvaluationError

    import pandas as pd

    folder = _output_folder(a, [a.grouped, a.hospitals, a.weights, a.risk_levels], "evaluate")  # checked before any work
    data = _read_grouped(a.grouped, EVAL_COLUMNS)
    if "hospital_id" not in data.columns or "drg" not in data.columns:
        raise UsageError(f"{a.grouped}: needs columns hospital_id and drg; evaluate the output of drg group on data with hospital_id")
    hospitals = _hospitals_table(a.hospitals, data["hospital_id"].dropna().unique())
    weights = None
    if a.weights:
        if not os.path.exists(a.weights):
            raise UsageError(f"--weights {a.weights}: no such file; pass a CSV with columns drg, weight")
        weights = pd.read_csv(a.weights, dtype={"drg": str})
        if "drg" not in weights.columns or not ({"weight", "rw"} & set(map(str.lower, weights.columns))):
            raise UsageError(f"--weights {a.weights}: needs columns drg and weight")
    try:
        if a.hospital:
            wanted = set(a.hospital.split(","))
            data = data[data["hospital_id"].astype(str).isin(wanted)]
            if data.empty:
                raise UsageError(f"--hospital {a.hospital}: none of these hospital ids is in {a.grouped}")
        tables = evaluate(data, hospitals=hospitals, weights=weights, by=a.by, peer=a.peer,
                          years=_years(a.years) if a.years else None, levels=a.level.split(",") if a.level else None,
                          overdispersion=a.overdispersion, min_cases_risk=a.min_cases_risk,
                          risk_levels_table=_risk_levels_csv(a.risk_levels), leave_one_out=a.leave_one_out)
    except (EvaluationError, ValueError) as e:
        raise UsageError(str(e)) from None
    with folder as out:
        _write_tables(tables, out, a.lang, "evaluation")
    h = tables["hospital"]
    flagged = tables["outcomes"][tables["outcomes"]["funnel_flag"].isin(["alarm_high", "alarm_low"])]
    print(f"evaluated {int(h['cases'].sum()):,} included cases of {len(h)} hospitals -> {a.output}/ "
          f"({', '.join(sorted(tables))}; evaluation.xlsx)")
    if len(flagged):
        print("outside the 99.8% mortality funnel: " + ", ".join(f"{clean(r.hospital_id, 40)} (O/E {r.oe_ratio:.2f})" for r in flagged.itertuples()))
    return 0


def _procedure_grades(path: str) -> dict:
    """code -> surgical grade 1-4 (手术分级目录) from a CSV with columns code, grade."""
    import pandas as pd

    if not os.path.exists(path):
        raise UsageError(f"--procedure-grades {path}: no such file; pass a CSV with columns code, grade (1-4)")
    t = pd.read_csv(path, dtype={"code": str})
    g = pd.to_numeric(t["grade"], errors="coerce") if "grade" in t.columns else None
    if "code" not in t.columns or g is None or not g.isin([1, 2, 3, 4]).all():
        raise UsageError(f"--procedure-grades {path}: needs columns code and grade with values 1-4")
    return dict(zip(t["code"], g.astype(int)))


def _risk_levels_csv(path: str | None):
    if not path:
        return None
    import pandas as pd

    if not os.path.exists(path):
        raise UsageError(f"--risk-levels {path}: no such file; pass a CSV with columns drg, risk_level (0-4)")
    t = pd.read_csv(path, dtype={"drg": str})
    lv = pd.to_numeric(t.get("risk_level"), errors="coerce") if "risk_level" in t.columns else None
    if "drg" not in t.columns or lv is None or not lv.isin([0, 1, 2, 3, 4]).all():
        raise UsageError(f"--risk-levels {path}: needs columns drg and risk_level with values 0-4")
    return t


def _budgets(text: str) -> dict:
    """--budget 1.2e9 (every year) or 2019=1.1e9,2020=1.2e9."""
    try:
        if "=" in text:
            return {int(k): float(v) for k, v in (part.split("=", 1) for part in text.split(","))}
        return {None: float(text)}
    except ValueError:
        raise UsageError(f"--budget {text!r}: write yuan, e.g. 1.2e9, or per year, e.g. 2019=1.1e9,2020=1.2e9") from None


def _scenario(text: str, base):
    """NAME:key=value,... (budget=, method=, k_lo=, k_hi=, los_max=, growth=, coefficient.LEVEL=)."""
    import dataclasses

    name, _, body = text.partition(":")
    if not name or not body:
        raise UsageError(f"--scenario {text!r}: write NAME:key=value,..., e.g. tight:budget=9e8 or k3:k_hi=3")
    budget, changes = None, {}
    fields = {f.name: f for f in dataclasses.fields(base)}
    for part in body.split(","):
        key, _, val = part.partition("=")
        if key == "budget":
            budget = float(val)
        elif key.startswith("coefficient."):
            coeffs = dict(changes.get("coefficients", base.coefficients))
            coeffs[key.split(".", 1)[1]] = float(val)
            changes["coefficients"] = coeffs
        elif key in fields:
            cur = getattr(base, key)
            changes[key] = val if isinstance(cur, str) else float(val)
        else:
            raise UsageError(f"--scenario {text!r}: unknown key {key!r}; use budget, coefficient.LEVEL or one of {', '.join(sorted(fields))}")
    return name, (budget, changes)


def cmd_pay(a) -> int:
    import pandas as pd

    from evaluation.common import EvaluationError, label
    from evaluation.payment import PaymentConfig
    from evaluation.weights import compute_weights

    from .io import write_table_atomic
    from .settlement import (PAY_COLUMNS, SELF_PAY_ALIASES, case_frame, payment_workbook, read_factors, read_id_list,
                             settle_years)

    budgets = _budgets(a.budget)
    folder = _output_folder(a, [a.grouped, a.hospitals, a.weights, a.config, a.special_review, a.quality_factors], "pay")
    for opt, path in (("--config", a.config), ("--special-review", a.special_review), ("--quality-factors", a.quality_factors)):
        if path and not os.path.exists(path):
            raise UsageError(f"{opt} {path}: no such file; check the path")
    try:
        cfg = PaymentConfig.from_toml(a.config) if a.config else PaymentConfig()
        if a.method:
            cfg.method = a.method
        if a.rate_basis:
            cfg.rate_basis = a.rate_basis
        if a.quality_factors:
            cfg.quality_factors = read_factors(a.quality_factors, "--quality-factors")
        cfg.check()
    except (EvaluationError, TypeError, ValueError) as e:
        raise UsageError(f"--config {a.config}: {e}") from None
    data = _read_grouped(a.grouped, PAY_COLUMNS + SELF_PAY_ALIASES)
    if "hospital_id" not in data.columns:
        raise UsageError(f"{a.grouped}: needs column hospital_id; pay the output of drg group on data with hospital_id")
    hospitals = _hospitals_table(a.hospitals, data["hospital_id"].dropna().unique())
    supplied = pd.read_csv(a.weights, dtype={"drg": str}) if a.weights else None
    cases = case_frame(data, hospitals)
    special = read_id_list(a.special_review, "--special-review") if a.special_review else None
    try:
        weights = compute_weights(cases, supplied=supplied)
        variants = dict(_scenario(t, cfg) for t in (a.scenario or []))
        per_case, tables = settle_years(cases, weights, budgets, cfg, special_review=special, variants=variants)
    except EvaluationError as e:
        raise UsageError(str(e)) from None
    import pyarrow as pa

    with folder as out:
        write_table_atomic(pa.Table.from_pandas(label(per_case, a.lang), preserve_index=False), os.path.join(out, "cases.parquet"))
        _write_tables(tables, out, a.lang, "payment", workbook=payment_workbook(tables))
    _print_settlement(a, cfg, per_case, tables, cases)
    return 0


def _print_settlement(a, cfg, per_case, tables, cases) -> None:
    st, par = tables["settlement"], tables["parameters"]
    print(f"settled {len(per_case):,} cases of {st['hospital_id'].nunique()} hospitals ({cfg.method} method) -> {a.output}/ "
          f"(cases.parquet, {', '.join(sorted(tables))}; payment.xlsx)")
    for r in par.itertuples():
        year = "all years" if r.year is None or r.year != r.year else int(r.year)
        print(f"  {year}: paid {r.paid:,.2f} of a budget of {r.budget:,.2f} "
              f"({100 * r.paid_share_of_budget:.3f}%)")
    bad = int(cases["cost"].isna().sum())
    if bad:
        print(f"{bad:,} cases without a usable total_cost (missing, NaN, infinite or <= 0): paid their DRG's standard and left "
              "out of both sides of the balance (settlement: cases_cost_unusable)")
    unknown = sorted({h for v in par["unknown_level_hospitals"] for h in str(v).split(",") if h})
    if unknown:
        shown = ", ".join(clean(h, 40) for h in unknown[:20]) + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else "")
        print(f"warning: {len(unknown)} hospitals have no known level and get coefficient 1.0: {shown}; "
              "pass --hospitals CSV (hospital_id, level)", file=sys.stderr)


TIERED_COLUMNS = ["case_id", "hospital_id", "drg", "status", "mdc", "adrg", "total_cost", "los_days", "leaving_type", "year",
                  "residence_county", "drug_cost", "consumables_cost", "exam_cost", "receiving_institution", "patient_id",
                  "admit_date", "discharge_date"]


def _region_cases(a, extra_columns=()):
    from evaluation.common import attach_levels, prepare

    data = _read_grouped(a.grouped, TIERED_COLUMNS + list(extra_columns))
    if "hospital_id" not in data.columns:
        raise UsageError(f"{a.grouped}: needs column hospital_id (and residence_county for county rates)")
    hospitals = _hospitals_table(a.hospitals, data["hospital_id"].dropna().unique())
    if hospitals is None or "county" not in hospitals.columns:
        raise UsageError("tiered care needs each hospital's level and county: pass --hospitals CSV (hospital_id, level, county) "
                         "or a region folder")
    cases = attach_levels(prepare(data), hospitals)
    if "year" not in cases.columns:
        cases["year"] = 0
    cases["residence_county"] = data["residence_county"] if "residence_county" in data.columns else None
    return data, cases, hospitals


def cmd_tiered_care(a) -> int:
    from evaluation.common import EvaluationError
    from evaluation.tiered_care import county_rates, hospital_referrals_and_revenue, load_targets, region_indicators, targets_table

    folder = _output_folder(a, [a.grouped, a.hospitals, a.targets, a.basic_care], "tiered-care")
    data, cases, hospitals = _region_cases(a)
    try:
        targets = load_targets(a.targets)
    except (EvaluationError, FileNotFoundError) as e:
        raise UsageError(f"--targets {a.targets}: {e}") from None
    basic = None
    if a.basic_care:
        import pandas as pd

        if not os.path.exists(a.basic_care):
            raise UsageError(f"--basic-care {a.basic_care}: no such file; pass a CSV with a drg column (基层病种 list)")
        basic = pd.read_csv(a.basic_care, dtype=str)
        if "drg" not in basic.columns:
            raise UsageError(f"--basic-care {a.basic_care}: needs a drg column")
        basic = basic["drg"].dropna().tolist()
    tables = {"county": county_rates(cases, hospitals, targets), "region": region_indicators(cases, hospitals, None, targets, basic),
              "hospital": hospital_referrals_and_revenue(cases, data, hospitals, targets), "targets": targets_table(targets, a.lang)}
    with folder as out:
        _write_tables(tables, out, a.lang, "tiered_care")
    c, h = tables["county"], tables["hospital"]
    last = c[c["year"] == c["year"].max()]
    met = int(last["in_county_rate_met"].fillna(False).sum())
    print(f"tiered care: {len(last)} counties, {met} meet the in-county target in {int(c['year'].max())} -> {a.output}/ "
          f"(county, region, hospital, targets; tiered_care.xlsx)")
    transfers = int(h["transfers"].sum())
    if transfers:
        how = h["transfer_match"].iloc[0]
        print(f"  type-2 transfers: {transfers:,}, receiver {'not in the data' if how == 'none' else 'found by ' + how} for "
              f"{transfers - int(h['transfer_unknown_level'].sum()):,}; unmatched share {h['transfer_unknown_level'].sum() / transfers:.1%}")
    return 0


def cmd_support(a) -> int:
    import pandas as pd

    from evaluation.support import evaluate_support

    from .synth import load_region

    folder = _output_folder(a, [a.grouped, a.hospitals, a.pairs], "support")
    grades = _procedure_grades(a.procedure_grades) if a.procedure_grades else None
    data, cases, hospitals = _region_cases(a, ["px"] if grades is not None else [])
    principal_grade = None
    if grades is not None:
        if "px" not in data.columns:
            raise UsageError(f"--procedure-grades: {a.grouped} has no px column (the procedures) to grade")
        first = data["px"].map(lambda v: v[0] if v is not None and len(v) else None)
        principal_grade = first.map(grades).astype(float)
    if a.pairs:
        if not os.path.exists(a.pairs):
            raise UsageError(f"--pairs {a.pairs}: no such file; pass a CSV with supporter_id, recipient_id, program[, specialty_1, specialty_2]")
        pairs = pd.read_csv(a.pairs, dtype=str)
        if not {"supporter_id", "recipient_id"} <= set(pairs.columns):
            raise UsageError(f"--pairs {a.pairs}: needs columns supporter_id and recipient_id")
        if "program" not in pairs.columns:
            pairs["program"] = "support"
    else:
        pairs = load_region("dezhou")[1]
    # CMI over time with weights frozen at the baseline years (methodology 6.4), not the pooled ones
    traj, did_table, summary, event = evaluate_support(cases, hospitals, pairs, None, start=a.start, principal_grade=principal_grade,
                                                       control_group=a.control_group.replace("-", "_"))
    with folder as out:
        _write_tables({"support": traj, "support_did": did_table, "support_event": event, "support_summary": summary},
                      out, a.lang, "support")
    for r in did_table[did_table["indicator"] == "cmi"].itertuples():
        if r.status != "ok":
            print(f"{clean(r.program, 60)}: no CMI estimate ({r.status}; {r.treated_hospitals} recipients, "
                  f"{r.control_hospitals} hospitals of their level and kind that no program supports)")
            continue
        pre = f"pre-trend p = {r.pretrend_p:.2f}" if not math.isnan(r.pretrend_p) else "no pre-trend test (too few years before)"
        print(f"{clean(r.program, 60)}: CMI DiD {r.did:+.4f} (95% CI {r.ci_low:+.4f} to {r.ci_high:+.4f}; "
              f"{r.treated_hospitals} recipients, starts {r.cohorts}, vs {r.control_hospitals} peers; {pre})")
    print(f"-> {a.output}/ (support, support_did, support_event, support_summary; support.xlsx)")
    return 0


def cmd_report(a) -> int:
    from .report import build_report

    try:
        sizes = build_report(a.eval_dir, a.output, a.xlsx, lang=a.lang)
    except FileNotFoundError as e:
        raise UsageError(str(e)) from None
    print(", ".join(f"{p} ({n / 1e6:.1f} MB)" for p, n in sizes.items()))
    return 0


def _years(text: str) -> list[int]:
    try:
        if "-" in text:
            lo, hi = (int(x) for x in text.split("-", 1))
            years = list(range(lo, hi + 1))
        else:
            years = [int(y) for y in text.split(",")]
    except ValueError:
        raise UsageError(f"--years {text!r}: write a range such as 2018-2021 or a list such as 2019,2020") from None
    if not years or len(years) > 30:
        raise UsageError(f"--years {text!r}: give between 1 and 30 years, e.g. 2018-2021")
    return years


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="drg", description="CHS-DRG grouping and hospital evaluation toolkit")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("group", help="group discharge records (Parquet/CSV/Excel) into DRGs")
    g.add_argument("input", help="a .parquet/.csv/.xlsx file, a directory of Parquet files, or a glob")
    g.add_argument("-o", "--output", required=True, help="output .parquet or .csv")
    g.add_argument("--scheme", help="scheme directory (default: $DRG_SCHEME, else the national CHS-DRG 1.1 shipped with drg)")
    g.add_argument("--map-codes", action="store_true", help="convert codes with the scheme's dx/px maps first")
    g.add_argument("--only-results", action="store_true", help="read only the grouping columns; write case_id + results")
    g.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of reason/warnings (default zh)")
    g.add_argument("--batch-size", type=int, default=1_000_000, help="rows per batch (memory bound; default 1,000,000)")
    g.add_argument("--threads", type=int, help="Numba threads (default: all cores)")
    g.add_argument("--dask", metavar="local|ADDRESS", help="group on a Dask cluster (pip install .[dask])")
    g.add_argument("--csv-raw", action="store_true",
                   help="CSV output: write text cells as they are (default: a cell starting with = + - @ TAB CR gets a "
                        "leading ' so a spreadsheet cannot run it as a formula); for machine pipelines")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary on stderr")
    g.set_defaults(func=cmd_group)

    e = sub.add_parser("explain", help="show every rule tried for one record")
    e.add_argument("--scheme")
    e.add_argument("--dx", required=True, help="diagnoses, principal first: A|B or A,B")
    e.add_argument("--px", help="procedures, principal first")
    e.add_argument("--sex", type=int)
    e.add_argument("--age", type=int)
    e.add_argument("--age-days", type=int)
    e.add_argument("--weight", type=int, help="birth weight in grams")
    e.add_argument("--los", type=int, help="length of stay in days")
    e.add_argument("--leaving-type")
    e.add_argument("--dept")
    e.add_argument("--icu-hours", type=int)
    e.add_argument("--map-codes", action="store_true")
    e.add_argument("--lang", choices=["zh", "en"], default="zh")
    e.set_defaults(func=cmd_explain)

    s = sub.add_parser("scheme", help="scheme tools")
    ssub = s.add_subparsers(dest="scheme_command", required=True)
    c = ssub.add_parser("check", help="validate a scheme directory and count its parts")
    c.add_argument("dir")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_scheme_check)

    d = sub.add_parser("demo", help="synthesize a region, group it and evaluate it: the whole product on demo data")
    d.add_argument("-o", "--output", default="demo-output", help="output folder (default demo-output)")
    d.add_argument("--scheme", help="scheme directory (default: $DRG_SCHEME, else the national CHS-DRG 1.1 shipped with drg)")
    d.add_argument("--cases", type=int, default=200_000)
    d.add_argument("--seed", type=int, default=2019)
    d.add_argument("--threads", type=int)
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(func=cmd_demo)

    v = sub.add_parser("evaluate", help="DRG weights, hospital indicators by peer group, discipline, risk-adjusted mortality")
    v.add_argument("grouped", help="grouped records (drg group output) with hospital_id, total_cost, los_days, leaving_type")
    v.add_argument("--by", choices=["hospital", "hospital-mdc", "hospital-adrg"], default="hospital")
    v.add_argument("--weights", help="published weights CSV (drg, weight) to use instead of computed ones")
    v.add_argument("--peer", choices=["level", "level-kind", "none"], default="level")
    v.add_argument("--hospitals", help="hospitals CSV (hospital_id, level[, kind, name]) or region folder; default: built-in dezhou when ids match")
    v.add_argument("--years", help="subset of years, e.g. 2020-2021")
    v.add_argument("--level", help="subset of levels, e.g. tertiary,secondary")
    v.add_argument("--hospital", help="subset of hospitals, e.g. DZ001,DZ002 (they are then also the reference population)")
    v.add_argument("--leave-one-out", action="store_true",
                   help="judge each hospital against the others only (O/E, cost and time indices); tables say which")
    v.add_argument("--min-cases-risk", type=int, default=30,
                   help="cases a DRG needs before it gets a regional mortality risk level (default 30)")
    v.add_argument("--risk-levels", help="CSV with drg, risk_level (0-4): fixed levels, e.g. the national assessment's, "
                                         "instead of regional ones")
    v.add_argument("--overdispersion", nargs="?", const="additive", choices=["additive", "multiplicative"],
                   help="mortality funnel for regions whose hospitals vary more than chance allows: additive "
                        "(default: random effects, DerSimonian-Laird tau2 on winsorised z within each peer group, "
                        "Spiegelhalter 2005; limits: exact Poisson-log-normal quantiles) or "
                        "multiplicative (limits widened by sqrt(phi), methodology 5.3)")
    v.add_argument("--lang", choices=["zh", "en"], default="zh", help="table headers (default Chinese)")
    v.add_argument("-o", "--output", required=True, help="output folder")
    v.set_defaults(func=cmd_evaluate)

    pay = sub.add_parser("pay", help="simulate DRG payment: base rate or point value, outliers, settlement per hospital")
    pay.add_argument("grouped", help="grouped records with hospital_id, total_cost, los_days")
    pay.add_argument("--budget", required=True, help="yuan per settlement year (e.g. 1.2e9) or per year: 2019=1.1e9,2020=1.2e9")
    pay.add_argument("--method", choices=["rate", "points"], help="rate (费率法) or points (点数法, default)")
    pay.add_argument("--weights", help="published weights CSV (drg, weight)")
    pay.add_argument("--config", help="TOML with [payment] keys: coefficients, k_lo, k_hi, los_max, fallback, s_keep, ...")
    pay.add_argument("--hospitals", help="hospitals CSV (hospital_id, level) or region folder")
    pay.add_argument("--scenario", action="append", help="what-if NAME:key=value,... e.g. tight:budget=9e8 (repeatable)")
    pay.add_argument("--rate-basis", choices=["balance", "volume"],
                     help="rate method: balance (default: total payments incl. outliers = budget) or volume "
                          "(sheet 4.1: budget / prior year's weight units x (1 + growth))")
    pay.add_argument("--special-review", help="CSV with case_id: special-review cases (特病单议), in priority order; "
                                              "paid at cost up to special_review_cap of a hospital's cases")
    pay.add_argument("--quality-factors", help="CSV with hospital_id, factor: quality-linked coefficients (e.g. 1.02)")
    pay.add_argument("--lang", choices=["zh", "en"], default="zh")
    pay.add_argument("-o", "--output", required=True, help="output folder")
    pay.set_defaults(func=cmd_pay)

    t = sub.add_parser("tiered-care", help="in-county / in-region rates, primary share, basic-care DRGs, referrals, service revenue vs targets")
    t.add_argument("grouped")
    t.add_argument("--targets", help="TOML of target values ([targets] in_county_rate = 0.9, ...); default: the seed cities' targets")
    t.add_argument("--hospitals", help="hospitals CSV (hospital_id, level, county) or region folder; default: built-in dezhou")
    t.add_argument("--basic-care", help="CSV with a drg column: the basic-care (基层病种) DRG list; default: medical DRGs with RW < 0.8")
    t.add_argument("--lang", choices=["zh", "en"], default="zh")
    t.add_argument("-o", "--output", required=True)
    t.set_defaults(func=cmd_tiered_care)

    su = sub.add_parser("support", help="counterpart support: recipients before/after and difference-in-differences")
    su.add_argument("grouped")
    su.add_argument("--pairs", help="support pairs CSV (supporter_id, recipient_id, program, specialty_1, specialty_2, start_year); "
                                       "default: built-in dezhou")
    su.add_argument("--start", type=int, default=2019, help="first year of support for pairs without a start_year column "
                                                             "(that year is left out of pre and post)")
    su.add_argument("--control-group", choices=["never", "not-yet"], default="never",
                    help="comparison hospitals: never supported while the data run (default), or also this program's "
                         "recipients before their own start")
    su.add_argument("--hospitals")
    su.add_argument("--procedure-grades", help="CSV with code, grade (1-4): level-2+ surgery by the principal procedure's "
                                               "grade instead of the DRG-partition proxy")
    su.add_argument("--lang", choices=["zh", "en"], default="zh")
    su.add_argument("-o", "--output", required=True)
    su.set_defaults(func=cmd_support)

    r = sub.add_parser("report", help="self-contained HTML report (+ Excel workbook) from an output folder")
    r.add_argument("eval_dir", help="output folder with evaluation/ (and payment/, tiered_care/, support/), e.g. a drg demo folder")
    r.add_argument("-o", "--output", required=True, help="report .html")
    r.add_argument("--xlsx", help="also write the tables to this .xlsx")
    r.add_argument("--lang", choices=["zh", "en"], default="zh")
    r.set_defaults(func=cmd_report)

    y = sub.add_parser("synth", help="synthesize a region's discharges with planted effects")
    y.add_argument("--scheme")
    y.add_argument("--region", default="dezhou", help="built-in region name or a folder with hospitals.csv, support_pairs.csv")
    y.add_argument("--years", default="2018-2021")
    y.add_argument("--cases", type=int, default=200_000)
    y.add_argument("--seed", type=int, default=1)
    y.add_argument("-o", "--output", required=True, help="output folder")
    y.add_argument("-q", "--quiet", action="store_true")
    y.set_defaults(func=cmd_synth)
    return p


def main(argv=None) -> int:
    from grouper.scheme import SchemeError

    from .atomic import OutputError
    from .columns import ColumnError
    from .io import InputError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SchemeError, ColumnError, InputError, UsageError, OutputError) as e:
        return _fail(f"drg: error: {clean(e)}", 2)
    except KeyboardInterrupt:
        return _fail("drg: interrupted; no output was written", 130)
    except OSError as e:
        return _fail(clean(f"drg: error: {e.filename or ''}: {e.strerror or e}; check the path and free disk space"), 2)


def _fail(line: str, status: int) -> int:
    """Print the one line, and keep the destructors of what failed (e.g. a half-written zip of a
    workbook on a full disk) from printing "Exception ignored in ..." under it."""
    print(line, file=sys.stderr)
    sys.unraisablehook = lambda unraisable: None
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
