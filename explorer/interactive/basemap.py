"""The offline base map under the cells: water, land, coasts, borders and place names.

Everything comes from files shipped in the package (``explorer/geography/data/basemap.npz``
and ``basemap_places.csv``, built by ``scripts/build_basemap.py`` from Natural Earth and
GeoNames), so a map has a coast and names with no network. Around the view, land and
borders come at 1:10m detail (simplified to ~500 m) and the names of cities of 100,000+
people; elsewhere the world is drawn at 1:110m with capitals and the largest cities.
Rows are shaped for deck.gl's PolygonLayer, PathLayer and TextLayer (lon, lat order).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon, box

DATA = Path(__file__).resolve().parents[1] / "geography" / "data"
#: Views zoomed out further than this (a map ~30° of longitude wide) get the world level only.
MIN_DETAIL_ZOOM = 4.5
#: The detail box is this many times the visible span of the view, so zooming out a little
#: keeps the detail.
DETAIL_SPAN_FACTOR = 3.0
#: The detail box reaches at least, and at most, this far from the view centre (degrees of
#: longitude): a city's region, at most a large country's.
MIN_DETAIL_HALF_SPAN = 2.0
MAX_DETAIL_HALF_SPAN = 12.0
#: Most place names sent from inside the detail box (most populous first).
MAX_DETAIL_PLACES = 400
#: Outside the detail box, names of capitals and of cities at least this populous.
WORLD_PLACE_POPULATION = 3_000_000
#: Names closer than this share of the view's width give way to the more populous one, so
#: the names at the first zoom do not overlap.
NAME_SPACING = 0.06
#: Web Mercator's latitude limit: a map shows nothing beyond it.
MAX_LAT = 85.0


@dataclass(frozen=True)
class BaseMap:
    """Layer rows of the offline base map around one view.

    ``land``: ``{"polygon": [outer ring, holes...]}`` rows; ``borders``: ``{"path": [...]}``
    rows; ``places``: ``{"name", "lon", "lat", "population", "capital", "size"}`` rows,
    most populous first; ``water``: one polygon row covering the map; ``detail_box``:
    (lon_min, lat_min, lon_max, lat_max) of the 1:10m part, ``None`` for the world only.
    """

    land: list[dict] = field(default_factory=list)
    borders: list[dict] = field(default_factory=list)
    places: list[dict] = field(default_factory=list)
    water: list[dict] = field(default_factory=list)
    detail_box: tuple[float, float, float, float] | None = None

    @property
    def characters(self) -> str:
        """Every character of the place names (the TextLayer's font atlas needs them)."""
        return "".join(sorted({ch for row in self.places for ch in row["name"]} | {" "}))

    @cached_property
    def rows_json(self) -> dict[str, str]:
        """Each layer's rows as JSON text (serialised once per base map)."""
        names = ("land", "borders", "places", "water")
        return {name: json.dumps(getattr(self, name), separators=(",", ":")) for name in names}


@lru_cache(maxsize=1)
def _levels() -> dict[str, dict[str, list]]:
    """Both levels decoded into shapely geometries, once per process."""
    with np.load(DATA / "basemap.npz") as stored:
        scale = float(stored["scale"])
        levels = {}
        for name in ("world", "detail"):
            rings = _decode(stored[f"{name}_land_xy"], stored[f"{name}_land_rings"], scale)
            firsts = stored[f"{name}_land_polygons"]
            polygons = [
                Polygon(rings[a], rings[a + 1 : b]) for a, b in zip(firsts[:-1], firsts[1:])
            ]
            # Rounding to stored thousandths can make a long coast touch itself.
            polygons = [q for p in polygons for q in _parts(shapely.make_valid(p))]
            lines = _decode(stored[f"{name}_border_xy"], stored[f"{name}_border_lines"], scale)
            levels[name] = {"land": polygons, "borders": [LineString(x) for x in lines]}
    return levels


def _decode(deltas: np.ndarray, offsets: np.ndarray, scale: float) -> list[np.ndarray]:
    return [
        np.cumsum(deltas[a:b], axis=0, dtype=np.int64) / scale
        for a, b in zip(offsets[:-1], offsets[1:])
    ]


@lru_cache(maxsize=1)
def places() -> tuple[dict, ...]:
    """Every shipped place (cities of 100,000+ people and capitals), most populous first."""
    with (DATA / "basemap_places.csv").open(encoding="utf-8", newline="") as handle:
        rows = [
            {
                "name": row["name"],
                "lat": float(row["lat"]),
                "lon": float(row["lon"]),
                "population": int(row["population"]),
                "capital": row["capital"] == "1",
            }
            for row in csv.DictReader(handle)
        ]
    return tuple(rows)


def visible_span(zoom: float) -> float:
    """Degrees of longitude an ~800 px wide Web Mercator map shows at ``zoom``."""
    return 800 * 360 / (256 * 2**zoom)


def detail_box(view: dict[str, float]) -> tuple[float, float, float, float] | None:
    """The box (lon_min, lat_min, lon_max, lat_max) drawn at 1:10m around a view.

    Whole degrees, so nearby views share one base map. ``lon_max`` may pass 180 when the
    view is near the antimeridian. ``None`` when the view shows most of the world.
    """
    zoom = float(view.get("zoom", 0.0))
    if zoom < MIN_DETAIL_ZOOM:
        return None
    half = DETAIL_SPAN_FACTOR * visible_span(zoom) / 2
    half = min(max(half, MIN_DETAIL_HALF_SPAN), MAX_DETAIL_HALF_SPAN)
    lat, lon = float(view["latitude"]), float(view["longitude"])
    # A degree of latitude is 1 / cos(lat) times taller than one of longitude on the map.
    lat_half = max(half * math.cos(math.radians(min(abs(lat), 80.0))), MIN_DETAIL_HALF_SPAN)
    return (
        float(math.floor(lon - half)),
        float(max(math.floor(lat - lat_half), -MAX_LAT)),
        float(math.ceil(lon + half)),
        float(min(math.ceil(lat + lat_half), MAX_LAT)),
    )


def base_map(view: dict[str, float]) -> BaseMap:
    """The base map for a view (``latitude``, ``longitude``, ``zoom``), cached by its box
    and its zoom in half steps."""
    zoom = round(float(view.get("zoom", 0.0)) * 2) / 2
    return _base_map_for_box(detail_box(view), visible_span(zoom) * NAME_SPACING)


@lru_cache(maxsize=16)
def _base_map_for_box(region: tuple[float, float, float, float] | None, spacing: float) -> BaseMap:
    levels = _levels()
    pieces = _pieces(region)
    land = [_ring_row(p, 0.0) for p in _outside(levels["world"]["land"], pieces)]
    borders = [_path_row(line, 0.0) for line in _outside(levels["world"]["borders"], pieces)]
    for piece, shift in pieces:
        land += [_ring_row(p, shift) for p in _inside(levels["detail"]["land"], piece)]
        borders += [_path_row(x, shift) for x in _inside(levels["detail"]["borders"], piece)]
    return BaseMap(
        land=land,
        borders=borders,
        places=_spaced(_places(pieces), spacing),
        water=[{"polygon": _water_ring(region)}],
        detail_box=region,
    )


def _pieces(region: tuple[float, float, float, float] | None) -> list[tuple[Polygon, float]]:
    """The detail box as boxes within ±180°, each with the shift that puts it back in place."""
    if region is None:
        return []
    west, south, east, north = region
    found = []
    for shift in (-360.0, 0.0, 360.0):
        lo, hi = max(west - shift, -180.0), min(east - shift, 180.0)
        if lo < hi:
            found.append((box(lo, south, hi, north), shift))
    return found


def _outside(geometries: list, pieces: list[tuple[Polygon, float]]) -> list:
    if not pieces:
        return geometries
    hole = shapely.union_all([piece for piece, _ in pieces])
    kept = []
    for geometry in geometries:
        if not geometry.intersects(hole):
            kept.append(geometry)
        elif not hole.contains(geometry):
            kept.extend(_parts(geometry.difference(hole)))
    return kept


def _inside(geometries: list, piece: Polygon) -> list:
    kept = []
    for geometry in geometries:
        if piece.contains(geometry):
            kept.append(geometry)
        elif geometry.intersects(piece):
            kept.extend(_parts(shapely.clip_by_rect(geometry, *piece.bounds)))
    return kept


def _parts(geometry) -> list:
    """The polygons and lines in a clipped geometry, collections unpacked (points dropped)."""
    if isinstance(geometry, Polygon | LineString):
        return [] if geometry.is_empty else [geometry]
    return [p for part in getattr(geometry, "geoms", []) for p in _parts(part)]


def _coords(points, shift: float) -> list[list[float]]:
    array = np.asarray(points)[:, :2].copy()
    array[:, 0] += shift
    return np.round(array, 3).tolist()


def _ring_row(polygon: Polygon, shift: float) -> dict:
    rings = [polygon.exterior, *polygon.interiors]
    return {"polygon": [_coords(ring.coords, shift) for ring in rings]}


def _path_row(line: LineString, shift: float) -> dict:
    return {"path": _coords(line.coords, shift)}


def _places(pieces: list[tuple[Polygon, float]]) -> list[dict]:
    """Names near the view (up to MAX_DETAIL_PLACES), then capitals and the largest cities."""
    chosen: list[dict] = []
    taken: set[int] = set()
    for piece, shift in pieces:
        west, south, east, north = piece.bounds
        near = [
            (i, p)
            for i, p in enumerate(places())
            if west <= p["lon"] <= east and south <= p["lat"] <= north
        ]
        for i, place in near[:MAX_DETAIL_PLACES]:
            chosen.append(_place_row(place, shift))
            taken.add(i)
    for i, place in enumerate(places()):
        big = place["capital"] or place["population"] >= WORLD_PLACE_POPULATION
        if big and i not in taken:
            chosen.append(_place_row(place, 0.0))
    return sorted(chosen, key=lambda row: -row["population"])


def _spaced(rows: list[dict], spacing: float) -> list[dict]:
    """The rows (most populous first) with no two closer than ``spacing`` degrees of
    longitude on the map (a degree of latitude counts 1 / cos(lat) as much)."""
    kept: list[dict] = []
    lon = np.array([r["lon"] for r in rows])
    lat = np.array([r["lat"] for r in rows])
    stretch = 1 / np.maximum(np.cos(np.radians(lat)), 0.2)
    chosen = np.zeros(len(rows), dtype=bool)
    for i in range(len(rows)):
        near = (np.abs(lon[chosen] - lon[i]) < spacing) & (
            np.abs(lat[chosen] - lat[i]) * stretch[i] < spacing
        )
        if not near.any():
            chosen[i] = True
            kept.append(rows[i])
    return kept


def _place_row(place: dict, shift: float) -> dict:
    large = place["capital"] or place["population"] >= 1_000_000
    return {
        "name": place["name"],
        "lon": round(place["lon"] + shift, 4),
        "lat": place["lat"],
        "population": place["population"],
        "capital": place["capital"],
        "size": 14 if large else 12,
    }


def _water_ring(region: tuple[float, float, float, float] | None) -> list[list[list[float]]]:
    """One rectangle of water under everything, wide enough for a shifted detail box."""
    west = -180.0 if region is None else min(-180.0, region[0])
    east = 180.0 if region is None else max(180.0, region[2])
    return [[[west, -MAX_LAT], [east, -MAX_LAT], [east, MAX_LAT], [west, MAX_LAT]]]
