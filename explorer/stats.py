"""Small, shared statistics: intervals, shrinkage, multiple testing, distances.

Computed here, judged elsewhere: detectors decide what is significant with thresholds
from config.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def wilson_interval(
    k: np.ndarray | float, n: np.ndarray | float, z: float = 1.96
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial share k/n (works with n = 0: [0, 1])."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    safe_n = np.where(n > 0, n, 1.0)
    p = np.where(n > 0, k / safe_n, 0.5)
    denom = 1 + z**2 / safe_n
    centre = (p + z**2 / (2 * safe_n)) / denom
    half = z * np.sqrt(p * (1 - p) / safe_n + z**2 / (4 * safe_n**2)) / denom
    low = np.where(n > 0, np.clip(centre - half, 0, 1), 0.0)
    high = np.where(n > 0, np.clip(centre + half, 0, 1), 1.0)
    return low, high


# Tail probabilities come from scipy.special's incomplete gamma and beta functions, the
# same ones scipy.stats evaluates, without importing scipy.stats (slow to import).


def binomial_sf(k: np.ndarray, n: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """P(X >= k) for X ~ Binomial(n, p): the one-sided p-value of an excess."""
    k = np.floor(np.asarray(k, dtype=float))
    n = np.asarray(n, dtype=float)
    inside = (k >= 1) & (k <= n)
    a, b = np.where(inside, k, 1.0), np.where(inside, n - k + 1, 1.0)
    return np.where(k <= 0, 1.0, np.where(k > n, 0.0, special.betainc(a, b, p)))


def poisson_sf(k: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """P(X >= k) for X ~ Poisson(mu)."""
    below = np.floor(np.asarray(k, dtype=float)) - 1
    mu = np.asarray(mu, dtype=float)
    return np.where(below < 0, 1.0, special.pdtrc(np.clip(below, 0, None), mu))


def negative_binomial_sf(k: np.ndarray, size: np.ndarray | float, p: np.ndarray) -> np.ndarray:
    """P(X >= k) for X ~ NegativeBinomial(size, p) (failures before ``size`` successes)."""
    below = np.floor(np.asarray(k, dtype=float)) - 1
    tail = special.betainc(np.clip(below, 0, None) + 1, size, 1 - np.asarray(p, dtype=float))
    return np.where(below < 0, 1.0, tail)


def chi2_sf(x: np.ndarray | float, dof: np.ndarray | int) -> np.ndarray:
    """P(X >= x) for X ~ chi-squared with ``dof`` degrees of freedom."""
    return special.chdtrc(dof, x)


def benjamini_hochberg(p_values: np.ndarray, q: float) -> np.ndarray:
    """Boolean mask of discoveries at false-discovery rate ``q`` (Benjamini–Hochberg)."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(p)
    thresholds = q * np.arange(1, m + 1) / m
    passed = p[order] <= thresholds
    mask = np.zeros(m, dtype=bool)
    if passed.any():
        last = np.max(np.nonzero(passed)[0])
        mask[order[: last + 1]] = True
    return mask


def beta_binomial_shrink(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Empirical-Bayes shares: each k/n pulled towards the pooled share by its size.

    Fits a Beta(a, b) prior to all units by the method of moments and returns the
    posterior means (k + a) / (n + a + b) with the prior's a and b. Small units move
    most; this is how a cell of three devices stops looking extreme.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    keep = n > 0
    if keep.sum() < 2:
        pooled = k.sum() / max(n.sum(), 1.0)
        return np.full_like(k, pooled), pooled, 1 - pooled
    p = k[keep] / n[keep]
    pooled = k[keep].sum() / n[keep].sum()
    w = n[keep]
    var = np.average((p - pooled) ** 2, weights=w)
    mean_inv_n = np.mean(1.0 / w)
    binomial_var = pooled * (1 - pooled) * mean_inv_n
    between = max(var - binomial_var, 1e-6 * pooled * (1 - pooled) + 1e-12)
    strength = max(pooled * (1 - pooled) / between - 1.0, 1e-3)
    a, b = pooled * strength, (1 - pooled) * strength
    return (k + a) / (n + a + b), a, b


def total_variation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total-variation distance between distributions along the last axis (0..1)."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    p = p / np.clip(p.sum(axis=-1, keepdims=True), 1e-12, None)
    q = q / np.clip(q.sum(axis=-1, keepdims=True), 1e-12, None)
    return 0.5 * np.abs(p - q).sum(axis=-1)


def chi_square_sf(observed: np.ndarray, expected_share: np.ndarray) -> np.ndarray:
    """Homogeneity p-value of each row of counts against an expected distribution."""
    observed = np.atleast_2d(np.asarray(observed, dtype=float))
    share = np.asarray(expected_share, dtype=float)
    share = share / share.sum()
    n = observed.sum(axis=1, keepdims=True)
    expected = np.clip(n * share, 1e-9, None)
    stat = ((observed - expected) ** 2 / expected).sum(axis=1)
    dof = max(int((share > 0).sum()) - 1, 1)
    return chi2_sf(stat, dof)
