"""Calibration on places unlike one inland city: a coastal city, a city across the
antimeridian and several metros in one file.

Clean data, analysed at the resolution suggested for it, yields no medium or high
finding: sea around a city, longitudes that jump from 180 to -180, the gaps between
metros and a few travellers flying between them are no bias.
"""

import pytest

from explorer.analysis import analyze_summary, suggested_resolution_for
from explorer.summary import summarise
from explorer.synth.pings import generate_metros, generate_pings
from explorer.testing import serious

pytestmark = pytest.mark.slow

N_PINGS = 150_000
SALT = "calibration"
SEEDS = (1, 2)


def analyse_at_suggested(pings):
    resolution = suggested_resolution_for(pings)
    summary = summarise(pings, resolution)
    return analyze_summary(summary, source="synthetic", salt=SALT)


def described(findings):
    return [(f.kind, f.severity, f.title) for f in findings]


@pytest.mark.parametrize("city", ["singapore", "taveuni"])
@pytest.mark.parametrize("seed", SEEDS)
def test_clean_coastal_and_antimeridian_cities_have_no_medium_or_high_finding(city, seed):
    analysis = analyse_at_suggested(generate_pings(N_PINGS, city=city, seed=seed).pings)
    found = serious(analysis.findings)
    assert found == [], described(found)


@pytest.mark.parametrize("seed", SEEDS)
def test_clean_metros_with_travellers_have_no_medium_or_high_finding(seed):
    result = generate_metros(N_PINGS, seed=seed)
    analysis = analyse_at_suggested(result.pings)
    # Neighbourhood-scale cells, as one metro gets: not the coarse cells of the
    # bounding box of four continents.
    assert analysis.resolution >= 7
    found = serious(analysis.findings)
    assert found == [], described(found)
