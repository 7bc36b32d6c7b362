"""Areas of a comparison and the ``area_share_changed`` check.

Devices are the unit: each device counts once, in its main area (the area holding most
of its pings), so an area's share of the panel is a proportion of devices that sums to
one over areas, and densifying every device's pings moves no share. Areas are H3
parents of the analysis cells, a few levels coarser, chosen so that the typical
device's area holds enough devices on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.binning.cells import (
    cell_area_km2,
    cells_to_parent,
    cells_to_str,
    connected_components,
)
from explorer.compare.changes import Change, ChangeKind
from explorer.config.compare import CompareConfig
from explorer.stats import benjamini_hochberg, binomial_sf, wilson_interval
from explorer.summary import Summary
from explorer.text import count, pct, plural, ratio


def _device_area_pings(summary: Summary) -> pl.DataFrame:
    """(device, area, pings) at the summary's own resolution (area = cell)."""
    cells = summary.tables["cell_devices"]
    if cells.is_empty():
        return pl.DataFrame(schema={"device": pl.UInt64, "area": pl.UInt64, "pings": pl.Int64})
    return cells.select(
        "device", area=pl.col("cell").cast(pl.UInt64), pings=pl.col("pings").cast(pl.Int64)
    )


def _coarser(pairs: pl.DataFrame, resolution: int) -> pl.DataFrame:
    """(device, area, pings) with areas replaced by their parents at ``resolution``."""
    if pairs.is_empty():
        return pairs
    parents = cells_to_parent(pairs["area"], resolution).cast(pl.UInt64)
    return pairs.with_columns(area=parents).group_by("device", "area").agg(pl.col("pings").sum())


def main_areas(pairs: pl.DataFrame) -> pl.DataFrame:
    """(device, area): each device's area with most pings (ties: the smallest id)."""
    return (
        pairs.sort(["device", "pings", "area"], descending=[False, True, False])
        .group_by("device", maintain_order=True)
        .agg(pl.col("area").first())
    )


def _typical_devices(main: pl.DataFrame) -> float:
    """Devices in the typical device's main area (device-weighted median of areas)."""
    if main.is_empty():
        return 0.0
    sizes = np.sort(main.group_by("area").agg(n=pl.len())["n"].to_numpy())
    weights = np.cumsum(sizes)
    return float(sizes[np.searchsorted(weights, weights[-1] / 2)])


@dataclass(frozen=True)
class Areas:
    """Each side's devices in their main areas at the chosen resolution."""

    resolution: int
    before: pl.DataFrame
    after: pl.DataFrame


def choose_areas(before: Summary, after: Summary, config: CompareConfig) -> Areas:
    """The finest resolution (from the analysis's, up to the coarsest allowed) whose
    typical main area holds ``area_typical_devices`` devices on both sides."""
    pairs = [_device_area_pings(before), _device_area_pings(after)]
    res = before.resolution
    floor = min(res, config.coarsest_area_resolution)
    while True:
        mains = [main_areas(p) for p in pairs]
        enough = min(_typical_devices(m) for m in mains) >= config.area_typical_devices
        if enough or res <= floor:
            return Areas(res, mains[0], mains[1])
        res -= 1
        pairs = [_coarser(p, res) for p in pairs]


def area_table(areas: Areas) -> pl.DataFrame:
    """One row per area seen on either side: area, before, after (devices whose main
    area it is), before_share, after_share, p_value (two-sided, conditional binomial)."""
    counts = [
        m.group_by("area").agg(pl.len().cast(pl.Int64).alias(name))
        for m, name in ((areas.before, "before"), (areas.after, "after"))
    ]
    table = counts[0].join(counts[1], on="area", how="full", coalesce=True).fill_null(0)
    n_b, n_a = max(areas.before.height, 1), max(areas.after.height, 1)
    x_b, x_a = table["before"].to_numpy(), table["after"].to_numpy()
    return table.with_columns(
        before_share=pl.Series(x_b / n_b),
        after_share=pl.Series(x_a / n_a),
        p_value=pl.Series(share_p_values(x_b, x_a, n_b, n_a)),
    ).sort("area")


def share_p_values(x_b: np.ndarray, x_a: np.ndarray, n_b: int, n_a: int) -> np.ndarray:
    """Two-sided p-value of equal device shares: given the area's devices on both sides,
    the after ones are Binomial(total, n_a / (n_a + n_b)) under no change (exact for
    small counts; conservative for large shares)."""
    total = (x_b + x_a).astype(float)
    p0 = n_a / (n_a + n_b)
    upper = binomial_sf(x_a, total, p0)
    lower = 1.0 - binomial_sf(x_a + 1, total, p0)
    return np.minimum(1.0, 2 * np.minimum(upper, lower))


