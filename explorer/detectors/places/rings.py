"""Rings of neighbouring cells for the density detector: which occupied cells lie 1, 2,
3 rings from each cell (a k-d tree over cell centres, no per-cell H3 call), how busy
each ring is (a median robust to a venue's spill), and which empty slots lie on or by
water, where no one can be."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from explorer.binning.cells import cell_centres, cell_edge_km, grid_ring_cells
from explorer.detectors.places.common import unit_vectors_km
from explorer.geography.land import is_land

#: Distance between the centres of adjacent hexagons, in edge lengths.
_SPACING_PER_EDGE = np.sqrt(3.0)
#: Search radius in centre spacings beyond the ring number: ring k's farthest centres
#: lie k spacings away, ring k + 1's nearest about 0.87 (k + 1).
_RING_MARGIN = 0.3


@dataclass(frozen=True)
class Neighbourhood:
    """Per cell: indices of occupied neighbours (``n`` = none), the ring (1, 2, ...) of
    each (0 for none), the number of slots searched, and (optionally) how many empty
    slots of each ring lie on open water, where no one can be (n × rings)."""

    index: np.ndarray
    ring: np.ndarray
    slots: int
    sea: np.ndarray | None = None

    @property
    def inner(self) -> np.ndarray:
        """Whether each neighbour is in the first ring."""
        return self.ring == 1


def ring_slots(k: int) -> int:
    """Cells 1..k steps from a hexagon: 6 + 12 + ... = 3k(k + 1)."""
    return 3 * k * (k + 1)


def _ring_of(distance: np.ndarray, k: int) -> np.ndarray:
    """Ring number of neighbours ``distance`` centre spacings away (0 for none), when
    rings 1..k were searched: ring j ends near j spacings and ring j + 1 starts near
    (j + 1)·√3/2; the search radius bounds ring k."""
    ring = np.zeros(distance.shape, dtype=np.int8)
    finite = np.isfinite(distance)
    bounds = [(j + (j + 1) * np.sqrt(3.0) / 2) / 2 for j in range(1, k)]
    ring[finite] = np.searchsorted(bounds, distance[finite]) + 1
    return ring


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
    return Neighbourhood(index[:, 1:], _ring_of(dist[:, 1:] / spacing, k), slots)


def ring_level(values: np.ndarray, hood: Neighbourhood, ring: int) -> np.ndarray:
    """Median over the slots of one ring: a few slots that a venue spills into do not
    move it. Empty slots count zero, except on or by water (left out: a coastal cell's
    ring is half sea, which says nothing of how busy its land is) and in a ring at least
    half occupied, where they count as its quietest occupied slot (the data's edge at a
    lake, a park or a coast the mask calls land is no neighbourhood of zero)."""
    padded = np.append(values.astype(float), 0.0)[hood.index]
    here = hood.ring == ring
    occupied = here.sum(axis=1)
    quietest = np.where(here, padded, np.inf).min(axis=1)
    floor = np.where((occupied >= 3 * ring) & np.isfinite(quietest), quietest, 0.0)
    slots = -np.sort(-np.where(here, padded, -1.0), axis=1)[:, : 6 * ring]
    slots = np.where(slots < 0, floor[:, None], slots)
    wet = hood.sea[:, ring - 1] if hood.sea is not None else 0
    counted = np.clip(6 * ring - wet, np.maximum(occupied, 1), 6 * ring)
    rows = np.arange(len(slots))
    return 0.5 * (slots[rows, (counted - 1) // 2] + slots[rows, counted // 2])


#: An empty slot within this distance of water counts as water: a waterfront strip
#: (beach, port, promenade) is as empty of homes as the water beside it.
_WATERFRONT_KM = 1.0


def _by_water(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Whether each point is on water or within :data:`_WATERFRONT_KM` of it (the point
    and six around it on the 1 km land mask)."""
    wet = ~is_land(lat, lon)
    for bearing in np.radians(np.arange(0, 360, 60)):
        dlat = _WATERFRONT_KM / 111.2 * np.cos(bearing)
        dlon = _WATERFRONT_KM / (111.2 * np.cos(np.radians(lat))) * np.sin(bearing)
        wet |= ~is_land(np.clip(lat + dlat, -90, 90), (lon + dlon + 180) % 360 - 180)
    return wet


def with_sea_slots(hood: Neighbourhood, cells: pl.Series, rings: int) -> Neighbourhood:
    """``hood`` with the number of empty ring slots on or by water per cell and ring,
    looked up only for cells whose rings are not full (at a coast or the data's edge)."""
    sea = np.zeros((len(cells), rings), dtype=np.int64)
    full = np.stack([(hood.ring == r).sum(axis=1) >= 6 * r for r in range(1, rings + 1)], 1)
    open_rows = np.flatnonzero(~full.all(axis=1))
    if not open_rows.size:
        return replace(hood, sea=sea)
    occupied = cells.implode()
    for r in range(1, rings + 1):
        ring = grid_ring_cells(cells.gather(open_rows), r).filter(
            ~pl.col("neighbour").is_in(occupied)
        )
        if ring.is_empty():
            continue
        lat, lon = cell_centres(ring["neighbour"])
        wet = (
            ring.with_columns(wet=pl.Series(_by_water(lat, lon)))
            .group_by("cell", maintain_order=True)
            .agg(pl.col("wet").sum())
        )
        position = pl.DataFrame({"cell": cells.gather(open_rows), "row": open_rows})
        counted = position.join(wet, on="cell")
        sea[counted["row"].to_numpy(), r - 1] = counted["wet"].to_numpy()
    return replace(hood, sea=sea)
