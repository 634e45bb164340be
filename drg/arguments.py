"""The ``drg`` command line: every command and option with its help (the parser only; :mod:`drg.cli` runs the
commands; the parser's machinery is :mod:`drg.parser`, the option values' readers :mod:`drg.option_values`)."""

from __future__ import annotations

import argparse

from .option_values import (
    BATCH,
    MEASURE,
    SEED,
    THREADS,
    amount,
    parse_budgets,
    parse_codes,
    parse_coefficients,
    parse_outcomes,
    parse_scenario,
    parse_years,
    whole,
)
from .parser import (
    LANG,
    Parser,
    UsageError,
    display_width,
    every_command,
    help_language,
    lang_after_command,
    localize,
    wrap_text,
)

# what callers take from here: the commands' declarations and the names of the two modules above they use
__all__ = ["BATCH", "EXAMPLES_COMMANDS", "MEASURE", "SEED", "THREADS", "UsageError", "amount", "build_parser",
           "display_width", "help_language", "lang_after_command", "parse_budgets", "parse_codes", "parse_coefficients",
           "parse_outcomes", "parse_scenario", "parse_years", "v2_fields", "version", "whole", "wrap_text"]


def _group(sub) -> None:
    g = sub.add_parser("group", help="group discharge records (Parquet/CSV/Excel) into DRGs")
    g.add_argument("input", help="a .parquet/.csv/.xlsx file, a directory of Parquet files, or a glob")
    g.add_argument("-o", "--output", required=True, help="output .parquet, .csv or .xlsx (up to 1,048,575 rows)")
    g.add_argument("--encoding", choices=["utf-8-sig", "utf-8", "gbk", "gb18030"], default="utf-8-sig",
                   help="CSV output: UTF-8 with BOM (default: opens right in Excel on a Chinese PC), plain UTF-8, GBK or GB18030")
    g.add_argument("--scheme", help="scheme directory (default: $DRG_SCHEME, else the national CHS-DRG 1.1 shipped with drg)")
    g.add_argument("--map-codes", action="store_true", help="convert codes with the scheme's dx/px maps first")
    g.add_argument("--only-results", action="store_true", help="read only the grouping columns; write case_id + results")
    g.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of reason/warnings (default zh)")
    g.add_argument("--batch-size", type=BATCH, default=1_000_000, help="rows per batch (memory bound; default 1,000,000)")
    g.add_argument("--threads", type=THREADS, help="Numba threads (default: all cores)")
    g.add_argument("--dask", metavar="local|ADDRESS", help="group on a Dask cluster (pip install .[dask])")
    g.add_argument("--check", action="store_true", help="add drg check's settlement-list issues to each row's warnings (duplicates within a batch)")
    g.add_argument("--rules", help="with --check: a folder of rule tables added to the default rules, as drg check --rules")
    g.add_argument("--csv-raw", action="store_true",
                   help="CSV output: write text cells as they are (default: a cell starting with = + - @ TAB CR gets a "
                        "leading ' so a spreadsheet cannot run it as a formula); for machine pipelines")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary on stderr")
    g.set_defaults(command="group")


def v2_fields(a) -> dict:
    """The CHS-DRG 2.0 / 3.0 fields of ``drg explain``'s options (FORMAT.md 2), as a record holds them."""
    flag = {"1": 1, "是": 1, "0": 0, "否": 0}
    return {"admission_weight_g": a.admission_weight, "crrt_hours": a.crrt_hours,
            **{k: flag.get(getattr(a, k)) for k in ("new_technique", "intensive_care", "day_surgery")}}


