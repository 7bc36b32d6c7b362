"""Known places that location data defaults to: country and region centroids, capitals and
well-known default coordinates, looked up offline.

The places come from ``data/known_places.csv`` (built by ``scripts/build_gazetteer.py`` from
Natural Earth, the US Census Bureau, GeoNames and countryinfo; see ``data/README.md``). A
place may appear several times under one name, once per variant that vendors use (a polygon
centroid, a representative point, a rounded "46, 2"), so a pile-up on any of them is named.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from scipy.spatial import cKDTree

from explorer.geography.distance import EARTH_RADIUS_KM, unit_vectors

__all__ = ["KnownPlace", "known_places", "known_places_near"]

KINDS = ("country_centroid", "region_centroid", "capital", "default_coordinate")


@dataclass(frozen=True)
class KnownPlace:
    """A named point that data defaults to when it knows no better location."""

    name: str  # as a story says it: "the centroid of France", "Paris, the capital of France"
    kind: str  # "country_centroid" | "region_centroid" | "capital" | "default_coordinate"
    lat: float
    lon: float
    source: str  # e.g. "Natural Earth", "GeoNames"


@cache
def known_places() -> tuple[KnownPlace, ...]:
    """Every place of the shipped gazetteer, read once on first use."""
    path = resources.files("explorer.geography") / "data" / "known_places.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(
            KnownPlace(
                row["name"], row["kind"], float(row["lat"]), float(row["lon"]), row["source"]
            )
            for row in csv.DictReader(handle)
        )


@cache
def _tree() -> cKDTree:
    places = known_places()
    lat = np.array([p.lat for p in places])
    lon = np.array([p.lon for p in places])
    return cKDTree(unit_vectors(lat, lon))


def known_places_near(lat, lon, within_km: float) -> list[KnownPlace | None]:
    """For each point, the nearest known place within ``within_km`` (None if none).

    ``lat`` and ``lon`` are degrees (scalars or array-likes of one length); distances are
    great-circle kilometres. Points with a missing coordinate get None.
    """
    lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    if lat.shape != lon.shape:
        raise ValueError(f"lat and lon differ in length ({lat.size} and {lon.size})")
    places = known_places()
    found: list[KnownPlace | None] = [None] * lat.size
    finite = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if finite.size == 0 or within_km < 0:
        return found
    angle = min(within_km / EARTH_RADIUS_KM, np.pi)
    chord = 2.0 * np.sin(angle / 2.0) * (1 + 1e-12)
    _, index = _tree().query(
        unit_vectors(lat[finite], lon[finite]), k=1, distance_upper_bound=chord
    )
    for row, place in zip(finite[index < len(places)], index[index < len(places)]):
        found[row] = places[place]
    return found
