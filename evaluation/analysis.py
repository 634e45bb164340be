"""The one shape of every analysis over grouped records: passes over the file, a plan between them, tables at the end.

An *analysis* is a generator. Each ``yield`` hands the driver one :class:`Pass` -- the columns it reads, a ``reduce``
of one batch and a ``merge`` of each batch's result in input order -- and resumes when the pass is over; the code
between two yields is the plan step (weights from the first pass's sums, a sample's cut, a fitted model), and the
generator's ``return`` value is the finish: the analysis' tables. ``yield from`` composes analyses.

The driver decides where the reduces run: :func:`run_on_table` here (one thread, an in-memory table: the reference,
and what the Python API and the tests use); ``drg.driver.run`` over a grouped file, batch by batch, locally on threads
or on a Dask cluster whose workers read and reduce their own parts. Because a reduce is a pure function of its batch
(and, with ``offsets``, the batch's first row) and the merges see the same results in the same order, every driver
gives the same tables, byte for byte. Memory follows the batch and whatever the merges keep (cells, sums, samples),
not the number of rows.

Example: the cases of each hospital::

    def cases_per_hospital():
        counts = collections.Counter()
        yield Pass(["hospital_id"], lambda b: collections.Counter(b.column("hospital_id").to_pylist()), counts.update)
        return counts
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Generator

import pyarrow as pa


@dataclasses.dataclass
class Pass:
    """One pass over the grouped records.

    Parameters
    ----------
    columns : list of str
        The canonical columns the reduce reads (those the file lacks are left out; the analysis checks what it needs).
    reduce : callable
        ``reduce(batch)`` or, with ``offsets``, ``reduce(batch, first_row)``: a pure function of one batch (an Arrow
        table of ``columns``) that can be pickled -- it runs on threads and on Dask workers.
    merge : callable
        ``merge(part)`` with each batch's result, in input order, on the driver.
    offsets : bool
        Pass the batch's first row in the input to ``reduce``.
    dictionary : tuple of str
        Columns read dictionary-encoded (few distinct values).
    max_threads : int or None
        At most this many batches reduced at once (each result holds a batch's worth of rows).
    """

    columns: list
    reduce: Callable
    merge: Callable
    offsets: bool = False
    dictionary: tuple = ()
    max_threads: int | None = None


Analysis = Generator[Pass, None, Any]


def run_on_table(analysis: Analysis, table: pa.Table, batch_size: int = 1_000_000) -> Any:
    """The analysis over an in-memory Arrow table of canonical columns, ``batch_size`` rows at a time, on this
    thread (the reference driver: ``drg.driver.run`` gives the same result over a file, locally or on Dask)."""
    if batch_size < 1:
        raise ValueError(f"batch_size {batch_size}: must be a positive number of rows")
    try:
        step = next(analysis)
        while True:
            names = [c for c in step.columns if c in table.column_names]
            for lo in range(0, table.num_rows, batch_size):
                batch = table.select(names).slice(lo, batch_size)
                step.merge(step.reduce(batch, lo) if step.offsets else step.reduce(batch))
            step = analysis.send(None)
    except StopIteration as done:
        return done.value
