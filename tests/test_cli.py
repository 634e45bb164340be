"""The `drg` command end to end: formats, errors, determinism, atomic output."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import CASES, SCHEMES, need_shared

ROWS = pd.DataFrame({
    "病案号": [f"c{i}" for i in range(6)],
    "性别": ["1", "2", "1", "", "1", "2"],
    "年龄": ["60", "0", "45", "30", "70", "81"],
    "年龄不足1周岁的年龄(天)": ["", "5", "", "", "", ""],
    "新生儿出生体重(克)": ["", "2000", "", "", "", ""],
    "科室": ["0302", "", "", "", "", ""],
    "主要诊断编码": ["I63.900", "P07.100", "I61.000", "I63.900", "X", "I63.900"],
    "其他诊断编码1": ["J96.000", "", "E11.900", "", "", ""],
    "主要手术操作编码": ["", "", "01.2400", "", "", ""],
})


def drg(*args, env=None, check=True):
    e = dict(os.environ, **(env or {}))
    p = subprocess.run([sys.executable, "-m", "drg.cli", *map(str, args)], capture_output=True, text=True, env=e)
    if check and p.returncode != 0:
        raise AssertionError(f"drg {' '.join(map(str, args))} failed ({p.returncode}): {p.stderr}")
    return p


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.mark.parametrize("fmt", ["csv-utf8", "csv-gbk", "xlsx", "parquet"])
def test_group_each_input_format(tmp_path, tiny_dir, fmt):
    src = tmp_path / ("in.xlsx" if fmt == "xlsx" else "in.parquet" if fmt == "parquet" else "in.csv")
    if fmt == "csv-utf8":
        ROWS.to_csv(src, index=False, encoding="utf-8")
    elif fmt == "csv-gbk":
        ROWS.to_csv(src, index=False, encoding="gbk")
    elif fmt == "xlsx":
        ROWS.to_excel(src, index=False)
    else:
        ROWS.to_parquet(src, index=False)
    out = tmp_path / "out.parquet"
    drg("group", src, "--scheme", tiny_dir, "-o", out, "-q")
    t = pq.read_table(out).to_pandas()
    assert t["病案号"].tolist() == ROWS["病案号"].tolist()
    assert t["科室"][0] == "0302"  # text stays text
    assert t["drg"].tolist() == ["BR11", "PR19", "BB15", "0000", "0000", "BR15"]
    assert t["status"][3] == "信息校验不通过"
    summary = json.loads((tmp_path / "out.parquet.summary.json").read_text(encoding="utf-8"))
    assert summary["rows_in"] == summary["rows_out"] == 6
    assert summary["status_counts"]["分组成功"] == 4
    assert summary["top_unknown_dx"][0][0] == "X"


def test_csv_output_and_only_results(tmp_path, tiny_dir):
    src = tmp_path / "in.parquet"
    ROWS.to_parquet(src, index=False)
    out = tmp_path / "out.csv"
    drg("group", src, "--scheme", tiny_dir, "-o", out, "--only-results", "-q")
    t = pd.read_csv(out, dtype=str)  # a CSV for people: the result columns in the output's language
    assert list(t.columns) == ["case_id", "分组状态", "状态代码", "MDC编码", "ADRG编码", "DRG编码", "DRG名称", "原因", "警告"]
    assert t["case_id"].tolist() == ROWS["病案号"].tolist()
    drg("group", src, "--scheme", tiny_dir, "-o", out, "--only-results", "-q", "--lang", "en")
    t = pd.read_csv(out, dtype=str)
    assert list(t.columns) == ["case_id", "status", "status_code", "mdc", "adrg", "drg", "drg_name", "reason", "warnings"]
    drg("group", src, "--scheme", tiny_dir, "-o", tmp_path / "out.parquet", "--only-results", "-q")
    t = pd.read_parquet(tmp_path / "out.parquet")  # for machines: the canonical names, in either language
    assert list(t.columns) == ["case_id", "status", "status_code", "mdc", "adrg", "drg", "drg_name", "reason", "warnings"]


def test_scheme_from_environment(tmp_path, tiny_dir):
    """$DRG_SCHEME is the scheme when --scheme is not given: the records group as under --scheme (the tiny scheme's
    groups and scheme id), not as under the built-in national scheme."""
    src = tmp_path / "in.parquet"
    ROWS.to_parquet(src, index=False)
    drg("group", src, "-o", tmp_path / "env.parquet", "-q", "--lang", "en", env={"DRG_SCHEME": str(tiny_dir)})
    drg("group", src, "--scheme", tiny_dir, "-o", tmp_path / "flag.parquet", "-q", "--lang", "en")
    drg("group", src, "-o", tmp_path / "default.parquet", "-q", "--lang", "en", env={"DRG_SCHEME": ""})
    env, flag, default = (pd.read_parquet(tmp_path / f"{n}.parquet") for n in ("env", "flag", "default"))
    cols = [c for c in ("status", "mdc", "adrg", "drg") if c in env.columns]
    assert cols and env[cols].equals(flag[cols])
    assert not env[cols].equals(default[cols])  # the built-in scheme groups these records otherwise


@pytest.mark.slow
def test_output_is_byte_identical(tmp_path):
    need_shared()
    src = CASES / "chs-drg-1.1.parquet"
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    for out in (a, b):
        drg("group", src, "--scheme", SCHEMES / "chs-drg-1.1", "-o", out, "-q", "--batch-size", "7000")
    assert sha(a) == sha(b)
    c = tmp_path / "c.csv"
    d = tmp_path / "d.csv"
    for out in (c, d):
        drg("group", src, "--scheme", SCHEMES / "chs-drg-1.1", "-o", out, "-q", "--map-codes")
    assert sha(c) == sha(d)


@pytest.mark.parametrize("args,needle", [
    (["group", "{missing}", "-o", "{out}"], "no such file"),
    (["group", "{bad}", "-o", "{out}"], "not a readable Parquet file"),
    (["group", "{nosex}", "-o", "{out}"], "missing required column"),
    (["group", "{good}", "-o", "{tmp}/nodir/o.parquet"], "does not exist"),
    (["group", "{good}", "-o", "{tmp}/o.json"], "unsupported output type"),
    (["group", "{good}", "-o", "{out}", "--batch-size", "0"], "--batch-size"),
    (["group", "{good}", "-o", "{out}", "--scheme", "{tmp}"], "mdc.csv"),
])
def test_errors_are_one_line_with_a_fix(tmp_path, tiny_dir, args, needle):
    good = tmp_path / "good.parquet"
    ROWS.to_parquet(good, index=False)
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    nosex = tmp_path / "nosex.csv"
    ROWS.drop(columns=["性别"]).to_csv(nosex, index=False)
    subst = {"missing": tmp_path / "nope.parquet", "out": tmp_path / "o.parquet", "tmp": tmp_path, "good": good, "bad": bad, "nosex": nosex}
    argv = [a.format(**subst) for a in args] + ["--lang", "en"]  # the English words; the Chinese: tests/test_messages.py
    if "--scheme" not in argv:
        argv += ["--scheme", str(tiny_dir)]
    p = drg(*argv, check=False)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("drg: error: ") and needle in lines[0], p.stderr
    assert not (tmp_path / "o.parquet").exists()


def test_scheme_errors_name_file_row_column(tmp_path, tiny_dir):
    import shutil

    d = tmp_path / "s"
    shutil.copytree(tiny_dir, d)
    text = (d / "adrg.csv").read_text(encoding="utf-8").replace("pdx in @BR1.zd", "pdx in @BR1.zd and and")
    (d / "adrg.csv").write_text(text, encoding="utf-8")
    p = drg("scheme", "check", d, check=False)
    assert p.returncode == 2 and "adrg.csv：第4行 rule 列：" in p.stderr  # Chinese by default
    p = drg("scheme", "check", d, "--lang", "en", check=False)
    assert p.returncode == 2
    assert "adrg.csv: row 4, column rule:" in p.stderr
    (d / "adrg.csv").write_text(text.replace(" and and", "").replace(",adrg,BR1", ",adrgx,BR1"), encoding="utf-8")
    p = drg("scheme", "check", d, "--lang", "en", check=False)
    assert "adrg.csv: row 4, column kind: 'adrgx' must be one of" in p.stderr


def test_scheme_check_counts(tiny_dir):
    out = drg("scheme", "check", tiny_dir, "--json").stdout
    info = json.loads(out)
    assert (info["mdc"], info["adrg"], info["drg"]) == (3, 4, 7)


def test_explain_command(tiny_dir):
    p = drg("explain", "--scheme", tiny_dir, "--dx", "I63.900,J96.000", "--sex", "1", "--age", "60", "--lang", "en")
    assert "split BR11: dx_count > 1 and mcc -> true" in p.stdout
    assert p.stdout.strip().splitlines()[-1].startswith("result: 分组成功 MDCB BR1 BR11")


def test_sigkill_leaves_no_partial_output_and_rerun_succeeds(tmp_path, tiny_dir):
    """Kill -9 mid-run: nothing at the target path; the re-run writes the full output."""
    n = 400_000
    big = pa.table({"case_id": [f"r{i}" for i in range(n)], "sex": [1] * n, "age_years": [50] * n,
                    "dx": [["I63.900", "J96.000"]] * n, "px": [[]] * n})
    src = tmp_path / "big.parquet"
    pq.write_table(big, src, row_group_size=20_000)
    out = tmp_path / "out.parquet"
    proc = subprocess.Popen([sys.executable, "-m", "drg.cli", "group", str(src), "--scheme", str(tiny_dir), "-o", str(out),
                             "--batch-size", "20000"], stderr=subprocess.PIPE, text=True)
    # wait until the run has written some batches to its temporary file
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        tmps = [p for p in tmp_path.iterdir() if p.name.startswith(".out.parquet.") and p.stat().st_size > 0]
        if tmps:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed; make the input bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    drg("group", src, "--scheme", tiny_dir, "-o", out, "-q", "--batch-size", "20000")
    t = pq.read_table(out, columns=["case_id", "drg"])
    assert t.num_rows == n and set(t.column("drg").to_pylist()) == {"BR11"}


@pytest.mark.slow
def test_evaluate_and_pay_commands(tmp_path):
    need_shared()
    from drg.synth import synthesize

    import grouper

    scheme = grouper.load_scheme(SCHEMES / "chs-drg-1.1")
    synthesize(scheme, str(tmp_path / "s"), cases=30_000, seed=3, quiet=True)
    g = tmp_path / "g.parquet"
    drg("group", tmp_path / "s" / "discharges.parquet", "--scheme", SCHEMES / "chs-drg-1.1", "-o", g, "-q")
    drg("evaluate", g, "--by", "hospital-mdc", "-o", tmp_path / "e")
    h = pd.read_parquet(tmp_path / "e" / "hospital.parquet")  # Parquet for machines: canonical in every language
    assert "cmi" in h.columns and "cost_index" in h.columns
    book = pd.read_excel(tmp_path / "e" / "evaluation.xlsx", sheet_name=None, nrows=1)  # for people: Chinese by default
    assert any("病例组合指数(CMI)" in df.columns and "费用消耗指数" in df.columns for df in book.values())
    drg("evaluate", g, "-o", tmp_path / "e2", "--lang", "en")
    h2 = pd.read_parquet(tmp_path / "e2" / "hospital.parquet")
    for c in ["hospital_id", "level", "cases", "drg_count", "total_weight", "cmi", "cost_index", "time_index",
              "low_risk_mortality", "midlow_risk_mortality"]:
        assert c in h2.columns
    o = pd.read_parquet(tmp_path / "e2" / "outcomes.parquet")
    for c in ["hospital_id", "observed", "expected", "oe_ratio", "oe_low", "oe_high", "funnel_flag"]:
        assert c in o.columns
    w = pd.read_parquet(tmp_path / "e2" / "weights.parquet")
    for c in ["drg", "cases", "mean_cost", "mean_los", "rw", "cv"]:
        assert c in w.columns
    assert (tmp_path / "e" / "evaluation.xlsx").exists()
    drg("pay", g, "--budget", "2e8", "--method", "rate", "-o", tmp_path / "p", "--scenario", "tight:budget=1.8e8", "--lang", "en")
    cases = pd.read_parquet(tmp_path / "p" / "cases.parquet")
    assert len(cases) == 30_000 and cases["case_id"].is_unique
    p = drg("pay", g, "--budget", "lots", "-o", tmp_path / "p2", check=False)
    assert p.returncode == 2 and "--budget" in p.stderr


@pytest.mark.parametrize("name", ["empty.parquet", "empty.csv"])
def test_empty_input_gives_an_empty_output_with_columns(tmp_path, tiny_dir, name):
    src = tmp_path / name
    if name.endswith(".parquet"):
        ROWS.iloc[:0].to_parquet(src, index=False)
    else:
        src.write_text(",".join(ROWS.columns) + "\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    drg("group", src, "--scheme", tiny_dir, "-o", out, "-q")
    t = pq.read_table(out)
    assert t.num_rows == 0
    assert t.column_names == list(ROWS.columns) + ["status", "status_code", "mdc", "adrg", "drg", "drg_name", "reason", "warnings"]


def test_a_closed_console_pipe_is_no_error(tmp_path):
    """`drg ... | head -1`: the reader goes away; drg stops quietly (status 141, like a shell pipeline),
    not with 'drg: error: Broken pipe; check the path and free disk space'."""
    import os
    import subprocess
    import sys

    from grouper.scheme import DEFAULT_SCHEME

    r, w = os.pipe()
    os.close(r)  # every write to stdout now fails with EPIPE
    try:
        p = subprocess.run([sys.executable, "-m", "drg.cli", "scheme", "check", str(DEFAULT_SCHEME)], stdout=w,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(w)
    assert p.returncode == 141 and p.stderr == "", (p.returncode, p.stderr)
