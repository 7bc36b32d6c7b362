"""Offline land mask: whether a coordinate is on land, whether land lies within a radius,
and how far it is from land.

The mask is the 30-arc-second (~1 km) GLOBE land/ocean mask shipped by the PyPI package
``global-land-mask`` (MIT), re-encoded by ``scripts/build_land_mask.py`` into
``data/land_mask.npz``: packed bits, one zlib stream per degree of latitude, so a question
about one city decodes one or two 648 kB blocks, not the whole 117 MB mask. Ocean and seas,
bays and harbours wider than about a kilometre are water; lakes and rivers are land (GLOBE
gives them an elevation), so a ferry on a lake is never "at sea". The k-d tree of coast
pixels behind :func:`km_to_land` is built only the first time a distance is asked.
"""

from __future__ import annotations

import zlib
from functools import cache
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from explorer.geography.distance import EARTH_RADIUS_KM, unit_vectors

__all__ = ["far_from_land", "is_land", "km_to_land"]

_MASK_PATH = Path(__file__).parent / "data" / "land_mask.npz"
#: The grid starts at (90° N, 180° W) in steps of 30 arc-seconds, as ``global_land_mask.globe``.
_LAT0, _LON0, _STEP = 90.0, -180.0, 1.0 / 120.0
#: Km between pixel centres along a meridian.
_PIXEL_KM = EARTH_RADIUS_KM * np.radians(_STEP)
#: Set bits of each byte value.
_POPCOUNT = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(axis=1)


@cache
def _encoded() -> tuple[np.ndarray, np.ndarray, int, int]:
    """(concatenated zlib blocks, their offsets, pixel rows, pixel columns) of the mask file."""
    with np.load(_MASK_PATH) as archive:
        n_rows, n_cols = (int(n) for n in archive["shape"])
        return archive["blocks"], archive["offsets"], n_rows, n_cols


def _grid() -> tuple[int, int, int]:
    """(pixel rows, pixel columns, rows a block holds)."""
    _, offsets, n_rows, n_cols = _encoded()
    return n_rows, n_cols, n_rows // (offsets.size - 1)


@cache
def _block(index: int) -> np.ndarray:
    """Packed land bits (rows × bytes) of block ``index``, decoded once."""
    blocks, offsets, _, n_cols = _encoded()
    raw = zlib.decompress(blocks[offsets[index] : offsets[index + 1]].tobytes())
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, n_cols // 8)


