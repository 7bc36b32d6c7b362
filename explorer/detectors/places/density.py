"""Density spikes: cells holding far more distinct devices than their neighbourhood predicts.

Devices are the unit (one busy phone is a device concentration, not a crowd). Each
cell is tested at two scales, so a venue is found whether it fits in one cell or
straddles several: the cell alone against rings 1..2 around it, and the cell with its
first ring (7 cells) against rings 2..3. The expectation of a scale is the robust level
(the median slot) of its nearest ring, raised by that ring's rise over the next one to
the power the city's own cells show (a smooth peak continues its rise only partly; a
venue's rings are flat). Counts are compared with a negative-binomial tail whose
overdispersion is estimated from all cells, and Benjamini–Hochberg controls false
discoveries across cells. The effect is the cell's excess of devices with an interval.

Neighbours are found among cell centres with a k-d tree (the centres of ring k lie
within k centre spacings, ring k + 1's nearest about 0.87 (k + 1) away), so no per-cell
H3 call is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.binning.cells import (
    cell_edge_km,
    cells_to_str,
    connected_components,
)
from explorer.detectors.context import Context
from explorer.detectors.needs import DEVICE_IDS, check
from explorer.detectors.places.common import near_null_island, plain
from explorer.detectors.places.points import pileup_cells
from explorer.detectors.places.rings import (
    Neighbourhood,
    neighbourhood,
    ring_level,
    ring_slots,
    with_sea_slots,
)
from explorer.findings import Finding, FindingKind
from explorer.stats import benjamini_hochberg, negative_binomial_sf, poisson_sf
from explorer.text import count, plural, ratio

#: Rings searched: the cell-with-first-ring scale compares against rings 2 and 3.
_RINGS = 3
#: 1.96: the two-sided 95 % normal quantile of the excess's interval.
_Z95 = 1.96


def rise_exponent(observed, inner, outer, floor: float, cfg) -> float:
    """How far a cell continues its rings' rise, as the city's own cells show it.

    Among cells whose inner ring rises notably over the outer one, the median of
    log(observed / inner) / log(inner / outer): 1 would be a cusp, 0 a flat top. A few
    venues do not move a median of hundreds of cells; with too few such cells the full
    rise (1, the cautious choice) is assumed.
    """
    rise = np.log((inner + floor) / (outer + floor))
    use = (outer >= cfg.spike_gradient_min_devices) & (rise > np.log(cfg.spike_gradient_min_rise))
    if use.sum() < cfg.spike_gradient_min_cells:
        return 1.0
    continued = np.log((observed[use] + floor) / (inner[use] + floor)) / rise[use]
    return float(np.clip(np.median(continued), 0.0, 1.0))


def _moments_alpha(x: np.ndarray, mu: np.ndarray) -> float:
    return float(max(((x - mu) ** 2 - x).sum() / (mu**2).sum(), 0.0))


def nb_overdispersion(observed: np.ndarray, expected: np.ndarray, trim: float) -> float:
    """Method-of-moments α of a negative binomial (variance μ + αμ²).

    The cells with the largest standardised excesses (share ``trim``, under the α of the
    previous pass) are left out and α estimated again, twice, so that the spikes being
    looked for do not inflate the yardstick: a crowd in a dense cell weighs μ² in it.
    """
    use = expected > 0
    x, mu = observed[use], expected[use]
    if x.size < 10:
        return 1.0
    alpha = _moments_alpha(x, mu)
    for _ in range(2 if trim > 0 else 0):
        residual = (x - mu) / np.sqrt(mu + alpha * mu**2)
        keep = residual <= np.quantile(residual, 1 - trim)
        alpha = _moments_alpha(x[keep], mu[keep])
    return alpha


def nb_sf(observed: np.ndarray, expected: np.ndarray, alpha: float) -> np.ndarray:
    """P(X ≥ observed) under a negative binomial with mean ``expected`` and overdispersion α."""
    if alpha <= 1e-9:
        return poisson_sf(observed, expected)
    size = 1.0 / alpha
    return negative_binomial_sf(observed, size, size / (size + expected))


@dataclass(frozen=True)
class ScaleTest:
    """One scale's observed and expected device counts, per cell, with its α and p."""

    observed: np.ndarray
    expected: np.ndarray
    centre: np.ndarray
    alpha: float
    p_value: np.ndarray


