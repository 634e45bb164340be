"""Group a file, a directory or a glob of inputs batch by batch into one output.

read (``drg.io``) -> group each batch (``grouper.group_table``) -> write
incrementally to a temporary file -> rename. Memory is bounded by the batch
size. A summary (rows, statuses, most frequent unknown codes, seconds) is
returned and written as ``OUTPUT.summary.json``.
"""

from __future__ import annotations

import collections
import gc
import json
import queue
import sys
import threading
import time

import numpy as np

from grouper.columns import WIDE, resolve_columns, wide_columns

from .atomic import check_file_target, discard, publish, refuse_overlap, stage_json
from .io import (
    DEFAULT_BATCH,
    EXCEL_MAX_ROWS,
    AtomicWriter,
    InputError,
    count_rows,
    input_columns,
    input_files,
    output_kind,
    read_batches,
)


class Progress:
    """A one-line progress bar on stderr: rows, rows/s, ETA."""

    def __init__(self, total: int | None, quiet: bool, stream=None, lang: str = "zh"):
        from .progress import WORDS

        self.words = WORDS.get(lang, WORDS["zh"])
        self.sep = "" if lang == "zh" else " "  # 20,000行 / 20,000 rows
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
            w = self.words
            sp = self.sep
            msg = (f"\r[{bar}] {self.rows:,}/{self.total:,}{sp}{w['rows']} ({pct:5.1f}%)  {rate:,.0f}{sp}{w['per_s']}  "
                   f"{w['left']} {eta:,.0f}{w['s']}")
        else:
            msg = f"\r{self.rows:,}{self.sep}{self.words['rows']}  {rate:,.0f}{self.sep}{self.words['per_s']}"
        self.stream.write(msg)
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if not self.quiet and (self.rows or getattr(self, "drawn", False)):  # a bar was drawn (0 rows too): end its line
            self.stream.write("\n")
            self.stream.flush()


_DONE = object()


