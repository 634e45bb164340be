"""The audit in a fixed amount of memory: one pass over the grouped file, then sweeps over its coded cases on disk.

The pass codes every batch (:func:`evaluation.audit.cases.code_batch`, on threads or Dask workers) and writes it to a
temporary file (:class:`evaluation.audit.spilled.SpilledCases`). Each sweep reads the coded cases back in blocks of a fixed
size and adds up what the next step needs, with the tables of the sweeps before it:

1. the DRG weights (mean costs) and stays, the ADRGs' DRGs, the ungroupable and secondary-diagnosis cells, and the
   patients' stays written to partitions by patient (each partition then holds every stay of its patients: the
   readmissions and split pairs are found partition by partition, :func:`evaluation.audit.measures.patient_pairs`);
2. with the weights: the short-stay and 0-1-day cells, the weights by principal diagnosis, ADRG and MCC/CC (the
   principal-choice and case-mix expectations), the MCC/CC model's code counts and training sample, the resource
   means by stratum and severity;
3. with those: the principal-choice cells, the model's training cases, the CMI and resource-gradient sums per unit;
4. the model's linear predictor per case (to disk), calibrated per year by Newton's method over it;
5. after the flags (:func:`evaluation.audit.judge`): the chart-review list and the split pairs' case ids.

Rates are kept as exact counts per hospital x year x stratum cell (:class:`evaluation.audit.spilled.KeyTable`), float sums
block by block in input order, so the result is the same however the file was read. It equals the in-memory audit
(:func:`evaluation.audit.findings.audit_findings`) but for the rounding of sums taken in another order. A new target
area adds its cells to the sweep that has what it is made of.
"""

from __future__ import annotations

import functools

import numpy as np

from . import REGISTRY, REVIEW_AREAS, cmi_sums, excess_share, judge, split_probability, unit_gradient_sums, weight_at_stake
from .areas import COMMUNITY, DEATH, HIGH_WEIGHT, LOW_WEIGHT, TRANSFER
from .cases import code_batch
from .findings import ReviewList, capture_oe, split_rows
from .measures import (
    SMOOTHING,
    calibrate_years,
    code_counts,
    encoded,
    feature_matrix,
    fit_fold,
    fold_eta,
    region_prior,
    sample_threshold,
)
from .spilled import BLOCK, KeyTable, SpilledCases
from .stays import Partitions
from ..spill import SpillFile

SAMPLE = 200_000  # the MCC/CC model's training cases per fold (evaluation.audit.measures.capture_model)
CAP = 8  # severity levels of the resource gradient (evaluation.audit.gradient_sums)


def streamed_audit(columns: list, lookup, patient_col: str | None, date_cols: dict, *, levels_of, folds: int = 5,
                   seed: int = 0, supplied: dict | None = None, patient_known: bool = True, review_limit: int = 100_000,
                   block: int = BLOCK, on_phase=None, on_rows=None):
    """The analysis (:mod:`evaluation.analysis`): one pass, then the sweeps; returns the findings
    (:func:`evaluation.audit.findings.audit_findings`'s form) and the coded cases' words
    ({"hosp", "drg", "adrg"}). ``levels_of(hospital ids)``: each hospital's peer group; ``supplied``: {DRG: weight};
    ``block``: cases a sweep works on at once (the result does not depend on it but for rounding); ``on_phase(key,
    rows)`` is told of each sweep ("fit", then "tables" for the last), ``on_rows(n)`` of each block done."""
    from ..analysis import Pass

    cases = SpilledCases()
    yield Pass(columns, functools.partial(code_batch, lookup=lookup, patient_col=patient_col, date_cols=date_cols),
               cases.merge)
    try:
        if not cases.rows or not cases.hosp.words:
            return None, cases
        sweeps = Sweeps(cases, levels_of(cases.hosp.words), folds=folds, seed=seed, supplied=supplied,
                        patient_known=patient_known, block=block, on_phase=on_phase, on_rows=on_rows)
        return sweeps.findings(review_limit), cases
    finally:
        cases.close()