def _scale_test(observed, inner, outer, ring_cells: int, cfg, coarse: bool) -> ScaleTest:
    """Test ``observed`` (devices of the cell, or of the cell with ``ring_cells`` ring
    neighbours) against the inner ring's level raised along the rings' rise (the full
    rise in ``coarse`` cells, which hold a whole sub-centre)."""
    floor = cfg.spike_min_expected
    cells = 1 + ring_cells
    beta = 1.0 if coarse else rise_exponent(observed / cells, inner, outer, floor, cfg)
    step = np.clip((inner + floor) / (outer + floor), 1.0, cfg.spike_max_gradient) ** beta
    centre = inner * step * (step if ring_cells else 1.0)
    expected = np.maximum(centre + ring_cells * inner * step, floor * cells)
    alpha = max(
        nb_overdispersion(observed, expected, cfg.spike_trim_share), cfg.spike_min_overdispersion
    )
    p_value = nb_sf(observed, expected, alpha)
    return ScaleTest(observed, expected, np.maximum(centre, floor), alpha, p_value)


def _coarse(ctx: Context) -> bool:
    """Whether cells are wide enough to hold a city's sub-centre whole."""
    return cell_edge_km(ctx.resolution) >= ctx.config.places.spike_full_rise_edge_km


def _busiest_device_pings(ctx: Context, cells: pl.DataFrame) -> np.ndarray:
    """Pings of each cell's busiest device (0 where no device id is known)."""
    top = ctx.summary.tables["cell_devices"].group_by("cell").agg(top=pl.col("pings").max())
    joined = cells.select("cell").join(top, on="cell", how="left", maintain_order="left")
    return joined["top"].fill_null(0).to_numpy().astype(float)


def _ping_ratio(ctx: Context, cells: pl.DataFrame, hood: Neighbourhood) -> tuple:
    """(expected pings, ping ratio) told beside the devices: the cell's pings with its
    busiest device counted as a typical one, against its first ring's level."""
    cfg = ctx.config.places
    per_cell = ctx.summary.tables["cell_devices"]["pings"].to_numpy()
    per_device = max(float(np.median(per_cell)), 1.0) if per_cell.size else 1.0
    pings = cells["pings"].to_numpy().astype(float)
    robust = np.maximum(pings - _busiest_device_pings(ctx, cells), 0.0) + np.round(per_device)
    inner, outer = ring_level(pings, hood, 1), ring_level(pings, hood, 2)
    floor = cfg.spike_min_expected * per_device
    expected = _scale_test(pings, inner, outer, 0, cfg, _coarse(ctx)).expected
    return expected, robust / (np.maximum(expected, floor) + per_device)


