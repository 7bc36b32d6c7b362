"""Polygons of cells and findings (GeoJSON, GeoParquet) and the formula-safe CSV."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import h3
import polars as pl
import pytest
from shapely.geometry import shape

from explorer.findings import Finding
from explorer.reports.geo import (
    cells_csv,
    cells_geodataframe,
    findings_geodataframe,
    formula_safe,
    to_geojson,
    to_geoparquet,
)

RES = 9
CELL = h3.latlng_to_cell(40.75, -73.98, RES)
NEIGHBOUR = next(c for c in h3.grid_ring(CELL, 1))


def metrics() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "cell": [1, 2],
            "hex": [CELL, NEIGHBOUR],
            "lat": [40.75, 40.751],
            "lon": [-73.98, -73.981],
            "pings": [10, 3],
            "devices": [4, 1],
            "pings_per_device": [2.5, 3.0],
            "type_share": [0.5, 1.0],
            "night_share": [0.1, None],
            "finding_score": [0.0, 2.0],
        }
    )


def test_formula_like_text_gets_an_apostrophe() -> None:
    frame = pl.DataFrame(
        {
            "text": ["=SUM(A1)", "+1", "-2", "@cmd", "\tx", "\ry", "safe", "a=b", None],
            "number": [-1, 2, 3, 4, 5, 6, 7, 8, 9],
        }
    )
    out = formula_safe(frame)
    assert out["text"].to_list() == [
        "'=SUM(A1)", "'+1", "'-2", "'@cmd", "'\tx", "'\ry", "safe", "a=b", None,
    ]  # fmt: skip
    assert out["number"].to_list() == frame["number"].to_list()


def test_cells_csv_has_the_metrics_and_no_cell_integers() -> None:
    text = cells_csv(metrics()).decode()
    back = pl.read_csv(io.StringIO(text))
    assert back.columns[:3] == ["hex", "lat", "lon"] and "cell" not in back.columns
    assert back["hex"].to_list() == [CELL, NEIGHBOUR]
    assert back["pings"].to_list() == [10, 3]


def test_cell_polygons_match_h3() -> None:
    frame = cells_geodataframe(metrics())
    assert frame.crs.to_epsg() == 4326 and len(frame) == 2
    ring = frame.geometry.iloc[0].exterior.coords
    expected = {(round(lon, 9), round(lat, 9)) for lat, lon in h3.cell_to_boundary(CELL)}
    assert {(round(x, 9), round(y, 9)) for x, y in ring} == expected  # lon, lat order
    area_km2 = frame.to_crs(6933).geometry.iloc[0].area / 1e6
    assert area_km2 == pytest.approx(h3.cell_area(CELL, unit="km^2"), rel=0.01)


def test_geojson_features_carry_the_metrics() -> None:
    collection = json.loads(to_geojson(cells_geodataframe(metrics())))
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 2
    first = collection["features"][0]
    assert first["properties"]["hex"] == CELL and first["properties"]["pings"] == 10
    assert shape(first["geometry"]).contains(
        shape({"type": "Point", "coordinates": [-73.98, 40.75]})
    )


def test_finding_areas_are_unions_of_their_cells() -> None:
    findings = [
        Finding("density_spike", "high", 4.0, "Dense", "Story.", (CELL, NEIGHBOUR)),
        Finding("duplicate_pings", "low", 1.0, "Dupes", "Story.", ()),
    ]
    frame = findings_geodataframe(findings)
    assert list(frame["id"]) == [findings[0].id]
    geom = frame.geometry.iloc[0]
    assert geom.geom_type == "Polygon"  # neighbours merge into one outline
    single = cells_geodataframe(metrics()).geometry
    assert geom.area == pytest.approx(single.iloc[0].area + single.iloc[1].area, rel=1e-6)
    assert len(findings_geodataframe([])) == 0


def test_geoparquet_round_trip() -> None:
    frame = cells_geodataframe(metrics())
    back = gpd.read_parquet(io.BytesIO(to_geoparquet(frame)))
    assert back.crs.to_epsg() == 4326
    assert list(back["hex"]) == [CELL, NEIGHBOUR]
    assert back.geometry.iloc[1].equals_exact(frame.geometry.iloc[1], 1e-12)
