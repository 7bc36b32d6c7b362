"""Helpers shared by the places detectors: distances, the data's main mass, exact
coordinates and a per-context cache of what several detectors need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import polars as pl

from explorer.detectors.context import Context
from explorer.stats import wilson_interval

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


def _main_mass(ctx: Context) -> MainMass | None:
    cfg = ctx.config.places
    cells = ctx.cells.filter(
        ~near_null_island(pl.col("lat"), pl.col("lon"), cfg.null_island_radius_deg)
    )
    if cells.is_empty():
        return None
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    w = cells["pings"].to_numpy().astype(float)
    lat0, lon0 = weighted_quantile(lat, w, 0.5), weighted_quantile(lon, w, 0.5)
    radius = weighted_quantile(haversine_km(lat, lon, lat0, lon0), w, cfg.mass_share)
    return MainMass(lat0, lon0, radius, max(cfg.far_factor * radius, cfg.far_min_km))


def main_mass(ctx: Context) -> MainMass | None:
    """The data's main mass (None when every ping is at null island)."""
    return cached(ctx, "main_mass", _main_mass)


def _coordinates(ctx: Context) -> pl.DataFrame:
    coords = ctx.summary.tables["coords"]
    return coords.group_by("lat", "lon").agg(
        pings=pl.col("pings").sum(),
        devices=pl.col("device").count().cast(pl.Int64),
    )


def coordinates(ctx: Context) -> pl.DataFrame:
    """One row per exact coordinate: lat, lon, pings, devices (distinct device ids)."""
    return cached(ctx, "coordinates", _coordinates)


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
