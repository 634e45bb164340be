"""Grouper speed: encode, kernel (1 thread and all threads), decode, end to end, the read+write floor; scheme load.

Run: ``pytest benchmarks/bench_grouper.py --benchmark-only`` (DRG_BENCH_ROWS sets the kernel rows,
default 5,040,000 = the 60,000 public cases x 84). ``extra_info.records_per_s`` is the figure to report.
"""

from __future__ import annotations

import os
import shutil

import numba
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import grouper
from grouper.columns import canonicalize
from grouper.decode import decode, warnings_column
from grouper.kernel import group_kernel, scheme_arrays
from grouper.records import encode

ROWS = int(os.environ.get("DRG_BENCH_ROWS", 5_040_000))


def _repeat(table: pa.Table, rows: int) -> pa.Table:
    k = -(-rows // table.num_rows)
    return pa.concat_tables([table] * k).slice(0, rows).combine_chunks()


@pytest.fixture(scope="module")
def scheme(shared):
    return grouper.load_scheme(shared / "schemes" / "chs-drg-1.1")


@pytest.fixture(scope="module")
def cases(shared):
    t = pq.read_table(shared / "cases" / "chs-drg-1.1.parquet")
    return t.drop_columns([c for c in t.column_names if c.startswith("expected_") or c == "scenario"])


@pytest.fixture(scope="module")
def encoded(scheme, cases):
    return encode(canonicalize(_repeat(cases, ROWS)), scheme)


def _run_kernel(scheme, enc):
    return group_kernel(scheme_arrays(scheme), enc.dx, enc.dx_off, enc.px, enc.px_off, enc.fields, enc.sids,
                        enc.pre_stat, enc.lit_rank, np.int64(enc.empty_rank), False)


@pytest.mark.parametrize("threads", ["1", "all"])
def test_kernel_throughput(benchmark, scheme, encoded, threads):
    n = 1 if threads == "1" else numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(n)
    _run_kernel(scheme, encoded)  # warm (JIT cache load)
    benchmark.pedantic(_run_kernel, args=(scheme, encoded), rounds=3, iterations=1)
    benchmark.extra_info["rows"] = encoded.n
    benchmark.extra_info["threads"] = n
    benchmark.extra_info["records_per_s"] = round(encoded.n / benchmark.stats.stats.min)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


@pytest.fixture(scope="module")
def million(cases):
    return canonicalize(_repeat(cases, 1_000_000))


def test_encode_1m(benchmark, scheme, million):
    benchmark.pedantic(encode, args=(million, scheme), rounds=3, iterations=1)
    benchmark.extra_info["records_per_s"] = round(1_000_000 / benchmark.stats.stats.min)


def test_decode_1m(benchmark, scheme, million):
    enc = encode(million, scheme)
    res, stat, info = _run_kernel(scheme, enc)

    def run():
        cols = decode(scheme, res, stat, info)
        cols["warnings"] = warnings_column(enc, scheme, False, "zh")
        return cols

    benchmark.pedantic(run, rounds=3, iterations=1)
    benchmark.extra_info["records_per_s"] = round(1_000_000 / benchmark.stats.stats.min)


def test_end_to_end_1m(benchmark, scheme, million):
    benchmark.pedantic(grouper.group_table, args=(million, scheme), rounds=3, iterations=1)
    benchmark.extra_info["records_per_s"] = round(1_000_000 / benchmark.stats.stats.min)


def test_floor_read_write_1m(benchmark, million, tmp_path):
    """The I/O floor for the 1M-row figures above: pyarrow reads the rows from Parquet and writes them back."""
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(million, src, compression="zstd", compression_level=1)

    def run():
        pq.write_table(pq.read_table(src), dst, compression="zstd", compression_level=1)

    benchmark.pedantic(run, rounds=3, iterations=1)
    benchmark.extra_info["records_per_s"] = round(1_000_000 / benchmark.stats.stats.min)


def test_scheme_first_compile(benchmark, shared, tmp_path):
    os.environ["DRG_CACHE_DIR"] = str(tmp_path)

    def compile_fresh():
        shutil.rmtree(tmp_path, ignore_errors=True)
        return grouper.load_scheme(shared / "schemes" / "chs-drg-1.1")

    benchmark.pedantic(compile_fresh, rounds=2, iterations=1)


def test_scheme_load_from_cache(benchmark, shared, tmp_path):
    os.environ["DRG_CACHE_DIR"] = str(tmp_path)
    grouper.load_scheme(shared / "schemes" / "chs-drg-1.1")
    benchmark.pedantic(grouper.load_scheme, args=(shared / "schemes" / "chs-drg-1.1",), rounds=5, iterations=1)
