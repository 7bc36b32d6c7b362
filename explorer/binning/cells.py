"""The only module that calls H3: cells, neighbours, parents, centres and boundaries.

Cells are handled as unsigned 64-bit integers inside ``explorer`` and converted to
lower-case hex strings only at the edges (JSON, pydeck, GeoJSON), because 64-bit
integers exceed JavaScript's exact range.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import h3.api.basic_int as h3
import numpy as np
import polars as pl
import polars_h3 as plh3
from h3ronpy.vector import coordinates_to_cells

from explorer._speed.grid_cells import grid_cells

#: Most pings per thread-pool task; large enough to amortise the call, small enough
#: to keep both cores busy to the end.
_CHUNK = 1_000_000
#: Resolutions the suggestion may pick: coarser than 4 hides every city, finer than
#: 10 leaves most cells with a handful of pings.
SUGGEST_MIN_RES, SUGGEST_MAX_RES = 4, 10
#: The suggestion keeps the number of cells covering the data's extent under this,
#: so a map stays readable and per-cell statistics stay stable.
SUGGEST_MAX_CELLS = 20_000
#: ... and wants at least this many pings per covering cell on average.
SUGGEST_MIN_PINGS_PER_CELL = 20
#: Resolution of the cells whose connected groups are the data's places (edge ~8.5 km):
#: a metro's suburbs join their city, towns or metros farther apart stay apart.
PLACE_RESOLUTION = 5
#: Most occupied cells grouped into places; beyond it places are grouped at coarser
#: resolutions, so scattered data cannot make the grouping slow.
PLACE_MAX_CELLS = 20_000
#: Fewest sample points that make a place: fewer cannot measure an extent.
PLACE_MIN_POINTS = 30
#: Share of the sample the places must hold together to speak for the data; below it
#: the data is sparse everywhere and sized as one extent (a country of scattered pings).
PLACES_MIN_SHARE = 0.5
#: Share of a place's points ignored at each edge when measuring its extent: 1 % keeps
#: a city a city even with a few trips out of town.
PLACE_EXTENT_QUANTILE = 0.01


def latlng_to_cells(
    lat: pl.Series | np.ndarray, lon: pl.Series | np.ndarray, resolution: int, threads: int = 2
) -> pl.Series:
    """H3 cell (UInt64) of every point, vectorised and multi-threaded.

    Latitudes must already be within ±90 and longitudes within ±180 (h3 silently
    accepts latitude 95; range checks belong to reading).
    """
    if not 0 <= int(resolution) <= 15:
        raise ValueError(f"H3 resolution must be between 0 and 15, got {resolution}.")
    lat_np = np.ascontiguousarray(np.asarray(lat, dtype=np.float64))
    lon_np = np.ascontiguousarray(np.asarray(lon, dtype=np.float64))
    if len(lat_np) == 0:
        return pl.Series("cell", [], dtype=pl.UInt64)
    cells = grid_cells(
        lat_np,
        lon_np,
        resolution,
        cell_edge_km(resolution),
        lambda a, b: _cells_by_point(a, b, resolution, threads),
        single_face_hexagons,
        threads,
    )
    return pl.Series("cell", cells, dtype=pl.UInt64)


def _cells_by_point(lat: np.ndarray, lon: np.ndarray, resolution: int, threads: int) -> np.ndarray:
    """H3 cell of every point, one h3ronpy call per chunk, chunks on ``threads`` threads."""
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    lon = np.ascontiguousarray(lon, dtype=np.float64)
    if len(lat) == 0:
        return np.zeros(0, dtype=np.uint64)
    step = min(_CHUNK, max(-(-len(lat) // (2 * threads)), 100_000))
    bounds = range(0, len(lat), step)

    def one(start: int) -> np.ndarray:
        stop = start + step
        return np.asarray(coordinates_to_cells(lat[start:stop], lon[start:stop], resolution))

    if len(bounds) == 1 or threads <= 1:
        parts = [one(s) for s in bounds]
    else:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(one, bounds))
    return np.concatenate(parts).astype(np.uint64)


def single_face_hexagons(cells: np.ndarray) -> np.ndarray:
    """True for each cell that is a hexagon lying on one icosahedron face.

    Such a cell is convex on the sphere (its edges are great-circle arcs), which
    :mod:`explorer._speed.grid_cells` relies on; pentagons and cells that cross a face edge
    are not.
    """
    return np.array(
        [not h3.is_pentagon(int(c)) and len(h3.get_icosahedron_faces(int(c))) == 1 for c in cells],
        dtype=bool,
    )


def cell_to_str(cell: int) -> str:
    """Lower-case hex id of one cell."""
    return h3.int_to_str(int(cell))


def cells_to_str(cells: Iterable[int]) -> list[str]:
    """Lower-case hex ids of several cells."""
    return [h3.int_to_str(int(c)) for c in cells]


def str_to_cell(cell: str) -> int:
    """Integer id of a hex cell id; raises ValueError for anything that is not a valid cell."""
    value = h3.str_to_int(cell)
    if not h3.is_valid_cell(value):
        raise ValueError(f"{cell!r} is not a valid H3 cell id.")
    return value


def is_valid_cell(cell: str | int) -> bool:
    """True for a valid H3 cell id (hex string or integer)."""
    try:
        return bool(h3.is_valid_cell(h3.str_to_int(cell) if isinstance(cell, str) else int(cell)))
    except (TypeError, ValueError, OverflowError):
        return False


def cell_resolution(cell: int) -> int:
    return h3.get_resolution(int(cell))


def cells_from_str(values: pl.Series) -> pl.DataFrame:
    """``cell`` (UInt64) and ``resolution`` of hex cell ids (case and blanks aside),
    vectorised; both null where a value is not a valid cell."""
    frame = pl.DataFrame({"text": values.cast(pl.String).str.strip_chars().str.to_lowercase()})
    cells = frame.select(cell=plh3.str_to_int("text"))
    valid = cells.select(plh3.is_valid_cell("cell").fill_null(False)).to_series()
    cells = cells.with_columns(cell=pl.when(valid).then(pl.col("cell")))
    return cells.with_columns(resolution=plh3.get_resolution("cell").cast(pl.Int8))


def cell_centre(cell: int) -> tuple[float, float]:
    """(lat, lon) of a cell's centre."""
    return h3.cell_to_latlng(int(cell))


