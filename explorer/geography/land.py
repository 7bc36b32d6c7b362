"""Offline land mask: whether a coordinate is on land, and how far it is from land.

The mask is the 30-arc-second (~1 km) GLOBE land/ocean mask shipped by the PyPI package
``global-land-mask`` (MIT). Ocean and seas, bays and harbours wider than about a kilometre
are water; lakes and rivers are land (GLOBE gives them an elevation), so a ferry on a lake
is never "at sea". The mask is read on first use only, kept as packed bits (117 MB rather
than 933 MB), and its coast pixels go into a k-d tree the first time a distance is asked.
"""

from __future__ import annotations

import importlib.util
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["is_land", "km_to_land"]

#: Mean Earth radius (km, IUGG).
_EARTH_RADIUS_KM = 6371.0088
#: Rows of the mask read or unpacked at a time (43 MB of pixels: bounds the memory).
_COAST_BLOCK_ROWS = 1_000


@cache
def _mask() -> tuple[np.ndarray, float, float, float]:
    """(packed land bits, rows × bytes; first latitude; first longitude; step in degrees)."""
    # The package is found, not imported: importing it loads the whole 933 MB mask. Its
    # grid starts at (90, -180) in equal steps.
    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("global-land-mask is not installed: pip install global-land-mask")
    path = Path(spec.submodule_search_locations[0]) / "globe_combined_mask_compressed.npz"
    with zipfile.ZipFile(path) as archive, archive.open("mask.npy") as stream:
        packed = _packed_land(stream)
    return packed, 90.0, -180.0, 180.0 / packed.shape[0]


def _packed_land(stream) -> np.ndarray:
    """The .npy ocean mask read from ``stream`` a block of rows at a time, packed 8 pixels
    a byte and inverted to land, so the 933 MB of booleans never sit in memory at once."""
    version = np.lib.format.read_magic(stream)
    read_header = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    (n_rows, n_cols), fortran_order, dtype = read_header(stream)
    if fortran_order or dtype != np.bool_ or n_cols % 8:
        raise ValueError("global-land-mask's mask is not a C-ordered boolean grid")
    packed = np.empty((n_rows, n_cols // 8), dtype=np.uint8)
    for start in range(0, n_rows, _COAST_BLOCK_ROWS):
        rows = min(_COAST_BLOCK_ROWS, n_rows - start)
        ocean = np.frombuffer(stream.read(rows * n_cols), dtype=bool).reshape(rows, n_cols)
        packed[start : start + rows] = np.invert(np.packbits(ocean, axis=1))
    return packed


def _pixels(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of the mask pixel holding each point.

    Pixel (i, j) spans latitudes lat0 - (i + 1)·step … lat0 - i·step and longitudes
    lon0 + j·step … lon0 + (j + 1)·step, as in ``global_land_mask.globe``.
    """
    packed, lat0, lon0, step = _mask()
    rows = np.clip(np.floor((lat0 - lat) / step), 0, packed.shape[0] - 1).astype(np.int64)
    cols = np.floor(((lon - lon0) % 360.0) / step).astype(np.int64) % (packed.shape[1] * 8)
    return rows, cols


def is_land(lat, lon) -> np.ndarray:
    """Whether each point (degrees) lies on a land pixel of the mask; missing points: False."""
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    found = np.zeros(lat.shape, dtype=bool)
    finite = np.isfinite(lat) & np.isfinite(lon)
    if not finite.any():
        return found
    packed = _mask()[0]
    rows, cols = _pixels(lat[finite], lon[finite])
    bits = packed[rows, cols >> 3] >> (7 - (cols & 7)).astype(np.uint8)
    found[finite] = (bits & 1).astype(bool)
    return found


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    p, lam = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)])


@cache
def _coast_tree() -> cKDTree:
    """A k-d tree of the centres of land pixels that touch water (about 1.6 M points)."""
    packed, lat0, lon0, step = _mask()
    n_rows = packed.shape[0]
    lats, lons = [], []
    for start in range(0, n_rows, _COAST_BLOCK_ROWS):
        lo, hi = max(0, start - 1), min(n_rows, start + _COAST_BLOCK_ROWS + 1)
        land = np.unpackbits(packed[lo:hi], axis=1).astype(bool)
        water = ~land
        near = np.roll(water, 1, axis=1) | np.roll(water, -1, axis=1)
        near[1:] |= water[:-1]
        near[:-1] |= water[1:]
        coast = (land & near)[start - lo : start - lo + min(_COAST_BLOCK_ROWS, n_rows - start)]
        rows, cols = np.nonzero(coast)
        lats.append(lat0 - (rows + start + 0.5) * step)
        lons.append(lon0 + (cols + 0.5) * step)
    return cKDTree(_unit_vectors(np.concatenate(lats), np.concatenate(lons)))


def km_to_land(lat, lon, max_km: float) -> np.ndarray:
    """Great-circle km from each point to the nearest land pixel, capped at ``max_km``.

    Points on land are 0; missing points are NaN. The distance is to the nearest coast
    pixel's centre, so it is exact to about half a pixel (~0.5 km).
    """
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    distance = np.full(lat.shape, np.nan)
    finite = np.isfinite(lat) & np.isfinite(lon)
    distance[finite] = 0.0
    sea = np.flatnonzero(finite)[~is_land(lat[finite], lon[finite])]
    if sea.size == 0:
        return distance
    angle = min(max_km / _EARTH_RADIUS_KM, np.pi)
    chord, _ = _coast_tree().query(
        _unit_vectors(lat[sea], lon[sea]), k=1, distance_upper_bound=2.0 * np.sin(angle / 2.0)
    )
    km = 2.0 * _EARTH_RADIUS_KM * np.arcsin(np.minimum(chord, 2.0) / 2.0)
    distance[sea] = np.minimum(np.where(np.isfinite(chord), km, max_km), max_km)
    return distance
