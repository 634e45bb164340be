"""The per-case measures the audit's target areas are made of (arrays in, arrays out): pairs of stays of the same
patient (a Numba kernel), expected rates by stratum and year, the cross-fitted MCC/CC capture model, the DRG weights,
the principal-choice and patient-stay measures, the features of a possible split pair. The areas
(:mod:`evaluation.audit.areas`) are built from these; :mod:`evaluation.audit` judges them per hospital-year."""

from __future__ import annotations

import numpy as np

SPLIT_GAP_DAYS = 2
SMOOTHING = 10.0  # pseudo-cases of the parent rate behind an encoded rate


# -- stays of the same patient ------------------------------------------------------------------------------

def _pairs_kernel(order, patient, admit, discharge, hospital, mdc, ended, windows, split_gap):
    n = len(order)
    readmit = np.zeros((len(windows), len(patient)), np.bool_)
    split_first = np.full(len(patient), -1, np.int64)
    wmax = windows.max()
    for a in range(n):
        i = order[a]
        if discharge[i] < 0:
            continue
        # the stay right after: a split when at the same hospital and MDC, 0..split_gap days after a routine discharge
        if a + 1 < n:
            j = order[a + 1]
            if (patient[j] == patient[i] and admit[j] >= 0 and not ended[i] and hospital[j] == hospital[i]
                    and mdc[j] == mdc[i] and mdc[i] >= 0 and 0 <= admit[j] - discharge[i] <= split_gap):
                split_first[j] = i
        if ended[i] or mdc[i] < 0:
            continue
        b = a + 1
        while b < n:
            j = order[b]
            if patient[j] != patient[i]:
                break
            gap = admit[j] - discharge[i]
            if gap > wmax:
                break
            if gap >= 0 and mdc[j] == mdc[i]:
                for k in range(len(windows)):
                    if gap <= windows[k]:
                        readmit[k, i] = True
            b += 1
    return readmit, split_first


_pairs_jit = None


def patient_pairs(patient, admit, discharge, hospital, mdc, ended, windows=(15, 30), split_gap: int = SPLIT_GAP_DAYS):
    """Readmissions and split admissions from the stays of each patient.

    Parameters
    ----------
    patient : uint64 array (0 = unknown patient), admit, discharge : int days (-1 unknown), hospital, mdc : int
        codes (mdc -1 = not grouped), ended : bool, the stay ended in death or transfer.

    Returns
    -------
    readmit : bool array (len(windows), n): stay i (discharged alive, not transferred) is followed by an
        admission of the same patient within ``windows[k]`` days of its discharge in the same MDC (any hospital).
    split_first : int array: for a stay admitted 0..``split_gap`` days after the discharge of the same
        patient's previous stay at the same hospital in the same MDC (that stay not a death or transfer), the
        index of that previous stay; -1 otherwise.
    """
    global _pairs_jit
    if _pairs_jit is None:
        from numba import njit

        _pairs_jit = njit(cache=True, nogil=True)(_pairs_kernel)
    patient = np.asarray(patient, np.uint64)
    admit = np.asarray(admit, np.int64)
    known = np.flatnonzero(patient != 0)
    order = known[np.lexsort((known, np.asarray(discharge, np.int64)[known], admit[known], patient[known]))]
    return _pairs_jit(order, patient, admit, np.asarray(discharge, np.int64), np.asarray(hospital, np.int64),
                      np.asarray(mdc, np.int64), np.asarray(ended, np.bool_), np.asarray(windows, np.int64), int(split_gap))


# -- expected rates -----------------------------------------------------------------------------------------

def stratum_year(stratum, year) -> np.ndarray:
    """One integer key per (stratum, year): the cells expected values are standardised within."""
    return np.asarray(stratum, np.int64) * 4096 + (np.asarray(year, np.int64) % 4096)


def stratum_rate(num, den, stratum, year) -> np.ndarray:
    """Per case the region's rate of ``num`` among ``den`` cases of its stratum in its year (indirect
    standardisation); NaN where the case is outside the denominator."""
    den = np.asarray(den, bool)
    key = stratum_year(stratum, year)
    uniq, inv = np.unique(key[den], return_inverse=True)
    n = np.bincount(inv, minlength=len(uniq)).astype(float)
    s = np.bincount(inv, weights=np.asarray(num, float)[den], minlength=len(uniq))
    out = np.full(len(den), np.nan)
    out[den] = (s / n)[inv]
    return out


def logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def code_counts(codes, y, fold, folds: int, size: int) -> tuple:
    """Per fold and code (code -1 in the last slot, ``size - 1``): (cases, sum of ``y``), the tables of :func:`encoded`."""
    c = np.asarray(codes, np.int64)
    c = np.where(c < 0, size - 1, c)
    key = np.asarray(fold, np.int64) * size + c
    n = np.bincount(key, minlength=folds * size).reshape(folds, size).astype(float)
    e = np.bincount(key, weights=y, minlength=folds * size).reshape(folds, size)
    return n, e


def encoded(counts: tuple, codes, fold, prior, m=SMOOTHING):
    """Per case: the smoothed rate of ``y`` among cases with its code in the other folds (from :func:`code_counts`),
    shrunk towards ``prior`` (per case) by ``m`` pseudo-cases."""
    n, e = counts
    c = np.asarray(codes, np.int64)
    c = np.where(c < 0, n.shape[1] - 1, c)
    n_out = n.sum(axis=0)[None, :] - n
    e_out = e.sum(axis=0)[None, :] - e
    return (e_out[fold, c] + m * prior) / (n_out[fold, c] + m)


def _encode(codes, y, fold, folds, prior, m=SMOOTHING):
    c = np.asarray(codes, np.int64)
    size = int(np.where(c < 0, c.max(initial=0) + 1, c).max(initial=0)) + 1
    return encoded(code_counts(c, y, fold, folds, size), c, fold, prior, m)


def region_prior(n_f, e_f, fold) -> np.ndarray:
    """Per case the MCC/CC rate of the other folds' cases."""
    return ((e_f.sum() - e_f) / np.maximum(n_f.sum() - n_f, 1))[fold]


def capture_features(pdx, ppx, adrg, age, sex, y, fold, folds: int) -> np.ndarray:
    """Features of the MCC/CC model, each case's encodings from the other folds only: logits of the smoothed
    MCC/CC rate of its ADRG, principal diagnosis and principal procedure (shrunk to the ADRG's), age (with
    squares, a missing indicator) and sex."""
    y = np.asarray(y, float)
    n_f = np.bincount(fold, minlength=folds).astype(float)
    e_f = np.bincount(fold, weights=y, minlength=folds)
    r_adrg = _encode(adrg, y, fold, folds, region_prior(n_f, e_f, fold))
    r_pdx = _encode(pdx, y, fold, folds, r_adrg)
    r_ppx = _encode(ppx, y, fold, folds, r_adrg)
    return feature_matrix(r_adrg, r_pdx, r_ppx, age, sex)


def feature_matrix(r_adrg, r_pdx, r_ppx, age, sex) -> np.ndarray:
    """The model's columns from the encoded rates, age and sex (float32)."""
    a = np.asarray(age, float)
    miss = ~np.isfinite(a)
    a = np.where(miss, 50.0, np.clip(a, 0, 100)) / 50.0 - 1.0
    s = np.asarray(sex, float)
    cols = [logit(r_adrg), logit(r_pdx), logit(r_ppx), a, a * a, a * a * a, miss, s == 2, ~np.isin(s, (1, 2))]
    return np.column_stack([np.asarray(c, np.float32) for c in cols])


def sample_threshold(u: np.ndarray, sample: int) -> float:
    """The ``sample``-th smallest of ``u`` (a fold's training cases are those at or below it; inf: all of them)."""
    return float(np.partition(u, sample - 1)[sample - 1]) if len(u) > sample else np.inf


def fit_fold(X, y):
    """A fold's model: a logistic regression on its training cases, or a constant logit where they are none (0.5) or
    all of one kind (their rate)."""
    from sklearn.linear_model import LogisticRegression

    if len(y) == 0 or y.min() == y.max():
        return float(logit(y.mean() if len(y) else 0.5))
    return LogisticRegression(C=1.0, max_iter=500).fit(X, y)


def fold_eta(model, X) -> np.ndarray:
    """The linear predictor of :func:`fit_fold`'s model for the cases ``X``."""
    return np.full(len(X), model) if isinstance(model, float) else model.decision_function(X)


def capture_model(X, y, fold, folds: int, year, sample: int = 200_000, seed: int = 0) -> np.ndarray:
    """Cross-fitted P(MCC/CC) per case: the model for fold k is a logistic regression fitted on (a fixed
    sample of) the other folds' cases; then calibrated in the large within each year (a logit shift so that
    the region's expected count equals its observed count)."""
    from ..risk import uniform

    n = len(y)
    u = uniform(np.arange(n), seed + 19)
    eta = np.zeros(n)
    for k in range(folds):
        train = np.flatnonzero(fold != k)
        train = train[u[train] <= sample_threshold(u[train], sample)]
        test = fold == k
        if test.any():
            eta[test] = fold_eta(fit_fold(X[train], y[train]), X[test])
    p = np.empty(n)
    for t in np.unique(year):
        at = year == t
        p[at] = calibrate(eta[at], float(y[at].sum()))
    return p


