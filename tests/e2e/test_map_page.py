"""The Map page in a real browser with the network blocked: the offline base map is drawn
(water, land, borders, names), a resolution change brings the camera back to the data,
and with the online basemap switched on the page says it could not load.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from app.deck import LAND, WATER

pytestmark = pytest.mark.e2e

#: Any request that does not go to the test server (which listens on 127.0.0.1).
OUTSIDE = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/])[a-z]+://")
MAP = "stDeckGlJsonChart"
#: A pixel within this distance (per channel) of a base map colour is drawn in it.
COLOUR_TOLERANCE = 6
RENDER_DEADLINE_S = 60.0


def colour_mask(shot: np.ndarray, colour: list[int]) -> np.ndarray:
    """Pixels of an RGB screenshot drawn in ``colour`` (its first three channels)."""
    return np.all(np.abs(shot[..., :3].astype(int) - colour[:3]) <= COLOUR_TOLERANCE, axis=-1)


def map_pixels(page: Page) -> np.ndarray:
    png = page.get_by_test_id(MAP).screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def drawn_map(
    page: Page, changed_from: np.ndarray | None = None, min_base: float = 0.02
) -> np.ndarray:
    """The map's pixels once the base map shows on ``min_base`` of them (and, given
    ``changed_from``, once they differ from it). deck.gl draws after the script run
    ends, so this polls the canvas, bounded in time."""
    deadline = time.monotonic() + RENDER_DEADLINE_S
    while True:
        shot = map_pixels(page)
        base = (water(shot) | colour_mask(shot, LAND)).mean()
        moved = changed_from is None or np.abs(shot.astype(int) - changed_from).mean() > 3
        if base >= min_base and moved:
            return shot
        assert time.monotonic() < deadline, f"map not drawn: base map on {base:.3f} of pixels"
        page.wait_for_timeout(500)  # poll interval of a bounded wait for WebGL to draw


def water(shot: np.ndarray) -> np.ndarray:
    return colour_mask(shot, WATER)


def same_place(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Where both shots show the base map (no cell over it): the share of pixels, and the
    share of those that are water in both or land in both (1.0: the same camera)."""
    land_a, land_b = colour_mask(a, LAND), colour_mask(b, LAND)
    both = (water(a) | land_a) & (water(b) | land_b)
    agree = both & ((water(a) & water(b)) | (land_a & land_b))
    return float(both.mean()), float(agree.sum() / max(both.sum(), 1))


def test_offline_map_draws_and_follows_the_resolution(app, new_page: Callable[[], Page]) -> None:
    page = new_page()
    refused: list[str] = []

    def refuse(route) -> None:
        refused.append(route.request.url)
        route.abort()

    page.route(OUTSIDE, refuse)
    spy = app.spy(page)
    page.goto(app.server.url + "/map")
    app.wait_idle(page)
    expect(page.get_by_test_id(MAP)).to_be_visible()

    # The offline layers reach the browser, with the sample city's coast and names.
    spec = spy.specs()[-1]
    layers = {layer["id"]: layer for layer in spec["layers"]}
    drawn = [layer["id"] for layer in spec["layers"] if layer["id"] != "selected"]
    assert drawn == ["base-water", "base-land", "base-borders", "cells", "base-names"]
    names = {row["name"] for row in layers["base-names"]["data"]}
    assert {"New York City", "Newark", "Jersey City"} <= names
    assert len(layers["base-land"]["data"]) > 10

    # The legend says its classes in words; finding score is the default colouring.
    legend = page.locator(".st-key-map-legend")
    expect(legend).to_contain_text("finding score")
    expect(legend).to_contain_text(re.compile(r"top [\d.]+ % of cells"))

    home = drawn_map(page)
    app.screenshot(page, "map_offline_home")
    assert water(home).mean() > 0.02 and colour_mask(home, LAND).mean() > 0.02

    # Zoom in with the wheel: the camera moves, the water on screen changes.
    box = page.get_by_test_id(MAP).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    for _ in range(4):
        page.mouse.wheel(0, -400)
    zoomed = drawn_map(page, changed_from=home, min_base=0.0)
    app.screenshot(page, "map_offline_zoomed")
    shared, agree = same_place(zoomed, home)
    assert shared < 0.05 or agree < 0.8, (shared, agree)

    # A coarser resolution: the map shows all the data again, not the old zoom.
    first_view = spec["views"][0]["id"]
    slider = page.get_by_test_id("stSidebar").locator(".st-key-f_res input[type=range]")
    slider.focus()
    slider.press("ArrowLeft")
    expect(page).to_have_url(re.compile(r"[?&]res=\d+"))
    app.wait_idle(page)
    assert spy.specs()[-1]["views"][0]["id"] != first_view
    coarser = drawn_map(page, changed_from=zoomed)
    app.screenshot(page, "map_offline_coarser")
    shared, agree = same_place(coarser, home)
    assert shared > 0.05 and agree > 0.9, (shared, agree)

    # The online basemap switched on cannot load here: the page says so in words.
    page.get_by_test_id("stSidebar").locator(".st-key-basemap label").click()
    expect(page).to_have_url(re.compile(r"[?&]basemap=on\b"))
    app.wait_idle(page)
    expect(page.locator(".st-key-online-basemap")).to_contain_text("need a network")
    probe = page.frame_locator(".st-key-online-basemap iframe").locator("#probe")
    expect(probe).to_have_attribute("data-state", "failed")
    expect(probe).to_contain_text("could not be loaded")
    app.screenshot(page, "map_online_failed")
    assert refused, "the online basemap was never asked for"
