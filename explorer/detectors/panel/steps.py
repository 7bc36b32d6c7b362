"""The panel's daily series and their change-point statistics: the metrics tested,
which days are whole, the weekly rhythm taken out, each series' one best step with its
permutation p-value, the trends it must beat, and a bootstrap interval of its size.

Computed here, judged and told in :mod:`explorer.detectors.panel.shift`. Series are
numpy arrays over consecutive calendar days, NaN where a day is left out; every random
procedure takes a seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from explorer.detectors.context import UNKNOWN_TYPE, Context

_WEEK = 7
#: A centred week needs this many whole days to give a rolling median (one hole allowed).
_MIN_IN_WEEK = 6
#: Days on each side whose median a day is compared with when deciding it is whole.
_NEIGHBOURS = 3


@dataclass(frozen=True)
class Metric:
    """One daily series tested for a step: raw values per calendar day (NaN where
    undefined) and the scale it is tested on (log for counts, log-odds for shares)."""

    name: str
    device_type: str | None
    values: np.ndarray
    scaled: np.ndarray

    @property
    def is_share(self) -> bool:
        return self.name == "type_share"


@dataclass(frozen=True)
class Step:
    """The best single step of a series: ``at`` is the position (among the series'
    days) of the first day after it; means are on the series' own scale."""

    at: int
    days: int
    statistic: float
    p_value: float
    mean_before: float
    mean_after: float
    low: float
    high: float
    beats_trend: bool

    @property
    def difference(self) -> float:
        return self.mean_after - self.mean_before


def panel_metrics(ctx: Context, daily: pl.DataFrame) -> list[Metric]:
    """The series to test: devices a day, pings per device and each main type's share
    of devices with device ids; pings a day alone without (more devices and denser
    tracking cannot be told apart then)."""
    if not ctx.has_devices:
        pings = daily["pings"].to_numpy().astype(float)
        return [Metric("pings", None, pings, _log(pings))]
    devices = daily["devices"].to_numpy().astype(float)
    per_device = daily["pings_per_device"].fill_null(np.nan).to_numpy().astype(float)
    enough = devices >= ctx.config.panel_shift.min_devices_a_day
    metrics = [
        Metric("devices", None, devices, _log(devices)),
        Metric("pings_per_device", None, per_device, np.where(enough, _log(per_device), np.nan)),
    ]
    return metrics + [
        replace(m, scaled=np.where(enough, m.scaled, np.nan))
        for m in _type_shares(ctx, daily, devices)
    ]


def _type_shares(ctx: Context, daily: pl.DataFrame, devices: np.ndarray) -> list[Metric]:
    """Each main known type's share of the devices a day, when two or more are known."""
    types = ctx.daily_types.filter(pl.col("device_type") != UNKNOWN_TYPE)
    totals = types.group_by("device_type").agg(pl.col("devices").sum())
    main = totals.filter(
        pl.col("devices") >= ctx.config.panel_shift.min_type_share * totals["devices"].sum()
    )["device_type"].sort()
    if main.len() < 2:
        return []
    out = []
    for name in main:
        per_day = daily.select("day").join(
            types.filter(pl.col("device_type") == name), on="day", how="left"
        )["devices"]
        k = per_day.fill_null(0).to_numpy().astype(float)
        share = np.where(devices > 0, k / np.maximum(devices, 1), np.nan)
        logit = np.log((k + 0.5) / (devices - k + 0.5))
        out.append(Metric("type_share", name, share, np.where(devices > 0, logit, np.nan)))
    return out


