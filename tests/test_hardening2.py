"""Hardening II (issue 34): money that cannot overflow, every case once in pay's per-case table, one line for
every bad option of every command, outputs that belong together detected when a kill splits them, a cache
folder others can write never loaded, and every terminal line cleaned.

The sweep runs each command in this process (``drg.cli.main``) on a small grouped region: an escaped exception
fails the test (it would be a traceback), and so does any NumPy RuntimeWarning (it would reach stderr)."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import ROOT

REGION_CASES = 3_000


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    """A grouped synthetic region (the national scheme shipped with the package: no shared data needed)."""
    import grouper
    from drg.batch import group_file
    from drg.synth import synthesize

    d = tmp_path_factory.mktemp("region2")
    scheme = grouper.load_scheme()
    synthesize(scheme, str(d / "s"), cases=REGION_CASES, years=[2019, 2020], seed=11, quiet=True)
    group_file(str(d / "s" / "discharges.parquet"), str(d / "g.parquet"), scheme, quiet=True)
    return d


def run(argv, capsys):
    """``drg ARGV`` in this process: (status, stdout, stderr, RuntimeWarnings raised)."""
    from drg.cli import main

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    runtime = [f"{w.category.__name__}: {w.message} ({Path(w.filename).name}:{w.lineno})" for w in caught
               if issubclass(w.category, RuntimeWarning)]
    return rc, out.out, out.err, runtime


def one_line(rc, err):
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith("drg: error: ") and "; " in lines[0], err
    assert "Traceback" not in err


# -- the bad option files, TOMLs and values every command is swept with ------------------------------------------
OPTION_FILES = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "header_only": b"hospital_id,level,drg,weight,case_id,factor,supporter_id,recipient_id,code,grade,risk_level\n",
    "blank_id": (b"hospital_id,level,drg,weight,case_id,factor,supporter_id,recipient_id,code,grade,risk_level\n"
                 b",tertiary,,1.2,,1.1,,,,3,2\n"),
    "not_a_number": b"hospital_id,level,drg,weight,factor,code,grade,risk_level\nX1,tertiary,AA19,abc,abc,01.1,abc,abc\n",
    "twice": b"hospital_id,level,drg,weight,factor,code,grade,risk_level\nX1,tertiary,AA19,1,1,c,1,1\nX1,tertiary,AA19,1,1,c,1,1\n",
    "gbk": ("医院编码,级别,名称,县区,drg,weight,case_id,factor,supporter_id,recipient_id,code,grade,risk_level\n"
            "DZ001,三级,德州市人民医院,德城区,BR25,1.2,x,1.1,DZ001,DZ006,01.2400,3,2\n").encode("gbk"),
}
FILE_OPTIONS = {  # command: (its other arguments, the options that name a CSV)
    "evaluate": ([], ["--weights", "--hospitals", "--risk-levels"]),
    "pay": (["--budget", "1e7"], ["--weights", "--hospitals", "--special-review", "--quality-factors"]),
    "tiered-care": ([], ["--hospitals", "--basic-care"]),
    "support": ([], ["--pairs", "--hospitals", "--procedure-grades"]),
    "audit": ([], ["--hospitals", "--weights"]),
    "risk": (["--outcomes", "death"], ["--hospitals"]),
}
# a file kind that a given option may accept (a list of case ids has no number or id column to fault)
ACCEPTED = {("--special-review", "not_a_number"), ("--special-review", "twice"), ("--basic-care", "twice"),
            ("--basic-care", "not_a_number"), ("--hospitals", "not_a_number"), ("--pairs", "not_a_number"),
            ("--pairs", "twice"), ("--special-review", "blank_id")}
TOMLS = {
    "not_toml": "[[[\n", "deep": "a=" + "[" * 5000 + "]" * 5000 + "\n", "number": "columns = 5\n", "list": "columns = [1, 2]\n",
    "nested": "[columns]\nhospital_id = {a = {b = 1}}\n", "date": "[columns]\nhospital_id = 2020-01-01\n",
}
CONFIGS = {  # --config [payment] values that are refused, whatever they are about
    "k_hi_list": "k_hi = [1]", "k_lo_nan": "k_lo = nan", "k_lo_true": "k_lo = true", "k_lo_zero": "k_lo = 0",
    "method": "method = 'nope'", "rate_basis": "rate_basis = 'x'", "fallback": "fallback = 'x'", "low_pay": "low_pay = 'z'",
    "quality_negative": "quality_factors = {DZ001 = -1}", "coefficient_text": "coefficients = {tertiary = 'a'}",
    "coefficient_table": "coefficients = {tertiary = {a = 1}}", "los_max_date": "los_max = 2020-01-01",
    "los_max_negative": "los_max = -1", "growth": "growth = -2", "short_stay_text": "short_stay_days = 'a'",
    "phi_inf": "phi_hi = inf", "share_over_one": "s_share = 1.5", "unknown_key": "budget = 1",
}
BUDGETS_REFUSED = ["abc", "1e-9", "0", "-1", "nan", "inf", "1e17", "1e300", "2018=abc", "2018=1e7,2019", "=1", "1,00,0"]
SCENARIOS_REFUSED = ["t:budget=abc", "t:budget=1e300", "t:k_lo=x", "t:method=nope", "t:coefficient.tertiary=-1", "t:",
                     ":budget=1", "t:k_hi=nan", "t:budget=-5", "t:los_max=1.5", "t:quality_factors=1", "t:k_lo=0"]


def _bad_option_cases():
    cases = []
    for command, (extra, options) in FILE_OPTIONS.items():
        for option in options:
            for kind in [*OPTION_FILES, "folder", "missing"]:
                refused = (option, kind) not in ACCEPTED and kind != "gbk"
                cases.append(pytest.param(command, [*extra, option, f"{{{kind}}}"], refused,
                                          id=f"{command}{option}={kind}"))
        for kind in TOMLS:
            cases.append(pytest.param(command, [*extra, "--columns", f"{{toml:{kind}}}"], True, id=f"{command}--columns={kind}"))
        cases.append(pytest.param(command, [*extra, "--batch-size", "99999999999999999999"], True, id=f"{command}-batch-huge"))
        cases.append(pytest.param(command, [*extra, "--batch-size", "1"], True, id=f"{command}-batch-1"))
    for key in CONFIGS:
        cases.append(pytest.param("pay", ["--budget", "1e7", "--config", f"{{config:{key}}}"], True, id=f"pay--config={key}"))
    for b in BUDGETS_REFUSED:
        for method in ("points", "rate"):
            cases.append(pytest.param("pay", ["--budget", b, "--method", method], True, id=f"pay--budget={b}-{method}"))
    for sc in SCENARIOS_REFUSED:
        cases.append(pytest.param("pay", ["--budget", "1e7", "--scenario", sc], True, id=f"pay--scenario={sc}"))
    for kind in ("not_toml", "deep", "list"):
        cases.append(pytest.param("tiered-care", ["--targets", f"{{toml:{kind}}}"], True, id=f"tiered-care--targets={kind}"))
    for command in ("audit", "risk"):
        cases.append(pytest.param(command, ["--seed", "-1"], True, id=f"{command}--seed=-1"))
    cases.append(pytest.param("evaluate", ["--min-cases-risk", "99999999999999999999"], True, id="evaluate-min-cases-huge"))
    cases.append(pytest.param("support", ["--start", "abc"], True, id="support--start=abc"))
    return cases


def _materialise(argv, d: Path) -> list:
    """The argument list with ``{kind}``, ``{toml:kind}`` and ``{config:key}`` made into files under ``d``."""
    out = []
    for a in argv:
        if a.startswith("{toml:"):
            p = d / f"{a[6:-1]}.toml"
            p.write_text(TOMLS[a[6:-1]])
        elif a.startswith("{config:"):
            p = d / f"{a[8:-1]}.toml"
            p.write_text("[payment]\n" + CONFIGS[a[8:-1]] + "\n")
        elif a == "{folder}":
            p = d / "a_folder"
            p.mkdir(exist_ok=True)
        elif a == "{missing}":
            p = d / "no_such.csv"
        elif a.startswith("{"):
            p = d / f"{a[1:-1]}.csv"
            p.write_bytes(OPTION_FILES[a[1:-1]])
        else:
            out.append(a)
            continue
        out.append(str(p))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("command,argv,refused", _bad_option_cases())
def test_every_bad_option_is_one_line_never_a_traceback(region, tmp_path, capsys, command, argv, refused):
    args = [command, str(region / "g.parquet"), *_materialise(argv, tmp_path), "-o", str(tmp_path / "out")]
    rc, _, err, runtime = run(args, capsys)  # an exception escaping main fails here: it would be a traceback
    assert not runtime, runtime
    if refused:
        one_line(rc, err)
        assert not (tmp_path / "out").exists()
    else:
        assert rc in (0, 2), err
        if rc == 2:
            one_line(rc, err)


@pytest.mark.slow
@pytest.mark.parametrize("argv", [
    ["synth", "--seed", "-1", "--cases", "300"], ["demo", "--seed", "-1", "--cases", "300"], ["demo", "--cases", "0"],
    ["synth", "--cases", "0"], ["synth", "--years", "0", "--cases", "300"], ["synth", "--years", "1", "--cases", "300"],
    ["synth", "--workers", "99999999999999999999", "--cases", "300"], ["group", "{g}", "--batch-size", "99999999999999999999"],
    ["group", "{g}", "--threads", "0"], ["explain", "--dx", "I63.900", "--age", "99999999999999999999"],
    ["explain", "--dx", "I63.900", "--weights", "{w}", "--point-value", "nan"],
    ["explain", "--dx", "I63.900", "--weights", "{w}", "--base-rate", "-1"],
    ["explain", "--dx", "I63.900", "--weights", "{w}", "--point-value", "80", "--cost", "1e308"],
    ["report", "{g}", "-o", "{html}", "--xlsx", "{html}"],
], ids=lambda a: " ".join(a)[:60])
def test_other_commands_refuse_absurd_values_in_one_line(region, tmp_path, capsys, argv):
    w = tmp_path / "w.csv"
    w.write_text("drg,weight\nBR25,1.1\n")
    subst = {"{g}": str(region / "g.parquet"), "{w}": str(w), "{html}": str(tmp_path / "r.html")}
    args = [subst.get(a, a) for a in argv]
    if args[0] in ("synth", "demo", "group"):
        args += ["-o", str(tmp_path / ("o.parquet" if args[0] == "group" else "o")), "-q"]
    rc, _, err, runtime = run(args, capsys)
    assert not runtime, runtime
    one_line(rc, err)


def _with(src: Path, dst: Path, **columns) -> Path:
    t = pq.read_table(src)
    for name, values in columns.items():
        i = t.schema.get_field_index(name)
        t = t.set_column(i, name, pa.array(values))
    pq.write_table(t, dst)
    return dst


@pytest.mark.slow
@pytest.mark.parametrize("command", ["evaluate", "pay", "tiered-care", "support", "audit", "risk"])
def test_bad_data_columns_run_or_refuse_in_one_line(region, tmp_path, capsys, command):
    """Absurd numbers (1e308, infinity, 2**63-1), unreadable years and a column named twice: each command runs
    (the values are unusable, as NaN is) or, for the duplicate, stops with one line."""
    g = region / "g.parquet"
    t = pq.read_table(g)
    n = t.num_rows
    cost = t.column("total_cost").to_numpy().copy()
    cost[:5], cost[5:10] = np.inf, 1e308
    los = t.column("los_days").to_numpy().astype(np.int64)
    los[:5] = 2**63 - 1
    age = t.column("age_years").to_numpy().astype(float)
    age[:5], age[5:10] = np.inf, 1e308
    year = t.column("year").to_numpy().astype(float)
    year[:50], year[50:55] = np.nan, 1e308
    bad = _with(g, tmp_path / "bad.parquet", total_cost=cost, los_days=los, age_years=age, year=year)
    extra = {"pay": ["--budget", "1e7"], "risk": ["--outcomes", "death,los,cost", "--sample", "1000"]}.get(command, [])
    rc, out, err, runtime = run([command, bad, *extra, "-o", tmp_path / "o"], capsys)
    assert not runtime, runtime
    if command == "risk" and rc == 2:  # 3,000 cases are too few for a patient-level model: said in one line
        one_line(rc, err)
        assert "病例太少，无法拟合风险模型" in err or "too few cases" in err
    else:
        assert rc == 0, err
    dup = tmp_path / "dup.parquet"
    pq.write_table(pa.table(t.columns + [t.column("hospital_id")], names=t.column_names + ["hospital_id"]), dup)
    rc, _, err, runtime = run([command, dup, *extra, "-o", tmp_path / "o2"], capsys)
    assert not runtime
    one_line(rc, err)
    assert "hospital_id" in err
    assert n > 0


def test_a_fifo_input_is_refused_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    for command in (["group", fifo, "-o", tmp_path / "o.parquet"], ["evaluate", fifo, "-o", tmp_path / "e"]):
        rc, _, err, _ = run(command, capsys)
        one_line(rc, err)
        assert "regular file" in err or "不是普通文件" in err


# -- money --------------------------------------------------------------------------------------------------------
def _random_grouped(rng, n: int, max_cost: float, missing_years: bool) -> pd.DataFrame:
    drgs = ["BR25", "ES31", "GB25", "FR45", "0000"]
    cost = np.exp(rng.uniform(np.log(50.0), np.log(max_cost), n))
    cost[rng.random(n) < 0.05] = np.nan
    year = rng.choice([2020, 2021], n).astype(float)
    if missing_years:
        year[rng.random(n) < 0.1] = np.nan
    drg = rng.choice(drgs, n)
    return pd.DataFrame({
        "case_id": [f"K{i:05d}" for i in rng.permutation(n)], "hospital_id": rng.choice(["H1", "H2", "H3"], n),
        "drg": drg, "status": np.where(drg == "0000", "无法入组", "分组成功"), "total_cost": cost,
        "los_days": rng.integers(0, 90, n), "leaving_type": rng.choice(["1", "2", "5"], n), "year": year})


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), n=st.integers(20, 300), log_budget=st.floats(0, 13), log_cost=st.floats(3, 12),
       method=st.sampled_from(["points", "rate"]), missing=st.booleans(), batch=st.integers(100, 400))
def test_payments_are_never_negative_and_every_year_sums_to_its_budget(tmp_path_factory, seed, n, log_budget, log_cost,
                                                                       method, missing, batch):
    """For budgets from 1 to 1e13 yuan and costs up to 1e12: no payment below 0, each year's payments equal its
    budget to the fen (the point method and the balanced rate), every input case once in cases.parquet."""
    from drg.settlement import pay_streamed
    from evaluation.common import EvaluationError
    from evaluation.payment import PaymentConfig

    rng = np.random.default_rng(seed)
    df = _random_grouped(rng, n, 10 ** log_cost, missing)
    work = tmp_path_factory.mktemp("money")
    src = work / "g.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src)
    budget = 10 ** log_budget
    out = work / "out"
    out.mkdir()
    try:
        tables, counts = pay_streamed(str(src), str(out), {None: budget}, PaymentConfig(method=method), lang="en",
                                      batch_size=batch)
    except EvaluationError as e:  # only the honest refusals: a budget the payments at cost exceed, no weight
        assert "does not cover the payments made at cost" in str(e) or "no DRG has a weight" in str(e), str(e)
        assume(False)
    cases = pd.read_parquet(out / "cases.parquet")
    assert cases["case_id"].tolist() == df["case_id"].tolist()  # every case once, in input order
    assert (cases["payment_fen"] >= 0).all()
    no_year = df["year"].isna().to_numpy()
    assert (cases["payment_class"] == "no_year").to_numpy().tolist() == no_year.tolist()
    assert counts["no_year"] == int(no_year.sum())
    for y, g in cases[~no_year].groupby("year"):
        assert int(g["payment_fen"].sum()) == int(round(budget * 100)), (y, method)
    st_ = tables["settlement"]
    assert (st_["payment_fen"] >= 0).all()
    for y, g in st_.groupby("year"):
        assert int(g["payment_fen"].sum()) == int(round(budget * 100))


@pytest.mark.slow
@pytest.mark.parametrize("budget", ["1.0000001e13", "1e17", "1e300"])
def test_budgets_beyond_the_bound_are_one_line_naming_the_value(region, tmp_path, capsys, budget):
    rc, _, err, _ = run(["pay", region / "g.parquet", "--budget", budget, "-o", tmp_path / "p"], capsys)
    one_line(rc, err)
    assert "1e+13" in err and "--budget" in err


@pytest.mark.slow
def test_costs_beyond_the_bound_are_unusable_and_a_total_past_int64_is_refused(region, tmp_path, capsys):
    """A cost above 1e12 yuan is not a cost (as infinity is not): the others are settled. Costs that together pass
    what fen sums hold stop the run with one line, before anything is paid."""
    g = region / "g.parquet"
    cost = pq.read_table(g, columns=["total_cost"]).column(0).to_numpy().copy()
    cost[0] = 1e18  # once INT64_MIN fen, and a whole year's budget
    rc, out, err, runtime = run(["pay", _with(g, tmp_path / "a.parquet", total_cost=cost), "--budget", "1e8", "--lang",
                                 "en", "-o", tmp_path / "p"], capsys)
    assert rc == 0 and not runtime, err
    cases = pd.read_parquet(tmp_path / "p" / "cases.parquet")
    assert not cases["cost_usable"].iloc[0] and (cases["payment_fen"] >= 0).all()
    assert (cases["cost_fen"].abs() < 10**15).all()
    huge = np.full(len(cost), 9e11)  # every case under the per-case bound, together past 4e16 yuan? no: 3,000 x 9e11
    rc, _, err, _ = run(["pay", _with(g, tmp_path / "b.parquet", total_cost=huge), "--budget", "1e8", "-o",
                         tmp_path / "q"], capsys)
    assert rc == 0, err  # 2.7e15 yuan in all: still summed exactly in fen
    from evaluation.common import EvaluationError
    from evaluation.payment import SUM_MAX_YUAN, check_cost_total

    check_cost_total(None, SUM_MAX_YUAN)
    with pytest.raises(EvaluationError, match="the costs total"):
        check_cost_total(None, SUM_MAX_YUAN * 1.01)


@pytest.mark.slow
def test_a_negative_quality_factor_is_refused_from_every_source(region, tmp_path, capsys):
    g = region / "g.parquet"
    cfg = tmp_path / "c.toml"
    cfg.write_text("[payment]\nquality_factors = {DZ001 = -1}\n")
    rc, _, err, _ = run(["pay", g, "--budget", "1e7", "--config", cfg, "-o", tmp_path / "p"], capsys)
    one_line(rc, err)
    assert "quality_factors" in err
    q = tmp_path / "q.csv"
    q.write_text("hospital_id,factor\nDZ001,-1\n")
    rc, _, err, _ = run(["pay", g, "--budget", "1e7", "--quality-factors", q, "-o", tmp_path / "p"], capsys)
    one_line(rc, err)
    rc, _, err, _ = run(["pay", g, "--budget", "1e7", "--scenario", "t:coefficient.secondary=-1", "-o", tmp_path / "p"],
                        capsys)
    one_line(rc, err)
    assert not (tmp_path / "p").exists()


def test_budgets_are_read_as_users_write_them():
    from drg.arguments import parse_budgets

    assert parse_budgets("30,000,000") == {None: 3e7}
    assert parse_budgets("2019=30,000,000,2020=1.2e9") == {2019: 3e7, 2020: 1.2e9}
    assert parse_budgets("2019=1e7;2020=2e7") == {2019: 1e7, 2020: 2e7}


def test_every_payment_config_field_is_checked():
    """Each field of PaymentConfig has its rule, and a wrong value of each is refused by check()."""
    import dataclasses

    from evaluation.common import EvaluationError
    from evaluation.payment import CONFIG_FIELDS, PaymentConfig

    assert set(CONFIG_FIELDS) == {f.name for f in dataclasses.fields(PaymentConfig)}
    PaymentConfig().check()
    for name in CONFIG_FIELDS:
        for bad in ("nope", float("nan"), True, -5, [1], {"x": "a"}):
            cfg = PaymentConfig()
            setattr(cfg, name, bad)
            with pytest.raises(EvaluationError, match=name):
                cfg.check()


# -- the cache folder ---------------------------------------------------------------------------------------------
class _Marker:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _drg(env_cache: Path, *argv) -> subprocess.CompletedProcess:
    env = {**os.environ, "DRG_CACHE_DIR": str(env_cache)}
    return subprocess.run([sys.executable, "-m", "drg.cli", *map(str, argv)], capture_output=True, text=True, env=env,
                          cwd=ROOT)


@pytest.mark.slow
def test_numba_index_pickles_are_never_loaded_from_a_folder_others_can_write(tmp_path):
    """Numba's .nbi index files are pickles. Planted in a cache folder that group or others can write (or another
    user owns), they run nothing; planted in our own private folder Numba would load them (the control that
    shows the plant is real). The folder drg creates is 0700."""
    private = tmp_path / "private"
    record = ["explain", "--dx", "I63.900,J96.000", "--sex", "1", "--age", "70"]
    first = _drg(private, *record)
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    index = list(private.rglob("*.nbi"))
    assert index, "no Numba index files were written"
    marker = tmp_path / "ran"
    payload = pickle.dumps(_Marker(str(marker)))
    for f in index:
        f.write_bytes(payload)

    shared = tmp_path / "shared"
    shutil.copytree(private, shared)
    os.chmod(shared, 0o777)
    p = _drg(shared, *record)
    assert p.returncode == 0, p.stderr
    assert not marker.exists()
    assert p.stderr.count("compiling without a cache") == 1 and p.stdout == first.stdout

    if hasattr(os, "geteuid") and os.geteuid() == 0:  # another user's folder, however private
        foreign = tmp_path / "foreign"
        shutil.copytree(private, foreign)
        os.chmod(foreign, 0o700)
        os.chown(foreign, 12345, 12345)
        p = _drg(foreign, *record)
        assert p.returncode == 0 and not marker.exists(), p.stderr
        assert "owned by another user" in p.stderr

    control = _drg(private, *record)  # our own folder: Numba loads its index, so the planted pickle runs
    assert marker.exists(), control.stderr


def test_a_tampered_compiled_scheme_under_the_right_name_is_recompiled(tmp_path, tiny_dir, monkeypatch):
    import grouper
    from grouper.cache import load_compiled

    monkeypatch.setenv("DRG_CACHE_DIR", str(tmp_path / "c"))
    fresh = grouper.load_scheme(tiny_dir)
    stored = next((tmp_path / "c").glob("*.npz"))
    with np.load(stored) as z:
        parts = {k: z[k] for k in z.files}
    key = next(k for k in parts if k.startswith("a_") and parts[k].size)
    parts[key] = np.zeros_like(parts[key])  # every rule made to point nowhere, the digest and format kept
    np.savez(stored, **parts)
    assert load_compiled(stored, fresh.digest) is None
    again = grouper.load_scheme(tiny_dir)
    out = grouper.group(pd.DataFrame({"sex": [1], "age_years": [50], "dx": [["I63.900"]]}), again)
    assert out.loc[0, "drg"] == "BR15"


# -- what reaches a spreadsheet or the terminal ---------------------------------------------------------------
def test_csv_header_cells_cannot_start_a_formula_and_bad_utf8_is_repaired(tmp_path, tiny_dir, capsys):
    src = tmp_path / "in.parquet"
    ids = pa.array([b"ok", b"bad\xff\xfe"], pa.binary()).cast(pa.string(), safe=False)  # not valid UTF-8
    pq.write_table(pa.table({"case_id": ids, "=HYPERLINK(\"http://x\")": ["a", "b"], "@SUM(A1)": ["c", "d"],
                             "sex": [1, 1], "age_years": [50, 60], "dx": [["I63.900"], ["I63.900"]]}), src)
    out = tmp_path / "o.csv"
    rc, _, err, _ = run(["group", src, "--scheme", tiny_dir, "-o", out, "-q"], capsys)
    assert rc == 0, err
    raw = out.read_bytes()
    raw.decode("utf-8")  # valid UTF-8 throughout
    header = raw.decode("utf-8-sig").splitlines()[0]
    assert "\"'=HYPERLINK" in header and "\"'@SUM(A1)\"" in header
    assert "bad\ufffd\ufffd" in raw.decode("utf-8-sig")


def test_every_terminal_line_goes_through_the_cleaner(tmp_path, capsys):
    from drg.terminal import CleanStream

    evil = "id\x1b[2J\x1b]0;owned\x07\u202eevil\rhidden"
    import io

    buf = io.StringIO()
    CleanStream(buf).write(evil + "\n")
    text = buf.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text and "\r" not in text
    assert text.endswith("\n") and "hidden" in text
    buf = io.StringIO()
    CleanStream(buf).write("\r[###] 50%")  # a progress bar redraws its line
    assert buf.getvalue() == "\r[###] 50%"
    rc, out, err, _ = run(["explain", "--dx", "I63.900\x1b[31m,\u202eJ96.000", "--sex", "1", "--age", "70"], capsys)
    assert "\x1b" not in out + err and "\u202e" not in out + err


@pytest.mark.slow
def test_scheme_check_and_audit_print_ids_clean(tmp_path, tiny_dir, region, capsys):
    d = tmp_path / "scheme"
    shutil.copytree(tiny_dir, d)
    meta = (d / "meta.csv").read_text().replace("id,tiny", "id,t\x1b]0;x\x07iny").replace("小方案", "小\u202e方案")
    (d / "meta.csv").write_text(meta)
    rc, out, err, _ = run(["scheme", "check", d], capsys)
    assert "\x1b" not in out + err and "\u202e" not in out + err and "\x07" not in out + err
    g = region / "g.parquet"
    h = pq.read_table(g).column("hospital_id").to_pylist()
    evil = _with(g, tmp_path / "e.parquet", hospital_id=[f"{v}\x1b[31m\u202e" for v in h])
    rc, out, err, _ = run(["audit", evil, "-o", tmp_path / "a"], capsys)
    assert rc == 0, err
    assert "\x1b" not in out + err and "\u202e" not in out + err


# -- outputs that belong together ---------------------------------------------------------------------------------
KILLER = """
import os, signal, sys
after = int(os.environ["KILL_AFTER_RENAMES"])
under = os.environ["KILL_UNDER"]
real = os.replace
count = [0]
def replace(a, b, **kw):
    real(a, b, **kw)
    if str(b).startswith(under):  # our outputs' renames only (not a cache file's)
        count[0] += 1
        if count[0] == after:
            os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from drg.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _killed(after: int, *argv, under: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "KILL_AFTER_RENAMES": str(after), "KILL_UNDER": str(under)}
    return subprocess.run([sys.executable, "-c", KILLER, *map(str, argv)], capture_output=True, text=True, env=env,
                          cwd=ROOT)