def prefetch(iterable, depth: int = 1):
    """Iterate in a background thread, ``depth`` items ahead (reading overlaps grouping)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run():
        try:
            for item in iterable:
                if stop.is_set():
                    return
                q.put((item, None))
            q.put((_DONE, None))
        except BaseException as e:  # handed to the consumer
            q.put((_DONE, e))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        while True:
            item, err = q.get()
            if err is not None:
                raise err
            if item is _DONE:
                return
            yield item
    finally:  # stopped early (an error downstream): let the reader finish its batch and end, so that no thread is
        stop.set()  # still reading when the command exits (a pyarrow read killed at exit aborts the process)
        while t.is_alive():
            try:
                while True:
                    q.get_nowait()
            except queue.Empty:
                pass
            t.join(timeout=0.1)


class BackgroundWriter:
    """Feed an :class:`~drg.io.AtomicWriter` from a thread (writing overlaps grouping); order kept."""

    def __init__(self, writer, depth: int = 1):
        self.writer = writer
        self.q: queue.Queue = queue.Queue(maxsize=depth)
        self.error = None
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while True:
            item = self.q.get()
            if item is _DONE:
                return
            if self.error is None:
                try:
                    self.writer.write(item)
                except BaseException as e:
                    self.error = e

    def write(self, table) -> None:
        if self.error is not None:
            raise self.error
        self.q.put(table)

    def close(self) -> None:
        self.q.put(_DONE)
        self.t.join()
        if self.error is not None:
            raise self.error


def _count_values(column, counter: collections.Counter) -> None:
    """Add the non-empty values of a dictionary-encoded column to ``counter`` (counted on indices)."""
    col = column.combine_chunks()
    counts = np.bincount(col.indices.to_numpy(zero_copy_only=False), minlength=len(col.dictionary))
    for name, c in zip(col.dictionary.to_pylist(), counts.tolist()):
        if c and name:
            counter[name] += c


def grouping_columns(spec: str) -> list[str]:
    """The input columns grouping needs (canonical names, their aliases, wide dx/px columns)."""
    names = input_columns(spec)
    wanted = set(resolve_columns(names).values())
    for which in WIDE:
        wanted.update(wide_columns(names, which))
    return [n for n in names if n in wanted]


class Tally:
    """What a run counts for its summary: rows, statuses, reasons, unknown codes.

    One per batch on a Dask worker (picklable), merged in input order on the driver;
    one for the whole run locally."""

    def __init__(self):
        self.rows_in = self.rows_out = 0
        self.status: collections.Counter = collections.Counter()
        self.reasons: collections.Counter = collections.Counter()
        self.unknown = {"dx": collections.Counter(), "px": collections.Counter()}

    def add(self, rows_in: int, out, enc, scheme, map_codes: bool) -> None:
        from grouper.decode import unknown_code_counts

        self.rows_in += rows_in
        self.rows_out += out.num_rows
        _count_values(out.column("status"), self.status)
        _count_values(out.column("reason"), self.reasons)
        for which in ("dx", "px"):
            self.unknown[which].update(unknown_code_counts(enc, scheme, which, map_codes))

    def merge(self, other: Tally) -> None:
        self.rows_in += other.rows_in
        self.rows_out += other.rows_out
        self.status.update(other.status)
        self.reasons.update(other.reasons)
        for which in ("dx", "px"):
            self.unknown[which].update(other.unknown[which])

    def summary(self, input_spec: str, output: str, scheme, map_codes: bool, only_results: bool, seconds: float, **extra) -> dict:
        return {
            "input": input_spec,
            "output": output,
            "scheme": {"id": scheme.id, "name": scheme.name, "digest": scheme.digest},
            "map_codes": map_codes,
            "only_results": only_results,
            **extra,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "status_counts": dict(sorted(self.status.items(), key=lambda kv: -kv[1])),
            "top_unknown_dx": self.unknown["dx"].most_common(20),
            "top_unknown_px": self.unknown["px"].most_common(20),
            "top_reasons": self.reasons.most_common(20),
            "seconds": round(seconds, 3),
            "rows_per_second": round(self.rows_in / seconds) if seconds > 0 else None,
        }


def summary_path(output: str) -> str:
    return output + ".summary.json"


def check_outputs(files: list[str], output: str, summary: bool = True) -> None:
    """Refuse an output (or its summary) that is one of the input files."""
    refuse_overlap(files, output)
    if summary:
        refuse_overlap(files, summary_path(output))
        check_file_target(summary_path(output))  # checked now: never found out after the output was replaced


def file_sha256(path: str) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def summary_matches(output: str) -> bool:
    """Whether ``OUTPUT.summary.json`` describes the ``output`` beside it (its ``output_sha256``): a run killed
    between the two renames leaves a new output beside an old summary (or the reverse), and this tells."""
    try:
        with open(summary_path(output), encoding="utf-8") as f:
            want = json.load(f).get("output_sha256")
        return want is not None and want == file_sha256(output)
    except (OSError, ValueError, AttributeError):
        return False


def finish(writer, output: str, result: dict | None) -> None:
    """Commit the output and its summary together: the summary is written before the output
    replaces anything, so a failure writing it leaves the old output in place. The summary carries the
    output's SHA-256 (``output_sha256``), so a pair left mismatched by a kill between the two renames is
    detected (:func:`summary_matches`)."""
    if result is not None:
        writer.close_for_commit()
        result["output_sha256"] = file_sha256(writer.tmp)  # also in the summary the caller gets back
    staged = stage_json(summary_path(output), result) if result is not None else None
    try:
        if staged:
            check_file_target(summary_path(output))
        writer.commit()
    except BaseException:
        discard(staged)
        raise
    if staged:
        publish(staged, summary_path(output))


def result_headers(input_spec: str, lang: str) -> dict:
    """The result columns' headers in a CSV or xlsx for people: Chinese with ``lang`` zh (分组状态, DRG编码, DRG名称,
    原因, ...), except one the input already has (then its canonical name, so no header appears twice); Parquet
    keeps the canonical names (see README, "One language per output")."""
    from grouper.decode import RESULT_HEADERS_ZH

    if lang != "zh":
        return {}
    have = set(input_columns(input_spec))
    return {k: v for k, v in RESULT_HEADERS_ZH.items() if v not in have}


def _checked(out, batch, checker, first: int, lang: str):
    """``out`` with the issues of ``batch`` added to its warnings (and counted: ``check_issues`` in the summary)."""
    from .check.engine import issue_warnings, with_issues

    issues, _ = checker.check(batch, first)
    extra = issue_warnings(issues, batch.num_rows, first, lang)
    i = out.column_names.index("warnings")
    return out.set_column(i, "warnings", with_issues(out.column("warnings"), extra))


def group_file(input_spec: str, output: str, scheme, *, map_codes: bool = False, only_results: bool = False,
               lang: str = "zh", batch_size: int = DEFAULT_BATCH, quiet: bool = False, summary: bool = True,
               csv_guard: bool = True, encoding: str = "utf-8-sig", check: bool = False, rules: str | None = None) -> dict:
    """Group ``input_spec`` into ``output`` (.parquet, .csv or .xlsx) and return the run summary.

    ``check``: the settlement-list checks of ``drg check`` (default rules, plus ``rules``, a folder of rule tables)
    add each row's issues to its ``warnings`` (duplicates looked for within each batch).

    Text cells of a CSV output that start with ``= + - @`` TAB or CR get a leading
    apostrophe (OWASP CSV injection) unless ``csv_guard`` is False."""
    from grouper.api import group_table, warm_up
    from grouper.decode import RESULT_COLUMNS

    start = time.perf_counter()
    # load the kernels while the first batch is read; joined before the first kernel call
    warming = threading.Thread(target=warm_up, args=(scheme, map_codes), daemon=True)
    warming.start()
    kind, files = input_files(input_spec)
    check_outputs(files, output, summary)
    columns = grouping_columns(input_spec) if only_results else None
    rows = count_rows(kind, files)
    if output_kind(output) == "excel" and rows is not None and rows > EXCEL_MAX_ROWS:
        raise InputError(f"{output}: {rows:,} rows are more than an Excel sheet holds ({EXCEL_MAX_ROWS:,}); write .parquet or .csv")
    progress = Progress(rows, quiet, lang=lang)
    tally = Tally()
    from .contract import numeric_headers

    writer = AtomicWriter(output, no_statistics=RESULT_COLUMNS, csv_guard=csv_guard, encoding=encoding,
                          numeric=numeric_headers(input_columns(input_spec)) if output_kind(output) == "excel" else (),
                          headers=result_headers(input_spec, lang))
    checker = None
    if check:
        from .check.engine import Checker
        from .check.rules import load_rules

        checker = Checker(scheme, load_rules(rules), lang=lang)
    first = 0
    background = BackgroundWriter(writer)
    frozen = gc.get_freeze_count() == 0
    if frozen:  # the many import-time objects (Numba's) need not be scanned by every collection
        gc.freeze()
    try:
        for batch in prefetch(read_batches(input_spec, batch_size=batch_size, columns=columns)):
            if warming.is_alive():
                warming.join()
            out, enc = group_table(batch, scheme, map_codes=map_codes, lang=lang, only_results=only_results, return_encoded=True)
            if checker is not None:
                out = _checked(out, batch, checker, first, lang)
            first += batch.num_rows
            tally.add(batch.num_rows, out, enc, scheme, map_codes)
            background.write(out)
            progress.update(batch.num_rows)
        background.close()
        result = tally.summary(input_spec, output, scheme, map_codes, only_results, time.perf_counter() - start)
        finish(writer, output, result if summary else None)
    except BaseException:
        try:
            background.close()
        except BaseException:
            pass
        writer.abort()
        progress.close()
        raise
    finally:
        if frozen:
            gc.unfreeze()
    progress.close()
    return result
