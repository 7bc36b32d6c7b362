"""The sidebar shows the view on every page: after each page switch, a change and a link.

Streamlit treats a widget drawn on another page as a new one; the sidebar once showed its
defaults (no device type, resolution 4) on every other page while the analysis ran at the
view's resolution. Here the sidebar and the status are read on the sample, the pages are
switched through one by one, the resolution, device types and basemap are changed on one
page (and the Map's colour metric on its own), and every page, and the share link opened
elsewhere, must show the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from app.deck import METRIC_LABELS

pytestmark = pytest.mark.e2e

#: Every page in the navigation, by title, starting from the default one (Findings).
TOUR = ("Findings", "Map", "Time of day", "Device types", "Data", "Findings")
ANALYSED = re.compile(r"at resolution (\d+)")
#: Anything not served by the test server: the basemap's tiles, once it is switched on.
OUTSIDE = re.compile(r"^(?!https?://127\.0\.0\.1[:/])[a-z]+://")


@dataclass(frozen=True)
class Shown:
    """What the sidebar's widgets show, and the resolution the status says was used."""

    types: tuple[str, ...]
    hours: tuple[str, str]
    res: str  # the slider's text, e.g. "9 (suggested)"
    basemap: bool
    analysed_at: str

    @property
    def res_number(self) -> str:
        return self.res.split()[0]


def offline_page(new_page) -> Page:
    """A fresh page whose requests outside the test server are refused (no tiles)."""
    page = new_page()
    page.route(OUTSIDE, lambda route: route.abort())
    return page


def sidebar(page: Page):
    return page.get_by_test_id("stSidebar")


def chips(page: Page):
    # The multiselect draws its chips twice (once to measure them): the visible ones count.
    return sidebar(page).locator(".st-key-f_types [data-tag]:visible")


def analysed(page: Page):
    """The status line of the analysis ("Analysed … at resolution 9: n findings")."""
    return page.get_by_test_id("stExpander").filter(has_text=ANALYSED)


def read_shown(page: Page) -> Shown:
    """Read the sidebar once every widget and the status are drawn."""
    bar = sidebar(page)
    expect(chips(page).first).to_be_visible()
    expect(bar.locator(".st-key-f_hours input[type=range]")).to_have_count(2)
    expect(bar.locator(".st-key-f_res input[type=range]")).to_have_count(1)
    expect(bar.locator(".st-key-basemap input")).to_have_count(1)
    expect(analysed(page)).to_have_count(1)
    labels = chips(page).evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    hours = bar.locator(".st-key-f_hours input[type=range]").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-valuetext'))"
    )
    at = ANALYSED.search(analysed(page).inner_text())
    assert at, analysed(page).inner_text()
    return Shown(
        types=tuple(sorted(set(labels))),
        hours=(hours[0], hours[1]),
        res=bar.locator(".st-key-f_res input[type=range]").get_attribute("aria-valuetext"),
        basemap=bar.locator(".st-key-basemap input").is_checked(),
        analysed_at=at.group(1),
    )


def expect_shown(page: Page, shown: Shown, where: str) -> None:
    """The sidebar and the status show ``shown`` (waiting for the page to settle)."""
    bar = sidebar(page)
    expect(chips(page), f"device types on {where}").to_have_text(list(shown.types))
    hours = bar.locator(".st-key-f_hours input[type=range]")
    for thumb, value in zip((hours.nth(0), hours.nth(1)), shown.hours, strict=True):
        expect(thumb, f"hours on {where}").to_have_attribute("aria-valuetext", value)
    expect(
        bar.locator(".st-key-f_res input[type=range]"), f"resolution on {where}"
    ).to_have_attribute("aria-valuetext", shown.res)
    toggle = bar.locator(".st-key-basemap input")
    if shown.basemap:
        expect(toggle, f"basemap on {where}").to_be_checked()
    else:
        expect(toggle, f"basemap on {where}").not_to_be_checked()
    expect(analysed(page), f"status on {where}").to_contain_text(
        f"at resolution {shown.analysed_at}:"
    )
    assert read_shown(page) == shown, where


def switch_to(app, page: Page, title: str) -> None:
    """Click a page in the navigation; wait until its own run has ended."""
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    app.wait_idle(page)