@pytest.mark.slow
def test_a_kill_between_group_output_and_summary_is_detected(region, tmp_path):
    from drg.batch import summary_matches, summary_path

    g = region / "g.parquet"
    src1 = tmp_path / "one.parquet"
    pq.write_table(pq.read_table(g).slice(0, 100), src1)
    out = tmp_path / "grouped.parquet"
    assert _killed(0, "group", src1, "-o", out, "-q", under=tmp_path).returncode == 0
    assert summary_matches(str(out))
    old = out.read_bytes(), Path(summary_path(str(out))).read_bytes()
    p = _killed(1, "group", g, "-o", out, "-q", under=tmp_path)  # killed after the first rename: output new, summary old
    assert p.returncode == -signal.SIGKILL
    assert out.read_bytes() != old[0] and Path(summary_path(str(out))).read_bytes() == old[1]
    assert not summary_matches(str(out))  # the mismatch is detected
    assert _killed(0, "group", g, "-o", out, "-q", under=tmp_path).returncode == 0
    assert summary_matches(str(out))
    assert not [p for p in tmp_path.iterdir() if ".drgtmp-" in p.name]  # the next run cleaned the dead temporaries


@pytest.mark.slow
def test_a_kill_between_report_and_workbook_is_detected_and_one_path_is_refused(region, tmp_path, capsys):
    from drg.report import report_pair_matches

    folder = tmp_path / "outputs"
    rc, _, err, _ = run(["evaluate", region / "g.parquet", "-o", folder / "evaluation"], capsys)
    assert rc == 0, err
    html, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    rc, _, err, _ = run(["report", folder, "-o", html, "--xlsx", xlsx], capsys)
    assert rc == 0, err
    assert report_pair_matches(str(html), str(xlsx))
    p = _killed(1, "report", folder, "-o", html, "--xlsx", xlsx, "--lang", "en", under=tmp_path)  # new English html, old workbook
    assert p.returncode == -signal.SIGKILL
    assert "lang='en'" in html.read_text(encoding="utf-8")
    assert not report_pair_matches(str(html), str(xlsx))
    rc, _, err, _ = run(["report", folder, "-o", html, "--xlsx", html], capsys)
    one_line(rc, err)
    assert "同一个文件" in err  # Chinese by default