def _ended(leaving) -> np.ndarray:
    return np.isin(leaving, (DEATH, TRANSFER, COMMUNITY))


class Sweeps:
    """The sweeps over the coded cases (see the module's doc) and the tables they leave."""

    def __init__(self, cases: SpilledCases, h_level, *, folds: int, seed: int, supplied: dict | None,
                 patient_known: bool, block: int = BLOCK, on_phase=None, on_rows=None):
        self.c, self.h_level, self.folds, self.seed, self.patient_known = cases, np.asarray(h_level, object), folds, \
            seed, patient_known
        self.years = np.array(sorted(cases.years), np.int32)  # the coded cases' year type (the tables' year column)
        self.Y = len(self.years)
        self.n_h = len(cases.hosp.words)
        self.n_units = self.n_h * self.Y
        self.n_drg = max(len(cases.drg.words), 1)
        self.n_adrg = max(len(cases.adrg.words), 1)
        self.n_codes = len(cases.dx.words) + 1
        self.n_mdc = max(len(cases.mdc.words), 1)
        self.supplied = None if supplied is None else np.array(
            [supplied.get(w, np.nan) for w in cases.drg.words] + [np.nan], float)
        words = cases.adrg.words
        self.medical = np.array([len(x) > 1 and "R" <= x[1] <= "Z" for x in words] + [False] * (self.n_adrg - len(words)),
                                bool)
        from ..risk import hospital_folds

        self.fold_of_h = np.append(hospital_folds(np.asarray(cases.hosp.words, dtype=object), folds, seed), 0).astype(np.int64)
        self.tables: dict = {}
        self.block = block
        self.on_phase, self.on_rows = on_phase or (lambda key, rows: None), on_rows or (lambda n: None)

    # -- per block: the quantities every sweep shares ---------------------------------------------------------------
    def _base(self, b: dict) -> dict:
        ok = b["ok"]
        y = np.searchsorted(self.years, b["year"])
        hosp = b["hosp"].astype(np.int64)
        q = {"ok": ok, "y": y, "hosp": hosp, "drg0": np.maximum(b["drg"], 0).astype(np.int64),
             "adrg0": np.maximum(b["adrg"], 0).astype(np.int64), "ended": _ended(b["leaving"]),
             "unit": np.where(hosp >= 0, hosp * self.Y + y, -1), "los": b["los"].astype(float)}
        if "rw" in self.tables:
            rw = self.tables["rw"]
            q["w"] = np.where(ok, rw[q["drg0"]], np.nan)
            q["mean_los"] = np.where(ok, self.tables["mean_los"][q["drg0"]], np.nan)
            q["den_c"] = ok & (b["adrg"] >= 0) & (self.tables["drgs_in_adrg"][q["adrg0"]] >= 2)
            q["fold"] = self.fold_of_h[hosp]
        return q

    def blocks(self, names: list, ids: bool = False):
        """The coded cases block by block with the fields :meth:`_base` reads and ``names``."""
        base = ["ok", "drg", "adrg", "hosp", "year", "los", "leaving"]
        for start, b in self.c.blocks(base + [k for k in names if k not in base], self.block, ids=ids):
            yield start, b
            self.on_rows(len(b["ok"]))

    def _cell_key(self, q: dict, stratum, size: int) -> np.ndarray:
        """hospital (+1: 0 for none) x year x stratum: the key of the rate tables."""
        return ((q["hosp"] + 1) * self.Y + q["y"]) * size + np.asarray(stratum, np.int64)

    # -- 1: weights, stays, cells that need nothing else ------------------------------------------------------------
    def sweep_weights(self) -> None:
        n_drg = self.n_drg
        cost_s, cost_n, los_s, los_n = (np.zeros(n_drg) for _ in range(4))
        total = [0.0, 0]
        pairs = np.empty(0, np.int64)
        ungroupable, secondary = KeyTable(2), KeyTable(3)
        parts = Partitions(self.c.rows, self.n_h, self.block) if self.patient_known else None
        resource_any = False
        fields = ["ok", "drg", "adrg", "hosp", "year", "cost", "los", "leaving", "n_sdx", "mdc", "patient", "admit",
                  "discharge", "pdx"]
        for start, b in self.blocks(fields):
            q = self._base(b)
            ok, drg0, cost = q["ok"], q["drg0"], b["cost"].astype(float)
            valid = ok & np.isfinite(cost) & (cost > 0)
            cost_s += np.bincount(drg0[valid], cost[valid], n_drg)
            cost_n += np.bincount(drg0[valid], minlength=n_drg)
            total[0] += cost[valid].sum()
            total[1] += int(valid.sum())
            lm = ok & np.isfinite(q["los"])
            los_s += np.bincount(drg0[lm], q["los"][lm], n_drg)
            los_n += np.bincount(drg0[lm], minlength=n_drg)
            at = ok & (b["adrg"] >= 0)
            pairs = np.union1d(pairs, q["adrg0"][at] * (n_drg + 1) + drg0[at])
            ungroupable.add(self._cell_key(q, 0, 1), np.ones(len(ok)), ~ok)
            sdx = b["n_sdx"].astype(float)
            secondary.add(self._cell_key(q, q["adrg0"], self.n_adrg)[ok], np.ones(int(ok.sum())), sdx[ok], (sdx * sdx)[ok])
            resource_any |= bool(np.isfinite(self._resource(b, q)).any())
            if parts is not None:
                parts.add(start, b, q, self.c.dx.words)
        with np.errstate(divide="ignore", invalid="ignore"):
            rw = (cost_s / cost_n) / (total[0] / total[1] if total[1] else np.nan)
            self.tables["mean_los"] = los_s / los_n
        if self.supplied is not None:
            rw = np.where(np.isfinite(self.supplied[:n_drg]), self.supplied[:n_drg], rw)
        self.tables["rw"] = rw
        self.tables["drgs_in_adrg"] = np.bincount(pairs // (n_drg + 1), minlength=self.n_adrg)
        self.tables["ungroupable"], self.tables["secondary_diagnoses"] = ungroupable, secondary
        self.parts, self.resource_any = parts, resource_any

    # -- 2: with the weights ----------------------------------------------------------------------------------------
    def sweep_rates(self) -> None:
        folds, n_drg = self.folds, self.n_drg
        short = {name: KeyTable(2) for name in ("short_stay_high_weight", "short_stay_control")}
        one_day, weights = KeyTable(2), KeyTable(1)
        sizes = {"adrg": self.n_adrg + 1, "pdx": self.n_codes, "ppx": len(self.c.px.words) + 1}
        counts = {k: (np.zeros((folds, s)), np.zeros((folds, s))) for k, s in sizes.items()}
        n_f, e_f = np.zeros(folds), np.zeros(folds)
        low: list = [np.empty(0) for _ in range(folds)]  # per fold the SAMPLE smallest draws
        resource = {area: [np.zeros(self.n_adrg * self.Y * (CAP + 1)), np.zeros(self.n_adrg * self.Y * (CAP + 1)),
                           np.zeros(self.n_adrg * self.Y), np.zeros(self.n_adrg * self.Y)] for area in _gradient_areas()}
        from ..risk import uniform

        seen = 0
        for _, b in self.blocks(["los", "leaving", "pdx", "ppx", "mcc_cc", "cost",
                                   "n_sdx"]):
            q = self._base(b)
            ok, w = q["ok"], q["w"]
            for name, high in (("short_stay_high_weight", True), ("short_stay_control", False)):
                den, num = self._short_stays(q, high)
                short[name].add(self._cell_key(q, q["drg0"], n_drg)[den], np.ones(int(den.sum())), num[den])
            one_day.add(self._cell_key(q, q["drg0"], n_drg)[ok], np.ones(int(ok.sum())), self._one_day(b, q)[ok])
            fw = ok & np.isfinite(w)
            weights.add(self._weight_key(b, q)[fw], np.ones(int(fw.sum())))
            den = q["den_c"]
            y, fold = b["mcc_cc"][den].astype(float), q["fold"][den]
            for k, codes in (("adrg", b["adrg"]), ("pdx", b["pdx"]), ("ppx", b["ppx"])):
                n, e = code_counts(codes[den], y, fold, folds, sizes[k])
                counts[k][0][...] += n
                counts[k][1][...] += e
            n_f += np.bincount(fold, minlength=folds)
            e_f += np.bincount(fold, weights=y, minlength=folds)
            u = uniform(np.arange(seen, seen + len(y)), self.seed + 19)
            seen += len(y)
            for f in range(folds):
                low[f] = _smallest(np.concatenate([low[f], u[fold == f]]), SAMPLE + 1)
            self._resource_means(resource, b, q)
        self.tables.update(short)
        self.tables["one_day_low_weight_medical"] = one_day
        self.tables["counts"], self.tables["n_f"], self.tables["e_f"] = counts, n_f, e_f
        self.tables["threshold"] = np.array([sample_threshold(np.concatenate([low[f] for f in range(folds) if f != k]),
                                                              SAMPLE) for k in range(folds)])
        self.tables["resource"] = resource
        self._weight_tables(weights)

    def _short_stays(self, q: dict, high: bool) -> tuple:
        """(cases, short stays) of ``short_stay_high_weight`` (``high``) or its control (:mod:`evaluation.audit.areas`)."""
        w, los = q["w"], q["los"]
        den = q["ok"] & (w >= HIGH_WEIGHT if high else w < HIGH_WEIGHT) & ~q["ended"] & np.isfinite(los)
        return den, den & (los < q["mean_los"] / 3)

    def _one_day(self, b: dict, q: dict) -> np.ndarray:
        """The 0-1-day stays of ``one_day_low_weight_medical`` (its cases: every included one)."""
        return q["ok"] & (b["adrg"] >= 0) & self.medical[q["adrg0"]] & (q["w"] < LOW_WEIGHT) & (q["los"] <= 1) & ~q["ended"]

    def _weight_key(self, b: dict, q: dict) -> np.ndarray:
        """(ADRG + 1, principal + 1, DRG, MCC/CC) of a case: the cells the weight means are made of."""
        pdx = b["pdx"].astype(np.int64) + 1
        return (((b["adrg"].astype(np.int64) + 1) * (self.n_codes + 1) + pdx) * self.n_drg + q["drg0"]) * 2 + b["mcc_cc"]

    def _weight_tables(self, weights: KeyTable) -> None:
        """Per principal diagnosis its cases' mean weight (10 cases at least), per ADRG the mean weight and that of its
        cases without an MCC/CC, per ADRG x principal diagnosis the mean weight and cases (the case-mix expectation)."""
        key, n = weights.keys, weights.sums[0]
        mcc, rest = key % 2, key // 2
        drg, rest = rest % self.n_drg, rest // self.n_drg
        pdx, adrg = rest % (self.n_codes + 1) - 1, rest // (self.n_codes + 1) - 1
        wn = n * self.tables["rw"][drg]

        def mean_by(k, mask, size):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.bincount(k[mask], wn[mask], size) / np.bincount(k[mask], n[mask], size)

        code_w = mean_by(np.maximum(pdx, 0), pdx >= 0, self.n_codes)
        code_w[np.bincount(np.maximum(pdx, 0)[pdx >= 0], n[pdx >= 0], self.n_codes) < 10] = np.nan
        self.tables["code_w"] = code_w
        self.tables["e_adrg"] = mean_by(np.maximum(adrg, 0), adrg >= 0, self.n_adrg)
        self.tables["plain"] = mean_by(np.maximum(adrg, 0), (adrg >= 0) & (mcc == 0), self.n_adrg)
        both = (adrg >= 0) & (pdx >= 0)
        pair = np.maximum(adrg, 0) * (self.n_codes + 1) + np.maximum(pdx, 0)
        uniq, inv = np.unique(pair[both], return_inverse=True)
        cnt = np.bincount(inv, n[both], len(uniq))
        with np.errstate(divide="ignore", invalid="ignore"):
            self.tables["pair"] = (uniq, cnt, np.bincount(inv, wn[both], len(uniq)) / cnt)

    def _resource(self, b: dict, q: dict) -> np.ndarray:
        """Per case the resource coded severity is checked against: log cost, else log LOS (NaN where unknown)."""
        cost, ok = b["cost"].astype(float), q["ok"]
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.c.cost_ok:
                return np.where(ok & np.isfinite(cost) & (cost > 0), np.log(cost), np.nan)
            los = q["los"]
            return np.where(ok & np.isfinite(los) & (los >= 0), np.log1p(los), np.nan)

    def _gradient_cases(self, b: dict, q: dict, area: str, r: np.ndarray) -> tuple:
        """(the area's cases with a resource ``r`` and a hospital, their stratum, severity cell, resource)."""
        den = (q["den_c"] if area == "mcc_cc_capture" else q["ok"]) & np.isfinite(r) & (q["unit"] >= 0)
        sev = b["mcc_cc"] if area == "mcc_cc_capture" else b["n_sdx"]
        s = (q["adrg0"] * self.Y + q["y"])[den]
        return den, s, s * (CAP + 1) + np.minimum(np.asarray(sev, np.int64)[den], CAP), r[den]

    def _resource_means(self, acc: dict, b: dict, q: dict) -> None:
        resource = self._resource(b, q)
        for area, (c_sum, c_n, s_sum, s_n) in acc.items():
            _, s, c, r = self._gradient_cases(b, q, area, resource)
            c_sum += np.bincount(c, r, len(c_sum))
            c_n += np.bincount(c, minlength=len(c_n))
            s_sum += np.bincount(s, r, len(s_sum))
            s_n += np.bincount(s, minlength=len(s_n))

    # -- 3: with the weight means and the model's counts ------------------------------------------------------------
    def _mix_weight(self, b: dict, q: dict) -> np.ndarray:
        """Per case the CMI jump's case-mix expectation (:func:`evaluation.audit.case_areas`)."""
        ok, adrg, pdx, w = q["ok"], b["adrg"], b["pdx"].astype(np.int64), q["w"]
        e = self.tables["e_adrg"][q["adrg0"]]
        uniq, cnt, mean = self.tables["pair"]
        if len(uniq):  # a pair of 10 cases or more: its own mean weight
            key = q["adrg0"] * (self.n_codes + 1) + np.maximum(pdx, 0)
            at = np.minimum(np.searchsorted(uniq, key), len(uniq) - 1)
            big = ok & (adrg >= 0) & (pdx >= 0) & np.isfinite(w) & (uniq[at] == key) & (cnt[at] >= 10)
            e = np.where(big, mean[at], e)
        return np.where(ok & (adrg >= 0), e, np.nan)

    def _features(self, b: dict, q: dict, den: np.ndarray) -> np.ndarray:
        counts, fold = self.tables["counts"], q["fold"][den]
        r_adrg = encoded(counts["adrg"], b["adrg"][den], fold, region_prior(self.tables["n_f"], self.tables["e_f"], fold))
        r_pdx = encoded(counts["pdx"], b["pdx"][den], fold, r_adrg)
        r_ppx = encoded(counts["ppx"], b["ppx"][den], fold, r_adrg)
        return feature_matrix(r_adrg, r_pdx, r_ppx, b["age"][den], b["sex"][den])

    def sweep_sums(self) -> None:
        principal = KeyTable(2)
        cmi = [np.zeros(self.n_units) for _ in range(6)]
        grad = {area: [np.zeros(self.n_units) for _ in range(6)] for area in _gradient_areas()}
        means = {}
        for area, (c_sum, c_n, s_sum, s_n) in self.tables["resource"].items():
            with np.errstate(divide="ignore", invalid="ignore"):
                means[area] = (c_sum / c_n, c_n, s_sum / s_n)
        train = {k: [] for k in ("X", "y", "fold", "u")}
        t_max = self.tables["threshold"].max(initial=-np.inf)
        from ..risk import uniform

        seen = 0
        for _, b in self.blocks(["los", "pdx", "ppx", "sdx", "mcc_cc", "cost",
                                   "n_sdx", "age", "sex", "leaving"]):
            q = self._base(b)
            den, alt = self._principal_choice(b, q)
            principal.add(self._cell_key(q, q["adrg0"], self.n_adrg)[den], np.ones(int(den.sum())), alt[den])
            for acc, part in zip(cmi, cmi_sums(q["w"], self._mix_weight(b, q), q["unit"], self.n_units)):
                acc += part
            resource = self._resource(b, q)
            for area, acc in grad.items():
                mean_c, n_c, mean_s = means[area]
                at, s, c, r = self._gradient_cases(b, q, area, resource)
                g = (n_c / (n_c + SMOOTHING))[c] * (mean_c[c] - mean_s[s])
                for a, part in zip(acc, unit_gradient_sums(q["unit"][at], r - mean_s[s], g, self.n_units)):
                    a += part
            dc = q["den_c"]
            u = uniform(np.arange(seen, seen + int(dc.sum())), self.seed + 19)
            seen += int(dc.sum())
            sel = dc.copy()
            sel[dc] = u <= t_max
            if sel.any():
                train["X"].append(self._features(b, q, sel))
                train["y"].append(b["mcc_cc"][sel].astype(float))
                train["fold"].append(q["fold"][sel])
                train["u"].append(u[u <= t_max])
        self.tables["principal_choice"] = principal
        self.tables["cmi"], self.tables["gradients"] = tuple(cmi), {a: tuple(v) for a, v in grad.items()}
        self.models = self._fit({k: np.concatenate(v) if v else np.empty((0, 9) if k == "X" else 0) for k, v in
                                 train.items()})

    def _principal_choice(self, b: dict, q: dict) -> tuple:
        """(the cases judged, those with a secondary diagnosis weighing more as principal than the principal)."""
        code_w, ok = self.tables["code_w"], q["ok"]
        n = len(ok)
        sdx = b["sdx"].astype(np.int64)
        row = np.repeat(np.arange(n), np.diff(b["sdx_offsets"]))
        sw = np.where(sdx >= 0, code_w[np.maximum(sdx, 0)], np.nan)
        best = np.full(n, -np.inf)
        has = np.isfinite(sw)
        np.maximum.at(best, row[has], sw[has])
        pdx = b["pdx"].astype(np.int64)
        own = np.where(pdx >= 0, code_w[np.maximum(pdx, 0)], np.nan)
        den = ok & np.isfinite(own) & np.isfinite(best)
        return den, den & (best > own * (1 + 1e-9))

    def _fit(self, t: dict) -> list:
        """Per fold its model, from the other folds' sampled cases in input order (None: the fold has no case)."""
        models = []
        for k in range(self.folds):
            if not self.tables["n_f"][k]:
                models.append(None)
                continue
            train = (t["fold"] != k) & (t["u"] <= self.tables["threshold"][k])
            models.append(fit_fold(t["X"][train], t["y"][train]))
        return models

    # -- 4: the model's predictions, calibrated per year ------------------------------------------------------------
    def sweep_capture(self) -> None:
        eta_file, refs = SpillFile("drg-audit-eta-"), []
        observed, cases = np.zeros(self.Y), np.zeros(self.Y)
        for _, b in self.blocks(["los", "pdx", "ppx", "mcc_cc", "age", "sex"]):
            q = self._base(b)
            den = q["den_c"]
            X, fold = self._features(b, q, den), q["fold"][den]
            eta = np.zeros(int(den.sum()))
            for k, model in enumerate(self.models):
                at = fold == k
                if model is not None and at.any():
                    eta[at] = fold_eta(model, X[at])
            y = b["mcc_cc"][den].astype(float)
            observed += np.bincount(q["y"][den], y, self.Y)
            cases += np.bincount(q["y"][den], minlength=self.Y)
            refs.append(tuple(eta_file.write(a) for a in (eta, q["y"][den].astype(np.int32), q["unit"][den], y)))
        shift = calibrate_years(lambda: ((eta_file.read(r[0]), eta_file.read(r[1])) for r in refs), observed, cases > 0)
        n, o, e, v = (np.zeros(self.n_units) for _ in range(4))
        for r in refs:
            eta, y_idx, unit, y = (eta_file.read(x) for x in r)
            p32 = (1 / (1 + np.exp(-(eta + shift[y_idx])))).astype(np.float32).astype(float)
            at = unit >= 0
            for acc, wts in ((n, None), (o, y), (e, p32), (v, p32 * (1 - p32))):
                acc += np.bincount(unit[at], None if wts is None else wts[at], self.n_units)
        self.eta, self.shift = (eta_file, refs), shift
        self.tables["capture_sums"] = (n, o, e, v)

    # -- the rate tables as per-unit sums ---------------------------------------------------------------------------
    def unit_sums(self, name: str, size: int, mean: bool = False) -> tuple:
        """(cases, observed, expected, variance) per unit of the rate table ``name`` (keyed by :meth:`_cell_key`)."""
        return self.tables[name].unit_sums(self.Y, size, self.n_units, mean)

    def judged(self) -> tuple:
        sizes = {"ungroupable": 1, "secondary_diagnoses": self.n_adrg, "principal_choice": self.n_adrg,
                 "short_stay_high_weight": self.n_drg, "short_stay_control": self.n_drg,
                 "one_day_low_weight_medical": self.n_drg}
        sums = {name: self.unit_sums(name, size, mean=name == "secondary_diagnoses") for name, size in sizes.items()}
        sums["mcc_cc_capture"] = self.tables["capture_sums"]
        if self.parts is not None:
            sums.update(self.parts.unit_sums(self.years, self.n_mdc))
        missing = {a.name for a in REGISTRY if a.cases is not None and (self.patient_known or not a.patient)} - set(sums)
        if missing:  # a registered area this module does not sum yet: a developer's step left out, never the input's
            raise RuntimeError(f"target area(s) {sorted(missing)} have no cells in evaluation/audit/streamed.py: add them "
                               "to the sweep that has what they are made of")
        gradients = self.tables["gradients"] if self.resource_any else {}
        return judge(sums, gradients, self.tables["cmi"], self.years, self.h_level)

    # -- 5: the review list and the split pairs ---------------------------------------------------------------------
    def findings(self, review_limit: int) -> dict:
        for sweep in (self.sweep_weights, self.sweep_rates, self.sweep_sums, self.sweep_capture):
            self.on_phase("fit", self.c.rows)
            sweep()
        self.on_phase("tables", self.c.rows)
        cols, stats_ = self.judged()
        final = stats_["sums"]
        use = [ar for ar in REVIEW_AREAS if ar in final]
        review = ReviewList(use, review_limit)
        q_of = {}
        for ar in use:
            n, o, e, flag = final[ar]
            q_of[ar] = np.where(flag, excess_share(o, e, n) if ar == "mcc_cc_capture" else excess_share(o, e), 0.0)
        oe = capture_oe(final, self.n_units)
        pairs = self.parts.pairs() if self.parts is not None else None
        want = np.unique(np.concatenate([pairs["second"], pairs["first"]])) if pairs is not None else np.empty(0, np.int64)
        ids = {}
        eta_file, refs = self.eta
        blocks = self.blocks(["los", "leaving", "mcc_cc"], ids=True)
        for k, (start, b) in enumerate(blocks):
            q = self._base(b)
            p_cap = np.full(len(q["ok"]), np.nan)
            eta, y_idx = eta_file.read(refs[k][0]), eta_file.read(refs[k][1])
            p_cap[q["den_c"]] = 1 / (1 + np.exp(-(eta + self.shift[y_idx])))
            if use:
                prob, stake = self._review_scores(b, q, p_cap, use, q_of)
                review.add(prob, stake, {"case_id": b["case_id"], "hosp": b["hosp"], "year": b["year"], "drg": b["drg"],
                                         "los": b["los"], "mean_los": q["mean_los"], "p_capture": p_cap,
                                         "oe_capture": oe[np.maximum(q["unit"], 0)]})
            inside = want[(want >= start) & (want < start + len(q["ok"]))]
            if len(inside):
                got = b["case_id"].take(inside - start).to_numpy(zero_copy_only=False)
                ids.update(zip(inside.tolist(), got.tolist()))
        eta_file.close()
        split = None
        if pairs is not None:
            n, o, e, flag = final["split_admissions"]
            q = np.where(flag, excess_share(o, e), 0.0)
            has = pairs["unit"] >= 0
            p = np.where(has, split_probability(pairs["cell"], pairs["unit"], q), 0.0)
            split = split_rows(pairs["second"], pairs["first"], [ids[i] for i in pairs["second"].tolist()],
                               [ids[i] for i in pairs["first"].tolist()], pairs["hosp"], pairs["year"], pairs["gap"],
                               pairs["same"], p)
        return {"flags": cols, "review": review.rows(), "split": split}

    def _review_scores(self, b: dict, q: dict, p_cap, use: list, q_of: dict) -> tuple:
        """Per case and review area the probability that it is an excess case (:func:`evaluation.audit.review_scores`)
        and the weight a review recovers (:func:`evaluation.audit.weight_at_stake`)."""
        ok, w, unit = q["ok"], q["w"], q["unit"]
        has_unit, u0 = unit >= 0, np.maximum(unit, 0)
        with np.errstate(invalid="ignore"):
            gain = np.maximum(np.where(ok & (b["adrg"] >= 0), w - self.tables["plain"][q["adrg0"]], np.nan), 0)
        measures = {"weight_gain": gain, "weight": w}
        prob, stake = [], []
        for ar in use:
            if ar == "mcc_cc_capture":
                counted = q["den_c"] & (b["mcc_cc"] > 0) & has_unit
                qq = q_of[ar][u0]
                pc = np.clip(p_cap, 1e-6, 1 - 1e-6)
                s = np.where(counted, qq * (1 - pc) / (qq * (1 - pc) + pc), 0.0)
            else:
                num = self._short_stays(q, True)[1] if ar == "short_stay_high_weight" else self._one_day(b, q)
                s = np.where(num & has_unit, q_of[ar][u0], 0.0)
            prob.append(np.nan_to_num(s))
            stake.append(weight_at_stake(measures, ar))
        return np.column_stack(prob), np.column_stack(stake)


def _gradient_areas() -> list:
    """The areas whose coded severity is checked against resource use (an area's ``resource``)."""
    return [a.name for a in REGISTRY if a.resource]


def _smallest(u: np.ndarray, k: int) -> np.ndarray:
    return np.partition(u, k - 1)[:k] if len(u) > k else u
