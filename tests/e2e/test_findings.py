"""The sample on load, the page title, and bad dataset links (browser, real server)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_sample_findings_visible_on_load(app, new_page) -> None:
    page = new_page()
    label = "cold" if app.server.pages_served == 0 else "warm"
    seconds = app.goto(page, "/")
    app.record_timing(f"navigation -> sample findings visible ({label})", seconds)
    # The sample's hexagon map is drawn beside its findings (a canvas, not a placeholder).
    expect(page.get_by_test_id("stDeckGlJsonChart").first.locator("canvas").first).to_be_visible()
    app.screenshot(page, "sample_findings")

    expect(page).to_have_title(re.compile("Ping Bias Explorer"))
    assert app.dataset_name(page).startswith("Dataset: ")
    assert re.search(r"\b\d+ (high|medium|low)\b.*\bfindings? in [\d,]+ pings", app.summary(page))
    first = app.severe_findings(page).first
    expect(first).to_contain_text(re.compile(r"\S.{10,}"))  # a title and a story, not a bare badge
    expect(first.get_by_role("button", name="Show on map")).to_be_visible()
    assert "ds=" not in page.url  # the sample is the default: no dataset id in the link
    # The uploader sits on the Findings page with its size limit stated.
    expect(page.get_by_test_id("stFileUploaderDropzoneInput")).to_be_attached()
    expect(page.locator(".st-key-upload")).to_be_visible()
    expect(page.get_by_text(re.compile(r"\b\d[\d,]*\s*[MG]B\b")).first).to_be_visible()

    warm = new_page()
    app.record_timing("navigation -> sample findings visible (warm)", app.goto(warm, "/"))
    assert app.finding_ids(warm) == app.finding_ids(page)


@pytest.mark.parametrize(
    "bad_id",
    [
        "../../etc/passwd",  # malformed: not a store id at all
        "AAAAAAAAAAAAAAAAAAAAAA",  # well-formed (22 url-safe characters) but unknown
    ],
)
def test_bad_dataset_link_shows_message_and_sample(app, new_page, bad_id: str) -> None:
    page = new_page()
    page.goto(f"{app.server.url}/?ds={bad_id}")
    app.wait_idle(page)
    alert = page.get_by_test_id("stAlert").filter(has_text="This dataset link")
    expect(alert).to_be_visible()
    expect(alert.get_by_text(re.compile(r"^This dataset link")).first).to_be_visible()
    # The rest of the page still works on the sample.
    expect(app.severe_findings(page).first).to_be_visible()
    expect(page.locator(".st-key-dataset-name")).to_contain_text("Dataset:")
    app.screenshot(page, "bad_dataset_link")
