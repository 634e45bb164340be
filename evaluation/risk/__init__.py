"""Patient-level risk adjustment: expected death, length of stay and cost per case from what was known at
admission, with cross-fitted scikit-learn models, so hospitals are judged on their outcomes and not on
their patients (the approach of CMS risk-standardised mortality, AHRQ quality indicators and NHS SHMI).

Arrays in, arrays out; the command that streams a file through these pieces is :mod:`drg.risk`.

* Features (:func:`case_features`): age, sex, admission route when present, the number of secondary
  diagnoses, MCC/CC presence under the scheme's tables with their exclusions, the Charlson index and the
  48 Charlson/Elixhauser categories of the secondary diagnoses (:mod:`evaluation.risk.comorbidity`), and
  per DRG/ADRG target encodings (death rate, mean log LOS, mean log cost, cost weight) learned only from
  the folds the model may see. Never an outcome or a post-admission fact (LOS, cost, leaving type) of
  the case itself.
* Cross-fitting (Chernozhukov et al. 2018's sample splitting, as in CMS's out-of-sample checks): every
  case has a fold; the model for fold ``k`` is fitted on cases of the other folds only, and its DRG
  encodings leave fold ``k`` out too (training cases' encodings also leave their own fold out), so no
  case is predicted by a model or an encoding that saw it.
* Models (:func:`make_model`): ridge-penalised GLMs in a scikit-learn ``Pipeline`` -- logistic for death,
  Poisson for LOS, Gamma for cost -- fitted on a bounded random sample; every case is then predicted
  by its own fold's model, streaming.
* Calibration step (:func:`region_calibration`): the region is the reference, as in indirect
  standardisation: the cross-fitted predictions are calibrated in the large to the region's outcomes
  (a logit shift for death, a factor for LOS and cost), so the region's O/E is 1 and a hospital's O/E
  says how it compares with the region's patients like its own.
"""

from __future__ import annotations

import os

import numpy as np

from .comorbidity import bit_matrix, charlson_index, code_bits

OUTCOMES = ("death", "los", "cost")
BASE_FEATURES = ["age_years", "sex_female", "admission_route", "secondary_dx", "mcc", "cc", "charlson_index"]
ENCODED_FEATURES = ["drg_death_logit", "adrg_death_logit", "drg_log_los", "drg_log_cost", "drg_cost_weight"]
SMOOTHING = 20.0  # pseudo-cases of the parent rate (ADRG, then region) behind a DRG's encoded rate
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def feature_names() -> list[str]:
    from .comorbidity import column_names

    return BASE_FEATURES + column_names() + ENCODED_FEATURES


# -- deterministic folds and samples ---------------------------------------------------------------

