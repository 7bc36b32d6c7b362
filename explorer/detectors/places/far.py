"""Pings far from the data's main mass: swapped coordinates and other distant points.

Both read the exact-coordinate table. A far row whose mirror (latitude and longitude
exchanged) lands in an occupied area of the main mass is a swapped row; the other far
rows (null island excepted) are distant points.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from explorer.binning.cells import cells_to_parent, cells_to_str, latlng_to_cells
from explorer.detectors.context import Context
from explorer.detectors.needs import check
from explorer.detectors.places.common import (
    MainMass,
    cached,
    from_devices,
    haversine_km,
    main_mass,
    near_null_island,
    outside_disk,
    plain,
    share_interval,
)
from explorer.detectors.places.points import pileup_coordinates
from explorer.findings import Finding, FindingKind
from explorer.text import count, pct, plural

#: Most cells a data-set-wide finding lists (the busiest): enough for the map.
_MAX_CELLS = 50
#: Resolution at which distant pings are grouped into places for the "where" table
#: (~1,800 km² cells: one per town or region).
_WHERE_RESOLUTION = 4
_WHERE_ROWS = 10


def _far_rows(ctx: Context) -> pl.DataFrame:
    """Coords rows beyond the main mass's far distance, flagged ``swapped`` or not."""
    cfg = ctx.config.places
    mass = main_mass(ctx)
    coords = ctx.summary.tables["coords"]
    if mass is None or coords.is_empty():
        return coords.clear().with_columns(
            distance_km=pl.lit(0.0), swapped=pl.lit(False), flipped=pl.lit(None, pl.String)
        )
    lat, lon = pl.col("lat"), pl.col("lon")
    candidates = coords.filter(
        outside_disk(lat, lon, mass.lat, mass.lon, mass.far_km)
        & ~near_null_island(lat, lon, cfg.null_island_radius_deg)
    )
    dist = haversine_km(
        candidates["lat"].to_numpy(), candidates["lon"].to_numpy(), mass.lat, mass.lon
    )
    far = candidates.with_columns(distance_km=pl.Series(dist, dtype=pl.Float64)).filter(
        pl.col("distance_km") > mass.far_km
    )
    lat, lon = far["lat"].to_numpy(), far["lon"].to_numpy()
    swapped = _mirrors_into_mass(ctx, lon, lat, mass)
    flipped = np.full(len(lat), None, dtype=object)
    unexplained = ~swapped
    for sign_lat, sign_lon, which in FLIPS:
        hit = unexplained & _mirrors_into_mass(ctx, sign_lat * lat, sign_lon * lon, mass)
        flipped[hit] = which
        unexplained &= ~hit
    return far.with_columns(
        swapped=pl.Series(swapped, dtype=pl.Boolean),
        flipped=pl.Series(flipped.tolist(), dtype=pl.String),
    )


def far_rows(ctx: Context) -> pl.DataFrame:
    """Far coords rows (lat, lon, device, pings, distance_km, swapped, flipped), cached per
    context; ``flipped`` names the sign that was wrong (see :data:`FLIPS`), or is null."""
    return cached(ctx, "far_rows", _far_rows)


#: The sign errors tried on far rows, in order: (latitude factor, longitude factor, name).
FLIPS = ((-1, 1, "latitude"), (1, -1, "longitude"), (-1, -1, "both"))


def _mirrors_into_mass(
    ctx: Context, lat: np.ndarray, lon: np.ndarray, mass: MainMass
) -> np.ndarray:
    """Whether each mirrored point (``lat``, ``lon``) lands among the data's occupied cells."""
    if not len(lat):
        return np.zeros(0, dtype=bool)
    valid = np.abs(lat) <= 90
    close = np.zeros(len(lat), dtype=bool)
    close[valid] = haversine_km(lat[valid], lon[valid], mass.lat, mass.lon) <= mass.far_km
    if not close.any():
        return close
    res = min(ctx.config.places.swap_match_resolution, ctx.resolution)
    occupied = cells_to_parent(ctx.cells["cell"], res).unique()
    mirrored = latlng_to_cells(lat[close], lon[close], res)
    out = np.zeros(len(lat), dtype=bool)
    out[close] = mirrored.is_in(occupied.implode()).to_numpy()
    return out


