"""Duplicate cases across a whole input with memory by batch.

Each batch writes two spills: its keys' 64-bit hashes (with the row and what the rules found on it) into one of
``BUCKETS`` numeric files by hash, and its texts (key, case, hospital, department) in row order into one Arrow
stream, without reordering a string. At the end each bucket is read alone: rows whose hash occurs twice are the
candidates; one pass over the text stream fetches their keys, and every later row of an equal key (compared as
text, so a hash collision is never a duplicate) is an issue."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from .kinds import duplicate_keys

BUCKETS = 64
_NUMBERS = np.dtype([("hash", "<u8"), ("row", "<i8"), ("flags", "u1")])  # flags: 1 error, 2 warning on the row
_TEXTS = pa.schema([("key", pa.string()), ("case_id", pa.string()), ("hospital_id", pa.string()), ("dept", pa.string())])
FOUND = pa.schema([("row", pa.int64()), ("key", pa.string()), ("case_id", pa.string()), ("hospital_id", pa.string()),
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
        self.files: dict = {}
        self.texts = None
        self.applied = True

    def add(self, batch, had_error: np.ndarray, had_warning: np.ndarray) -> None:
        """Spill the keys of one batch (with the case, hospital, department and what the rules found on the row)."""
        keys = duplicate_keys(self.rule, batch)
        if keys is None:
            self.applied = False
            return
        os.makedirs(self.folder, exist_ok=True)
        if self.texts is None:
            self.texts = ipc.new_stream(os.path.join(self.folder, "texts.arrow"), _TEXTS)
        self.texts.write_table(pa.table({"key": keys, "case_id": _text(batch, "case_id"), "hospital_id": _text(batch, "hospital_id"),
                                         "dept": _text(batch, "dept")}, schema=_TEXTS))
        where = np.flatnonzero(np.asarray(keys.is_valid(), dtype=bool)) if keys.null_count else np.arange(batch.n)
        if not len(where):  # a blank key is nobody's duplicate
            return
        numbers = np.empty(len(where), dtype=_NUMBERS)
        numbers["hash"] = string_hash(keys.take(pa.array(where)) if len(where) < batch.n else keys)
        numbers["row"] = where + batch.first_row
        numbers["flags"] = had_error[where].astype(np.uint8) | (had_warning[where].astype(np.uint8) << 1)
        bucket = (numbers["hash"] % np.uint64(BUCKETS)).astype(np.uint8)  # uint8: the stable sort is a radix sort
        order = np.argsort(bucket, kind="stable")
        numbers = numbers[order]
        bounds = np.searchsorted(bucket[order], np.arange(BUCKETS + 1), side="left")
        for k in np.flatnonzero(np.diff(bounds)):
            if k not in self.files:
                self.files[k] = open(os.path.join(self.folder, f"keys-{k:02d}.bin"), "ab")
            numbers[bounds[k]:bounds[k + 1]].tofile(self.files[k])

    def finish(self) -> pa.Table:
        """Each later copy of a key, in row order: a table of :data:`FOUND`'s columns."""
        for f in self.files.values():
            f.close()
        if self.texts is not None:
            self.texts.close()
        candidates = []
        for k in sorted(self.files):
            path = os.path.join(self.folder, f"keys-{k:02d}.bin")
            numbers = np.fromfile(path, dtype=_NUMBERS)
            os.remove(path)
            _, first, counts = np.unique(numbers["hash"], return_index=True, return_counts=True)
            twice = np.isin(numbers["hash"], numbers["hash"][first[counts > 1]])
            if twice.any():
                candidates.append(numbers[twice])
        self.files.clear()
        found = self._texts_of(np.concatenate(candidates)) if candidates else FOUND.empty_table()
        if os.path.exists(os.path.join(self.folder, "texts.arrow")):
            os.remove(os.path.join(self.folder, "texts.arrow"))
        if os.path.isdir(self.folder):
            os.rmdir(self.folder)
        return found

    def _texts_of(self, numbers: np.ndarray) -> pa.Table:
        """The candidates' texts, fetched in one pass over the text spill; the later rows of each equal key."""
        numbers = numbers[np.argsort(numbers["row"], kind="stable")]
        rows = numbers["row"]
        parts, start = [], 0
        with ipc.open_stream(os.path.join(self.folder, "texts.arrow")) as reader:
            for b in reader:
                lo, hi = np.searchsorted(rows, [start, start + b.num_rows])
                if hi > lo:
                    parts.append(pa.Table.from_batches([b]).take(pa.array(rows[lo:hi] - start)))
                start += b.num_rows
        texts = pa.concat_tables(parts)
        later = pd.Series(texts.column("key").to_numpy(zero_copy_only=False)).duplicated().to_numpy()
        t = pa.table({"row": pa.array(rows), **{c: texts.column(c) for c in _TEXTS.names},
                      "had_error": pa.array((numbers["flags"] & 1) > 0), "had_warning": pa.array((numbers["flags"] & 2) > 0)},
                     schema=FOUND)
        return t.filter(pa.array(later))