def splitmix64(x: np.ndarray, seed: int) -> np.ndarray:
    """SplitMix64 of ``x + seed`` (Steele et al. 2014): a fixed, well-mixed uint64 per row index."""
    with np.errstate(over="ignore"):
        z = np.asarray(x, np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def uniform(rows: np.ndarray, seed: int) -> np.ndarray:
    """A uniform [0, 1) number per row index, the same whatever the batch size."""
    return (splitmix64(rows, seed) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def case_folds(rows: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold of each case (by its row index in the input)."""
    return (splitmix64(rows, seed) % np.uint64(folds)).astype(np.int8)


def hospital_folds(hospital_ids, folds: int, seed: int) -> np.ndarray:
    """Fold of each case by its hospital (all of a hospital's cases in one fold)."""
    import zlib

    ids = np.asarray(hospital_ids, dtype=object)
    uniq, inv = np.unique(ids.astype(str), return_inverse=True)
    h = np.array([zlib.crc32(u.encode("utf-8")) for u in uniq], np.uint64)
    return (splitmix64(h, seed) % np.uint64(folds)).astype(np.int8)[inv]


# -- features ---------------------------------------------------------------------------------------

def _dot(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``X @ w`` summed in one fixed order (NumPy's own loop, not BLAS): BLAS splits the sum by its thread count, which
    differs between this process and a Dask worker (one thread), and the last bits of a prediction with it."""
    return np.einsum("ij,j->i", X, w)


class CodeLookup:
    """Per diagnosis code: comorbidity bits, MCC and CC exclusion ids (-1: not MCC/CC) and its own exclusion
    id as a principal diagnosis (-1 none), cached across batches. ``mcc``, ``cc``: {code: exclusion id};
    ``pdx_exclusion``: {code: exclusion id} (the scheme's tables; empty dicts without a scheme)."""

    def __init__(self, mcc: dict, cc: dict, pdx_exclusion: dict):
        ids: dict = {}  # exclusion ids as dense integers (a scheme may spell them as text)
        self.mcc, self.cc, self.pdx = ({c: ids.setdefault(e, len(ids)) for c, e in t.items()} for t in (mcc, cc, pdx_exclusion))
        self.cache: dict = {}

    def arrays(self, codes) -> tuple:
        miss = [c for c in codes if c not in self.cache]
        if miss:
            bits = code_bits(miss)
            for c, b in zip(miss, bits):
                self.cache[c] = (int(b), self.mcc.get(c, -1), self.cc.get(c, -1), self.pdx.get(c, -1))
        rows = [self.cache[c] for c in codes]
        if not rows:
            return np.zeros(0, np.uint64), *(np.zeros(0, np.int64) for _ in range(3))
        b, m, c, p = zip(*rows)
        return np.array(b, np.uint64), np.array(m, np.int64), np.array(c, np.int64), np.array(p, np.int64)


def diagnosis_features(offsets: np.ndarray, indices: np.ndarray, dictionary: list, lookup: CodeLookup) -> dict:
    """Per case from its diagnosis list (principal first, ``indices`` into ``dictionary`` per element,
    -1 for a missing element): the comorbidity bits of the secondary diagnoses, their number, and MCC / CC
    presence after the principal diagnosis' exclusions (FORMAT.md 4.1: a secondary diagnosis counts
    unless the principal's exclusion id equals its own)."""
    n = len(offsets) - 1
    bits_d, mcc_d, cc_d, pdx_d = lookup.arrays(dictionary)
    off = np.asarray(offsets, np.int64) - int(offsets[0])
    lengths = np.diff(off)
    row = np.repeat(np.arange(n), lengths)
    first = np.zeros(len(indices), bool)
    first[off[:-1][lengths > 0]] = True
    ok = np.asarray(indices) >= 0
    idx = np.where(ok, indices, 0)
    secondary = ~first & ok
    pdx_ex = np.full(n, -1, np.int64)
    have_pdx = lengths > 0
    head = off[:-1][have_pdx]
    pdx_ex[have_pdx] = np.where(ok[head], pdx_d[idx[head]] if len(pdx_d) else -1, -1)
    bits = np.zeros(n, np.uint64)
    if len(bits_d):
        np.bitwise_or.at(bits, row[secondary], bits_d[idx[secondary]])
    out = {"bits": bits, "secondary_dx": np.bincount(row[secondary], minlength=n).astype(np.float32)}
    for name, table in (("mcc", mcc_d), ("cc", cc_d)):
        if not len(table):
            out[name] = np.zeros(n, np.float32)
            continue
        ex = table[idx]
        counts = secondary & (ex >= 0) & ~((pdx_ex[row] >= 0) & (ex == pdx_ex[row]))
        out[name] = (np.bincount(row[counts], minlength=n) > 0).astype(np.float32)
    return out


def case_features(age_years, age_days, sex, admission_route, dx: dict) -> np.ndarray:
    """The patient part of the feature matrix (float32, NaN = unknown), columns as :data:`BASE_FEATURES`
    followed by the comorbidity categories. ``dx`` is :func:`diagnosis_features`'s output."""
    n = len(dx["bits"])
    age = np.asarray(age_years, np.float64)
    days = np.asarray(age_days, np.float64) if age_days is not None else np.full(n, np.nan)
    age = np.where(np.isnan(age) | ((age == 0) & ~np.isnan(days)), np.where(np.isnan(days), age, days / 365.25), age)
    # a column the input does not have is a constant (0), not a missing value on every row
    s = np.asarray(sex, np.float64) if sex is not None else np.ones(n)
    female = np.where(s == 2, 1.0, np.where(s == 1, 0.0, np.nan))
    route = np.asarray(admission_route, np.float64) if admission_route is not None else np.zeros(n)
    base = np.column_stack([age, female, route, dx["secondary_dx"], dx["mcc"], dx["cc"], charlson_index(dx["bits"])])
    return np.hstack([base.astype(np.float32), bit_matrix(dx["bits"])])


# -- DRG encodings learned from allowed folds only -------------------------------------------------------

class GroupStats:
    """Per group id × fold: cases and sums of an outcome (``add``), and the smoothed group mean over the
    folds a model may see (``mean``)."""

    def __init__(self, folds: int):
        self.folds = folds
        self.n = np.zeros((0, folds))
        self.s = np.zeros((0, folds))

    def add(self, ids: np.ndarray, fold: np.ndarray, values: np.ndarray, groups: int) -> None:
        ok = ~np.isnan(values) & (ids >= 0)
        if groups > len(self.n):
            grow = groups - len(self.n)
            self.n = np.vstack([self.n, np.zeros((grow, self.folds))])
            self.s = np.vstack([self.s, np.zeros((grow, self.folds))])
        key = ids[ok].astype(np.int64) * self.folds + fold[ok]
        size = len(self.n) * self.folds
        self.n += np.bincount(key, minlength=size).reshape(-1, self.folds)
        self.s += np.bincount(key, weights=values[ok], minlength=size).reshape(-1, self.folds)

    def sums(self, ids: np.ndarray, drop_a: np.ndarray, drop_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cases and sum of each row's group over the folds other than ``drop_a`` and ``drop_b``."""
        if not len(self.n):  # no group seen (e.g. no ADRG in the data): nothing to add
            return np.zeros(len(ids)), np.zeros(len(ids))
        tn, ts = self.n.sum(axis=1), self.s.sum(axis=1)
        i = np.where(ids >= 0, ids, 0)
        n = tn[i] - self.n[i, drop_a] - np.where(drop_b != drop_a, self.n[i, drop_b], 0.0)
        s = ts[i] - self.s[i, drop_a] - np.where(drop_b != drop_a, self.s[i, drop_b], 0.0)
        return np.where(ids >= 0, n, 0.0), np.where(ids >= 0, s, 0.0)

    def region(self, drop: int) -> float:
        keep = np.ones(self.folds, bool)
        keep[drop] = False
        n = self.n[:, keep].sum()
        return float(self.s[:, keep].sum() / n) if n else float("nan")


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class Encoder:
    """Target encodings of the DRG and ADRG from :class:`GroupStats` of death, log LOS and log cost."""

    OUTCOME_STATS = ("death", "log_los", "log_cost", "cost")

    def __init__(self, folds: int):
        self.folds = folds
        self.drg = {k: GroupStats(folds) for k in self.OUTCOME_STATS}
        self.adrg = GroupStats(folds)

    def add(self, drg_ids, adrg_ids, fold, outcomes: dict, n_drg: int, n_adrg: int) -> None:
        for k in self.OUTCOME_STATS:
            self.drg[k].add(drg_ids, fold, outcomes[k], n_drg)
        self.adrg.add(adrg_ids, fold, outcomes["death"], n_adrg)

    def encode(self, drg_ids, adrg_ids, drop_a, drop_b, model_fold: int) -> np.ndarray:
        """(n, 5) float32: smoothed DRG and ADRG death logits, DRG mean log LOS and log cost, DRG cost
        weight (mean cost / region mean), all over the folds other than ``drop_a``/``drop_b``."""
        cols = []
        p0 = self.drg["death"].region(model_fold)
        na, sa = self.adrg.sums(adrg_ids, drop_a, drop_b)
        p_adrg = (sa + SMOOTHING * p0) / (na + SMOOTHING)
        nd, sd = self.drg["death"].sums(drg_ids, drop_a, drop_b)
        p_drg = (sd + SMOOTHING * p_adrg) / (nd + SMOOTHING)
        cols += [_logit(p_drg), _logit(p_adrg)]
        for k in ("log_los", "log_cost"):
            m0 = self.drg[k].region(model_fold)
            n, s = self.drg[k].sums(drg_ids, drop_a, drop_b)
            cols.append((s + SMOOTHING * m0) / (n + SMOOTHING))
        c0 = self.drg["cost"].region(model_fold)
        n, s = self.drg["cost"].sums(drg_ids, drop_a, drop_b)
        cols.append(((s + SMOOTHING * c0) / (n + SMOOTHING)) / c0)
        return np.column_stack(cols).astype(np.float32)


# -- models ---------------------------------------------------------------------------------------------

def make_model(outcome: str, seed: int, alpha: float = 1e-4):
    """The scikit-learn pipeline for one outcome: a cubic spline basis of age (median-imputed, with a
    missing indicator), one-hot admission route, sex and diagnosis counts with missing indicators,
    standardisation, and a ridge-penalised GLM fitted by
    Newton–Cholesky -- logistic for death (the model family of CMS's risk-standardised mortality and of
    SHMI), Poisson for LOS and Gamma (log link) for cost. GLMs predict 10 million cases in seconds, where
    tree ensembles take minutes; the DRG encodings carry the non-linear DRG effect."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import (
        GammaRegressor,
        LogisticRegression,
        PoissonRegressor,
    )
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, SplineTransformer, StandardScaler

    from .comorbidity import column_names

    col = BASE_FEATURES.index
    age = Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                    ("spline", ColumnTransformer([("s", SplineTransformer(n_knots=6, degree=3, extrapolation="constant"), [0])],
                                                 remainder="passthrough"))])
    route = Pipeline([("impute", SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True)),
                      ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))])
    unknown = SimpleImputer(strategy="constant", fill_value=0.0, add_indicator=True, keep_empty_features=True)
    # the DRG's and ADRG's death logits get a spline too: the patient terms add to the DRG's rate of an
    # average patient, which is not linear in the logit at the rare-death end (a straight line under-predicts
    # the lowest-risk DRGs, where the low-risk mortality indicators live)
    enc = len(BASE_FEATURES) + len(column_names())
    drg_cols = [enc + ENCODED_FEATURES.index("drg_death_logit"), enc + ENCODED_FEATURES.index("adrg_death_logit")]
    # only the columns that can be missing are imputed (the comorbidity flags and encodings never are)
    parts = [("age", age, [col("age_years")]), ("route", route, [col("admission_route")]),
             ("unknown", unknown, [col("sex_female"), col("secondary_dx"), col("mcc"), col("cc")])]
    if outcome == "death":
        parts.append(("drg", SplineTransformer(n_knots=8, degree=3, knots="quantile", extrapolation="linear"), drg_cols))
    expand = ColumnTransformer(parts, remainder="passthrough")
    if outcome == "death":
        est = LogisticRegression(C=1.0 / (alpha * 1e4), solver="newton-cholesky", max_iter=100)
    elif outcome == "los":
        est = PoissonRegressor(alpha=alpha, solver="newton-cholesky", max_iter=100)
    else:
        est = GammaRegressor(alpha=alpha, solver="newton-cholesky", max_iter=100)
    return Pipeline([("expand", expand), ("scale", StandardScaler()), ("model", est)])


def logistic_fit(x: np.ndarray, y: np.ndarray, offset_only: bool = False, iters: int = 50,
                 weight: np.ndarray | None = None) -> tuple[float, float]:
    """Maximum-likelihood (intercept, slope) of ``logit P(y) = a + b·x`` by Newton–Raphson (cases weighted
    by ``weight``); with ``offset_only`` the slope is fixed at 1 (calibration in the large)."""
    a, b = 0.0, 1.0
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    cw = np.ones(len(x)) if weight is None else np.asarray(weight, float)
    for _ in range(iters):
        eta = np.clip(a + b * x, -35, 35)
        p = 1 / (1 + np.exp(-eta))
        w = cw * p * (1 - p)
        r = cw * (y - p)
        if offset_only:
            step = np.array([r.sum() / max(w.sum(), 1e-12), 0.0])
        else:
            g = np.array([r.sum(), (r * x).sum()])
            h = np.array([[w.sum(), (w * x).sum()], [(w * x).sum(), (w * x * x).sum()]])
            try:
                step = np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                break
        a, b = a + step[0], b + step[1]
        if np.abs(step).max() < 1e-10:
            break
    return float(a), float(b)


class FoldModel:
    """One outcome's model for one fold: the fitted pipeline, and a fast linear predictor taken from it."""

    def __init__(self, outcome: str, seed: int):
        self.outcome, self.seed = outcome, seed
        self.pipeline = make_model(outcome, seed)

    def _columns(self, X: np.ndarray) -> np.ndarray:
        # a feature the data never has (e.g. no admission route column) is a constant, not all-missing
        if self.empty.any():
            X = X.copy()
            X[:, self.empty] = 0.0
        return X

    def fit(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> FoldModel:
        """Fit on ``X``, ``y``; ``weight``: the cases' sampling weights (a stratified sample)."""
        self.empty = np.isnan(X).all(axis=0)
        self.pipeline.fit(self._columns(X), y, **({"model__sample_weight": weight} if weight is not None else {}))
        return self

    def _raw(self, X):
        """The pipeline's own prediction (the reference :meth:`predict` is checked against)."""
        X = self._columns(X)
        if self.outcome == "death":
            return self.pipeline.predict_proba(X)[:, 1]
        return self.pipeline.predict(X)

    def _linear_parts(self):
        """The fitted pipeline as (transformers of the few imputed columns, passthrough column indices,
        their weights, the weights of the transformed columns, intercept): the GLM's linear predictor
        with the scaler folded into the coefficients."""
        expand, scale, glm = (self.pipeline.named_steps[k] for k in ("expand", "scale", "model"))
        coef = np.ravel(glm.coef_) / scale.scale_
        intercept = float(np.ravel(np.atleast_1d(glm.intercept_))[0] - np.sum(np.ravel(glm.coef_) * scale.mean_ / scale.scale_))
        parts, rest = [], None
        for name, tr, cols in expand.transformers_:
            sl = expand.output_indices_[name]
            if name == "remainder":
                rest = np.zeros(expand.n_features_in_)
                rest[np.asarray(cols, dtype=np.int64)] = coef[sl]  # zero on the transformed columns
            elif tr != "drop" and sl.stop > sl.start:
                parts.append((tr, np.asarray(cols, dtype=np.int64), coef[sl]))
        return parts, rest, intercept

    def linear_predictor(self, X: np.ndarray) -> np.ndarray:
        """The GLM's linear predictor (logit of death, log of expected LOS or cost) computed column-wise: the
        fitted transformers on the few imputed columns, one dot product for the rest (``X`` may be given
        as float64 once for several models). Equal to the pipeline's own (tested), several times faster."""
        X = self._columns(X)
        if not hasattr(self, "_parts"):
            self._parts = self._linear_parts()
        parts, rest, eta0 = self._parts
        eta = np.full(len(X), eta0)
        for tr, cols, w in parts:
            eta += _dot(np.asarray(tr.transform(X[:, cols]), dtype=np.float64), w)
        if rest is not None:
            X64 = X if X.dtype == np.float64 else X.astype(np.float64)
            part = _dot(X64, rest)
            bad = np.flatnonzero(np.isnan(part))  # a missing value in a transformed column: 0 x NaN is NaN
            if len(bad):
                used = np.flatnonzero(rest)
                part[bad] = _dot(X64[np.ix_(bad, used)], rest[used])
            eta += part
        return eta

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Expected death probability, LOS or cost (before the region's calibration)."""
        eta = self.linear_predictor(X)
        return 1 / (1 + np.exp(-eta)) if self.outcome == "death" else np.exp(eta)


def region_calibration(outcome: str, y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None) -> float:
    """The calibration step: the region is the reference population (as in indirect standardisation and
    NHS SHMI, whose expected deaths are scaled so that the national total is observed), so predictions are
    calibrated in the large to the region's outcomes: for death a shift of the logit (the logistic
    recalibration intercept with the slope fixed at 1), for LOS and cost a factor Σy/Σŷ, both solved on
    cross-fitted predictions (``weight``: sampling weights back to the population). Returns the shift
    (death) or the factor."""
    ok = ~np.isnan(y) & ~np.isnan(p)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, float)
    y, p, w = y[ok], p[ok], w[ok]
    if outcome == "death":
        return logistic_fit(_logit(p), y, offset_only=True, weight=w)[0] if 0 < y.sum() < len(y) else 0.0
    return float((w * y).sum() / (w * p).sum()) if (w * p).sum() > 0 else 1.0


def calibrate(outcome: str, p: np.ndarray, step: float) -> np.ndarray:
    """Predictions after :func:`region_calibration`'s step."""
    if outcome == "death":
        return 1 / (1 + np.exp(-(_logit(p) + step)))
    return p * step


def fit_cross_fitted(sample: dict, encoder: Encoder, outcome: str, folds: int, seed: int) -> list:
    """One :class:`FoldModel` per fold, fitted on the sample's cases of the other folds (weighted by
    ``sample["weight"]`` when the sample is stratified), with DRG encodings that leave out both the model's
    fold and the training case's own fold."""
    y_all = sample[outcome]
    models = []
    for k in range(folds):  # (fitting is BLAS-bound and already uses every core: no gain from fold threads)
        train = (sample["fold"] != k) & ~np.isnan(y_all)
        assert not np.any(sample["fold"][train] == k)  # cross-fitting: fold k's cases never train model k
        enc = encoder.encode(sample["drg"][train], sample["adrg"][train], sample["fold"][train],
                             np.full(int(train.sum()), k), k)
        X = np.hstack([sample["X"][train], enc])
        weight = sample["weight"][train] if "weight" in sample else None
        models.append(FoldModel(outcome, seed + k).fit(X, y_all[train], weight))
    return models


def fold_matrix(X_base: np.ndarray, drg, adrg, at: np.ndarray, k: int, encoder: Encoder) -> np.ndarray:
    """The full feature matrix (float64) of the cases ``at`` of fold ``k``, their encodings leaving fold ``k`` out."""
    enc = encoder.encode(drg[at], adrg[at], np.full(len(at), k), np.full(len(at), k), k)
    return np.hstack([X_base[at], enc]).astype(np.float64)


def predict_cross_fitted(models: dict, X_base: np.ndarray, drg, adrg, fold: np.ndarray, encoder: Encoder) -> dict:
    """Per outcome, each case predicted by its own fold's model (never trained on it)."""
    from concurrent.futures import ThreadPoolExecutor

    out = {o: np.full(len(fold), np.nan) for o in models}
    folds = len(next(iter(models.values()))) if models else 0

    def one_fold(k: int) -> None:
        at = np.flatnonzero(fold == k)
        if len(at):
            X = fold_matrix(X_base, drg, adrg, at, k, encoder)  # once for every outcome's model
            for o, fold_models in models.items():
                out[o][at] = fold_models[k].predict(X)  # folds fill disjoint rows: the same result in any order

    # numpy and scikit-learn release the GIL in their heavy parts: folds run side by side on the cores
    with ThreadPoolExecutor(max_workers=max(1, min(folds, os.cpu_count() or 1))) as pool:
        list(pool.map(one_fold, range(folds)))
    return out


# -- the model report ---------------------------------------------------------------------------------

def death_metrics(y: np.ndarray, p: np.ndarray) -> dict:
    """c-statistic, Brier score, calibration intercept (in the large: the slope fixed at 1) and slope of
    held-out predictions (Steyerberg's validation measures)."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y, float)
    p = np.asarray(p, float)
    both = len(np.unique(y)) == 2
    lp = _logit(p)
    return {"c_statistic": float(roc_auc_score(y, p)) if both else float("nan"),
            "brier": float(np.mean((p - y) ** 2)),
            "calibration_intercept": logistic_fit(lp, y, offset_only=True)[0] if both else float("nan"),
            "calibration_slope": logistic_fit(lp, y)[1] if both else float("nan"),
            "observed_rate": float(y.mean()), "expected_rate": float(p.mean())}


def amount_metrics(y: np.ndarray, yhat: np.ndarray) -> dict:
    """For LOS and cost: R² on the original scale, O/E, and the slope of y on ŷ (1 = calibrated)."""
    y = np.asarray(y, float)
    yhat = np.asarray(yhat, float)
    ss = ((y - y.mean()) ** 2).sum()
    cov = np.cov(yhat, y, bias=True)
    return {"r2": float(1 - ((y - yhat) ** 2).sum() / ss) if ss > 0 else float("nan"),
            "oe_ratio": float(y.sum() / yhat.sum()) if yhat.sum() > 0 else float("nan"),
            "calibration_slope": float(cov[0, 1] / cov[0, 0]) if cov[0, 0] > 0 else float("nan"),
            "observed_mean": float(y.mean()), "expected_mean": float(yhat.mean())}


def decile_table(y: np.ndarray, p: np.ndarray) -> dict:
    """Observed vs expected by decile of predicted risk (columns: decile 1-10, cases, observed_sum, expected_sum:
    deaths, days or yuan)."""
    order = np.argsort(p, kind="stable")
    parts = np.array_split(order, 10)
    return {"decile": np.arange(1, 11), "cases": np.array([len(x) for x in parts]),
            "observed_sum": np.array([float(np.sum(y[x])) for x in parts]),
            "expected_sum": np.array([float(np.sum(p[x])) for x in parts])}