def _busiest_cells(rows: pl.DataFrame, resolution: int) -> tuple[tuple[str, ...], int]:
    """Hex ids of the busiest cells of ``rows`` (at most ``_MAX_CELLS``) and how many."""
    per_cell = (
        rows.with_columns(cell=latlng_to_cells(rows["lat"], rows["lon"], resolution))
        .group_by("cell")
        .agg(pl.col("pings").sum())
        .sort(["pings", "cell"], descending=[True, False])
    )
    return tuple(cells_to_str(per_cell["cell"].head(_MAX_CELLS))), per_cell.height


def _where(rows: pl.DataFrame, resolution: int) -> list[dict]:
    """Distant pings grouped into coarse places: centre, pings, devices, distance."""
    res = min(_WHERE_RESOLUTION, resolution)
    grouped = (
        rows.with_columns(place=latlng_to_cells(rows["lat"], rows["lon"], res))
        .group_by("place")
        .agg(
            lat=(pl.col("lat") * pl.col("pings")).sum() / pl.col("pings").sum(),
            lon=(pl.col("lon") * pl.col("pings")).sum() / pl.col("pings").sum(),
            distance_km=(pl.col("distance_km") * pl.col("pings")).sum() / pl.col("pings").sum(),
            devices=pl.col("device").drop_nulls().n_unique(),
            pings=pl.col("pings").sum(),
        )
        .sort(["pings", "place"], descending=[True, False])
        .head(_WHERE_ROWS)
    )
    return grouped.select("lat", "lon", "pings", "devices", "distance_km").to_dicts()


@check(FindingKind.DISTANT_POINTS.value)
def detect_distant_points(ctx: Context) -> list[Finding]:
    """Pings beyond the main mass's far distance (not null island, not swapped or flipped,
    not on a coordinate pileup: those are told once, as the pileup)."""
    cfg = ctx.config.places
    rows = far_rows(ctx).filter(~pl.col("swapped") & pl.col("flipped").is_null())
    rows = rows.join(pileup_coordinates(ctx), on=["lat", "lon"], how="anti")
    mass = main_mass(ctx)
    total = ctx.total_pings
    if rows.is_empty() or mass is None:
        return []
    pings = int(rows["pings"].sum())
    devices = int(rows["device"].drop_nulls().n_unique())
    share, low, high = share_interval(pings, total)
    severity = "medium" if low >= cfg.distant_medium_share else "low"
    cells, n_cells = _busiest_cells(rows, ctx.resolution)
    where = _where(rows, ctx.resolution)
    median_km = float(np.median(rows["distance_km"].to_numpy()))
    evidence = {
        "pings": pings,
        "devices": devices,
        "share": share,
        "share_low": low,
        "share_high": high,
        "distance_km": median_km,
        "max_distance_km": float(rows["distance_km"].max()),
        "far_km": mass.far_km,
        "centre": {"lat": mass.lat, "lon": mass.lon},
        "mass_radius_km": mass.radius_km,
        "where": where,
        "cells_total": n_cells,
    }
    story = (
        f"{plural(pings, 'ping')} ({pct(share)}{from_devices(devices)}) lie more than "
        f"{mass.far_km:.0f} km from the centre of the data, where 90 % of pings sit within "
        f"{mass.radius_km:.0f} km; the typical one is {median_km:.0f} km away. They may be "
        "trips, test devices or mis-geocoded rows; either way they stretch a map, a bounding "
        "box or a centroid. Check the places listed and whether they belong to the study area."
    )
    title = f"{count(pings)} pings ({pct(share)}) far from the rest of the data"
    return [
        Finding(
            FindingKind.DISTANT_POINTS.value,
            severity,
            float(share * 100),
            title,
            story,
            cells,
            plain(evidence),
        )
    ]


def _mirrored_rows(
    ctx: Context, rows: pl.DataFrame, example: dict, mirror: tuple
) -> tuple[str, tuple[str, ...], dict]:
    """(severity, cells, evidence) of mirrored far rows (swapped or sign-flipped):
    counts, share with its interval, an example and its mirror."""
    cfg = ctx.config.places
    pings = int(rows["pings"].sum())
    share, low, high = share_interval(pings, ctx.total_pings)
    severity = (
        "high"
        if low >= cfg.swap_high_share
        else "medium"
        if low >= cfg.swap_medium_share
        else "low"
    )
    cells, n_cells = _busiest_cells(rows, ctx.resolution)
    return (
        severity,
        cells,
        {
            "rows": pings,
            "coordinates": rows.select("lat", "lon").n_unique(),
            "devices": int(rows["device"].drop_nulls().n_unique()),
            "share": share,
            "share_low": low,
            "share_high": high,
            "example": {
                "lat": example["lat"],
                "lon": example["lon"],
                "mirrored_lat": mirror[0],
                "mirrored_lon": mirror[1],
            },
            "distance_km": float(np.median(rows["distance_km"].to_numpy())),
            "cells_total": n_cells,
        },
    )


