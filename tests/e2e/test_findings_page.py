"""The Findings page in a browser: story on top, groups by kind, a map that stays in view
beside the list (first on a phone), and a selection that can be cleared."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from explorer.analysis import analyze
from explorer.interactive.grouping import group_findings
from explorer.reading.reference_files import read_reference

pytestmark = pytest.mark.e2e

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "pings.csv"
MAP = ".st-key-map-panel [data-testid='stDeckGlJsonChart']"
DESKTOP_HEIGHT = 1000


def sample_findings():
    """The sample's findings as the app makes them: against its population layer."""
    population = read_reference(SAMPLE.with_name("population.geojson"))
    return analyze(SAMPLE, reference=population).findings


@pytest.fixture(scope="module")
def groups():
    """The sample's findings as the page should group them."""
    return group_findings(sample_findings())


def top(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not drawn"
    return box["y"]


def group_expanders(page: Page):
    """The kinds' expanders (the reading and analysis status boxes are expanders too)."""
    return page.get_by_test_id("stExpander").filter(has=page.locator("[class*='st-key-group-']"))


def group_headings(page: Page):
    return group_expanders(page).locator("summary [data-testid='stMarkdownContainer']")


def test_desktop_map_stays_in_view_and_the_selection_clears(app, new_page, groups) -> None:
    page = new_page()
    app.goto(page, "/")
    # The story, then the uploader, then the findings.
    expect(page.locator(".st-key-story")).to_contain_text("The data holds")
    assert top(page, ".st-key-story") < top(page, ".st-key-upload")
    assert top(page, ".st-key-upload") < top(page, ".st-key-findings-summary")
    # One expander per kind, headed by its count and worst severity.
    headings = group_headings(page)
    expect(headings).to_have_count(len(groups))
    for index, group in enumerate(groups):
        expect(headings.nth(index)).to_have_text(group.heading)
    cards = [c for g in groups for c in g.cards]
    for card in cards:
        box = page.locator(f".st-key-finding-{card.finding.id}").first
        if card.finding.cells:
            expect(box).to_contain_text(card.place or "")
            expect(box.get_by_role("button", name="Show on map").first).to_be_visible()
        else:  # about the whole data: nothing to show on the map
            expect(box.get_by_role("button", name="Show on map")).to_have_count(0)
            expect(box.get_by_role("button", name="Show evidence")).to_be_visible()

    third = [c for c in cards if c.finding.cells][2].finding
    button = page.locator(f".st-key-select-{third.id}").get_by_role("button")
    before = button.bounding_box()
    assert before is not None and before["y"] > DESKTOP_HEIGHT, "the third card starts off-screen"
    button.click()
    expect(page).to_have_url(re.compile(rf"[?&]finding={third.id}\b"))
    app.wait_idle(page)
    expect(page.locator(".st-key-selection")).to_be_visible()
    shown = page.locator(MAP).bounding_box()
    clicked = button.bounding_box()
    assert shown is not None and clicked is not None
    # The list scrolled to the card, and the map beside it is wholly on the screen.
    assert shown["y"] >= 0 and shown["y"] + shown["height"] <= DESKTOP_HEIGHT, shown
    assert 0 <= clicked["y"] <= DESKTOP_HEIGHT and shown["x"] > clicked["x"]
    app.screenshot(page, "findings_page_sticky_map")

    page.locator(".st-key-clear-selection").get_by_role("button").click()
    expect(page).not_to_have_url(re.compile(r"[?&]finding="))
    app.wait_idle(page)
    expect(page.locator(".st-key-selection")).to_have_count(0)
    expect(
        page.locator(f".st-key-select-{third.id} [data-testid='stBaseButton-secondary']")
    ).to_have_count(1)


def test_kind_filter_and_severity_link(app, new_page, groups) -> None:
    page = new_page()
    app.goto(page, "/")
    box = page.locator(".st-key-f_kinds input")
    box.click()
    box.press("ArrowDown")  # opens the list when the click only focused the box
    page.get_by_role("option").filter(has_text="Hour profile").click()
    expect(page).to_have_url(re.compile(r"[?&]kinds=hour_profile\b"))
    page.keyboard.press("Escape")
    app.wait_idle(page)
    hours = next(g for g in groups if g.kind == "hour_profile")
    expect(group_expanders(page)).to_have_count(1)
    expect(group_headings(page)).to_have_text(re.compile(r"^Hour profile: "))
    expect(app.findings(page)).to_have_count(len(hours.finding_ids))

    linked = new_page()
    app.goto(linked, "/?severities=medium")
    medium = {f.id for f in sample_findings() if f.severity == "medium"}
    expect(app.findings(linked)).to_have_count(len(medium))
    assert set(app.finding_ids(linked)) == medium


def test_phone_shows_the_map_above_the_list(app, new_page) -> None:
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    app.goto(page, "/")
    map_box = page.locator(MAP).bounding_box()
    assert map_box is not None and map_box["width"] > 300
    assert map_box["y"] + map_box["height"] <= top(page, ".st-key-findings-summary")
    assert map_box["y"] < top(page, "[class*='st-key-finding-']")
    app.screenshot(page, "findings_page_phone")
