"""Group a file, a directory or a glob of inputs batch by batch into one output.

read (``drg.io``) -> group each batch (``grouper.group_table``) -> write
incrementally to a temporary file -> rename. Memory is bounded by the batch
size. A summary (rows, statuses, most frequent unknown codes, seconds) is
returned and written as ``OUTPUT.summary.json``.
"""

from __future__ import annotations

import collections
import sys
import time

import pyarrow.compute as pc

from .columns import WIDE, resolve_columns, wide_columns
from .io import DEFAULT_BATCH, AtomicWriter, count_rows, input_columns, input_files, read_batches, write_json_atomic


class Progress:
    """A one-line progress bar on stderr: rows, rows/s, ETA."""

    def __init__(self, total: int | None, quiet: bool, stream=None):
        self.total = total
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.rows = 0
        self._last = 0.0

    def update(self, rows: int) -> None:
        self.rows += rows
        now = time.perf_counter()
        if self.quiet or (now - self._last < 0.5 and (self.total is None or self.rows < self.total)):
            return
        self._last = now
        dt = max(now - self.start, 1e-9)
        rate = self.rows / dt
        if self.total:
            pct = 100.0 * self.rows / self.total
            eta = (self.total - self.rows) / rate if rate > 0 else 0.0
            width = 24
            filled = int(width * self.rows / self.total)
            bar = "#" * filled + "-" * (width - filled)
            msg = f"\r[{bar}] {self.rows:,}/{self.total:,} rows ({pct:5.1f}%)  {rate:,.0f} rows/s  ETA {eta:,.0f}s"
        else:
            msg = f"\r{self.rows:,} rows  {rate:,.0f} rows/s"
        self.stream.write(msg)
        self.stream.flush()

    def close(self) -> None:
        if not self.quiet and self.rows:
            self.stream.write("\n")
            self.stream.flush()


def grouping_columns(spec: str) -> list[str]:
    """The input columns grouping needs (canonical names, their aliases, wide dx/px columns)."""
    names = input_columns(spec)
    wanted = set(resolve_columns(names).values())
    for which in WIDE:
        wanted.update(wide_columns(names, which))
    return [n for n in names if n in wanted]


def group_file(input_spec: str, output: str, scheme, *, map_codes: bool = False, only_results: bool = False,
               lang: str = "zh", batch_size: int = DEFAULT_BATCH, quiet: bool = False, summary: bool = True) -> dict:
    """Group ``input_spec`` into ``output`` (.parquet or .csv) and return the run summary."""
    from grouper.api import group_table
    from grouper.decode import unknown_code_counts

    start = time.perf_counter()
    kind, files = input_files(input_spec)
    columns = grouping_columns(input_spec) if only_results else None
    total = count_rows(kind, files)
    progress = Progress(total, quiet)
    status_counts: collections.Counter = collections.Counter()
    unknown = {"dx": collections.Counter(), "px": collections.Counter()}
    rows_in = rows_out = 0
    writer = AtomicWriter(output)
    try:
        for batch in read_batches(input_spec, batch_size=batch_size, columns=columns):
            out, enc = group_table(batch, scheme, map_codes=map_codes, lang=lang, only_results=only_results, return_encoded=True)
            rows_in += batch.num_rows
            rows_out += out.num_rows
            counts = pc.value_counts(out.column("status").combine_chunks().dictionary_decode())
            for item in counts.to_pylist():
                status_counts[item["values"]] += item["counts"]
            for which in ("dx", "px"):
                unknown[which].update(unknown_code_counts(enc, scheme, which, map_codes))
            writer.write(out)
            progress.update(batch.num_rows)
        writer.commit()
    except BaseException:
        writer.abort()
        progress.close()
        raise
    progress.close()
    seconds = time.perf_counter() - start
    result = {
        "input": input_spec,
        "output": output,
        "scheme": {"id": scheme.id, "name": scheme.name, "digest": scheme.digest},
        "map_codes": map_codes,
        "only_results": only_results,
        "rows_in": rows_in,
        "rows_out": rows_out,
        "status_counts": dict(sorted(status_counts.items(), key=lambda kv: -kv[1])),
        "top_unknown_dx": unknown["dx"].most_common(20),
        "top_unknown_px": unknown["px"].most_common(20),
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows_in / seconds) if seconds > 0 else None,
    }
    if summary:
        write_json_atomic(output + ".summary.json", result)
    return result
