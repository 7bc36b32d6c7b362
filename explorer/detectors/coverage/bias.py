"""``coverage_bias``: regions whose residents the panel samples far below or above the
rest, told one finding per region.

Each region's home devices are tested against what the typical rate (the
residents-weighted median of the regions' rates, :func:`rates.typical_rate`) predicts
from its residents, two-sided, under a gamma-Poisson law whose spread between regions is
estimated robustly (:func:`rates.robust_dispersion`): a region is surprising only
beyond the usual spread of regions, and a few planted outliers cannot widen that
yardstick. Benjamini-Hochberg runs across all regions tested. Severity rests on the
effect: the rate ratio (region / typical) at the conservative end of its exact
Poisson interval, against ``Config.coverage`` ratios. Regions are told one by one,
not grouped with their neighbours: they are the reference's own units (a census
tract, a district), named by the user, and a weight is made per region.

A coarse reference (cities from a gazetteer) caps every finding at low: a city's
residents and the panel's homes are not counted over the same area.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from explorer.binning.cells import cells_to_str
from explorer.detectors.context import Context
from explorer.detectors.coverage.rates import CoverageTable, coverage_table
from explorer.detectors.needs import DEVICE_IDS, REFERENCE, SEVERAL_DAYS, check
from explorer.detectors.places.common import plain
from explorer.findings import Finding, FindingKind
from explorer.stats import benjamini_hochberg, negative_binomial_sf, poisson_sf
from explorer.text import count

#: Residents at which the funnel's limits are given (log-spaced between the smallest
#: and the largest region).
FUNNEL_STEPS = 24
#: Normal quantiles of the funnel's two-sided limits: 95 % and 99.8 % (Spiegelhalter).
FUNNEL_LEVELS = {"95": 1.959964, "99.8": 3.090232}
#: The rate over all regions is told beside the typical one when they differ by more
#: than this share (a large region sampled apart pulls the pooled rate).
OVERALL_TOLD = 0.1


def count_sf(k: np.ndarray, expected: np.ndarray, alpha: float) -> np.ndarray:
    """P(X >= k) with mean ``expected``: Poisson, or negative binomial with variance
    E + αE² when the regions spread more than Poisson."""
    if alpha <= 0:
        return poisson_sf(k, expected)
    size = 1.0 / alpha
    return negative_binomial_sf(k, size, size / (size + np.asarray(expected, dtype=float)))


def two_sided_p(k: np.ndarray, expected: np.ndarray, alpha: float) -> np.ndarray:
    """Twice the smaller tail of seeing ``k`` home devices where ``expected`` were due."""
    upper = count_sf(k, expected, alpha)
    lower = 1.0 - count_sf(np.asarray(k, dtype=float) + 1, expected, alpha)
    return np.minimum(1.0, 2 * np.minimum(upper, lower))


def conservative_factor(ratio_low: np.ndarray, ratio_high: np.ndarray) -> np.ndarray:
    """How many times below or above the typical rate a region surely is: 1 / the high
    end of the ratio's interval when it lies under 1, the low end when above 1, else 1."""
    under = np.where(ratio_high < 1, 1 / np.maximum(ratio_high, 1e-12), 1.0)
    over = np.where(ratio_low > 1, ratio_low, 1.0)
    return np.maximum(under, over)


def severity_of(factor: float, cfg: Any) -> str | None:
    if factor >= cfg.high_ratio:
        return "high"
    if factor >= cfg.medium_ratio:
        return "medium"
    if factor >= cfg.low_ratio:
        return "low"
    return None


def tested_regions(table: CoverageTable) -> pl.DataFrame:
    """The regions with residents, each with its two-sided p-value, its conservative
    factor and whether Benjamini-Hochberg keeps it at ``fdr`` (set by the caller)."""
    regions = table.regions.filter(pl.col("residents") > 0).with_columns(
        (pl.col(f"rate{end}") / table.typical_rate).alias(f"typical_ratio{end}")
        for end in ("", "_low", "_high")
    )
    k = regions["home_devices"].to_numpy().astype(float)
    expected = regions["expected"].to_numpy().astype(float)
    p = two_sided_p(k, expected, table.dispersion)
    factor = conservative_factor(
        regions["typical_ratio_low"].to_numpy().astype(float),
        regions["typical_ratio_high"].to_numpy().astype(float),
    )
    return regions.with_columns(p_value=pl.Series(p), factor=pl.Series(factor))