def tour(app, page: Page, shown: Shown) -> None:
    """Switch through every page and back, checking the sidebar on each."""
    for title in TOUR[1:]:
        switch_to(app, page, title)
        expect_shown(page, shown, title)


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def test_the_sidebar_shows_the_view_on_every_page_and_in_the_share_link(app, new_page) -> None:
    page = offline_page(new_page)
    app.goto(page, "/")
    first = read_shown(page)
    assert first.types, "the sample has device types: every one is chosen"
    assert first.hours == ("0", "24")
    assert first.res.endswith("(suggested)") and first.res_number == first.analysed_at
    tour(app, page, first)

    # Change the view on one page (one that used to show the defaults after a switch).
    switch_to(app, page, "Device types")
    lower = str(int(first.res_number) - 1)
    slider = sidebar(page).locator(".st-key-f_res input[type=range]")
    slider.focus()
    slider.press("ArrowLeft")
    expect(page).to_have_url(re.compile(rf"[?&]res={lower}\b"))
    app.wait_idle(page)
    kept = first.types[0]
    for dropped in first.types[1:]:
        sidebar(page).get_by_role("button", name=f"Remove {dropped}").click()
    expect(page).to_have_url(re.compile(rf"[?&]types={re.escape(kept)}(&|$)"))
    app.wait_idle(page)
    sidebar(page).locator(".st-key-basemap label").click()
    expect(page).to_have_url(re.compile(r"[?&]basemap=on\b"))
    app.wait_idle(page)
    changed = replace(first, types=(kept,), res=lower, basemap=True, analysed_at=lower)
    expect_shown(page, changed, "Device types, after the change")
    assert query(page.url)["types"] == kept

    tour(app, page, changed)
    # The Map page's own widget (the colour metric) holds across a switch too.
    switch_to(app, page, "Map")
    metric = page.locator(".st-key-f_metric input")
    metric.click()
    metric.press("ArrowDown")  # opens the list when the click only focused the box
    page.get_by_role("option").filter(has_text=METRIC_LABELS["night_share"]).click()
    expect(page).to_have_url(re.compile(r"[?&]metric=night_share\b"))
    app.wait_idle(page)
    switch_to(app, page, "Data")
    switch_to(app, page, "Map")
    expect(metric).to_have_value(METRIC_LABELS["night_share"])
    expect_shown(page, changed, "Map, after a metric change")
    share = app.share_url(page)
    wanted = {"res": lower, "types": kept, "basemap": "on", "metric": "night_share"}
    assert wanted.items() <= query(share).items()

    elsewhere = offline_page(new_page)
    elsewhere.goto(share)
    app.wait_idle(elsewhere)
    expect(elsewhere.get_by_role("heading", name="Map", level=1)).to_be_visible()
    expect_shown(elsewhere, changed, "the shared link")
    expect(elsewhere.locator(".st-key-f_metric input")).to_have_value(METRIC_LABELS["night_share"])


def date_fields(page: Page) -> list[str]:
    """Year, month, day of the range's start, then of its end ("Empty" when not picked)."""
    spins = sidebar(page).locator(".st-key-f_dates [role=spinbutton]")
    return spins.evaluate_all("els => els.map(e => e.getAttribute('aria-valuetext'))")


def test_one_end_of_the_date_range_stays_picked_until_the_other(app, new_page) -> None:
    page = offline_page(new_page)
    with page.expect_websocket() as opened:
        app.goto(page, "/")
    socket = opened.value
    assert "Empty" not in date_fields(page)
    calendar = sidebar(page).locator(".st-key-f_dates").get_by_test_id("stDateInputCalendarButton")
    calendar.click()
    dialog = page.get_by_role("dialog")
    # The pick starts a run: wait for the server's answer, then for the run's end.
    with socket.expect_event("framereceived"):
        dialog.get_by_text("10", exact=True).first.click()
    app.wait_idle(page)
    start_only = date_fields(page)
    assert start_only[2] == "10" and start_only[3:] == ["Empty"] * 3, start_only
    assert "start" not in query(page.url)
    if not dialog.is_visible():
        calendar.click()
    dialog.get_by_text("12", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"[?&]start=\d{4}-\d\d-10&end=\d{4}-\d\d-12\b"))
    app.wait_idle(page)
    assert date_fields(page)[2::3] == ["10", "12"]
