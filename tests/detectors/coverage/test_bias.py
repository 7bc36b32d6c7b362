"""coverage_bias: a uniformly sampled panel is quiet; regions planted under- or
over-sampled are found and named, at a severity that follows the strength."""

from __future__ import annotations

import jsonschema
import polars as pl
import pytest

from explorer.config import Config
from explorer.detectors.context import Context
from explorer.detectors.coverage.bias import detect_coverage_bias, two_sided_p
from explorer.reading.reference import Reference
from tests.detectors.conftest import evidence_schema
from tests.detectors.coverage.conftest import (
    census_reference,
    city_pings,
    city_summary,
    coverage_findings,
    grid_regions,
    sample_panel,
    voronoi_regions,
)

CITIES = ("london", "new_york", "sao_paulo")


def _layout(city: str, seed: int, layout: str):
    pings = city_pings(city, seed)
    if layout == "few_large":
        return grid_regions(pings, 3)
    if layout == "many_small":
        return grid_regions(pings, 8)
    return voronoi_regions(pings, 30, seed)


@pytest.mark.parametrize("city", CITIES)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("layout", ["few_large", "many_small", "voronoi"])
def test_a_uniform_panel_gives_no_medium_or_high_finding(city, seed, layout):
    summary = city_summary(city, seed)
    ids, polygons = _layout(city, seed, layout)
    exact = census_reference(summary, ids, polygons)
    # A census of another year (15 % error per region) and a smooth east-west gradient
    # of the panel's reach (±30 %) are realistic, not biases worth a medium finding.
    noisy = census_reference(summary, ids, polygons, noise=0.15, seed=seed)
    for reference, gradient in ((exact, 0.0), (noisy, 0.3)):
        panel = sample_panel(summary, reference, 0.4, seed + 10, gradient=gradient)
        serious = [f for f in coverage_findings(panel, reference) if f.severity != "low"]
        assert serious == [], [(f.title, f.severity) for f in serious]


def _pick(reference: Reference, size: str) -> str:
    """The most populous region, or the one at the 60th percentile of residents."""
    ordered = reference.regions.sort("population", "region_id")
    return ordered["region_id"][-1 if size == "largest" else int(0.6 * ordered.height)]


# (layout, which region, strength, lowest severity expected). Measured on 3 cities x 2
# seeds: a quarter of the rate is medium in regions of 220+ census homes (90+ panel
# homes) and at least low in regions of ~100; half or twice the rate needs ~130+ panel
# homes for the interval's conservative end to pass 1.5.
PLANTED = [
    ("many_small", "largest", 0.25, "medium"),
    ("voronoi", "largest", 0.25, "medium"),
    ("few_large", "largest", 0.25, "medium"),
    ("voronoi", "middle", 0.25, "low"),
    ("few_large", "middle", 0.5, "low"),
    ("voronoi", "largest", 0.5, "low"),
    ("few_large", "middle", 2.0, "low"),
    ("many_small", "largest", 2.0, "low"),
    ("voronoi", "largest", 2.0, "low"),
]
RANK = {"low": 0, "medium": 1, "high": 2}


@pytest.mark.parametrize("city", CITIES)
@pytest.mark.parametrize(("layout", "size", "strength", "at_least"), PLANTED)
def test_a_planted_region_is_found_and_named(city, layout, size, strength, at_least):
    summary = city_summary(city, 0)
    ids, polygons = _layout(city, 0, layout)
    reference = census_reference(summary, ids, polygons)
    region = _pick(reference, size)
    panel = sample_panel(summary, reference, 0.4, 10, planted={region: strength})
    findings = coverage_findings(panel, reference)
    assert [f.regions for f in findings] == [(region,)]
    found = findings[0]
    assert RANK[found.severity] >= RANK[at_least]
    direction = "under" if strength < 1 else "over"
    assert found.evidence["direction"] == direction
    # The planted strength lies within the ratio's 95 % interval (the typical rate is
    # the panel's own, so the ratio is to it, not to a known truth).
    ev = found.evidence
    assert ev["typical_ratio_low"] <= strength <= ev["typical_ratio_high"]
    assert found.cells and found.evidence["cells_listed"]
    jsonschema.validate(found.evidence, evidence_schema("coverage")["coverage_bias"])


