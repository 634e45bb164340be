"""`drg demo`: the whole product on built-in demo data (grows as features land)."""

from __future__ import annotations

import os
import sys

from grouper.codes import STATUS_OK

from .text import say


def run_demo(scheme_path: str, output: str, *, cases: int = 200_000, seed: int = 2019, quiet: bool = False,
             lang: str = "zh") -> int:
    import grouper

    from .atomic import OutputFolder
    from .io import InputError

    if cases < 1_000:
        raise InputError(f"--cases {cases}: the demo needs at least 1,000 cases (a region of 178 hospitals over four "
                         "years); e.g. --cases 20000")
    final = output
    with OutputFolder(final, command="demo") as output:  # the whole demo folder appears as a unit
        summary, flagged, support, audit, checked = _run(grouper.load_scheme(scheme_path), output, final, cases, seed, quiet, lang)
    output = final
    ok = summary["status_counts"].get(STATUS_OK, 0) / max(summary["rows_in"], 1)
    none = say(lang, "none")
    for key, values in (("demo_done", {"rows": summary["rows_in"], "ok": ok, "status": STATUS_OK}),
                        ("demo_synth", {"path": os.path.join(output, "synthetic")}),
                        ("demo_grouped", {"path": os.path.join(output, "grouped.parquet")}),
                        ("demo_check", {"path": os.path.join(output, "check"), "rate": checked["pass_rate"],
                                        "errors": checked["cases_with_errors"]}),
                        ("demo_eval", {"path": os.path.join(output, "evaluation")}),
                        ("demo_funnel", {"ids": ", ".join(flagged["drg"]) or none}),
                        ("demo_risk", {"path": os.path.join(output, "risk"), "ids": ", ".join(flagged["patient"]) or none})
                        if flagged["patient"] is not None else ("demo_risk_skipped", {}),
                        ("demo_audit", {"path": os.path.join(output, "audit"), "flagged": audit["flagged"] or none,
                                        "planted": audit["planted"]}),
                        ("demo_views", {"dept": os.path.join(output, "departments"), "doctor": os.path.join(output, "doctors"),
                                        "path": os.path.join(output, "evaluation")}),
                        ("demo_dip", {"path": os.path.join(output, "dip")}),
                        ("demo_pay", {k: os.path.join(output, v) for k, v in (("pay", "payment"), ("tiered", "tiered_care"),
                                                                               ("support", "support"))}),
                        ("demo_did", {"text": "; ".join(support) or say(lang, "no_program")}),
                        ("demo_report", {"path": os.path.join(output, "report.html")})):
        print(say(lang, key, **values))
    return 0


def _run(scheme, output: str, final: str, cases: int, seed: int, quiet: bool, lang: str = "zh"):
    """Every step of the demo, written into ``output`` (the folder that becomes ``final``)."""
    from .atomic import write_json_atomic
    from .batch import group_file, summary_path
    from .synth import synthesize

    step = (lambda key, **kw: None) if quiet else (lambda key, **kw: print(say(lang, key, **kw), file=sys.stderr))
    step("demo_1", cases=cases, scheme=scheme.id)
    synth_dir = os.path.join(output, "synthetic")
    synthesize(scheme, synth_dir, region="dezhou", years=[2018, 2019, 2020, 2021], cases=cases, seed=seed, quiet=quiet,
               lang=lang)
    step("demo_2")
    grouped = os.path.join(output, "grouped.parquet")
    summary = group_file(os.path.join(synth_dir, "discharges.parquet"), grouped, scheme, quiet=quiet, lang=lang)
    for key in ("input", "output"):  # the paths the user will see, not the temporary folder's
        summary[key] = os.path.join(final, os.path.relpath(summary[key], output))
    write_json_atomic(summary_path(grouped), summary)
    step("demo_2c")
    from .check.command import check_file

    checked = check_file(os.path.join(synth_dir, "discharges.parquet"), os.path.join(output, "check"), scheme, quiet=quiet,
                         lang=lang)
    step("demo_3")
    from .analyses import evaluate_to, pay_to, support_to, tiered_care_to
    from .report import build_report
    from .risk import risk_to

    step("demo_3r")
    from .risk import TooFewCases

    try:
        risk = risk_to(grouped, os.path.join(output, "risk"), scheme_path=str(scheme.path), overdispersion="additive",
                       lang=lang)["hospital"]
    except TooFewCases:  # a small demo: the patient-level models need more cases; everything else still runs
        risk = None
    tables = evaluate_to(grouped, os.path.join(output, "evaluation"), by="hospital-mdc", drg_names=scheme.drg_names,
                         period="month", lang=lang)
    flagged = {"drg": tables["outcomes"][tables["outcomes"]["funnel_flag"] == "alarm_high"]["hospital_id"].tolist(),
               "patient": None if risk is None else risk[risk["funnel_flag"] == "alarm_high"]["hospital_id"].tolist()}
    step("demo_3v")
    evaluate_to(grouped, os.path.join(output, "departments"), by="dept", lang=lang)
    evaluate_to(grouped, os.path.join(output, "doctors"), by="doctor", lang=lang)
    step("demo_3a")
    from .audit import audit_to

    audit = _audit_headline(audit_to(grouped, os.path.join(output, "audit"), scheme_path=str(scheme.path), lang=lang),
                            os.path.join(synth_dir, "truth.json"), lang)
    step("demo_4")
    from evaluation.payment import PaymentConfig

    from .tables import read_grouped

    spend = read_grouped(grouped, ["year", "total_cost"]).astype({"total_cost": float}).groupby("year")["total_cost"].sum()
    pay_to(grouped, os.path.join(output, "payment"), {int(y): round(float(v), 2) for y, v in spend.items()}, PaymentConfig(),
           variants={("预算减5%" if lang == "zh" else "budget-5pct"): ({int(y): round(float(v) * 0.95, 2) for y, v in spend.items()}, {})}, lang=lang)
    step("demo_4d")
    _dip(synth_dir, output, scheme, {int(y): round(float(v), 2) for y, v in spend.items()}, lang)
    tiered_care_to(grouped, os.path.join(output, "tiered_care"), lang=lang)
    support = support_to(grouped, os.path.join(output, "support"), pairs=os.path.join(synth_dir, "support_pairs.csv"), lang=lang)
    build_report(output, os.path.join(output, "report.html"), os.path.join(output, "report.xlsx"), lang=lang)
    return summary, flagged, _support_headline(support["support_did"], lang), audit, checked


