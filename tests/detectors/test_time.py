"""Time detectors: hour_profile, timezone_shift and timestamp_heaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import numpy as np
import polars as pl
import pytest

from explorer.binning import cell_centre, haversine_km, str_to_cell
from explorer.detectors.context import Context
from explorer.detectors.time import (
    DETECTORS,
    detect_hour_profile,
    detect_timestamp_heaping,
    detect_timezone_shift,
)
from explorer.detectors.time_shift import clock_offset_hours, signed_shift, zone_name
from explorer.findings import Finding
from explorer.summary import summarise
from explorer.synth import generate_pings

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "explorer" / "schema" / "evidence_time.json").read_text()
)
RESOLUTION = 8
#: Accra keeps UTC all year (no daylight saving): local hour == UTC hour in hand-built data.
ACCRA = (5.60, -0.19)
START = datetime(2024, 6, 3, tzinfo=UTC)
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
def clean_contexts() -> list[Context]:
    return [
        _summary(generate_pings(200_000, city=city, seed=seed).pings)
        for city in ("new_york", "sao_paulo")
        for seed in (0, 1, 2)
    ]


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


def test_planted_night_area_found_high_at_its_place(planted_hours):
    result, ctx = planted_hours
    place = result.planted[0]
    found = detect_hour_profile(ctx)
    strong = _medium_or_high(found)
    assert len(strong) == 1, "neighbouring flagged cells must form one finding"
    finding = strong[0]
    assert finding.severity == "high"
    assert _distance_km(finding, place.lat, place.lon) <= 1.5
    ev = finding.evidence
    assert ev["devices"] >= 20 and ev["night_share"] > ev["rest_night_share"] + 0.4
    assert len(ev["area_hours"]) == len(ev["rest_hours"]) == 24
    assert sum(ev["area_ping_hours"]) == ev["pings"]
    _check_evidence(finding)


def test_planted_night_area_found_at_a_fine_resolution(planted_hours):
    result, _ = planted_hours
    place = result.planted[0]
    strong = _medium_or_high(detect_hour_profile(_summary(result.pings, 10)))
    assert len(strong) == 1 and strong[0].severity == "high"
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
    # 150 night devices, and nearly all of their device-hours at 01–04.
    assert strong[0].evidence["devices"] >= 150
    assert strong[0].evidence["night_share"] > 0.6


def test_a_few_night_devices_stay_below_medium(hand_city):
    rng = np.random.default_rng(12)
    night = _group(rng, 3, 40, NIGHT, 0.2, _only([1, 2, 3]), "few")
    found = detect_hour_profile(_summary(pl.concat([hand_city, night])))
    assert all(_distance_km(f, *NIGHT) > 1.0 for f in _medium_or_high(found))
