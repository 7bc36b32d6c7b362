"""Helpers shared by the places detectors: distances, the data's main mass, exact
coordinates and a per-context cache of what several detectors need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import polars as pl

from explorer.config import Config
from explorer.detectors.context import Context
from explorer.stats import wilson_interval
from explorer.summary_compact import coordinate_keys, repeated

EARTH_RADIUS_KM = 6371.0088
T = TypeVar("T")


def cached(ctx: Context, name: str, build: Callable[[Context], T]) -> T:
    """``build(ctx)`` once per context (several detectors share the result)."""
    key = f"_places_{name}"
    if key not in ctx.__dict__:
        ctx.__dict__[key] = build(ctx)
    return ctx.__dict__[key]


def haversine_km(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Great-circle distance in km from (lat0, lon0) to every point, vectorised."""
    p1, p2 = np.radians(lat), np.radians(lat0)
    dp, dl = p1 - p2, np.radians(np.asarray(lon) - lon0)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def unit_vectors_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on a sphere of the Earth's radius (n × 3, km): chords ≈ distances locally."""
    p, lam = np.radians(lat), np.radians(lon)
    return EARTH_RADIUS_KM * np.column_stack(
        [np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)]
    )


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` where each value counts ``weights`` times."""
    order = np.argsort(values)
    cum = np.cumsum(weights[order], dtype=float)
    if cum.size == 0 or cum[-1] <= 0:
        return float("nan")
    return float(values[order][np.searchsorted(cum, q * cum[-1])])


def near_null_island(lat: pl.Expr, lon: pl.Expr, radius_deg: float) -> pl.Expr:
    """True where a point lies within ``radius_deg`` of (0, 0) on both axes."""
    return (lat.abs() <= radius_deg) & (lon.abs() <= radius_deg)


def share_interval(k: int, n: int) -> tuple[float, float, float]:
    """(share, lower, upper): a share of pings with its Wilson 95 % interval."""
    low, high = wilson_interval(float(k), float(n))
    return (k / n if n else 0.0), float(low), float(high)


@dataclass(frozen=True)
class MainMass:
    """Where most of the data is: the weighted median centre and the radius (km) of
    the disk around it that holds ``mass_share`` of pings, plus the distance beyond
    which a ping counts as distant."""

    lat: float
    lon: float
    radius_km: float
    far_km: float


def mass_of(cells: pl.DataFrame, config: Config) -> MainMass | None:
    """The main mass from per-cell ``lat``, ``lon`` (centres) and ``pings``."""
    cfg = config.places
    cells = cells.filter(
        ~near_null_island(pl.col("lat"), pl.col("lon"), cfg.null_island_radius_deg)
    )
    if cells.is_empty():
        return None
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    w = cells["pings"].to_numpy().astype(float)
    lat0, lon0 = weighted_quantile(lat, w, 0.5), weighted_quantile(lon, w, 0.5)
    radius = weighted_quantile(haversine_km(lat, lon, lat0, lon0), w, cfg.mass_share)
    return MainMass(lat0, lon0, radius, max(cfg.far_factor * radius, cfg.far_min_km))


def _main_mass(ctx: Context) -> MainMass | None:
    return mass_of(ctx.cells.select("lat", "lon", "pings"), ctx.config)


def main_mass(ctx: Context) -> MainMass | None:
    """The data's main mass (None when every ping is at null island)."""
    return cached(ctx, "main_mass", _main_mass)


def _shared_coordinates(ctx: Context) -> pl.DataFrame:
    coords = ctx.summary.tables["coords"]
    # Grouping ten million jittered (lat, lon) pairs is slow and nearly every group has
    # one row; a coordinate on two or more rows repeats its key, and sorting the keys
    # finds the few rows worth grouping.
    subset = coords.filter(repeated(coordinate_keys(coords["lat"], coords["lon"])))
    return subset.group_by("lat", "lon").agg(
        pings=pl.col("pings").sum(),
        devices=pl.col("device").count().cast(pl.Int64),
    )


def shared_coordinates(ctx: Context) -> pl.DataFrame:
    """Exact coordinates on two or more coords rows: lat, lon, pings, devices.

    Every coordinate shared by two or more devices is here (and some on one device with
    rows lacking a device id); coordinates of a single row are not.
    """
    return cached(ctx, "shared_coordinates", _shared_coordinates)


def outside_disk(lat: pl.Expr, lon: pl.Expr, lat0: float, lon0: float, km: float) -> pl.Expr:
    """A cheap superset of the points farther than ``km`` from (lat0, lon0).

    Keeps what lies outside a lat/lon box inscribed in the disk (shrunk by 10 % for the
    sphere), so exact distances are computed only for the few points left.
    """
    half = 0.9 * km / np.sqrt(2)
    dlat = half / 111.2
    lowest = np.radians(max(abs(lat0) - dlat, 0.0))
    dlon = min(half / (111.32 * max(np.cos(lowest), 1e-6)), 180.0)
    lon_gap = ((lon - lon0 + 180.0) % 360.0 - 180.0).abs()
    return ((lat - lat0).abs() > dlat) | (lon_gap > dlon)


def plain(value: Any) -> Any:
    """A JSON-ready copy: numpy scalars to Python numbers, NaN to None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, np.integer | bool | np.bool_):
        return int(value) if not isinstance(value, bool | np.bool_) else bool(value)
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    return value