@check(FindingKind.COVERAGE_BIAS.value, DEVICE_IDS, SEVERAL_DAYS, REFERENCE)
def detect_coverage_bias(ctx: Context) -> list[Finding]:
    """Regions covered far below or above the rest, against the reference's residents."""
    if ctx.reference is None or not ctx.has_devices:
        return []
    cfg = ctx.config.coverage
    table = coverage_table(ctx.summary, ctx.reference, ctx.config)
    if not table.typical_rate:
        return []
    regions = tested_regions(table)
    found = benjamini_hochberg(regions["p_value"].to_numpy(), ctx.config.severity.fdr)
    regions = regions.with_columns(discovery=pl.Series(found))
    flagged = regions.filter(pl.col("discovery") & (pl.col("factor") >= cfg.low_ratio))
    flagged = flagged.sort(["factor", "region_id"], descending=[True, False])
    funnel = funnel_series(table, regions, cfg.max_funnel_points)
    context = {"tested": regions.height, "flagged": flagged.height}
    out = []
    for row in flagged.head(ctx.config.severity.max_findings_per_kind).iter_rows(named=True):
        out.append(_finding(row, table, funnel, context, cfg))
    return out


def funnel_series(table: CoverageTable, regions: pl.DataFrame, most: int) -> dict[str, Any]:
    """The funnel plot: residents and rate of (at most ``most``, the most populous)
    regions, and the limits around the typical rate by residents at 95 % and 99.8 %."""
    shown = regions.sort(["residents", "region_id"], descending=[True, False]).head(most)
    points = [
        {"region_id": r["region_id"], "residents": r["residents"], "rate": r["rate"]}
        for r in shown.iter_rows(named=True)
    ]
    return {
        "typical_rate": table.typical_rate,
        "dispersion": table.dispersion,
        "points": points,
        "limits": funnel_limits(regions["residents"], table.typical_rate, table.dispersion),
    }


def funnel_limits(residents: pl.Series, typical: float, alpha: float) -> list[dict[str, float]]:
    """Rates (per 1,000) within which a region of so many residents falls at 95 % and
    99.8 % under the typical rate and the regions' spread (normal approximation of the
    gamma-Poisson count, floored at 0)."""
    low, high = float(residents.min() or 1.0), float(residents.max() or 1.0)
    steps = np.geomspace(max(low, 1.0), max(high, low * 1.01, 1.0), FUNNEL_STEPS)
    out = []
    for pop in steps:
        expected = typical * pop / 1_000.0
        sd = np.sqrt(expected + alpha * expected**2)
        record = {"residents": float(pop)}
        for name, z in FUNNEL_LEVELS.items():
            record[f"low_{name}"] = max(0.0, expected - z * sd) / pop * 1_000.0
            record[f"high_{name}"] = (expected + z * sd) / pop * 1_000.0
        out.append(record)
    return out


