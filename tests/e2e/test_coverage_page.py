"""Coverage page in a real browser: the sample against its population layer (map, funnel,
fit, table, the under-sampled district flagged) and its share link; an upload with no
reference, a broken reference file (one sentence), then a GeoJSON reference that is used
and that a colleague opening the link sees too."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from explorer.synth.pings import generate_pings
from explorer.synth.population import (
    district_residents,
    generator_homes,
    plant_under_sampled,
    to_geojson,
)
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

N = 40_000
CITY, SEED = "london", 21


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture(scope="module")
def london(synthetic_file: Callable[..., Path], tmp_path_factory) -> tuple[Path, Path, Path]:
    """Pings of a generated London, its districts' GeoJSON (Inner South 4 times
    under-sampled) and a reference file that cannot be read."""
    pings = synthetic_file(generate_pings(N, city=CITY, seed=SEED), "london_pings.csv")
    homes = generator_homes(N, city=CITY, seed=SEED)
    districts = plant_under_sampled(district_residents(homes, 9e6), "inner-s", 4)
    folder = tmp_path_factory.mktemp("references")
    layer = folder / "london_districts.geojson"
    layer.write_text(to_geojson(homes.city, districts), encoding="utf-8")
    broken = folder / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat', encoding="utf-8")
    return pings, layer, broken


def full_screenshot(page: Page, name: str) -> None:
    """The whole page as an artifact for people to look at; never asserted on."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def expect_coverage(page: Page, reference: str) -> None:
    """The page shows the reference's name, the map, both charts and the table."""
    expect(page.locator(".st-key-coverage-reference")).to_contain_text(reference)
    expect(page.locator(".st-key-coverage-map").get_by_test_id("stDeckGlJsonChart")).to_be_visible()
    expect(page.locator(".st-key-map-legend")).to_contain_text("the overall rate")
    expect(page.locator("svg").filter(has_text="Funnel").first).to_be_visible()
    expect(page.locator("svg").filter(has_text="log-log").first).to_be_visible()
    expect(page.locator(".st-key-coverage-table").get_by_test_id("stDataFrame")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_the_sample_shows_the_under_sampled_district_and_its_link_reopens(app, new_page):
    page = new_page()
    page.goto(f"{app.server.url}/coverage")
    app.wait_idle(page)
    expect_coverage(page, "population.geojson")
    findings = page.locator(".st-key-coverage-findings")
    expect(findings).to_contain_text("Middle South-East is under-sampled")
    expect(findings.get_by_text(re.compile(r"^\s*(MEDIUM|HIGH)\s*$")).first).to_be_visible()
    expect(page.locator(".st-key-coverage-headline")).to_contain_text("25 regions")
    # Above the table (a canvas grid): the flagged districts in words.
    expect(page.locator(".st-key-coverage-table")).to_contain_text(
        re.compile(r"Regions flagged: Middle South-East \((medium|high), 0\.[0-3]\d ×")
    )
    full_screenshot(page, "coverage_sample")

    share = app.share_url(page)
    assert urlsplit(share).path == "/coverage"
    fresh = new_page()
    fresh.goto(share)
    app.wait_idle(fresh)
    expect_coverage(fresh, "population.geojson")
    expect(fresh.locator(".st-key-coverage-findings")).to_contain_text(
        "Middle South-East is under-sampled"
    )
    expect(fresh.get_by_text("Page not found")).to_have_count(0)


def upload_pings(app, page: Page, path: Path) -> str:
    """Upload pings on the Findings page (clean data: no finding to wait for); their id."""
    app.open_uploader(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    expect(page.locator(".st-key-dataset-name")).to_contain_text(path.stem)
    expect(page).to_have_url(re.compile(r"[?&]ds=[^&]+"))
    app.wait_idle(page)
    return query(page.url)["ds"]


def open_coverage_in_session(app, page: Page) -> None:
    """Switch to the Coverage page through the navigation (the session stays the same)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Coverage").click()
    expect(page).to_have_url(re.compile(r"/coverage\?(.*&)?ds="))
    app.wait_idle(page)


def test_an_uploaded_reference_is_used_and_survives_the_share_link(app, new_page, london):
    pings, layer, broken = london
    page = new_page()
    dataset = upload_pings(app, page, pings)
    open_coverage_in_session(app, page)
    note = page.locator(".st-key-no-reference")
    expect(note).to_contain_text("GeoJSON, GeoPackage, zipped Shapefile or GeoParquet")
    expect(note).to_contain_text("H3 cells")
    app.screenshot(page, "coverage_no_reference")

    uploader = page.get_by_test_id("stFileUploaderDropzoneInput")
    uploader.set_input_files(str(broken))
    error = page.locator(".st-key-reference-error")
    expect(error).to_be_visible()
    text = error.inner_text().strip()
    assert "Traceback" not in text and len(re.findall(r"[.;:] [A-Z]", text)) == 0, text
    expect(page.get_by_test_id("stException")).to_have_count(0)
    app.screenshot(page, "coverage_broken_reference")

    uploader.set_input_files(str(layer))
    expect_coverage(page, "london_districts.geojson")
    assert query(page.url)["ds"] == dataset
    full_screenshot(page, "coverage_uploaded_reference")

    share = app.share_url(page)
    assert query(share) == {"ds": dataset}
    fresh = new_page()
    fresh.goto(share)
    app.wait_idle(fresh)
    expect_coverage(fresh, "london_districts.geojson")
    expect(fresh.get_by_text("Only the session that uploaded these pings")).to_be_attached()


def test_the_coarse_default_is_offered_and_travels_in_the_link(app, new_page, london):
    pings, _, _ = london
    page = new_page()
    upload_pings(app, page, pings)
    open_coverage_in_session(app, page)
    page.locator(".st-key-reference-coarse button").click()
    expect(page).to_have_url(re.compile(r"[?&]ref=coarse"))
    app.wait_idle(page)
    expect_coverage(page, "Coarse reference")
    share = app.share_url(page)
    assert query(share)["ref"] == "coarse"
    fresh = new_page()
    fresh.goto(share)
    app.wait_idle(fresh)
    expect_coverage(fresh, "Coarse reference")
    app.screenshot(fresh, "coverage_coarse_default")
