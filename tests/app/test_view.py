"""URL view state: round trips, malformed values, filters and finding selection."""

from __future__ import annotations

import datetime as dt

import pytest

from app.state import ViewState
from tests.app.conftest import finding_ids, keyed_blocks, text_of

FULL = ViewState(
    ds="AbCdEfGhIjKlMnOpQrStUv",
    res=9,
    start=dt.date(2024, 6, 4),
    end=dt.date(2024, 6, 10),
    h0=7,
    h1=19,
    types=("android", "ios"),
    metric="night_share",
    finding="0123456789abcdef",
    cell="892a1008003ffff",
    lat=40.75,
    lon=-73.98,
    zoom=11.5,
)


@pytest.mark.parametrize("view", [ViewState(), FULL, ViewState(res=0, h0=0, h1=1, zoom=0.0)])
def test_view_state_round_trips_through_the_query(view: ViewState) -> None:
    assert ViewState.from_query(view.to_query()) == view


def test_defaults_stay_out_of_the_query() -> None:
    assert ViewState().to_query() == {}
    assert ViewState(metric=None, h0=0, h1=24).to_query() == {}
    assert FULL.to_query()["types"] == "android,ios"
    assert FULL.to_query()["start"] == "2024-06-04"


def test_list_values_take_the_last_and_types_are_normalised() -> None:
    view = ViewState.from_query({"res": ["5", "8"], "types": "iOS, android,,ios"})
    assert view.res == 8
    assert view.types == ("android", "ios")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"res": "16"}, "res"),
        ({"res": "eight"}, "res"),
        ({"start": "2024-13-01"}, "start"),
        ({"start": "2024-06-10", "end": "2024-06-01"}, "start"),
        ({"h0": "20", "h1": "5"}, "h0"),
        ({"h0": "-1"}, "h0"),
        ({"h1": "25"}, "h1"),
        ({"metric": "<script>"}, "metric"),
        ({"finding": "../etc"}, "finding"),
        ({"cell": "zz2a1008003ffff"}, "cell"),
        ({"lat": "95"}, "lat"),
        ({"lon": "nan"}, "lon"),
        ({"zoom": "inf"}, "zoom"),
        ({"types": "bad\x00,line\nbreak"}, "types"),
    ],
)
def test_malformed_values_fall_back_to_defaults(query: dict, field: str) -> None:
    view = ViewState.from_query(query)
    assert getattr(view, field) == getattr(ViewState(), field)


def test_a_long_ds_is_kept_bounded_for_the_message() -> None:
    view = ViewState.from_query({"ds": "x" * 1000})
    assert view.ds == "x" * 64


def test_hour_filter_changes_the_findings(page_app) -> None:
    at = page_app("findings").run()
    before = finding_ids(at)
    summary_before = text_of(keyed_blocks(at, "findings-summary")["findings-summary"])
    at.slider(key="f_hours").set_range(9, 17).run()
    assert not at.exception
    assert at.query_params["h0"] == "9" and at.query_params["h1"] == "17"
    summary_after = text_of(keyed_blocks(at, "findings-summary")["findings-summary"])
    assert summary_after != summary_before
    assert finding_ids(at) != before


def test_device_type_filter_and_resolution_reach_the_url(page_app) -> None:
    at = page_app("findings").run()
    pings_before = text_of(keyed_blocks(at, "findings-summary")["findings-summary"])
    at.multiselect(key="f_types").set_value(["ios"]).run()
    assert not at.exception
    assert at.query_params["types"] == "ios"
    assert text_of(keyed_blocks(at, "findings-summary")["findings-summary"]) != pings_before
    suggested = at.select_slider(key="f_res").value
    at.select_slider(key="f_res").set_value(suggested - 1).run()
    assert not at.exception
    assert at.query_params["res"] == str(suggested - 1)


def test_url_filters_set_the_widgets(page_app) -> None:
    at = page_app("findings", h0="6", h1="10", types="android").run()
    assert not at.exception
    assert at.slider(key="f_hours").value == (6, 10)
    assert at.multiselect(key="f_types").value == ["android"]


def test_show_on_map_selects_the_finding_and_shows_its_evidence(page_app) -> None:
    at = page_app("findings").run()
    chosen = finding_ids(at)[0]
    at.button(key=f"select-{chosen}").click().run()
    assert not at.exception
    assert at.query_params["finding"] == chosen
    card = keyed_blocks(at, f"finding-{chosen}")[f"finding-{chosen}"]
    charts = [
        c
        for c in descendants(card)
        if getattr(c, "type", "") in ("vega_lite_chart", "arrow_data_frame", "dataframe")
    ]
    assert charts, "the selected finding shows its evidence"


def descendants(node):
    """Every element below ``node`` (evidence sits in its own container in the card)."""
    for child in getattr(node, "children", {}).values():
        yield child
        yield from descendants(child)


def test_share_box_holds_a_url_that_reopens_the_view(page_app) -> None:
    at = page_app("findings", h0="8", h1="20").run()
    share = text_of(keyed_blocks(at, "share")["share"])
    # Findings is the default page: its link is the root (its named path gets a "not found").
    assert "http://localhost:8501/?" in share
    assert "h0=8" in share and "h1=20" in share


def test_share_box_names_other_pages_by_their_path(page_app) -> None:
    at = page_app("map").run()
    share = text_of(keyed_blocks(at, "share")["share"])
    url = share.splitlines()[-1]
    assert url.split("?")[0] == "http://localhost:8501/map"
