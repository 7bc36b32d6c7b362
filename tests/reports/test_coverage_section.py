"""The report's ``coverage`` section: null without a reference; with one, every region
with its rate, interval and weight, the homes counted by reason, the fit, and a
Coverage section in Markdown and HTML (region names from the file shown as text)."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from explorer.analysis import analyze
from explorer.config import Config
from explorer.detectors.coverage.rates import device_homes
from explorer.reading.device_hash import device_hashes
from explorer.reading.reference import Reference
from explorer.reports.contract import render, report_dict
from explorer.reports.schema import validate_report
from tests.detectors.coverage.conftest import (
    census_reference,
    city_pings,
    city_summary,
    grid_regions,
)


@pytest.fixture(scope="module")
def thinned():
    """London's synthetic devices, those living in one box kept at a fifth of the
    others' rate, read through the pipeline; the census reference (one region named
    with markup) and the box."""
    pings = city_pings("london", 0)
    summary = city_summary("london", 0)
    ids, polygons = grid_regions(pings, 3)
    reference = census_reference(summary, ids, polygons)
    regions = reference.regions.with_columns(
        name=pl.when(pl.col("region_id") == ids[0])
        .then(pl.lit("<b>Old|Town</b>"))
        .otherwise(pl.col("name"))
    )
    reference = Reference(
        "census.geojson", regions, reference.geometry, columns={"population": "pop"}
    )
    box = reference.regions.sort("population")["region_id"][-2]
    homes = device_homes(summary, reference, Config())
    rng = np.random.default_rng(4)
    chance = np.where((homes["region_id"] == box).fill_null(False).to_numpy(), 0.1, 0.5)
    kept = homes.filter(pl.Series(rng.random(homes.height) < chance))["device"]
    hashed = device_hashes(pings["device_id"])
    panel = pings.filter(hashed.is_in(kept.implode()).fill_null(False))
    out = panel.with_columns(pl.col("timestamp").dt.epoch("ms")).write_csv()
    analysis = analyze(out.encode(), name="panel.csv", reference=reference)
    return analysis, reference, box


def test_without_a_reference_the_section_is_null():
    pings = city_pings("new_york", 0).head(20_000)
    analysis = analyze(pings.with_columns(pl.col("timestamp").dt.epoch("ms")).write_csv().encode())
    data = report_dict(analysis)
    validate_report(data)
    assert data["coverage"] is None
    # The skipped check says what is missing; the reports say how to give it, the app
    # (which shows no command line) keeps the reason alone.
    skipped = {s["check"]: s["reason"] for s in data["skipped"]}
    assert skipped["coverage_bias"].endswith("no reference population was given")
    for text in (render(analysis, "markdown"), render(analysis, "html")):
        assert "with --reference FILE, or upload it on the app" in text


def test_the_section_holds_every_region_with_rates_and_weights(thinned):
    analysis, reference, box = thinned
    data = json.loads(render(analysis, "json"))
    validate_report(data)
    coverage = data["coverage"]
    assert coverage["source"] == "census.geojson" and not coverage["coarse"]
    assert coverage["columns"] == {"population": "pop"}
    assert [r["id"] for r in coverage["regions"]] == reference.regions["region_id"].to_list()
    homes = coverage["homes"]
    assert homes["with_home"] == homes["in_regions"] + homes["outside"]
    assert homes["devices"] == (
        homes["with_home"] + homes["no_nights"] + homes["too_few_nights"] + homes["no_clear_home"]
    )
    in_regions = sum(r["home_devices"] for r in coverage["regions"])
    assert in_regions == homes["in_regions"]
    residents = sum(r["residents"] for r in coverage["regions"])
    assert coverage["overall_rate"] == pytest.approx(1_000 * in_regions / residents, rel=1e-5)
    for region in coverage["regions"]:
        assert region["rate_low"] <= region["rate"] <= region["rate_high"]
    weighted = sum(r["weight"] * r["home_devices"] for r in coverage["regions"] if r["weight"])
    assert weighted / in_regions == pytest.approx(1.0, rel=1e-4)
    thin = next(r for r in coverage["regions"] if r["id"] == box)
    others = [r["weight"] for r in coverage["regions"] if r["id"] != box and r["weight"]]
    assert thin["weight"] > 3 * max(others)  # a fifth of the rate: about five times the weight
    assert coverage["fit"]["n"] == 9 and 0 < coverage["fit"]["r2"] <= 1
    (finding,) = [f for f in data["findings"] if f["kind"] == "coverage_bias"]
    assert finding["regions"] == [box] and finding["severity"] in ("medium", "high")


def test_markdown_and_html_show_the_coverage_section_as_text(thinned):
    analysis, _, box = thinned
    markdown, html = render(analysis, "markdown"), render(analysis, "html")
    assert "## Coverage" in markdown and "<h2>Coverage</h2>" in html
    assert "devices with a home per 1,000 residents" in markdown
    assert "log-log slope of" in markdown and "log-log slope of" in html
    assert f"| Region {box} | {box} |" in markdown
    assert "<b>Old" not in html and "&lt;b&gt;Old" in html
    assert "\\<b\\>Old\\|Town\\</b\\>" in markdown
    # The section comes before the panel and lists the thinned box first.
    section = markdown[markdown.index("## Coverage") : markdown.index("## Panel over time")]
    first_row = [line for line in section.splitlines() if line.startswith("| ")][1]
    assert first_row.startswith(f"| Region {box} |")
