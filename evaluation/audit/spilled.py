"""The audit's coded cases on disk, read back in blocks of a fixed size (the streamed audit: :mod:`evaluation.audit.streamed`).

:class:`SpilledCases` codes each batch as :class:`evaluation.audit.cases.AuditCases` does (the run's integer codes, in
input order) and writes its arrays to a temporary file (:class:`evaluation.spill.SpillFile`: about 60 bytes a case and
4 per secondary diagnosis) instead of keeping them. :meth:`SpilledCases.blocks` reads them back as blocks of
:data:`BLOCK` cases whatever the batch size, so every sum an audit sweep makes block by block is the same however the
input was read (locally, on Dask, in any batch size). :class:`KeyTable` holds integer counts per integer key (hospital x
year x stratum cells): exact, so the order they are added in does not matter.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .cases import AuditCases
from ..spill import SpillFile

BLOCK = 1 << 20  # cases a sweep works on at once


class SpilledCases(AuditCases):
    """:class:`AuditCases` whose batches go to disk; ``rows``, ``years`` (every case's year) and ``cost_ok``
    (some case has a usable cost) are kept as the batches pass."""

    def __init__(self):
        super().__init__()
        self.spill = SpillFile("drg-audit-")
        self.batches: list = []  # (rows, {name: ref}, case id ref)
        self.rows = 0
        self.years: set = set()
        self.cost_ok = False

    def keep(self, d: dict, case_id) -> None:
        n = len(d["ok"])
        self.rows += n
        self.years.update(np.unique(d["year"]).tolist())
        self.cost_ok |= bool((np.isfinite(d["cost"]) & (d["cost"] > 0)).any())
        ids = pa.table([case_id if isinstance(case_id, (pa.Array, pa.ChunkedArray)) else pa.array(case_id, pa.string())],
                       ["id"])
        id_ref = self.spill.write_table(ids)
        self.batches.append((n, {k: self.spill.write(v) for k, v in d.items()}, id_ref))

    def read_ids(self, id_ref) -> pa.Array:
        return self.spill.read_table(id_ref).column("id").combine_chunks()

    def blocks(self, names, size: int = BLOCK, ids: bool = False):
        """(first case's index, {name: array}) per block of ``size`` cases in input order; ``sdx`` comes with
        ``sdx_offsets``; ``case_id`` (a pyarrow array) with ``ids``."""
        names = list(names)
        lists = "sdx" in names
        names = [k for k in names if k != "sdx"] + (["sdx", "sdx_count"] if lists else [])
        held, have, start = [], 0, 0
        for n, refs, id_ref in self.batches:
            d = {k: self.spill.read(refs[k]) for k in names}
            if ids:
                d["case_id"] = self.read_ids(id_ref)
            ends = np.concatenate([[0], np.cumsum(d["sdx_count"])]) if lists else None
            lo = 0
            while lo < n:
                hi = min(n, lo + size - have)
                held.append(_rows(d, lo, hi, ends))
                have += hi - lo
                lo = hi
                if have == size:
                    yield start, _joined(held)
                    start, held, have = start + size, [], 0
        if held:
            yield start, _joined(held)

    def close(self) -> None:
        self.spill.close()


def _rows(d: dict, lo: int, hi: int, ends) -> dict:
    out = {k: v[lo:hi] for k, v in d.items() if k != "sdx"}
    if ends is not None:
        out["sdx"] = d["sdx"][ends[lo]:ends[hi]]
    return out


def _joined(parts: list) -> dict:
    if len(parts) == 1:
        out = dict(parts[0])
    else:
        out = {k: (pa.concat_arrays([p[k] for p in parts]) if k == "case_id" else np.concatenate([p[k] for p in parts]))
               for k in parts[0]}
    if "sdx_count" in out:
        out["sdx_offsets"] = np.concatenate([[0], np.cumsum(out.pop("sdx_count"))]).astype(np.int64)
    return out


class KeyTable:
    """Integer counts per int64 key (columns added together), block by block: integers, exact in float64 below 2**53,
    so the table is the same whatever the order or cut of the blocks."""

    def __init__(self, width: int):
        self.keys = np.empty(0, np.int64)
        self.sums = np.zeros((width, 0))

    def add(self, keys, *columns) -> None:
        keys = np.asarray(keys, np.int64)
        if not len(keys):
            return
        u, inv = np.unique(keys, return_inverse=True)
        s = np.vstack([np.bincount(inv, weights=np.asarray(c, float), minlength=len(u)) for c in columns])
        pos = np.minimum(np.searchsorted(self.keys, u), max(len(self.keys) - 1, 0))
        found = (self.keys[pos] == u) if len(self.keys) else np.zeros(len(u), bool)
        self.sums[:, pos[found]] += s[:, found]
        if not found.all():
            keys = np.concatenate([self.keys, u[~found]])
            order = np.argsort(keys, kind="stable")
            self.keys, self.sums = keys[order], np.hstack([self.sums, s[:, ~found]])[:, order]

    def unit_sums(self, years: int, size: int, n_units: int, mean: bool = False) -> tuple:
        """(cases, observed, expected, variance) per unit (hospital x ``years`` + year) of a rate table keyed by
        ((hospital + 1) x years + year) x ``size`` + stratum with columns (cases, observed[, observed squared]): each
        case's expectation its stratum's regional rate (``mean``: mean and variance) in its year, as float32
        (:func:`evaluation.audit.measures.binary`); the region counts the cases without a hospital too."""
        h1, rest = np.divmod(self.keys, years * size)
        y, s = np.divmod(rest, size)
        den, num = self.sums[0], self.sums[1]
        inv = np.unique(y * size + s, return_inverse=True)[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = (np.bincount(inv, num) / np.bincount(inv, den))[inv]
            if mean:
                second = (np.bincount(inv, self.sums[2]) / np.bincount(inv, den))[inv]
                spread = np.maximum(second - rate ** 2, 0).astype(np.float32).astype(float)
        r32 = rate.astype(np.float32).astype(float)
        if not mean:
            spread = r32 * (1 - r32)
        at = h1 > 0
        unit = ((h1 - 1) * years + y)[at]
        return tuple(np.bincount(unit, x[at], n_units) for x in (den, num, den * r32, den * spread))
