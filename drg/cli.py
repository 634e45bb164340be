"""The ``drg`` command: group, explain, scheme check, demo.

Every user error (bad file, missing column, bad option, bad scheme) ends with
one line ``drg: error: <problem>; <fix>`` and exit status 2.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import sys

from .arguments import (
    UsageError,
    build_parser,
    help_language,
    lang_after_command,
    parse_budgets,
    parse_codes, v2_fields,
    parse_outcomes,
    parse_scenario,
    parse_years,
)
from .messages_zh import error_line
from .terminal import clean
from .text import say


def resolve_scheme_path(arg: str | None) -> str:
    """--scheme, else $DRG_SCHEME, else the national CHS-DRG 1.1 shipped with the package."""
    from grouper.scheme import DEFAULT_SCHEME

    return arg or os.environ.get("DRG_SCHEME") or DEFAULT_SCHEME


def _load(arg):
    import grouper
    from grouper.numba_cache import skip_blas_probe

    skip_blas_probe()  # this process runs the grouper's kernels only: no SciPy import (0.25 s)
    return grouper.load_scheme(resolve_scheme_path(arg))


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
    if a.dask and (a.check or a.rules):
        raise UsageError("--check runs on this machine; run without --dask (or check with drg check)")
    if a.dask:
        from .cluster import group_file_dask

        summary = group_file_dask(a.input, a.output, scheme, address=a.dask, map_codes=a.map_codes,
                                  only_results=a.only_results, lang=a.lang, batch_size=a.batch_size, quiet=a.quiet,
                                  csv_guard=not a.csv_raw, encoding=a.encoding)
    else:
        summary = group_file(a.input, a.output, scheme, map_codes=a.map_codes, only_results=a.only_results,
                             lang=a.lang, batch_size=a.batch_size, quiet=a.quiet, csv_guard=not a.csv_raw,
                             encoding=a.encoding, check=a.check or bool(a.rules), rules=a.rules)
    if not a.quiet:
        counts = ", ".join(f"{k} {v:,}" for k, v in summary["status_counts"].items())
        print(clean(say(a.lang, "group_done", rows=summary["rows_in"], output=a.output, seconds=summary["seconds"],
                        rps=summary["rows_per_second"] or 0, counts=counts)), file=sys.stderr)
        if summary["top_unknown_dx"]:
            top = ", ".join(f"{clean(c, 40) if c else '(empty)'}×{n}" for c, n in summary["top_unknown_dx"][:5])
            print(say(a.lang, "group_unknown", top=top), file=sys.stderr)
    return 0


def cmd_explain(a) -> int:
    import grouper

    from .explain_words import explain_in_words
    from .estimate import case_payment_estimate

    scheme = _load(a.scheme)
    rec = {"case_id": "explain", "sex": a.sex, "age_years": a.age, "age_days": a.age_days, "weight_g": a.weight,
           "dept": a.dept, "los_days": a.los, "leaving_type": a.leaving_type, "icu_hours": a.icu_hours,
           "dx": parse_codes(a.dx), "px": parse_codes(a.px), **v2_fields(a)}
    e = grouper.explain(rec, scheme, map_codes=a.map_codes, lang=a.lang)
    text = explain_in_words(e, str(scheme.path), rec["dx"], rec["px"], a.lang)
    print(text if not a.weights else f"{text}\n" + case_payment_estimate(
        e.drg, e.status_code == "ok", weights=a.weights, point_value=a.point_value, base_rate=a.base_rate, cost=a.cost,
        los=a.los, leaving_type=a.leaving_type, coefficient=a.coefficient, config=a.config, lang=a.lang))
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
          f"dx map {info['dx_map']}, px map {info['px_map']}, reject rules {info['reject_rules']}, prefixes {info['prefixes']}")
    for w in scheme.warnings[:20]:
        print(f"  warning: {w}")
    if len(scheme.warnings) > 20:
        print(f"  ... {len(scheme.warnings) - 20} more warnings (--json lists all)")
    return 0


def cmd_demo(a) -> int:
    from .demo import run_demo

    _threads(a.threads)
    return run_demo(resolve_scheme_path(a.scheme), a.output, cases=a.cases, seed=a.seed, quiet=a.quiet, lang=a.lang)


def cmd_synth(a) -> int:
    from .synth import synthesize
    from .tables import output_folder

    scheme = _load(a.scheme)
    years = parse_years(a.years)
    for name, value, least in (("cases", a.cases, 1), ("batch-size", a.batch_size, 10_000), ("workers", 1 if a.workers is None else a.workers, 1)):
        if value < least:
            raise UsageError(f"--{name} {value}: must be at least {least:,} (a part's games and readmissions are drawn within it)"
                             if least > 1 else f"--{name} {value}: must be a positive number; e.g. --{name} 20000")
    with output_folder(a.output, [], "synth") as out:
        synthesize(scheme, out, region=a.region, years=years, cases=a.cases, seed=a.seed, quiet=a.quiet,
                   part_cases=a.batch_size, workers=a.workers, lang=a.lang)
    return 0


def cmd_audit(a) -> int:
    from .audit import audit_summary, audit_to
    opts = {k: getattr(a, k) for k in ("hospitals", "weights", "folds", "seed", "batch_size", "review_limit", "lang", "columns", "dask")}
    print(audit_summary(audit_to(a.grouped, a.output, scheme_path=resolve_scheme_path(a.scheme), **opts), a.output, a.lang))
    return 0


def cmd_risk(a) -> int:
    from .risk import risk_summary, risk_to

    if a.folds < 2 or a.folds > 20:
        raise UsageError(f"--folds {a.folds}: choose 2..20 (cross-fitting needs at least two folds)")
    if a.sample < 1000 or a.batch_size < 1:
        raise UsageError("--sample must be at least 1,000 cases and --batch-size a positive number of rows")
    tables = risk_to(a.grouped, a.output, outcomes=parse_outcomes(a.outcomes), hospitals=a.hospitals, columns=a.columns,
                     scheme_path=resolve_scheme_path(a.scheme), folds=a.folds, folds_by=a.folds_by, sample=a.sample,
                     seed=a.seed, overdispersion=a.overdispersion, peer=a.peer, batch_size=a.batch_size, lang=a.lang, dask=a.dask)
    print(risk_summary(tables, a.output, a.lang))
    return 0


def cmd_evaluate(a) -> int:
    from .analyses import evaluate_to

    tables = evaluate_to(a.grouped, a.output, hospitals=a.hospitals, weights=a.weights, risk_levels_csv=a.risk_levels,
                         hospital_ids=a.hospital.split(",") if a.hospital else None, lang=a.lang, by=a.by, peer=a.peer,
                         years=parse_years(a.years) if a.years else None, levels=a.level.split(",") if a.level else None,
                         overdispersion=a.overdispersion, min_cases_risk=a.min_cases_risk, leave_one_out=a.leave_one_out,
                         risk_model=a.risk_model, columns=a.columns, period=a.period, batch_size=a.batch_size, dask=a.dask)
    from .text import print_evaluation

    print_evaluation(a, tables)
    return 0


def cmd_pay(a) -> int:
    from .analyses import pay_to
    from .settlement import payment_config

    budgets = parse_budgets(a.budget)
    cfg = payment_config(a.config, a.method, a.rate_basis)
    variants = dict(parse_scenario(t, cfg) for t in (a.scenario or []))
    tables, counts = pay_to(a.grouped, a.output, budgets, cfg, hospitals=a.hospitals, weights=a.weights,
                            special_review=a.special_review, quality_factors=a.quality_factors, variants=variants,
                            lang=a.lang, columns=a.columns, batch_size=a.batch_size, dask=a.dask)
    from .text import print_settlement

    print_settlement(a, cfg, tables, counts)
    return 0


def cmd_tiered_care(a) -> int:
    from .analyses import tiered_care_to
    from .text import tiered_care_summary

    tables = tiered_care_to(a.grouped, a.output, hospitals=a.hospitals, targets=a.targets, basic_care=a.basic_care,
                            lang=a.lang, columns=a.columns, dask=a.dask, batch_size=a.batch_size)
    print(tiered_care_summary(tables, a.lang, a.output))
    return 0


def cmd_support(a) -> int:
    from .analyses import support_to

    tables = support_to(a.grouped, a.output, pairs=a.pairs, hospitals=a.hospitals, start=a.start, grades=a.procedure_grades,
                        control_group=a.control_group.replace("-", "_"), lang=a.lang, columns=a.columns, dask=a.dask,
                        batch_size=a.batch_size)
    from evaluation.text import VALUE_LABELS

    def word(column, v):  # a coded value in the console's language
        return VALUE_LABELS.get(column, {}).get(v, v) if a.lang == "zh" else str(v).replace("_", " ")

    did = tables["support_did"]
    for r in did[did["indicator"] == "cmi"].itertuples():
        program = clean(word("program", r.program), 60)
        if r.status != "ok":
            print(say(a.lang, "support_none", program=program, status=word("status", r.status), n=r.treated_hospitals,
                      m=r.control_hospitals))
            continue
        pre = f"{r.pretrend_p:.2f}" if not math.isnan(r.pretrend_p) else "-"
        print(say(a.lang, "support_did", program=program, did=r.did, lo=r.ci_low, hi=r.ci_high,
                  n=r.treated_hospitals, m=r.control_hospitals) + say(a.lang, "support_pre", cohorts=r.cohorts, p=pre))
    print(say(a.lang, "support_done", output=a.output))
    return 0


def _later(module: str, name: str):
    """A command whose module is imported when it runs (`drg serve`'s server libraries load only for it)."""
    return lambda a: getattr(importlib.import_module(module, "drg"), name)(a)


COMMANDS = {"group": cmd_group, "explain": cmd_explain, "scheme_check": cmd_scheme_check, "demo": cmd_demo,
            "evaluate": cmd_evaluate, "risk": cmd_risk, "audit": cmd_audit, "pay": cmd_pay, "tiered_care": cmd_tiered_care, "support": cmd_support,
            "report": _later(".report", "report_command"), "synth": cmd_synth, "serve": _later(".serve.command", "serve"),
            "check": _later(".check.command", "check"), **{f"dip_{c}": _later(".dip", f"dip_{c}") for c in ("build", "group", "pay")}}


def main(argv=None) -> int:
    """``drg ARGV``: every line it prints to the terminal passes :class:`drg.terminal.CleanStream`."""
    from .terminal import clean_console

    with clean_console():
        return _run(argv)


def _run(argv) -> int:
    from grouper.columns import ColumnError
    from grouper.scheme import SchemeError

    from .atomic import OutputError
    from .io import InputError

    try:
        argv = lang_after_command(sys.argv[1:] if argv is None else argv)
        args = build_parser(help_language(argv)).parse_args(argv)
    except SystemExit as e:  # -h (0) or a refused option (2, one line printed): a status, also when called in-process
        return e.code if isinstance(e.code, int) else 2
    from . import progress

    if args.command not in ("group", "explain", "scheme_check", "serve", "check", "dip_build", "dip_group", "dip_pay"):  # group draws its own bar; the others are instant
        progress.start(args.command.replace("_", "-"), getattr(args, "lang", "zh"), getattr(args, "quiet", False))
    from .contract import NOTES

    NOTES.clear()
    try:
        status = COMMANDS[args.command](args)
        print(*NOTES, sep="\n", file=sys.stderr) if NOTES else None
        return status
    except (SchemeError, ColumnError, InputError, UsageError, OutputError) as e:
        return _fail(error_line(e, getattr(args, "lang", "zh")), 2)
    except KeyboardInterrupt:
        return _fail("drg: interrupted; no output was written", 130)
    except BrokenPipeError:  # whoever read our console lines stopped (`| head`): the outputs are already written
        try:  # and Python must not complain again when it flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    except OSError as e:
        from .terminal import os_error_line

        return _fail(clean(os_error_line(e, getattr(args, "output", None))), 2)
    finally:
        progress.finish()


def _fail(line: str, status: int) -> int:
    """Print the one line, and keep the destructors of what failed (e.g. a half-written zip of a
    workbook on a full disk) from printing "Exception ignored in ..." under it."""
    print(line, file=sys.stderr)
    sys.unraisablehook = lambda unraisable: None
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
