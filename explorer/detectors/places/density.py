"""Density spikes: cells far denser, in devices and in pings, than their neighbourhood.

The effect size is the ping ratio with the cell's busiest device counted as a typical
one (so one busy phone cannot make it); the device ratio must pass the same minimum,
so a spike is a crowd, not a phone.

The neighbourhood of a cell is every cell slot 1..``spike_ring`` steps away (empty
slots count as zero). Neighbours are found among cell centres with a k-d tree (the
centres of ring k lie within (k + 0.3) centre spacings), so no per-cell H3 call is
needed. Counts are compared with a negative-binomial tail whose overdispersion is
estimated from all cells, and Benjamini–Hochberg controls false discoveries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from explorer.binning.cells import cell_edge_km, cells_to_str, connected_components
from explorer.detectors.context import Context
from explorer.detectors.needs import DEVICE_IDS, check
from explorer.detectors.places.common import near_null_island, plain, unit_vectors_km
from explorer.detectors.places.points import pileup_cells
from explorer.findings import Finding, FindingKind
from explorer.stats import benjamini_hochberg, negative_binomial_sf, poisson_sf
from explorer.text import count, plural, ratio

#: Distance between the centres of adjacent hexagons, in edge lengths.
_SPACING_PER_EDGE = np.sqrt(3.0)
#: Search radius in centre spacings beyond the ring number: ring k's farthest centres
#: lie k spacings away, ring k + 1's nearest about k + 0.65.
_RING_MARGIN = 0.3
#: Ring 1 centres lie 1 spacing away, ring 2's nearest √3: this splits them.
_INNER_RING = 1.35


@dataclass(frozen=True)
class Neighbourhood:
    """Per cell: indices of occupied neighbours (``n`` = none), whether each is in the
    first ring, and the number of slots (6 of them in the first ring)."""

    index: np.ndarray
    inner: np.ndarray
    slots: int


def ring_slots(k: int) -> int:
    """Cells 1..k steps from a hexagon: 6 + 12 + ... = 3k(k + 1)."""
    return 3 * k * (k + 1)


def neighbourhood(lat: np.ndarray, lon: np.ndarray, resolution: int, k: int) -> Neighbourhood:
    """Occupied cells within ``k`` rings of every cell (vectorised k-d tree query)."""
    points = unit_vectors_km(lat, lon)
    spacing = _SPACING_PER_EDGE * cell_edge_km(resolution)
    tree = cKDTree(points)
    if len(points) > 1:
        # Cells shrink and grow by tens of percent across the globe: measure the local
        # spacing as the typical distance between a cell and its nearest occupied one.
        nearest = tree.query(points, k=2)[0][:, 1]
        local = float(np.quantile(nearest, 0.25))
        spacing = float(np.clip(local, 0.7 * spacing, 1.4 * spacing))
    slots = ring_slots(k)
    dist, index = tree.query(points, k=slots + 1, distance_upper_bound=(k + _RING_MARGIN) * spacing)
    return Neighbourhood(index[:, 1:], dist[:, 1:] < _INNER_RING * spacing, slots)


def neighbour_sums(values: np.ndarray, hood: Neighbourhood) -> np.ndarray:
    """Sum of ``values`` over each cell's occupied neighbours."""
    padded = np.append(values.astype(float), 0.0)
    return padded[hood.index].sum(axis=1)


def expected_counts(
    values: np.ndarray, hood: Neighbourhood, floor: float, max_gradient: float
) -> tuple[np.ndarray, np.ndarray]:
    """(neighbour mean, expected count) of every cell.

    The expectation follows the neighbourhood's gradient: where the first ring is
    denser than the outer ones (a city centre's smooth peak), the centre is expected
    to continue the rise by the same factor (at most ``max_gradient``), so a smooth
    peak is not a spike while a venue, whose rings are alike, stays one.
    """
    padded = np.append(values.astype(float), 0.0)[hood.index]
    n_inner = ring_slots(1)
    mean = padded.sum(axis=1) / hood.slots
    inner = np.where(hood.inner, padded, 0.0).sum(axis=1) / n_inner
    outer = np.where(hood.inner, 0.0, padded).sum(axis=1) / max(hood.slots - n_inner, 1)
    gradient = np.clip((inner + floor) / (outer + floor), 1.0, max_gradient)
    return mean, np.maximum(mean, inner * gradient)


