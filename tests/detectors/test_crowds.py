"""Density spikes of many distinct devices (issue #20): crowds planted in dense centres
and suburbs of several cities, at several strengths and resolutions, whether the venue
fits in one cell or straddles several; clean cities and real check-ins stay quiet."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from jsonschema import Draft202012Validator

from explorer.analysis import analyze_summary
from explorer.binning.cells import cell_boundary, cell_centre, grid_disk, latlng_to_cells
from explorer.detectors.context import Context
from explorer.detectors.places.density import (
    detect_density_spike,
    nb_overdispersion,
    rise_exponent,
)
from explorer.detectors.places.rings import neighbourhood, ring_level
from explorer.reading import read_pings
from explorer.summary import summarise
from explorer.synth.biases import offset_deg
from explorer.synth.pings import CITIES, generate_pings
from explorer.testing import km_to_nearest_cell, serious
from tests.conftest import REAL_DATA
from tests.detectors.conftest import START, evidence_schema

N = 150_000
NEAR_KM = 1.0
SCHEMA = evidence_schema("places")["density_spike"]
GOWALLA = REAL_DATA / "gowalla_nyc_checkins.csv"
#: (km from the city centre, bearing): the densest centre, and a suburb.
CENTRE, SUBURB = (0.0, 45.0), (9.0, 45.0)
#: Twelve bearings around a point (radians).
ANGLES = np.linspace(0, 2 * np.pi, 12, endpoint=False)


def place(city: str, where: tuple[float, float]) -> tuple[float, float]:
    """(lat, lon) ``where`` = (km, bearing) from the city's centre."""
    km, bearing = where
    c = CITIES[city]
    rad = np.radians(bearing)
    lat, lon = offset_deg(c.lat, c.lon, km * np.sin(rad), km * np.cos(rad))
    return float(lat), float(lon)


def plant_crowd(
    base: pl.DataFrame,
    city: str,
    at: tuple[float, float],
    devices: int,
    pings_each: int,
    seed: int,
    radius_km: float = 0.1,
) -> pl.DataFrame:
    """``devices`` new devices, each sending ``pings_each`` evening pings (18:00–23:00
    local) from within ``radius_km`` of ``at`` over the base data's two weeks."""
    rng = np.random.default_rng(seed)
    n = devices * pings_each
    r, theta = radius_km * np.sqrt(rng.random(n)), rng.uniform(0, 2 * np.pi, n)
    lat, lon = offset_deg(*at, r * np.sin(theta), r * np.cos(theta))
    local_s = rng.integers(0, 14, n) * 86_400 + rng.integers(18 * 3600, 23 * 3600, n)
    naive = pl.Series(local_s * 1_000_000).cast(pl.Duration("us")) + START.replace(tzinfo=None)
    crowd = pl.DataFrame(
        {
            "device_id": np.repeat([f"crowd-{seed}-{i}" for i in range(devices)], pings_each),
            "timestamp": naive.dt.replace_time_zone(CITIES[city].zone).dt.convert_time_zone("UTC"),
            "lat": lat,
            "lon": lon,
            "device_type": rng.choice(["ios", "android"], n),
        }
    )
    return pl.concat([base, crowd.select(base.columns).cast(base.schema)])


def spikes(pings: pl.DataFrame, resolution: int):
    return detect_density_spike(Context(summarise(pings, resolution), salt="test"))


def hit_at(found, lat: float, lon: float):
    """The medium or high spikes within ``NEAR_KM`` of (lat, lon)."""
    return [f for f in serious(found, "density_spike") if km_to_nearest_cell(f, lat, lon) < NEAR_KM]


@pytest.fixture(scope="module")
def bases() -> dict[str, pl.DataFrame]:
    """Clean pings of three cities (one seed each), the ground crowds are planted on."""
    seeds = {"new_york": 1, "london": 2, "sao_paulo": 3}
    return {city: generate_pings(N, city=city, seed=seed).pings for city, seed in seeds.items()}


# --- the venue: 400 devices × 40 evening pings in the densest centre -----------


@pytest.mark.parametrize("resolution", [8, 9, 10])
def test_crowd_in_the_dense_centre_of_new_york_is_a_spike(bases, resolution):
    lat, lon = place("new_york", CENTRE)
    found = spikes(plant_crowd(bases["new_york"], "new_york", (lat, lon), 400, 40, 11), resolution)
    hits = hit_at(found, lat, lon)
    assert len(hits) == 1, [(f.severity, f.title) for f in found]
    ev = hits[0].evidence
    # The excess is told in devices with an interval that holds the 400 planted.
    assert ev["excess_devices_low"] <= 400 <= ev["excess_devices_high"]
    assert ev["excess_devices_low"] >= 200 and ev["devices"] >= 400
    assert ev["ratio_devices"] >= 2
    venue = int(latlng_to_cells([lat], [lon], resolution)[0])
    assert f"{venue:x}" in hits[0].cells


# --- each crowd alone: strengths × places × cities × resolutions ----------------------

