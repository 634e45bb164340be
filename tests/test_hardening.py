"""Hardening (issue 13): nothing we load runs code, nothing we write runs as a formula, no input
is destroyed, non-finite numbers never reach a sum, outputs appear whole, and every bad input
ends in one line ``drg: error: <problem>; <fix>`` with exit status 2, never a traceback."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import resource
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, SCHEMES, TINY, need_shared

BASE = {"case_id": ["a", "b"], "sex": [1, 2], "age_years": [60, 70], "dx": [["I63.900"], ["I61.000"]], "px": [[], []]}


def run(*argv, capsys):
    """``drg ARGV`` in this process: (exit status, stdout, stderr)."""
    from drg.cli import main

    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def one_line_error(rc, err, needle=""):
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith("drg: error: ") and "; " in lines[0], err
    assert needle in lines[0], err
    assert "Traceback" not in err


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- 1. the compiled-scheme cache never runs code ---------------------------------------------------

class _Boom:
    """Unpickling this creates a marker file: proof that a cache file ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_planted_pickle_in_the_cache_executes_nothing(tmp_path, tiny_dir, monkeypatch):
    import grouper
    from grouper.scheme import scheme_digest

    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("DRG_CACHE_DIR", str(cache))
    digest = scheme_digest(tiny_dir)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Boom(str(marker)))
    assert pickle.loads(payload) and marker.exists()  # the payload does run when unpickled
    marker.unlink()
    for name in (f"{digest}.pkl", f"{digest}.npz"):  # the old cache name and the new one
        (cache / name).write_bytes(payload)
    s = grouper.load_scheme(tiny_dir)
    assert not marker.exists()
    out = grouper.group(pd.DataFrame({"sex": [1], "age_years": [50], "dx": [["I63.900"]]}), s)
    assert out.loc[0, "drg"] == "BR15"
    # an .npz holding an object array (which needs pickle to load) is a miss too
    np.savez(cache / f"{digest}.npz", __meta__=np.array([_Boom(str(marker))], dtype=object))
    assert grouper.load_scheme(tiny_dir).digest == digest and not marker.exists()


def test_cache_round_trip_and_misses(tmp_path, tiny_dir, monkeypatch):
    import grouper
    from grouper.cache import load_compiled

    monkeypatch.setenv("DRG_CACHE_DIR", str(tmp_path))
    fresh = grouper.load_scheme(tiny_dir)  # compiled and stored
    stored = next(tmp_path.glob("*.npz"))
    again = load_compiled(stored, fresh.digest)
    for name in fresh.__dataclass_fields__:
        a, b = getattr(fresh, name), getattr(again, name)
        if name == "arrays":
            assert a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a)
        else:
            assert a == b, name  # tuples stay tuples, tuple keys stay tuple keys (== compares types)
    assert load_compiled(stored, "another-digest") is None
    stored.write_bytes(stored.read_bytes()[:100])  # truncated
    assert load_compiled(stored, fresh.digest) is None
    assert grouper.load_scheme(tiny_dir).digest == fresh.digest  # a miss recompiles


# -- 2. CSV outputs never carry a formula ------------------------------------------------------------

def test_csv_cells_that_start_a_formula_are_quoted(tmp_path, tiny_dir, capsys):
    hostile = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(1)", "-1+1", "\tTAB", "plain"]
    n = len(hostile)
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"case_id": hostile, "hospital_id": hostile[::-1], "dept": hostile, "sex": [1] * n,
                             "age_years": [-5, 50, 60, 70, 80, 90], "total_cost": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0],
                             "dx": [["I63.900"]] * n}), src)
    out = tmp_path / "out.csv"
    rc, _, err = run("group", src, "--scheme", tiny_dir, "-o", out, "-q", capsys=capsys)
    assert rc == 0, err
    t = pd.read_csv(out, dtype=str, keep_default_na=False)
    for col in ("case_id", "hospital_id", "dept"):
        for cell in t[col]:
            assert cell == "plain" or cell.startswith("'"), (col, cell)
            assert cell.lstrip("'") in hostile
    assert t["age_years"].tolist()[0] == "-5" and t["total_cost"].tolist()[0] == "-1.5"  # numbers are not text
    raw = tmp_path / "raw.csv"
    rc, _, _ = run("group", src, "--scheme", tiny_dir, "-o", raw, "-q", "--csv-raw", capsys=capsys)
    assert pd.read_csv(raw, dtype=str, keep_default_na=False)["case_id"].tolist() == hostile


