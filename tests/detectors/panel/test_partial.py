"""Cut edge days: a last day cut at 10:00, 15:00 and 20:00 local and a first day
starting mid-day are found, with where they were cut, in several cities and a small
panel; exports made by UTC days (complete in their own convention), clean data and
several metros are not medium or high; real data sensible; engines agree."""

from __future__ import annotations

import datetime as dt

import jsonschema
import polars as pl
import pytest

from explorer.detectors.context import Context
from explorer.detectors.panel.partial import detect_partial_period
from explorer.reading import read_pings
from explorer.summary import merge, summarise
from explorer.synth import panel_biases as pb
from explorer.synth.pings import generate_metros, generate_pings
from explorer.testing import serious
from tests.conftest import REAL_DATA
from tests.detectors.conftest import evidence_schema, run_detectors

RES = 7
UTC = dt.UTC
SCHEMA = evidence_schema("panel_time")["partial_period"]
ZONES = {
    "new_york": "America/New_York",
    "sao_paulo": "America/Sao_Paulo",
    "london": "Europe/London",
    "singapore": "Asia/Singapore",
}
LAST_DAY = dt.date(2024, 6, 23)


def partial(pings: pl.DataFrame) -> list:
    return run_detectors((detect_partial_period,), pings, RES)


def instant(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("city", "hour", "severity"),
    [
        ("new_york", 10, "medium"),
        ("new_york", 15, "medium"),
        ("sao_paulo", 10, "medium"),
        ("london", 15, "medium"),
        ("london", 20, "low"),
        ("singapore", 10, "medium"),
        ("singapore", 20, "low"),
    ],
)
def test_a_cut_last_day_is_found_where_it_was_cut(city, hour, severity):
    pings = generate_pings(200_000, city=city, seed=hour, days=21).pings
    cut = pb.local_midnight(LAST_DAY, ZONES[city]) + dt.timedelta(hours=hour)
    findings = partial(pb.cut_after(pings, cut))
    assert len(findings) == 1
    finding = findings[0]
    jsonschema.validate(finding.evidence, SCHEMA)
    assert finding.severity == severity
    assert finding.evidence["edge"] == "end"
    assert finding.evidence["day_convention"] == "local"
    assert instant(finding.evidence["cut_at"]) == cut
    assert instant(finding.period["start"]) == cut - dt.timedelta(hours=1)
    assert instant(finding.period["end"]) == pb.local_midnight(
        LAST_DAY + dt.timedelta(days=1), ZONES[city]
    )
    assert 0.05 < finding.evidence["present_share"] < 0.8
    assert "before its last day" in finding.story


@pytest.mark.parametrize("city", ["new_york", "sao_paulo", "singapore"])
def test_a_first_day_starting_mid_day_is_found(city):
    pings = generate_pings(200_000, city=city, seed=3, days=21).pings
    start = pb.local_midnight(dt.date(2024, 6, 3), ZONES[city]) + dt.timedelta(hours=13)
    findings = partial(pb.cut_before(pings, start))
    assert len(findings) == 1
    finding = findings[0]
    jsonschema.validate(finding.evidence, SCHEMA)
    assert finding.evidence["edge"] == "start"
    assert instant(finding.evidence["cut_at"]) == start
    assert instant(finding.period["end"]) == start + dt.timedelta(hours=1)
    assert finding.severity == "low"


def test_a_small_panel_cut_is_found():
    for seed in range(3):
        pings = generate_pings(1_600, city="london", seed=seed, days=21).pings
        assert partial(pings) == []
        cut = pb.local_midnight(LAST_DAY, ZONES["london"]) + dt.timedelta(hours=15)
        findings = partial(pb.cut_after(pings, cut))
        assert [f.severity for f in findings] == ["medium"]
        assert abs(instant(findings[0].evidence["cut_at"]) - cut) <= dt.timedelta(hours=2)


@pytest.mark.parametrize("city", ["new_york", "singapore", "sao_paulo", "london"])
def test_exports_by_utc_days_and_clean_local_days_are_complete(city):
    pings = generate_pings(200_000, city=city, seed=5, days=21).pings
    assert partial(pings) == []
    utc_days = pb.cut_before(
        pb.cut_after(pings, dt.datetime(2024, 6, 23, tzinfo=UTC)),
        dt.datetime(2024, 6, 4, tzinfo=UTC),
    )
    assert not serious(partial(utc_days))
    # 20:00 in New York is midnight UTC: complete in UTC days.
    if city == "new_york":
        cut = pb.local_midnight(LAST_DAY, ZONES[city]) + dt.timedelta(hours=20)
        assert not serious(partial(pb.cut_after(pings, cut)))


@pytest.mark.parametrize("seed", range(2))
def test_metros_by_local_and_utc_days_are_complete_and_a_cut_is_found(seed):
    pings = generate_metros(200_000, seed=seed, days=21).pings
    assert partial(pings) == []
    utc_days = pb.cut_before(
        pb.cut_after(pings, dt.datetime(2024, 6, 23, tzinfo=UTC)),
        dt.datetime(2024, 6, 4, tzinfo=UTC),
    )
    assert partial(utc_days) == []
    cut = dt.datetime(2024, 6, 23, 12, tzinfo=UTC)
    findings = partial(pb.cut_after(pings, cut))
    assert [f.severity for f in findings] == ["medium"]
    assert instant(findings[0].evidence["cut_at"]) == cut


def test_the_same_cut_from_a_merged_summary_of_two_halves():
    pings = generate_pings(100_000, city="sao_paulo", seed=4, days=21).pings
    cut = pb.cut_after(
        pings, pb.local_midnight(LAST_DAY, ZONES["sao_paulo"]) + dt.timedelta(hours=11)
    )
    whole = detect_partial_period(Context(summarise(cut, RES)))
    half = cut.height // 2
    parts = merge([summarise(cut[:half], RES), summarise(cut[half:], RES)])
    assert detect_partial_period(Context(parts)) == whole
    assert len(whole) == 1


@pytest.mark.parametrize(
    "name", ["gowalla_nyc_checkins.csv", "gotrack_points.csv", "gps_accuracy_devices_tracks.csv"]
)
def test_real_files_edges_are_sensible(name):
    """Any cut told lies at the data's own edge, validates, and is about an edge day."""
    summary = summarise(read_pings(REAL_DATA / name).pings, RES)
    ctx = Context(summary)
    findings = detect_partial_period(ctx)
    hours = ctx.hourly["hour"]
    first, last = int(hours.min()), int(hours.max()) + 1
    for finding in findings:
        jsonschema.validate(finding.evidence, SCHEMA)
        cut = instant(finding.evidence["cut_at"])
        edge = first if finding.evidence["edge"] == "start" else last
        assert cut == dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(hours=edge)
    assert len(findings) <= 2


def test_a_clock_hours_off_keeps_cut_days_as_a_low_note():
    """Timestamps in the wrong zone start and end every day at the wrong hour: the cut
    first and last days are the clock's error told again, capped at low."""
    from explorer.analysis import analyze_summary

    pings = generate_pings(40_000, city="singapore", seed=2, biases=("timezone_shift",)).pings
    findings = analyze_summary(summarise(pings, 9), source="x", salt="s").findings
    kinds = {f.kind: f.severity for f in findings}
    assert kinds.get("timezone_shift") in ("medium", "high")
    partial = [f for f in findings if f.kind == "partial_period"]
    assert partial and all(f.severity == "low" for f in partial)