CROWDS = [
    ("new_york", CENTRE, 1000, 20, 8),
    ("new_york", SUBURB, 100, 10, 8),
    ("new_york", SUBURB, 100, 20, 10),
    ("london", CENTRE, 400, 40, 8),
    ("london", CENTRE, 100, 10, 10),
    ("london", SUBURB, 100, 10, 9),
    ("london", SUBURB, 1000, 20, 10),
    ("sao_paulo", CENTRE, 400, 40, 9),
    ("sao_paulo", CENTRE, 1000, 10, 8),
    ("sao_paulo", SUBURB, 400, 40, 8),
    ("sao_paulo", SUBURB, 100, 40, 9),
]


@pytest.mark.parametrize(("city", "where", "devices", "pings_each", "resolution"), CROWDS)
def test_each_crowd_alone_is_found_at_its_cell(bases, city, where, devices, pings_each, resolution):
    lat, lon = place(city, where)
    pings = plant_crowd(bases[city], city, (lat, lon), devices, pings_each, seed=devices)
    found = spikes(pings, resolution)
    hits = hit_at(found, lat, lon)
    assert len(hits) == 1, [(f.severity, f.title) for f in found]
    assert hits[0].evidence["excess_devices_high"] >= 0.8 * devices
    assert serious(found, "density_spike") == hits


def test_a_venue_on_the_corner_of_three_cells_is_one_spike(bases):
    # At resolution 9 (~350 m cells) a 100 m venue on a vertex falls in three cells;
    # each still holds every crowd device (they move about the venue).
    lat0, lon0 = place("sao_paulo", SUBURB)
    corner = cell_boundary(int(latlng_to_cells([lat0], [lon0], 9)[0]))[0]
    pings = plant_crowd(bases["sao_paulo"], "sao_paulo", corner, 400, 20, seed=5)
    hits = hit_at(spikes(pings, 9), *corner)
    assert len(hits) == 1
    around = offset_deg(*corner, 0.05 * np.cos(ANGLES), 0.05 * np.sin(ANGLES))
    shared = {f"{c:x}" for c in latlng_to_cells(*around, 9).to_list()}
    assert len(shared) == 3 and shared <= set(hits[0].cells)
    assert hits[0].evidence["excess_devices_low"] >= 300


def test_a_venue_over_seven_fine_cells_is_seen_with_its_ring(bases):
    # At resolution 10 (~130 m cells) a 150 m-radius venue fills a cell and its first
    # ring: every ring-1 level is the crowd's, so only the cell-with-ring scale sees it.
    lat, lon = place("london", CENTRE)
    pings = plant_crowd(bases["london"], "london", (lat, lon), 400, 40, seed=8, radius_km=0.15)
    hits = hit_at(spikes(pings, 10), lat, lon)
    assert len(hits) == 1
    assert hits[0].evidence["scale"] == "cell_with_ring"
    assert hits[0].evidence["cells_flagged"] >= 5


def test_crowd_in_a_suburb_through_coarse_cells_is_told_low(bases):
    # At resolution 7 (~5 km² cells) a venue and a city's ~1 km sub-centre both fill one
    # cell over flat rings: the crowd is told, at its cell, but only as low.
    lat, lon = place("new_york", SUBURB)
    found = spikes(plant_crowd(bases["new_york"], "new_york", (lat, lon), 400, 40, 3), 7)
    venue = f"{int(latlng_to_cells([lat], [lon], 7)[0]):x}"
    at_venue = [f for f in found if venue in f.cells]
    assert len(at_venue) == 1 and at_venue[0].evidence["excess_devices_low"] >= 300
    assert serious(found) == []


# --- what is not a crowd stays quiet ----------------------------------------------------


@pytest.mark.parametrize("resolution", [8, 9])
def test_clean_cities_have_no_medium_or_high_spike(clean, bases, resolution):
    datasets = [*clean.values(), *bases.values(), generate_pings(N, city="london", seed=5).pings]
    loud = [(f.severity, f.title) for pings in datasets for f in serious(spikes(pings, resolution))]
    assert loud == []


@pytest.mark.parametrize("resolution", [8, 9])
def test_one_hyperactive_phone_is_a_concentration_not_a_spike(resolution):
    result = generate_pings(N, city="london", seed=4, biases=("device_concentration",))
    summary = summarise(result.pings, resolution)
    assert serious(spikes(result.pings, resolution)) == []
    kinds = {f.kind for f in serious(analyze_summary(summary, source="t", salt="t").findings)}
    assert "device_concentration" in kinds and "density_spike" not in kinds


def test_real_check_ins_do_not_become_a_wall_of_spikes():
    # Gowalla snaps every check-in to its venue: popular venues are real spikes of
    # distinct users, told at most as low, and at most a handful of them.
    pings = read_pings(str(GOWALLA)).pings
    for resolution in (8, 9):
        summary = summarise(pings, resolution)
        analysis = analyze_summary(summary, source="gowalla", salt="t")
        found = [f for f in analysis.findings if f.kind == "density_spike"]
        assert "venue_snapped" in {f.kind for f in analysis.findings}
        assert 0 < len(found) <= analysis.config.severity.max_findings_per_kind
        assert serious(found) == []


# --- building blocks against independent methods ---------------------------------------


