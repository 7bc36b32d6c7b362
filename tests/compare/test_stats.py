"""Known answers and calibration of the comparison's statistics."""

from __future__ import annotations

import numpy as np

from explorer.compare.areas import share_p_values, share_ratio
from explorer.compare.panel import log_ratio


def test_share_p_values_are_calibrated_under_no_change():
    rng = np.random.default_rng(0)
    n_b, n_a = 4_000, 5_000
    shares = rng.uniform(0.001, 0.05, 2_000)
    x_b, x_a = rng.binomial(n_b, shares), rng.binomial(n_a, shares)
    p = share_p_values(x_b, x_a, n_b, n_a)
    # Exact tests of discrete counts are conservative: never more small p-values than due.
    assert np.mean(p < 0.01) <= 0.015
    assert np.mean(p < 0.2) > 0.1


def test_share_ratio_known_answers_and_coverage():
    point, low, high = share_ratio(100, 50, 1_000, 1_000)
    assert point == 0.5 and low < 0.5 < high and low > 0.3 and high < 0.75
    assert share_ratio(0, 12, 1_000, 1_000)[0] == float("inf")
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(400):
        x_b, x_a = rng.binomial(2_000, 0.01), rng.binomial(3_000, 0.02)
        _, lo, hi = share_ratio(x_b, x_a, 2_000, 3_000)
        covered += lo <= 2.0 <= hi
    assert covered / 400 >= 0.93


def test_log_ratio_of_geometric_means():
    before = np.array([10.0, 20.0, 40.0, 20.0])
    numbers = log_ratio(before, 2 * before)
    assert numbers is not None
    assert abs(numbers["change_ratio"] - 2) < 1e-9
    assert numbers["change_ratio_low"] < 2 < numbers["change_ratio_high"]
    assert abs(numbers["before"] - 20.0) < 1e-9
    assert numbers["before_low"] < 20.0 < numbers["before_high"]
    assert log_ratio(before[:1], before) is None