@pytest.mark.slow
def test_a_killed_pay_leaves_no_spill_after_the_next_run(region, tmp_path):
    g = region / "g.parquet"
    out = tmp_path / "pay"
    p = _killed(1, "pay", g, "--budget", "1e7", "-o", out, under=tmp_path)  # killed at its first rename, the spill on disk
    assert p.returncode == -signal.SIGKILL
    assert list(tmp_path.rglob(".drg-pay-*")), "the kill came before the spill existed"
    assert _killed(0, "pay", g, "--budget", "1e7", "-o", out, under=tmp_path).returncode == 0
    assert not list(tmp_path.rglob(".drg-pay-*")) and not list(tmp_path.rglob("*.drgtmp-*"))


# -- errors that name what the user named -----------------------------------------------------------------------------
@pytest.mark.slow
def test_a_full_disk_names_the_output_not_a_temporary(region, tmp_path):
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / "grouped.parquet"
    p = subprocess.run([sys.executable, "-m", "drg.cli", "group", str(region / "g.parquet"), "-o", str(out), "-q"],
                       capture_output=True, text=True, preexec_fn=limit, cwd=ROOT)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and lines[0].startswith("drg: error: "), p.stderr
    assert str(out) in lines[0] and ".drgtmp-" not in lines[0]
    assert not out.exists() and not [x for x in tmp_path.iterdir() if ".drgtmp-" in x.name]


