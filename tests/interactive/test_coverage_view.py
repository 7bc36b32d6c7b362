"""The Coverage page's numbers: regions coloured around the overall rate, the funnel and
fit series, the table, the findings' flags and the weights, against the coverage
analysis's own table on generated cities with a planted under-sampled district."""

from __future__ import annotations

import io
import json
from functools import cache

import numpy as np
import polars as pl
import pytest
import shapely

from explorer.binning.cells import latlng_to_cells
from explorer.config import Config
from explorer.detectors.coverage import coverage_table, device_weights
from explorer.interactive import coverage_view as cv
from explorer.reading.reference import Reference
from explorer.summary import summarise
from explorer.synth.pings import generate_pings
from explorer.synth.population import (
    district_residents,
    generator_homes,
    plant_under_sampled,
    to_geojson,
)

N = 60_000
#: (city, seed, planted district, factor); factor 1 plants nothing.
CASES = [
    ("new_york", 1, "middle-n", 4.0),
    ("sao_paulo", 3, "inner-e", 4.0),
    ("london", 5, "outer-e", 1.0),
]


def reference_of(city: str, seed: int, district: str, factor: float) -> Reference:
    """The generated city's districts as a Reference (through their GeoJSON)."""
    homes = generator_homes(N, city=city, seed=seed)
    districts = district_residents(homes, 5_000_000, draws=300_000)
    if factor != 1.0:
        districts = plant_under_sampled(districts, district, factor)
    features = json.loads(to_geojson(homes.city, districts))["features"]
    return Reference(
        source=f"{city}.geojson",
        regions=pl.DataFrame(
            {
                "region_id": [f["properties"]["id"] for f in features],
                "name": [f["properties"]["name"] for f in features],
                "population": [float(f["properties"]["residents"]) for f in features],
            }
        ),
        geometry=tuple(shapely.geometry.shape(f["geometry"]) for f in features),
    )


@cache
def case(city: str, seed: int, district: str, factor: float):
    pings = generate_pings(N, city=city, seed=seed).pings
    summary = summarise(pings, 8)
    reference = reference_of(city, seed, district, factor)
    return pings, summary, reference, cv.coverage_view(summary, reference)


@pytest.mark.parametrize("args", CASES, ids=lambda a: f"{a[0]}-{a[2]}-x{a[3]:g}")
def test_the_table_is_the_coverage_analysis_table(args):
    _, summary, reference, view = case(*args)
    table = coverage_table(summary, reference, Config()).regions
    shown = view.table
    assert shown.height == table.height == 25
    assert (
        shown["id"].to_list()
        == table.sort(["ratio", "region_id"], nulls_last=True)["region_id"].to_list()
    )
    merged = shown.join(table, left_on="id", right_on="region_id")
    assert (merged["home_devices"] == merged["home_devices_right"]).all()
    assert np.allclose(merged["rate per 1,000"], merged["rate"].round(3))
    assert np.allclose(merged["weight"], merged["weight_right"].round(3))
    assert set(shown.columns) >= {"id", "name", "residents", "95 % interval", "× overall"}


@pytest.mark.parametrize("args", CASES, ids=lambda a: f"{a[0]}-{a[2]}-x{a[3]:g}")
def test_colours_diverge_around_the_overall_rate(args):
    _, _, _, view = case(*args)
    table = view.coverage.regions
    by_id = {f["properties"]["region_id"]: f["properties"] for f in view.features["features"]}
    assert set(by_id) == set(table["region_id"])
    for row in table.iter_rows(named=True):
        fill = by_id[row["region_id"]]["fill"]
        expected = cv.ratio_colours(pl.Series([row["ratio"]]))[0]
        assert fill[:3] == list(expected)
        if 0.8 <= row["ratio"] < 1.25:
            assert tuple(fill[:3]) == cv.DIVERGING[3]  # about the overall rate: neutral
    # The legend's classes count every region with a rate once.
    assert sum(stop.cells for stop in view.legend) == table["rate"].is_not_null().sum()
    assert "overall rate" in view.legend[3].label


@pytest.mark.parametrize("args", CASES[:2], ids=lambda a: f"{a[0]}-{a[2]}")
def test_the_planted_district_is_the_reddest_and_flagged(args):
    _, _, _, view = case(*args)
    district = args[2]
    assert view.table["id"][0] == district
    props = next(
        f["properties"]
        for f in view.features["features"]
        if f["properties"]["region_id"] == district
    )
    assert tuple(props["fill"][:3]) in cv.DIVERGING[:2]
    flagged = {r for f in view.findings for r in f.regions}
    assert district in flagged
    assert props["flag"] in ("MEDIUM", "HIGH")
    assert view.table.filter(pl.col("id") == district)["finding"][0] == props["flag"]
    name = view.table.filter(pl.col("id") == district)["name"][0]
    assert cv.flagged_words(view).startswith(f"Regions flagged: {name} (")


def test_a_uniform_panel_shows_no_flag_above_low():
    _, _, _, view = case(*CASES[2])
    assert all(f.severity == "low" for f in view.findings)
    assert set(view.table["finding"]) <= {"", "LOW"}
    words = cv.flagged_words(view)
    assert words.startswith("No region is flagged") or "(medium" not in words


