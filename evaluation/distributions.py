"""The distribution functions the evaluation uses, straight from :mod:`scipy.special`.

``scipy.stats`` computes each of these with the same :mod:`scipy.special` function, wrapped in generic code that
checks the arguments and sets the ends of the support. Importing ``scipy.stats`` costs about 1.2 s of every
command (scipy parses hundreds of docstrings at import); :mod:`scipy.special` costs 0.2 s. These functions give the
same bits as their ``scipy.stats`` counterparts, ends and invalid arguments included (``tests/test_distributions.py``
compares them on random and edge inputs). Names follow ``scipy.stats``: ``norm_ppf(q)`` is ``stats.norm.ppf(q)``.
"""

from __future__ import annotations

import numpy as np
from scipy import special as sc

_NORM_PDF_C = np.sqrt(2 * np.pi)


def _f(*values) -> list[np.ndarray]:
    return [np.asarray(v, dtype=float) for v in np.broadcast_arrays(*values)]


def _out(a: np.ndarray):
    """A 0-d result as a NumPy scalar, as scipy.stats returns it."""
    a = np.asarray(a, dtype=float)
    return a[()] if a.ndim == 0 else a


def _quantile(q, ok, inner, low, high):
    """A ppf's cases: ``inner`` for 0 < q < 1 where the arguments are valid, ``low``/``high`` at q = 0 / 1, NaN
    otherwise. ``inner * 1.0 + 0.0`` is how scipy.stats applies scale and location (a -0.0 becomes 0.0)."""
    with np.errstate(all="ignore"):
        return _out(np.where(ok & (q > 0) & (q < 1), inner * 1.0 + 0.0,
                             np.where(ok & (q == 0), low, np.where(ok & (q == 1), high, np.nan))))


def _nan_in(x, y):
    """scipy.stats's NaN (positive) where the argument is NaN."""
    return _out(np.where(np.isnan(x), np.nan, y))


def norm_cdf(x):
    (x,) = _f(x)
    return _nan_in(x, sc.ndtr(x))


def norm_sf(x):
    (x,) = _f(x)
    return _nan_in(x, sc.ndtr(-x))


def norm_pdf(x):
    (x,) = _f(x)
    return _nan_in(x, np.exp(-x**2 / 2.0) / _NORM_PDF_C / 1.0)


def norm_ppf(q):
    (q,) = _f(q)
    return _quantile(q, True, sc.ndtri(q), -np.inf, np.inf)


def norm_isf(q):
    (q,) = _f(q)
    return _quantile(q, True, -sc.ndtri(q), np.inf, -np.inf)


def chi2_ppf(q, df):
    q, df = _f(q, df)
    with np.errstate(all="ignore"):
        inner = 2 * sc.gammaincinv(df / 2, q)
    return _quantile(q, df > 0, inner, 0.0, np.inf)


def t_ppf(q, df):
    q, df = _f(q, df)
    with np.errstate(all="ignore"):
        inner = sc.stdtrit(df, q)
    return _quantile(q, df > 0, inner, -np.inf, np.inf)


def t_isf(q, df):
    q, df = _f(q, df)
    with np.errstate(all="ignore"):
        inner = -sc.stdtrit(df, q)
    return _quantile(q, df > 0, inner, np.inf, -np.inf)


def t_sf(x, df):
    x, df = _f(x, df)
    with np.errstate(all="ignore"):
        inner = sc.stdtr(df, -x)
    ok = df > 0
    return _out(np.where(ok & (x > -np.inf) & (x < np.inf), inner,
                         np.where(~ok | np.isnan(x), np.nan, np.where(x == -np.inf, 1.0, 0.0))))


def chi2_sf(x, df):
    x, df = _f(x, df)
    with np.errstate(all="ignore"):
        inner = sc.chdtrc(df, x)
    ok = df > 0
    return _out(np.where(ok & (x > 0) & (x < np.inf), inner,
                         np.where(~ok | np.isnan(x), np.nan, np.where(x <= 0, 1.0, 0.0))))


def f_sf(x, dfn, dfd):
    x, dfn, dfd = _f(x, dfn, dfd)
    with np.errstate(all="ignore"):
        inner = sc.fdtrc(dfn, dfd, x)
    ok = (dfn > 0) & (dfd > 0)
    return _out(np.where(ok & (x > 0) & (x < np.inf), inner,
                         np.where(~ok | np.isnan(x), np.nan, np.where(x <= 0, 1.0, 0.0))))


def _gamma(x, a, scale, upper: bool):
    x, a, scale = _f(x, a, scale)
    with np.errstate(all="ignore"):
        x = x / scale
        inner = (sc.gammaincc if upper else sc.gammainc)(a, x)
    ok = (a > 0) & (scale > 0)
    low, high = (1.0, 0.0) if upper else (0.0, 1.0)
    return _out(np.where(ok & (x > 0) & (x < np.inf), inner,
                         np.where(~ok | np.isnan(x), np.nan, np.where(x <= 0, low, high))))


def gamma_cdf(x, a, scale=1.0):
    return _gamma(x, a, scale, upper=False)


def gamma_sf(x, a, scale=1.0):
    return _gamma(x, a, scale, upper=True)


def _poisson(k, mu, upper: bool):
    k, mu = _f(k, mu)
    with np.errstate(all="ignore"):
        inner = np.clip((sc.pdtrc if upper else sc.pdtr)(np.floor(k), mu), 0, 1)
    ok = mu >= 0
    outside = np.where(k < 0, 1.0, 0.0) if upper else np.where(k == np.inf, 1.0, 0.0)  # below or above the support
    return _out(np.where(ok & (k >= 0) & np.isfinite(k), inner, np.where(~ok | np.isnan(k), np.nan, outside)))


def poisson_cdf(k, mu):
    return _poisson(k, mu, upper=False)


def poisson_sf(k, mu):
    return _poisson(k, mu, upper=True)


def poisson_ppf(q, mu):
    """The smallest k with P(K <= k) >= q (scipy's poisson._ppf: the inverse by ``pdtrik``, stepped down by one
    where that already reaches q)."""
    q, mu = _f(q, mu)
    with np.errstate(all="ignore"):
        vals = np.ceil(sc.pdtrik(q, mu))
        vals1 = np.maximum(vals - 1, 0)
        inner = np.where(sc.pdtr(vals1, mu) >= q, vals1, vals)
    ok = mu >= 0
    with np.errstate(all="ignore"):
        return _out(np.where(ok & (q > 0) & (q < 1), inner + 0,
                             np.where(ok & (q == 0), -1.0, np.where(ok & (q == 1), np.inf, np.nan))))
