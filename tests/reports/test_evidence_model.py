"""The display model of a finding's evidence: numbers in words with units, no test
internals, hour series as shares, and a model for every kind on planted data."""

from __future__ import annotations

import datetime as dt
import re
from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from explorer.analysis import analyze_summary
from explorer.cleaning import DROPPABLE
from explorer.findings import Finding, FindingKind
from explorer.reports.evidence import (
    ACTIONS,
    DOWNLOAD_CLEANED,
    evidence_view,
    finding_action,
)
from explorer.reports.figures import chart_svg
from explorer.reports.markdown import cli_remedy
from explorer.summary import summarise
from explorer.synth.biases import PLANTERS
from explorer.synth.panel_biases import (
    churn_ids,
    cut_after,
    densify_after,
    drop_period,
    local_midnight,
)
from explorer.synth.pings import generate_pings
from tests.detectors.coverage.conftest import (
    census_reference,
    coverage_findings,
    grid_regions,
    sample_panel,
)

#: Labels a reader cannot read: test-statistic names and raw keys.
RAW_LABEL = re.compile(r"^(tv|z|p value|p_value|tv .*)$", re.IGNORECASE)
#: A float written with more digits than anyone reads (0.022515150437020435, 2.8e-76).
RAW_NUMBER = re.compile(r"\d\.\d{5,}|\de-\d")


def _findings(pings: pl.DataFrame) -> list[Finding]:
    return analyze_summary(summarise(pings, 8), source="t", salt="s").findings


