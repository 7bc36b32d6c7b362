"""Naming a point for people, offline: "around London, United Kingdom", "in Fiji".

A city names a point near it: a capital of the gazetteer (:mod:`.gazetteer`) or the
principal city of a time zone (tzdata's ``zone.tab``, which also gives each zone's
country, named from ``iso3166.tab``). Farther from any city, the country of the time
zone at the point names it (time-zone borders follow countries' borders); at sea, the
nearest country centroid within a limit; else its coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import tzfpy

from explorer.geography.distance import haversine_km
from explorer.geography.gazetteer import known_places

__all__ = ["PlaceName", "name_point"]

#: A city (capital or time-zone city) names the data when its centre lies this close.
CITY_KM = 60.0
#: Without a time zone's country, the nearest country centroid names it within this.
COUNTRY_KM = 800.0
#: Where a country's name from the time-zone tables reads badly in a sentence.
_COUNTRY_NAMES = {
    "GB": "the United Kingdom", "US": "the United States", "AE": "the United Arab Emirates",
    "NL": "the Netherlands", "PH": "the Philippines", "BS": "the Bahamas", "GM": "the Gambia",
    "CD": "the Democratic Republic of the Congo", "CG": "the Republic of the Congo",
    "CF": "the Central African Republic", "DO": "the Dominican Republic", "MV": "the Maldives",
    "KP": "North Korea", "KR": "South Korea", "MM": "Myanmar", "SZ": "Eswatini",
    "AS": "American Samoa", "WS": "Samoa", "VG": "the British Virgin Islands",
    "VI": "the US Virgin Islands", "TC": "the Turks and Caicos Islands",
}  # fmt: skip


@dataclass(frozen=True)
class PlaceName:
    """How a sentence names a point: "around London, United Kingdom", "in Fiji"."""

    name: str  # "London, United Kingdom", "Fiji", "12.3° N, 45.6° E"
    preposition: str  # "around" (a city), "in" (a country) or "near" (coordinates)
    zone: str  # the IANA time zone at the point ("UTC" where none is known)
    continent: str | None

    @property
    def where(self) -> str:
        return f"{self.preposition} {self.name}"


def name_point(lat: float, lon: float) -> PlaceName:
    """The nearest city within ``CITY_KM``, else the country, else the coordinates."""
    zone = tzfpy.get_tz(float(lon), float(lat)) or "UTC"
    continent = _continent(zone, lat, lon)
    city = _nearest(_cities(), lat, lon, CITY_KM)
    if city:
        return PlaceName(city, "around", zone, continent)
    country = _zone_countries().get(zone) or _nearest(_countries(), lat, lon, COUNTRY_KM)
    if country:
        return PlaceName(country, "in", zone, continent)
    ns, ew = "N" if lat >= 0 else "S", "E" if lon >= 0 else "W"
    return PlaceName(f"{abs(lat):.1f}° {ns}, {abs(lon):.1f}° {ew}", "near", zone, continent)


def _nearest(points: tuple[np.ndarray, np.ndarray, list[str]], lat, lon, km) -> str | None:
    lats, lons, names = points
    distance = haversine_km(lats, lons, lat, lon)
    at = int(np.argmin(distance))
    return names[at] if distance[at] <= km else None


def _tzdata(name: str) -> list[list[str]]:
    """Rows of a tab-separated table shipped with tzdata (empty if it is absent)."""
    try:
        text = (resources.files("tzdata") / "zoneinfo" / name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return []
    return [line.split("\t") for line in text.splitlines() if line and line[0] != "#"]


@cache
def _country_of_code() -> dict[str, str]:
    out = {}
    for code, name, *_ in _tzdata("iso3166.tab"):
        plain = name.replace("&", "and").replace("St ", "Saint ").removesuffix(" Is")
        out[code] = _COUNTRY_NAMES.get(code, plain)
    return out


@cache
def _zone_countries() -> dict[str, str]:
    names = _country_of_code()
    return {row[2]: names[row[0]] for row in _tzdata("zone.tab") if row[0] in names}


def _degrees(text: str) -> float:
    """'+404251' (±DDMMSS) or '-07400' (±DDDMM) -> degrees."""
    sign, digits = (-1 if text[0] == "-" else 1), text[1:]
    head = 2 if len(digits) in (4, 6) else 3
    parts = [digits[head:][i : i + 2] for i in range(0, len(digits) - head, 2)]
    return sign * (int(digits[:head]) + sum(int(p) / 60 ** (i + 1) for i, p in enumerate(parts)))


@cache
def _cities() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Capitals of the gazetteer and the principal cities of time zones: (lat, lon, name)."""
    rows = []
    for place in known_places():
        if place.kind == "capital" and ", the capital of " in place.name:
            city, country = place.name.split(", the capital of ", 1)
            country = country.removeprefix("the ")
            rows.append((place.lat, place.lon, city if city == country else f"{city}, {country}"))
    names = _country_of_code()
    for code, where, zone, *_ in _tzdata("zone.tab"):
        split = max(where.rfind("+"), where.rfind("-"))
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
        country = names.get(code, "").removeprefix("the ")
        label = city if city == country or not country else f"{city}, {country}"
        rows.append((_degrees(where[:split]), _degrees(where[split:]), label))
    lat, lon, name = zip(*rows)
    return np.array(lat), np.array(lon), list(name)


@cache
def _countries() -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows = [
        (p.lat, p.lon, p.name.removeprefix("the centroid of "))
        for p in known_places()
        if p.kind == "country_centroid"
    ]
    lat, lon, name = zip(*rows)
    return np.array(lat), np.array(lon), list(name)


def _continent(zone: str, lat: float, lon: float) -> str | None:
    """The continent of a time zone; the Americas split at the isthmus of Panama."""
    area = zone.split("/", 1)[0]
    if area == "America":
        south = lat < 7.5 or (lat < 13.0 and lon > -77.5)
        return "South America" if south else "North America"
    return {"Europe": "Europe", "Asia": "Asia", "Africa": "Africa"}.get(
        area, "Oceania" if area in ("Australia", "Pacific") else None
    )
