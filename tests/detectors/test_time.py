"""Time detectors: hour_profile, timezone_shift and timestamp_heaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import numpy as np
import polars as pl
import pytest

from explorer.binning.cells import cell_centre, haversine_km, str_to_cell
from explorer.detectors.context import Context
from explorer.detectors.time import (
    DETECTORS,
    detect_hour_profile,
    detect_timestamp_heaping,
    detect_timezone_shift,
)
from explorer.detectors.time.shift import clock_offset_hours, signed_shift, zone_name
from explorer.findings import Finding
from explorer.summary import summarise
from explorer.synth.pings import generate_pings
from tests.detectors.conftest import START, evidence_schema

SCHEMA = evidence_schema("time")
RESOLUTION = 8
#: Accra keeps UTC all year (no daylight saving): local hour == UTC hour in hand-built data.
ACCRA = (5.60, -0.19)
#: A human day written independently of the detector's reference (relative weights 0–23).
DAY = np.array([2, 1, 0.6, 0.5, 0.6, 1.2, 3, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7.5, 7.5, 7, 6, 5, 3])


def _summary(frame: pl.DataFrame, resolution: int = RESOLUTION) -> Context:
    return Context(summarise(frame, resolution))


def _medium_or_high(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity in ("high", "medium")]


def _distance_km(finding: Finding, lat: float, lon: float) -> float:
    return min(haversine_km(*cell_centre(str_to_cell(c)), lat, lon) for c in finding.cells)


def _check_evidence(finding: Finding) -> None:
    text = json.dumps(finding.to_dict(), allow_nan=False)
    jsonschema.validate(json.loads(text)["evidence"], SCHEMA[finding.kind])


def _group(
    rng,
    n_devices: int,
    pings_each: int,
    place,
    radius_km: float,
    weights,
    name: str,
    *,
    at_home: bool = False,
) -> pl.DataFrame:
    """Hand-built pings: devices in a disk, local hours drawn from ``weights`` (Accra, UTC)."""
    weights = np.asarray(weights, dtype=float)
    dev = np.repeat(np.arange(n_devices), pings_each)
    n = dev.size
    seconds = (
        rng.integers(0, 14, n) * 86_400
        + rng.choice(24, n, p=weights / weights.sum()) * 3600
        + rng.integers(0, 3600, n)
    )
    spot = rng.random((n_devices, 2))[dev] if at_home else rng.random((n, 2))
    r, angle = radius_km * np.sqrt(spot[:, 0]), 2 * np.pi * spot[:, 1]
    jitter = rng.normal(0, 0.02, (n, 2))
    dy, dx = r * np.sin(angle) + jitter[:, 0], r * np.cos(angle) + jitter[:, 1]
    lat = place[0] + dy / 111.32
    lon = place[1] + dx / (111.32 * np.cos(np.radians(place[0])))
    stamps = pl.Series(np.datetime64(START.replace(tzinfo=None), "us") + seconds * 1_000_000)
    return pl.DataFrame(
        {
            "device_id": [f"{name}-{d}" for d in dev],
            "timestamp": stamps.dt.replace_time_zone("UTC"),
            "lat": lat,
            "lon": lon,
            "device_type": ["android"] * n,
        }
    )


def _at(km_north: float, km_east: float) -> tuple[float, float]:
    return (
        ACCRA[0] + km_north / 111.32,
        ACCRA[1] + km_east / (111.32 * np.cos(np.radians(ACCRA[0]))),
    )


def _only(hours) -> np.ndarray:
    w = np.zeros(24)
    w[list(hours)] = DAY[list(hours)]
    return w


CBD, HOMES, PHONE, NIGHT = _at(0, 4), _at(0, -4), _at(6.5, 0), _at(-4, 0)


@pytest.fixture(scope="module")
def hand_city() -> pl.DataFrame:
    """A hand-built city: roaming background, a 9–17 business district, a dense
    residential quarter seen only 18:00–09:00, and one phone sleeping on a quiet street."""
    rng = np.random.default_rng(7)
    return pl.concat(
        [
            _group(rng, 4000, 15, ACCRA, 8.0, DAY, "bg"),
            _group(rng, 300, 30, CBD, 0.5, _only(range(9, 17)), "office"),
            _group(
                rng,
                200,
                200,
                HOMES,
                0.5,
                _only([*range(18, 24), *range(0, 9)]),
                "home",
                at_home=True,
            ),
            _group(rng, 1, 600, PHONE, 0.01, _only(range(0, 6)), "sleeper", at_home=True),
        ]
    )


@pytest.fixture(scope="module")
def clean_contexts(clean) -> list[Context]:
    return [_summary(pings) for pings in clean.values()]


@pytest.fixture(scope="module")
def planted_hours():
    result = generate_pings(200_000, city="new_york", seed=3, biases=("hour_profile",))
    return result, _summary(result.pings)


# --- every detector -------------------------------------------------------------------


def test_clean_synthetic_cities_yield_no_medium_or_high(clean_contexts):
    for ctx in clean_contexts:
        found = [f for detector in DETECTORS for f in detector(ctx)]
        assert _medium_or_high(found) == [], [f.title for f in found]


def test_detectors_are_registered():
    assert set(DETECTORS) == {detect_hour_profile, detect_timezone_shift, detect_timestamp_heaping}


# --- hour_profile ---------------------------------------------------------------------


def test_planted_night_area_found_at_its_place(planted_hours):
    result, ctx = planted_hours
    place = result.planted[0]
    found = detect_hour_profile(ctx)
    strong = _medium_or_high(found)
    assert len(strong) == 1, "neighbouring flagged cells must form one finding"
    finding = strong[0]
    assert _distance_km(finding, place.lat, place.lon) <= 1.5
    ev = finding.evidence
    assert ev["devices"] >= 20 and ev["night_share"] > ev["rest_night_share"] + 0.2
    assert len(ev["area_hours"]) == len(ev["rest_hours"]) == 24
    assert sum(ev["area_ping_hours"]) == ev["pings"]
    _check_evidence(finding)


def test_planted_night_area_found_at_a_fine_resolution(planted_hours):
    result, _ = planted_hours
    place = result.planted[0]
    strong = _medium_or_high(detect_hour_profile(_summary(result.pings, 10)))
    assert len(strong) == 1
    assert _distance_km(strong[0], place.lat, place.lon) <= 1.5


def test_business_district_and_homes_are_not_medium_or_high(hand_city):
    found = detect_hour_profile(_summary(hand_city))
    assert _medium_or_high(found) == []
    near_cbd = [f for f in found if _distance_km(f, *CBD) <= 1.0]
    near_homes = [f for f in found if _distance_km(f, *HOMES) <= 1.0]
    # The departures are seen (an office district is busy 9–17) but judged normal.
    assert near_cbd and all(f.severity == "low" for f in near_cbd)
    assert all(f.severity == "low" for f in near_homes)
    for f in found:
        _check_evidence(f)


def test_one_phone_sleeping_in_a_quiet_cell_is_not_a_finding(hand_city):
    found = detect_hour_profile(_summary(hand_city))
    assert all(_distance_km(f, *PHONE) > 1.0 for f in found)


def test_hand_built_night_area_is_found_against_a_normal_city(hand_city):
    rng = np.random.default_rng(11)
    night = _group(rng, 150, 8, NIGHT, 0.5, _only([1, 2, 3]), "night")
    strong = _medium_or_high(detect_hour_profile(_summary(pl.concat([hand_city, night]))))
    assert len(strong) == 1 and strong[0].severity == "high"
    assert _distance_km(strong[0], *NIGHT) <= 1.5
    # 150 night devices with ~2.9 distinct hours each (8 pings in 3 hours) against a
    # roaming background whose small hours carry a few percent of its activity.
    ev = strong[0].evidence
    assert ev["devices"] >= 150
    assert ev["night_share"] > ev["rest_night_share"] + 0.4
    assert ev["ping_night_share"] > ev["rest_ping_night_share"] + 0.4


def test_a_few_night_devices_stay_below_medium(hand_city):
    rng = np.random.default_rng(12)
    night = _group(rng, 3, 40, NIGHT, 0.2, _only([1, 2, 3]), "few")
    found = detect_hour_profile(_summary(pl.concat([hand_city, night])))
    assert all(_distance_km(f, *NIGHT) > 1.0 for f in _medium_or_high(found))


# --- timezone_shift -------------------------------------------------------------------


@pytest.mark.parametrize(("city", "shift"), [("new_york", 4), ("sao_paulo", 3)])
def test_utc_clock_read_as_local_is_found_high(city, shift):
    # June: New York is UTC-4, São Paulo UTC-3, so UTC clock times look `shift` h late.
    result = generate_pings(200_000, city=city, seed=4, biases=("timezone_shift",))
    summary = summarise(result.pings, RESOLUTION, naive_timestamps=True)
    found = detect_timezone_shift(Context(summary))
    assert len(found) == 1
    finding = found[0]
    assert finding.severity == "high" and finding.cells == ()
    ev = finding.evidence
    assert ev["best_shift_hours"] == shift
    assert ev["local_offset_hours"] == -shift
    assert ev["suggested_tz"] == "UTC"
    assert ev["tv_at_best"] < ev["tv_at_0"] - 0.15
    assert "timestamps in UTC" in finding.story and "--tz" not in finding.story
    _check_evidence(finding)


def test_shift_direction_and_zone_on_hand_built_data():
    # Accra is UTC+0; timestamps five hours early mean a clock written at UTC-5.
    rng = np.random.default_rng(21)
    city = _group(rng, 2000, 20, ACCRA, 8.0, DAY, "tz")
    early = city.with_columns(pl.col("timestamp") - pl.duration(hours=5))
    found = detect_timezone_shift(_summary(early))
    assert len(found) == 1 and found[0].severity == "high"
    assert found[0].evidence["best_shift_hours"] == -5
    assert found[0].evidence["suggested_tz"] == "Etc/GMT+5"
    assert detect_timezone_shift(_summary(city)) == []


def test_small_shift_or_no_human_day_is_not_a_timezone_finding():
    rng = np.random.default_rng(22)
    city = _group(rng, 2000, 20, ACCRA, 8.0, DAY, "tz")
    late = city.with_columns(pl.col("timestamp") + pl.duration(hours=2))
    assert detect_timezone_shift(_summary(late)) == []
    flat = _group(rng, 2000, 20, ACCRA, 8.0, np.ones(24), "flat")
    assert detect_timezone_shift(_summary(flat)) == []


def test_zone_names_and_offsets(clean_contexts):
    assert zone_name(0) == "UTC"
    assert zone_name(3) == "Etc/GMT-3"  # POSIX sign: three hours ahead of UTC
    assert zone_name(-5) == "Etc/GMT+5"
    assert zone_name(5.5) == "+05:30"
    assert [signed_shift(s) for s in (0, 3, 12, 13, 20)] == [0, 3, 12, -11, -4]
    assert clock_offset_hours(clean_contexts[0]) == -4.0  # New York in June (EDT)
    assert clock_offset_hours(clean_contexts[3]) == -3.0  # São Paulo


# --- timestamp_heaping ----------------------------------------------------------------


@pytest.fixture(scope="module")
def new_york() -> pl.DataFrame:
    return generate_pings(200_000, city="new_york", seed=5).pings


@pytest.fixture(scope="module")
def planted_heap():
    return generate_pings(200_000, city="new_york", seed=5, biases=("timestamp_heaping",))


def test_planted_midnight_heap_is_high(planted_heap):
    result = planted_heap
    found = detect_timestamp_heaping(_summary(result.pings))
    strong = _medium_or_high(found)
    assert len(strong) == 1 and strong[0].severity == "high"
    ev = strong[0].evidence
    assert ev["pattern"] == "round_hours" and ev["clock"] == "local"
    assert ev["heaps"][0]["time"] == "00:00:00"
    # 2 % of rows were moved to local midnight.
    assert ev["share"] == pytest.approx(result.planted[0].rows / len(result.pings), rel=0.05)
    series = ev["series"]["minute_pings"]
    assert series.index(max(series)) == len(series) // 2 and ev["series"]["start"] == "23:30"
    _check_evidence(strong[0])


def test_heap_on_the_utc_clock_is_told_on_that_clock(new_york):
    rng = np.random.default_rng(31)
    heaped = rng.random(len(new_york)) < 0.015
    frame = new_york.with_columns(
        pl.when(pl.Series(heaped))
        .then(pl.col("timestamp").dt.truncate("1d"))
        .otherwise(pl.col("timestamp"))
        .alias("timestamp")
    )
    strong = _medium_or_high(detect_timestamp_heaping(_summary(frame)))
    assert len(strong) == 1 and strong[0].severity == "high"
    assert strong[0].evidence["clock"] == "utc"
    assert strong[0].evidence["heaps"][0]["time"] == "00:00:00"


def test_timestamps_truncated_to_minutes_are_low_and_told_as_truncation(new_york):
    frame = new_york.with_columns(pl.col("timestamp").dt.truncate("1m"))
    found = detect_timestamp_heaping(_summary(frame))
    assert [f.severity for f in found] == ["low"]
    assert found[0].evidence["pattern"] == "truncated_minutes"
    assert "truncated" in found[0].title
    _check_evidence(found[0])


def test_timestamps_truncated_to_hours_are_one_low_finding(new_york):
    frame = new_york.with_columns(pl.col("timestamp").dt.truncate("1h"))
    found = detect_timestamp_heaping(_summary(frame))
    assert len(found) == 1 and found[0].severity == "low"
    assert found[0].evidence["pattern"] == "truncated_hours"
    _check_evidence(found[0])


def test_part_truncated_to_minutes_is_a_low_minute_finding(new_york):
    rng = np.random.default_rng(32)
    part = rng.random(len(new_york)) < 0.3
    frame = new_york.with_columns(
        pl.when(pl.Series(part))
        .then(pl.col("timestamp").dt.truncate("1m"))
        .otherwise(pl.col("timestamp"))
        .alias("timestamp")
    )
    found = detect_timestamp_heaping(_summary(frame))
    assert [f.severity for f in found] == ["low"]
    ev = found[0].evidence
    # 30 % truncated, of which 1/60 would have had seconds :00 anyway.
    assert ev["pattern"] == "minute_marks"
    assert ev["share"] == pytest.approx(0.3 * 59 / 60, abs=0.01)
    _check_evidence(found[0])


def test_one_second_sampling_is_not_a_heap(new_york):
    second = pl.datetime_range(
        datetime(2024, 6, 5, tzinfo=UTC),
        datetime(2024, 6, 6, tzinfo=UTC),
        "1s",
        closed="left",
        eager=True,
        time_zone="UTC",
    )
    logger = pl.DataFrame(
        {
            "device_id": ["logger"] * len(second),
            "timestamp": second,
            "lat": [40.75] * len(second),
            "lon": [-73.99] * len(second),
            "device_type": ["android"] * len(second),
        }
    )
    frame = pl.concat([new_york, logger.cast(new_york.schema)])
    assert detect_timestamp_heaping(_summary(frame)) == []


def test_bare_dates_are_told_as_dates_not_as_a_heap(new_york):
    # Dates written as local midnight (naive dates read in New York).
    frame = new_york.with_columns(
        pl.col("timestamp")
        .dt.convert_time_zone("America/New_York")
        .dt.truncate("1d")
        .dt.convert_time_zone("UTC")
    )
    found = detect_timestamp_heaping(_summary(frame))
    assert len(found) == 1 and found[0].evidence["pattern"] == "truncated_days"
    assert found[0].severity == "high" and "dates" in found[0].title
    assert found[0].evidence["share"] == pytest.approx(1.0)
    _check_evidence(found[0])


def test_midnight_heap_in_minute_truncated_data_is_one_finding(planted_heap):
    frame = planted_heap.pings.with_columns(pl.col("timestamp").dt.truncate("1m"))
    found = detect_timestamp_heaping(_summary(frame))
    assert len(found) == 1 and found[0].severity == "high"
    ev = found[0].evidence
    # Compared like with like (other :00 seconds), midnight still stands out.
    assert ev["heaps"][0]["time"] == "00:00:00"
    assert ev["minutes"]["pattern"] == "truncated_minutes"
    assert "truncated to whole minutes" in found[0].story
    _check_evidence(found[0])


def test_naive_utc_file_read_as_local_says_re_read_with_tz_utc(synthetic_file):
    from explorer.analysis import analyze
    from explorer.reports.contract import report_dict
    from explorer.reports.schema import validate_report

    result = generate_pings(60_000, city="new_york", seed=6, biases=("timezone_shift",))
    # UTC clock times, no zone
    path = synthetic_file(result, folder="naive", time_format="naive_local")
    as_local = report_dict(analyze(path))
    validate_report(json.loads(json.dumps(as_local)))
    shift = [f for f in as_local["findings"] if f["kind"] == "timezone_shift"]
    assert len(shift) == 1 and shift[0]["severity"] == "high"
    assert "re-read the file with its timestamps in UTC" in shift[0]["story"]
    as_utc = report_dict(analyze(path, tz="UTC"))
    assert not [f for f in as_utc["findings"] if f["kind"] == "timezone_shift"]


def test_part_of_the_data_cut_to_the_hour_heaps_every_hour(new_york):
    rng = np.random.default_rng(33)
    part = rng.random(len(new_york)) < 0.1
    frame = new_york.with_columns(
        pl.when(pl.Series(part))
        .then(pl.col("timestamp").dt.truncate("1h"))
        .otherwise(pl.col("timestamp"))
        .alias("timestamp")
    )
    found = detect_timestamp_heaping(_summary(frame))
    assert len(found) == 1 and found[0].severity == "high"
    ev = found[0].evidence
    # Every hour mark with enough pings heaps; 10 % of rows, less the 1/3600 already there.
    assert len(ev["heaps"]) >= 20
    assert ev["share"] == pytest.approx(0.1, abs=0.01)
    assert "cut to the hour" in found[0].story


def test_device_day_profiles_are_exact_where_each_cell_has_one_device():
    """A device alone in its cells: its profile is its pings' share at each local hour,
    and its days are the local days it was seen on."""
    from datetime import UTC as _UTC
    from datetime import datetime as _datetime

    from explorer.detectors.context import Context as _Context
    from explorer.detectors.time.device_hours import device_day_profiles
    from explorer.summary import summarise as _summarise
    from tests.detectors.conftest import pings_from_columns as _pings

    # Three devices far apart (around London, UTC in January) at known days and hours.
    plan = {
        "a": (51.50, -0.12, [(1, 8), (1, 8), (1, 9), (2, 17)]),
        "b": (51.60, -0.30, [(3, 22), (4, 22), (5, 22)]),
        "c": (51.40, 0.05, [(6, 0), (6, 12), (6, 12), (6, 12), (6, 23)]),
    }
    ids, stamps, lats, lons = [], [], [], []
    for device, (lat, lon, when) in plan.items():
        for day, hour in when:
            ids.append(device)
            stamps.append(_datetime(2024, 1, day, hour, 30, tzinfo=_UTC))
            lats.append(lat)
            lons.append(lon)
    pings = _pings(ids, stamps, lats, lons, ["android"] * len(ids))
    out = device_day_profiles(_Context(_summarise(pings, 9), salt="test"))
    assert out.pings == len(ids)
    got = {(tuple(np.round(p, 9)), float(d)) for p, d in zip(out.profiles, out.days, strict=True)}
    expected = {
        (
            tuple(np.round(np.bincount([h for _, h in when], minlength=24) / len(when), 9)),
            float(len({d for d, _ in when})),
        )
        for _, _, when in plan.values()
    }
    assert got == expected
