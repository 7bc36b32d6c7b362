"""Coverage of a reference population: devices with a home per 1,000 residents in each
region, with small-count intervals, empirical-Bayes rates, the log-log fit and weights.

Homes come from :func:`explorer.summary.homes.home_table` under the rule of
``Config.coverage``. A confident home is placed in a region by its cell: for polygon
regions by where the cell's centre lies, for regions given as H3 cells by the home
cell's parent at the reference's resolution (or, for a finer reference, the reference
cell holding the home cell's centre). Devices without a confident home, and homes
outside every region, are counted, never guessed into a region.

Counts of home devices are treated as Poisson given a region's rate (the exact Garwood
interval); rates vary between regions more than Poisson (a gamma-Poisson model), which
the shrunk rates and the test of :mod:`explorer.detectors.coverage.bias` allow for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy import special

from explorer.binning.cells import cell_centres, cell_resolution, cells_to_parent, latlng_to_cells
from explorer.config import Config
from explorer.summary.homes import HomeRule, home_counts, home_table
from explorer.summary.tables import Summary

#: Residents per unit of the rate: rates are home devices per 1,000 residents.
PER_RESIDENTS = 1_000.0
#: Two-sided level of every interval (95 %).
ALPHA = 0.05
#: Median of a chi-squared variable with one degree of freedom: the median squared
#: Pearson residual of a well-specified count model.
_CHI2_1_MEDIAN = 0.454936
#: Regions expecting fewer home devices than this leave the dispersion alone: their
#: Pearson residuals are too discrete to say anything about the spread of rates.
_MIN_RESIDUAL_EXPECTED = 1.0


@dataclass(frozen=True)
class CoverageTable:
    """The panel's homes against a reference population.

    ``regions``: one row per reference region with ``region_id``, ``name``,
    ``residents``, ``home_devices``, ``expected`` (home devices at the typical rate),
    ``rate`` (home devices per 1,000 residents, null without residents), ``rate_low``
    and ``rate_high`` (exact Poisson 95 % interval), ``shrunk_rate`` (gamma-Poisson
    empirical Bayes), ``ratio`` (rate / overall) with ``ratio_low``/``ratio_high``,
    ``weight`` (post-stratification weight of each of its home devices, mean 1 over
    devices; null without homes or residents) and ``weight_capped``. ``overall_rate``
    pools all regions with residents; ``typical_rate`` (:func:`typical_rate`) is what a
    region is compared with, so that one large region sampled apart cannot drag the
    yardstick of all the others. ``homes`` counts
    devices by what home inference made of them (``home_counts``) plus ``in_regions``
    and ``outside``; ``fit`` is the log-log fit of home devices on residents;
    ``dispersion`` the robust between-region spread of rates (gamma-Poisson α, 0 =
    Poisson); ``home_cells`` the home devices per home cell with its region.
    """

    regions: pl.DataFrame
    overall_rate: float | None
    typical_rate: float | None
    fit: dict[str, Any]
    homes: dict[str, int]
    outside: int
    coarse: bool
    dispersion: float
    home_cells: pl.DataFrame = field(repr=False)


def home_rule(config: Config) -> HomeRule:
    """The home rule of ``config.coverage``."""
    cfg = config.coverage
    return HomeRule(cfg.home_resolution, cfg.min_nights, cfg.min_home_share)


def region_of_cells(cells: pl.Series, reference: Any) -> pl.Series:
    """The reference region of each home cell (null outside every region)."""
    if reference.cells is None:
        lat, lon = cell_centres(cells)
        return reference.region_of_points(lat, lon)
    lookup = reference.cells.select(pl.col("cell").cast(pl.UInt64), pl.col("region_id"))
    if lookup.is_empty() or cells.is_empty():
        return pl.Series("region_id", [None] * cells.len(), dtype=pl.String)
    ref_res = cell_resolution(int(lookup["cell"][0]))
    home_res = cell_resolution(int(cells[0]))
    if ref_res <= home_res:
        keys = cells_to_parent(cells.cast(pl.UInt64), ref_res)
    else:
        lat, lon = cell_centres(cells)
        keys = latlng_to_cells(lat, lon, ref_res)
    keyed = pl.DataFrame({"cell": keys.cast(pl.UInt64)})
    joined = keyed.join(lookup.unique("cell", keep="first"), on="cell", how="left")
    return joined["region_id"]


def device_homes(summary: Summary, reference: Any, config: Config) -> pl.DataFrame:
    """Devices with a confident home: ``device`` (hash), ``home`` (cell) and
    ``region_id`` (null when the home lies outside every region)."""
    table = home_table(summary, home_rule(config)).filter(pl.col("reason").is_null())
    cells = table["home"].unique().sort()
    placed = pl.DataFrame({"home": cells, "region_id": region_of_cells(cells, reference)})
    return table.select("device", "home").join(placed, on="home", how="left")


def garwood(k: np.ndarray, level: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson interval of the mean behind counts ``k`` (Garwood, two-sided)."""
    k = np.asarray(k, dtype=float)
    low = np.where(k > 0, special.gammaincinv(np.maximum(k, 1e-300), level / 2), 0.0)
    high = special.gammaincinv(k + 1.0, 1 - level / 2)
    return low, high


