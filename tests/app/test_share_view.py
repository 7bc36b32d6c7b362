"""Share links carry the whole view: the time zone, the camera, device types with any
characters, the clicked cell in the same run, and a note for a finding that is not found.

The sample here has naive local timestamps (so a time zone changes how it is read) and
device types with a "+", a "/" and a comma in them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest

from app import frame
from app.pipeline import STALE_FINDING
from app.state import ViewState
from explorer.interactive.map_layers import view_for_cells
from explorer.synth.pings import generate_pings
from tests.app.conftest import PAGES, keyed_blocks, text_of

ZONE = "Asia/Tokyo"
ODD_TYPES = ("car/auto, v2", "kiosk+pos")


@pytest.fixture(scope="module")
def odd_sample(synthetic_file: Callable[..., Path]) -> Path:
    """Null-island and duplicate pings, naive local times, two odd device types."""
    pings = generate_pings(12_000, biases=("null_island", "duplicate_pings"), seed=4).pings
    bucket = pings["device_id"].hash(seed=1) % 5
    odd = (
        pl.when(bucket == 0)
        .then(pl.lit(ODD_TYPES[0]))
        .when(bucket == 1)
        .then(pl.lit(ODD_TYPES[1]))
        .otherwise(pl.col("device_type"))
    )
    frame_ = pings.with_columns(device_type=odd)
    return synthetic_file(frame_, "odd_pings.csv", folder="odd", time_format="naive_local")


@pytest.fixture(autouse=True)
def use_odd_sample(monkeypatch: pytest.MonkeyPatch, app_env: Path, odd_sample: Path) -> None:
    monkeypatch.setenv("PBE_SAMPLE_PATH", str(odd_sample))


def share_query(at) -> dict[str, str]:
    """The share link's query parameters (decoded)."""
    text = text_of(keyed_blocks(at, "share")["share"])
    url = next(part for part in text.split() if part.startswith("http"))
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def deck_camera(at) -> dict[str, float]:
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    return {k: spec["initialViewState"][k] for k in ("latitude", "longitude", "zoom")}


def reading_note(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Timestamps:"))


def camera_of(query) -> tuple[float, float, float]:
    return float(query["lat"]), float(query["lon"]), float(query["zoom"])


def rounded(camera: dict[str, float]) -> tuple[float, float, float]:
    return (
        round(camera["latitude"], 5),
        round(camera["longitude"], 5),
        round(camera["zoom"], 2),
    )


# --- parsing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [("Asia/Tokyo", "Asia/Tokyo"), ("UTC", "UTC"), ("Mars/Olympus", None), ("../etc", None)],
)
def test_a_time_zone_is_kept_only_when_the_zone_database_knows_it(given, kept) -> None:
    view = ViewState.from_query({"tz": given})
    assert view.tz == kept
    assert ViewState.from_query(view.to_query()) == view


def test_the_camera_is_rounded() -> None:
    view = ViewState.from_query({"lat": "40.7127753", "lon": "-74.0059728", "zoom": "11.4567"})
    assert (view.lat, view.lon, view.zoom) == (40.71278, -74.00597, 11.46)
    assert view.to_query() == {"lat": "40.71278", "lon": "-74.00597", "zoom": "11.46"}
    assert ViewState.from_query(view.to_query()) == view
    outside = ViewState.from_query({"lat": "91", "lon": "0", "zoom": "30"})
    assert outside.lat is None and outside.lon == 0.0 and outside.zoom is None


def test_half_a_camera_leaves_the_link_and_the_map_shows_the_data(page_app) -> None:
    home = deck_camera(page_app("map").run())
    at = page_app("map", lat="40.7", lon="-74.0").run()
    assert not at.exception
    assert "lat" not in at.query_params and "lat" not in share_query(at)
    assert deck_camera(at) == home


@pytest.mark.parametrize(
    "types",
    [("kiosk+pos",), ("car/auto",), ("a,b", "c%2cd"), ("ios", "tablet (wi-fi) ü"), ODD_TYPES],
)
def test_device_types_with_any_characters_survive_a_link(types) -> None:
    view = ViewState(types=tuple(sorted(types)))
    assert ViewState.from_query(view.to_query()) == view
    assert ViewState.from_query(parse_qs(f"types={_encoded(view)}")) == view


def test_control_characters_and_huge_types_are_not_kept() -> None:
    view = ViewState.from_query({"types": "ios,bad\x00one,line\nbreak," + "x" * 500})
    assert view.types == ("ios",)


def _encoded(view: ViewState) -> str:
    from urllib.parse import quote

    return quote(view.to_query()["types"], safe="")


# --- the app ----------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PAGES))
def test_a_time_zone_in_the_link_rereads_the_data_on_every_page(page_app, name: str) -> None:
    at = page_app(name, tz=ZONE).run()
    assert not at.exception
    assert reading_note(at) == f"Timestamps: naive local time in {ZONE} (as given)."
    assert ZONE in text_of(keyed_blocks(at, "tz-note")["tz-note"])
    assert at.query_params["tz"] == ZONE
    assert share_query(at)["tz"] == ZONE
    plain = page_app(name).run()
    assert "at each ping's place" in reading_note(plain)
    assert "tz-note" not in keyed_blocks(plain, "tz-note")
    assert "tz" not in share_query(plain)


