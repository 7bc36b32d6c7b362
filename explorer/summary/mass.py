"""Where most of the data is: the main mass, and the point tests built on it.

Shared by the places detectors and by summary compaction (which must keep every point
those detectors may read), so it lives outside ``explorer.detectors``: compacting a
summary does not import the detectors and their statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.config import Config
from explorer.geography.distance import (  # noqa: F401 - the places detectors import them from here
    EARTH_RADIUS_KM,
    haversine_km,
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


def near_null_island_mask(lat: np.ndarray, lon: np.ndarray, radius_deg: float) -> np.ndarray:
    """:func:`near_null_island` of numpy arrays (range tests: no array of absolute values)."""
    near = (lat >= -radius_deg) & (lat <= radius_deg)
    near &= lon >= -radius_deg
    near &= lon <= radius_deg
    return near


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


def outside_disk(lat: pl.Expr, lon: pl.Expr, lat0: float, lon0: float, km: float) -> pl.Expr:
    """A cheap superset of the points farther than ``km`` from (lat0, lon0).

    Keeps what lies outside a lat/lon box inscribed in the disk (shrunk by 10 % for the
    sphere), so exact distances are computed only for the few points left. Longitudes
    are in [-180, 180] (reading rejects others), so the longitude gap either way round
    the globe is ``|lon - lon0|`` or 360 minus it: no floating-point modulo, the slowest
    step of the obvious expression.
    """
    dlat, dlon = _inscribed_box(lat0, km)
    gap = (lon - lon0).abs()  # in [0, 360]: the way round is 360 - gap when shorter
    return ((lat - lat0).abs() > dlat) | ((gap > dlon) & (gap < 360.0 - dlon))


def outside_disk_mask(
    lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float, km: float
) -> np.ndarray:
    """:func:`outside_disk` of numpy arrays, the same arithmetic in place on one scratch
    array (the expression makes five temporaries the size of the input)."""
    dlat, dlon = _inscribed_box(lat0, km)
    scratch = np.subtract(lat, lat0)
    np.abs(scratch, out=scratch)
    outside = scratch > dlat
    np.subtract(lon, lon0, out=scratch)
    np.abs(scratch, out=scratch)
    far = scratch > dlon
    far &= scratch < 360.0 - dlon
    outside |= far
    return outside


def _inscribed_box(lat0: float, km: float) -> tuple[float, float]:
    """Half-sides (degrees of latitude, longitude) of the box inside the disk of ``km``."""
    half = 0.9 * km / np.sqrt(2)
    dlat = half / 111.2
    lowest = np.radians(max(abs(lat0) - dlat, 0.0))
    return dlat, min(half / (111.32 * max(np.cos(lowest), 1e-6)), 180.0)