# -- 3. the terminal never gets raw control characters or kilobyte values ----------------------------

def test_terminal_output_is_cleaned(tmp_path, tiny_dir, capsys):
    evil = "\x1b[2J\x1b]0;owned\x07X" + "Y" * 5000
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"sex": [1], "age_years": [50], "dx": [[evil]]}), src)
    rc, _, err = run("group", src, "--scheme", tiny_dir, "-o", tmp_path / "o.parquet", capsys=capsys)
    assert rc == 0
    assert "\x1b" not in err and "\x07" not in err and "最常见的未知诊断编码" in err
    assert max(len(line) for line in err.splitlines()) < 1200
    rc, _, err = run("group", tmp_path / "no\x1b(Bpe\r.parquet", "-o", tmp_path / "o2.parquet", "--lang", "en", capsys=capsys)
    one_line_error(rc, err, "no such file")
    assert "\x1b" not in err and "\r" not in err


def test_local_dask_cluster_listens_on_loopback_only():
    pytest.importorskip("distributed")
    from drg.cluster import local_cluster

    with local_cluster() as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        for w in cluster.scheduler_info["workers"]:
            assert w.startswith("tcp://127.0.0.1:")


# -- 4. an output never destroys an input ------------------------------------------------------------

def test_output_equal_to_an_input_is_refused(tmp_path, tiny_dir, capsys):
    d = tmp_path / "data"
    d.mkdir()
    src = d / "in.parquet"
    pq.write_table(pa.table(BASE), src)
    before = sha(src)
    (tmp_path / "link.parquet").symlink_to(src)
    attempts = [
        ("group", src, "-o", src),
        ("group", src, "-o", tmp_path / "link.parquet"),  # through a symlink
        ("group", str(d / "*.parquet"), "-o", src),  # found by a glob
        ("group", d, "-o", src),  # inside a directory input
    ]
    for argv in attempts:
        rc, _, err = run(*argv, "--scheme", tiny_dir, "-q", "--lang", "en", capsys=capsys)
        one_line_error(rc, err, "would destroy it")
        assert sha(src) == before
    # the summary beside the output may not be an input either
    summ = tmp_path / "x.parquet.summary.json"
    summ.write_text("{}")
    rc, _, err = run("group", summ, "-o", tmp_path / "x.parquet", "--scheme", tiny_dir, "-q", capsys=capsys)
    assert rc == 2
    # an output folder that holds the input is refused (replacing the folder would delete it)
    grouped = tmp_path / "g.parquet"
    assert run("group", src, "-o", grouped, "--scheme", tiny_dir, "-q", capsys=capsys)[0] == 0
    rc, _, err = run("evaluate", grouped, "-o", tmp_path, capsys=capsys)
    one_line_error(rc, err)
    assert grouped.exists()


# -- 5. NaN / inf / negative costs are missing values, counted, never summed -------------------------

@pytest.fixture(scope="module")
def grouped_region(tmp_path_factory):
    need_shared()
    import grouper
    from drg.batch import group_file
    from drg.synth import synthesize

    d = tmp_path_factory.mktemp("region")
    scheme = grouper.load_scheme(SCHEMES / "chs-drg-1.1")
    synthesize(scheme, str(d / "s"), cases=8_000, seed=5, quiet=True)
    group_file(str(d / "s" / "discharges.parquet"), str(d / "g.parquet"), scheme, quiet=True)
    return d / "g.parquet"


def _with_cost(src, dst, cost):
    t = pq.read_table(src)
    i = t.schema.get_field_index("total_cost")
    pq.write_table(t.set_column(i, "total_cost", pa.array(cost, pa.float64())), dst)


