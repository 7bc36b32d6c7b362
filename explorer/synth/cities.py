"""The cities the generator imitates: centre, time zone, radius and, for cities the sea
surrounds, a land outline that homes and workplaces keep to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from explorer.synth.biases import wrap_lon


@dataclass(frozen=True)
class City:
    """A city to simulate: centre (WGS 84 degrees), IANA zone and radius in km.

    ``land`` outlines (lat, lon vertices) the land that homes, workplaces and other
    places keep to, drawn a little inside the real coast; empty means land all round.
    GPS noise and commutes still stray a little offshore, as real fixes do.
    """

    name: str
    lat: float
    lon: float
    zone: str
    radius_km: float
    land: tuple[tuple[float, float], ...] = ()


#: Singapore's main island, ~0.5–1 km inside its coast: the sea 2 km south of the
#: centre, the Johor Strait 16 km north, open water east and west.
_SINGAPORE_LAND = (
    (1.335, 103.640), (1.365, 103.675), (1.405, 103.700), (1.435, 103.735),
    (1.440, 103.775), (1.450, 103.810), (1.440, 103.850), (1.415, 103.900),
    (1.385, 103.940), (1.370, 103.985), (1.340, 104.010), (1.315, 103.960),
    (1.300, 103.900), (1.292, 103.860), (1.282, 103.830), (1.288, 103.790),
    (1.305, 103.740), (1.310, 103.680),
)  # fmt: skip
#: Taveuni (Fiji), 42 km by 10 km along a NE–SW axis that the 180° meridian crosses:
#: an ellipse of 32 km by 7 km inside it.
_TAVEUNI_LAND = (
    (-16.727, -179.897), (-16.752, -179.892), (-16.804, -179.908), (-16.870, -179.939),
    (-16.932, -179.978), (-16.973, 179.985), (-16.983, 179.961), (-16.958, 179.956),
    (-16.906, 179.972), (-16.840, -179.997), (-16.778, -179.958), (-16.737, -179.921),
)  # fmt: skip

CITIES: dict[str, City] = {
    "new_york": City("New York", 40.7540, -73.9840, "America/New_York", 18.0),
    "sao_paulo": City("São Paulo", -23.5505, -46.6333, "America/Sao_Paulo", 20.0),
    "london": City("London", 51.5074, -0.1278, "Europe/London", 18.0),
    "singapore": City("Singapore", 1.3000, 103.8450, "Asia/Singapore", 14.0, _SINGAPORE_LAND),
    "taveuni": City("Taveuni", -16.8850, -179.9850, "Pacific/Fiji", 8.0, _TAVEUNI_LAND),
}

#: Metros of :func:`generate_metros` unless told: four metros on four continents.
METROS: tuple[str, ...] = ("new_york", "london", "sao_paulo", "singapore")

#: Every bias :func:`generate_pings` can plant, in the order they are planted.


#: Draws that a place at sea gets before it moves to the (on land) centre instead.
_LAND_TRIES = 50


def _land_km(city: City) -> np.ndarray:
    """The land outline as (x, y) km from the centre (the short way round ±180°)."""
    lat = np.array([v[0] for v in city.land])
    lon = np.array([v[1] for v in city.land])
    dy = (lat - city.lat) * 110.574
    dx = wrap_lon(lon - city.lon) * 111.320 * np.cos(np.radians(city.lat))
    return np.column_stack([dx, dy])


def _inside(xy: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """Whether each point (km) lies inside the outline polygon (km)."""
    return shapely.contains_xy(shapely.Polygon(outline), xy[:, 0], xy[:, 1])


def on_land(rng: np.random.Generator, city: City, xy: np.ndarray, draw) -> np.ndarray:
    """``xy`` (km) with every point at sea drawn again by ``draw(rows)`` until on land.

    Cities without a ``land`` outline are returned as given, with no random draw, so
    their data stays what it always was.
    """
    if not city.land:
        return xy
    outline = _land_km(city)
    for _ in range(_LAND_TRIES):
        rows = np.flatnonzero(~_inside(xy, outline))
        if len(rows) == 0:
            return xy
        xy[rows] = draw(rows)
    xy[~_inside(xy, outline)] = 0.0
    return xy
