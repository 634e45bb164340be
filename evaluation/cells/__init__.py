"""Sufficient statistics of grouped cases, built batch by batch: memory follows the number of hospital x DRG
cells, not the number of cases (tables from them: :mod:`evaluation.cells.tables`).

:class:`CaseCells` keeps, per hospital x DRG x MDC x ADRG (x period) cell of the included cases, the counts and
sums every indicator is made of (cases, deaths, valid costs and their sum, valid LOS and their sum), each
hospital's first level and kind, and per DRG the included cases' costs and LOS (the exact quartiles of the IQR
trimming and the trimmed means and spreads of the weights need every cost of the DRG: 12 bytes a case, held in a
fixed amount of memory and spilled to a temporary file beyond it, :mod:`evaluation.cells.values`).

A batch is reduced on its Arrow columns: each text column is dictionary-encoded once, the rules of
:func:`evaluation.common.prepare` (which case is included, which cost and LOS are usable, who died, the
hospital's level) are decided per distinct value, and the cells are summed with ``np.bincount`` over integer
cell ids (pandas per case cost 1 s per million rows; this costs about 0.1 s). Two :class:`CaseCells` merge by
adding their cells in order; a Dask worker returns each batch's statistics and the driver merges them in input
order, as a local run does, so both give the same bits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .keys import (
    CELL_BITS,
    codes_into,
    compact_los,
    dense_cells,
    first_rows,
    key_order,
    month_index,
    sorted_categorical,
)
from .values import DrgValues
from ..coded import included_codes, known, numbers, text_codes, years
from ..common import (
    LEVEL_ALIASES,
    PERIODS,
    EvaluationError,
    normalize_level,
    usable_cost,
    usable_los,
)

STATS = ("n", "died", "cost_n", "cost_sum", "los_n", "los_sum")
# with a patient-level model's expected deaths (column ``expected_death``): its cases, their deaths and the expectation
EXPECTED_STATS = ("e_n", "e_died", "e_sum")
# with hospital effects (Newton's method, :mod:`evaluation.cells.units`): sum of q = expit(logit(p) + theta_h), q(1-q)
NEWTON_STATS = ("q_sum", "qq_sum")
FOLD_AT = 1 << 20  # pending cells (:meth:`CaseCells.merge`) folded in once there are more than this and the cells


class CodedBatch:
    """One batch's columns as integer codes and floats, with the rules of :func:`evaluation.common.prepare` decided
    once per distinct value: ``h``/``hosp`` (hospital codes and ids), ``g``/``drgs``, ``included``, ``cost`` and
    ``los`` (NaN where not usable), ``lt``/``lts`` (leaving type; ``lts`` None without the column), ``died``, and
    ``level``/``kind`` codes into ``level_names``/``kind_names`` (the hospitals table's, else the file's ``level``
    column with kind unknown, else unknown; code -1 takes the last name). Shared by :class:`CaseCells` and the
    payment passes (:mod:`evaluation.payment.batches`)."""

    def __init__(self, t: pa.Table, levels_of: tuple | None = None):
        names = set(t.column_names)
        n = t.num_rows
        self.h, self.hosp = text_codes(t.column("hospital_id"))
        self.g, self.drgs = text_codes(t.column("drg"))
        self.included = included_codes((self.g, self.drgs), (self.h, self.hosp),
                                       text_codes(t.column("status")) if "status" in names else None)
        cost = numbers(t.column("total_cost")) if "total_cost" in names else np.full(n, np.nan)
        self.cost = usable_cost(cost)
        los = numbers(t.column("los_days")) if "los_days" in names else np.full(n, np.nan)
        self.los = usable_los(los)
        self.los_integral = "los_days" in names and pa.types.is_integer(t.column("los_days").type)
        if "leaving_type" in names:
            self.lt, self.lts = text_codes(t.column("leaving_type"))
            self.died = np.array([v == "5" for v in self.lts] + [False], dtype=np.int64)[self.lt]
        else:
            self.lt, self.lts = np.full(n, -1, np.int64), None
            self.died = np.zeros(n, np.int64)
        self.level, self.kind, self.level_names, self.kind_names = _levels(t, names, self.h, self.hosp, levels_of)


def _levels(t: pa.Table, names: set, h: np.ndarray, hosp: list, levels_of: tuple | None):
    """Per case codes of its level and kind, and the names of the codes (the hospitals table's, or the
    file's ``level`` column with kind unknown, or unknown)."""
    if levels_of is not None:
        lv, kd = levels_of
        level_names = [lv.get(v, "unknown") for v in hosp] + ["unknown"]
        kind_names = [kd.get(v, "unknown") for v in hosp] + ["unknown"]
        return h.copy(), h.copy(), level_names, kind_names  # code -1 (no hospital) takes the last name
    kind = np.full(len(h), -1)
    if "level" in names:
        c, vals = text_codes(t.column("level"))
        level_names = [LEVEL_ALIASES.get(v.strip(), v.strip()) if v else "unknown" for v in vals] + ["unknown"]
        return c, kind, level_names, ["unknown"]
    return np.full(len(h), -1), kind, ["unknown"], ["unknown"]


def levels_of(hospitals: pd.DataFrame | None) -> tuple | None:
    """({hospital: level}, {hospital: kind}) of a hospitals table, for :class:`CodedBatch`."""
    if hospitals is None:
        return None
    h = hospitals.astype({"hospital_id": str})
    return (dict(zip(h["hospital_id"], normalize_level(h["level"]))),
            dict(zip(h["hospital_id"], h["kind"].astype(str))) if "kind" in h.columns else {})


class CaseCells:
    """Sufficient statistics of grouped cases (see the module docstring).

    Parameters
    ----------
    hospitals : DataFrame, optional
        ``hospital_id, level[, kind]``, as for :func:`evaluation.api.evaluate`.
    years, levels : optional
        Keep only cases of these years / hospital levels (the reference population is the subset).
    period : {"month", "quarter", "year"}, optional
        Also keep cells per period of the discharge date (the ``hospital_<period>`` table).
    """

    def __init__(self, hospitals: pd.DataFrame | None = None, *, years=None, levels=None, period: str | None = None,
                 unit: str | None = None, keep_costs: bool = True, expected: bool = False, newton: tuple | None = None):
        if period is not None and period not in PERIODS:
            raise EvaluationError(f"--period {period!r}: use month, quarter or year")
        if unit is not None and period is not None:  # both would take the cell id's last slot
            raise ValueError("cells are kept per period or per unit, not both")
        self.hospitals, self.years, self.levels, self.period = hospitals, years, levels, period
        self.unit, self.keep_costs, self.expected, self.newton = unit, keep_costs, expected or newton is not None, newton
        self.stats = STATS + (EXPECTED_STATS if self.expected else ()) + (NEWTON_STATS if newton is not None else ())
        self.keys = ["hospital_id", "drg", "mdc", "adrg"] + (["_period"] if period else []) + ([unit] if unit else [])
        self.units: list = []  # unit values (department, doctor) by code
        self.unit_first: dict = {}  # unit -> (hospital, department) of its first counted case
        self.has_dept = False  # whether the file has a department column (a doctor view shows each doctor's)
        self.rows = self.cost_unusable = self.los_unusable = 0
        self.dated = 0  # cases with a readable discharge date (a period table needs some)
        self.hosp: list = []  # hospital ids by code
        self.triples: list = []  # (drg, mdc, adrg) by code
        self.first_all: dict = {}  # hospital -> (level, kind) of its first case (all cases)
        self.first_included: dict = {}  # ... of its first included case (the funnel's peer group)
        self.cell_id = np.empty(0, np.int64)
        self.sums = np.empty((len(self.stats), 0))
        self._pending: list = []  # (ids, sums) of cells not yet in cell_id, in merge order (:meth:`_fold`)
        self._pending_size = 0
        self.costs = DrgValues()  # per DRG the (cost, los) of its included cases, spilled to disk past a limit
        self._levels_of = levels_of(hospitals)

    # -- building ---------------------------------------------------------------------------------
    def add(self, data) -> "CaseCells":
        """Add a batch of grouped cases (a pyarrow Table or DataFrame with the columns evaluate reads)."""
        return self.merge(self.of_batch(data))

    def of_batch(self, data) -> "CaseCells":
        """The statistics of one batch alone (same options)."""
        return CaseCells(self.hospitals, years=self.years, levels=self.levels, period=self.period, unit=self.unit,
                         keep_costs=self.keep_costs, expected=self.expected, newton=self.newton)._reduce(data)

    def _reduce(self, data) -> "CaseCells":
        t = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        if any(c.num_chunks > 1 for c in t.columns):
            t = t.unify_dictionaries().combine_chunks()
        names = set(t.column_names)
        if "hospital_id" not in names or "drg" not in names:
            raise EvaluationError("missing column(s) hospital_id or drg; evaluate a grouped file (drg group output) "
                                  "that carries hospital_id")
        n = t.num_rows
        cb = CodedBatch(t, self._levels_of)
        h, hosp, g, drgs, included, cost, los, died = cb.h, cb.hosp, cb.g, cb.drgs, cb.included, cb.cost, cb.los, cb.died
        level, kind, level_names, kind_names = cb.level, cb.kind, cb.level_names, cb.kind_names
        mdc, mdcs = text_codes(t.column("mdc")) if "mdc" in names else (g, ["MDC" + v[:1] if v else "" for v in drgs])
        adrg, adrgs = text_codes(t.column("adrg")) if "adrg" in names else (g, [v[:3] if v else "" for v in drgs])
        los_integral = cb.los_integral
        keep = np.ones(n, dtype=bool)
        if self.years is not None and "year" in names:
            keep &= np.isin(years(t), np.array(list(self.years), dtype=float))
        if self.levels is not None:
            keep &= np.isin(np.array(level_names, dtype=object)[level], np.array(list(self.levels), dtype=object))
        period = None
        if self.period:
            if "discharge_date" not in names:
                raise EvaluationError("--period needs discharge_date (出院日期) to place each case in its period; map it "
                                      "with --columns if the file names it otherwise")
            period = month_index(t.column("discharge_date"), PERIODS[self.period])
        if self.unit:  # a case counts in a unit's cells when it names its unit; the unit's code takes the period's slot
            period, dept = self._unit_codes(t, names)
            included = included & (period >= 0)
        extra = self._extra(t, names, h, hosp, g, drgs, died) if self.expected else []
        if not keep.all():
            sel = np.flatnonzero(keep)
            h, g, mdc, adrg, cost, los, died, level, kind, included = (a[sel] for a in (h, g, mdc, adrg, cost, los, died, level,
                                                                                          kind, included))
            extra = [a[sel] for a in extra]
            period = None if period is None else period[sel]
            dept = None if not self.unit or dept is None else (dept[0][sel], dept[1])
        if self.unit:
            self._first_of_units(np.where(included, period, -1), h, hosp, dept)
        self.rows = len(h)
        self.dated = 0 if period is None else int((period >= 0).sum())
        self.cost_unusable = int(np.isnan(cost).sum())
        self.los_unusable = int(np.isnan(los).sum())
        self.hosp = hosp
        _first(h, level, kind, hosp, level_names, kind_names, self.first_all)
        _first(np.where(included, h, -1), level, kind, hosp, level_names, kind_names, self.first_included)
        if not included.any():
            return self
        p = np.zeros(len(h), np.int64) if period is None else np.where(period >= 0, period + 1, 0)
        self._cells(h, g, mdc, adrg, p, included, cost, los, died, drgs, mdcs, adrgs, extra)
        if not self.keep_costs:
            return self
        # per DRG its costs and LOS, in input order (Arrow's stable sort of small integers is a counting sort)
        sel = np.flatnonzero(included)
        gi = g[sel]
        if len(drgs) < 32767:
            gi = gi.astype(np.int16)
        order = sel[pc.array_sort_indices(pa.array(gi)).to_numpy()]
        cost, los = cost[order], compact_los(los[order], integral=los_integral)
        ends = np.cumsum(np.bincount(gi, minlength=len(drgs)))
        for code in np.flatnonzero(np.diff(ends, prepend=0)):
            a, b = (ends[code - 1] if code else 0), ends[code]
            self.costs.add(drgs[code], cost[a:b], los[a:b])
        return self

    def _unit_codes(self, t: pa.Table, names: set) -> tuple[np.ndarray, tuple | None]:
        """Each case's unit code (-1: none named) and, where the file has one, its department's codes and values."""
        dept = text_codes(t.column("dept")) if "dept" in names else None
        self.has_dept = dept is not None
        if self.unit not in names:  # no unit named: the view says which column it needs
            return np.full(t.num_rows, -1, np.int64), dept
        u, self.units = text_codes(t.column(self.unit))
        named = np.array([known(v) for v in self.units] + [False])
        return np.where(named[u], u, -1), dept

    def _first_of_units(self, u: np.ndarray, h: np.ndarray, hosp: list, dept: tuple | None) -> None:
        """Each unit's hospital and department: the first of its counted cases that names one (as pandas' ``first``)."""
        if len(u) == 0:
            return
        at = first_rows(u, len(self.units))
        d_at = at if dept is None else first_rows(np.where(dept[0] >= 0, u, -1), len(self.units))
        for code in np.flatnonzero(at < len(u)):
            i, j = at[code], d_at[code]
            d = None if dept is None or j >= len(u) else dept[1][dept[0][j]]
            _first_known(self.unit_first, self.units[code], (hosp[h[i]] if h[i] >= 0 else None, d))

    def _extra(self, t: pa.Table, names: set, h, hosp: list, g, drgs: list, died) -> list:
        """Per case the weights of :data:`EXPECTED_STATS` (and :data:`NEWTON_STATS`): whether the model gave the case an
        expectation, its death if so, the expectation; with ``newton = (theta by hospital, death rate by DRG)``, q and
        q(1-q) of ``expit(logit(p) + theta_h)``, p the model's or, without one, the DRG's rate."""
        p = numbers(t.column("expected_death")) if "expected_death" in names else np.full(len(h), np.nan)
        has = np.isfinite(p)
        out = [has.astype(float), np.where(has, died, 0), np.where(has, p, 0.0)]
        if self.newton is None:
            return out
        theta, rate = self.newton
        p = np.where(has, p, np.array([rate.get(v, np.nan) for v in drgs] + [np.nan])[g])
        p = np.clip(np.nan_to_num(p, nan=0.5), 1e-12, 1 - 1e-12)
        q = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + np.array([theta.get(v, 0.0) for v in hosp] + [0.0])[h])))
        return out + [q, q * (1 - q)]

    def _cells(self, h, g, mdc, adrg, p, included, cost, los, died, drgs, mdcs, adrgs, extra=()) -> None:
        """The batch's cells: one id per hospital x (DRG, MDC, ADRG) x period of the included cases, and their sums."""
        dense = dense_cells(h, g, mdc, adrg, p, included, len(self.hosp), len(drgs))
        if dense is not None:  # the usual case: counted over a small dense key, no hashing
            code, k, ch, cg, cm, ca, cp = dense
            uniq = np.r_[np.zeros(k, np.int64), -1]  # code k: the cases left out
            ch, cg, cm, ca, cp = (np.r_[a, 0] for a in (ch, cg, cm, ca, cp))
        else:
            code, uniq, ch, cg, cm, ca, cp = self._hashed_cells(h, g, mdc, adrg, p, included, drgs, mdcs, adrgs)
        cv, lv = ~np.isnan(cost), ~np.isnan(los)
        k = len(uniq)
        sums = np.vstack([np.bincount(code, minlength=k).astype(float), np.bincount(code, weights=died, minlength=k),
                          np.bincount(code, weights=cv, minlength=k),
                          np.bincount(code, weights=np.where(cv, cost, 0.0), minlength=k),
                          np.bincount(code, weights=lv, minlength=k),
                          np.bincount(code, weights=np.where(lv, los, 0.0), minlength=k),
                          *(np.bincount(code, weights=w, minlength=k) for w in extra)])
        real = uniq != -1
        ch, cg, cm, ca, cp, sums = ch[real], cg[real], cm[real], ca[real], cp[real], sums[:, real]
        tcode, tuniq = pd.factorize((cg * (len(mdcs) + 1) + (cm + 1)) * (len(adrgs) + 1) + (ca + 1))
        first = np.full(len(tuniq), len(tcode))
        np.minimum.at(first, tcode, np.arange(len(tcode)))
        self.triples = [(drgs[cg[i]], mdcs[cm[i]] if cm[i] >= 0 else None, adrgs[ca[i]] if ca[i] >= 0 else None) for i in first]
        self.cell_id = (ch.astype(np.int64) << (2 * CELL_BITS)) | (tcode.astype(np.int64) << CELL_BITS) | cp
        self.sums = sums

    def _hashed_cells(self, h, g, mdc, adrg, p, included, drgs, mdcs, adrgs):
        """Cell codes by hashing (:func:`pandas.factorize`), for keys too wide to count densely."""
        widths = [int(len(v) + 1).bit_length() for v in (self.hosp, drgs, mdcs, adrgs)] + [
            int(p.max(initial=0) + 1).bit_length()]
        if sum(widths) <= 62:  # one integer key per case, no per-case triple lookup
            key = h
            for code, w in zip((g, mdc + 1, adrg + 1, p), widths[1:]):
                key = (key << w) | code
            key = np.where(included, key, -1)
            code, uniq = pd.factorize(key)
            parts, rest = [], uniq
            for w in reversed(widths[1:]):
                parts.append(rest & ((1 << w) - 1))
                rest = rest >> w
            cp, ca, cm, cg = parts
            return code, uniq, rest, cg, cm - 1, ca - 1, cp
        # very wide dictionaries: the triples first
        tkey = (g * (len(mdcs) + 1) + (mdc + 1)) * (len(adrgs) + 1) + (adrg + 1)
        tc, tu = pd.factorize(tkey)
        key = np.where(included, (h << (2 * CELL_BITS)) | (tc.astype(np.int64) << CELL_BITS) | p, -1)
        code, uniq = pd.factorize(key)
        row = np.full(len(uniq), len(key))
        np.minimum.at(row, code, np.arange(len(key)))
        return code, uniq, h[row], g[row], mdc[row], adrg[row], p[row]

    def merge(self, other: "CaseCells") -> "CaseCells":
        """Add the statistics of a later part of the same input (the order of parts keeps "first" right and
        the sums' bits the same however the input was cut)."""
        self.rows += other.rows
        self.cost_unusable += other.cost_unusable
        self.los_unusable += other.los_unusable
        self.dated += other.dated
        self.has_dept |= other.has_dept
        for mine, theirs in ((self.first_all, other.first_all), (self.first_included, other.first_included)):
            for k, v in theirs.items():
                mine.setdefault(k, v)
        for k, v in other.unit_first.items():
            _first_known(self.unit_first, k, v)
        self.costs.extend(other.costs)
        other._fold()
        if len(other.cell_id) == 0:
            return self
        hmap = codes_into(self.hosp, other.hosp)
        tmap = codes_into(self.triples, other.triples)
        mask = (1 << CELL_BITS) - 1
        last = other.cell_id & mask
        if self.unit:  # unit codes are the batch's: made the run's (code + 1 in the slot)
            last = codes_into(self.units, other.units)[last - 1] + 1
        theirs = (hmap[other.cell_id >> (2 * CELL_BITS)] << (2 * CELL_BITS)) | (tmap[(other.cell_id >> CELL_BITS) & mask] << CELL_BITS) | last
        if len(self.cell_id) == 0 and not self._pending:
            order = np.argsort(theirs)
            self.cell_id, self.sums = theirs[order], other.sums[:, order]
            return self
        # cells kept sorted by id: a batch's cells found by binary search and added in place (sum = ours + theirs,
        # the same two-term addition on every machine); the others wait in _pending, folded in later all at once
        # (inserting each batch's new cells, e.g. a new month's, would copy every cell per batch)
        if len(self.cell_id):
            pos = np.minimum(np.searchsorted(self.cell_id, theirs), len(self.cell_id) - 1)
            found = self.cell_id[pos] == theirs
            if found.all():
                self.sums[:, pos] += other.sums
                return self
            self.sums[:, pos[found]] += other.sums[:, found]
            new = np.flatnonzero(~found)
        else:
            new = np.arange(len(theirs))
        self._pending.append((theirs[new], other.sums[:, new]))
        self._pending_size += len(new)
        if self._pending_size > max(len(self.cell_id), FOLD_AT):  # memory stays within twice the cells
            self._fold()
        return self

    def _fold(self) -> None:
        """Put the pending cells into the sorted cells: each cell's pending parts added in merge order, one part at
        a time (``((a + b) + c)``, the bits of adding them batch by batch), then inserted in order."""
        if not self._pending:
            return
        ids = np.concatenate([i for i, _ in self._pending])
        sums = np.concatenate([v for _, v in self._pending], axis=1)
        self._pending, self._pending_size = [], 0
        order = np.argsort(ids, kind="stable")  # a cell's parts stay in merge order
        ids, sums = ids[order], np.take(sums, order, axis=1)
        start = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        total = np.take(sums, start, axis=1)
        size = np.diff(np.r_[start, len(ids)])
        for k in range(1, int(size.max())):  # the k-th part of every cell that has one
            has = np.flatnonzero(size > k)
            total[:, has] += np.take(sums, start[has] + k, axis=1)
        ids = ids[start]
        # both sorted and disjoint: each new cell goes after the cells below it and the new cells before it
        new_at = np.searchsorted(self.cell_id, ids) + np.arange(len(ids))
        is_new = np.zeros(len(self.cell_id) + len(ids), dtype=bool)
        is_new[new_at] = True
        old_at = np.flatnonzero(~is_new)
        cell_id = np.empty(len(is_new), np.int64)
        cell_id[new_at], cell_id[old_at] = ids, self.cell_id
        merged = np.empty((len(self.stats), len(is_new)))
        for r in range(len(self.stats)):  # row by row: contiguous rows
            merged[r, new_at], merged[r, old_at] = total[r], self.sums[r]
        self.cell_id, self.sums = cell_id, merged

    # -- reading ----------------------------------------------------------------------------------
    def cells(self) -> pd.DataFrame:
        """One row per cell: the keys and the sums (:data:`STATS`, then :data:`EXPECTED_STATS` and :data:`NEWTON_STATS`
        where asked for), sorted by the keys."""
        self._fold()
        mask = (1 << CELL_BITS) - 1
        tri = np.array(self.triples + [(None, None, None)], dtype=object).reshape(-1, 3)
        t = (self.cell_id >> CELL_BITS) & mask
        # categoricals with sorted categories: the per-DRG maps of the tables work on the few distinct values
        out = pd.DataFrame({"hospital_id": sorted_categorical(self.hosp, self.cell_id >> (2 * CELL_BITS)),
                            "drg": sorted_categorical(tri[:, 0], t), "mdc": sorted_categorical(tri[:, 1], t),
                            "adrg": sorted_categorical(tri[:, 2], t)})
        if self.period:
            p = (self.cell_id & mask).astype(float) - 1
            out["_period"] = np.where(p >= 0, p, np.nan)
        if self.unit:
            out[self.unit] = sorted_categorical(self.units, (self.cell_id & mask) - 1)
        for i, s in enumerate(self.stats):
            out[s] = self.sums[i].astype(np.int64) if s in ("n", "died", "cost_n", "los_n", "e_n", "e_died") else self.sums[i]
        return out.take(key_order(out, self.keys)).reset_index(drop=True)

    @property
    def included(self) -> int:
        self._fold()
        return int(self.sums[0].sum()) if self.sums.size else 0

    def drg_values(self, drg: str) -> tuple[np.ndarray, np.ndarray]:
        """(cost, LOS) of the DRG's included cases in input order (NaN where not usable)."""
        return self.costs.values(drg)


