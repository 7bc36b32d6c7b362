"""A share link carries the whole view: time zone, camera, finding, odd device types.

An upload with naive local timestamps and device types holding a "+" and a "/" is opened
by a link naming a time zone, a camera, a finding and those types. Every page, switched
through and back, must show the same sidebar and keep the same URL and share link; the
map must be drawn at the link's camera; a clicked cell must be in the share link as soon
as the run ends; and a link to a finding at a resolution where it is not found says so.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import polars as pl
import pytest
from playwright.sync_api import Page, expect

from app.state import ViewState
from explorer.synth.pings import generate_pings
from tests.e2e.test_sidebar_state import TOUR, offline_page, query, read_shown, switch_to

pytestmark = pytest.mark.e2e

ZONE = "Asia/Tokyo"
ODD_TYPES = ("car/auto", "kiosk+pos")
CAMERA = {"lat": 40.75, "lon": -73.98, "zoom": 11.5}


@pytest.fixture(scope="module")
def odd_csv(synthetic_file: Callable[..., Path]) -> Path:
    """Null-island pings, naive local times, and two device types with "/" and "+"."""
    pings = generate_pings(20_000, biases=("null_island",), seed=8).pings
    bucket = pings["device_id"].hash(seed=2) % 4
    odd = (
        pl.when(bucket == 0)
        .then(pl.lit(ODD_TYPES[0]))
        .when(bucket == 1)
        .then(pl.lit(ODD_TYPES[1]))
        .otherwise(pl.col("device_type"))
    )
    return synthetic_file(
        pings.with_columns(device_type=odd),
        "odd_type_pings.csv",
        folder="odd",
        time_format="naive_local",
    )


@pytest.fixture(scope="module")
def uploaded(app, module_page, odd_csv: Path) -> str:
    """The store id of the odd upload."""
    page = offline_page(module_page)
    app.open_uploader(page)
    app.upload(page, odd_csv)
    return query(page.url)["ds"]


def null_island_id(app, page: Page) -> str:
    """The id of the shown null-island finding (one with cells: its id names them)."""
    card = app.findings(page).filter(has_text="at null island").first
    expect(card).to_be_visible()
    found = re.search(r"st-key-finding-([0-9a-f]+)", card.get_attribute("class") or "")
    assert found, card.get_attribute("class")
    return found.group(1)


def link(app, page_path: str, view: ViewState) -> str:
    return f"{app.server.url}/{page_path}?{urlencode(view.to_query())}"


def expect_view(app, page: Page, wanted: dict[str, str], where: str) -> None:
    """The URL and the share link hold ``wanted``; the sidebar names the time zone."""
    expect(page.locator(".st-key-tz-note"), f"zone note on {where}").to_contain_text(ZONE)
    assert query(page.url) == wanted, where
    assert query(app.share_url(page)) == wanted, where


def test_a_link_carries_zone_camera_finding_and_odd_types_across_every_page(
    app, new_page, uploaded: str
) -> None:
    # The view without a finding, to learn which findings it has.
    base = ViewState(ds=uploaded, tz=ZONE, types=tuple(sorted((*ODD_TYPES, "android"))))
    page = offline_page(new_page)
    page.goto(link(app, "", base))
    app.wait_idle(page)
    finding = null_island_id(app, page)
    suggested = read_shown(page).res_number

    camera = base.with_changes(finding=finding, **CAMERA)
    shared = offline_page(new_page)
    spy = app.spy(shared)
    shared.goto(link(app, "map", camera))
    app.wait_idle(shared)
    expect(shared.get_by_role("heading", name="Map", level=1)).to_be_visible()
    wanted = camera.to_query()
    expect_view(app, shared, wanted, "the link's Map page")
    shown = read_shown(shared)
    assert set(ODD_TYPES) <= set(shown.types) and "ios" not in shown.types
    assert shown.res_number == suggested
    specs = spy.specs()
    assert specs, f"no pydeck spec reached the browser: {spy.describe()}"
    drawn = specs[-1]["initialViewState"]
    assert (drawn["latitude"], drawn["longitude"], drawn["zoom"]) == tuple(CAMERA.values())
    assert "selected" in {layer.get("id") for layer in specs[-1]["layers"]}

    for title in (*TOUR[1:], "Map"):
        switch_to(app, shared, title)
        assert read_shown(shared) == shown, title
        expect_view(app, shared, wanted, title)
        if title == "Data":
            expect(shared.locator(".st-key-f_zone input")).to_have_value(ZONE)
        if title == "Findings":
            chosen = shared.locator(f".st-key-select-{finding} [data-testid=stBaseButton-primary]")
            expect(chosen).to_be_visible()

    # A click on a hexagon: the share link names the cell when the run ends.
    canvas = shared.get_by_test_id("stDeckGlJsonChart").first.locator("canvas").first
    expect(canvas).to_be_visible()
    click_until_picked(shared, canvas)
    app.wait_idle(shared)
    cell = query(shared.url)["cell"]
    assert query(app.share_url(shared))["cell"] == cell
    assert query(app.share_url(shared)) == query(shared.url)
    expect(shared.get_by_role("heading", name=f"Cell {cell}")).to_be_visible()
    app.screenshot(shared, "share_view_clicked_cell")


#: How long deck.gl may take to draw the hexagons it picks from, on a loaded machine.
PICK_DEADLINE_S = 60
_CELL_IN_URL = re.compile(r"[?&]cell=[0-9a-f]{15,16}\b")


def click_until_picked(page: Page, canvas) -> None:
    """Click the map's centre until the share link names the cell under it. deck.gl draws
    (and so can pick) only a moment after its canvas shows, later on a busy machine, so a
    click before that picks nothing; the clicks are bounded in time."""
    deadline = time.monotonic() + PICK_DEADLINE_S
    while True:
        canvas.click()
        try:
            expect(page).to_have_url(_CELL_IN_URL, timeout=5_000)
            return
        except AssertionError:
            assert time.monotonic() < deadline, f"no hexagon picked at the map's centre: {page.url}"


def test_a_link_to_a_finding_at_another_resolution_says_where_it_is(
    app, new_page, uploaded: str
) -> None:
    page = offline_page(new_page)
    page.goto(link(app, "", ViewState(ds=uploaded)))
    app.wait_idle(page)
    finding = null_island_id(app, page)
    suggested = int(read_shown(page).res_number)
    coarser = suggested - 1
    stale = ViewState(ds=uploaded, finding=finding, res=coarser, **CAMERA)
    page.goto(link(app, "time", stale))
    app.wait_idle(page)
    note = page.locator(".st-key-flash-info")
    expect(note).to_contain_text(f"not found at resolution {coarser}")
    expect(note).to_contain_text(f"found at resolution {suggested}")
    left = {"ds": uploaded, "res": str(coarser)}
    assert query(page.url) == left
    assert query(app.share_url(page)) == left
