"""A reference population for a generated city: districts with residents, as GeoJSON.

The districts are a polar grid over the city (a centre, then rings cut into compass
sectors, named "Inner North", "Outer South-West" …) and each district's residents are
proportional to the generator's own home density there: homes are drawn again from
the same mixture (core, the run's sub-centres, the radial gradient, kept to land) that
:mod:`explorer.synth.pings` draws the devices' homes from. A panel generated with the
same arguments is then a uniform sample of these residents, up to chance, and a
district can be planted under- or over-sampled by scaling its residents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import shapely

from explorer.synth.biases import human_day, is_weekend, offset_deg
from explorer.synth.cities import CITIES, City, on_land
from explorer.synth.pings import (
    _PINGS_PER_DEVICE,
    _activity,
    _device_counts,
    _land_places,
    _positions,
    _sub_centres,
)

#: Shares of homes drawn from (core, sub-centres, gradient), as ``pings._positions`` does.
HOME_SHARES = (0.05, 0.25, 0.70)
#: Outer radii of the rings, as fractions of the city's radius (the first is the centre).
RING_FRACTIONS = (0.11, 0.28, 0.5, 1.0)
RING_NAMES = ("Centre", "Inner", "Middle", "Outer")
SECTOR_NAMES = (
    "East", "North-East", "North", "North-West", "West", "South-West", "South", "South-East",
)  # fmt: skip
#: Homes drawn to estimate each district's share of the density (shares to ~0.3 %).
DENSITY_DRAWS = 2_000_000
#: Vertices along each quarter turn of a ring's arc.
_ARC_STEPS = 24


@dataclass(frozen=True)
class Homes:
    """Where a generated city's homes come from: the run's sub-centres and every device's
    home, as (x, y) km east and north of the city's centre."""

    city: City
    sub_centres: np.ndarray
    homes: np.ndarray


@dataclass(frozen=True)
class District:
    """One district: id, name, polygon in km around the centre, residents, and what was
    planted there ("" when nothing)."""

    region_id: str
    name: str
    polygon_km: shapely.Polygon
    residents: int
    planted: str = ""


def generator_homes(
    n_pings: int,
    *,
    city: str = "new_york",
    seed: int = 0,
    start: str = "2024-06-03",
    days: int = 14,
) -> Homes:
    """The sub-centres and homes :func:`explorer.synth.pings.generate_pings` draws with the
    same arguments, by replaying its random draws up to the homes."""
    where = CITIES[city]
    rng = np.random.default_rng(seed)
    start_local_s = int(np.datetime64(start, "s").astype(np.int64))
    n_devices = max(1, round(n_pings / _PINGS_PER_DEVICE))
    dev = np.repeat(np.arange(n_devices), _device_counts(rng, n_devices, n_pings))
    works = rng.random(n_devices) < 0.8
    day, hour, _ = human_day(rng, len(dev), days, start_local_s)
    act = _activity(rng, hour, is_weekend(day, start_local_s), works[dev])
    before = rng.bit_generator.state
    subs = on_land(rng, where, _sub_centres(rng, where), lambda r: _sub_centres(rng, where)[r])
    rng.bit_generator.state = before
    _, homes = _positions(rng, where, dev, act, n_devices)
    return Homes(where, subs, homes)


def district_grid(city: City) -> list[tuple[str, str, shapely.Polygon]]:
    """(id, name, polygon in km) of the centre and the ring sectors, centre first.

    Every ring's arcs share their vertices with the next ring's, so the districts tile
    the city's disc with no gap and no overlap.
    """
    radii = [f * city.radius_km for f in RING_FRACTIONS]
    n_sectors, steps = len(SECTOR_NAMES), _ARC_STEPS // 4
    half = np.pi / n_sectors
    turn = np.linspace(-half, 2 * np.pi - half, n_sectors * steps + 1)
    unit = np.column_stack([np.cos(turn), np.sin(turn)])
    out = [("centre", RING_NAMES[0], shapely.Polygon(unit[:-1] * radii[0]))]
    for ring in range(1, len(radii)):
        for k, sector in enumerate(SECTOR_NAMES):
            arc = unit[k * steps : (k + 1) * steps + 1]
            code = "".join(w[0] for w in sector.split("-")).lower()
            polygon = shapely.Polygon(np.vstack([arc * radii[ring], arc[::-1] * radii[ring - 1]]))
            out.append(
                (f"{RING_NAMES[ring].lower()}-{code}", f"{RING_NAMES[ring]} {sector}", polygon)
            )
    return out


def district_residents(
    homes: Homes, total: float, *, draws: int = DENSITY_DRAWS, seed: int = 0
) -> list[District]:
    """Districts with residents in proportion to the generator's home density, ``total``
    residents over the whole city (those beyond the outer ring belong to no district).

    Districts with no resident (at sea) are left out.
    """
    rng = np.random.default_rng(seed)
    xy = _land_places(rng, draws, homes.city, homes.sub_centres, list(HOME_SHARES))
    out = []
    for region_id, name, polygon in district_grid(homes.city):
        inside = np.count_nonzero(shapely.contains_xy(polygon, xy[:, 0], xy[:, 1]))
        if inside:
            out.append(District(region_id, name, polygon, round(total * inside / draws)))
    return out


def plant_under_sampled(districts: list[District], region_id: str, factor: float) -> list[District]:
    """Districts with ``region_id``'s residents ``factor`` times the density's: a panel
    drawn from the density then samples it ``factor`` times less than the rest."""
    if region_id not in {d.region_id for d in districts}:
        raise ValueError(f"no district {region_id!r}")
    note = (
        f"residents set {factor:g} times what the generator's home density gives: "
        f"the panel samples this district about {factor:g} times less than the rest"
    )
    return [
        District(d.region_id, d.name, d.polygon_km, round(d.residents * factor), note)
        if d.region_id == region_id
        else d
        for d in districts
    ]


def _ring_lonlat(city: City, ring: np.ndarray) -> list[list[float]]:
    lat, lon = offset_deg(city.lat, city.lon, ring[:, 0], ring[:, 1])
    return [[round(float(x), 6), round(float(y), 6)] for x, y in zip(lon, lat, strict=True)]


def to_geojson(city: City, districts: list[District]) -> str:
    """A GeoJSON FeatureCollection (WGS 84, lon/lat) with ``id``, ``name``, ``residents``
    and, where something was planted, ``planted`` per district."""
    east = city.lon + city.radius_km / (111.320 * np.cos(np.radians(city.lat)))
    west = city.lon - city.radius_km / (111.320 * np.cos(np.radians(city.lat)))
    if east >= 180 or west < -180:
        raise ValueError(f"{city.name}'s districts would cross the 180° meridian")
    features = []
    for d in districts:
        ring = np.asarray(shapely.get_coordinates(shapely.orient_polygons(d.polygon_km)))
        properties = {"id": d.region_id, "name": d.name, "residents": d.residents}
        if d.planted:
            properties["planted"] = d.planted
        features.append(
            {
                "type": "Feature",
                "properties": properties,
                "geometry": {"type": "Polygon", "coordinates": [_ring_lonlat(city, ring)]},
            }
        )
    # One feature a line: the file reads (and diffs) district by district.
    lines = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    return '{"type": "FeatureCollection", "features": [\n' + lines + "\n]}\n"
