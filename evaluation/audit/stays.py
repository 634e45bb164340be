"""The stays of patients, partitioned by patient for the streamed audit (:mod:`evaluation.audit.streamed`): every stay of
a patient lands in one partition (about a block's worth of stays each, written to a temporary file), so readmissions and
split pairs are found partition by partition with the in-memory kernel (:func:`evaluation.audit.measures.patient_pairs`)."""

from __future__ import annotations

import numpy as np

from .measures import pair_cells, patient_pairs, planned_principal
from .spilled import BLOCK, KeyTable
from ..spill import SpillFile


class Partitions:
    """The stays of patients written to partitions by patient (a hash: about :data:`BLOCK` stays each), so that every
    stay of a patient is in one partition: readmissions and split pairs are found partition by partition."""

    FIELDS = ("idx", "patient", "admit", "discharge", "hosp", "mdc", "ended", "pdx", "adrg", "leaving", "planned", "y", "ok")

    def __init__(self, rows: int, hospitals: int, block: int = BLOCK):
        self.k = max(1, -(-rows // block))
        self.hospitals = hospitals
        self.file = SpillFile("drg-audit-stays-")
        self.chunks: list = [[] for _ in range(self.k)]
        self.found: list = []  # per partition its split pairs

    def add(self, start: int, b: dict, q: dict, dx_words: list) -> None:
        have = (b["patient"] != 0) & (b["discharge"] >= 0) & (b["admit"] >= 0)
        at = np.flatnonzero(have)
        if not len(at):
            return
        cols = {"idx": start + at, "patient": b["patient"][at], "admit": b["admit"][at], "discharge": b["discharge"][at],
                "hosp": q["hosp"][at], "mdc": b["mdc"][at], "ended": q["ended"][at], "pdx": b["pdx"][at],
                "adrg": b["adrg"][at], "leaving": b["leaving"][at], "planned": planned_principal(b["pdx"][at], dx_words),
                "y": q["y"][at], "ok": q["ok"][at]}
        part = (cols["patient"] % np.uint64(self.k)).astype(np.int64)
        for j in np.unique(part):
            sel = part == j
            self.chunks[j].append({k: self.file.write(v[sel]) for k, v in cols.items()})

    def _partitions(self):
        for chunks in self.chunks:
            if chunks:
                yield {k: np.concatenate([self.file.read(c[k]) for c in chunks]) for k in self.FIELDS}

    def unit_sums(self, years: np.ndarray, slots: int) -> dict:
        """Per unit (hospital x len(``years``) + year index) (cases, observed, expected, variance) of the readmission
        and split areas, their strata the MDCs (``slots`` codes); the split pairs are kept for :meth:`pairs`."""
        Y, n_units = len(years), self.hospitals * len(years)
        tables = {name: KeyTable(2) for name in ("readmission_15", "readmission_30", "split_admissions")}
        for s in self._partitions():
            readmit, split_first = patient_pairs(s["patient"], s["admit"], s["discharge"], s["hosp"], s["mdc"], s["ended"])
            mdc0 = np.maximum(s["mdc"], 0).astype(np.int64)
            key = ((s["hosp"] + 1) * Y + s["y"]) * slots + mdc0
            den = s["ok"] & ~s["ended"] & (s["mdc"] >= 0)
            for k, days in enumerate((15, 30)):
                tables[f"readmission_{days}"].add(key[den], np.ones(int(den.sum())), readmit[k][den])
            den = s["ok"] & (s["mdc"] >= 0)
            tables["split_admissions"].add(key[den], np.ones(int(den.sum())), (split_first >= 0)[den])
            cell = pair_cells(split_first, s["pdx"], s["adrg"], s["admit"], s["discharge"], s["leaving"], s["planned"])
            j = np.flatnonzero(split_first >= 0)
            i = split_first[j]
            self.found.append({"second": s["idx"][j], "first": s["idx"][i], "cell": cell[j],
                                "unit": np.where(s["hosp"][j] >= 0, s["hosp"][j] * Y + s["y"][j], -1),
                                "hosp": s["hosp"][j], "year": years[s["y"][j]],
                                "gap": (s["admit"][j] - s["discharge"][i]).astype(np.int64),
                                "same": (s["pdx"][j] == s["pdx"][i]) & (s["pdx"][j] >= 0)})
        self.file.close()
        return {name: t.unit_sums(Y, slots, n_units) for name, t in tables.items()}

    def pairs(self) -> dict:
        """Every possible split pair (global case indices), in the order of the second stay."""
        if not self.found:
            return {k: np.empty(0, np.int64) for k in ("second", "first", "cell", "unit", "hosp", "year", "gap", "same")}
        out = {k: np.concatenate([p[k] for p in self.found]) for k in self.found[0]}
        order = np.argsort(out["second"], kind="stable")
        return {k: v[order] for k, v in out.items()}
