"""Upload, select a finding, share the link, reopen it elsewhere and after a restart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from explorer.analysis import analyze

pytestmark = pytest.mark.e2e

STORE_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class SelectedView:
    """The browsing session that uploaded a file and chose a finding."""

    page: Page
    spy: object
    url_before: str
    finding_id: str
    finding_cells: tuple[str, ...]
    name: str


@pytest.fixture(scope="module")
def null_island(small_csv: Path):
    """The Null Island finding of the uploaded file, as the package itself reports it."""
    found = [f for f in analyze(small_csv).findings if f.kind == "null_island"]
    assert found, "the synthetic file has pings planted at (0, 0)"
    return found[0]


@pytest.fixture(scope="module")
def selected(app, module_page, small_csv: Path, null_island) -> SelectedView:
    page = module_page()
    spy = app.spy(page)
    app.goto(page, "/")
    app.upload(page, small_csv)
    url_before = page.url
    name = app.dataset_name(page)
    button = page.locator(f".st-key-select-{null_island.id}").get_by_role("button")
    expect(button).to_have_text(re.compile("Show on map"))
    button.click()
    expect(page).to_have_url(re.compile(rf"[?&]finding={null_island.id}\b"))
    app.wait_idle(page)
    return SelectedView(page, spy, url_before, null_island.id, null_island.cells, name)


def test_upload_shows_its_findings_and_ds_in_url(app, selected, small_csv) -> None:
    page = selected.page
    assert small_csv.name.split(".")[0] in selected.name
    assert STORE_ID.match(query(selected.url_before)["ds"])
    card = page.locator(f".st-key-finding-{selected.finding_id}")
    expect(card).to_be_visible()
    expect(card).to_contain_text("HIGH")
    expect(page.locator(".st-key-findings-summary")).to_contain_text(re.compile(r"[\d,]+ pings"))
    app.screenshot(page, "upload_findings")


def test_show_on_map_selects_finding_and_highlights_it(app, selected) -> None:
    page = selected.page
    assert query(selected.url_before).get("finding") != selected.finding_id
    assert query(page.url)["finding"] == selected.finding_id
    assert query(page.url)["ds"] == query(selected.url_before)["ds"]
    expect(page.get_by_test_id("stDeckGlJsonChart").first).to_be_visible()
    specs = selected.spy.specs()
    assert specs, f"no pydeck spec reached the browser: {selected.spy.describe()}"
    layers = {layer.get("id"): layer for layer in specs[-1]["layers"]}
    assert {"cells", "selected"} <= set(layers)
    assert layers["selected"]["@@type"] == "H3HexagonLayer"
    shown = {v for row in layers["selected"].get("data", []) for v in row.values()}
    assert shown & set(selected.finding_cells), "the highlighted layer misses the finding's cells"
    app.screenshot(page, "finding_on_map")


def assert_same_view(app, page: Page, selected: SelectedView, share: str) -> None:
    """A page opened from ``share`` shows the uploader's dataset and chosen finding."""
    page.goto(share)
    app.wait_idle(page)
    # The same dataset, told as someone else's upload (the uploader's page says "your upload").
    shared = selected.name.replace("· your upload", "· an upload shared by link")
    expect(page.locator(".st-key-dataset-name")).to_have_text(shared)
    assert query(page.url)["finding"] == selected.finding_id
    assert query(page.url)["ds"] == query(share)["ds"]
    expect(page.locator(f".st-key-finding-{selected.finding_id}")).to_be_visible()
    expect(page.get_by_test_id("stAlert").filter(has_text="This dataset link")).to_have_count(0)
    # The link names a real page: Streamlit shows no "page not found" notice.
    expect(page.get_by_text("Page not found")).to_have_count(0)


def test_share_url_reopens_the_same_view_in_a_fresh_context(app, selected, new_page) -> None:
    share = app.share_url(selected.page)
    assert query(share)["ds"] == query(selected.page.url)["ds"]
    assert query(share)["finding"] == selected.finding_id
    fresh = new_page()
    spy = app.spy(fresh)
    assert_same_view(app, fresh, selected, share)
    expect(fresh.get_by_test_id("stDeckGlJsonChart").first).to_be_visible()
    layer_ids = spy.layer_ids()
    assert layer_ids, f"no pydeck spec reached the browser: {spy.describe()}"
    assert "selected" in layer_ids[-1]
    app.screenshot(fresh, "shared_link")


def test_share_url_survives_a_server_restart(app, selected, new_page) -> None:
    share = app.share_url(selected.page)
    app.server.restart()
    assert_same_view(app, new_page(), selected, share)