def _explain(sub) -> None:
    e = sub.add_parser("explain", help="show every rule tried for one record")
    e.add_argument("--scheme")
    e.add_argument("--dx", required=True, help="diagnoses, principal first: A|B or A,B")
    e.add_argument("--px", help="procedures, principal first")
    e.add_argument("--sex", help="sex: 1/2, 男/女 or M/F, as files write it")
    e.add_argument("--age", type=MEASURE)
    e.add_argument("--age-days", type=MEASURE)
    e.add_argument("--weight", type=MEASURE, help="birth weight in grams")
    e.add_argument("--los", type=MEASURE, help="length of stay in days")
    e.add_argument("--leaving-type")
    e.add_argument("--dept")
    e.add_argument("--icu-hours", type=MEASURE)
    e.add_argument("--admission-weight", type=MEASURE)
    e.add_argument("--crrt-hours", type=MEASURE)
    for flag in ("--new-technique", "--intensive-care", "--day-surgery"):
        e.add_argument(flag, choices=["1", "0", "是", "否"])
    e.add_argument("--map-codes", action="store_true")
    e.add_argument("--weights", help="weights CSV (drg, weight[, mean_cost]): also estimate what the case would be paid")
    e.add_argument("--point-value", type=amount(0, 1e9, above=True), help="yuan per point (points method; with --weights)")
    e.add_argument("--base-rate", type=amount(0, 1e9, above=True), help="yuan per weight unit (rate method; with --weights)")
    e.add_argument("--cost", type=amount(0, 1e12), help="the case's total cost in yuan (high/low cost classes need mean_cost)")
    e.add_argument("--coefficient", type=amount(0, 100, above=True), default=1.0, help="the hospital's level coefficient (default 1.0)")
    e.add_argument("--config", help="TOML with [payment] rules (k_lo, k_hi, los_max, ...), as drg pay")
    e.add_argument("--lang", choices=["zh", "en"], default="zh")
    e.set_defaults(command="explain")


def _serve(sub) -> None:
    s = sub.add_parser("serve", help="pre-grouping service: an HTTP API and a coder's page for grouping, explaining and pricing cases as they are coded")
    s.add_argument("--scheme", help="scheme directory (default: $DRG_SCHEME, else the national CHS-DRG 1.1 shipped with drg)")
    s.add_argument("--weights", help="weights CSV (drg, weight[, mean_cost]): results carry the weight and, with a point value or base rate, the payment estimate")
    s.add_argument("--point-value", type=amount(0, 1e9, above=True), help="yuan per point (points method; with --weights)")
    s.add_argument("--base-rate", type=amount(0, 1e9, above=True), help="yuan per weight unit (rate method; with --weights)")
    s.add_argument("--coefficient", type=amount(0, 100, above=True), default=1.0, help="the hospital's level coefficient (default 1.0)")
    s.add_argument("--config", help="TOML with [payment] rules (k_lo, k_hi, los_max, ...), as drg pay")
    s.add_argument("--map-codes", action="store_true", help="convert codes with the scheme's dx/px maps first")
    s.add_argument("--rules", help="a folder of rule tables (CSV) added to the default quality-control rules of /api/check, as drg check --rules")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only; any other needs --token)")
    s.add_argument("--port", type=whole(1, 65535), default=8000, help="port (default 8000)")
    s.add_argument("--workers", type=whole(1, 64), default=1, help="server processes (default 1), each with the scheme loaded")
    s.add_argument("--token", help="a secret every API request must carry (header Authorization: Bearer TOKEN); required off 127.0.0.1")
    s.add_argument("--max-body-mb", type=amount(0, 4096, above=True), default=8, help="largest JSON request in MB (default 8; larger: 413)")
    s.add_argument("--log-requests", action="store_true", help="log each request's method, path and status (never its body)")
    s.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the start-up lines")
    s.set_defaults(command="serve")


def _check(sub) -> None:
    c = sub.add_parser("check", help="settlement-list quality control (结算清单质控) before upload: every issue per case, by rule tables a region can extend")
    c.add_argument("input", help="a .parquet/.csv/.xlsx file, a directory of Parquet files, or a glob (anything drg group reads)")
    c.add_argument("-o", "--output", required=True, help="output folder: issues.parquet, hospitals/departments/rules.parquet, check.xlsx, check.json")
    c.add_argument("--scheme", help="scheme directory (default: $DRG_SCHEME, else the national CHS-DRG 1.1 shipped with drg)")
    c.add_argument("--rules", help="a folder of rule tables (CSV, docs/check-rules.md) added to the default rules; a rule_id already known replaces that rule")
    c.add_argument("--columns", help="TOML mapping canonical names to your columns ([columns] hospital_id = \"机构\")")
    c.add_argument("--batch-size", type=BATCH, default=200_000, help="rows per batch (memory bound; default 200,000)")
    c.set_defaults(command="check")


