"""Duplicate cases across a whole input with memory by batch: each batch's keys go to one of ``BUCKETS`` files on
disk by a hash of the key; at the end each bucket is read alone and every later copy of a key is an issue."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from .kinds import duplicate_keys

BUCKETS = 64
_SCHEMA = pa.schema([("row", pa.int64()), ("key", pa.string()), ("case_id", pa.string()), ("hospital_id", pa.string()),
                     ("dept", pa.string()), ("had_error", pa.bool_()), ("had_warning", pa.bool_())])


def string_hash(text: pa.Array, most: int = 64) -> np.ndarray:
    """A 64-bit FNV-1a hash of each string's first ``most`` bytes and its length, straight from the Arrow buffers
    (one numpy pass per byte position, not one Python call per string); deterministic across runs and machines."""
    text = pc.cast(text, pa.large_string()) if not pa.types.is_large_string(text.type) else text
    text = text.fill_null("") if text.null_count else text
    _, offsets, data = text.buffers()
    off = np.frombuffer(offsets, dtype=np.int64, count=len(text) + 1, offset=text.offset * 8)
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    start, length = off[:-1], np.diff(off)
    h = np.full(len(text), np.uint64(14695981039346656037), dtype=np.uint64)
    prime = np.uint64(1099511628211)
    with np.errstate(over="ignore"):
        common = int(min(length.min(initial=0), most))
        for j in range(common):  # every string has byte j: no mask
            h = (h ^ raw[start + j].astype(np.uint64)) * prime
        for j in range(common, int(min(length.max(initial=0), most))):
            live = np.flatnonzero(length > j)
            h[live] = (h[live] ^ raw[start[live] + j].astype(np.uint64)) * prime
        h = (h ^ length.astype(np.uint64)) * prime
    return h


def _text(batch, field: str) -> pa.Array:
    t = batch.text(field)
    return pa.nulls(batch.n, pa.string()) if t is None else t


class DuplicateSpill:
    """Keys of ``rule`` (a duplicate_case rule) spilled under ``folder``, found again by :meth:`finish`."""

    def __init__(self, rule, folder: str):
        self.rule = rule
        self.folder = folder
        self.writers: dict = {}
        self.applied = True

    def add(self, batch, had_error: np.ndarray, had_warning: np.ndarray) -> None:
        """Spill the keys of one batch (with the case, hospital, department and what the rules found on the row)."""
        keys = duplicate_keys(self.rule, batch)
        if keys is None:
            self.applied = False
            return
        t = pa.table({"row": pa.array(np.arange(batch.first_row, batch.first_row + batch.n), pa.int64()), "key": keys,
                      "case_id": _text(batch, "case_id"), "hospital_id": _text(batch, "hospital_id"),
                      "dept": _text(batch, "dept"), "had_error": pa.array(had_error), "had_warning": pa.array(had_warning)},
                     schema=_SCHEMA)
        if keys.null_count:  # a blank key is nobody's duplicate
            t = t.filter(keys.is_valid())
        if not t.num_rows:
            return
        bucket = (string_hash(t.column("key").combine_chunks()) % np.uint64(BUCKETS)).astype(np.uint8)  # uint8: a radix sort
        order = np.argsort(bucket, kind="stable")
        bounds = np.searchsorted(bucket[order], np.arange(BUCKETS + 1), side="left")
        t = t.take(pa.array(order))  # one gather; each bucket is then a slice of it
        for k in range(BUCKETS):
            if bounds[k + 1] > bounds[k]:
                self._writer(k).write_table(t.slice(bounds[k], bounds[k + 1] - bounds[k]))

    def _writer(self, k: int):
        if k not in self.writers:
            os.makedirs(self.folder, exist_ok=True)
            self.writers[k] = ipc.new_stream(os.path.join(self.folder, f"keys-{k:02d}.arrow"), _SCHEMA)
        return self.writers[k]

    def finish(self):
        """Each later copy of a key, bucket by bucket, in row order: a table of _SCHEMA's columns."""
        for w in self.writers.values():
            w.close()
        found = []
        for k in sorted(self.writers):
            path = os.path.join(self.folder, f"keys-{k:02d}.arrow")
            with ipc.open_stream(path) as r:
                t = r.read_all()
            os.remove(path)
            counts = t.group_by("key", use_threads=False).aggregate([("row", "count")])
            twice = counts.filter(pc.greater(counts.column("row_count"), 1)).column("key")
            if len(twice):
                t = t.filter(pc.is_in(t.column("key"), value_set=twice.combine_chunks()))
                keys = t.column("key").to_numpy(zero_copy_only=False)
                later = pd.Series(keys).duplicated().to_numpy()  # rows arrive in input order within a bucket
                found.append(t.filter(pa.array(later)))
        self.writers.clear()
        if os.path.isdir(self.folder):
            os.rmdir(self.folder)
        if not found:
            return _SCHEMA.empty_table()
        t = pa.concat_tables(found)
        return t.take(pa.array(np.argsort(t.column("row").to_numpy(), kind="stable")))
