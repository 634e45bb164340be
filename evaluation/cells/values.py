"""Per DRG the included cases' costs and stays, in input order, held within a fixed amount of memory.

The weights need every cost of a DRG (the exact quartiles of the IQR trimming, the trimmed means and spreads:
:func:`evaluation.cells.tables.drg_statistics`), 12 bytes a case: 1.2 GB at 100 million cases. :class:`DrgValues`
keeps what it is given in memory up to :func:`spill_bytes` and then writes it, DRG by DRG, to an unnamed temporary
file: memory follows the batch size, the disk takes 12 bytes a case. :meth:`DrgValues.values` reads a
DRG's parts back in the order they were added, so the arrays, and every statistic made of them, have the same bits
as when everything stayed in memory (the file: :class:`evaluation.spill.SpillFile`; the DRGs are read by several
threads at once).
"""

from __future__ import annotations

import os
import threading
import weakref

import numpy as np

from ..spill import SpillFile

SPILL_BYTES = 128 << 20  # held in memory before a spill; DRG_SPILL_BYTES overrides (the tests spill at a few KB)


def spill_bytes() -> int:
    """The bytes of values held in memory before they are written out (``DRG_SPILL_BYTES``, else :data:`SPILL_BYTES`)."""
    given = os.environ.get("DRG_SPILL_BYTES", "")
    return int(given) if given.strip().isdigit() else SPILL_BYTES


_THREAD = threading.local()


def _extended_here() -> "weakref.WeakSet":
    """The stores extended on this thread (whose memory one limit bounds)."""
    stores = getattr(_THREAD, "stores", None)
    if stores is None:
        stores = _THREAD.stores = weakref.WeakSet()
    return stores


class DrgValues:
    """Per DRG a list of parts, each ``(cost, los)`` arrays in memory or a pair of references into the spill file.

    A batch's store (:meth:`add`) stays in memory; the run's stores take the batches in input order (:meth:`extend`)
    and spill once they hold more than :func:`spill_bytes` together (one store per year for support's and tiered
    care's baseline weights: the limit is the run's, not each year's). The stores counted together are those extended
    on the same thread (a reduce on a worker thread extends its batch's stores; the driver, the run's)."""

    def __init__(self):
        self._parts: dict = {}  # drg -> list of parts: (cost, los) arrays, or ("spilled", cost ref, los ref)
        self._held = 0  # bytes of the parts in memory
        self._spill = SpillFile("drg-values-")

    def __len__(self) -> int:
        return len(self._parts)

    def names(self) -> list:
        """The DRGs that have values, sorted."""
        return sorted(self._parts)

    def add(self, drg: str, cost: np.ndarray, los: np.ndarray) -> None:
        """Append one batch's values of ``drg`` (kept in memory)."""
        self._parts.setdefault(drg, []).append((cost, los))
        self._held += cost.nbytes + los.nbytes

    def extend(self, other: "DrgValues") -> None:
        """Append the values of a later part of the input (``other`` is emptied); spill past the limit."""
        for drg, parts in other._parts.items():
            for p in parts:
                self.add(drg, *other._part(p))  # another store's spilled part is read back: one file is referred to
        other.clear()
        stores = _extended_here()
        stores.add(self)
        if sum(s._held for s in stores) > spill_bytes():
            for store in list(stores):
                store._write_out()

    def _write_out(self) -> None:
        """Write every DRG's parts held in memory to the file as one part (its costs, then its stays)."""
        for parts in self._parts.values():
            at = [k for k, p in enumerate(parts) if len(p) == 2]
            if not at:
                continue
            # the parts in memory follow the spilled ones (a spill takes all of them): one part, in the same order
            cost = np.concatenate([parts[k][0] for k in at]).astype(np.float64, copy=False)
            los = np.concatenate([parts[k][1] for k in at])  # float32 where every part was (exact), else float64
            parts[at[0]:] = [("spilled", self._spill.write(cost), self._spill.write(los))]
        self._held = 0

    def _part(self, p: tuple) -> tuple:
        return p if len(p) == 2 else (self._spill.read(p[1]), self._spill.read(p[2]))

    def values(self, drg: str) -> tuple[np.ndarray, np.ndarray]:
        """(cost, LOS as float64) of the DRG's cases in the order they were added (empty arrays for none)."""
        parts = [self._part(p) for p in self._parts.get(drg, [])]
        if not parts:
            return np.empty(0), np.empty(0)
        return (np.concatenate([c for c, _ in parts]), np.concatenate([np.asarray(v, dtype=float) for _, v in parts]))

    def spilled(self) -> int:
        """Bytes written to the spill file so far."""
        return self._spill.size

    def clear(self) -> None:
        """Forget every value and remove the spill file."""
        self._parts, self._held = {}, 0
        self._spill.close()

    def __getstate__(self):  # a batch's store crosses to a Dask worker and back: its values, never a file handle
        return {"parts": {g: [self._part(p) for p in parts] for g, parts in self._parts.items()}}

    def __setstate__(self, state):
        self.__init__()
        for drg, parts in state["parts"].items():
            for cost, los in parts:
                self.add(drg, cost, los)
