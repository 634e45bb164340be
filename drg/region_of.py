"""The hospitals table of an analysis run without ``--hospitals``, found without a pass of its own.

The built-in network applies when every hospital id of the file is in it (:func:`drg.regions.hospitals_table`). Rather
than reading the whole file once more for its ids, :func:`run_in_region` takes the network when the first batch's ids
are all in it, lets the analysis' first pass note the ids it reads (a batch's dictionary: no pass over its rows), and
runs the analysis again without the network in the rare file whose later ids are outside it -- the same tables as
deciding from every id first, one pass fewer in the usual cases (a file of the network, a user's own export)."""

from __future__ import annotations

import dataclasses
import functools

import pyarrow as pa
import pyarrow.compute as pc

from .io import InputError
from .regions import hospitals_table


def batch_ids(b: pa.Table) -> set:
    """The distinct hospital ids of a batch (dictionary-encoded: its dictionary's entries in use)."""
    if "hospital_id" not in b.column_names:
        return set()
    ids = set()
    for chunk in b.column("hospital_id").chunks:
        if pa.types.is_dictionary(chunk.type):
            used = pc.unique(chunk.indices).drop_null()
            values = chunk.dictionary.take(used)
        else:
            values = pc.unique(chunk)
        ids.update(str(v) for v in values.to_pylist() if v is not None)
    return ids


def first_ids(grouped: str, mapping, batch_size: int) -> set:
    """The hospital ids of the file's first batch."""
    from .contract import batches

    for b in batches(grouped, ["hospital_id"], mapping, batch_size, dictionary=("hospital_id",)):
        return batch_ids(b)
    return set()


def with_levels(table, command: str | None):
    """For an analysis that needs each hospital's level (``command``: support, tiered-care), the table with a county
    column (empty where unknown), or one line saying how to give it; others take ``table`` as it is."""
    if command is None:
        return table
    if table is None:
        raise InputError(f"drg {command} needs each hospital's level, and the hospitals of the file are in no built-in "
                         "network; pass --hospitals CSV (hospital_id, level[, county]) or a region folder")
    return table if "county" in table.columns else table.assign(county=None)


def _noting(step, seen: set):
    """``step`` whose reduce also returns its batch's hospital ids, collected in ``seen`` by the merge."""
    def merge(part):
        step.merge(part[0])
        seen.update(part[1])

    return dataclasses.replace(step, reduce=functools.partial(_reduce_noting, reduce=step.reduce, offsets=step.offsets),
                               merge=merge)


def _reduce_noting(batch, offset=None, *, reduce, offsets):
    return (reduce(batch, offset) if offsets else reduce(batch)), batch_ids(batch)


def _seeing(analysis, seen: set):
    """``analysis`` with its first pass noting the hospital ids it reads (every pass reads the same file, and every
    first pass reads hospital_id: the analyses check it is there before they start)."""
    try:
        step = _noting(next(analysis), seen)
        while True:
            yield step
            step = analysis.send(None)
    except StopIteration as done:
        return done.value


def run_in_region(make, grouped: str, mapping, batch_size: int, dask, hospitals: str | None, command: str | None = None):
    """``make(table)``'s analysis run by :func:`drg.driver.run` with the hospitals table: ``--hospitals``' when given,
    else the built-in network when every id of the file is in it (see the module docstring), else None (or, for an
    analysis that needs levels, ``command``, one line)."""
    from .driver import run

    if hospitals:
        return run(make(with_levels(hospitals_table(hospitals, None), command)), grouped, mapping, batch_size, dask)
    table = hospitals_table(None, first_ids(grouped, mapping, batch_size))
    if table is None:
        return run(make(with_levels(None, command)), grouped, mapping, batch_size, dask)
    seen: set = set()
    out = run(_seeing(make(with_levels(table, command)), seen), grouped, mapping, batch_size, dask)
    if seen <= set(table["hospital_id"].astype(str)):
        return out
    return run(make(with_levels(None, command)), grouped, mapping, batch_size, dask)  # a later id outside the network