def _first(h, level, kind, hosp, level_names, kind_names, seen: dict) -> None:
    """Each hospital's (level, kind) at its first case (cases with code -1, no hospital or left out, are skipped)."""
    if len(h) == 0:
        return
    first = first_rows(h, len(hosp))
    for code in np.flatnonzero(first < len(h)):
        i = first[code]
        seen.setdefault(hosp[code], (level_names[level[i]], kind_names[kind[i]]))


def _first_known(seen: dict, key, values: tuple) -> None:
    """``seen[key]``: per field the first value that is not None (values met in input order)."""
    have = seen.get(key)
    seen[key] = values if have is None else tuple(v if v is not None else w for v, w in zip(have, values))


def add_by_year(by_year: dict, table: pa.Table, make) -> None:
    """Add a batch to ``by_year`` {year: CaseCells} (``make()`` starts a year), split by its ``year`` column (0 for
    every case without one); cases without a readable year are left out."""
    if "year" not in table.column_names:
        by_year.setdefault(0, make()).add(table)
        return
    y = years(table)
    lo, hi = np.fmin.reduce(y, initial=np.inf), np.fmax.reduce(y, initial=-np.inf)
    if lo == hi and not np.isnan(y).any():  # a batch of one year (a file in date order has few others)
        by_year.setdefault(int(lo), make()).add(table)
        return
    for v in np.unique(y[~np.isnan(y)]):
        by_year.setdefault(int(v), make()).add(table.filter(pa.array(y == v)))