def test_an_os_error_on_a_temporary_names_the_target():
    import errno

    from drg.atomic import target_of
    from drg.terminal import os_error_line

    tmp = "/data/out/.grouped.parquet.drgtmp-123-abcd.tmp"
    assert target_of(tmp) == "/data/out/grouped.parquet"
    assert target_of("/data/.eval.drgtmp-9-x.tmp/hospital.parquet") == "/data/eval"
    assert target_of("/data/plain.parquet") == "/data/plain.parquet"
    line = os_error_line(PermissionError(errno.EACCES, "Permission denied", tmp), None)
    assert line.startswith("drg: error: /data/out/grouped.parquet: ") and "permissions" in line

    line = os_error_line(OSError("Error writing bytes to file. Detail: [errno 28] No space left on device"),
                         "/data/out/grouped.parquet")
    assert "/data/out/grouped.parquet" in line and "free disk space" in line


def test_an_os_error_is_said_in_the_commands_language_and_a_spill_failure_names_the_temporary_folder(tmp_path, capsys,
                                                                                                    monkeypatch):
    """drg evaluate's costs spilled to a temporary folder that is not there: one line naming that folder and TMPDIR (in
    Chinese by default), no traceback, no output folder; an OS error's reason is Chinese by default too."""
    import errno
    import tempfile

    from drg.cli import main
    from drg.terminal import os_error_line

    line = os_error_line(OSError(errno.ENOSPC, "No space left on device", "/data/out"), None, "zh")
    assert line == "drg: error: /data/out：磁盘空间不足; 请释放磁盘空间或写到其他位置"
    rng = np.random.default_rng(2)
    n = 300
    pd.DataFrame({"hospital_id": rng.choice(["H1", "H2"], n), "drg": rng.choice(["ES31", "FM19"], n), "status": "ok",
                  "total_cost": rng.lognormal(8, 0.5, n), "los_days": rng.integers(1, 9, n)}).to_parquet(tmp_path / "g.parquet")
    missing = tmp_path / "no-such-tmp"
    monkeypatch.setenv("DRG_SPILL_BYTES", "1")
    monkeypatch.setattr(tempfile, "tempdir", str(missing))
    for lang, words in (("zh", "TMPDIR 设为"), ("en", "set TMPDIR")):
        assert main(["evaluate", str(tmp_path / "g.parquet"), "-o", str(tmp_path / f"e-{lang}"), "--lang", lang]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"drg: error: {missing}") and words in err[0], err
        assert not (tmp_path / f"e-{lang}").exists()