def _dip(sub) -> None:
    d = sub.add_parser("dip", help="DIP (按病种分值付费): build a catalogue from the region's cases, group to it, settle in points")
    dsub = d.add_subparsers(dest="dip_command", required=True)
    b = dsub.add_parser("build", help="the disease-intervention catalogue from base-year cases (core and comprehensive groups, scores, severity tiers)")
    b.add_argument("input", help="base-year cases with diagnoses, procedures and total cost (anything drg group reads)")
    b.add_argument("-o", "--output", required=True, help="catalogue folder: groups.csv, severity.csv, procedure_kinds.csv, catalogue.json")
    b.add_argument("--min-cases", type=whole(1, 10**6), default=15, help="cases a combination needs to be a core group (default 15)")
    b.add_argument("--years", type=parse_years, help="base years to use, e.g. 2019-2021 (default: every case)")
    b.add_argument("--reference", metavar="GROUP_ID", help="score against this group's mean cost instead of all cases' mean")
    b.add_argument("--scheme", help="scheme directory whose operating-room list and procedure names give the kinds of treatment")
    b.add_argument("--batch-size", type=BATCH, default=200_000, help="rows per batch (memory bound; default 200,000)")
    b.set_defaults(command="dip_build")
    g = dsub.add_parser("group", help="every case to one group of a DIP catalogue")
    g.add_argument("input", help="cases to group (anything drg group reads)")
    g.add_argument("-o", "--output", required=True, help="output .parquet, .csv or .xlsx: the input's columns and the DIP columns")
    g.add_argument("--catalogue", required=True, help="catalogue folder (drg dip build, or an official one in its layout)")
    g.add_argument("--batch-size", type=BATCH, default=200_000, help="rows per batch (memory bound; default 200,000)")
    g.set_defaults(command="dip_group")
    y = dsub.add_parser("pay", help="points per case, point value per year, payments in fen, settlement per hospital")
    y.add_argument("input", help="drg dip group's output")
    y.add_argument("--budget", required=True, help="yuan per year (e.g. 1.2e9) or per year: 2019=1.1e9,2020=1.2e9")
    y.add_argument("--coefficients", default="", help="level coefficients, e.g. 三级=1.0,二级=0.9 (default 1)")
    y.add_argument("--high", type=amount(1, 100, above=True), default=2.0, help="cost above this times the group's mean: a high-cost case (default 2)")
    y.add_argument("--low", type=amount(0, 1, above=True), default=0.5, help="cost below this times the group's mean: a low-cost case (default 0.5)")
    y.add_argument("-o", "--output", required=True, help="output folder: cases.parquet, hospitals.parquet, parameters.parquet, pay.json")
    y.add_argument("--batch-size", type=BATCH, default=200_000, help="rows per batch (memory bound; default 200,000)")
    y.set_defaults(command="dip_pay")


def _scheme(sub) -> None:
    s = sub.add_parser("scheme", help="scheme tools")
    ssub = s.add_subparsers(dest="scheme_command", required=True)
    c = ssub.add_parser("check", help="validate a scheme directory and count its parts")
    c.add_argument("dir")
    c.add_argument("--json", action="store_true")
    c.set_defaults(command="scheme_check")


def _demo(sub) -> None:
    d = sub.add_parser("demo", help="synthesize a region, group it and evaluate it: the whole product on demo data")
    d.add_argument("-o", "--output", default="demo-output", help="output folder (default demo-output)")
    d.add_argument("--scheme", help="scheme directory (default: $DRG_SCHEME, else the national CHS-DRG 1.1 shipped with drg)")
    d.add_argument("--cases", type=whole(0, 10**10), default=200_000)
    d.add_argument("--seed", type=SEED, default=2019)
    d.add_argument("--threads", type=THREADS)
    d.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of every table, the report and the terminal (default zh)")
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(command="demo")