def _finding(
    row: dict[str, Any], table: CoverageTable, funnel: dict, context: dict, cfg: Any
) -> Finding:
    severity = severity_of(row["factor"], cfg) or "low"
    if table.coarse:
        severity = "low"
    cells = table.home_cells.filter(pl.col("region_id") == row["region_id"])
    listed = cells.height <= cfg.max_finding_cells
    under = row["typical_ratio"] < 1
    evidence = {
        "region_id": row["region_id"],
        "name": row["name"],
        "direction": "under" if under else "over",
        "residents": row["residents"],
        "home_devices": row["home_devices"],
        "expected_home_devices": row["expected"],
        "rate": row["rate"],
        "rate_low": row["rate_low"],
        "rate_high": row["rate_high"],
        "shrunk_rate": row["shrunk_rate"],
        "typical_rate": table.typical_rate,
        "overall_rate": table.overall_rate,
        "typical_ratio": row["typical_ratio"],
        "typical_ratio_low": row["typical_ratio_low"],
        "typical_ratio_high": row["typical_ratio_high"],
        "ratio": row["ratio"],
        "factor": row["factor"],
        "p_value": row["p_value"],
        "dispersion": table.dispersion,
        "weight": row["weight"],
        "coarse": table.coarse,
        "regions_tested": context["tested"],
        "regions_flagged": context["flagged"],
        "home_cells": cells.height,
        "cells_listed": listed,
        "funnel": _with_own_point(funnel, row),
    }
    return Finding(
        FindingKind.COVERAGE_BIAS.value,
        severity,
        float(row["factor"]),
        _title(evidence),
        _story(evidence),
        tuple(cells_to_str(cells["cell"].to_list())) if listed else (),
        plain(evidence),
        regions=(str(row["region_id"]),),
    )


def _with_own_point(funnel: dict, row: dict[str, Any]) -> dict:
    """The funnel with the finding's own region among its points."""
    points = funnel["points"]
    if any(p["region_id"] == row["region_id"] for p in points):
        return funnel
    own = {"region_id": row["region_id"], "residents": row["residents"], "rate": row["rate"]}
    return funnel | {"points": [*points, own]}


def rate_words(rate: float) -> str:
    """A rate per 1,000 for people: 0.93 -> '0.93', 4.14 -> '4.1', 123.4 -> '123'."""
    if rate >= 100:
        return f"{rate:,.0f}"
    return f"{rate:.2g}" if rate < 1 else f"{rate:.1f}".removesuffix(".0")


def times_words(factor: float) -> str:
    """A multiple for people: 4.46 -> '4.5', 12.3 -> '12'."""
    return f"{factor:.0f}" if factor >= 10 else f"{factor:.1f}"


def _title(ev: dict[str, Any]) -> str:
    how = "under" if ev["direction"] == "under" else "over"
    return (
        f"{ev['name']} is {how}-sampled: {rate_words(ev['rate'])} devices per 1,000 "
        f"residents against {rate_words(ev['typical_rate'])} in a typical region"
    )


def _story(ev: dict[str, Any]) -> str:
    under = ev["direction"] == "under"
    if under:
        low, high = 1 / ev["typical_ratio_high"], 1 / max(ev["typical_ratio_low"], 1e-12)
    else:
        low, high = ev["typical_ratio_low"], ev["typical_ratio_high"]
    against = f"{rate_words(ev['typical_rate'])} in a typical region"
    if abs(ev["overall_rate"] / ev["typical_rate"] - 1) > OVERALL_TOLD:
        against += f" ({rate_words(ev['overall_rate'])} over all regions)"
    tested = f"95 % interval; {count(ev['regions_tested'])} regions tested"
    if ev["home_devices"] == 0:
        text = (
            f"{ev['name']} has no device with a home there for its {count(ev['residents'])} "
            f"residents, where about {count(ev['expected_home_devices'])} were due at "
            f"{against} per 1,000 residents: anything counted here misses its residents (at "
            f"least {times_words(low)} times below the typical rate, {tested})."
        )
    else:
        point = 1 / ev["typical_ratio"] if under else ev["typical_ratio"]
        text = (
            f"{ev['name']} has {rate_words(ev['rate'])} devices per 1,000 residents against "
            f"{against}: anything counted here "
            f"{'under' if under else 'over'}-represents it about {times_words(point)} times. "
            f"Its {count(ev['home_devices'])} devices with a home there stand for "
            f"{count(ev['residents'])} residents, {times_words(low)} to {times_words(high)} "
            f"times {'below' if under else 'above'} the typical rate ({tested})."
        )
    text += (
        " Weight its devices by the coverage section's weights before counting people, or "
        "check whether the panel's source reaches this area."
    )
    if ev["coarse"]:
        text += (
            " The reference is coarse (cities from a gazetteer, not the area's own "
            "census), so this is a rough sign only."
        )
    return text
