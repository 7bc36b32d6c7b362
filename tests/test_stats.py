"""Tail probabilities from scipy.special agree with scipy.stats' distributions."""

import numpy as np
import pytest
from scipy import stats as sps

from explorer.stats import binomial_sf, chi2_sf, negative_binomial_sf, poisson_sf

RNG = np.random.default_rng(20261127)
K = np.concatenate([RNG.integers(-3, 80, 3000).astype(float), RNG.uniform(-2, 80, 500), [0, 1]])
N = RNG.integers(0, 80, K.size).astype(float)
P = np.concatenate([RNG.uniform(0, 1, K.size - 2), [0.0, 1.0]])
MU = np.concatenate([RNG.uniform(0, 60, K.size - 2), [0.0, 5.0]])


def test_binomial_sf_is_p_of_at_least_k():
    expected = sps.binom.sf(np.floor(K) - 1, N, P)
    np.testing.assert_allclose(binomial_sf(K, N, P), expected, rtol=1e-9, atol=1e-12)
    # By hand: two fair coins, at least one head.
    assert binomial_sf(np.array([1.0]), np.array([2.0]), 0.5)[0] == pytest.approx(0.75)


def test_poisson_sf_is_p_of_at_least_k():
    expected = sps.poisson.sf(np.floor(K) - 1, MU)
    np.testing.assert_allclose(poisson_sf(K, MU), expected, rtol=1e-9, atol=1e-12)
    assert poisson_sf(np.array([1.0]), np.array([1.0]))[0] == pytest.approx(1 - np.exp(-1))


def test_negative_binomial_sf_is_p_of_at_least_k():
    size = RNG.uniform(0.05, 50, K.size)
    p = size / (size + MU)
    expected = sps.nbinom.sf(np.floor(K) - 1, size, p)
    np.testing.assert_allclose(negative_binomial_sf(K, size, p), expected, rtol=1e-9, atol=1e-12)


def test_chi2_sf():
    x = RNG.uniform(0, 100, 2000)
    dof = RNG.integers(1, 40, 2000)
    np.testing.assert_allclose(chi2_sf(x, dof), sps.chi2.sf(x, dof), rtol=1e-12)
    assert chi2_sf(3.841458820694124, 1) == pytest.approx(0.05)
