"""`drg demo`: the whole product on built-in demo data (grows as features land)."""

from __future__ import annotations

import os
import sys

from grouper.codes import STATUS_OK


def run_demo(scheme_path: str, output: str, *, cases: int = 200_000, seed: int = 2019, quiet: bool = False) -> int:
    import grouper

    from .atomic import OutputFolder

    final = output
    with OutputFolder(final, command="demo") as output:  # the whole demo folder appears as a unit
        summary, flagged, support, audit = _run(grouper.load_scheme(scheme_path), output, final, cases, seed, quiet)
    output = final
    synth_dir = os.path.join(output, "synthetic")
    grouped = os.path.join(output, "grouped.parquet")
    eval_dir = os.path.join(output, "evaluation")
    ok = summary["status_counts"].get(STATUS_OK, 0) / max(summary["rows_in"], 1)
    print(f"demo done: {summary['rows_in']:,} discharges, {ok:.1%} grouped ({STATUS_OK})")
    print(f"  synthetic data and planted effects: {synth_dir}/ (discharges.parquet, truth.json, truth.parquet)")
    print(f"  grouped records: {grouped} (+ .summary.json)")
    print(f"  evaluation tables (Chinese headers) and workbook: {eval_dir}/ (evaluation.xlsx)")
    print(f"  hospitals above the 99.8% mortality funnel limit (expected deaths from DRG rates): {', '.join(flagged['drg']) or 'none'}")
    print(f"  patient-level risk models (expected death, LOS, cost per case; model report): {output}/risk/; above the "
          f"99.8% limit after patient-level adjustment (random-effects funnel): {', '.join(flagged['patient']) or 'none'}")
    print(f"  coding audit (upcoding, split and low-value admissions; chart-review list): {output}/audit/; flagged: "
          f"{audit['flagged'] or 'none'}; planted (truth.json): {audit['planted']}")
    print(f"  payment simulation: {output}/payment/ (payment.xlsx); tiered care: {output}/tiered_care/; "
          f"counterpart support: {output}/support/")
    print(f"  counterpart support, CMI difference-in-differences: {'; '.join(support) or 'no program'}")
    print(f"  report (open in a browser, works offline): {output}/report.html (+ report.xlsx)")
    return 0


def _run(scheme, output: str, final: str, cases: int, seed: int, quiet: bool):
    """Every step of the demo, written into ``output`` (the folder that becomes ``final``)."""
    from .atomic import write_json_atomic
    from .batch import group_file, summary_path
    from .synth import synthesize

    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    say(f"[1/4] synthesizing {cases:,} discharges of the Dezhou region under {scheme.id} ...")
    synth_dir = os.path.join(output, "synthetic")
    synthesize(scheme, synth_dir, region="dezhou", years=[2018, 2019, 2020, 2021], cases=cases, seed=seed, quiet=quiet)
    say("[2/4] grouping ...")
    grouped = os.path.join(output, "grouped.parquet")
    summary = group_file(os.path.join(synth_dir, "discharges.parquet"), grouped, scheme, quiet=quiet)
    for key in ("input", "output"):  # the paths the user will see, not the temporary folder's
        summary[key] = os.path.join(final, os.path.relpath(summary[key], output))
    write_json_atomic(summary_path(grouped), summary)
    say("[3/4] evaluating hospitals (weights, indicators by peer group, discipline, risk-adjusted mortality) ...")
    from .analyses import evaluate_to, pay_to, support_to, tiered_care_to
    from .report import build_report
    from .risk import risk_to

    say("      patient-level risk models (expected death, LOS, cost per case; cross-fitted) ...")
    risk = risk_to(grouped, os.path.join(output, "risk"), scheme_path=str(scheme.path), overdispersion="additive")["hospital"]
    tables = evaluate_to(grouped, os.path.join(output, "evaluation"), by="hospital-mdc", drg_names=scheme.drg_names)
    flagged = {"drg": tables["outcomes"][tables["outcomes"]["funnel_flag"] == "alarm_high"]["hospital_id"].tolist(),
               "patient": risk[risk["funnel_flag"] == "alarm_high"]["hospital_id"].tolist()}
    say("      coding audit (target areas per hospital-year, review list, split admissions) ...")
    from .audit import audit_to

    audit = _audit_headline(audit_to(grouped, os.path.join(output, "audit"), scheme_path=str(scheme.path)),
                            os.path.join(synth_dir, "truth.json"))
    say("[4/4] payment simulation (point method, budget = each year's spending), tiered care, counterpart support ...")
    from evaluation.payment import PaymentConfig

    from .tables import read_grouped

    spend = read_grouped(grouped, ["year", "total_cost"]).astype({"total_cost": float}).groupby("year")["total_cost"].sum()
    pay_to(grouped, os.path.join(output, "payment"), {int(y): round(float(v), 2) for y, v in spend.items()}, PaymentConfig(),
           variants={"budget-5pct": (float(spend.mean()) * 0.95, {})})
    tiered_care_to(grouped, os.path.join(output, "tiered_care"))
    support = support_to(grouped, os.path.join(output, "support"), pairs=os.path.join(synth_dir, "support_pairs.csv"))
    build_report(output, os.path.join(output, "report.html"), os.path.join(output, "report.xlsx"))
    return summary, flagged, _support_headline(support["support_did"]), audit


def _audit_headline(tables: dict, truth_path: str) -> dict:
    """Hospitals flagged per target area, beside the coding games the synthetic region planted."""
    import json

    f = tables["hospital_flags"]
    f = f[f["flag"]]
    flagged = "; ".join(f"{area}: {', '.join(sorted(set(g['hospital_id'])))}" for area, g in f.groupby("target_area", sort=True))
    with open(truth_path, encoding="utf-8") as fh:
        h = json.load(fh)["hospitals"]
    up = ", ".join("{} (from {})".format(x["hospital_id"], x["upcoding_from"]) for x in h if x["upcoding_from"])
    split = ", ".join(x["hospital_id"] for x in h if x["splits_admissions"])
    low = ", ".join(x["hospital_id"] for x in h if x["low_value_admissions"])
    planted = f"upcoding {up}; split admissions {split}; low-value admissions {low}"
    return {"flagged": flagged, "planted": planted}


def _support_headline(did) -> list[str]:
    """Per support program: the CMI difference-in-differences with its CI, or why there is none."""
    out = []
    for r in did[did["indicator"] == "cmi"].itertuples():
        if r.status == "ok":
            out.append(f"{r.program}: CMI {r.did:+.3f} (95% CI {r.ci_low:+.3f} to {r.ci_high:+.3f})")
        else:
            out.append(f"{r.program}: no estimate ({r.status})")
    return out
