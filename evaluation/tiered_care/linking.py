"""Transfers linked to their receivers by patient and dates in a fixed amount of memory (`drg tiered-care` without a
receiving-institution column).

The first pass writes every type-2 transfer (:func:`evaluation.tiered_care.batches.transfer_stays`) to a temporary file
(:class:`evaluation.spill.SpillFile`) and sets its patient's bit in a fixed-size bitmap (:class:`PatientBits`); the
second writes every stay whose patient's bit is set (the transferred patients' stays, and a few others' whose hash
shares a bit) to partitions by patient. Each partition then holds every transfer and stay of its patients and is
linked on its own with the per-case rule (:func:`evaluation.tiered_care.link_stays`); the moved counts
(:func:`evaluation.tiered_care.linked_moves`) add up over the partitions. Memory: the bitmap, a batch and a partition
(about :data:`PARTITION_ROWS` input rows' worth of stays), not the file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from . import linked_moves
from ..spill import SpillFile

BITMAP_BITS = 1 << 26  # 8 MB: at 2 million transferred patients about 3% of other patients' stays pass it too
PARTITION_ROWS = 4_000_000  # input rows per partition of the stays


def patient_hashes(values) -> np.ndarray:
    """A 64-bit hash of each patient id (text; the same in every process)."""
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=False).astype(np.uint64)


class PatientBits:
    """A bitmap of the transferred patients' hashes: a clear bit says a stay is not a transferred patient's."""

    def __init__(self, bits: int = BITMAP_BITS):
        self.bits = np.zeros(bits // 8, np.uint8)

    def _at(self, hashes: np.ndarray) -> np.ndarray:
        return ((hashes >> np.uint64(32)) % np.uint64(len(self.bits) * 8)).astype(np.int64)

    def add(self, hashes: np.ndarray) -> None:
        at = self._at(hashes)
        np.bitwise_or.at(self.bits, at >> 3, (1 << (at & 7)).astype(np.uint8))

    def has(self, hashes: np.ndarray) -> np.ndarray:
        at = self._at(hashes)
        return ((self.bits[at >> 3] >> (at & 7)) & 1).astype(bool)


class LinkSpill:
    """The transfers (in arrival order) and the candidate stays (by patient partition) on disk, and the bitmap."""

    def __init__(self):
        self.file = SpillFile("drg-tiered-")
        self.bits = PatientBits()
        self.sent: list = []  # refs of the transfers' chunks
        self.cells: dict = {}  # (hospital, year) of a transfer's referral cell -> its id
        self.rows = 0  # input rows seen by the first pass
        self.parts = 1
        self.stays: list = [[]]

    def add_sent(self, part: tuple) -> None:
        """A batch's transfers (:func:`evaluation.tiered_care.batches.transfer_stays`) and its rows' end."""
        sent, end = part
        self.rows = max(self.rows, end)
        sent = sent.dropna(subset=["patient", "discharge"])  # such a transfer cannot be linked
        if not len(sent):
            return
        cell = [self.cells.setdefault((h, y), len(self.cells)) if h is not None else -1
                for h, y in zip(sent["cell_hospital"], sent["cell_year"])]
        h = patient_hashes(sent["patient"].to_numpy())
        self.bits.add(h)
        self.sent.append(self._write(pd.DataFrame(
            {"row": sent["row"].to_numpy(np.int64), "patient": sent["patient"].to_numpy(object),
             "hospital": sent["hospital"].to_numpy(object), "discharge": sent["discharge"].to_numpy(),
             "cell": np.asarray(cell, np.int64)})))

    def plan(self) -> None:
        """After the first pass: the partitions (one per :data:`PARTITION_ROWS` input rows), the transfers put in them."""
        self.parts = max(1, -(-self.rows // PARTITION_ROWS))
        self.stays = [[] for _ in range(self.parts)]
        chunks, self.sent = self.sent, [[] for _ in range(self.parts)]
        for ref in chunks:
            self._partitioned(self._read(ref), self.sent)

    def _partitioned(self, df: pd.DataFrame, into: list) -> None:
        p = (patient_hashes(df["patient"].to_numpy()) % np.uint64(self.parts)).astype(np.int64)
        for k in np.unique(p):
            into[k].append(self._write(df[p == k]))

    def _write(self, df: pd.DataFrame) -> tuple:
        return self.file.write_table(pa.Table.from_pandas(df, preserve_index=False))

    def _read(self, ref) -> pd.DataFrame:
        return self.file.read_table(ref).to_pandas()

    def add_stays(self, later: pd.DataFrame) -> None:
        """A batch's candidate stays (:func:`evaluation.tiered_care.batches.candidate_stays`), to their partitions."""
        later = later.dropna(subset=["patient", "admit_to"])
        if len(later):
            self._partitioned(later, self.stays)

    def moves(self, hospitals: pd.DataFrame) -> pd.DataFrame:
        """The linked transfers' moves per referral cell (:func:`evaluation.tiered_care.linked_moves`), partition by
        partition; the file is removed after."""
        cells = list(self.cells)
        found = []
        for sent_refs, stay_refs in zip(self.sent, self.stays):
            if not sent_refs or not stay_refs:
                continue
            sent = pd.concat([self._read(r) for r in sent_refs], ignore_index=True)
            later = pd.concat([self._read(r) for r in stay_refs], ignore_index=True)
            sent = sent[sent["cell"] >= 0]
            sent = sent.assign(cell_hospital=[cells[c][0] for c in sent["cell"]],
                               cell_year=[cells[c][1] for c in sent["cell"]])
            found.append(linked_moves(sent, later, hospitals))
        self.file.close()
        return pd.concat(found, ignore_index=True) if found else linked_moves(None, None, hospitals)