def test_the_story_says_how_many_times_and_against_what():
    summary = city_summary("london", 0)
    ids, polygons = grid_regions(city_pings("london", 0), 3)
    reference = census_reference(summary, ids, polygons)
    region = _pick(reference, "middle")
    panel = sample_panel(summary, reference, 0.4, 10, planted={region: 0.25})
    (found,) = coverage_findings(panel, reference)
    ev = found.evidence
    assert found.story.startswith(f"Region {region} has ")
    assert "devices per 1,000 residents against" in found.story
    assert f"under-represents it about {1 / ev['typical_ratio']:.1f} times" in found.story
    assert "coarse" not in found.story


def test_a_coarse_reference_caps_findings_at_low_and_says_so():
    summary = city_summary("london", 0)
    ids, polygons = grid_regions(city_pings("london", 0), 3)
    fine = census_reference(summary, ids, polygons)
    coarse = census_reference(summary, ids, polygons, coarse=True)
    region = _pick(fine, "largest")
    panel = sample_panel(summary, fine, 0.4, 10, planted={region: 0.1})
    (strong,) = coverage_findings(panel, fine)
    (capped,) = coverage_findings(panel, coarse)
    assert strong.severity in ("medium", "high")
    assert capped.severity == "low" and capped.evidence["coarse"]
    assert "coarse" in capped.story


def test_a_region_without_any_home_is_told_plainly():
    summary = city_summary("new_york", 0)
    ids, polygons = grid_regions(city_pings("new_york", 0), 3)
    reference = census_reference(summary, ids, polygons)
    region = _pick(reference, "middle")
    panel = sample_panel(summary, reference, 0.4, 10, planted={region: 0.0})
    (found,) = coverage_findings(panel, reference)
    assert found.evidence["home_devices"] == 0 and found.severity == "high"
    assert "has no device with a home there" in found.story
    assert found.cells == ()


def test_no_reference_or_no_device_ids_finds_nothing():
    summary = city_summary("london", 0)
    assert detect_coverage_bias(Context(summary, Config(), "t", None)) == []
    assert detect_coverage_bias.kind == "coverage_bias"
    assert set(detect_coverage_bias.needs) == {"device_ids", "several_days", "reference"}


def test_the_test_is_two_sided_and_wider_with_spread():
    k, expected = [10.0, 40.0, 20.0], [20.0, 20.0, 20.0]
    poisson = two_sided_p(k, expected, 0.0)
    spread = two_sided_p(k, expected, 0.2)
    assert poisson[0] < 0.05 and poisson[1] < 1e-3 and poisson[2] == pytest.approx(1.0)
    assert (spread[:2] > poisson[:2]).all()


def test_homes_outside_every_region_are_not_placed():
    summary = city_summary("london", 0)
    ids, polygons = grid_regions(city_pings("london", 0), 3)
    reference = census_reference(summary, ids, polygons)
    # Only the first row of boxes: every other home lies outside.
    one_row = Reference(
        "part",
        reference.regions.head(3),
        tuple(polygons[:3]),
    )
    from explorer.detectors.coverage.rates import coverage_table

    full = coverage_table(summary, reference, Config())
    part = coverage_table(summary, one_row, Config())
    assert part.homes["with_home"] == full.homes["with_home"]
    assert part.homes["in_regions"] + part.outside == full.homes["with_home"]
    assert part.homes["in_regions"] == int(part.regions["home_devices"].sum())
    assert part.regions["home_devices"].to_list() == (
        full.regions.head(3)["home_devices"].to_list()
    )
    assert pl.Series(part.regions["region_id"]).to_list() == ids[:3]
