"""Calibration of the whole detector suite.

Clean data with realistic structure yields no medium or high finding; each bias planted
alone is found (medium or high) at the right place; planted together, all are found;
row order and chunking do not change the findings.
"""

import polars as pl
import pytest

from explorer.analysis import analyze_summary
from explorer.summary import merge, summarise
from explorer.synth.pings import BIAS_KINDS, generate_pings
from explorer.testing import km_to_nearest_cell, serious

N_PINGS = 150_000
RESOLUTION = 8
SALT = "calibration"
#: "At the right cells": a finding cell within about 1.5 km of the planted place.
NEAR_KM = 1.5


def analyse(pings: pl.DataFrame, resolution: int = RESOLUTION):
    summary = summarise(pings, resolution)
    return analyze_summary(summary, source="synthetic", salt=SALT)


def serious_of(analysis):
    return serious(analysis.findings)


@pytest.mark.parametrize("city", ["new_york", "sao_paulo"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_data_has_no_medium_or_high_finding(city, seed):
    result = generate_pings(N_PINGS, city=city, seed=seed)
    found = serious_of(analyse(result.pings))
    assert found == [], [(f.kind, f.severity, f.title) for f in found]


def assert_found(analysis, planted):
    matches = [f for f in serious_of(analysis) if f.kind == planted.kind]
    assert matches, f"{planted.kind} not found: {[(f.kind, f.severity) for f in analysis.findings]}"
    if planted.lat is not None:
        distances = [
            d for f in matches if (d := km_to_nearest_cell(f, planted.lat, planted.lon)) is not None
        ]
        assert distances and min(distances) <= NEAR_KM, (planted.kind, distances)


@pytest.mark.parametrize("kind", BIAS_KINDS)
def test_each_bias_planted_alone_is_found_at_its_place(kind):
    result = generate_pings(N_PINGS, city="new_york", seed=4, biases=(kind,))
    analysis = analyse(result.pings)
    for planted in result.planted:
        assert_found(analysis, planted)


@pytest.fixture(scope="module")
def everything():
    return generate_pings(N_PINGS, city="sao_paulo", seed=5, biases=BIAS_KINDS)


def test_all_biases_planted_together_are_all_found(everything):
    analysis = analyse(everything.pings)
    for planted in everything.planted:
        assert_found(analysis, planted)


def finding_keys(analysis):
    return [(f.id, f.kind, f.severity, f.cells) for f in analysis.findings]


def test_row_order_and_chunking_do_not_change_findings(everything):
    whole = analyse(everything.pings)
    shuffled = everything.pings.sample(fraction=1.0, shuffle=True, seed=9)
    assert finding_keys(analyse(shuffled)) == finding_keys(whole)
    bounds = [0, 1_000, 40_000, 41_000, 120_000, shuffled.height]
    parts = [summarise(shuffled[a:b], RESOLUTION) for a, b in zip(bounds, bounds[1:])]
    merged = analyze_summary(merge(parts), source="synthetic", salt=SALT)
    assert finding_keys(merged) == finding_keys(whole)
