"""Compare page in a real browser: upload a week of pings on the Findings page, open
Compare, upload the earlier week (the same panel before most devices of a busy district
were dropped), see the change cards, the diff map and the daily chart; the share link
reopens the same comparison in a fresh context; a bad ``before=`` gives one note."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from explorer.synth.pings import generate_pings
from tests.compare.planting import busy_area, drop_area_devices

pytestmark = pytest.mark.e2e

#: Resolution of the areas at which the district is dropped.
AREA_RES = 6
CARD = "[class*='st-key-change-']:not([class*='st-key-change-group-'])"
SEVERE = re.compile(r"^\s*(HIGH|MEDIUM)\s*$")


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture(scope="module")
def weeks(synthetic_file: Callable[..., Path]) -> tuple[Path, Path]:
    """(earlier, later): a week of a clean New York panel, and the same week with 90 % of
    the devices living in a busy district gone."""
    pings = generate_pings(40_000, seed=11, days=7).pings
    area = busy_area(pings, AREA_RES, rank=3)
    earlier = synthetic_file(pings, "week_one.csv", folder="compare_before")
    later = synthetic_file(
        drop_area_devices(pings, area, AREA_RES, 0.9), "week_two.csv", folder="compare_after"
    )
    return earlier, later


def card_ids(page: Page) -> list[str]:
    classes = page.locator(CARD).evaluate_all("els => els.map(e => e.className)")
    return sorted(
        {m.group(1) for c in classes for m in re.finditer(r"st-key-change-([0-9a-f]{16})\b", c)}
    )


def see_the_comparison(page: Page) -> None:
    """A severe change card about the district, the diff map and the daily chart."""
    cards = page.locator(CARD)
    fell = cards.filter(has_text="share of devices fell")
    expect(fell.first).to_be_visible()
    expect(fell.first.get_by_text(SEVERE)).to_be_visible()
    expect(page.locator(".st-key-compare-story")).to_contain_text("week_one.csv")
    expect(page.locator(".st-key-compare-null")).to_have_count(0)
    expect(page.get_by_test_id("stDeckGlJsonChart").first).to_be_visible()
    expect(page.locator(".st-key-map-legend")).to_contain_text("lost")
    expect(page.locator(".st-key-map-legend")).to_contain_text("about no change")
    chart = page.locator(".st-key-compare-daily svg").filter(has_text="before and after")
    expect(chart.first).to_be_visible()


def test_two_uploads_compare_and_the_link_reopens_it(app, new_page, weeks) -> None:
    earlier, later = weeks
    page = new_page()
    app.open_uploader(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(later))
    expect(page.locator(".st-key-dataset-name")).to_contain_text("week_two")
    expect(page).to_have_url(re.compile(r"[?&]ds=[^&]+"))
    app.wait_idle(page)
    after_id = query(page.url)["ds"]

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Compare").click()
    expect(page.locator(".st-key-compare-empty")).to_be_visible()
    app.wait_idle(page)
    choose = page.locator(".st-key-compare-choose")
    choose.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(earlier))
    expect(page).to_have_url(re.compile(r"[?&]before=[^&]+"))
    app.wait_idle(page)
    see_the_comparison(page)
    ids = card_ids(page)
    assert ids
    page.locator(".st-key-compare-daily").scroll_into_view_if_needed()
    app.screenshot(page, "compare_changes")
    page.get_by_test_id("stDeckGlJsonChart").first.scroll_into_view_if_needed()
    app.screenshot(page, "compare_map")

    share = app.share_url(page)
    assert urlsplit(share).path == "/compare"
    shared = query(share)
    assert shared["ds"] == after_id and shared["before"] not in ("", after_id)
    fresh = new_page()
    fresh.goto(share)
    app.wait_idle(fresh)
    see_the_comparison(fresh)
    assert card_ids(fresh) == ids
    before = fresh.locator(".st-key-compare-choose").get_by_role("combobox")
    expect(before).to_have_value(re.compile(r"week_one\.csv \(shared by link\)"))
    expect(fresh.get_by_text("Page not found")).to_have_count(0)
    app.screenshot(fresh, "compare_shared_link")


def test_a_bad_before_in_a_link_gives_one_note(app, new_page) -> None:
    page = new_page()
    page.goto(f"{app.server.url}/compare?before=AAAAAAAAAAAAAAAAAAAAAA")
    app.wait_idle(page)
    note = page.locator(".st-key-compare-note")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("not valid or has expired")
    expect(page.locator(".st-key-compare-empty")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "before" not in query(app.share_url(page))
    app.screenshot(page, "compare_bad_before")