def test_flags_take_the_worst_severity_of_the_findings_naming_a_region():
    from explorer.findings import Finding

    def finding(severity, regions):
        return Finding("coverage_bias", severity, 1.0, "t", "s", (), {}, regions=regions)

    flags = cv.region_flags([finding("low", ("a", "b")), finding("high", ("b",))])
    assert flags == {"a": "low", "b": "high"}


@pytest.mark.parametrize("args", CASES[:2], ids=lambda a: a[0])
def test_funnel_and_fit_series(args):
    _, _, _, view = case(*args)
    overall = view.coverage.overall_rate
    limits = view.funnel_limits
    assert limits.height > 10
    assert (limits["low_99.8"] <= limits["low_95"]).all()
    assert ((limits["low_95"] <= overall) & (overall <= limits["high_95"])).all()
    # The limits narrow as regions grow.
    width = (limits["high_95"] - limits["low_95"]).to_numpy()
    assert width[0] > width[-1]
    assert view.funnel_points.height == 25
    fit = view.coverage.fit
    line = view.fit_line
    assert line.height == cv.FIT_POINTS
    predicted = np.exp(fit["intercept"]) * line["residents"].to_numpy() ** fit["slope"]
    assert np.allclose(line["home_devices"], predicted)
    assert line["residents"].min() == pytest.approx(view.fit_points["residents"].min())
    assert "slope" in cv.fit_words(fit)


def test_camera_shows_the_city():
    _, _, reference, view = case(*CASES[0])
    box = shapely.total_bounds(list(reference.geometry))
    assert box[1] < view.camera["latitude"] < box[3]
    assert box[0] < view.camera["longitude"] < box[2]
    assert 8 < view.camera["zoom"] < 12


def test_region_weights_csv_is_the_table():
    _, _, _, view = case(*CASES[0])
    back = pl.read_csv(io.BytesIO(cv.weights_csv(view.coverage)))
    table = view.coverage.regions
    assert back["id"].to_list() == table["region_id"].to_list()
    assert np.allclose(
        back["weight"].fill_null(np.nan), table["weight"].fill_null(np.nan), equal_nan=True
    )
    assert {"residents", "home_devices", "rate_low", "rate_high"} <= set(back.columns)


@pytest.mark.parametrize("args", CASES, ids=lambda a: f"{a[0]}-x{a[3]:g}")
def test_device_weights_carry_the_users_ids_and_recover_the_residents(args):
    pings, summary, reference, view = case(*args)
    back = pl.read_csv(io.BytesIO(cv.device_weights_csv(summary, reference, pings["device_id"])))
    assert back.height == device_weights(summary, reference, Config()).height
    assert set(back["device_id"]) <= set(pings["device_id"])
    assert back["device_id"].n_unique() == back.height
    # Weighted devices per region share out as the residents do (no cap hit here).
    table = view.coverage.regions.filter(~pl.col("weight_capped"))
    weighted = back.group_by("region_id").agg(pl.col("weight").sum())
    joined = table.join(weighted, on="region_id")
    shares = joined["weight_right"] / joined["weight_right"].sum()
    residents = joined["residents"] / joined["residents"].sum()
    assert np.allclose(shares, residents, rtol=1e-6)


def test_the_data_box_leaves_null_island_out():
    pings = generate_pings(20_000, city="london", seed=2, biases=("null_island",)).pings
    lat_min, lat_max, lon_min, lon_max = cv.data_box(summarise(pings, 8))
    assert 51.0 < lat_min < lat_max < 52.0
    assert -0.7 < lon_min < lon_max < 0.5


def test_regions_given_as_cells_are_drawn_cell_by_cell():
    _, summary, polygons, _ = case(*CASES[0])
    lat = np.array([40.70, 40.75, 40.80])
    lon = np.array([-74.00, -73.98, -73.95])
    cells = latlng_to_cells(lat, lon, 7)
    reference = Reference(
        source="cells.csv",
        regions=pl.DataFrame(
            {"region_id": ["a", "b", "c"], "name": ["A", "B", "C"], "population": [1e5, 2e5, 3e5]}
        ),
        cells=pl.DataFrame(
            {"cell": pl.Series(cells, dtype=pl.UInt64), "region_id": ["a", "b", "c"]}
        ),
    )
    view = cv.coverage_view(summary, reference)
    features = view.features["features"]
    assert len(features) == 3
    for feature, la, lo in zip(features, lat, lon, strict=True):
        shape = shapely.geometry.shape(feature["geometry"])
        assert shape.contains(shapely.Point(lo, la))
    assert view.table.height == 3


def test_the_coarse_default_covers_where_the_homes_are_not_every_ping():
    """Travellers' pings far out (a day trip 60 km away) stretch the pings' box; the
    coarse default's box follows the devices' homes instead."""
    import datetime as dt

    base = generate_pings(40_000, city="new_york", seed=3, days=14).pings
    far = base.head(2_000).with_columns(
        lat=pl.col("lat") + 0.55, timestamp=pl.col("timestamp") + dt.timedelta(hours=1)
    )
    summary = summarise(pl.concat([base, far]), 8)
    lat_min, lat_max, _, _ = cv.data_box(summary)
    assert lat_max < base["lat"].quantile(0.999) + 0.01
    assert lat_min > base["lat"].quantile(0.001) - 0.01