def _scores(cells: pl.DataFrame, hood: Neighbourhood, ctx: Context) -> pl.DataFrame:
    """Per cell: both scales' tests, the cell's expected devices and excess with its
    95 % interval, and the p-value of the better scale (doubled when both are looked at)."""
    cfg = ctx.config.places
    devices = cells["devices"].to_numpy().astype(float)
    levels = [ring_level(devices, hood, r) for r in range(1, _RINGS + 1)]
    first_ring = np.append(devices, 0.0)[hood.index]
    disk = devices + np.where(hood.ring == 1, first_ring, 0.0).sum(axis=1)
    coarse = _coarse(ctx)
    alone = _scale_test(devices, levels[0], levels[1], 0, cfg, coarse)
    with_ring = _scale_test(disk, levels[1], levels[2], ring_slots(1), cfg, coarse)
    # Cells of a few hundred metres hold a whole venue; only finer ones need the ring
    # (with coarser cells the 7-cell disk is a sub-centre's size).
    looks = 2 if cell_edge_km(ctx.resolution) < cfg.spike_ring_scale_max_edge_km else 1
    wide = (looks == 2) & (with_ring.p_value < alone.p_value)
    own = np.where(wide, with_ring.centre, alone.expected)
    alpha = np.where(wide, with_ring.alpha, alone.alpha)
    # The excess is the count minus the neighbourhood's prediction; its spread is the
    # count's own (Poisson) and the prediction's cell-to-cell variation (α·μ²).
    spread = _Z95 * np.sqrt(devices + alpha * own**2)
    padded = np.append(devices, 0.0)[hood.index]
    in_hood = (hood.ring >= 1) & (hood.ring <= cfg.spike_ring)
    mu_pings, ping_ratio = _ping_ratio(ctx, cells, hood)
    padded_pings = np.append(cells["pings"].to_numpy().astype(float), 0.0)[hood.index]
    n_slots = ring_slots(cfg.spike_ring)
    return cells.with_columns(
        mean_devices=pl.Series(np.where(in_hood, padded, 0.0).sum(axis=1) / n_slots),
        mean_pings=pl.Series(np.where(in_hood, padded_pings, 0.0).sum(axis=1) / n_slots),
        mu_devices=pl.Series(own),
        mu_pings=pl.Series(mu_pings),
        ratio_devices=pl.Series((devices + 1) / (own + 1)),
        ratio=pl.Series(ping_ratio),
        excess=pl.Series(devices - own),
        excess_low=pl.Series(devices - own - spread),
        excess_high=pl.Series(devices - own + spread),
        scale=pl.Series(wide.astype(np.int8)),
        disk_devices=pl.Series(disk),
        disk_expected=pl.Series(with_ring.expected),
        p_value=pl.Series(
            np.minimum(looks * np.where(wide, with_ring.p_value, alone.p_value), 1.0)
        ),
        alpha_devices=pl.Series(alpha),
        alpha_alone=pl.lit(alone.alpha),
        alpha_ring=pl.lit(with_ring.alpha),
    )


@check(FindingKind.DENSITY_SPIKE.value, DEVICE_IDS)
def detect_density_spike(ctx: Context) -> list[Finding]:
    """Cells holding far more distinct devices than their ring of neighbours predicts."""
    cfg = ctx.config.places
    # Null island is told by its own detector; its cell would always be a spike.
    cells = ctx.cells.select("cell", "pings", "devices", "lat", "lon").filter(
        ~near_null_island(pl.col("lat"), pl.col("lon"), cfg.null_island_radius_deg)
    )
    if cells.height < 2:
        return []
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    rings = max(cfg.spike_ring, _RINGS)
    hood = with_sea_slots(neighbourhood(lat, lon, ctx.resolution, rings), cells["cell"], rings)
    scored = _scores(cells, hood, ctx).with_row_index("row")
    found = benjamini_hochberg(scored["p_value"].to_numpy(), ctx.config.severity.fdr)
    flagged = scored.filter(
        pl.Series(found)
        & (pl.col("ratio_devices") >= cfg.spike_min_ratio)
        & (pl.col("excess_low") >= cfg.spike_min_excess_devices)
        & (pl.col("devices") >= ctx.config.severity.min_devices)
    )
    # A coordinate pileup makes its cell dense; the pileup finding tells it.
    flagged = flagged.filter(
        ~pl.col("cell").is_in(pl.Series(pileup_cells(ctx), dtype=pl.UInt64).implode())
    )
    if flagged.is_empty():
        return []
    by_cell = {
        int(c): r for c, r in zip(flagged["cell"], flagged.iter_rows(named=True), strict=True)
    }
    findings = [
        _spike_finding(ctx, [by_cell[c] for c in component], hood, cells)
        for component in connected_components(by_cell, k=1)
    ]
    findings.sort(key=lambda f: -f.score)
    return findings[: ctx.config.severity.max_findings_per_kind]


