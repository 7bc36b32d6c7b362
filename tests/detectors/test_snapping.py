"""Venue-snapped data is told once, and its venues are not all alarms."""

import numpy as np
import polars as pl
import pytest

from explorer.analysis import analyze_summary
from explorer.reports.contract import report_dict
from explorer.reports.schema import validate_report
from explorer.summary import summarise
from explorer.synth.pings import generate_pings


@pytest.fixture(scope="module")
def clean():
    return generate_pings(60_000, seed=8).pings


def snap_to_venues(pings: pl.DataFrame, venues: int, share: float, seed: int) -> pl.DataFrame:
    """Move ``share`` of pings onto the nearest of ``venues`` venue coordinates."""
    rng = np.random.default_rng(seed)
    lat = pings["lat"].to_numpy().copy()
    lon = pings["lon"].to_numpy().copy()
    pick = rng.random(len(lat)) < share
    v_lat = rng.choice(lat, venues)
    v_lon = rng.choice(lon, venues)
    # Nearest venue by a flat-earth distance: good enough within a city.
    idx = np.argmin((lat[pick, None] - v_lat) ** 2 + (lon[pick, None] - v_lon) ** 2, axis=1)
    lat[pick], lon[pick] = v_lat[idx], v_lon[idx]
    return pings.with_columns(lat=pl.Series(lat), lon=pl.Series(lon))


def analyse(pings):
    return analyze_summary(summarise(pings, 8), source="t", salt="s")


def test_clean_gps_data_is_not_venue_snapped(clean):
    assert [f for f in analyse(clean).findings if f.kind == "venue_snapped"] == []


def test_check_in_data_is_told_once_and_caps_density_spikes(clean):
    analysis = analyse(snap_to_venues(clean, venues=400, share=0.9, seed=1))
    snapped = [f for f in analysis.findings if f.kind == "venue_snapped"]
    assert len(snapped) == 1 and snapped[0].severity == "medium"
    assert 0.8 <= snapped[0].evidence["share"] <= 0.95
    assert all(f.severity == "low" for f in analysis.findings if f.kind == "density_spike")
    assert not [
        f for f in analysis.findings if f.kind == "coordinate_pileup" and f.severity == "high"
    ]
    validate_report(report_dict(analysis))


def test_a_fifth_snapped_is_a_low_note(clean):
    analysis = analyse(snap_to_venues(clean, venues=300, share=0.3, seed=2))
    snapped = [f for f in analysis.findings if f.kind == "venue_snapped"]
    assert [f.severity for f in snapped] == ["low"]
