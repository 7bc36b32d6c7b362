"""Impossible speeds: stray fixes mixed into devices' tracks, found by device and place.

Planted as extra fixes a few minutes from a real ping but hundreds or thousands of km
away, for several shares of devices, distances and cities; found with the devices'
count, at the stray places; severity from the device share. Clean data, a flight, a
long drive and data without ids give none; rows another finding tells (swapped) are not
told again; the table and the finding survive chunking.
"""

from __future__ import annotations

import datetime as dt

import jsonschema
import numpy as np
import polars as pl
import pytest

from explorer.binning.cells import haversine_km
from explorer.detectors import DETECTORS, detect_all
from explorer.detectors.context import Context
from explorer.detectors.travel import detect_impossible_speed, jumps
from explorer.summary import merge, summarise
from explorer.synth.pings import generate_pings
from explorer.testing import km_to_nearest_cell, serious
from tests.detectors.conftest import evidence_schema, run_detectors

RES = 8
N = 60_000


def run(pings: pl.DataFrame, detectors=(detect_impossible_speed,)) -> list:
    return run_detectors(detectors, pings, RES)


def destination(lat: float, lon: float, km: float, bearing_deg: float) -> tuple[float, float]:
    """The point ``km`` away from (lat, lon) along ``bearing_deg`` on a sphere."""
    r = km / 6_371.0
    p1, l1, b = np.radians(lat), np.radians(lon), np.radians(bearing_deg)
    p2 = np.arcsin(np.sin(p1) * np.cos(r) + np.cos(p1) * np.sin(r) * np.cos(b))
    l2 = l1 + np.arctan2(np.sin(b) * np.sin(r) * np.cos(p1), np.cos(r) - np.sin(p1) * np.sin(p2))
    return float(np.degrees(p2)), float((np.degrees(l2) + 180) % 360 - 180)


def with_stray_fixes(
    pings: pl.DataFrame, share: float, km: float, bearing: float, seed: int
) -> tuple[pl.DataFrame, set[str], tuple[float, float]]:
    """Each of a ``share`` of the devices gets one extra fix 1–5 minutes after one of its
    pings, ``km`` away along ``bearing`` (a coarse location mixed into its track)."""
    rng = np.random.default_rng(seed)
    ids = pings["device_id"].unique().sort()
    chosen = ids.filter(pl.Series(rng.random(ids.len()) < share))
    base = (
        pings.filter(pl.col("device_id").is_in(chosen.implode()))
        .group_by("device_id", maintain_order=True)
        .first()
    )
    centre = (float(pings["lat"].median()), float(pings["lon"].median()))
    stray_lat, stray_lon = destination(*centre, km, bearing)
    strays = base.with_columns(
        timestamp=pl.col("timestamp")
        + pl.duration(seconds=pl.Series(rng.integers(60, 300, base.height))),
        lat=pl.lit(stray_lat) + pl.Series(rng.normal(0, 0.01, base.height)),
        lon=pl.lit(stray_lon) + pl.Series(rng.normal(0, 0.01, base.height)),
    )
    return pl.concat([pings, strays.select(pings.columns)]), set(chosen), (stray_lat, stray_lon)


@pytest.mark.parametrize(
    ("city", "share", "km", "bearing"),
    [
        ("new_york", 0.02, 1_200, 250),
        ("new_york", 0.2, 400, 20),
        ("sao_paulo", 0.05, 3_000, 330),
        ("london", 0.01, 800, 120),
    ],
)
def test_stray_fixes_are_found_by_device_at_the_stray_place(city, share, km, bearing):
    pings = generate_pings(N, city=city, seed=21).pings
    planted, devices, (lat, lon) = with_stray_fixes(pings, share, km, bearing, seed=3)
    found = run(planted)
    assert len(found) == 1
    hit = found[0]
    ev = hit.evidence
    assert ev["devices"] == len(devices)
    assert ev["devices_total"] == pings["device_id"].n_unique()
    assert ev["share_low"] < ev["share"] < ev["share_high"]
    assert hit.severity == (
        "high" if ev["share_low"] >= 0.05 else "medium" if ev["share_low"] >= 0.005 else "low"
    )
    assert hit.severity in ("medium", "high")
    # The map shows the stray place, not the city the devices live in.
    assert km_to_nearest_cell(hit, lat, lon) < 15
    near = [w for w in ev["where"] if haversine_km(w["lat"], w["lon"], lat, lon) < 30]
    assert sum(w["devices"] for w in near) == len(devices)
    assert ev["median_km"] == pytest.approx(km, rel=0.1)
    assert ev["median_minutes"] <= 5
    jsonschema.validate(ev, evidence_schema("travel")["impossible_speed"])