def test_non_finite_costs_never_reach_a_sum(tmp_path, grouped_region, capsys):
    t = pq.read_table(grouped_region, columns=["total_cost", "year"]).to_pandas()
    cost = t["total_cost"].to_numpy().copy()
    cost[:2] = np.inf
    cost[2] = -np.inf
    cost[3] = np.nan
    cost[4] = -100.0
    bad = tmp_path / "bad.parquet"
    _with_cost(grouped_region, bad, cost)
    budget = "2018=1e7,2019=1e7,2020=1e7,2021=1e7"
    rc, out, err = run("pay", bad, "--budget", budget, "--lang", "en", "-o", tmp_path / "p", capsys=capsys)
    assert rc == 0, err
    assert "5 cases without a usable total_cost" in out
    st = pd.read_parquet(tmp_path / "p" / "settlement.parquet")
    num = st.select_dtypes("number")
    assert np.isfinite(num.to_numpy(dtype=float)).all()
    for y, g in st.groupby("year"):
        assert g["payment"].sum() == pytest.approx(1e7, rel=1e-9)  # the inf rows did not zero the year
    par = pd.read_parquet(tmp_path / "p" / "parameters.parquet")
    assert par["cases_cost_unusable"].sum() == 5
    rc, _, err = run("evaluate", bad, "--lang", "en", "-o", tmp_path / "e", capsys=capsys)
    assert rc == 0, err
    q = pd.read_parquet(tmp_path / "e" / "quality.parquet").set_index("metric")["value"]
    assert q["cases_cost_unusable"] == 5
    h = pd.read_parquet(tmp_path / "e" / "hospital.parquet")
    assert np.isfinite(h["cost_index"].dropna()).all() and h["cost_index"].notna().any()
    w = pd.read_parquet(tmp_path / "e" / "weights.parquet")
    assert np.isfinite(w["mean_cost"].dropna()).all()


def test_a_cost_column_with_no_number_is_handled(tmp_path, grouped_region, capsys):
    nan = tmp_path / "nan.parquet"
    _with_cost(grouped_region, nan, np.full(pq.read_metadata(grouped_region).num_rows, np.nan))
    rc, _, err = run("evaluate", nan, "--lang", "en", "-o", tmp_path / "e", capsys=capsys)
    assert rc == 0, err
    h = pd.read_parquet(tmp_path / "e" / "hospital.parquet")
    assert h["cost_index"].isna().all() and h["cmi"].isna().all()
    assert (h.loc[h["status"] != "no_cases", "cases"] > 0).all() and (h["status"] != "no_cases").sum() > 100
    rc, _, err = run("pay", nan, "--budget", "1e7", "-o", tmp_path / "p", "--lang", "en", capsys=capsys)
    one_line_error(rc, err, "usable total_cost")


def test_pay_without_a_grouped_case_says_so_not_the_costs(tmp_path, grouped_region, capsys):
    """An empty status column leaves no case grouped: the one line names that (it blamed the costs before)."""
    t = pq.read_table(grouped_region)
    t = t.set_column(t.schema.get_field_index("status"), "status", pa.nulls(len(t), t.schema.field("status").type))
    pq.write_table(t, tmp_path / "ungrouped.parquet")
    rc, _, err = run("pay", tmp_path / "ungrouped.parquet", "--budget", "1e7", "-o", tmp_path / "p", "--lang", "en", capsys=capsys)
    one_line_error(rc, err, "no case is grouped")
    assert "total_cost" not in err


# -- 6/7. outputs appear whole; leftovers are cleaned; special files are never replaced --------------