def _busiest_row(rows: pl.DataFrame) -> dict:
    return rows.sort(["pings", "lat", "lon"], descending=[True, False, False]).row(0, named=True)


@check(FindingKind.SWAPPED_COORDINATES.value)
def detect_swapped_coordinates(ctx: Context) -> list[Finding]:
    """Far rows whose latitude and longitude, exchanged, land in the data's main mass."""
    rows = far_rows(ctx).filter(pl.col("swapped"))
    if (int(rows["pings"].sum()) if rows.height else 0) < ctx.config.places.swap_min_rows:
        return []
    example = _busiest_row(rows)
    severity, cells, evidence = _mirrored_rows(ctx, rows, example, (example["lon"], example["lat"]))
    pings, share, devices = evidence["rows"], evidence["share"], evidence["devices"]
    story = (
        f"{plural(pings, 'row')} ({pct(share)}{from_devices(devices)}) lie far from "
        f"the data, but with latitude and longitude exchanged they fall right inside it: e.g. "
        f"({example['lat']:.4f}, {example['lon']:.4f}) is ({example['lon']:.4f}, "
        f"{example['lat']:.4f}) mirrored. Some source or pipeline step writes the columns in "
        "the other order; those pings are missing from their real place and pile up in an "
        "impossible one. Find the source of these rows and swap their columns back."
    )
    title = f"{count(pings)} rows ({pct(share)}) with latitude and longitude swapped"
    return [
        Finding(
            FindingKind.SWAPPED_COORDINATES.value,
            severity,
            float(share * 100),
            title,
            story,
            cells,
            plain(evidence),
        )
    ]


#: How a story names each sign error of :data:`FLIPS`.
_FLIP_WORDS = {
    "latitude": "the latitude's sign",
    "longitude": "the longitude's sign",
    "both": "both signs",
}


@check(FindingKind.SIGN_FLIPPED.value)
def detect_sign_flipped(ctx: Context) -> list[Finding]:
    """Far rows that land in the data's main mass once a coordinate's sign is flipped."""
    rows = far_rows(ctx).filter(pl.col("flipped").is_not_null())
    if (int(rows["pings"].sum()) if rows.height else 0) < ctx.config.places.swap_min_rows:
        return []
    by_sign = (
        rows.group_by("flipped")
        .agg(pl.col("pings").sum())
        .sort(["pings", "flipped"], descending=[True, False])
    )
    main_sign = by_sign["flipped"][0]
    example = _busiest_row(rows.filter(pl.col("flipped") == main_sign))
    sign_lat, sign_lon = next((a, b) for a, b, name in FLIPS if name == main_sign)
    mirrored = (sign_lat * example["lat"], sign_lon * example["lon"])
    severity, cells, evidence = _mirrored_rows(ctx, rows, example, mirrored)
    evidence["by_sign"] = dict(zip(by_sign["flipped"].to_list(), by_sign["pings"].to_list()))
    pings, share, devices = evidence["rows"], evidence["share"], evidence["devices"]
    story = (
        f"{plural(pings, 'row')} ({pct(share)}{from_devices(devices)}) lie far from the data, "
        f"but with {_FLIP_WORDS[main_sign]} flipped they fall right inside it: e.g. "
        f"({example['lat']:.4f}, {example['lon']:.4f}) is ({mirrored[0]:.4f}, "
        f"{mirrored[1]:.4f}) in the mirror. Some source or conversion drops or adds a minus "
        "sign (a hemisphere letter N/S or E/W lost, or an unsigned field); those pings are "
        "missing from their real place and make a ghost copy of it in another hemisphere. "
        "Find the source of these rows and restore the sign."
    )
    title = f"{count(pings)} rows ({pct(share)}) with a coordinate's sign flipped"
    return [
        Finding(
            FindingKind.SIGN_FLIPPED.value,
            severity,
            float(share * 100),
            title,
            story,
            cells,
            plain(evidence),
        )
    ]