def _with_every_other_kind(pings: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Pings with swapped and sign-flipped rows, a pile at sea, stray fixes far away and
    devices that change type: the kinds the synthetic planters do not make."""
    rng = np.random.default_rng(seed)
    ids = pings["device_id"].unique().sort()
    swapped = ids.filter(pl.Series(rng.random(ids.len()) < 0.03)).implode()
    flipped = ids.filter(pl.Series(rng.random(ids.len()) < 0.03)).implode()
    changing = ids.filter(pl.Series(rng.random(ids.len()) < 0.05)).implode()
    who = pl.col("device_id")
    moved = pings.with_columns(
        lat=pl.when(who.is_in(swapped)).then(pl.col("lon")).otherwise(pl.col("lat")),
        lon=pl.when(who.is_in(swapped))
        .then(pl.col("lat"))
        .when(who.is_in(flipped))
        .then(-pl.col("lon"))
        .otherwise(pl.col("lon")),
    )
    n, start = 400, pings["timestamp"].min()
    sea = pl.DataFrame(
        {
            "device_id": [f"sea-{i % 20}" for i in range(n)],
            "timestamp": [start + timedelta(minutes=37 * i) for i in range(n)],
            "lat": [30.0] * n,
            "lon": [-40.0] * n,
            "device_type": ["android"] * n,
        }
    ).with_columns(pl.col("timestamp").cast(pings["timestamp"].dtype))
    first = moved.group_by("device_id").first().sort("device_id").head(60)
    strays = first.with_columns(
        timestamp=pl.col("timestamp") + pl.duration(seconds=120), lat=pl.col("lat") + 8.0
    )
    both = pl.concat([moved, sea.select(moved.columns), strays.select(moved.columns)])
    north = pl.col("lat") > pl.col("lat").median()
    return both.with_columns(
        device_type=pl.when(who.is_in(changing) & north)
        .then(pl.lit("ios"))
        .otherwise(pl.col("device_type"))
    )


def _snapped_to_venues(pings: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Most pings moved onto one of 300 venue coordinates (check-in data)."""
    rng = np.random.default_rng(seed)
    lat, lon = pings["lat"].to_numpy().copy(), pings["lon"].to_numpy().copy()
    pick = rng.random(len(lat)) < 0.8
    v_lat, v_lon = rng.choice(lat, 300), rng.choice(lon, 300)
    near = np.argmin((lat[pick, None] - v_lat) ** 2 + (lon[pick, None] - v_lon) ** 2, axis=1)
    lat[pick], lon[pick] = v_lat[near], v_lon[near]
    return pings.with_columns(lat=pl.Series(lat), lon=pl.Series(lon))


def _panel_faults(city: str, seed: int) -> list[pl.DataFrame]:
    """Three weeks with a hole and a cut last day; with denser tracking from a day on;
    with ids that rotate daily: the panel kinds."""
    zone = {"new_york": "America/New_York", "sao_paulo": "America/Sao_Paulo"}[city]
    weeks = generate_pings(60_000, city=city, seed=seed, days=21).pings
    hole = local_midnight(dt.date(2024, 6, 12), zone)
    holed = drop_period(weeks, hole, hole + dt.timedelta(hours=24))
    cut = cut_after(holed, local_midnight(dt.date(2024, 6, 23), zone) + dt.timedelta(hours=11))
    denser = densify_after(weeks, local_midnight(dt.date(2024, 6, 13), zone), 2.0, seed)
    return [cut, denser, churn_ids(weeks, 0.8, seed)]


def _coverage_faults(city: str, seed: int) -> list[Finding]:
    """A region of a census reference sampled at a fifth of the others' rate."""
    pings = generate_pings(150_000, city=city, seed=seed, days=14).pings
    summary = summarise(pings, 8)
    ids, polygons = grid_regions(pings, 3)
    reference = census_reference(summary, ids, polygons)
    region = reference.regions.sort("population")["region_id"][-2]
    panel = sample_panel(summary, reference, 0.4, seed, planted={region: 0.2})
    return coverage_findings(panel, reference)


@pytest.fixture(scope="module")
def by_kind() -> dict[str, list[Finding]]:
    """Findings of every kind, from planted data of two cities."""
    found: dict[str, list[Finding]] = {}
    planted = tuple(k for k in PLANTERS if k != "timezone_shift")
    for city, seed in (("new_york", 3), ("sao_paulo", 5)):
        base = generate_pings(60_000, city=city, seed=seed, biases=planted).pings
        shifted = generate_pings(30_000, city=city, seed=seed, biases=("timezone_shift",))
        venues = _snapped_to_venues(generate_pings(30_000, city=city, seed=seed).pings, seed)
        panel = _panel_faults(city, seed)
        for pings in (_with_every_other_kind(base, seed), shifted.pings, venues, *panel):
            for finding in _findings(pings):
                found.setdefault(finding.kind, []).append(finding)
        for finding in _coverage_faults(city, seed):
            found.setdefault(finding.kind, []).append(finding)
    return found


def test_every_kind_gives_a_model_with_words_units_and_drawable_charts(by_kind):
    assert set(by_kind) == {k.value for k in FindingKind}
    for kind, findings in by_kind.items():
        for finding in findings:
            view = evidence_view(finding.evidence)
            assert view.numbers or view.tables or view.charts, kind
            for name, value in view.numbers:
                assert not RAW_LABEL.match(name) and "_" not in name, (kind, name)
                assert not RAW_NUMBER.search(value), (kind, name, value)
            for table in view.tables:
                assert all("_" not in h for h in table.headers), (kind, table.headers)
                cells = [c for row in table.rows for c in row]
                assert not any(RAW_NUMBER.search(c) for c in cells), (kind, table.title)
            for chart in view.charts:
                assert chart.y_label and chart.title, (kind, chart)
                assert all(len(v) == len(chart.categories) for v in chart.values), kind
                assert chart_svg(chart).startswith("<svg"), kind


def test_a_real_shift_is_drawn_as_two_share_series_and_its_numbers_have_units(by_kind):
    shift = by_kind["timezone_shift"][0]
    view = evidence_view(shift.evidence)
    hours = next(c for c in view.charts if c.kind == "hours")
    assert hours.names == ("This data", "A human day") and hours.unit == "share"
    assert all(sum(v) == pytest.approx(1, abs=1e-6) for v in hours.values)
    numbers = dict(view.numbers)
    assert re.fullmatch(r"\d\.\d+ h \(interval \d\.\d+ h to \d\.\d+ h\)", numbers["Clock shift"])
    assert re.fullmatch(r"\d+(\.\d)?%", numbers["Mismatch with a human day, clock moved"])
    assert not any("tv" in name.lower().split() for name in numbers)


def test_hour_counts_beside_shares_are_drawn_as_shares():
    area = [0.0] * 24
    area[2] = 0.5
    area[3] = 0.5
    counts = [0] * 24
    counts[2], counts[3] = 30, 10
    evidence = {"area_hours": area, "rest_hours": [1] * 24, "area_ping_hours": counts}
    charts = evidence_view(evidence).charts
    assert [c.kind for c in charts] == ["hours", "hours"]
    for chart in charts:
        assert chart.unit == "share" and chart.y_label.startswith("share")
        for series in chart.values:
            assert sum(series) == pytest.approx(1) and max(series) <= 1
    # The rest's counts (1 each hour) became 1/24 each; the area's pings 3/4 and 1/4.
    assert charts[0].values[1][0] == pytest.approx(1 / 24)
    assert charts[1].values[0][2:4] == pytest.approx((0.75, 0.25))


def test_id_lists_and_intervals_are_text_not_charts():
    """Quiet hours drew as a bare diagonal in the app; an interval drew as two bars."""
    evidence = {"quiet_hours": [1, 2, 3, 4, 5], "shift_hours": 4.34, "shift_interval": [4.2, 4.5]}
    view = evidence_view(evidence)
    assert view.charts == ()
    assert dict(view.numbers) == {
        "Quiet hours": "1, 2, 3, 4, 5",
        "Clock shift": "4.34 h (interval 4.2 h to 4.5 h)",
    }


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("p_value", 2.874239327413828e-76, "p < 0.001"),
        ("sign_test_p", 0.0312, "p = 0.031"),
        ("share", 0.022515150437020435, "2.3%"),
        ("distance_km", 15080.836588261414, "15,081 km"),
        ("max_speed_kmh", 1200.0, "1,200 km/h"),
        ("median_minutes", 2.0, "2 min"),
        ("grid_metres", 111.32000000000001, "111.3 m"),
        ("ratio", 244.82857142857145, "244.8×"),
        ("radius_deg", 0.01, "0.01°"),
    ],
)
def test_numbers_are_written_with_their_units(key, value, text):
    assert dict(evidence_view({key: value}).numbers).popitem()[1] == text


def test_test_internals_are_left_out():
    evidence = {"tv": 0.48, "z": 8.7, "gain": 0.2, "overdispersion": {"cell": 0.05}, "pings": 3}
    assert evidence_view(evidence).numbers == (("Pings", "3"),)


def test_stories_carry_no_command_line_and_actions_match_the_cli(by_kind):
    cleaned = {k for k, action in ACTIONS.items() if action == DOWNLOAD_CLEANED}
    assert cleaned == set(DROPPABLE)
    for kind, findings in by_kind.items():
        for finding in findings:
            assert "python -m" not in finding.story and " --" not in finding.story, kind
            action = finding_action(kind, finding.evidence)
            remedy = cli_remedy(kind, finding.evidence)
            if action is not None:
                assert remedy and remedy.startswith("python -m explorer"), kind
    shift = by_kind["timezone_shift"][0].evidence
    assert (
        cli_remedy("timezone_shift", shift)
        == f"python -m explorer analyze PATH --tz {shift['suggested_tz']}"
    )
