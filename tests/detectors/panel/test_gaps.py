"""Holes in the feed: planted holes and thinned hours found with their period within
hours, at several cities, seeds, panel sizes, times of day and strengths; clean
multi-week data, a holiday-sized dip and several metros quiet; real data sensible; the
same finding from a merged summary of two halves."""

from __future__ import annotations

import datetime as dt

import jsonschema
import polars as pl
import pytest

from explorer.detectors.context import Context
from explorer.detectors.panel.gaps import detect_panel_gaps
from explorer.reading import read_pings
from explorer.summary import merge, summarise
from explorer.synth import panel_biases as pb
from explorer.synth.pings import generate_metros, generate_pings
from explorer.testing import serious
from tests.conftest import REAL_DATA
from tests.detectors.conftest import evidence_schema, run_detectors

RES = 7
UTC = dt.UTC
SCHEMA = evidence_schema("panel_time")["panel_gap"]


def gaps(pings: pl.DataFrame) -> list:
    return run_detectors((detect_panel_gaps,), pings, RES)


def hours_off(iso: str, instant: dt.datetime) -> float:
    found = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return abs((found - instant).total_seconds()) / 3600


def assert_found(findings: list, start: dt.datetime, end: dt.datetime, tolerance: float = 2):
    """Exactly one finding, its period within ``tolerance`` hours of the planted one."""
    assert len(findings) == 1, [(f.severity, f.period) for f in findings]
    finding = findings[0]
    assert hours_off(finding.period["start"], start) <= tolerance, finding.period
    assert hours_off(finding.period["end"], end) <= tolerance, finding.period
    jsonschema.validate(finding.evidence, SCHEMA)
    return finding


@pytest.mark.parametrize(
    ("city", "seed", "start", "hours", "severity"),
    [
        ("new_york", 1, dt.datetime(2024, 6, 12, 4, tzinfo=UTC), 24, "high"),
        ("sao_paulo", 2, dt.datetime(2024, 6, 9, 13, tzinfo=UTC), 3, "low medium"),
        ("london", 3, dt.datetime(2024, 6, 15, 7, tzinfo=UTC), 3, "low medium"),
        ("singapore", 4, dt.datetime(2024, 6, 14, 20, tzinfo=UTC), 12, "medium"),
        ("new_york", 5, dt.datetime(2024, 6, 10, 18, tzinfo=UTC), 72, "high"),
        ("london", 6, dt.datetime(2024, 6, 20, 1, tzinfo=UTC), 24, "high"),
    ],
)
def test_holes_are_found_with_their_period(city, seed, start, hours, severity):
    """3 hours of a 4-week delivery are about 0.45 % of it: low or medium."""
    pings = generate_pings(200_000, city=city, seed=seed, days=28).pings
    end = start + dt.timedelta(hours=hours)
    finding = assert_found(gaps(pb.drop_period(pings, start, end)), start, end)
    assert finding.severity in severity.split()
    assert finding.evidence["pings_seen"] == 0
    assert finding.evidence["hours_empty"] == hours
    assert finding.evidence["pings_expected"] > finding.evidence["pings_expected_low"] > 0
    assert "UTC" in finding.story and "expected" in finding.story


def test_a_quiet_hour_hole_is_found_but_low():
    """Three hours at New York's 3-6 a.m. hold few pings: still a hole, a small one."""
    pings = generate_pings(200_000, city="new_york", seed=1, days=21).pings
    start = dt.datetime(2024, 6, 15, 7, tzinfo=UTC)
    end = start + dt.timedelta(hours=3)
    finding = assert_found(gaps(pb.drop_period(pings, start, end)), start, end)
    assert finding.severity == "low"


@pytest.mark.parametrize(
    ("keep", "city"), [(0.05, "london"), (0.15, "sao_paulo"), (0.15, "new_york")]
)
def test_thinned_hours_are_found(keep, city):
    pings = generate_pings(200_000, city=city, seed=7, days=28).pings
    start = dt.datetime(2024, 6, 14, 20, tzinfo=UTC)
    end = start + dt.timedelta(hours=12)
    finding = assert_found(gaps(pb.thin_period(pings, start, end, keep)), start, end, 3)
    assert finding.severity == "medium"
    assert keep / 2 < finding.evidence["seen_share"] < keep * 2


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n_pings", [1_600, 8_000])
def test_a_hole_in_a_small_panel_is_found_and_its_nights_are_not(seed, n_pings):
    """40 and 200 devices: empty night hours expect almost nothing and stay quiet."""
    pings = generate_pings(n_pings, city="new_york", seed=seed, days=21).pings
    assert gaps(pings) == []
    start = dt.datetime(2024, 6, 12, 16, tzinfo=UTC)
    end = start + dt.timedelta(hours=24)
    finding = assert_found(gaps(pb.drop_period(pings, start, end)), start, end, 4)
    assert finding.severity == "high"


@pytest.mark.parametrize(("city", "seed"), [("new_york", 0), ("sao_paulo", 1), ("london", 2)])
def test_clean_weeks_and_a_holiday_dip_are_quiet(city, seed):
    pings = generate_pings(200_000, city=city, seed=seed, days=28).pings
    assert gaps(pings) == []
    holiday = dt.datetime(2024, 6, 19, 4, tzinfo=UTC)
    dipped = pb.thin_period(pings, holiday, holiday + dt.timedelta(days=1), 0.6)
    assert gaps(dipped) == []


@pytest.mark.parametrize("seed", range(2))
def test_metros_are_quiet_and_their_holes_found(seed):
    pings = generate_metros(200_000, seed=seed, days=21).pings
    assert gaps(pings) == []
    utc_days = pb.cut_before(
        pb.cut_after(pings, dt.datetime(2024, 6, 23, tzinfo=UTC)),
        dt.datetime(2024, 6, 4, tzinfo=UTC),
    )
    assert gaps(utc_days) == []
    start = dt.datetime(2024, 6, 12, 22, tzinfo=UTC)
    end = start + dt.timedelta(hours=12)
    assert_found(gaps(pb.drop_period(pings, start, end)), start, end)


def test_the_same_hole_from_a_merged_summary_of_two_halves():
    pings = generate_pings(100_000, city="london", seed=9, days=21).pings
    start = dt.datetime(2024, 6, 12, 4, tzinfo=UTC)
    holed = pb.drop_period(pings, start, start + dt.timedelta(hours=24))
    whole = detect_panel_gaps(Context(summarise(holed, RES)))
    half = holed.height // 2
    parts = merge([summarise(holed[:half], RES), summarise(holed[half:], RES)])
    assert detect_panel_gaps(Context(parts)) == whole
    assert len(whole) == 1


def test_real_check_ins_have_no_gap_where_every_hour_has_data():
    """Gowalla New York: a growing panel over 18 months; a hole is only ever told where
    its hours hold under a quarter of their expectation, inside the data."""
    summary = summarise(read_pings(REAL_DATA / "gowalla_nyc_checkins.csv").pings, RES)
    ctx = Context(summary)
    findings = detect_panel_gaps(ctx)
    hourly = ctx.hourly
    first, last = hourly["start"].min(), hourly["start"].max()
    for finding in findings:
        jsonschema.validate(finding.evidence, SCHEMA)
        start = dt.datetime.fromisoformat(finding.period["start"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(finding.period["end"].replace("Z", "+00:00"))
        assert first < start < end <= last
        assert finding.evidence["seen_share"] < 0.25
    assert not serious(findings)