def _packed_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(packed bits of the blocks holding ``rows``, each row's index into them)."""
    block_rows = _grid()[2]
    blocks = rows // block_rows
    needed = np.unique(blocks)
    stacked = np.concatenate([_block(int(b)) for b in needed])
    return stacked, np.searchsorted(needed, blocks) * block_rows + rows % block_rows


def _pixels(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of the mask pixel holding each point.

    Pixel (i, j) spans latitudes lat0 - (i + 1)·step … lat0 - i·step and longitudes
    lon0 + j·step … lon0 + (j + 1)·step, as in ``global_land_mask.globe``.
    """
    n_rows, n_cols, _ = _grid()
    rows = np.clip(np.floor((_LAT0 - lat) / _STEP), 0, n_rows - 1).astype(np.int64)
    cols = np.floor(((lon - _LON0) % 360.0) / _STEP).astype(np.int64) % n_cols
    return rows, cols


def is_land(lat, lon) -> np.ndarray:
    """Whether each point (degrees) lies on a land pixel of the mask; missing points: False."""
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    found = np.zeros(lat.shape, dtype=bool)
    finite = np.isfinite(lat) & np.isfinite(lon)
    if not finite.any():
        return found
    rows, cols = _pixels(lat[finite], lon[finite])
    packed, local = _packed_rows(rows)
    bits = packed[local, cols >> 3] >> (7 - (cols & 7)).astype(np.uint8)
    found[finite] = (bits & 1).astype(bool)
    return found


def far_from_land(lat, lon, km: float) -> np.ndarray:
    """Whether each point lies on water with no land pixel within ``km`` (missing: False).

    A window test on the mask, no distances: land is within ``km`` when a land pixel's
    centre lies within ``km`` of the point's pixel centre (a flat ellipse of pixels, so
    exact to about a pixel). Longitude wraps at ±180°; rows past a pole are whole rows.
    """
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    far = np.zeros(lat.shape, dtype=bool)
    finite = np.isfinite(lat) & np.isfinite(lon)
    water = np.flatnonzero(finite)[~is_land(lat[finite], lon[finite])]
    if water.size:
        # Points sharing a pixel share the answer: each pixel's window is tested once.
        rows, cols = _pixels(lat[water], lon[water])
        pixel, inverse = np.unique(rows * _grid()[1] + cols, return_inverse=True)
        land_near = _land_in_windows(pixel // _grid()[1], pixel % _grid()[1], km)
        far[water] = ~land_near[inverse]
    return far


def _land_in_windows(rows: np.ndarray, cols: np.ndarray, km: float) -> np.ndarray:
    """Whether a land pixel's centre lies within ``km`` of each pixel (rows, cols), a band
    of one block at a time (a band's cumulated counts take ~13 MB)."""
    found = np.zeros(rows.shape, dtype=bool)
    band = rows // _grid()[2]
    for b in np.unique(band):
        inside = band == b
        found[inside] = _land_in_band(rows[inside], cols[inside], km)
    return found


def _land_in_band(rows: np.ndarray, cols: np.ndarray, km: float) -> np.ndarray:
    """:func:`_land_in_windows` for pixels of nearby rows: each window is a range of
    columns in each row within ``km``, counted on the packed bits of those rows."""
    n_rows, n_cols, _ = _grid()
    reach = int(km // _PIXEL_KM)
    offsets = np.arange(-reach, reach + 1)
    touched = np.unique(_reflect(rows[:, None] + offsets, n_rows))
    packed, local = _packed_rows(touched)
    packed = packed[local]
    # Land pixels in the bytes before each byte of a row: a range's count is two lookups.
    counts = np.zeros((touched.size, packed.shape[1] + 1), dtype=np.int32)
    np.cumsum(_POPCOUNT[packed], axis=1, out=counts[:, 1:])
    found = np.zeros(rows.shape, dtype=bool)
    for offset in offsets:
        row = rows + offset
        across_pole = (row < 0) | (row >= n_rows)
        row = _reflect(row, n_rows)
        side_km = np.sqrt(max(km**2 - (offset * _PIXEL_KM) ** 2, 0.0))
        pixel_km = _PIXEL_KM * np.cos(np.radians(_LAT0 - (row + 0.5) * _STEP))
        half = np.minimum(np.floor(side_km / pixel_km), n_cols).astype(np.int64)
        # Past a pole, or where the window is wider than the row, the whole row is within km.
        whole = across_pole | (2 * half + 1 >= n_cols)
        lo = np.where(whole, 0, (cols - half) % n_cols)
        hi = np.where(whole, n_cols - 1, (cols + half) % n_cols)
        at = np.searchsorted(touched, row)
        inside = lo <= hi
        # A window that wraps past ±180° is the row's end plus its start.
        land = np.where(
            inside,
            _land_between(packed, counts, at, lo, np.where(inside, hi, n_cols - 1)),
            _land_between(packed, counts, at, np.zeros_like(lo), hi),
        )
        land[~inside] += _land_between(packed, counts, at, lo, n_cols - 1)[~inside]
        found |= land > 0
    return found


def _land_between(packed, counts, at, lo, hi) -> np.ndarray:
    """Land pixels in columns lo … hi (inclusive) of packed rows ``at``: the whole bytes
    they touch, less the pixels of the end bytes outside the range (8 pixels a byte, the
    first in the highest bit)."""
    first, last = lo >> 3, hi >> 3
    before = packed[at, first].astype(np.int64) >> (8 - (lo & 7))
    after = packed[at, last] & ((1 << (7 - (hi & 7))) - 1)
    return counts[at, last + 1] - counts[at, first] - _POPCOUNT[before] - _POPCOUNT[after]


def _reflect(row: np.ndarray, n_rows: int) -> np.ndarray:
    """Rows past a pole as the rows they reach on the far side of it."""
    return np.where(row < 0, -row - 1, np.where(row >= n_rows, 2 * n_rows - row - 1, row))


@cache
def _coast_tree() -> cKDTree:
    """A k-d tree of the centres of land pixels that touch water (about 1.6 M points)."""
    n_rows, _, block_rows = _grid()
    lats, lons = [], []
    for start in range(0, n_rows, block_rows):
        lo, hi = max(0, start - 1), min(n_rows, start + block_rows + 1)
        packed, local = _packed_rows(np.arange(lo, hi))
        land = np.unpackbits(packed[local], axis=1).astype(bool)
        water = ~land
        near = np.roll(water, 1, axis=1) | np.roll(water, -1, axis=1)
        near[1:] |= water[:-1]
        near[:-1] |= water[1:]
        coast = (land & near)[start - lo : start - lo + block_rows]
        rows, cols = np.nonzero(coast)
        lats.append(_LAT0 - (rows + start + 0.5) * _STEP)
        lons.append(_LON0 + (cols + 0.5) * _STEP)
    return cKDTree(unit_vectors(np.concatenate(lats), np.concatenate(lons)))


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
    angle = min(max_km / EARTH_RADIUS_KM, np.pi)
    chord, _ = _coast_tree().query(
        unit_vectors(lat[sea], lon[sea]), k=1, distance_upper_bound=2.0 * np.sin(angle / 2.0)
    )
    km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord, 2.0) / 2.0)
    distance[sea] = np.minimum(np.where(np.isfinite(chord), km, max_km), max_km)
    return distance
