"""Expected pings per UTC hour of the period, and how far an hour's count may stray:
the model that ``panel_gap`` and ``partial_period`` both judge the time line against.

An hour expects its day's level times its hour of the day's usual share of a level
(on weekdays, or on weekends). The level is a rolling median of whole days' totals
(hole-sized days left out, so a hole does not lower its own expectation); the shares
are trimmed means over whole days, so a few odd days move neither. Pings cluster by
device, so counts stray more than Poisson: the dispersion (quasi-Poisson) is estimated
robustly from the hours' Pearson residuals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special

from explorer.config.panel import PanelGapsConfig

#: The scale of a normal distribution's median absolute deviation (MAD * 1.4826 = sd).
_MAD_TO_SD = 1.4826
#: Hours expecting fewer pings than this leave the dispersion alone (their residuals
#: are dominated by rounding to whole pings).
_MIN_RESIDUAL_EXPECTED = 5.0


@dataclass(frozen=True)
class HourlyModel:
    """Observed and expected pings per UTC hour (hours since the epoch), with the
    dispersion of hourly counts around their expectation (1 = Poisson)."""

    hours: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    dispersion: float

    @property
    def total_expected(self) -> float:
        return float(self.expected.sum())


def hourly_model(
    hourly: pl.DataFrame, period_hours: pl.DataFrame, config: PanelGapsConfig
) -> HourlyModel | None:
    """The expected pings of every hour of ``hourly`` (see
    :func:`explorer.summary.panel.hourly_pings`), or None with too few whole UTC days.

    ``period_hours`` (hour, local day, pings) tells which UTC hours fall on a local
    weekend: weekend hours have their own profile (no commute, later mornings).
    """
    if hourly.is_empty():
        return None
    hours = hourly["hour"].to_numpy().astype(np.int64)
    observed = hourly["pings"].to_numpy().astype(np.float64)
    first_day = int(hours[0] // 24)
    grid = np.full((int(hours[-1] // 24) - first_day + 1, 24), np.nan)
    rows, cols = hours // 24 - first_day, hours % 24
    grid[rows, cols] = observed
    whole = ~np.isnan(grid).any(axis=1)
    totals = np.where(whole, np.nansum(grid, axis=1), np.nan)
    if np.count_nonzero(whole) < config.min_whole_days:
        return None
    if float(np.nanmax(totals)) <= 0:
        return None
    usable = usable_days(totals, config)
    level = rolling_median(np.where(usable, totals, np.nan), config.level_window_days // 2)
    weekend = weekend_grid(period_hours, first_day, grid.shape[0])
    relative = grid / np.where(level > 0, level, np.nan)[:, None]
    profile = np.empty(grid.shape)
    for flag in (False, True):
        cells = usable[:, None] & (weekend == flag)
        if np.count_nonzero(cells.sum(axis=0) >= 2) < 24:
            cells = np.broadcast_to(usable[:, None], grid.shape)
        means = [trimmed_mean(relative[cells[:, k], k], config.trim_share) for k in range(24)]
        profile = np.where(weekend == flag, np.array(means)[None, :], profile)
    expected_grid = level[:, None] * profile
    dispersion = _dispersion(grid[usable].ravel(), expected_grid[usable].ravel())
    return HourlyModel(hours, observed, expected_grid[rows, cols], dispersion)


def weekend_grid(period_hours: pl.DataFrame, first_day: int, days: int) -> np.ndarray:
    """Whether each (UTC day, UTC hour) of the grid falls on a local Saturday or Sunday.

    The local day of an hour is its UTC day plus the offset (-2..+2 days) most of the
    data's pings show at that hour of the day, so empty hours get one too.
    """
    hour = period_hours["hour"].to_numpy().astype(np.int64)
    local = period_hours["day"].cast(pl.Int32).to_numpy().astype(np.int64)
    weight = period_hours["pings"].to_numpy().astype(np.float64)
    shift = np.clip(local - hour // 24, -2, 2) + 2
    votes = np.zeros((24, 5))
    np.add.at(votes, (hour % 24, shift), weight)
    offset = votes.argmax(axis=1) - 2
    utc_day = np.arange(first_day, first_day + days)[:, None]
    # 1970-01-01, day 0, was a Thursday: weekday (Monday 0) is (day + 3) mod 7.
    return (utc_day + offset[None, :] + 3) % 7 >= 5


def trimmed_mean(values: np.ndarray, trim: float) -> float:
    """Mean after dropping a ``trim`` share of the values at each end (a hole's zeros
    and a spike's excess both fall off; unlike a median, sparse hours keep their mean)."""
    values = np.sort(values[~np.isnan(values)])
    cut = int(trim * values.size)
    kept = values[cut : values.size - cut]
    return float(kept.mean()) if kept.size else 0.0


def usable_days(totals: np.ndarray, config: PanelGapsConfig) -> np.ndarray:
    """Whole days (not NaN) that are not themselves hole-sized: at least the low ratio
    of the median day around them (a panel that grows, or data empty on most days,
    keeps its own level)."""
    around = rolling_median(totals, config.level_window_days // 2)
    with np.errstate(invalid="ignore"):
        return totals >= config.low_hour_ratio * around


def rolling_median(values: np.ndarray, half_width: int) -> np.ndarray:
    """Median of the non-NaN values within ``half_width`` places either side of each
    place (the median of all of them where a window holds none)."""
    out = np.empty(values.size)
    overall = float(np.nanmedian(values))
    for i in range(values.size):
        window = values[max(0, i - half_width) : i + half_width + 1]
        known = window[~np.isnan(window)]
        out[i] = float(np.median(known)) if known.size else overall
    return out


def _dispersion(observed: np.ndarray, expected: np.ndarray) -> float:
    """Robust quasi-Poisson dispersion: the squared MAD-scale of Pearson residuals
    (at least 1: counts of pings stray at least as much as Poisson counts)."""
    keep = expected >= _MIN_RESIDUAL_EXPECTED
    if np.count_nonzero(keep) < 2:
        return 1.0
    residuals = (observed[keep] - expected[keep]) / np.sqrt(expected[keep])
    spread = _MAD_TO_SD * float(np.median(np.abs(residuals - np.median(residuals))))
    return max(1.0, spread**2)


def shortfall_p(seen: np.ndarray, expected: np.ndarray, dispersion: float) -> np.ndarray:
    """One-sided p-value of seeing ``seen`` pings or fewer where ``expected`` were due,
    under a quasi-Poisson law: seen / dispersion ~ Poisson(expected / dispersion)."""
    seen = np.asarray(seen, dtype=np.float64) / dispersion
    mean = np.asarray(expected, dtype=np.float64) / dispersion
    return np.where(mean > 0, special.gammaincc(seen + 1.0, np.maximum(mean, 1e-300)), 1.0)


def expected_range(expected: float, dispersion: float, z: float = 1.96) -> tuple[float, float]:
    """The 95 % range of pings a normal span expecting ``expected`` holds (quasi-Poisson)."""
    half = z * float(np.sqrt(dispersion * max(expected, 0.0)))
    return max(0.0, expected - half), expected + half
