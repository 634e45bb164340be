"""One rule of which cases an analysis counts (issue 35): every reader of grouped tables (evaluate's frame and its
streamed cells, risk, audit, pay, tiered care) includes exactly the cases the rule written out here includes, on a file
that holds every way a case can fail to be one; and the commands count the same cases on the same file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from conftest import need_shared

# every way a case can fail to be included, and the near misses that are included
ROWS = [
    # hospital, drg, status, included
    ("H1", "FR21", "分组成功", True),
    ("H1", "FR21", "ok", True),
    ("H1", " FR21 ", "分组成功", True),  # padded codes are codes
    ("H2", "GB11", "分组成功", True),
    ("H1", "0000", "分组成功", False),
    ("H1", "000", "分组成功", False),
    ("H1", "0000A", "分组成功", False),  # the grouper's failure codes: ungroupable principal, invalid record
    ("H1", "0000B", "分组成功", False),
    ("H1", "FQY", "分组成功", False),  # a QY catch-all
    ("H1", "", "分组成功", False),
    ("H1", "   ", "分组成功", False),
    ("H1", None, "分组成功", False),
    ("H1", "FR21", "信息校验不通过", False),
    ("H1", "FR21", "", False),
    ("H1", "FR21", None, False),
    ("", "FR21", "分组成功", False),  # a blank hospital is no hospital
    ("  ", "FR21", "分组成功", False),
    (None, "FR21", "分组成功", False),
]


def _slow_rule(hospital, drg, status) -> bool:
    def text(v):
        return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()

    code = text(drg)
    return (bool(text(hospital)) and bool(code) and code not in {"0000", "000", "0000A", "0000B"}
            and "QY" not in code and text(status) in ("分组成功", "ok"))


def _table() -> pa.Table:
    n = len(ROWS)
    return pa.table({
        "case_id": [f"C{i:03d}" for i in range(n)],
        "hospital_id": [r[0] for r in ROWS], "drg": [r[1] for r in ROWS], "status": [r[2] for r in ROWS],
        "year": [2022] * n, "total_cost": [1000.0 + i for i in range(n)], "los_days": [5] * n,
        "leaving_type": ["1"] * n, "adrg": ["FR2"] * n, "mdc": ["F"] * n, "dx": [["I21.0"]] * n, "px": [[]] * n,
        "age_years": [60] * n, "sex": ["1"] * n,
    })


def test_every_reader_includes_the_cases_of_the_one_rule():
    from evaluation.analysis import run_on_table
    from evaluation.audit.cases import coded_cases
    from evaluation.cells import CodedBatch
    from evaluation.coded import included
    from evaluation.common import prepare

    t = _table()
    want = np.array([_slow_rule(h, d, s) for h, d, s, _ in ROWS])
    assert (want == np.array([r[3] for r in ROWS])).all()  # the table says what the rule says
    assert (included(t) == want).all()
    assert (prepare(t.to_pandas())["included"].to_numpy(bool) == want).all()
    assert (CodedBatch(t).included == want).all()
    from drg.risk import code_lookup

    reader = run_on_table(coded_cases(t.column_names, code_lookup(None), None, {}), t, batch_size=3)
    assert (np.concatenate(reader.parts["ok"]) == want).all()
    # dictionary-encoded columns (as Parquet hands them over) give the same answer
    enc = pa.table({c: (t.column(c).dictionary_encode() if pa.types.is_string(t.column(c).type) else t.column(c))
                    for c in t.column_names})
    assert (included(enc) == want).all() and (CodedBatch(enc).included == want).all()


def test_numbers_read_as_the_sheet_says():
    from evaluation.coded import numbers

    col = pa.array(["1", " 2.5 ", "", None, "abc", "1_000", "3e2", "-4"])
    got = numbers(col)
    want = [1.0, 2.5, np.nan, np.nan, np.nan, np.nan, 300.0, -4.0]
    assert np.allclose(got, want, equal_nan=True)
    assert np.allclose(numbers(pa.array([1, None, 3])), [1.0, np.nan, 3.0], equal_nan=True)


def test_the_commands_count_the_same_included_cases(tmp_path):
    """evaluate, risk and audit on one grouped file with every kind of excluded case mixed in: the same included
    cases per hospital."""
    need_shared()
    from conftest import CASES

    from drg.audit import audit_to
    from drg.risk import risk_to
    from evaluation.api import evaluate

    base = pd.read_parquet(CASES / "chs-drg-1.1.parquet")
    base = base[base["expected_status"] == "分组成功"].head(16000).reset_index(drop=True)
    rng = np.random.default_rng(35)
    n = len(base)
    df = pd.DataFrame({
        "case_id": [f"C{i:05d}" for i in range(n)],
        "hospital_id": rng.choice(["H1", "H2", "H3", "", None], n, p=[0.3, 0.3, 0.3, 0.05, 0.05]),
        "drg": base["expected_drg"].where(rng.random(n) > 0.1, rng.choice(["0000A", "0000B", "0000", "", None], n)),
        "status": np.where(rng.random(n) > 0.05, "分组成功", "信息校验不通过"),
        "year": 2022, "dx": base["dx"], "px": base["px"], "age_years": base["age_years"], "sex": base["sex"],
        "los_days": base["los_days"], "total_cost": rng.lognormal(9, 0.5, n),
        "leaving_type": np.where(rng.random(n) < 0.05, "5", "1"),
    })
    df["adrg"] = df["drg"].str[:3]
    path = tmp_path / "grouped.parquet"
    df.to_parquet(path)
    want = pd.Series([_slow_rule(h, d, s) for h, d, s in zip(df["hospital_id"], df["drg"], df["status"])])
    per_hospital = df[want.to_numpy()].groupby("hospital_id").size().sort_index()

    ev = evaluate(df)["hospital"].set_index("hospital_id")["cases"].sort_index()
    assert ev.to_dict() == per_hospital.to_dict()  # and no row for the blank hospital id
    risk = risk_to(str(path), str(tmp_path / "risk"), outcomes=("cost",), lang="en")
    h = risk["hospital"]
    got = h.groupby("hospital_id")["cases"].sum().sort_index()
    assert got.to_dict() == per_hospital.to_dict()
    audit = audit_to(str(path), str(tmp_path / "audit"), lang="en")
    assert audit["hospital_flags"]["hospital_id"].isin(per_hospital.index).all()


def test_one_year_reader():
    """Years as every analysis reads them: whole years 1-9999 from numbers or text, NaN otherwise; no column: None."""
    from evaluation.coded import years

    t = pa.table({"year": ["2021", " 2022 ", "2018.5", "0", "1e308", "", None, "二〇二一", "9999", "10000"]})
    assert np.allclose(years(t), [2021, 2022, 2018, np.nan, np.nan, np.nan, np.nan, np.nan, 9999, np.nan], equal_nan=True)
    assert np.allclose(years(pa.table({"year": [2020, None, -1]})), [2020, np.nan, np.nan], equal_nan=True)
    assert years(pa.table({"x": [1]})) is None