def test_output_folder_is_replaced_as_a_unit(tmp_path):
    from drg.atomic import MANIFEST, OutputError, OutputFolder

    target = tmp_path / "out"
    with OutputFolder(str(target), command="t") as d:
        Path(d, "a.txt").write_text("old")
    assert json.loads((target / MANIFEST).read_text())["files"] == ["a.txt"]
    with pytest.raises(RuntimeError):
        with OutputFolder(str(target), command="t") as d:
            Path(d, "b.txt").write_text("new")
            raise RuntimeError("killed half-way")
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "a.txt"]  # the old folder, untouched
    with OutputFolder(str(target), command="t") as d:
        Path(d, "b.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == [MANIFEST, "b.txt"]  # never a mix of old and new
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary left beside it
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("years of work")
    with pytest.raises(OutputError, match="did not write"):
        OutputFolder(str(mine))
    assert (mine / "thesis.docx").exists()


@pytest.mark.slow
def _processes_mentioning(*words) -> list:
    """Live processes (not zombies) whose command line holds every word."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (d / "stat").read_text().split(") ")[-1][:1]
        except OSError:
            continue
        if state != "Z" and all(w in cmd for w in words):
            found.append(int(d.name))
    return found


def test_killed_synth_leaves_the_previous_folder_and_no_mix(tmp_path):
    need_shared()
    out = tmp_path / "syn"
    cmd = [sys.executable, "-m", "drg.cli", "synth", "--scheme", str(SCHEMES / "chs-drg-1.1"), "-q", "-o", str(out)]
    subprocess.run(cmd + ["--cases", "2000"], check=True, capture_output=True)
    before = {p.name: sha(p) for p in out.iterdir()}
    proc = subprocess.Popen(cmd + ["--cases", "400000", "--seed", "9"], stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        tmps = [p for p in tmp_path.iterdir() if ".drgtmp-" in p.name]
        if tmps and any(q.is_file() for q in tmps[0].rglob("*")):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "synth ended before it could be killed; ask for more cases"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # its forked workers end with it (none left waiting on the task queue, each holding a copy of the world)
    deadline = time.time() + 10
    while time.time() < deadline and _processes_mentioning(f"{out}", "400000"):
        time.sleep(0.1)
    assert not _processes_mentioning(f"{out}", "400000")
    assert {p.name: sha(p) for p in out.iterdir()} == before
    assert any(".drgtmp-" in p.name for p in tmp_path.iterdir())  # the killed run's leftover ...
    subprocess.run(cmd + ["--cases", "2000", "--seed", "4"], check=True, capture_output=True)
    assert not any(".drgtmp-" in p.name for p in tmp_path.iterdir())  # ... is cleaned by the next run
    assert {p.name: sha(p) for p in out.iterdir()} != before


def test_stale_temporaries_are_cleaned_live_ones_kept(tmp_path, tiny_dir, capsys):
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table(BASE), src)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".out.parquet.drgtmp-{dead.stdout.strip()}-abc.tmp"
    live = tmp_path / f".out.parquet.drgtmp-{os.getpid()}-def.tmp"
    stale.write_bytes(b"half")
    live.write_bytes(b"busy")
    assert run("group", src, "--scheme", tiny_dir, "-o", tmp_path / "out.parquet", "-q", capsys=capsys)[0] == 0
    assert not stale.exists() and live.exists()


def test_summary_failure_leaves_the_old_output(tmp_path, tiny_dir, capsys):
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table(BASE), src)
    out = tmp_path / "out.parquet"
    out.write_bytes(b"previous output")
    (tmp_path / "out.parquet.summary.json").mkdir()  # the summary cannot be written
    rc, _, err = run("group", src, "--scheme", tiny_dir, "-o", out, "-q", capsys=capsys)
    one_line_error(rc, err)
    assert out.read_bytes() == b"previous output"
    assert not any(".drgtmp-" in p.name for p in tmp_path.iterdir())


def test_report_onto_a_special_file_is_refused(tmp_path, grouped_region, capsys):
    assert run("evaluate", grouped_region, "-o", tmp_path / "e", capsys=capsys)[0] == 0
    rc, _, err = run("report", tmp_path / "e", "-o", "/dev/null", "--lang", "en", capsys=capsys)
    one_line_error(rc, err, "not a regular file")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    rc, _, err = run("report", tmp_path / "e", "-o", tmp_path / "e" / "hospital.parquet", capsys=capsys)
    one_line_error(rc, err)


# -- 8. every bad input: one line and exit status 2, or handled -------------------------------------

def _scheme_with(tmp_path, rule: str) -> Path:
    d = tmp_path / "scheme"
    d.mkdir(exist_ok=True)
    for name, text in TINY.items():
        if name == "drg.csv":
            text = text.replace("AA1,1,AA19,true", f'AA1,1,AA19,"{rule}"')
        (d / name).write_text(text, encoding="utf-8")
    return d


def _files(tmp_path, name):
    """Build the bad input ``name``; return (argv, expected: 'ok' or an error needle)."""
    t = pa.table(BASE)
    out = ["-o", tmp_path / "out.parquet"]
    if name == "dir_column_order":
        d = tmp_path / "d"
        d.mkdir()
        pq.write_table(t, d / "a.parquet")
        pq.write_table(t.select(list(reversed(t.column_names))), d / "b.parquet")
        return ["group", d, *out], "ok"
    if name == "glob_integer_width":
        pq.write_table(t, tmp_path / "a.parquet")
        pq.write_table(t.set_column(2, "age_years", pa.array([60, 70], pa.int16())), tmp_path / "b.parquet")
        return ["group", str(tmp_path / "*.parquet"), *out], "ok"
    if name == "dir_incompatible_types":
        d = tmp_path / "d"
        d.mkdir()
        pq.write_table(t, d / "a.parquet")
        pq.write_table(t.set_column(2, "age_years", pa.array([[1], [2]])), d / "b.parquet")
        return ["group", d, *out], "column age_years is list"
    if name == "uint64_ages":
        pq.write_table(t.set_column(2, "age_years", pa.array([60, 2**64 - 1], pa.uint64())), tmp_path / "u.parquet")
        return ["group", tmp_path / "u.parquet", *out], "ok"
    if name in ("binary_dx", "nested_dx", "struct_dx"):
        col = {"binary_dx": pa.array([b"I63.900", b"\xff\xfe"], pa.binary()),
               "nested_dx": pa.array([[["I63.900"]], [["I61.000"]]]),
               "struct_dx": pa.array([{"code": "I63.900"}, {"code": "I61.000"}])}[name]
        pq.write_table(t.set_column(3, "dx", col), tmp_path / "x.parquet")
        return ["group", tmp_path / "x.parquet", *out], "column dx"
    if name == "cr_only_csv":
        (tmp_path / "cr.csv").write_bytes(b"case_id,sex,age_years,dx\ra,1,60,I63.900\rb,2,70,I61.000\r")
        return ["group", tmp_path / "cr.csv", *out], "ok"
    if name == "duplicate_columns_csv":
        (tmp_path / "dup.csv").write_text("case_id,sex,sex,age_years,dx\na,1,1,60,I63.900\n")
        return ["group", tmp_path / "dup.csv", *out], "named twice"
    if name == "duplicate_columns_parquet":
        dup = pa.Table.from_arrays([pa.array(["a"]), pa.array([1]), pa.array([2]), pa.array([60]), pa.array([["I63.900"]])],
                                   names=["case_id", "sex", "sex", "age_years", "dx"])
        pq.write_table(dup, tmp_path / "dup.parquet")
        return ["group", tmp_path / "dup.parquet", *out], "named twice"
    if name == "gbk_late_non_ascii":
        rows = "".join(f"c{i},1,60,I63.900,x\n" for i in range(200_000))  # > 2 MB of ASCII first
        (tmp_path / "g.csv").write_bytes(("case_id,sex,age_years,dx,科室\n" + rows + "z,1,60,I63.900,神经内科\n").encode("gbk"))
        return ["group", tmp_path / "g.csv", *out], "ok"
    if name == "corrupt_parquet_page":
        n = 5000
        pq.write_table(pa.table({"case_id": [f"c{i}" for i in range(n)], "sex": [1] * n, "age_years": list(range(n)),
                                 "dx": [["I63.900"]] * n}), tmp_path / "c.parquet", compression="zstd")
        b = bytearray((tmp_path / "c.parquet").read_bytes())
        for i in range(200, 2000):
            b[i] ^= 0x5A
        (tmp_path / "c.parquet").write_bytes(bytes(b))
        return ["group", tmp_path / "c.parquet", *out], "c.parquet"
    if name == "units_in_numbers":
        pd.DataFrame({"case_id": ["a", "b"], "性别": ["1", "1"], "年龄": ["70岁", "0岁"], "年龄(天)": ["", "12天"],
                      "新生儿出生体重(克)": ["", "3.5kg"], "主要诊断编码": ["I63.900", "P07.100"]}).to_csv(tmp_path / "u.csv", index=False)
        return ["group", tmp_path / "u.csv", *out], "ok"
    if name == "corrupt_summary_for_report":
        ev = tmp_path / "evaluation"
        ev.mkdir()
        pd.DataFrame({"hospital_id": ["H1"], "cases": [1]}).to_parquet(ev / "hospital.parquet")
        (tmp_path / "grouped.parquet.summary.json").write_text("{not json")
        return ["report", tmp_path, "-o", tmp_path / "r.html"], "summary"
    if name == "scheme_5000_deep_rule":
        return ["scheme", "check", _scheme_with(tmp_path, "(" * 5000 + "true" + ")" * 5000)], "drg.csv: row 2, column rule"
    if name == "scheme_128kb_rule":
        return ["scheme", "check", _scheme_with(tmp_path, " or ".join(["age_years > 1"] * 10_000))], "drg.csv: row 2, column rule"
    if name == "scheme_integer_beyond_int64":
        return ["scheme", "check", _scheme_with(tmp_path, "age_years > 99999999999999999999")], "64-bit"
    raise AssertionError(name)


BAD_INPUTS = ["dir_column_order", "glob_integer_width", "dir_incompatible_types", "uint64_ages", "binary_dx", "nested_dx",
              "struct_dx", "cr_only_csv", "duplicate_columns_csv", "duplicate_columns_parquet", "gbk_late_non_ascii",
              "corrupt_parquet_page", "units_in_numbers", "corrupt_summary_for_report", "scheme_5000_deep_rule",
              "scheme_128kb_rule", "scheme_integer_beyond_int64"]


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_inputs_end_in_one_line_or_work(tmp_path, tiny_dir, capsys, name):
    argv, expect = _files(tmp_path, name)
    if argv[0] == "group":
        argv += ["--scheme", tiny_dir, "-q"]
    if expect != "ok":  # the refusal's English words are checked (its Chinese: tests/test_messages.py)
        argv += ["--lang", "en"]
    rc, _, err = run(*argv, capsys=capsys)
    if expect != "ok":
        one_line_error(rc, err, expect)
        return
    assert rc == 0, err
    got = pq.read_table(tmp_path / "out.parquet").to_pandas()
    assert len(got) == {"dir_column_order": 4, "glob_integer_width": 4, "gbk_late_non_ascii": 200_001}.get(name, 2)
    assert got["status"].notna().all()
    if name == "units_in_numbers":
        assert got["年龄"].tolist() == ["70岁", "0岁"]  # the input is kept as it was
        assert got["drg"].tolist() == ["BR15", "PR19"]  # but read as 70 years; 0 years, 12 days, 3500 g
        assert got["warnings"].isna().all()
    if name == "uint64_ages":
        assert "超出合理范围" in got["warnings"][1]  # an absurd age is warned about
    if name == "gbk_late_non_ascii":
        assert got["科室"].tolist()[-1] == "神经内科"
    if name == "dir_column_order":
        assert got.columns.tolist()[:5] == list(BASE)


def test_long_flat_rules_still_work(tmp_path, capsys):
    """A 200 KB rule made of one long inline code set is legal: only nesting depth is limited."""
    codes = ",".join(f'""X{i:05d}""' for i in range(20_000))  # quotes doubled inside a quoted CSV cell
    d = _scheme_with(tmp_path, "pdx in {" + codes + "} or true")
    rc, out, err = run("scheme", "check", d, capsys=capsys)
    assert rc == 0, err


def test_absurd_ages_and_weights_are_warned(tiny):
    import grouper

    out = grouper.group(pd.DataFrame({"sex": [1, 1, 1, 1], "age_years": [200, 50, 0, 0], "age_days": [None, None, 5, 5],
                                      "weight_g": [None, None, 50_000, 3000], "dx": [["I63.900"]] * 2 + [["P07.100"]] * 2}), tiny)
    w = out["warnings"].tolist()
    assert "年龄超出合理范围" in w[0] and "出生体重超出合理范围" in w[2]
    assert w[1] is None or pd.isna(w[1])
    assert w[3] is None or pd.isna(w[3])


def test_full_disk_while_writing_the_workbook(tmp_path, grouped_region):
    """A write that fails for lack of space (here: a file-size limit) is one line, and no partial file stays."""
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    p = subprocess.run([sys.executable, "-m", "drg.cli", "evaluate", str(grouped_region), "-o", str(tmp_path / "e")],
                       capture_output=True, text=True, preexec_fn=limit)
    one_line_error(p.returncode, p.stderr)
    assert not (tmp_path / "e").exists()
    assert [x.name for x in tmp_path.iterdir()] == []


# -- 9-11. a newcomer path that cannot break ----------------------------------------------------------

@pytest.mark.slow
def test_kernel_cache_stays_out_of_an_installed_package(tmp_path):
    """pip install (not editable), run, uninstall: nothing of ours is left in site-packages."""
    target = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                            "--target", str(target), str(ROOT)], capture_output=True, text=True)
    if build.returncode != 0:
        pytest.skip(f"cannot build the package here: {build.stderr.strip().splitlines()[-1:]}")
    cache = tmp_path / "cache"
    env = dict(os.environ, PYTHONPATH=str(target), DRG_CACHE_DIR=str(cache))
    env.pop("NUMBA_CACHE_DIR", None)
    code = ("import grouper, pandas as pd; s = grouper.load_scheme(); "
            "print(grouper.group(pd.DataFrame({'sex':[1],'age_years':[60],'dx':[['I63.900']]}), s).loc[0,'status'])")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() in ("分组成功", "无法入组")
    pkg = target / "grouper"
    assert not [f for f in pkg.rglob("*") if f.suffix in (".nbi", ".nbc")]
    assert list((cache / "numba").rglob("*.nbi"))
    # what pip would leave after `pip uninstall`: only files that are not in its RECORD
    record = next(target.glob("drg_toolkit-*.dist-info")) / "RECORD"
    listed = {line.split(",")[0] for line in record.read_text().splitlines()}
    extra = [str(f.relative_to(target)) for f in pkg.rglob("*") if f.is_file() and str(f.relative_to(target)) not in listed
             and "__pycache__" not in f.parts]
    assert extra == []


def test_national_scheme_ships_with_the_package(tmp_path, capsys, monkeypatch):
    from grouper.scheme import DEFAULT_SCHEME, FORMAT_DOC

    monkeypatch.delenv("DRG_SCHEME", raising=False)
    assert Path(FORMAT_DOC).is_file()
    if (SCHEMES / "chs-drg-1.1").is_dir():  # the shipped tables are the public ones, byte for byte
        for f in (SCHEMES / "chs-drg-1.1").iterdir():
            assert (Path(DEFAULT_SCHEME) / f.name).read_bytes() == f.read_bytes(), f.name
    src = tmp_path / "in.csv"
    src.write_text("病案号,性别,年龄,主要诊断编码\nA1,1,60,I63.900\n", encoding="utf-8")
    rc, _, err = run("group", src, "-o", tmp_path / "o.parquet", "-q", capsys=capsys)
    assert rc == 0, err
    assert pq.read_table(tmp_path / "o.parquet").column("status").to_pylist() == ["分组成功"]


def test_audit_without_hospital_ids_is_one_line_and_some_missing_still_run(tmp_path, grouped_region, capsys):
    """Every hospital_id empty: the audit (which judges hospitals) says so in one line (it was an IndexError);
    a seventh of them empty: it runs, those cases in no hospital's table."""
    t = pq.read_table(grouped_region)
    i = t.schema.get_field_index("hospital_id")
    pq.write_table(t.set_column(i, "hospital_id", pa.nulls(len(t), pa.string())), tmp_path / "none.parquet")
    rc, _, err = run("audit", tmp_path / "none.parquet", "-o", tmp_path / "a", "--lang", "en", capsys=capsys)
    one_line_error(rc, err, "no case names its hospital")
    ids = [None if k % 7 == 0 else v for k, v in enumerate(t.column("hospital_id").to_pylist())]
    pq.write_table(t.set_column(i, "hospital_id", pa.array(ids, pa.string())), tmp_path / "some.parquet")
    rc, _, err = run("audit", tmp_path / "some.parquet", "-o", tmp_path / "b", "--lang", "en", capsys=capsys)
    assert rc == 0, err
    flags = pd.read_parquet(tmp_path / "b" / "hospital_flags.parquet")
    assert flags["hospital_id"].notna().all() and len(flags) > 0