def _log(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(values > 0, np.log(values), np.nan)


def whole_days(pings: np.ndarray, edge_share: float, inside_share: float) -> np.ndarray:
    """Mask of days that hold a whole day's pings.

    A day is left out when it is empty, or when it holds under a share of the pings of
    the days around it: ``edge_share`` for the first and last day (a delivery that starts
    or ends mid-day), ``inside_share`` for the others (a hole, which panel_gap tells).
    Each side's median of up to three days is taken and the lower one compared, so
    the first days after a step down are not taken for holes.
    """
    pings = np.asarray(pings, dtype=float)
    n = pings.size
    keep = pings > 0
    for i in range(n):
        before = pings[max(0, i - _NEIGHBOURS) : i]
        after = pings[i + 1 : i + 1 + _NEIGHBOURS]
        sides = [float(np.median(side)) for side in (before, after) if side.size]
        if not sides:
            continue
        share = edge_share if i in (0, n - 1) else inside_share
        keep[i] &= pings[i] >= share * min(sides)
    return keep


def weekday_adjusted(values: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """``values`` less each weekday's median departure from a centred 7-day rolling
    median (the effects centred on zero, so levels stay); NaN days stay NaN.

    A rolling median follows a step without smearing it, so the departures hold the
    weekly rhythm and not the step; a weekday's median over the weeks ignores the one
    or two days next to a step.
    """
    values = np.asarray(values, dtype=float)
    padded = np.pad(values, _WEEK // 2, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, _WEEK)
    enough = np.sum(~np.isnan(windows), axis=1) >= _MIN_IN_WEEK
    rolling = np.full(values.size, np.nan)
    if enough.any():
        rolling[enough] = np.nanmedian(windows[enough], axis=1)
    departure = values - rolling
    effects = np.zeros(_WEEK)
    for day in range(_WEEK):
        seen = departure[(weekdays == day) & ~np.isnan(departure)]
        if seen.size:
            effects[day] = np.median(seen)
    effects -= effects.mean()
    return values - effects[weekdays]


def split_statistics(x: np.ndarray, min_side: int) -> np.ndarray:
    """Two-sample t statistics (pooled within-side spread) of every split of each row
    of ``x`` (shape (rows, n)) leaving ``min_side`` days or more on each side; column j
    is the split before day ``min_side + j``. Vectorised with cumulative sums."""
    x = x - x.mean(axis=1, keepdims=True)
    n = x.shape[1]
    k = np.arange(min_side, n - min_side + 1)
    sums, squares = np.cumsum(x, axis=1), np.cumsum(x * x, axis=1)
    s1, q1 = sums[:, k - 1], squares[:, k - 1]
    s2, q2 = sums[:, -1:] - s1, squares[:, -1:] - q1
    rss = (q1 - s1**2 / k) + (q2 - s2**2 / (n - k))
    spread = np.sqrt(np.maximum(rss, 0.0) / (n - 2))
    scale = np.maximum(spread, 1e-9) * np.sqrt(1 / k + 1 / (n - k))
    return (s2 / (n - k) - s1 / k) / scale


def best_step(
    x: np.ndarray,
    positions: np.ndarray,
    min_side: int,
    permutations: int,
    resamples: int,
    seed: int,
) -> Step | None:
    """The split of ``x`` (whole days only, ``positions`` their calendar day indices)
    with the largest |t|, None when the series is too short for one.

    Its p-value is that of the largest |t| over all splits among ``permutations``
    shuffles of the days (so searching the split is paid for); the step must also fit
    better than a straight line by BIC (a steady trend is not a step); the interval of
    its difference of means is a 95 % bootstrap over the days of each side.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 2 * min_side or np.ptp(x) == 0:
        return None
    observed = np.abs(split_statistics(x[None, :], min_side)[0])
    j = int(np.argmax(observed))
    at = min_side + j
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.tile(x, (permutations, 1)), axis=1)
    extremes = np.abs(split_statistics(shuffled, min_side)).max(axis=1)
    p_value = (1 + int(np.sum(extremes >= observed[j] - 1e-12))) / (permutations + 1)
    before, after = x[:at], x[at:]
    draws = rng.choice(after, (resamples, after.size)).mean(axis=1) - rng.choice(
        before, (resamples, before.size)
    ).mean(axis=1)
    low, high = np.quantile(draws, [0.025, 0.975])
    return Step(
        at=at,
        days=n,
        statistic=float(observed[j]),
        p_value=float(p_value),
        mean_before=float(before.mean()),
        mean_after=float(after.mean()),
        low=float(low),
        high=float(high),
        beats_trend=_step_beats_trends(x, positions, at, min_side),
    )


def _step_beats_trends(x: np.ndarray, positions: np.ndarray, at: int, min_side: int) -> bool:
    """Whether a step at ``at`` (two means and a split: 3 parameters) has a lower BIC
    than a straight line (2) and than the best line broken once (4: a growth that
    slows or starts, as an app's adoption): a trend of weeks is not a step of a day."""
    n = x.size
    t = positions.astype(float) - positions.mean()
    step_rss = np.sum((x[:at] - x[:at].mean()) ** 2) + np.sum((x[at:] - x[at:].mean()) ** 2)
    line = np.column_stack([np.ones(n), t])
    kinks = t[min_side : n - min_side]
    design = np.concatenate(
        [np.broadcast_to(line, (kinks.size, n, 2)), np.maximum(t - kinks[:, None], 0)[..., None]],
        axis=2,
    )
    bic = [
        _bic(step_rss, n, 3),
        _bic(_least_squares_rss(line[None], x)[0], n, 2),
        _bic(_least_squares_rss(design, x).min(), n, 4) if kinks.size else np.inf,
    ]
    return bool(bic[0] < min(bic[1:]))


def _least_squares_rss(design: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Residual sums of squares of ``x`` on each of a stack of designs (k, n, p)."""
    gram = np.einsum("knp,knq->kpq", design, design)
    moments = np.einsum("knp,n->kp", design, x)
    beta = np.linalg.solve(gram + 1e-9 * np.eye(gram.shape[1]), moments[..., None])[..., 0]
    fitted = np.einsum("knp,kp->kn", design, beta)
    return np.sum((x - fitted) ** 2, axis=1)


def _bic(rss: float, n: int, parameters: int) -> float:
    return float(n * np.log(max(rss, 1e-12 * n) / n) + parameters * np.log(n))