def nb_overdispersion(observed: np.ndarray, expected: np.ndarray, trim: float) -> float:
    """Method-of-moments α of a negative binomial (variance μ + αμ²).

    The cells with the highest observed/expected ratios (share ``trim``) are left out
    so that the spikes being looked for do not inflate the yardstick.
    """
    use = expected > 0
    x, mu = observed[use], expected[use]
    if x.size < 10:
        return 1.0
    keep = (x / mu) <= np.quantile(x / mu, 1 - trim)
    x, mu = x[keep], mu[keep]
    return float(max(((x - mu) ** 2 - x).sum() / (mu**2).sum(), 0.0))


def nb_sf(observed: np.ndarray, expected: np.ndarray, alpha: float) -> np.ndarray:
    """P(X ≥ observed) under a negative binomial with mean ``expected`` and overdispersion α."""
    if alpha <= 1e-9:
        return poisson_sf(observed, expected)
    size = 1.0 / alpha
    return negative_binomial_sf(observed, size, size / (size + expected))


def _busiest_device_pings(ctx: Context, cells: pl.DataFrame) -> np.ndarray:
    """Pings of each cell's busiest device (0 where no device id is known)."""
    top = ctx.summary.tables["cell_devices"].group_by("cell").agg(top=pl.col("pings").max())
    joined = cells.select("cell").join(top, on="cell", how="left", maintain_order="left")
    return joined["top"].fill_null(0).to_numpy().astype(float)


def _scores(cells: pl.DataFrame, hood: Neighbourhood, ctx: Context) -> pl.DataFrame:
    """Observed, expected, ratio and p-value by devices and by pings, per cell.

    The cell's own ping count has its busiest device replaced by a typical one, so one
    busy phone cannot make a spike by pings (the neighbours are counted as they are).
    """
    cfg = ctx.config.places
    devices = cells["devices"].to_numpy().astype(float)
    # One device's typical pings in a cell: the pseudo-count of the ping ratio.
    per_cell = ctx.summary.tables["cell_devices"]["pings"].to_numpy()
    per_device = max(float(np.median(per_cell)), 1.0) if per_cell.size else 1.0
    pings = cells["pings"].to_numpy().astype(float)
    robust = np.maximum(pings - _busiest_device_pings(ctx, cells), 0.0) + np.round(per_device)
    floor_d, floor_p = cfg.spike_min_expected, cfg.spike_min_expected * per_device
    mean_d, mu_d = expected_counts(devices, hood, floor_d, cfg.spike_max_gradient)
    mean_p, mu_p = expected_counts(pings, hood, floor_p, cfg.spike_max_gradient)
    alpha_d = nb_overdispersion(devices, np.maximum(mu_d, floor_d), cfg.spike_trim_share)
    alpha_p = nb_overdispersion(pings, np.maximum(mu_p, floor_p), cfg.spike_trim_share)
    p_d = nb_sf(devices, np.maximum(mu_d, floor_d), alpha_d)
    p_p = nb_sf(robust, np.maximum(mu_p, floor_p), alpha_p)
    return cells.with_columns(
        mean_devices=pl.Series(mean_d),
        mean_pings=pl.Series(mean_p),
        mu_devices=pl.Series(mu_d),
        mu_pings=pl.Series(mu_p),
        ratio_devices=pl.Series((devices + 1) / (mu_d + 1)),
        ratio=pl.Series(robust / (mu_p + per_device)),
        p_value=pl.Series(np.maximum(p_d, p_p)),
        alpha_devices=pl.lit(alpha_d),
        alpha_pings=pl.lit(alpha_p),
    )


