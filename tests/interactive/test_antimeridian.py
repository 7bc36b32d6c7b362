"""Maps of data across ±180°: views, cell outlines and the pydeck spec stay local."""

from __future__ import annotations

import json

import h3
import numpy as np
import polars as pl
import pytest

from app.deck import build_deck, layer_rows
from explorer.binning.cells import cell_boundary, str_to_cell
from explorer.interactive.map_layers import (
    cell_metrics,
    unwrap_longitudes,
    view_for_bounds,
    view_for_cells,
    view_for_summary,
)
from explorer.reports.geo import cells_geodataframe
from explorer.summary import summarise
from explorer.synth.pings import generate_pings

RES = 9
#: A cell that the 180° meridian cuts, on Taveuni (Fiji).
SEAM_CELL = h3.latlng_to_cell(-16.9, 179.99999, RES)


def lon_gap(a: float, b: float) -> float:
    """Degrees between two longitudes, the short way round."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


@pytest.fixture(scope="module")
def taveuni():
    return generate_pings(40_000, city="taveuni", seed=3).pings


def shifted(frame: pl.DataFrame, degrees: float) -> pl.DataFrame:
    return frame.with_columns(lon=(pl.col("lon") + 180.0 + degrees) % 360.0 - 180.0)


def test_h3_outline_of_a_seam_cell_jumps_sign_and_ours_does_not():
    raw = [lon for _, lon in h3.cell_to_boundary(SEAM_CELL)]
    assert max(raw) - min(raw) > 359  # as h3 gives it, the polygon spans the globe
    ring = cell_boundary(str_to_cell(SEAM_CELL))
    lons = [lon for _, lon in ring]
    assert max(lons) - min(lons) < 0.01
    assert min(lons) < 180.0 < max(lons) or min(lons) < -180.0 < max(lons)
    assert [lat for lat, _ in ring] == [lat for lat, _ in h3.cell_to_boundary(SEAM_CELL)]


def test_outlines_of_other_cells_are_exactly_h3s():
    cell = h3.latlng_to_cell(40.75, -73.98, RES)
    assert cell_boundary(str_to_cell(cell)) == list(h3.cell_to_boundary(cell))


def test_geojson_polygon_of_a_seam_cell_is_one_small_hexagon():
    frame = cells_geodataframe(pl.DataFrame({"hex": [SEAM_CELL], "pings": [3]}))
    west, south, east, north = frame.geometry.iloc[0].bounds
    assert east - west < 0.01 and north - south < 0.01


def test_unwrapped_longitudes_are_contiguous_and_others_untouched():
    across = np.array([179.9, -179.9, 179.95, -179.8])
    assert np.ptp(unwrap_longitudes(across)) == pytest.approx(0.3)
    city = np.array([-74.1, -73.9, -73.95])
    assert unwrap_longitudes(city).tolist() == city.tolist()
    spread = np.array([-170.0, -60.0, 50.0, 160.0])  # the widest gap is elsewhere
    assert np.ptp(unwrap_longitudes(spread)) == pytest.approx(250.0)


def test_a_box_across_the_seam_is_viewed_like_the_same_box_elsewhere():
    across = view_for_bounds(-17.0, -16.7, 179.9, -179.9)
    elsewhere = view_for_bounds(-17.0, -16.7, 9.9, 10.1)
    assert lon_gap(across["longitude"], 180.0) < 1e-6
    assert -180.0 <= across["longitude"] < 180.0
    assert across["zoom"] == elsewhere["zoom"] > 8
    # Unwrapped longitudes (past 180) say the same box.
    assert view_for_bounds(-17.0, -16.7, 179.9, 180.1) == across


def test_views_of_cells_on_both_sides_of_the_seam_stay_local():
    cells = [h3.latlng_to_cell(-16.9, lon, RES) for lon in (179.98, -179.98)]
    view = view_for_cells(cells)
    assert view is not None
    assert lon_gap(view["longitude"], 180.0) < 0.01
    assert view["zoom"] > 8


@pytest.mark.parametrize("degrees", [0.0, 37.0])
def test_the_data_view_of_a_city_across_the_seam_matches_the_city_moved_away(taveuni, degrees):
    here = view_for_summary(summarise(taveuni, RES))
    moved = view_for_summary(summarise(shifted(taveuni, 90.0 + degrees), RES))
    assert lon_gap(here["longitude"], -179.985) < 0.1
    assert lon_gap(moved["longitude"], here["longitude"] + 90.0 + degrees) < 0.01
    assert here["zoom"] == pytest.approx(moved["zoom"], abs=0.05)
    assert here["zoom"] >= 9


def test_pydeck_spec_of_a_city_across_the_seam(taveuni):
    summary = summarise(taveuni, RES)
    metrics = cell_metrics(summary)
    assert (metrics["lon"] > 0).any() and (metrics["lon"] < 0).any()
    rows, _ = layer_rows(metrics, "pings")
    spec = json.loads(build_deck(rows, [SEAM_CELL], view_for_summary(summary), True).to_json())
    state = spec["initialViewState"]
    assert lon_gap(state["longitude"], -179.985) < 0.1 and state["zoom"] >= 9
    layers = {layer["id"]: layer for layer in spec["layers"]}
    # Hex ids, not polygons: deck.gl's H3HexagonLayer draws each cell around its own
    # centre, so a cell on the seam is one small hexagon there too.
    assert layers["cells"]["@@type"] == "H3HexagonLayer"
    assert {r["hex"] for r in layers["cells"]["data"]} == set(metrics["hex"].to_list())