def _dip(synth_dir: str, output: str, scheme, budgets: dict, lang: str) -> None:
    """DIP on the region: the catalogue from its first two years, every case grouped to it, every year settled."""
    from . import dip

    discharges = os.path.join(synth_dir, "discharges.parquet")
    catalogue, grouped = os.path.join(output, "dip", "catalogue"), os.path.join(output, "dip", "grouped.parquet")
    dip.build(discharges, catalogue, scheme=str(scheme.path), years=sorted(budgets)[:2])
    dip.group(discharges, grouped, catalogue, lang=lang)
    dip.pay(grouped, os.path.join(output, "dip", "settlement"), budgets, lang=lang)


def _audit_headline(tables: dict, truth_path: str, lang: str = "zh") -> dict:
    """Hospitals flagged per target area, beside the coding games the synthetic region planted."""
    import json

    from evaluation.words import AREA_TEXT

    f = tables["hospital_flags"]
    f = f[f["flag"]]
    name = (lambda area: AREA_TEXT["zh"][area][0]) if lang == "zh" else (lambda area: area)
    flagged = "; ".join(f"{name(area)}: {', '.join(sorted(set(g['hospital_id'])))}"
                        for area, g in f.groupby("target_area", sort=True))
    with open(truth_path, encoding="utf-8") as fh:
        h = json.load(fh)["hospitals"]
    up = ", ".join(say(lang, "demo_from", id=x["hospital_id"], year=x["upcoding_from"]) for x in h if x["upcoding_from"])

    def who(game: str) -> str:  # the hospitals that play a game of drg synth's (truth.json), "-" for none
        return ", ".join(x["hospital_id"] for x in h if x.get(game)) or "-"

    planted = say(lang, "demo_planted", up=up, split=who("splits_admissions"), low=who("low_value_admissions"),
                  readmit=who("readmits"), sloppy=who("sloppy_coding"), short=who("short_stays"),
                  swap=who("principal_by_payment"))
    return {"flagged": flagged, "planted": planted}


def _support_headline(did, lang: str = "zh") -> list[str]:
    """Per support program: the CMI difference-in-differences with its CI, or why there is none."""
    from evaluation.words import VALUE_LABELS

    out = []
    for r in did[did["indicator"] == "cmi"].itertuples():
        program = VALUE_LABELS["program"].get(r.program, r.program) if lang == "zh" else r.program
        if r.status == "ok":
            out.append(say(lang, "did_ok", program=program, did=r.did, lo=r.ci_low, hi=r.ci_high))
        else:
            status = VALUE_LABELS["status"].get(r.status, r.status) if lang == "zh" else r.status
            out.append(say(lang, "did_none", program=program, status=status))
    return out