@pytest.mark.parametrize("city", ["new_york", "sao_paulo", "london"])
def test_clean_cities_have_no_jump(city):
    pings = generate_pings(N, city=city, seed=22).pings
    assert run(pings) == []
    summary = summarise(pings, RES)
    assert (jumps(Context(summary))["km"] < 60).all()


def trip(device: str, start, legs) -> pl.DataFrame:
    """One device's pings along ``legs``: (minutes after start, lat, lon) each."""
    return pl.DataFrame(
        {
            "device_id": [device] * len(legs),
            "timestamp": [start + dt.timedelta(minutes=m) for m, _, _ in legs],
            "lat": [lat for _, lat, _ in legs],
            "lon": [lon for _, _, lon in legs],
            "device_type": ["ios"] * len(legs),
        }
    )


def test_flights_and_drives_are_possible():
    pings = generate_pings(N, city="new_york", seed=23).pings
    start = pings["timestamp"].min()
    travellers = []
    for i in range(30):
        # New York to Los Angeles in 6 hours (650 km/h), and a 500 km drive in 5 hours.
        travellers.append(trip(f"fly{i}", start, [(0, 40.64, -73.78), (360, 33.94, -118.40)]))
        travellers.append(trip(f"drive{i}", start, [(0, 40.75, -73.99), (300, 42.36, -71.06)]))
    both = pl.concat([pings, *travellers]).with_columns(
        pl.col("timestamp").cast(pings["timestamp"].dtype)
    )
    assert run(both) == []


def test_a_faulty_phone_or_two_is_no_finding_and_ids_are_needed():
    pings = generate_pings(N, city="new_york", seed=24).pings
    start = pings["timestamp"].min()
    two = [trip(f"t{i}", start, [(0, 40.75, -73.99), (2, 25.76, -80.19)]) for i in range(2)]
    both = pl.concat([pings, *two]).with_columns(pl.col("timestamp").cast(pings["timestamp"].dtype))
    assert run(both) == []
    three = [trip(f"t{i}", start, [(0, 40.75, -73.99), (2, 25.76, -80.19)]) for i in range(3)]
    stamp = pl.col("timestamp").cast(pings["timestamp"].dtype)
    more = pl.concat([pings, *three]).with_columns(stamp)
    found = run(more)
    assert len(found) == 1 and found[0].severity == "low" and found[0].evidence["devices"] == 3
    # Without device ids nothing can be followed: the check does not run.
    assert detect_impossible_speed.needs == ("device_ids",)


def test_swapped_rows_are_told_once():
    pings = generate_pings(N, city="new_york", seed=25).pings
    mask = pl.Series(np.random.default_rng(2).random(pings.height) < 0.01)
    swapped = pings.with_columns(
        lat=pl.when(mask).then(pl.col("lon")).otherwise(pl.col("lat")),
        lon=pl.when(mask).then(pl.col("lat")).otherwise(pl.col("lon")),
    )
    found = run(swapped, DETECTORS)
    kinds = {f.kind for f in serious(found)}
    assert "swapped_coordinates" in kinds and "impossible_speed" not in kinds


def test_chunked_summaries_give_the_same_finding():
    pings = generate_pings(N, city="sao_paulo", seed=26).pings
    planted, _, _ = with_stray_fixes(pings, 0.05, 2_000, 40, seed=5)
    shuffled = planted.sample(fraction=1.0, shuffle=True, seed=1)
    bounds = [0, 7_000, 30_000, shuffled.height]
    parts = [summarise(shuffled[a:b], RES) for a, b in zip(bounds, bounds[1:])]
    whole = detect_impossible_speed(Context(summarise(planted, RES)))
    merged = detect_impossible_speed(Context(merge(parts)))
    assert [(f.id, f.severity, f.evidence) for f in merged] == [
        (f.id, f.severity, f.evidence) for f in whole
    ]


def test_devices_jumping_to_a_fallback_point_are_told_as_the_pile_up():
    """A fallback coordinate 150 km out that the city's own devices jump to is one cause:
    the pile-up tells it, and the jumps to it are not told again."""
    pings = generate_pings(N, city="london", seed=27).pings
    rng = np.random.default_rng(4)
    chosen = pings.group_by("device_id", maintain_order=True).first().sample(400, seed=4)
    fallback = chosen.with_columns(
        timestamp=pl.col("timestamp")
        + pl.duration(seconds=pl.Series(rng.integers(60, 600, chosen.height))),
        lat=pl.lit(52.5),
        lon=pl.lit(-1.5),
    )
    planted = pl.concat([pings, fallback.select(pings.columns)])
    alone = run(planted)
    # 133 km (less the places' size) is impossible within about 6.6 minutes: about half.
    assert len(alone) == 1 and 100 < alone[0].evidence["devices"] < 400
    found = detect_all(Context(summarise(planted, RES)))
    kinds = {f.kind for f in found}
    assert "coordinate_pileup" in kinds and "impossible_speed" not in kinds