def typical_rate(k: np.ndarray, exposure: np.ndarray, overall: float, min_expected: float) -> float:
    """The residents-weighted median rate of the regions expecting at least
    ``min_expected`` home devices at the ``overall`` rate; ``overall`` itself with fewer
    than 3 such regions. Unlike the pooled rate, a region holding 40 % of the residents
    and sampled four times less leaves it where the other regions are."""
    use = exposure * overall >= min_expected
    if use.sum() < 3:
        return overall
    rates, weights = k[use] / exposure[use], exposure[use]
    order = np.argsort(rates, kind="stable")
    cumulative = np.cumsum(weights[order])
    middle = np.searchsorted(cumulative, cumulative[-1] / 2)
    return float(rates[order][middle]) or overall


def robust_dispersion(k: np.ndarray, expected: np.ndarray, min_regions: int) -> float:
    """Gamma-Poisson α (variance E + αE²) at which the median squared Pearson residual
    is that of a chi-squared variable: robust to up to half the regions being off, so
    the regions being looked for do not widen their own yardstick. 0 (Poisson) with
    fewer than ``min_regions`` regions expecting a home or more."""
    use = expected >= _MIN_RESIDUAL_EXPECTED
    k, e = np.asarray(k, float)[use], np.asarray(expected, float)[use]
    if k.size < max(min_regions, 2):
        return 0.0

    def median_z2(alpha: float) -> float:
        return float(np.median((k - e) ** 2 / (e + alpha * e**2)))

    if median_z2(0.0) <= _CHI2_1_MEDIAN:
        return 0.0
    low, high = 0.0, 1.0
    while median_z2(high) > _CHI2_1_MEDIAN and high < 1e6:
        low, high = high, high * 4
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if median_z2(mid) > _CHI2_1_MEDIAN else (low, mid)
    return high


