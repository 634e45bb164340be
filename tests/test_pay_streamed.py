"""`drg pay` in three passes over batches (evaluation.payment.batches) settles exactly as the per-case settlement
(drg.settlement.settle_years over evaluation.payment.simulate): every case's fen, every table, for random inputs cut
into random batches, under every rule; on a Dask LocalCluster the same bytes as a local run.

The reference gets the streamed run's weights table (the weights themselves are held to the per-case weights by
tests/test_cells.py), so any difference here is the payment machinery's: the exact year totals, the largest
remainders found from the spill, the special-review caps, the sums of the tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cells import HOSPITALS, random_cases

from drg.settlement import case_frame, pay_streamed, settle_years
from evaluation.cells import CaseCells
from evaluation.common import EvaluationError
from evaluation.exact import exact_sums, to_float
from evaluation.payment import PaymentConfig
from evaluation.cells.tables import drg_statistics
from evaluation.weights import weights_table

KEYS = {"settlement": ["year", "hospital_id"], "monthly": ["year", "month", "hospital_id"],
        "drg_profit_loss": ["year", "hospital_id", "dept", "drg"], "scenarios": ["year", "hospital_id"], "parameters": ["year"]}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300), max_size=60),
       st.integers(0, 60), st.randoms(use_true_random=False), st.sampled_from([1, 10**9]))
def test_exact_sums_are_fsum_of_the_whole_however_cut(values, cut, rnd, spread):
    """Group codes 0..2 take the dense slots, codes 0, 1e9, 2e9 the hashed ones: the same sums."""
    values = np.array(values, dtype=float)
    groups = np.array([rnd.randrange(3) * spread for _ in values], dtype=np.int64)
    cut = min(cut, len(values))
    total = exact_sums(values[cut:], groups[cut:], exact_sums(values[:cut], groups[:cut], {}))
    for g in range(3):
        assert to_float(total.get(g * spread, 0)) == math.fsum(values[groups == g * spread])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(-10**6, 10**6), st.integers(-2**63, 2**63 - 1)), max_size=40),
       st.randoms(use_true_random=False))
def test_integer_sums_by_code_are_exact(values, rnd):
    """Small amounts take the float bincount, large ones the integer path: each group's exact integer sum
    (wrapping as int64 addition does)."""
    from evaluation.payment.totals import int_sums

    v = np.array(values, dtype=np.int64)
    code = np.array([rnd.randrange(4) for _ in values], dtype=np.int64)
    want = [sum(int(x) for x, c in zip(values, code) if c == g) for g in range(4)]
    want = [(w + 2**63) % 2**64 - 2**63 for w in want]
    assert int_sums(code, v, 4).tolist() == want


def _cases(rng: np.random.Generator, n: int, opts: dict) -> pd.DataFrame:
    df = random_cases(rng, n)
    df["case_id"] = [f"C{v:06d}" for v in rng.permutation(10 * n)[:n]]  # ids not in row order: ties are broken by id
    df["dept"] = rng.choice(["内科", "外科", "", None], n)
    if opts["self_pay"]:
        df["self_pay"] = np.where(rng.random(n) < 0.1, np.nan, rng.random(n) * 500)
    if opts["level_column"]:
        df["level"] = rng.choice(["三级", "二级", None], n)
    if not opts["months"]:
        df = df.drop(columns=["discharge_date"])
    if not opts["years"]:  # no year at all (a file with dates gets its years from them: tests/test_user_export.py)
        df = df.drop(columns=["year"] + (["discharge_date"] if "discharge_date" in df.columns else []))
    elif opts.get("missing_years"):  # a few cases without a readable year: listed as no_year, paid nothing
        df["year"] = df["year"].astype(float).where(rng.random(n) > 0.08)
    if not opts["case_ids"]:
        df = df.drop(columns=["case_id"])
    return df


CONFIGS = st.fixed_dictionaries({
    "method": st.sampled_from(["points", "rate"]),
    "rate_basis": st.sampled_from(["balance", "volume"]),
    "growth": st.sampled_from([0.0, 0.05]),
    "short_stay_days": st.sampled_from([None, 2]),
    "low_pay": st.sampled_from(["proportional", "item"]),
    "fallback": st.sampled_from(["item", "points"]),
    "special_review_cap": st.sampled_from([0.0, 0.02, 0.5]),
    "coefficients": st.sampled_from([{"tertiary": 1.0}, {"tertiary": 1.2, "secondary": 0.9, "unknown": 0.8}]),
})
OPTIONS = st.fixed_dictionaries({
    "self_pay": st.booleans(), "level_column": st.booleans(), "months": st.booleans(), "years": st.booleans(),
    "case_ids": st.booleans(), "hospitals": st.booleans(), "special": st.booleans(), "quality": st.booleans(),
    "scenarios": st.booleans(), "supplied": st.booleans(), "missing_years": st.booleans(),
})


@pytest.mark.slow
@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), n=st.integers(50, 900), batch=st.integers(40, 400), cfg=CONFIGS, opts=OPTIONS)
def test_streamed_pay_settles_every_case_as_the_per_case_settlement(tmp_path_factory, seed, n, batch, cfg, opts):
    check_pay(tmp_path_factory.mktemp("pay"), seed, n, batch, cfg, opts)


def check_pay(work, seed, n, batch, cfg, opts):
    rng = np.random.default_rng(seed)
    df = _cases(rng, n, opts)
    src = work / "g.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src, row_group_size=max(batch // 2, 1))
    df = pq.read_table(src).to_pandas()  # as the reader gives it
    hospitals = HOSPITALS if opts["hospitals"] else None
    supplied = pd.DataFrame({"drg": ["ES31", "GB25"], "weight": [0.8, 1.7]}) if opts["supplied"] else None
    spend = pd.Series(df["total_cost"]).where(np.isfinite(df["total_cost"]) & (df["total_cost"] > 0)).sum()
    budgets = ({int(y): spend * 1.3 for y in df["year"].dropna().unique()} if "year" in df.columns else {None: spend * 1.3})
    ids = df["case_id"].astype(str) if "case_id" in df.columns else pd.Series(np.arange(len(df)).astype(str))
    special = pd.Series(list(rng.choice(ids, min(30, len(ids)), replace=False)) + ["nobody"]) if opts["special"] else None
    quality = {"H1": 1.05, "H3": 0.97} if opts["quality"] else {}
    cut = {y: 0.95 - 0.02 * i for i, y in enumerate(budgets)}  # each year its own share of its base budget
    per_year = {y: b * cut[y] for y, b in budgets.items()}  # a budget per year, as the demo's budget-5pct
    variants = ({"tight": (spend * 1.1, {}), "lo": (None, {"k_lo": 0.6, "special_review_cap": 0.1}), "cut": (per_year, {})}
                if opts["scenarios"] else {})

    def config():
        return PaymentConfig(**cfg, quality_factors=dict(quality))

    cc = CaseCells(hospitals).add(pa.Table.from_pandas(df, preserve_index=False))
    stats, pooled, _ = drg_statistics(cc)
    weights = weights_table(stats, pooled, supplied=supplied)
    ref_error = got_error = None
    try:
        ref_cases, ref = settle_years(case_frame(df, hospitals), weights, dict(budgets), config(), special_review=special,
                                      variants=variants)
    except EvaluationError as e:
        ref_error = str(e)
    out = work / "out"
    out.mkdir()
    try:
        got, counts = pay_streamed(str(src), str(out), dict(budgets), config(), hospitals=hospitals, supplied=supplied,
                                   special=special, variants=variants, lang="en", batch_size=batch)
    except EvaluationError as e:
        got_error = str(e)
    assert got_error == ref_error
    if ref_error:
        return
    cases = pd.read_parquet(out / "cases.parquet")
    assert len(cases) == len(ref_cases) == len(df)  # every input case once, paid or not
    assert counts["cases"] + counts["no_year"] == len(df)
    assert (cases["payment_fen"] >= 0).all() or cfg["method"] == "rate"
    if "year" in df.columns:
        no_year = df["year"].isna().to_numpy()
        assert counts["no_year"] == int(no_year.sum())
        assert (cases["payment_class"] == "no_year").sum() == no_year.sum()
        assert (cases.loc[cases["payment_class"] == "no_year", "payment_fen"] == 0).all()
    cases = cases.sort_values("year", kind="stable").reset_index(drop=True) if "year" in df.columns else cases
    assert_same(cases, ref_cases, "cases")
    assert sorted(got) == sorted(ref)
    for name in ref:
        keys = [k for k in KEYS[name] if k in ref[name].columns and ref[name][k].notna().any()]
        assert_same(got[name].sort_values(keys, kind="stable").reset_index(drop=True),
                    ref[name].sort_values(keys, kind="stable").reset_index(drop=True), name)
    for y, g in cases.groupby("year") if "year" in df.columns else [(None, cases)]:
        if cfg["method"] == "points" or cfg["rate_basis"] == "balance":  # the budget to the fen, both methods
            assert int(g["payment_fen"].sum()) == int(round(budgets[y] * 100))
            if variants and cfg["method"] == "points":  # each year's own scenario budget: the points' shares scale
                sc = got["scenarios"] if y is None else got["scenarios"][got["scenarios"]["year"] == y]
                base, paid = sc["payment_base"].sum(), sc["payment_cut"].sum()
                assert abs(paid - cut[y] * base) <= 0.01 * (len(g) + 1), (y, paid, base, cut[y])


def assert_same(got: pd.DataFrame, ref: pd.DataFrame, name: str) -> None:
    assert list(got.columns) == list(ref.columns), name
    assert len(got) == len(ref), name
    for c in ref.columns:
        u, v = got[c], ref[c]
        if pd.api.types.is_integer_dtype(v) and not pd.api.types.is_bool_dtype(v):
            as_int = [lambda col: [None if pd.isna(e) else int(e) for e in col.astype(object)]][0]  # year may be empty
            assert as_int(u) == as_int(v), f"{name}.{c}"  # fen: exactly
        elif pd.api.types.is_float_dtype(v):
            np.testing.assert_allclose(u.astype(float), v.astype(float), rtol=1e-12, atol=0, err_msg=f"{name}.{c}")
        else:
            su = [None if pd.isna(e) else str(e) for e in u.astype(object)]
            sv = [None if pd.isna(e) else str(e) for e in v.astype(object)]
            assert su == sv, f"{name}.{c}"


def _pay_file(path, n=6000, seed=5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = _cases(rng, n, {"self_pay": True, "level_column": False, "months": True, "years": True, "case_ids": True})
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=700)
    return df


@pytest.mark.slow
def test_cli_pay_on_a_dask_local_cluster_writes_the_same_bytes(tmp_path):
    pytest.importorskip("distributed", reason="Dask is an optional extra: pip install '.[dask]'")
    from drg.cli import main

    src = tmp_path / "g.parquet"
    _pay_file(src)
    hosp = tmp_path / "hospitals.csv"
    HOSPITALS.to_csv(hosp, index=False)
    special = tmp_path / "special.csv"
    pd.DataFrame({"case_id": pq.read_table(src, columns=["case_id"]).column(0).to_pylist()[::40]}).to_csv(special, index=False)
    # the point method with its spill and ties, and the rate method as a scenario of the same run
    common = ["--budget", "2020=4e7,2021=4.2e7", "--hospitals", str(hosp), "--special-review", str(special),
              "--scenario", "tight:budget=3.5e7", "--scenario", "rate:method=rate", "--batch-size", "1000", "--lang", "en"]
    assert main(["pay", str(src), *common, "-o", str(tmp_path / "local")]) == 0
    assert main(["pay", str(src), *common, "--dask", "local", "-o", str(tmp_path / "dask")]) == 0
    names = sorted(p.name for p in (tmp_path / "local").glob("*.parquet"))
    assert {"cases.parquet", "settlement.parquet", "monthly.parquet", "scenarios.parquet"} <= set(names)
    sc = pd.read_parquet(tmp_path / "local" / "scenarios.parquet")
    assert (sc["payment_rate"] != sc["payment_base"]).any()  # the rate scenario settled on its own
    for name in names:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name


def test_cli_pay_streams_in_batches_and_keeps_every_case(tmp_path, capsys):
    from drg.cli import main

    src = tmp_path / "g.parquet"
    df = _pay_file(src, n=3000)
    for size in ("100000", "333"):
        assert main(["pay", str(src), "--budget", "1e7", "--batch-size", size, "--lang", "en", "-o", str(tmp_path / size)]) == 0
    a, b = (pd.read_parquet(tmp_path / s / "cases.parquet") for s in ("100000", "333"))
    pd.testing.assert_frame_equal(a, b)  # the batch size changes nothing
    assert a["case_id"].tolist() == df["case_id"].tolist()  # every case once, in the input's order
    assert f"settled {len(df):,} cases" in capsys.readouterr().out
    assert main(["pay", str(src), "--budget", "1e7", "--batch-size", "0", "-o", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("drg: error: --batch-size")


def test_pay_on_a_file_without_cases_says_so_in_one_line(tmp_path, capsys):
    from drg.cli import main

    src = tmp_path / "empty.parquet"
    df = _pay_file(tmp_path / "g.parquet", n=50)
    pq.write_table(pa.Table.from_pandas(df.iloc[:0], preserve_index=False), src)
    assert main(["pay", str(src), "--budget", "1e6", "-o", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("drg: error: 没有可结算的病例")
    assert not (tmp_path / "p").exists()


def test_the_workbook_keeps_the_latest_year_of_the_large_tables_and_the_parquet_every_row():
    from drg.settlement import WORKBOOK_PROFIT_LOSS_ROWS as LIMIT
    from drg.settlement import payment_workbook

    months = pd.DataFrame([(y, m, f"H{h:05d}", 1) for y in (2020, 2021) for h in range(LIMIT // 12 + 50) for m in range(1, 13)],
                          columns=["year", "month", "hospital_id", "advance_fen"])
    small = pd.DataFrame({"year": [2021], "hospital_id": ["H1"], "drg": ["AA19"], "balance_fen": [5]})
    book = payment_workbook({"monthly": months, "drg_profit_loss": small, "settlement": small})
    assert len(book["monthly"]) == LIMIT and (book["monthly"]["year"] == 2021).all()
    first = book["monthly"].groupby("hospital_id").size()
    assert (first.iloc[:-1] == 12).all()  # by hospital and month
    assert book["drg_profit_loss"] is small and book["settlement"] is small  # small tables whole


def test_cases_without_a_year_are_counted_and_named_not_lost_silently(tmp_path, capsys):
    from drg.cli import main

    df = _pay_file(tmp_path / "full.parquet", n=800)
    df["year"] = df["year"].astype(float)
    df.loc[df.index[::100], "year"] = np.nan  # 8 cases in no year
    src = tmp_path / "g.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src)
    assert main(["pay", str(src), "--budget", "1e7", "--lang", "en", "-o", str(tmp_path / "p")]) == 0
    captured = capsys.readouterr()
    assert "warning: 8 cases have no readable year" in captured.err
    assert "settled 792 cases" in captured.out
    cases = pd.read_parquet(tmp_path / "p" / "cases.parquet")
    assert cases["case_id"].tolist() == df["case_id"].tolist()  # every input case once, in input order
    unpaid = cases[cases["payment_class"] == "no_year"]
    assert unpaid["case_id"].tolist() == df["case_id"].iloc[::100].tolist() and (unpaid["payment_fen"] == 0).all()
    assert unpaid["year"].isna().all() and cases["year"].notna().sum() == 792
    assert main(["pay", str(tmp_path / "full.parquet"), "--budget", "1e7", "-o", str(tmp_path / "q")]) == 0
    assert "no readable year" not in capsys.readouterr().err  # nothing reported where nothing is missing
