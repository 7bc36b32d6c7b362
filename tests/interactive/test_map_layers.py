"""Map metrics per cell, coarsening, colours, views and area comparisons.

Expected numbers are worked out by hand from eight pings in two New York cells
(June: local time is UTC-4); cell ids and parents come from h3 directly.
"""

from __future__ import annotations

import datetime as dt
import math

import h3
import numpy as np
import polars as pl
import pytest

from explorer.findings import Finding
from explorer.interactive.area_profiles import cell_profile, compare_area, dataset_profile
from explorer.interactive.map_layers import (
    MAX_MAP_CELLS,
    NO_VALUE_COLOR,
    PALETTE,
    area_mask,
    cell_metrics,
    color_ramp,
    main_type,
    map_resolution,
    view_for_bounds,
    view_for_cells,
)
from explorer.summary import summarise
from tests.conftest import pings_frame

RES = 9
A = (40.7500, -73.9800)
B = (40.7560, -73.9700)
CELL_A = h3.latlng_to_cell(*A, RES)
CELL_B = h3.latlng_to_cell(*B, RES)


def at(hour: int) -> dt.datetime:
    return dt.datetime(2024, 6, 4, hour, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def summary():
    rows = [
        # cell A: d1 twice at local 02:00 and once at 12:00, d2 at 12:00, d3 at 13:00
        ("d1", at(6), *A, "ios"),
        ("d1", at(6).replace(minute=5), *A, "ios"),
        ("d1", at(16), *A, "ios"),
        ("d2", at(16), *A, "ios"),
        ("d3", at(17), *A, "android"),
        # cell B: d1 at 12:00, d4 twice at 13:00
        ("d1", at(16).replace(minute=30), *B, "ios"),
        ("d4", at(17), *B, "ios"),
        ("d4", at(17).replace(minute=10), *B, "ios"),
    ]
    return summarise(pings_frame(rows), RES)


def shared_parent_res() -> int:
    return max(
        r for r in range(RES) if h3.cell_to_parent(CELL_A, r) == h3.cell_to_parent(CELL_B, r)
    )


def test_cells_are_distinct() -> None:
    assert CELL_A != CELL_B


def test_metrics_per_cell(summary) -> None:
    metrics = cell_metrics(summary).sort("hex")
    by_hex = {row["hex"]: row for row in metrics.to_dicts()}
    a, b = by_hex[CELL_A], by_hex[CELL_B]
    assert (a["pings"], a["devices"], b["pings"], b["devices"]) == (5, 3, 3, 2)
    assert a["pings_per_device"] == pytest.approx(5 / 3)
    assert b["pings_per_device"] == pytest.approx(1.5)
    assert main_type(summary) == "ios"  # 3 of 4 devices
    assert a["type_share"] == pytest.approx(2 / 3) and b["type_share"] == pytest.approx(1.0)
    assert a["night_share"] == pytest.approx(2 / 5) and b["night_share"] == 0.0
    assert a["finding_score"] == 0.0
    lat, lon = h3.cell_to_latlng(CELL_A)
    assert a["lat"] == pytest.approx(lat) and a["lon"] == pytest.approx(lon)


def test_type_share_of_another_type(summary) -> None:
    metrics = cell_metrics(summary, share_type="android")
    by_hex = dict(zip(metrics["hex"], metrics["type_share"]))
    assert by_hex[CELL_A] == pytest.approx(1 / 3) and by_hex[CELL_B] == 0.0


def test_coarser_cells_count_each_device_once(summary) -> None:
    parent_res = shared_parent_res()
    assert map_resolution(summary) == RES  # two cells: far below MAX_MAP_CELLS
    assert MAX_MAP_CELLS == 100_000
    assert map_resolution(summary, max_cells=1) == parent_res
    coarse = cell_metrics(summary, resolution=parent_res)
    assert coarse.height == 1
    row = coarse.to_dicts()[0]
    assert row["hex"] == h3.cell_to_parent(CELL_A, parent_res)
    assert (row["pings"], row["devices"]) == (8, 4)  # d1 is in both cells
    assert row["type_share"] == pytest.approx(3 / 4)
    assert row["night_share"] == pytest.approx(2 / 8)


def test_finding_scores_take_the_highest_covering_finding(summary) -> None:
    findings = [
        Finding("density_spike", "high", 5.0, "t", "s", (CELL_A,)),
        Finding("hour_profile", "low", 2.0, "t", "s", (CELL_A, CELL_B)),
        Finding("duplicate_pings", "low", 9.0, "t", "s", ()),
    ]
    metrics = cell_metrics(summary, findings)
    scores = dict(zip(metrics["hex"], metrics["finding_score"]))
    assert scores == {CELL_A: 5.0, CELL_B: 2.0}


def test_area_mask_accepts_any_resolution(summary) -> None:
    cells = summary.tables["cells"]["cell"].sort()
    hexes = [h3.int_to_str(int(c)) for c in cells]
    parent = h3.cell_to_parent(CELL_A, shared_parent_res())
    child = h3.cell_to_children(CELL_B, RES + 2)[0]
    assert area_mask(cells, RES, [parent]).to_list() == [True, True]
    assert area_mask(cells, RES, [child]).to_list() == [h == CELL_B for h in hexes]
    assert area_mask(cells, RES, ["not-a-cell", ""]).to_list() == [False, False]


def test_area_against_the_rest(summary) -> None:
    comparison = compare_area(summary, [CELL_A])
    area, rest = comparison.area, comparison.rest
    assert (area.pings, area.devices, area.cells) == (5, 3, 1)
    assert (rest.pings, rest.devices, rest.cells) == (3, 2, 1)
    expected = [0.0] * 24
    expected[2], expected[12], expected[13] = 0.25, 0.5, 0.25
    assert area.hour_shares == pytest.approx(expected)
    assert area.hour_pings[2] == 2 and area.hour_pings[12] == 2 and area.hour_pings[13] == 1
    assert rest.hour_devices[12] == 1 and rest.hour_devices[13] == 1 and sum(rest.hour_devices) == 2
    assert area.type_devices == {"ios": 2, "android": 1}
    assert rest.type_shares == {"ios": 1.0}
    whole = dataset_profile(summary)
    assert (whole.pings, whole.devices) == (8, 4)
    assert cell_profile(summary, CELL_B).pings == 3


def test_cell_profile_of_missing_or_invalid_cells(summary) -> None:
    far = h3.latlng_to_cell(10.0, 10.0, RES)
    assert cell_profile(summary, far) is None
    assert cell_profile(summary, "zz") is None


def test_share_colours_use_equal_classes_and_missing_values_are_grey() -> None:
    colours, legend = color_ramp(pl.Series([0.0, 0.5, 0.99, None]), "night_share")
    assert [s.low for s in legend] == pytest.approx([i / 6 for i in range(6)])
    assert colours[0].tolist() == list(PALETTE[0])
    assert colours[1].tolist() == list(PALETTE[3])  # 0.5 is in [3/6, 4/6)
    assert colours[2].tolist() == list(PALETTE[5])
    assert colours[3].tolist() == list(NO_VALUE_COLOR)


def test_count_colours_use_quantiles_and_zero_scores_are_grey() -> None:
    values = pl.Series([1, 2, 3, 4, 5, 6, 7, 1000])
    colours, legend = color_ramp(values, "pings")
    assert legend[0].low == 1 and legend[-1].high == 1000
    assert colours[0].tolist() == list(PALETTE[0]) and colours[-1].tolist() == list(PALETTE[-1])
    colours, legend = color_ramp(pl.Series([0.0, 0.0, 3.0]), "finding_score")
    assert colours[0].tolist() == list(NO_VALUE_COLOR) and colours[2].tolist() != list(
        NO_VALUE_COLOR
    )
    colours, legend = color_ramp(pl.Series([7, 7, 7]), "devices")
    assert len({tuple(c) for c in colours.tolist()}) == 1 and len(legend) == 1


def test_views_centre_the_box_and_zoom_in_on_smaller_boxes() -> None:
    wide = view_for_bounds(40.0, 41.0, -75.0, -73.0)
    narrow = view_for_bounds(40.5, 40.52, -74.01, -73.99)
    assert (wide["latitude"], wide["longitude"]) == (40.5, -74.0)
    assert narrow["zoom"] > wide["zoom"]
    # 2 degrees of longitude at 800 px: 360 deg -> 256 px * 2^z, so z = log2(800*180/256).
    assert wide["zoom"] == pytest.approx(
        min(math.log2(800 * 180 / 256), math.log2(85000 / 256)), abs=0.01
    )
    view = view_for_cells([CELL_A, "bad"])
    lat, lon = h3.cell_to_latlng(CELL_A)
    assert view["latitude"] == pytest.approx(lat, abs=1e-5)
    assert view["longitude"] == pytest.approx(lon, abs=1e-5)
    assert view_for_cells(["bad"]) is None
    assert all(isinstance(v, float) for v in view.values())
    assert np.isfinite(list(view.values())).all()