@check(FindingKind.DENSITY_SPIKE.value, DEVICE_IDS)
def detect_density_spike(ctx: Context) -> list[Finding]:
    """Cells far denser (by devices and by pings) than their ring of neighbours."""
    cfg = ctx.config.places
    # Null island is told by its own detector; its cell would always be a spike.
    cells = ctx.cells.select("cell", "pings", "devices", "lat", "lon").filter(
        ~near_null_island(pl.col("lat"), pl.col("lon"), cfg.null_island_radius_deg)
    )
    if cells.height < 2:
        return []
    hood = neighbourhood(
        cells["lat"].to_numpy(), cells["lon"].to_numpy(), ctx.resolution, cfg.spike_ring
    )
    scored = _scores(cells, hood, ctx).with_row_index("row")
    found = benjamini_hochberg(scored["p_value"].to_numpy(), ctx.config.severity.fdr)
    flagged = scored.filter(
        pl.Series(found)
        & (pl.col("ratio") >= cfg.spike_min_ratio)
        & (pl.col("ratio_devices") >= cfg.spike_min_ratio)
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
    findings = []
    for component in connected_components(by_cell, k=1):
        rows = [by_cell[c] for c in component]
        findings.append(_spike_finding(ctx, rows, hood, cells))
    findings.sort(key=lambda f: -f.score)
    return findings[: ctx.config.severity.max_findings_per_kind]


def _spike_severity(ctx: Context, ratio_value: float, devices: int) -> str:
    cfg = ctx.config.places
    if devices < cfg.spike_medium_devices or ratio_value < cfg.spike_medium_ratio:
        return "low"
    return "high" if ratio_value >= cfg.spike_high_ratio else "medium"


def _spike_finding(
    ctx: Context, rows: list[dict], hood: Neighbourhood, cells: pl.DataFrame
) -> Finding:
    top = max(rows, key=lambda r: r["ratio"])
    index = hood.index[top["row"]]
    occupied = index < cells.height
    nb_pings = np.zeros(hood.slots, dtype=np.int64)
    nb_devices = np.zeros(hood.slots, dtype=np.int64)
    nb_pings[occupied] = cells["pings"].to_numpy()[index[occupied]]
    nb_devices[occupied] = cells["devices"].to_numpy()[index[occupied]]
    severity = _spike_severity(ctx, top["ratio"], int(top["devices"]))
    evidence = {
        "cell_pings": top["pings"],
        "devices": top["devices"],
        "neighbour_mean_pings": top["mean_pings"],
        "neighbour_mean_devices": top["mean_devices"],
        "expected_pings": top["mu_pings"],
        "expected_devices": top["mu_devices"],
        "ratio": top["ratio"],
        "ratio_devices": top["ratio_devices"],
        "p_value": top["p_value"],
        "overdispersion": {"devices": top["alpha_devices"], "pings": top["alpha_pings"]},
        "neighbour_pings": sorted(nb_pings.tolist(), reverse=True),
        "neighbour_devices": sorted(nb_devices.tolist(), reverse=True),
        "cells_flagged": len(rows),
        "lat": top["lat"],
        "lon": top["lon"],
    }
    title = (
        f"A cell {ratio(top['ratio'])} denser than its neighbourhood "
        f"({count(top['devices'])} devices, {count(top['pings'])} pings)"
    )
    story = (
        f"This cell holds {plural(top['devices'], 'device')} and {plural(top['pings'], 'ping')}, "
        f"while the {hood.slots} cells around it average {top['mean_devices']:.1f} devices and "
        f"{top['mean_pings']:.0f} pings: {ratio(top['ratio'])} denser by pings (with its busiest "
        f"device counted as a typical one) and {ratio(top['ratio_devices'])} by devices, beyond "
        "what the city's own cell-to-cell variation explains. A venue, an event or a data "
        "artefact (a snapped or fallback location) can cause it; a density or footfall model "
        "will treat it as a hotspot. Check what is there and the hour profile of its pings."
    )
    if len(rows) > 1:
        story += f" {len(rows)} neighbouring cells share the excess and are told together."
    score = float(np.log10(top["ratio"]) * 10 + np.log10(max(top["devices"], 1)))
    cells_hex = tuple(cells_to_str(sorted(int(r["cell"]) for r in rows)))
    return Finding(
        FindingKind.DENSITY_SPIKE.value, severity, score, title, story, cells_hex, plain(evidence)
    )
