"""Pings on open water, far from any coast: impossible fixes, not ferries or harbours.

Reads the cells table (every ping, by cell centre), the exact-coordinate table (written-in
points) and the offline land mask. A ping with no land within ``sea_min_km`` is at sea;
null island is another detector's. Sea pings spread
thinly along lines by moving devices (ferries, cruises) are real, so severity rests on
pings piled on exact sea points (shared by several devices, or repeated by one file
without ids) and on the share of all pings at sea.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from explorer.binning.cells import cell_edge_km, cells_to_parent, cells_to_str
from explorer.detectors.context import Context
from explorer.detectors.needs import check
from explorer.detectors.places.common import (
    from_devices,
    near_null_island,
    plain,
    share_interval,
)
from explorer.findings import Finding, FindingKind
from explorer.geography.land import far_from_land, km_to_land
from explorer.text import count, pct, plural

#: Most cells the finding lists (the busiest): enough for the map.
_MAX_CELLS = 50
#: Resolution at which sea pings are grouped into places for the "where" table
#: (~1,800 km² cells: one per stretch of sea).
_WHERE_RESOLUTION = 4
_WHERE_ROWS = 10


def _with_distance(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """``frame`` (with lat, lon) where it lies at sea, with ``distance_km`` to land; null
    island is another detector's.

    The window test of the land mask decides; only points it finds at sea get a distance,
    so the coast tree is built only for data that has pings at sea.
    """
    geo = ctx.config.geography
    # A cell centre can lie up to one cell's size from its pings: widen null island's
    # radius by it, so the cell holding null island is never told again as sea.
    radius = ctx.config.places.null_island_radius_deg + cell_edge_km(ctx.resolution) / 111.0
    frame = frame.filter(~near_null_island(pl.col("lat"), pl.col("lon"), radius))
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    frame = frame.filter(pl.Series(far_from_land(lat, lon, geo.sea_min_km)))
    distance = km_to_land(frame["lat"].to_numpy(), frame["lon"].to_numpy(), geo.sea_cap_km)
    return frame.with_columns(distance_km=pl.Series(distance, dtype=pl.Float64))


def sea_cells(ctx: Context) -> pl.DataFrame:
    """Cells whose centre lies at sea: cell, pings, lat, lon, distance_km.

    The cells table holds every ping (the coords table keeps only shared coordinates and
    far points), so shares are counted on cells; a centre is within one cell's radius of
    its pings (~0.5 km at resolution 8).
    """
    return _with_distance(ctx.cells.select("cell", "pings", "lat", "lon"), ctx)


def sea_points(ctx: Context) -> pl.DataFrame:
    """Coords rows at sea (lat, lon, device, pings, distance_km): every shared coordinate
    and every point far from the data, exact to the digit."""
    coords = ctx.summary.tables["coords"]
    points = _with_distance(coords.select("lat", "lon").unique(), ctx)
    return coords.join(points, on=["lat", "lon"], how="inner")


def _piles(rows: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """Exact sea coordinates written in rather than measured: lat, lon, pings, devices."""
    geo = ctx.config.geography
    per_point = rows.group_by("lat", "lon").agg(
        pings=pl.col("pings").sum(),
        devices=pl.col("device").drop_nulls().n_unique(),
        distance_km=pl.col("distance_km").first(),
    )
    wanted = (
        pl.col("devices") >= geo.sea_pile_min_devices
        if ctx.has_devices
        else pl.col("pings") >= geo.sea_pile_min_pings
    )
    return per_point.filter(wanted).sort(["pings", "lat", "lon"], descending=[True, False, False])


def _where(ctx: Context, cells: pl.DataFrame, resolution: int) -> list[dict]:
    """Sea pings grouped into coarse places: centre, pings, devices, distance to land."""
    place = cells.with_columns(place=cells_to_parent(cells["cell"], resolution))
    weight = pl.col("pings") / pl.col("pings").sum()
    grouped = (
        place.group_by("place")
        .agg(
            lat=(pl.col("lat") * weight).sum(),
            lon=(pl.col("lon") * weight).sum(),
            pings=pl.col("pings").sum(),
            distance_km=(pl.col("distance_km") * weight).sum(),
        )
        .sort(["pings", "place"], descending=[True, False])
        .head(_WHERE_ROWS)
    )
    devices = (
        ctx.summary.tables["cell_devices"]
        .join(place.select("cell", "place"), on="cell", how="inner")
        .group_by("place")
        .agg(devices=pl.col("device").n_unique())
    )
    grouped = grouped.join(devices, on="place", how="left").with_columns(
        pl.col("devices").fill_null(0)
    )
    return (
        grouped.sort(["pings", "place"], descending=[True, False])
        .select("lat", "lon", "pings", "devices", "distance_km")
        .to_dicts()
    )


def _devices_in(ctx: Context, cells: pl.DataFrame) -> int:
    """Distinct devices with a ping in any of ``cells``."""
    per_cell = ctx.summary.tables["cell_devices"]
    return int(per_cell.filter(pl.col("cell").is_in(cells["cell"].implode()))["device"].n_unique())


def _severity(ctx: Context, share_low: float, piled_low: float) -> str:
    geo = ctx.config.geography
    if piled_low >= geo.sea_pile_high_share or share_low >= geo.sea_high_share:
        return "high"
    if piled_low >= geo.sea_pile_medium_share or share_low >= geo.sea_medium_share:
        return "medium"
    return "low"


@check(FindingKind.AT_SEA.value)
def detect_at_sea(ctx: Context) -> list[Finding]:
    """Pings farther than ``sea_min_km`` from any land, told once for the data set."""
    geo = ctx.config.geography
    cells = sea_cells(ctx).sort(["pings", "cell"], descending=[True, False])
    pings = int(cells["pings"].sum()) if cells.height else 0
    if pings < geo.sea_min_pings:
        return []
    total = ctx.total_pings
    devices = _devices_in(ctx, cells)
    all_devices = ctx.devices.height
    share, low, high = share_interval(pings, total)
    device_share, device_low, device_high = share_interval(devices, all_devices)
    piles = _piles(sea_points(ctx), ctx)
    piled = int(piles["pings"].sum()) if piles.height else 0
    piled_share, piled_low, piled_high = share_interval(piled, total)
    severity = _severity(ctx, low, piled_low)
    distance = cells["distance_km"].to_numpy()
    evidence = {
        "pings": pings,
        "devices": devices,
        "share": share,
        "share_low": low,
        "share_high": high,
        "device_share": device_share,
        "device_share_low": device_low,
        "device_share_high": device_high,
        "piled_pings": piled,
        "piled_points": piles.height,
        "piled_share": piled_share,
        "piled_share_low": piled_low,
        "piled_share_high": piled_high,
        "piles": piles.head(_WHERE_ROWS)
        .select("lat", "lon", "pings", "devices", "distance_km")
        .to_dicts(),
        "min_km": float(distance.min()),
        "median_km": float(np.median(distance)),
        "max_km": float(distance.max()),
        "sea_min_km": geo.sea_min_km,
        "where": _where(ctx, cells, min(_WHERE_RESOLUTION, ctx.resolution)),
        "cells_total": cells.height,
    }
    story = _story(ctx, evidence, piles)
    title = f"{count(pings)} pings ({pct(share)}) on open water, far from any coast"
    return [
        Finding(
            FindingKind.AT_SEA.value,
            severity,
            float(share * 100),
            title,
            story,
            tuple(cells_to_str(cells["cell"].head(_MAX_CELLS))),
            plain(evidence),
        )
    ]


def _km(km: float) -> str:
    """A distance as a story rounds it: '25 km' below 100 km, '1,310 km' (tens) above."""
    return f"{count(km if km < 100 else round(km, -1))} km"


def _km_span(low: float, high: float, cap: float) -> str:
    """'40–300 km', '25 km', or 'more than 2,000 km' for distances at the cap."""
    if low >= cap:
        return f"more than {_km(cap)}"
    if _km(low) == _km(high):
        return _km(low)
    if high >= cap:
        return f"{_km(low).removesuffix(' km')} to more than {_km(cap)}"
    return f"{_km(low).removesuffix(' km')}–{_km(high)}"


def _story(ctx: Context, evidence: dict, piles: pl.DataFrame) -> str:
    """Two to four sentences: how many, how far, piled or spread, what to check."""
    span = _km_span(evidence["min_km"], evidence["max_km"], ctx.config.geography.sea_cap_km)
    lead = (
        f"{pct(evidence['share'])} of pings ({count(evidence['pings'])}"
        f"{from_devices(evidence['devices']).replace(', from', ' from')}) lie on open water, "
        f"{span} from any coast."
    )
    if not piles.height:
        return (
            lead + " No exact point repeats: they are spread thinly, as ferries, cruises or "
            "flights leave them. Check whether the study should include travel at sea; a "
            "model of where people live or shop should leave these pings out."
        )
    top = piles.row(0, named=True)
    where = f"({top['lat']:.4f}, {top['lon']:.4f}), {_km(top['distance_km'])} out"
    piled = (
        f" All of them sit on one exact point, {where}"
        if evidence["piled_pings"] == evidence["pings"] and piles.height == 1
        else f" {plural(evidence['piled_pings'], 'ping')} of them sit on "
        f"{plural(piles.height, 'exact point')}, the busiest at {where}"
    )
    return (
        lead
        + piled
        + ": written-in coordinates, not fixes taken on a boat. A model of where people are "
        "puts them at sea; find the source of these rows (a default or fallback location, a "
        "projection or unit error) before using them."
    )