def share_ratio(x_b: float, x_a: float, n_b: int, n_a: int) -> tuple[float, float, float]:
    """After share over before share, with the interval of the conditional binomial
    (Wilson on the after devices' part of the area's total)."""
    low, high = (float(v) for v in wilson_interval(x_a, x_a + x_b))
    scale = n_b / n_a
    point = (x_a / n_a) / (x_b / n_b) if x_b else float("inf")

    def odds(p: float) -> float:
        return p / (1 - p) * scale if p < 1 else float("inf")

    return point, odds(low), odds(high)


def detect_area_shares(areas: Areas, config: CompareConfig) -> tuple[list[Change], pl.DataFrame]:
    """``area_share_changed`` changes, and the table of every area (for a diff map)."""
    table = area_table(areas)
    n_b, n_a = areas.before.height, areas.after.height
    if not n_b or not n_a:
        return [], table
    tested = table.filter(pl.max_horizontal("before", "after") >= config.min_area_devices)
    if tested.is_empty():
        return [], table
    found = benjamini_hochberg(tested["p_value"].to_numpy(), config.fdr)
    ratios = (tested["after_share"] / tested["before_share"]).to_numpy()
    far = (ratios >= config.low_area_ratio) | (ratios <= 1 / config.low_area_ratio)
    flagged = tested.filter(pl.Series(found & far))
    changes = []
    for direction, rising in (("rose", True), ("fell", False)):
        side = flagged.filter((pl.col("after_share") > pl.col("before_share")) == rising)
        for members in connected_components(side["area"].to_list()):
            group = side.filter(pl.col("area").is_in(members))
            changes.append(_share_change(group, direction, areas.resolution, n_b, n_a, config))
    return changes, table


def _severity(conservative: float, points: float, config: CompareConfig) -> str:
    if conservative >= config.high_area_ratio and points >= config.high_share_points:
        return "high"
    if conservative >= config.medium_area_ratio and points >= config.medium_share_points:
        return "medium"
    return "low"


def _share_change(
    group: pl.DataFrame, direction: str, resolution: int, n_b: int, n_a: int, config: CompareConfig
) -> Change:
    x_b, x_a = int(group["before"].sum()), int(group["after"].sum())
    point, low, high = share_ratio(x_b, x_a, n_b, n_a)
    conservative = low if direction == "rose" else (1 / high if high > 0 else float("inf"))
    shares = (x_b / n_b, x_a / n_a)
    points = abs(shares[1] - shares[0])
    severity = _severity(conservative, points, config)
    expected = x_b * n_a / n_b
    (b_low, a_low), (b_high, a_high) = wilson_interval(np.array([x_b, x_a]), np.array([n_b, n_a]))
    p_value = float(share_p_values(np.array([x_b]), np.array([x_a]), n_b, n_a)[0])
    cells = tuple(cells_to_str(sorted(group["area"].to_list())))
    evidence = {
        "direction": direction,
        "area_resolution": resolution,
        "areas": len(cells),
        "before_devices": x_b,
        "after_devices": x_a,
        "before_panel_devices": n_b,
        "after_panel_devices": n_a,
        "before_share": shares[0],
        "before_share_low": float(b_low),
        "before_share_high": float(b_high),
        "after_share": shares[1],
        "after_share_low": float(a_low),
        "after_share_high": float(a_high),
        "share_ratio": point if np.isfinite(point) else None,
        "share_ratio_low": low,
        "share_ratio_high": high if np.isfinite(high) else None,
        "expected_after_devices": round(expected, 1),
        "device_difference": round(x_a - expected, 1),
        "p_value": p_value,
    }
    return Change(
        kind=ChangeKind.AREA_SHARE_CHANGED,
        subject=direction,
        severity=severity,
        score=round(100 * points, 4),
        title=_title(direction, shares, point),
        story=_story(direction, cells, resolution, shares, (n_b, n_a), (low, high), x_a - expected),
        cells=cells,
        evidence=evidence,
    )


def _title(direction: str, shares: tuple[float, float], point: float) -> str:
    times = f"{ratio(point)} the share" if np.isfinite(point) else "none before"
    return (
        f"An area's share of devices {direction} from {pct(shares[0])} to {pct(shares[1])} "
        f"({times})"
    )


def _story(direction, cells, resolution, shares, totals, interval, excess) -> str:
    area_km2 = len(cells) * cell_area_km2(resolution)
    place = f"{plural(len(cells), 'area')} of about {count(area_km2)} km²"
    low, high = interval
    bound = f"{ratio(low)} to {ratio(high)}" if np.isfinite(high) else f"at least {ratio(low)}"
    more = "more" if excess > 0 else "fewer"
    return (
        f"Devices whose pings mostly fall in {place} were {pct(shares[0])} of "
        f"{count(totals[0])} devices before and {pct(shares[1])} of {count(totals[1])} after: "
        f"the share {direction} beyond the panel's own change (after over before {bound}). "
        f"That is about {plural(abs(excess), 'device')} {more} than the panel's change "
        "predicts there. A supplier, an app or an SDK version may have been added or "
        "dropped in this area; counts of people there do not compare between the "
        "deliveries until that is checked."
    )
