"""Duplicate cases across a whole input with memory by batch: each batch's keys go to one of ``BUCKETS`` files on
disk by a hash of the key; at the end each bucket is read alone and every later copy of a key is an issue."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

from .kinds import duplicate_keys

BUCKETS = 64
_SCHEMA = pa.schema([("row", pa.int64()), ("key", pa.string()), ("case_id", pa.string()), ("hospital_id", pa.string()),
                     ("dept", pa.string()), ("had_error", pa.bool_()), ("had_warning", pa.bool_())])


class DuplicateSpill:
    """Keys of ``rule`` (a duplicate_case rule) spilled under ``folder``, found again by :meth:`finish`."""

    def __init__(self, rule, folder: str):
        self.rule = rule
        self.folder = folder
        self.writers: dict = {}
        self.applied = True

    def add(self, batch, case_id, hospital_id, dept, had_error: np.ndarray, had_warning: np.ndarray) -> None:
        keys = duplicate_keys(self.rule, batch)
        if keys is None:
            self.applied = False
            return
        filled = np.array([k is not None for k in keys], dtype=bool) if keys.dtype == object else np.ones(len(keys), bool)
        where = np.flatnonzero(filled)
        if not len(where):
            return
        bucket = (pd.util.hash_array(keys[where].astype(str)) % BUCKETS).astype(np.int64)
        t = pa.table({"row": pa.array(where + batch.first_row, pa.int64()), "key": pa.array(keys[where], pa.string()),
                      "case_id": case_id.take(pa.array(where)), "hospital_id": hospital_id.take(pa.array(where)),
                      "dept": dept.take(pa.array(where)), "had_error": pa.array(had_error[where]),
                      "had_warning": pa.array(had_warning[where])}, schema=_SCHEMA)
        order = np.argsort(bucket, kind="stable")
        bounds = np.searchsorted(bucket[order], np.arange(BUCKETS + 1))
        for k in range(BUCKETS):
            if bounds[k + 1] > bounds[k]:
                self._writer(k).write_table(t.take(pa.array(order[bounds[k]:bounds[k + 1]])))

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
            keys = t.column("key").to_numpy(zero_copy_only=False)
            later = pd.Series(keys).duplicated().to_numpy()  # rows arrive in input order within a bucket
            if later.any():
                found.append(t.filter(pa.array(later)))
        self.writers.clear()
        if os.path.isdir(self.folder):
            os.rmdir(self.folder)
        if not found:
            return _SCHEMA.empty_table()
        t = pa.concat_tables(found)
        return t.take(pa.array(np.argsort(t.column("row").to_numpy(), kind="stable")))
