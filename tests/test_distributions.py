"""evaluation.distributions gives the bits of scipy.stats (which it replaces to spare 1.2 s of import per command),
on random arguments and on the ends: q = 0 and 1, x at ±inf, 0 and NaN, invalid parameters."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from evaluation import distributions as d

EDGES = [0.0, -0.0, 1.0, 0.5, -1.0, 2.0, np.inf, -np.inf, np.nan, 1e-300, 1 - 1e-16, 1e-12, 3.0, 7.5, 1e6]


def _same(a, b) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    assert type(a[()]) is type(b[()]) if a.ndim == 0 else True
    assert np.array_equal(a, b, equal_nan=True)
    assert np.array_equal(np.signbit(a), np.signbit(b))  # 0.0 and -0.0 are different bytes in an output


CASES = [  # (ours, scipy's, number of arguments)
    (d.norm_cdf, stats.norm.cdf, 1), (d.norm_sf, stats.norm.sf, 1), (d.norm_pdf, stats.norm.pdf, 1),
    (d.norm_ppf, stats.norm.ppf, 1), (d.norm_isf, stats.norm.isf, 1), (d.chi2_ppf, stats.chi2.ppf, 2), (d.chi2_sf, stats.chi2.sf, 2),
    (d.t_ppf, stats.t.ppf, 2), (d.t_isf, stats.t.isf, 2), (d.t_sf, stats.t.sf, 2), (d.f_sf, stats.f.sf, 3), (d.poisson_cdf, stats.poisson.cdf, 2),
    (d.poisson_sf, stats.poisson.sf, 2), (d.poisson_ppf, stats.poisson.ppf, 2),
]


@pytest.mark.parametrize("ours, theirs, k", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_the_ends_and_invalid_arguments_as_scipy_stats(ours, theirs, k):
    grid = np.array(np.meshgrid(*[EDGES] * k)).reshape(k, -1)
    with np.errstate(all="ignore"):
        _same(ours(*grid), theirs(*grid))
        for point in grid.T[:: max(1, grid.shape[1] // 40)]:  # scalars come back as NumPy scalars, as scipy's
            _same(ours(*point), theirs(*point))


@pytest.mark.parametrize("ours, theirs", [(d.gamma_cdf, stats.gamma.cdf), (d.gamma_sf, stats.gamma.sf)])
def test_gamma_with_a_scale_as_scipy_stats(ours, theirs):
    x, a, s = np.array(np.meshgrid(EDGES, EDGES, [0.5, 1.0, 3.0, -1.0, np.nan])).reshape(3, -1)
    with np.errstate(all="ignore"):
        _same(ours(x, a, scale=s), theirs(x, a, scale=s))


floats = st.floats(min_value=-50, max_value=5000, allow_nan=False)
probabilities = st.floats(min_value=0, max_value=1)


@settings(max_examples=60, deadline=None)
@given(q=st.lists(probabilities, min_size=1, max_size=30), x=st.lists(floats, min_size=1, max_size=30),
       p=st.floats(min_value=0.01, max_value=400), p2=st.floats(min_value=0.01, max_value=400))
def test_random_arguments_give_the_bits_of_scipy_stats(q, x, p, p2):
    q, x = np.array(q), np.array(x)
    k = np.floor(np.abs(x) / 10)  # counts, as the funnels pass them
    with np.errstate(all="ignore"):
        for ours, theirs in ((d.norm_ppf, stats.norm.ppf), (d.norm_isf, stats.norm.isf)):
            _same(ours(q), theirs(q))
        for ours, theirs in ((d.norm_cdf, stats.norm.cdf), (d.norm_sf, stats.norm.sf), (d.norm_pdf, stats.norm.pdf)):
            _same(ours(x / 100), theirs(x / 100))
        _same(d.chi2_ppf(q, p), stats.chi2.ppf(q, p))
        _same(d.t_ppf(q, p), stats.t.ppf(q, p))
        _same(d.t_sf(x / 100, p), stats.t.sf(x / 100, p))
        _same(d.f_sf(x / 100, p, p2), stats.f.sf(x / 100, p, p2))
        _same(d.poisson_ppf(q, p), stats.poisson.ppf(q, p))
        _same(d.poisson_cdf(k, p), stats.poisson.cdf(k, p))
        _same(d.poisson_sf(k, p), stats.poisson.sf(k, p))
        _same(d.gamma_cdf(x, p, scale=p2 / 10), stats.gamma.cdf(x, p, scale=p2 / 10))
        _same(d.gamma_sf(x, p, scale=p2 / 10), stats.gamma.sf(x, p, scale=p2 / 10))
