"""A reference population: regions with their residents, to compare a panel's homes with.

Regions are polygons in WGS 84 (a census layer: tracts, districts, municipalities) or
H3 cells (a gridded population such as WorldPop or Kontur, as a CSV of cells). Either
way each region has a string id, a name to show and a number of residents; homes are
placed in regions by where their cell's centre lies. Files are read by
:mod:`explorer.reading.reference_files`; this module holds the record and the lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import shapely

#: Region ids of points outside every region.
OUTSIDE = None


@dataclass(frozen=True)
class Reference:
    """Regions with residents.

    ``regions``: one row per region with ``region_id`` (str, unique), ``name`` (str)
    and ``population`` (float, >= 0); ``geometry`` holds the regions' shapely polygons
    in WGS 84 in the same order (empty for cell regions). ``cells`` maps H3 cells
    (``cell``, UInt64, any one resolution) to ``region_id`` for regions given as cells
    (None for polygons). ``coarse`` marks the built-in default (cities from a gazetteer),
    which stories call coarse. ``rejected`` counts the rows of the file left out, by
    reason; ``columns`` says which columns were read as id, name and population.
    """

    source: str
    regions: pl.DataFrame
    geometry: tuple[Any, ...] = ()
    cells: pl.DataFrame | None = None
    coarse: bool = False
    rejected: dict[str, int] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def residents(self) -> float:
        return float(self.regions["population"].sum())

    def region_of_points(self, lat: np.ndarray, lon: np.ndarray) -> pl.Series:
        """The region id of each point (null outside every region): the first region,
        in file order, whose polygon covers it."""
        if self.cells is not None:
            raise ValueError("regions given as H3 cells are looked up by cell, not by point")
        ids = self.regions["region_id"].to_numpy()
        out = np.full(len(lat), None, dtype=object)
        if len(lat) and self.geometry:
            points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
            tree = shapely.STRtree(list(self.geometry))
            point_index, region_index = tree.query(points, predicate="covered_by")
            # The first region in file order wins where regions overlap.
            order = np.lexsort((region_index, point_index))
            point_index, region_index = point_index[order], region_index[order]
            first = np.ones(point_index.size, dtype=bool)
            first[1:] = point_index[1:] != point_index[:-1]
            out[point_index[first]] = ids[region_index[first]]
        return pl.Series("region_id", out.tolist(), dtype=pl.String)