def _evaluate(sub) -> None:
    v = sub.add_parser("evaluate", help="DRG weights, hospital indicators by peer group, discipline, risk-adjusted mortality")
    v.add_argument("grouped", help="grouped records (drg group output) with hospital_id, total_cost, los_days, leaving_type")
    v.add_argument("--by", choices=["hospital", "hospital-mdc", "hospital-adrg", "dept", "doctor", "hospital-dept"], default="hospital",
                   help="also a table per department (科室), doctor (主诊医师) or hospital x department, each judged within "
                        "its specialty (needs dept / doctor_id: 出院科别, 主诊医师代码)")
    v.add_argument("--period", choices=["month", "quarter", "year"],
                   help="also a table per hospital and month/quarter/year of discharge, with changes vs the previous period "
                        "and the same period last year (环比, 同比)")
    v.add_argument("--weights", help="published weights CSV (drg, weight) to use instead of computed ones")
    v.add_argument("--peer", choices=["level", "level-kind", "none"], default="level")
    v.add_argument("--hospitals", help="hospitals CSV (hospital_id, level[, kind, name]) or region folder; default: built-in dezhou when ids match")
    v.add_argument("--years", help="subset of years, e.g. 2020-2021")
    v.add_argument("--level", help="subset of levels, e.g. tertiary,secondary")
    v.add_argument("--hospital", help="subset of hospitals, e.g. DZ001,DZ002 (they are then also the reference population)")
    v.add_argument("--leave-one-out", action="store_true",
                   help="judge each hospital against the others only (O/E, cost and time indices); tables say which")
    v.add_argument("--min-cases-risk", type=whole(1, 10**9), default=30,
                   help="cases a DRG needs before it gets a regional mortality risk level (default 30)")
    v.add_argument("--risk-levels", help="CSV with drg, risk_level (0-4): fixed levels, e.g. the national assessment's, "
                                         "instead of regional ones")
    v.add_argument("--overdispersion", nargs="?", const="additive", default="auto",
                   choices=["auto", "additive", "multiplicative", "none"],
                   help='mortality funnel for regions whose hospitals vary more than chance allows: auto (default: each peer group is tested for over-dispersion, n·phi against chi2(n-1), and gets random-effects limits where it is present), additive (always random effects, Spiegelhalter 2005: within each peer group, outliers set aside by the generalized ESD of Rosner 1983, each hospital judged against the DerSimonian-Laird centre and tau2 of the other hospitals with Student t of their degrees of freedom; limits: exact Poisson-log-normal quantiles), multiplicative (limits widened by sqrt(phi), methodology 5.3) or none (exact Poisson limits)')
    v.add_argument("--risk-model", metavar="DIR", help="output folder of drg risk on the same grouped file: expected "
                                                        "deaths from its patient-level model instead of DRG rates")
    v.add_argument("--batch-size", type=BATCH, default=1_000_000, help="rows per batch (memory bound; default 1,000,000)")
    v.add_argument("--dask", metavar="local|ADDRESS", help="read and reduce the input on a Dask cluster (pip install .[dask]); "
                                                            "the tables are those of a local run")
    v.add_argument("--lang", choices=["zh", "en"], default="zh", help="table headers (default Chinese)")
    v.add_argument("-o", "--output", required=True, help="output folder")
    v.add_argument("--columns", metavar="TOML", help="[columns] canonical name = your column, for headers that are "
                       "neither canonical nor a known 病案首页/结算清单 name (e.g. hospital_id = \"机构\")")
    v.set_defaults(command="evaluate")


def _risk(sub) -> None:
    r = sub.add_parser("risk", help="patient-level risk models: expected death, LOS and cost per case; hospital O/E")
    r.add_argument("grouped", help="grouped records (drg group output) with case_id, hospital_id, drg, dx, age, sex and outcomes")
    r.add_argument("-o", "--output", required=True, help="output folder (cases.parquet, hospital, hospital_year, model, calibration)")
    r.add_argument("--outcomes", default="death,los,cost", help="which models to fit (default death,los,cost)")
    r.add_argument("--hospitals", help="hospitals CSV (hospital_id, level[, kind, name]) or region folder; default: built-in dezhou when ids match")
    r.add_argument("--scheme", help="scheme whose MCC/CC tables give the MCC/CC features (default: $DRG_SCHEME, else CHS-DRG 1.1)")
    r.add_argument("--folds", type=whole(0, 1000), default=5, help="cross-fitting folds (default 5): no case is predicted by a model that saw it")
    r.add_argument("--folds-by", choices=["case", "hospital"], default="case",
                   help="assign folds by case (default) or by hospital (a hospital's cases never train its own expectations)")
    r.add_argument("--sample", type=whole(0, 10**10), default=250_000, help="cases the models are fitted on (a fixed random sample; default 250,000)")
    r.add_argument("--seed", type=SEED, default=0)
    r.add_argument("--peer", choices=["level", "level-kind", "none"], default="level")
    r.add_argument("--overdispersion", nargs="?", const="additive", default="auto",
                   choices=["auto", "additive", "multiplicative", "none"],
                   help="mortality funnel with over-dispersion, as in drg evaluate")
    r.add_argument("--batch-size", type=BATCH, default=1_000_000, help="rows per batch (memory bound; default 1,000,000)")
    r.add_argument("--dask", metavar="local|ADDRESS", help="read and reduce the input on a Dask cluster (pip install .[dask]); "
                                                            "the tables are those of a local run")
    r.add_argument("--lang", choices=["zh", "en"], default="zh")
    r.add_argument("--columns", metavar="TOML", help="[columns] canonical name = your column, for headers that are "
                       "neither canonical nor a known 病案首页/结算清单 name (e.g. hospital_id = \"机构\")")
    r.set_defaults(command="risk")


