"""at_sea: written-in points on open water are found where they are; coastal cities, GPS
scatter over harbours and ferries crossing a strait are not told as medium or high."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from jsonschema import Draft202012Validator

from explorer.detectors.places import DETECTORS, detect_at_sea
from explorer.findings import Finding
from explorer.geography import land
from explorer.synth.pings import generate_pings
from tests import ping_shapes
from tests.detectors.conftest import START, evidence_schema, pings_from_columns, run_detectors

SCHEMA = evidence_schema("sea")
#: Places to plant sea pings: (lat, lon) and the least distance to land (km) expected.
MID_ATLANTIC = (30.0, -40.0, 1_000.0)
OFF_PORTUGAL = (38.78, -10.076, 45.0)  # ~50 km due west of Cabo da Roca
GULF_OF_MEXICO = (25.5, -90.0, 250.0)


def at_sea(pings: pl.DataFrame, resolution: int = 8) -> list[Finding]:
    findings = run_detectors([detect_at_sea], pings, resolution)
    for finding in findings:
        Draft202012Validator({**SCHEMA, "$ref": "#/at_sea"}).validate(finding.evidence)
    return findings


def from_shape(city: str, seed: int) -> pl.DataFrame:
    """Canonical pings from :func:`tests.ping_shapes.pings` (a vendor-shaped file)."""
    raw = ping_shapes.pings(city, n=6_000, seed=seed, devices=60)
    return pings_from_columns(
        raw["device"].to_list(),
        [datetime.fromtimestamp(int(s), UTC) for s in raw["t"].to_list()],
        raw["lat"].to_list(),
        raw["lon"].to_list(),
        raw["os"].to_list(),
    )


def planted_pile(
    lat: float, lon: float, devices: int, per_device: int, ids: bool = True
) -> pl.DataFrame:
    """``devices`` devices each writing ``per_device`` pings on one exact sea point."""
    n = devices * per_device
    return pings_from_columns(
        [f"sea-{i % devices}" if ids else None for i in range(n)],
        [START + timedelta(minutes=37 * i) for i in range(n)],
        [lat] * n,
        [lon] * n,
        ["android"] * n,
    )


def ferry_crossings(
    start: tuple[float, float], end: tuple[float, float], devices: int, seed: int
) -> pl.DataFrame:
    """Devices crossing a strait once a day each, pinging every few minutes on the way."""
    rng = np.random.default_rng(seed)
    rows = []
    for device in range(devices):
        for day in range(5):
            steps = rng.integers(20, 40)
            t = np.sort(rng.random(steps))
            lat = start[0] + (end[0] - start[0]) * t + rng.normal(0, 0.002, steps)
            lon = start[1] + (end[1] - start[1]) * t + rng.normal(0, 0.002, steps)
            depart = START + timedelta(days=day, hours=int(rng.integers(6, 20)))
            for k in range(steps):
                rows.append(
                    (
                        f"ferry-{device}",
                        depart + timedelta(minutes=float(t[k] * 240)),
                        round(float(lat[k]), 6),
                        round(float(lon[k]), 6),
                        "ios",
                    )
                )
    return pings_from_columns(*map(list, zip(*rows)))


def test_at_sea_is_registered_with_the_places_detectors():
    assert detect_at_sea in DETECTORS
    assert detect_at_sea.kind == "at_sea" and detect_at_sea.needs == ()


def test_clean_coastal_cities_give_no_medium_or_high(clean):
    for (city, seed), pings in clean.items():
        for finding in at_sea(pings):
            assert finding.severity == "low", (city, seed, finding.title)


@pytest.mark.parametrize("seed", [0, 1])
def test_clean_london_gives_no_medium_or_high(seed):
    pings = generate_pings(100_000, city="london", seed=seed).pings
    assert all(f.severity == "low" for f in at_sea(pings))


@pytest.mark.parametrize("city", ["sydney", "lagos", "tokyo", "amsterdam", "new_york"])
@pytest.mark.parametrize("seed", [0, 3])
def test_vendor_shaped_coastal_files_give_no_medium_or_high(city, seed):
    assert all(f.severity == "low" for f in at_sea(from_shape(city, seed)))


@pytest.mark.parametrize(
    ("place", "devices", "per_device", "severity"),
    [
        (MID_ATLANTIC, 40, 100, "high"),  # 4,000 of ~104,000 pings: ~3.8 %
        (OFF_PORTUGAL, 12, 10, "medium"),  # 120: ~0.12 %, above the 0.05 % medium bar
        (GULF_OF_MEXICO, 60, 50, "high"),  # 3,000: ~2.9 %
        (GULF_OF_MEXICO, 10, 10, "medium"),  # 100: ~0.1 %
    ],
)
def test_planted_piles_at_sea_are_found_where_they_are(place, devices, per_device, severity):
    lat, lon, least_km = place
    base = generate_pings(100_000, city="sao_paulo", seed=5).pings
    pile = planted_pile(lat, lon, devices, per_device)
    (finding,) = at_sea(pl.concat([base, pile]))
    assert finding.severity == severity
    evidence = finding.evidence
    assert evidence["piles"][0]["lat"] == lat and evidence["piles"][0]["lon"] == lon
    assert evidence["piles"][0]["devices"] == devices
    assert evidence["piles"][0]["distance_km"] > least_km
    assert evidence["piled_pings"] >= devices * per_device
    assert evidence["where"][0]["pings"] >= devices * per_device
    assert abs(evidence["where"][0]["lat"] - lat) < 0.5
    assert f"({lat:.4f}, {lon:.4f})" in finding.story


def test_a_few_sea_pings_are_not_told_and_a_small_spread_is_low():
    base = generate_pings(100_000, city="new_york", seed=2).pings
    few = planted_pile(*MID_ATLANTIC[:2], devices=1, per_device=5)
    assert at_sea(pl.concat([base, few])) == []
    rng = np.random.default_rng(4)
    n = 300  # 0.3 % of pings, each on its own point far out
    spread = pings_from_columns(
        [f"ship-{i % 30}" for i in range(n)],
        [START + timedelta(minutes=11 * i) for i in range(n)],
        (30 + rng.normal(0, 2, n)).round(6).tolist(),
        (-40 + rng.normal(0, 2, n)).round(6).tolist(),
        ["ios"] * n,
    )
    (finding,) = at_sea(pl.concat([base, spread]))
    assert finding.severity == "low"
    assert finding.evidence["piled_points"] == 0
    assert finding.evidence["devices"] == 30
    assert "No exact point repeats" in finding.story


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ((50.80, -1.09), (49.49, 0.11)),  # Portsmouth – Le Havre
        ((51.12, 1.31), (50.97, 1.85)),  # Dover – Calais
    ],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_ferries_across_a_strait_are_not_medium_or_high(start, end, seed):
    base = generate_pings(100_000, city="london", seed=seed).pings
    ferries = ferry_crossings(start, end, devices=25, seed=seed)
    findings = at_sea(pl.concat([base, ferries]))
    assert all(f.severity == "low" for f in findings)
    if findings:  # the long crossing leaves a few percent of pings far out, told as low
        assert findings[0].evidence["piled_points"] == 0


def test_a_large_share_at_sea_is_high_even_when_spread():
    base = generate_pings(50_000, city="sao_paulo", seed=1).pings
    rng = np.random.default_rng(9)
    n = 20_000  # ~29 % of pings, as a unit or projection error would scatter them
    spread = pings_from_columns(
        [f"dev-{i % 400}" for i in range(n)],
        [START + timedelta(minutes=i) for i in range(n)],
        rng.uniform(-40, 0, n).round(6).tolist(),
        rng.uniform(-30, -10, n).round(6).tolist(),
        ["android"] * n,
    )
    (finding,) = at_sea(pl.concat([base, spread]))
    assert finding.severity == "high"
    assert finding.evidence["share_low"] > 0.2
    assert finding.evidence["piled_points"] == 0


def test_piles_without_device_ids_are_found_by_pings():
    base = generate_pings(50_000, city="new_york", seed=3).pings
    base = base.with_columns(device_id=pl.lit(None, pl.String))
    pile = planted_pile(*GULF_OF_MEXICO[:2], devices=1, per_device=60, ids=False)
    (finding,) = at_sea(pl.concat([base, pile]))
    assert finding.severity == "medium"
    assert finding.evidence["piled_points"] == 1 and finding.evidence["devices"] == 0
    assert "device" not in finding.story.split("(")[1].split(")")[0]


def test_null_island_is_left_to_its_own_detector():
    base = generate_pings(50_000, city="new_york", seed=4).pings
    zeros = planted_pile(0.0, 0.0, devices=50, per_device=20)
    assert all(f.severity == "low" for f in at_sea(pl.concat([base, zeros])))
    assert not any(f.evidence["pings"] >= 1_000 for f in at_sea(pl.concat([base, zeros])))


def test_spread_sea_pings_near_the_data_are_counted_from_the_complete_cells():
    # The coords table keeps only shared or far points; pings 20-60 km off New York are
    # neither, and still count.
    base = generate_pings(50_000, city="new_york", seed=6).pings
    rng = np.random.default_rng(6)
    n = 4_000  # ~7 % of pings, each on its own point
    offshore = pings_from_columns(
        [f"dev-{i % 200}" for i in range(n)],
        [START + timedelta(minutes=i) for i in range(n)],
        rng.uniform(39.9, 40.2, n).round(6).tolist(),
        rng.uniform(-73.6, -73.2, n).round(6).tolist(),
        ["android"] * n,
    )
    (finding,) = at_sea(pl.concat([base, offshore]))
    assert finding.severity == "medium"
    assert 0.9 * n <= finding.evidence["pings"] <= n + 50
    assert finding.evidence["devices"] >= 200
    assert 39.8 < finding.evidence["where"][0]["lat"] < 40.3


def test_no_coast_tree_is_built_when_nothing_is_at_sea():
    # The tree of 1.6 M coast pixels takes seconds: only data with pings at sea pays it.
    base = generate_pings(50_000, city="new_york", seed=7).pings
    land._coast_tree.cache_clear()
    assert at_sea(base) == []
    assert land._coast_tree.cache_info().currsize == 0
    assert at_sea(pl.concat([base, planted_pile(*MID_ATLANTIC[:2], devices=20, per_device=5)]))
    assert land._coast_tree.cache_info().currsize == 1