def calibrate(eta, observed: float) -> np.ndarray:
    """sigmoid(eta + d) with d solving sum = observed (Newton on a monotone function)."""
    d = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(eta + d)))
        f, g = p.sum() - observed, (p * (1 - p)).sum()
        if g <= 0 or abs(f) < 1e-9 * max(observed, 1):
            break
        d -= f / g
    return 1 / (1 + np.exp(-(eta + d)))


def calibrate_years(parts, observed: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Per year (``active``: those with cases) the logit shift d of :func:`calibrate`, each year stopping on its own, with
    the linear predictors read part by part: ``parts()`` gives (eta, year index) arrays, every case once."""
    d = np.zeros(len(observed))
    active = np.asarray(active, bool).copy()
    for _ in range(50):
        if not active.any():
            break
        f, g = -np.asarray(observed, float), np.zeros(len(observed))
        for eta, y in parts():
            p = 1 / (1 + np.exp(-(eta + d[y])))
            f = f + np.bincount(y, p, len(d))
            g = g + np.bincount(y, p * (1 - p), len(d))
        active &= ~((g <= 0) | (np.abs(f) < 1e-9 * np.maximum(observed, 1)))
        d = np.where(active, d - f / np.where(g > 0, g, 1), d)
    return d


# -- the target areas per case ------------------------------------------------------------------------------

def drg_weights(drg, ok, cost, supplied=None) -> np.ndarray:
    """Per DRG code: its mean cost over grouped cases with a valid cost / the mean over all of them (an
    untrimmed RW; ``supplied``, per code with NaN where none, replaces it where given)."""
    size = int(drg.max(initial=-1)) + 1
    valid = ok & np.isfinite(cost) & (cost > 0)
    s = np.bincount(drg[valid], weights=cost[valid], minlength=size)
    c = np.bincount(drg[valid], minlength=size)
    with np.errstate(divide="ignore", invalid="ignore"):
        rw = (s / c) / (cost[valid].mean() if valid.any() else np.nan)
    if supplied is not None:
        rw = np.where(np.isfinite(supplied[:size]), supplied[:size], rw)
    return rw


def binary(den, num, expected) -> tuple:
    """An area of yes/no cases: (denominator, numerator, expected probability, None: its variance is the
    Bernoulli p(1-p), computed where it is summed, so that ten areas x millions of cases hold one float array
    each)."""
    return den, np.asarray(num, bool), np.asarray(expected, np.float32), None


def group_mean(key, value, mask, size) -> np.ndarray:
    m = mask & np.isfinite(value)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.bincount(key[m], weights=value[m], minlength=size) / np.bincount(key[m], minlength=size)


def capture_area(a: dict, hospital_words: list, n_drg: int, n_adrg: int, folds: int, seed: int) -> dict:
    """MCC/CC capture (in ADRGs that split), expected from the cross-fitted patient-level model: ``p_capture`` and the
    area's (denominator, numerator, expected, variance)."""
    out: dict = {}
    from ..risk import hospital_folds

    n, ok, year, drg, adrg = len(a["ok"]), a["ok"], a["year"], a["drg"], a["adrg"]
    drg0, adrg0 = np.maximum(drg, 0), np.maximum(adrg, 0)
    grouped_adrg = ok & (adrg >= 0)
    pairs = np.unique(adrg0[grouped_adrg].astype(np.int64) * (n_drg + 1) + drg0[grouped_adrg])
    drgs_in_adrg = np.bincount(pairs // (n_drg + 1), minlength=n_adrg)
    den = ok & (adrg >= 0) & (drgs_in_adrg[adrg0] >= 2)
    y = a["mcc_cc"].astype(np.float64)
    # a case without a hospital id (code -1) takes fold 0: it is in no hospital's table
    fold = np.append(hospital_folds(np.asarray(hospital_words, dtype=object), folds, seed), 0)[a["hosp"]].astype(np.int64)
    p = np.full(n, np.nan)
    at = np.flatnonzero(den)
    if len(at):
        X = capture_features(a["pdx"][at], a["ppx"][at], adrg[at], a["age"][at], a["sex"][at], y[at], fold[at], folds)
        p[at] = capture_model(X, y[at], fold[at], folds, year[at], seed=seed)
    out["p_capture"] = p
    out["mcc_cc_capture"] = binary(den, y, p)
    return out


def principal_choice_area(a: dict, w: np.ndarray, n_codes: int) -> tuple:
    """Principal choice: a secondary diagnosis whose cases (as principal) weigh more than the principal's (``n_codes``:
    the number of diagnosis codes)."""
    n, ok, year, adrg = len(a["ok"]), a["ok"], a["year"], a["adrg"]
    adrg0 = np.maximum(adrg, 0)
    pdx0 = np.maximum(a["pdx"], 0)
    as_principal = np.bincount(pdx0[ok & (a["pdx"] >= 0) & np.isfinite(w)], minlength=n_codes)
    code_w = group_mean(pdx0, w, ok & (a["pdx"] >= 0), n_codes)
    code_w[as_principal < 10] = np.nan
    lengths = np.diff(a["sdx_offsets"])
    row = np.repeat(np.arange(n), lengths)
    sw = np.where(a["sdx"] >= 0, code_w[np.maximum(a["sdx"], 0)], np.nan) if n_codes else np.zeros(0)
    best = np.full(n, -np.inf)
    has_alt = np.isfinite(sw)
    np.maximum.at(best, row[has_alt], sw[has_alt])
    own = np.where(a["pdx"] >= 0, code_w[pdx0] if n_codes else np.nan, np.nan)
    den = ok & np.isfinite(own) & np.isfinite(best)
    alt = den & (best > own * (1 + 1e-9))
    return binary(den, alt, stratum_rate(alt, den, adrg0, year))


def patient_stay_areas(out: dict, a: dict, ended: np.ndarray, dx_words: list | None) -> None:
    """The areas of stays of the same patient: readmissions within 15 and 30 days, split admissions (and each pair's
    cell for its split probability)."""
    ok, year, adrg, mdc = a["ok"], a["year"], a["adrg"], a["mdc"]
    have = (a["patient"] != 0) & (a["discharge"] >= 0) & (a["admit"] >= 0)
    readmit, split_first = patient_pairs(np.where(have, a["patient"], 0), a["admit"], a["discharge"], a["hosp"],
                                         np.where(ok, mdc, -1), ended)
    out["split_first"] = split_first
    out["pair_cell"] = pair_cells(split_first, a["pdx"], adrg, a["admit"], a["discharge"], a["leaving"],
                                  planned_principal(a["pdx"], dx_words))
    mdc0 = np.maximum(mdc, 0)
    for k, days in enumerate((15, 30)):
        den = ok & have & ~ended & (mdc >= 0)
        out[f"readmission_{days}"] = binary(den, readmit[k], stratum_rate(readmit[k], den, mdc0, year))
    den = ok & have & (mdc >= 0)
    split = split_first >= 0
    out["split_admissions"] = binary(den, split, stratum_rate(split, den, mdc0, year))


# principal diagnoses of a stay that is planned by its nature (CMS/Yale CORE Planned Readmission Algorithm v4.0,
# "always planned": maintenance chemotherapy and radiotherapy Z51.0-Z51.2, rehabilitation Z50, follow-up examination
# Z08-Z09; the cycles 医保 rules on 分解住院 also exempt)
PLANNED_PREFIXES = ("Z51", "Z50", "Z08", "Z09")
PAIR_CELLS = 3 * (SPLIT_GAP_DAYS + 1) * 2 * 2


def planned_principal(pdx, dx_words) -> np.ndarray:
    """Per case: its principal diagnosis is one of a planned stay (:data:`PLANNED_PREFIXES`)."""
    if not dx_words:
        return np.zeros(len(pdx), bool)
    planned = np.array([str(w).upper().startswith(PLANNED_PREFIXES) for w in dx_words] + [False], bool)
    return planned[np.where(np.asarray(pdx) >= 0, pdx, len(dx_words))]


def pair_cells(split_first, pdx, adrg, admit, discharge, leaving, planned) -> np.ndarray:
    """Per second stay of a possible split pair, its cell of pair features (-1 elsewhere): the same principal
    diagnosis as the first stay (2), the same ADRG (1) or neither (0); the gap in days (0..2); a routine first
    discharge (离院方式 1: 医嘱离院); a planned second stay (:func:`planned_principal`)."""
    j = np.flatnonzero(np.asarray(split_first) >= 0)
    i = np.asarray(split_first)[j]
    same = np.where((pdx[j] == pdx[i]) & (pdx[j] >= 0), 2, np.where((adrg[j] == adrg[i]) & (adrg[j] >= 0), 1, 0))
    gap = np.clip(np.asarray(admit)[j] - np.asarray(discharge)[i], 0, SPLIT_GAP_DAYS)
    cell = ((same * (SPLIT_GAP_DAYS + 1) + gap) * 2 + (np.asarray(leaving)[i] == 1)) * 2 + np.asarray(planned)[j]
    out = np.full(len(split_first), -1, np.int64)
    out[j] = cell
    return out
