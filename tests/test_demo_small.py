"""A small demo still runs: what needs more data (the patient-level models) is skipped with a note (issue 33, 5)."""

from __future__ import annotations


def test_a_small_demo_runs_and_says_what_it_skipped(tmp_path, capsys):
    from drg.cli import main

    out = tmp_path / "demo"
    assert main(["demo", "--cases", "3000", "-o", str(out), "-q", "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    assert "patient-level risk models: skipped, too few cases" in printed
    assert (out / "report.html").is_file() and (out / "evaluation" / "hospital.parquet").is_file()
    assert not (out / "risk").exists()
    assert main(["demo", "--cases", "999", "-o", str(tmp_path / "tiny"), "-q"]) == 2  # below the floor: one line
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("drg: error: --cases 999")