def test_rings_of_the_kd_tree_match_h3_rings():
    centre = int(latlng_to_cells([51.5], [-0.12], 9)[0])
    cells = np.array(grid_disk(centre, 7), dtype=np.uint64)
    keep = np.random.default_rng(2).random(cells.size) < 0.8
    cells = cells[keep]
    lat, lon = (np.array(v) for v in zip(*(cell_centre(int(c)) for c in cells), strict=True))
    hood = neighbourhood(lat, lon, 9, 3)
    present = set(cells.tolist())
    for i, cell in enumerate(cells[:30]):
        for k in (1, 2, 3):
            ring = (set(grid_disk(int(cell), k)) - set(grid_disk(int(cell), k - 1))) & present
            got = {int(cells[j]) for j, r in zip(hood.index[i], hood.ring[i]) if r == k}
            assert got == ring


def test_ring_level_is_the_median_slot_with_empty_slots_zero():
    centre = int(latlng_to_cells([40.7], [-74.0], 8)[0])
    ring = [c for c in grid_disk(centre, 1) if c != centre]
    # The centre cell and four of its six ring slots occupied (two with a venue's spill).
    lat, lon = (
        np.array(v) for v in zip(*(cell_centre(c) for c in [centre, *ring[:4]]), strict=True)
    )
    values = np.array([500.0, 10.0, 12.0, 400.0, 450.0])
    hood = neighbourhood(lat, lon, 8, 1)
    # Slots: 10, 12, 400, 450 and two empty (0): median of (0, 0, 10, 12, 400, 450) = 11.
    assert ring_level(values, hood, 1)[0] == pytest.approx(11.0)
    assert values[hood.index[0][hood.ring[0] == 1]].tolist() != []


def test_rise_exponent_recovers_a_known_continuation():
    rng = np.random.default_rng(4)
    outer = rng.uniform(5, 100, 500)
    inner = outer * rng.uniform(1.4, 3.0, 500)
    observed = inner * (inner / outer) ** 0.4

    class Cfg:
        spike_gradient_min_devices, spike_gradient_min_rise, spike_gradient_min_cells = 2, 1.3, 20

    assert rise_exponent(observed, inner, outer, 0.0, Cfg) == pytest.approx(0.4, abs=1e-9)
    # Too few rising cells: the full rise (exponent 1) is assumed.
    assert rise_exponent(observed[:5], inner[:5], outer[:5], 0.0, Cfg) == 1.0


def test_overdispersion_is_not_inflated_by_one_big_crowd():
    rng = np.random.default_rng(6)
    mu = rng.uniform(5, 300, 2_000)
    counts = rng.poisson(rng.gamma(1 / 0.05, 0.05 * mu)).astype(float)
    crowded = counts.copy()
    crowded[np.argmax(mu)] += 3_000  # a crowd in the densest cell weighs μ² in α
    assert nb_overdispersion(crowded, mu, trim=0.0) > 0.1
    assert nb_overdispersion(crowded, mu, trim=0.02) == pytest.approx(0.05, abs=0.02)


def test_evidence_is_json_valid_and_the_story_speaks_of_devices(bases):
    lat, lon = place("new_york", SUBURB)
    found = spikes(plant_crowd(bases["new_york"], "new_york", (lat, lon), 400, 40, 2), 9)
    Draft202012Validator.check_schema(SCHEMA)
    assert found
    for finding in found:
        text = json.dumps(finding.to_dict(), allow_nan=False)
        assert "crowd-" not in text
        Draft202012Validator(SCHEMA).validate(json.loads(text)["evidence"])
        ev = finding.evidence
        assert ev["excess_devices_low"] <= ev["excess_devices"] <= ev["excess_devices_high"]
        assert "more devices than its neighbourhood predicts" in finding.title
        assert "95 % interval" in finding.story and 2 <= finding.story.count(". ") + 1 <= 6


def test_empty_slots_on_water_are_left_out_and_an_edge_ring_is_no_ring_of_zeros():
    centre = int(latlng_to_cells([40.7], [-74.0], 8)[0])
    ring = [c for c in grid_disk(centre, 1) if c != centre]
    lat, lon = (
        np.array(v) for v in zip(*(cell_centre(c) for c in [centre, *ring[:3]]), strict=True)
    )
    values = np.array([500.0, 10.0, 12.0, 14.0])
    hood = neighbourhood(lat, lon, 8, 1)
    # Three of six slots occupied: the empty three count as the quietest occupied (10),
    # so the median of (14, 12, 10, 10, 10, 10) = 10.
    assert ring_level(values, hood, 1)[0] == pytest.approx(10.0)
    # With the three empty slots on water they are left out: the median of (14, 12, 10).
    sea = np.zeros((len(values), 1), dtype=np.int64)
    sea[0, 0] = 3
    assert ring_level(values, replace(hood, sea=sea), 1)[0] == pytest.approx(12.0)
    # Two of six occupied (a venue's spill at the data's edge): the empty slots stay zero.
    two = neighbourhood(lat[:3], lon[:3], 8, 1)
    assert ring_level(np.array([500.0, 400.0, 450.0]), two, 1)[0] == pytest.approx(0.0)