def test_choosing_a_zone_on_the_data_page_puts_it_in_the_link(page_app) -> None:
    at = page_app("data").run()
    at.selectbox(key="f_zone").set_value("Europe/Berlin").run()
    assert not at.exception
    assert at.query_params["tz"] == "Europe/Berlin"
    assert share_query(at)["tz"] == "Europe/Berlin"
    assert "in Europe/Berlin" in reading_note(at)
    at.session_state["test_page"] = PAGES["time"]
    at.run()
    assert "in Europe/Berlin" in reading_note(at)
    at.session_state["test_page"] = PAGES["data"]
    at.run()
    assert at.selectbox(key="f_zone").value == "Europe/Berlin"
    at.selectbox(key="f_zone").set_value(at.selectbox(key="f_zone").options[0]).run()
    assert "tz" not in at.query_params and "tz" not in share_query(at)


def _finding_with_cells(at) -> tuple[str, tuple[str, ...]]:
    from app import cache

    args = ("sample", (), None, (None, None, 0, 24, None))
    res = at.select_slider(key="f_res").value
    found = cache.analysis_for(*args, res).findings
    finding = next(f for f in found if f.cells and f.kind == "null_island")
    return finding.id, finding.cells


def test_selecting_a_finding_puts_its_camera_in_the_link_and_the_link_restores_it(
    page_app,
) -> None:
    at = page_app("findings").run()
    assert "lat" not in at.query_params and "lat" not in share_query(at)
    finding, cells = _finding_with_cells(at)
    at.button(key=f"select-{finding}").click().run()
    assert not at.exception
    expected = rounded(view_for_cells(cells))
    assert camera_of(at.query_params) == expected
    assert camera_of(share_query(at)) == expected
    assert rounded(deck_camera(at)) == expected
    again = page_app("map", **share_query(at)).run()
    assert camera_of(again.query_params) == expected
    assert rounded(deck_camera(again)) == expected


def test_a_camera_in_the_link_is_drawn_and_kept_on_every_page(page_app) -> None:
    camera = {"lat": "40.71", "lon": "-73.99", "zoom": "12.5"}
    for name in PAGES:
        at = page_app(name, **camera).run()
        assert not at.exception
        assert {k: at.query_params[k] for k in camera} == camera, name
        assert {k: share_query(at)[k] for k in camera} == camera, name
    at = page_app("map", **camera).run()
    assert deck_camera(at) == {"latitude": 40.71, "longitude": -73.99, "zoom": 12.5}


def test_the_camera_follows_the_resolution(page_app) -> None:
    at = page_app("findings").run()
    finding, cells = _finding_with_cells(at)
    at.button(key=f"select-{finding}").click().run()
    home = page_app("findings", res=str(at.select_slider(key="f_res").value - 1)).run()
    home_camera = deck_camera(home)
    at.select_slider(key="f_res").set_value(at.select_slider(key="f_res").value - 1).run()
    assert not at.exception
    # The finding is not found at the coarser resolution: it leaves with its camera, and
    # the map shows the whole data at the new resolution.
    assert "finding" not in at.query_params and "lat" not in at.query_params
    assert "lat" not in share_query(at)
    assert deck_camera(at) == home_camera
    # A clicked cell keeps its camera across a resolution change, at the new home zoom.
    cell = cells[0]
    at = page_app("map", cell=cell).run()
    centre = view_for_cells([cell])
    assert camera_of(at.query_params) == rounded({**centre, "zoom": deck_camera(at)["zoom"]})
    at.select_slider(key="f_res").set_value(at.select_slider(key="f_res").value - 1).run()
    assert at.query_params["cell"] == cell
    assert camera_of(at.query_params)[:2] == rounded(centre)[:2]
    assert float(at.query_params["zoom"]) == round(home_camera["zoom"], 2)


def test_a_clicked_cell_reaches_the_share_link_in_the_same_run(page_app, monkeypatch) -> None:
    at = page_app("map").run()
    _, cells = _finding_with_cells(at)
    zoom = deck_camera(at)["zoom"]
    # What the map reports after a click (the chart's selection, read from its widget).
    monkeypatch.setattr(frame, "_picked_hex", lambda event: cells[0])
    at.run()
    assert not at.exception
    assert at.query_params["cell"] == cells[0]
    shared = share_query(at)
    assert shared["cell"] == cells[0]
    centre = view_for_cells([cells[0]])
    assert camera_of(shared) == rounded({**centre, "zoom": zoom})
    assert any(h.value == f"Cell {cells[0]}" for h in at.subheader)


def test_device_types_from_a_link_are_chosen_and_unknown_ones_leave(page_app) -> None:
    link = ",".join(t.replace(",", "%2C") for t in (*ODD_TYPES, "not-in-the-data"))
    for name in PAGES:
        at = page_app(name, types=link).run()
        assert not at.exception
        assert at.multiselect(key="f_types").value == sorted(ODD_TYPES), name
        assert ViewState.from_query(dict(at.query_params)).types == ODD_TYPES, name
        assert ViewState.from_query(share_query(at)).types == ODD_TYPES, name


def test_a_finding_not_found_anywhere_leaves_with_a_note(page_app) -> None:
    at = page_app("map", finding="0123456789abcdef", lat="1", lon="2", zoom="3").run()
    assert not at.exception
    res = at.select_slider(key="f_res").value
    note = text_of(keyed_blocks(at, "flash-info")["flash-info"])
    assert note == STALE_FINDING.format(res=res)
    assert "finding" not in at.query_params and "lat" not in at.query_params
    assert "finding" not in share_query(at)
