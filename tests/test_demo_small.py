"""A small demo still runs: what needs more data (the patient-level models) is skipped with a note (issue 33, 5); in
Chinese, as every output is by default (issue 33, 8)."""

from __future__ import annotations

import pytest

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


@pytest.mark.slow
def test_a_small_demo_runs_and_says_what_it_skipped(tmp_path, capsys):
    from drg.cli import main
    from test_user_export import english_words, report_text, workbook_text

    out = tmp_path / "demo"
    assert main(["demo", "--cases", "3000", "-o", str(out)]) == 0
    got = capsys.readouterr()
    printed = got.out + got.err
    assert "患者层面风险模型：已跳过，病例太少" in printed
    assert (out / "report.html").is_file() and (out / "evaluation" / "hospital.parquet").is_file()
    assert not (out / "risk").exists()
    # nothing English a person reads (codes, ids, file and folder names aside)
    names = {p.stem for p in out.rglob("*")} | {p.name for p in out.rglob("*")}
    assert not english_words(printed.replace("drg: error:", ""), names), english_words(printed, names)
    assert not english_words(report_text(out / "report.html")), english_words(report_text(out / "report.html"))
    for book in out.rglob("*.xlsx"):
        assert not english_words(workbook_text(book)), (book, english_words(workbook_text(book)))
    assert main(["demo", "--cases", "999", "-o", str(tmp_path / "tiny"), "-q"]) == 2  # below the floor: one line
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("drg: error: --cases 999")