def _audit(sub) -> None:
    r = sub.add_parser("audit", help="coding-quality and gaming surveillance: target areas per hospital-year (upcoding, "
                                     "split admissions, low-value admissions...), a ranked chart-review list")
    r.add_argument("grouped", help="grouped records (drg group output) with case_id, hospital_id, dx, px, dates and patient_id")
    r.add_argument("-o", "--output", required=True, help="output folder (hospital_flags, review_cases, split_admissions, target_areas)")
    r.add_argument("--hospitals", help="hospitals CSV (hospital_id, level[, kind, name]) or region folder: the peer groups")
    r.add_argument("--scheme", help="scheme whose MCC/CC tables define MCC/CC capture (default: $DRG_SCHEME, else CHS-DRG 1.1)")
    r.add_argument("--weights", help="published weights CSV (drg, weight); default: DRG mean cost / regional mean")
    r.add_argument("--folds", type=whole(0, 1000), default=5, help="cross-fitting folds by hospital for the MCC/CC model (default 5)")
    r.add_argument("--review-limit", type=whole(0, 10**10), default=100_000, help="most cases in the review list (default 100,000)")
    r.add_argument("--seed", type=SEED, default=0)
    r.add_argument("--batch-size", type=BATCH, default=1_000_000, help="rows per batch read (default 1,000,000)")
    r.add_argument("--dask", metavar="local|ADDRESS", help="read and reduce the input on a Dask cluster (pip install .[dask]); "
                                                            "the tables are those of a local run")
    r.add_argument("--lang", choices=["zh", "en"], default="zh")
    r.add_argument("--columns", metavar="TOML", help="[columns] canonical name = your column, for headers that are "
                       "neither canonical nor a known 病案首页/结算清单 name (e.g. hospital_id = \"机构\")")
    r.set_defaults(command="audit")


def _pay(sub) -> None:
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
    pay.add_argument("--batch-size", type=BATCH, default=1_000_000, help="rows per batch (memory bound; default 1,000,000)")
    pay.add_argument("--dask", metavar="local|ADDRESS", help="read and reduce the input on a Dask cluster (pip install .[dask]); "
                                                              "the tables are those of a local run")
    pay.add_argument("--lang", choices=["zh", "en"], default="zh")
    pay.add_argument("-o", "--output", required=True, help="output folder")
    pay.add_argument("--columns", metavar="TOML", help="[columns] canonical name = your column, for headers that are "
                       "neither canonical nor a known 病案首页/结算清单 name (e.g. hospital_id = \"机构\")")
    pay.set_defaults(command="pay")


def _tiered_care(sub) -> None:
    t = sub.add_parser("tiered-care", help="in-county / in-region rates, primary share, basic-care DRGs, referrals, service revenue vs targets")
    t.add_argument("grouped")
    t.add_argument("--targets", help="TOML of target values ([targets] in_county_rate = 0.9, ...); default: the seed cities' targets")
    t.add_argument("--hospitals", help="hospitals CSV (hospital_id, level, county) or region folder; default: built-in dezhou")
    t.add_argument("--basic-care", help="CSV with a drg column: the basic-care (基层病种) DRG list; default: medical DRGs with RW < 0.8")
    t.add_argument("--batch-size", type=BATCH, default=1_000_000, help="rows per batch (memory bound; default 1,000,000)")
    t.add_argument("--dask", metavar="local|ADDRESS", help="read and reduce the input on a Dask cluster (pip install .[dask]); "
                                                            "the tables are those of a local run")
    t.add_argument("--lang", choices=["zh", "en"], default="zh")
    t.add_argument("-o", "--output", required=True)
    t.add_argument("--columns", metavar="TOML", help="[columns] canonical name = your column, for headers that are "
                       "neither canonical nor a known 病案首页/结算清单 name (e.g. hospital_id = \"机构\")")
    t.set_defaults(command="tiered_care")