def _spike_severity(ctx: Context, top: dict) -> str:
    """Medium from a sure excess of a crowd's size at a clear ratio; high from a larger
    ratio or a larger sure excess; in coarse cells at most ``spike_coarse_severity``."""
    cfg = ctx.config.places
    if (
        top["excess_low"] < cfg.spike_medium_devices
        or top["ratio_devices"] < cfg.spike_medium_ratio
    ):
        return "low"
    if _coarse(ctx):
        return cfg.spike_coarse_severity
    if top["ratio_devices"] >= cfg.spike_high_ratio or top["excess_low"] >= cfg.spike_high_devices:
        return "high"
    return "medium"


def _neighbour_counts(column: str, row: int, hood: Neighbourhood, cells, k: int) -> list[int]:
    """The ``column`` counts of a cell's ring 1..k slots (empty slots 0), largest first."""
    index, ring = hood.index[row], hood.ring[row]
    occupied = (ring >= 1) & (ring <= k)
    values = np.zeros(ring_slots(k), dtype=np.int64)
    values[: occupied.sum()] = cells[column].to_numpy()[index[occupied]]
    return sorted(values.tolist(), reverse=True)


def _spike_finding(
    ctx: Context, rows: list[dict], hood: Neighbourhood, cells: pl.DataFrame
) -> Finding:
    top = max(rows, key=lambda r: r["excess_low"])
    k = ctx.config.places.spike_ring
    evidence = {
        "cell_pings": top["pings"],
        "devices": top["devices"],
        "neighbour_mean_pings": top["mean_pings"],
        "neighbour_mean_devices": top["mean_devices"],
        "expected_pings": top["mu_pings"],
        "expected_devices": top["mu_devices"],
        "excess_devices": top["excess"],
        "excess_devices_low": top["excess_low"],
        "excess_devices_high": top["excess_high"],
        "scale": "cell_with_ring" if top["scale"] else "cell",
        "ring_devices": top["disk_devices"],
        "ring_expected_devices": top["disk_expected"],
        "ratio": top["ratio"],
        "ratio_devices": top["ratio_devices"],
        "p_value": top["p_value"],
        "overdispersion": {"cell": top["alpha_alone"], "cell_with_ring": top["alpha_ring"]},
        "neighbour_pings": _neighbour_counts("pings", top["row"], hood, cells, k),
        "neighbour_devices": _neighbour_counts("devices", top["row"], hood, cells, k),
        "cells_flagged": len(rows),
        "lat": top["lat"],
        "lon": top["lon"],
    }
    low, high = max(top["excess_low"], 0.0), top["excess_high"]
    title = (
        f"A cell with {count(round(top['excess']))} more devices than its neighbourhood "
        f"predicts ({ratio(top['ratio_devices'])}, {count(top['devices'])} devices)"
    )
    story = (
        f"This cell holds {plural(top['devices'], 'device')} and {plural(top['pings'], 'ping')}, "
        f"where its neighbourhood predicts about {top['mu_devices']:.0f} devices: "
        f"{count(round(top['excess']))} more (95 % interval {count(round(low))} to "
        f"{count(round(high))}), {ratio(top['ratio_devices'])} by devices and "
        f"{ratio(top['ratio'])} by pings, beyond the city's own cell-to-cell variation. "
        "A venue, an event or a data artefact (a snapped or fallback location) can cause it; "
        "a density or footfall model will treat it as a hotspot. Check what is there and the "
        "hour profile of its pings."
    )
    if len(rows) > 1:
        story += f" {len(rows)} neighbouring cells share the excess and are told together."
    score = float(np.log10(max(top["ratio_devices"], 1.0)) * 10 + np.log10(max(low, 1.0)))
    cells_hex = tuple(cells_to_str(sorted(int(r["cell"]) for r in rows)))
    return Finding(
        FindingKind.DENSITY_SPIKE.value,
        _spike_severity(ctx, top),
        score,
        title,
        story,
        cells_hex,
        plain(evidence),
    )