def gamma_poisson_shrink(k: np.ndarray, exposure: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Empirical-Bayes rates: each k / exposure pulled towards the pooled rate by its size.

    Fits a Gamma(a, b) prior to the rates of all units with exposure by the method of
    moments (the gamma-Poisson analogue of ``stats.beta_binomial_shrink``) and returns
    the posterior means (k + a) / (exposure + b) with a and b. With no spread beyond
    Poisson every rate is pulled to the pooled one.
    """
    k = np.asarray(k, dtype=float)
    x = np.asarray(exposure, dtype=float)
    keep = x > 0
    pooled = k[keep].sum() / x[keep].sum() if keep.any() else 0.0
    if pooled <= 0:
        return np.where(keep, 0.0, np.nan), 0.0, 0.0
    e = pooled * x[keep]
    alpha = max(float(((k[keep] - e) ** 2 - k[keep]).sum() / (e**2).sum()), 1e-6)
    a = 1.0 / alpha
    b = a / pooled
    return np.where(keep, (k + a) / (x + b), np.nan), a, b


def loglog_fit(home_devices: np.ndarray, residents: np.ndarray) -> dict[str, Any]:
    """Least-squares fit of log(home devices) on log(residents) over regions with both:
    slope (1 = proportional coverage) with its 95 % t interval, intercept, r² and n."""
    use = (home_devices > 0) & (residents > 0)
    n = int(use.sum())
    empty = {"slope": None, "slope_low": None, "slope_high": None, "intercept": None}
    if n < 3:
        return empty | {"r2": None, "n": n}
    x, y = np.log(residents[use].astype(float)), np.log(home_devices[use].astype(float))
    sxx = float(((x - x.mean()) ** 2).sum())
    if sxx <= 0:
        return empty | {"r2": None, "n": n}
    slope = float(((x - x.mean()) * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * x.mean())
    residual = y - intercept - slope * x
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((residual**2).sum()) / total if total > 0 else 1.0
    se = float(np.sqrt((residual**2).sum() / (n - 2) / sxx))
    half = float(special.stdtrit(n - 2, 1 - ALPHA / 2)) * se
    return {
        "slope": slope,
        "slope_low": slope - half,
        "slope_high": slope + half,
        "intercept": intercept,
        "r2": r2,
        "n": n,
    }


def region_weights(
    home_devices: np.ndarray, residents: np.ndarray, max_to_median: float
) -> tuple[np.ndarray, np.ndarray]:
    """Post-stratification weight of each home device of a region (residents per home
    device), capped at ``max_to_median`` times the median device's weight and then
    scaled to mean 1 over devices; NaN where a region has no home or no residents.
    Returns (weights, capped)."""
    k = np.asarray(home_devices, dtype=float)
    pop = np.asarray(residents, dtype=float)
    usable = (k > 0) & (pop > 0)
    raw = np.where(usable, pop / np.where(k > 0, k, 1.0), np.nan)
    if not usable.any():
        return raw, np.zeros(k.size, dtype=bool)
    order = np.argsort(raw[usable])
    sorted_raw, sorted_k = raw[usable][order], k[usable][order]
    cumulative = np.cumsum(sorted_k)
    median = sorted_raw[np.searchsorted(cumulative, cumulative[-1] / 2)]
    cap = max_to_median * median
    capped = usable & (raw > cap)
    weights = np.where(capped, cap, raw)
    mean = float((weights[usable] * k[usable]).sum() / k[usable].sum())
    return weights / mean, capped


def coverage_table(summary: Summary, reference: Any, config: Config) -> CoverageTable:
    """Home devices, rates, intervals, shrunk rates, ratios and weights per region."""
    cfg = config.coverage
    homes = device_homes(summary, reference, config)
    inside = homes.filter(pl.col("region_id").is_not_null())
    per_region = inside.group_by("region_id").agg(home_devices=pl.len().cast(pl.Int64))
    regions = (
        reference.regions.select("region_id", "name", residents=pl.col("population"))
        .join(per_region, on="region_id", how="left")
        .with_columns(pl.col("home_devices").fill_null(0))
    )
    k = regions["home_devices"].to_numpy().astype(float)
    pop = regions["residents"].to_numpy().astype(float)
    exposure = pop / PER_RESIDENTS
    with_residents = pop > 0
    overall = typical = None
    if with_residents.any():
        overall = float(k[with_residents].sum() / exposure[with_residents].sum())
        typical = typical_rate(k, exposure, overall, cfg.typical_min_expected)
    columns = _rate_columns(k, exposure, overall, cfg.max_weight_to_median)
    columns["expected"] = np.where(exposure > 0, exposure * (typical or 0.0), np.nan)
    capped = pl.Series("weight_capped", columns.pop("weight_capped"), dtype=pl.Boolean)
    numbers = [pl.Series(name, values, dtype=pl.Float64) for name, values in columns.items()]
    regions = regions.with_columns(*numbers, capped).with_columns(pl.col(pl.Float64).fill_nan(None))
    expected = regions["expected"].fill_null(0.0).to_numpy()
    dispersion = robust_dispersion(
        k[with_residents], expected[with_residents], cfg.min_dispersion_regions
    )
    counts = home_counts(summary, home_rule(config))
    counts |= {"in_regions": inside.height, "outside": homes.height - inside.height}
    home_cells = (
        homes.group_by(pl.col("home").alias("cell"), "region_id")
        .agg(home_devices=pl.len().cast(pl.Int64))
        .sort("cell")
    )
    return CoverageTable(
        regions=regions,
        overall_rate=overall,
        typical_rate=typical,
        fit=loglog_fit(k, pop),
        homes=counts,
        outside=counts["outside"],
        coarse=bool(reference.coarse),
        dispersion=dispersion,
        home_cells=home_cells,
    )


def _rate_columns(
    k: np.ndarray, exposure: np.ndarray, overall: float | None, max_to_median: float
) -> dict[str, np.ndarray]:
    """The per-region numbers of :class:`CoverageTable` (NaN where undefined)."""
    has = exposure > 0
    safe = np.where(has, exposure, 1.0)
    low, high = garwood(k)
    rate = np.where(has, k / safe, np.nan)
    rate_low, rate_high = np.where(has, low / safe, np.nan), np.where(has, high / safe, np.nan)
    shrunk, _, _ = gamma_poisson_shrink(k, exposure)
    weights, capped = region_weights(k, exposure * PER_RESIDENTS, max_to_median)
    base = overall if overall else np.nan
    return {
        "rate": rate,
        "rate_low": rate_low,
        "rate_high": rate_high,
        "shrunk_rate": shrunk,
        "ratio": rate / base,
        "ratio_low": rate_low / base,
        "ratio_high": rate_high / base,
        "weight": weights,
        "weight_capped": capped,
    }