def _support(sub) -> None:
    su = sub.add_parser("support", help="counterpart support: recipients before/after and difference-in-differences")
    su.add_argument("grouped")
    su.add_argument("--pairs", help="support pairs CSV (supporter_id, recipient_id, program, specialty_1, specialty_2, start_year); "
                                       "default: built-in dezhou")
    su.add_argument("--start", type=whole(1900, 2200), default=2019, help="first year of support for pairs without a start_year column "
                                                             "(that year is left out of pre and post)")
    su.add_argument("--control-group", choices=["never", "not-yet"], default="never",
                    help="comparison hospitals: never supported while the data run (default), or also this program's "
                         "recipients before their own start")
    su.add_argument("--hospitals")
    su.add_argument("--procedure-grades", help="CSV with code, grade (1-4): level-2+ surgery by the principal procedure's "
                                               "grade instead of the DRG-partition proxy")
    su.add_argument("--batch-size", type=BATCH, default=1_000_000, help="rows per batch (memory bound; default 1,000,000)")
    su.add_argument("--dask", metavar="local|ADDRESS", help="read and reduce the input on a Dask cluster (pip install .[dask]); "
                                                             "the tables are those of a local run")
    su.add_argument("--lang", choices=["zh", "en"], default="zh")
    su.add_argument("-o", "--output", required=True)
    su.add_argument("--columns", metavar="TOML", help="[columns] canonical name = your column, for headers that are "
                       "neither canonical nor a known 病案首页/结算清单 name (e.g. hospital_id = \"机构\")")
    su.set_defaults(command="support")


def _report(sub) -> None:
    r = sub.add_parser("report", help="self-contained HTML report (+ Excel workbook) from an output folder")
    r.add_argument("eval_dir", metavar="FOLDER", help="a folder holding drg outputs at any depth (drg evaluate -o eval/, "
                                                          "pay -o pay/, ...; found by their manifests), e.g. . or a drg demo folder")
    r.add_argument("-o", "--output", required=True, help="report .html")
    r.add_argument("--xlsx", help="also write the tables to this .xlsx")
    r.add_argument("--lang", choices=["zh", "en"], default="zh")
    r.set_defaults(command="report")


def _synth(sub) -> None:
    y = sub.add_parser("synth", help="synthesize a region's discharges with planted effects")
    y.add_argument("--scheme")
    y.add_argument("--region", default="dezhou", help="built-in region name or a folder with hospitals.csv, support_pairs.csv")
    y.add_argument("--years", default="2018-2021")
    y.add_argument("--cases", type=whole(0, 10**10), default=200_000)
    y.add_argument("--seed", type=SEED, default=1)
    y.add_argument("--batch-size", type=BATCH, default=250_000,
                   help="cases made and written at a time (memory bound; default 250,000; a larger synth is made in parts of consecutive days)")
    y.add_argument("--workers", type=THREADS, help="processes making parts side by side (default: all cores, at most 8)")
    y.add_argument("-o", "--output", required=True, help="output folder")
    y.add_argument("-q", "--quiet", action="store_true")
    y.set_defaults(command="synth")


def build_parser(lang: str = "zh") -> argparse.ArgumentParser:
    """Every command and option; help in Chinese (default) or English (``lang="en"``)."""
    from .help_zh import ARGPARSE_ZH

    # argparse's own words (headings made as parsers are built, usage, its errors) through its gettext hook
    argparse._ = (lambda s: ARGPARSE_ZH.get(s, s)) if lang == "zh" else (lambda s: s)
    LANG["now"] = lang
    p = Parser(prog="drg", description="CHS-DRG grouping and hospital evaluation toolkit")
    p.add_argument("--version", action="version", version=f"drg {version()}",
                   help="版本号" if lang == "zh" else "show the version and exit")
    p.add_argument("--lang", dest="top_lang", choices=["zh", "en"],
                   help="语言：zh(默认)或 en，写在命令前后均可" if lang == "zh" else "language: zh (default) or en, before or after the command")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in (_group, _explain, _check, _scheme, _demo, _evaluate, _risk, _audit, _pay, _tiered_care, _support, _report, _synth, _serve,
                _dip):
        add(sub)
    every_command(sub, lang)
    localize(p, lang)
    return p


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("drg-toolkit")
    except PackageNotFoundError:
        return "0+unknown"


EXAMPLES_COMMANDS = ("group", "explain", "check", "scheme check", "demo", "evaluate", "risk", "audit", "pay", "tiered-care", "support",
                     "report", "synth", "serve", "dip build", "dip group", "dip pay")  # every command a user types: each has examples under its help
