"""A selected finding's chart is drawn with labelled axes, and its action downloads a
cleaned copy of the file (browser, real server)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from explorer.synth.pings import generate_pings

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def duplicated_csv(synthetic_file: Callable[..., Path]) -> Path:
    """20,000 synthetic pings, 2 % of rows written twice."""
    pings = generate_pings(20_000, biases=("duplicate_pings",), seed=17)
    return synthetic_file(pings, "duplicated_pings.csv", folder="uploads")


def test_selected_finding_draws_its_chart_and_downloads_a_cleaned_copy(
    app, new_page, duplicated_csv: Path
) -> None:
    page = new_page()
    app.goto(page, "/")
    app.upload(page, duplicated_csv)
    card = app.findings(page).filter(has_text=re.compile("extra copies")).first
    expect(card).to_be_visible()
    # A whole-data finding has no place on the map: its button shows the evidence.
    card.get_by_role("button", name=re.compile("^Show (on map|evidence)$")).click()
    app.wait_idle(page)
    card = app.findings(page).filter(has_text=re.compile("extra copies")).first
    chart = card.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible()
    # Drawn as SVG: the title and both axis titles are text in the chart.
    expect(chart.locator("svg")).to_contain_text("Duplicated rows by number of copies")
    expect(chart.locator("svg")).to_contain_text("copies")
    expect(chart.locator("svg")).to_contain_text("rows")
    expect(card).not_to_contain_text("python -m")
    app.screenshot(page, "evidence_and_action")

    with page.expect_download() as info:
        card.get_by_role("button", name=re.compile("Download a cleaned copy")).click()
    cleaned = Path(info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(cleaned)))
    original = list(csv.reader(io.StringIO(duplicated_csv.read_text(encoding="utf-8"))))
    assert rows[0] == original[0]
    body = [tuple(r) for r in rows[1:]]
    assert len(set(body)) == len(body), "the cleaned copy still holds duplicate rows"
    assert len(set(body)) == len({tuple(r) for r in original[1:]})
    assert len(body) < len(original) - 1
