"""Helpers shared by the places detectors: distances, the data's main mass, exact
coordinates and a per-context cache of what several detectors need."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import polars as pl

from explorer.detectors.context import Context
from explorer.geography.distance import unit_vectors
from explorer.stats import wilson_interval
from explorer.summary.compact import coordinate_keys, repeated
from explorer.summary.mass import (  # noqa: F401 - the places detectors import these from here
    EARTH_RADIUS_KM,
    MainMass,
    haversine_km,
    mass_of,
    near_null_island,
    outside_disk,
    weighted_quantile,
)
from explorer.text import plural

T = TypeVar("T")


def cached(ctx: Context, name: str, build: Callable[[Context], T]) -> T:
    """``build(ctx)`` once per context (several detectors share the result)."""
    return ctx.shared(f"places.{name}", build)


def unit_vectors_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on a sphere of the Earth's radius (n × 3, km): chords ≈ distances locally."""
    return EARTH_RADIUS_KM * unit_vectors(lat, lon)


def share_interval(k: int, n: int) -> tuple[float, float, float]:
    """(share, lower, upper): a share of pings with its Wilson 95 % interval."""
    low, high = wilson_interval(float(k), float(n))
    return (k / n if n else 0.0), float(low), float(high)


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


def from_devices(devices: int) -> str:
    """The ', from 12 devices' of a story, or nothing when no device id is known: a
    story never says 'from 0 devices'."""
    return f", from {plural(devices, 'device')}" if devices else ""


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