def cell_centres(cells: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Centres (lat, lon arrays) of many cells, vectorised."""
    frame = pl.DataFrame({"cell": cells.cast(pl.UInt64)})
    out = frame.select(lat=plh3.cell_to_lat("cell"), lon=plh3.cell_to_lng("cell"))
    return out["lat"].to_numpy(), out["lon"].to_numpy()


def cell_boundary(cell: int) -> list[tuple[float, float]]:
    """The cell's polygon as (lat, lon) vertices, longitudes contiguous around its centre.

    h3 gives vertices of a cell across ±180° on both sides (179.9 and −179.9), which
    drawn as they are span the globe; here they are moved by whole turns to within
    180° of the centre, so such a cell's longitudes run past 180 (or −180) instead.
    """
    centre = h3.cell_to_latlng(int(cell))[1]
    ring = h3.cell_to_boundary(int(cell))
    return [(lat, float(_unwrapped(np.float64(lon), np.float64(centre)))) for lat, lon in ring]


def grid_disk(cell: int, k: int) -> list[int]:
    """Cells within k steps of ``cell`` (itself included)."""
    return [int(c) for c in h3.grid_disk(int(cell), k)]


def grid_ring_cells(cells: pl.Series, k: int) -> pl.DataFrame:
    """Every cell exactly ``k`` steps from each of ``cells`` (vectorised): ``cell``,
    ``neighbour`` (UInt64; near a pentagon a ring can hold fewer cells)."""
    frame = pl.DataFrame({"cell": cells.cast(pl.UInt64)})
    rings = frame.with_columns(neighbour=plh3.grid_ring("cell", k)).explode("neighbour")
    return rings.drop_nulls("neighbour").with_columns(pl.col("neighbour").cast(pl.UInt64))


def grid_distance(a: int, b: int) -> int | None:
    try:
        return int(h3.grid_distance(int(a), int(b)))
    except Exception:  # noqa: BLE001 - h3 raises several types for far or pentagon-crossing pairs
        return None


def cell_to_parent(cell: int, resolution: int) -> int:
    return int(h3.cell_to_parent(int(cell), resolution))


def cells_to_parent(cells: pl.Series, resolution: int) -> pl.Series:
    """Parent of every cell at a coarser resolution (vectorised through polars-h3)."""
    frame = pl.DataFrame({"cell": cells})
    return frame.select(plh3.cell_to_parent("cell", resolution).alias("cell"))["cell"]


def cell_area_km2(resolution: int) -> float:
    """Average area of a cell at ``resolution`` in km²."""
    return float(h3.average_hexagon_area(resolution, unit="km^2"))


def cell_edge_km(resolution: int) -> float:
    return float(h3.average_hexagon_edge_length(resolution, unit="km"))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(h3.great_circle_distance((lat1, lon1), (lat2, lon2), unit="km"))


def bbox_area_km2(lat_min: float, lat_max: float, lon_min: float, lon_max: float) -> float:
    """Approximate area of a lat/lon box in km² (spherical, fine for sizing)."""
    earth_r = 6371.0088
    lon_span = lon_max - lon_min
    if lon_span < 0:
        lon_span += 360.0
    height = math.radians(max(lat_max - lat_min, 0.0)) * earth_r
    mid = math.radians((lat_max + lat_min) / 2)
    width = math.radians(lon_span) * earth_r * max(math.cos(mid), 0.01)
    return max(height * width, 1e-6)


def suggest_resolution(
    lat_min: float, lat_max: float, lon_min: float, lon_max: float, n_pings: int
) -> int:
    """The finest resolution whose cells tile the extent in a readable number of cells.

    Picks the finest resolution in [4, 10] at which the data's bounding box is covered
    by at most ``SUGGEST_MAX_CELLS`` cells carrying at least
    ``SUGGEST_MIN_PINGS_PER_CELL`` pings each on average.
    """
    area = bbox_area_km2(lat_min, lat_max, lon_min, lon_max)
    best = SUGGEST_MIN_RES
    for res in range(SUGGEST_MIN_RES, SUGGEST_MAX_RES + 1):
        covering = max(area / cell_area_km2(res), 1.0)
        if covering > SUGGEST_MAX_CELLS or n_pings / covering < SUGGEST_MIN_PINGS_PER_CELL:
            break
        best = res
    return best


def suggest_resolution_for_points(lat: np.ndarray, lon: np.ndarray, n_pings: int) -> int:
    """The resolution that suits the data's dense places, whatever lies between them.

    ``lat``/``lon`` are a sample of the pings (points) and ``n_pings`` the size of the
    whole data. Occupied cells at :data:`PLACE_RESOLUTION` that touch form places; each
    place of at least :data:`PLACE_MIN_POINTS` points gets :func:`suggest_resolution`
    of its own extent (longitudes unwrapped around its densest cell, so a place across
    ±180° is as wide as it is) and of its share of ``n_pings``; the suggestion is the
    ping-weighted median of those. Several metros thus get what one of them gets. When
    such places hold less than :data:`PLACES_MIN_SHARE` of the points, the data is
    sized as one extent, as sparse country-wide data should be.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    if len(lat) == 0:
        return suggest_resolution(0.0, 0.0, 0.0, 0.0, n_pings)
    place, ref_lon = _places_of(lat, lon)
    sizes = np.bincount(place)
    big = sizes >= PLACE_MIN_POINTS
    if sizes[big].sum() < PLACES_MIN_SHARE * len(lat):
        # One extent for everything, unwrapped around the densest place.
        place, ref_lon = np.zeros(len(lat), dtype=np.int64), ref_lon[[np.argmax(sizes)]]
        sizes, big = np.array([len(lat)]), np.array([True])
    frame = pl.DataFrame(
        {"place": place, "lat": lat, "lon": _unwrapped(lon, ref_lon[place])}
    ).filter(pl.col("place").is_in(np.flatnonzero(big).tolist()))
    q = PLACE_EXTENT_QUANTILE
    boxes = frame.group_by("place").agg(
        n=pl.len(),
        lat_lo=pl.col("lat").quantile(q),
        lat_hi=pl.col("lat").quantile(1 - q),
        lon_lo=pl.col("lon").quantile(q),
        lon_hi=pl.col("lon").quantile(1 - q),
    )
    scale = max(n_pings, len(lat)) / len(lat)
    votes = sorted(
        (suggest_resolution(a, b, c, d, round(n * scale)), n)
        for n, a, b, c, d in boxes.select("n", "lat_lo", "lat_hi", "lon_lo", "lon_hi").rows()
    )
    weights = np.cumsum([n for _, n in votes])
    return votes[int(np.searchsorted(weights, weights[-1] / 2))][0]


def _places_of(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Place number of every point (groups of touching occupied coarse cells) and the
    longitude of each place's densest cell's centre."""
    cells = latlng_to_cells(lat, lon, PLACE_RESOLUTION)
    res = PLACE_RESOLUTION
    occupied = cells.unique()
    while occupied.len() > PLACE_MAX_CELLS and res > 0:
        res -= 1
        cells = cells_to_parent(cells, res)
        occupied = cells.unique()
    values, inverse, counts = np.unique(cells.to_numpy(), return_inverse=True, return_counts=True)
    label = np.empty(len(values), dtype=np.int64)
    ref_lon = []
    for number, members in enumerate(connected_components(values.tolist())):
        at = np.searchsorted(values, members)
        label[at] = number
        densest = members[int(np.argmax(counts[at]))]
        ref_lon.append(h3.cell_to_latlng(densest)[1])
    return label[inverse], np.array(ref_lon)


def _unwrapped(lon: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Longitudes moved by whole turns to within 180° of ``ref`` (may leave ±180);
    those already within it are returned exactly."""
    return lon + 360.0 * np.round((ref - lon) / 360.0)


def connected_components(cells: Iterable[int], k: int = 1) -> list[list[int]]:
    """Group cells into components whose members are within ``k`` grid steps.

    Returns components largest first, each sorted; used to tell one cause in
    neighbouring cells as one finding.
    """
    remaining = {int(c) for c in cells}
    components = []
    while remaining:
        seed = remaining.pop()
        stack, members = [seed], [seed]
        while stack:
            current = stack.pop()
            for near in h3.grid_disk(current, k):
                if near in remaining:
                    remaining.remove(near)
                    stack.append(near)
                    members.append(near)
        components.append(sorted(members))
    return sorted(components, key=lambda comp: (-len(comp), comp[0]))