@pytest.mark.slow
def test_report_leaves_out_incomplete_sections_with_a_note(region, tmp_path, capsys):
    folder = tmp_path / "o"
    rc, _, err, _ = run(["evaluate", region / "g.parquet", "--lang", "en", "-o", folder / "evaluation"], capsys)
    assert rc == 0, err
    ev = folder / "evaluation"
    pd.read_parquet(ev / "hospital.parquet")[["hospital_id"]].to_parquet(ev / "hospital.parquet")  # ids only
    w = pd.read_parquet(ev / "weights.parquet")
    w["rw"] = "abc"  # text where numbers belong
    w.to_parquet(ev / "weights.parquet")
    (folder / "grouped.parquet.summary.json").write_text(json.dumps({"scheme": 5, "input": [1], "status_counts": "x"}))
    rc, _, err, runtime = run(["report", folder, "-o", tmp_path / "r.html", "--xlsx", tmp_path / "r.xlsx"], capsys)
    assert rc == 0 and not runtime, err
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert text.count("此部分未显示") >= 2
    assert "Traceback" not in text


def test_a_region_file_with_an_empty_level_is_one_line_for_synth(tmp_path, capsys):
    region = tmp_path / "region"
    region.mkdir()
    (region / "hospitals.csv").write_text("hospital_id,name,level,kind,county\nH1,一院,tertiary,general,甲县\n"
                                          "H2,二院,,general,甲县\n", encoding="utf-8")
    rc, _, err, runtime = run(["synth", "--region", region, "--cases", "300", "-o", tmp_path / "s", "-q"], capsys)
    assert not runtime
    one_line(rc, err)
    assert "第3行" in err and "H2" in err
