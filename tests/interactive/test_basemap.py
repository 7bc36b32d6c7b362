"""The offline base map: shipped files, sizes, coasts of known places, names, the 180th meridian."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import Point, Polygon

from explorer.interactive.basemap import DATA, base_map, detail_box, places

NEW_YORK = {"latitude": 40.73, "longitude": -73.95, "zoom": 10.5}
WORLD = {"latitude": 20.0, "longitude": 0.0, "zoom": 1.0}


def land_shapes(rows: list[dict]) -> list[Polygon]:
    return [Polygon(r["polygon"][0], r["polygon"][1:]) for r in rows]


def on_land(rows: list[dict], lon: float, lat: float) -> bool:
    return any(shape.contains(Point(lon, lat)) for shape in land_shapes(rows))


def test_shipped_files_are_small() -> None:
    sizes = {name: (DATA / name).stat().st_size for name in ("basemap.npz", "basemap_places.csv")}
    assert sum(sizes.values()) < 2_000_000, sizes


@pytest.mark.parametrize(
    ("view", "land", "water"),
    [
        # Jersey City and Brooklyn are land; the Upper Bay and the open Atlantic are not.
        (NEW_YORK, [(-74.07, 40.72), (-73.95, 40.65)], [(-74.04, 40.66), (-73.6, 40.3)]),
        # Sydney's suburbs against the Tasman Sea.
        ({"latitude": -33.87, "longitude": 151.2, "zoom": 10}, [(151.0, -33.8)], [(151.6, -34.0)]),
        # Amadora (Lisbon) against the Atlantic off Cabo da Roca.
        ({"latitude": 38.72, "longitude": -9.14, "zoom": 9}, [(-9.2, 38.75)], [(-9.8, 38.7)]),
        # The whole world: inland Africa against the middle of the Pacific.
        (WORLD, [(20.0, 5.0)], [(-150.0, 0.0)]),
    ],
)
def test_coasts_of_known_places(view, land, water) -> None:
    rows = base_map(view).land
    for lon, lat in land:
        assert on_land(rows, lon, lat), (lon, lat)
    for lon, lat in water:
        assert not on_land(rows, lon, lat), (lon, lat)


def test_detail_near_the_view_and_the_world_beyond() -> None:
    near = base_map(NEW_YORK)
    west, south, east, north = near.detail_box
    assert west < -74.0 < east and south < 40.7 < north
    # Europe is still drawn (at 1:110m) while the map looks at New York.
    assert on_land(near.land, 10.0, 50.0)
    assert detail_box(WORLD) is None and base_map(WORLD).detail_box is None
    assert len(near.borders) > 50 and near.water


def test_names_near_the_view_and_capitals_everywhere() -> None:
    names = [row["name"] for row in base_map(NEW_YORK).places]
    assert {"New York City", "Newark", "Jersey City"} <= set(names)
    assert {"London", "Tokyo"} <= set(names)
    assert len(places()) > 5_000 and sum(p["capital"] for p in places()) > 150
    far = base_map(WORLD).places
    # Zoomed out, names keep their distance: a few dozen, not thousands.
    assert 10 < len(far) < 100
    populations = [row["population"] for row in far]
    assert populations == sorted(populations, reverse=True)


def test_a_view_on_the_antimeridian_draws_both_sides_next_to_each_other() -> None:
    fiji = base_map({"latitude": -17.8, "longitude": 179.5, "zoom": 8})
    west, _, east, _ = fiji.detail_box
    assert west < 180.0 < east
    # Lakeba (Lau Islands, at -178.8°) is drawn at 181.2°, east of Vanua Levu, not a
    # whole map width away.
    assert on_land(fiji.land, 181.2, -18.2) and not on_land(fiji.land, -178.8, -18.2)
    assert on_land(fiji.land, 179.0, -16.5)  # Vanua Levu, west of the meridian


def test_rows_serialise_for_the_browser() -> None:
    shipped = base_map(NEW_YORK).rows_json
    assert set(shipped) == {"land", "borders", "places", "water"}
    assert json.loads(shipped["places"])[0]["name"]
    assert sum(len(text) for text in shipped.values()) < 600_000
    assert "ã" in base_map(WORLD).characters or "é" in base_map(NEW_YORK).characters
