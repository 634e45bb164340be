"""Per DRG the included cases' costs and stays, in input order, held within a fixed amount of memory.

The weights need every cost of a DRG (the exact quartiles of the IQR trimming, the trimmed means and spreads:
:func:`evaluation.cells.tables.drg_statistics`), 12 bytes a case: 1.2 GB at 100 million cases. :class:`DrgValues`
keeps what it is given in memory up to :func:`spill_bytes` and then writes it, DRG by DRG, to an unnamed temporary
file (removed by the operating system when it is closed or the process ends, a killed run's too), as a database
spills a sort to disk: memory follows the batch size, the disk takes 12 bytes a case. :meth:`DrgValues.values` reads a
DRG's parts back in the order they were added, so the arrays, and every statistic made of them, have the same bits
as when everything stayed in memory. Reads use ``os.pread`` (no shared file position): the DRGs are read by
several threads at once.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

SPILL_BYTES = 128 << 20  # held in memory before a spill; DRG_SPILL_BYTES overrides (the tests spill at a few KB)


def spill_bytes() -> int:
    """The bytes of values held in memory before they are written out (``DRG_SPILL_BYTES``, else :data:`SPILL_BYTES`)."""
    given = os.environ.get("DRG_SPILL_BYTES", "")
    return int(given) if given.strip().isdigit() else SPILL_BYTES


class DrgValues:
    """Per DRG a list of parts, each ``(cost, los)`` arrays in memory or ``(offset, n, los dtype)`` in the spill file.

    A batch's store (:meth:`add`) stays in memory; the run's store takes the batches in input order (:meth:`extend`)
    and spills once it holds more than :func:`spill_bytes`."""

    def __init__(self):
        self._parts: dict = {}  # drg -> list of parts
        self._held = 0  # bytes of the parts in memory
        self._file = None
        self._end = 0  # the spill file's size

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
            mine = self._parts.setdefault(drg, [])
            for p in parts:
                if len(p) == 2:
                    mine.append(p)
                    self._held += p[0].nbytes + p[1].nbytes
                else:  # another store's spilled part: read back, so that only one file is referred to
                    mine.append(other._read(p))
                    self._held += mine[-1][0].nbytes + mine[-1][1].nbytes
        other.clear()
        if self._held > spill_bytes():
            self._spill()

    def _spill(self) -> None:
        """Write every DRG's parts held in memory to the file as one part (its costs, then its stays)."""
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="drg-values-")
        fd = self._file.fileno()
        for drg, parts in self._parts.items():
            at = [k for k, p in enumerate(parts) if len(p) == 2]
            if not at:
                continue
            # the parts in memory follow the spilled ones (a spill takes all of them): one part, in the same order
            cost = np.concatenate([parts[k][0] for k in at]) if len(at) > 1 else parts[at[0]][0]
            los = np.concatenate([parts[k][1] for k in at]) if len(at) > 1 else parts[at[0]][1]
            cost = np.ascontiguousarray(cost, dtype=np.float64)
            los = np.ascontiguousarray(los)  # float32 where every part was (exact), else float64
            _pwrite_all(fd, cost.tobytes(), self._end)
            _pwrite_all(fd, los.tobytes(), self._end + cost.nbytes)
            parts[at[0]:] = [(self._end, len(cost), los.dtype.str)]
            self._end += cost.nbytes + los.nbytes
        self._held = 0

    def _read(self, part: tuple) -> tuple:
        offset, n, los_type = part
        fd = self._file.fileno()
        cost = np.frombuffer(_pread_all(fd, n * 8, offset), dtype=np.float64)
        los_dtype = np.dtype(los_type)
        los = np.frombuffer(_pread_all(fd, n * los_dtype.itemsize, offset + n * 8), dtype=los_dtype)
        return cost, los

    def values(self, drg: str) -> tuple[np.ndarray, np.ndarray]:
        """(cost, LOS as float64) of the DRG's cases in the order they were added (empty arrays for none)."""
        parts = [p if len(p) == 2 else self._read(p) for p in self._parts.get(drg, [])]
        if not parts:
            return np.empty(0), np.empty(0)
        return (np.concatenate([c for c, _ in parts]), np.concatenate([np.asarray(v, dtype=float) for _, v in parts]))

    def spilled(self) -> int:
        """Bytes written to the spill file so far."""
        return self._end

    def clear(self) -> None:
        """Forget every value and remove the spill file."""
        self._parts, self._held, self._end = {}, 0, 0
        if self._file is not None:
            self._file.close()
            self._file = None

    def __getstate__(self):  # a batch's store crosses to a Dask worker and back: its values, never a file handle
        return {"parts": {g: [p if len(p) == 2 else self._read(p) for p in parts] for g, parts in self._parts.items()}}

    def __setstate__(self, state):
        self.__init__()
        for drg, parts in state["parts"].items():
            for cost, los in parts:
                self.add(drg, cost, los)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view, done = memoryview(data), 0
    while done < len(data):
        done += os.pwrite(fd, view[done:], offset + done)


def _pread_all(fd: int, size: int, offset: int) -> bytes:
    """``size`` bytes at ``offset`` (``os.pread`` may return fewer at a time)."""
    chunks, got = [], 0
    while got < size:
        b = os.pread(fd, size - got, offset + got)
        if not b:
            raise OSError("the spill file ended early")
        chunks.append(b)
        got += len(b)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
