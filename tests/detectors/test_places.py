"""Places detectors: null island, coordinate pileup, density spike, distant points and
swapped coordinates — planted alone, clean data quiet, small counts and evidence schema."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from jsonschema import Draft202012Validator

from explorer.binning.cells import cell_centre, grid_disk, latlng_to_cells, str_to_cell
from explorer.detectors.context import Context
from explorer.detectors.places import DETECTORS
from explorer.detectors.places.common import haversine_km, weighted_quantile
from explorer.detectors.places.density import nb_overdispersion
from explorer.detectors.places.rings import neighbourhood, ring_slots
from explorer.findings import Finding
from explorer.summary import summarise
from explorer.synth.pings import generate_pings
from explorer.testing import km_to_nearest_cell, serious
from tests.detectors.conftest import START, evidence_schema, pings_from_columns, run_detectors

RES = 8
N = 200_000
KINDS = {
    "null_island",
    "coordinate_pileup",
    "density_spike",
    "distant_points",
    "swapped_coordinates",
}
SCHEMA = evidence_schema("places")


def run(pings: pl.DataFrame) -> list[Finding]:
    return run_detectors(DETECTORS, pings, RES)


def canonical(device: list[str], lat, lon, minutes) -> pl.DataFrame:
    """A canonical pings frame from parallel lists (minutes after the start)."""
    return pings_from_columns(
        device_id=device,
        timestamp=[START + timedelta(minutes=int(m)) for m in minutes],
        lat=np.asarray(lat, dtype=float),
        lon=np.asarray(lon, dtype=float),
        device_type=["android"] * len(device),
    )


def swap_rows(pings: pl.DataFrame, share: float, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    mask = np.random.default_rng(seed).random(pings.height) < share
    m = pl.Series(mask)
    out = pings.with_columns(
        lat=pl.when(m).then(pl.col("lon")).otherwise(pl.col("lat")),
        lon=pl.when(m).then(pl.col("lat")).otherwise(pl.col("lon")),
    )
    return out, mask


# --- shared data (generated once per module) -------------------------------------------


@pytest.fixture(scope="module")
def clean_findings(clean) -> dict[tuple[str, int], list[Finding]]:
    return {key: run(pings) for key, pings in clean.items()}


@pytest.fixture(scope="module")
def planted() -> dict[tuple[str, str], tuple[object, list[Finding]]]:
    out = {}
    for kind in ("null_island", "coordinate_pileup", "density_spike"):
        for city in ("new_york", "sao_paulo"):
            result = generate_pings(N, city=city, seed=7, biases=[kind])
            out[kind, city] = (result, run(result.pings))
    return out


@pytest.fixture(scope="module")
def swapped() -> tuple[pl.DataFrame, np.ndarray, list[Finding]]:
    pings, mask = swap_rows(generate_pings(N, city="new_york", seed=3).pings, 0.01, seed=1)
    return pings, mask, run(pings)


@pytest.fixture(scope="module")
def moved_away() -> tuple[pl.DataFrame, np.ndarray, list[Finding]]:
    """Every ping of 60 devices moved 8° (~890 km) north: a trip to another region."""
    pings = generate_pings(N, city="sao_paulo", seed=4).pings
    chosen = pings["device_id"].unique().sort().head(60)
    mask = pings["device_id"].is_in(chosen.implode()).to_numpy()
    moved = pings.with_columns(
        lat=pl.when(pl.Series(mask)).then(pl.col("lat") + 8).otherwise(pl.col("lat"))
    )
    return moved, mask, run(moved)


# --- clean data is quiet ---------------------------------------------------------------


def test_clean_synthetic_cities_yield_no_medium_or_high(clean_findings):
    loud = {
        key: [(f.kind, f.title) for f in serious(found)]
        for key, found in clean_findings.items()
        if serious(found)
    }
    assert loud == {}


# --- each planted bias alone is found at the right place -------------------------------


@pytest.mark.parametrize("city", ["new_york", "sao_paulo"])
def test_null_island_found_with_its_share(planted, city):
    result, found = planted["null_island", city]
    bias = result.planted[0]
    hits = [f for f in found if f.kind == "null_island"]
    assert len(hits) == 1 and hits[0].severity in ("medium", "high")
    hit = hits[0]
    zero = result.pings.filter((pl.col("lat").abs() < 0.01) & (pl.col("lon").abs() < 0.01))
    assert hit.evidence["pings"] == bias.rows == zero.height
    assert hit.evidence["share"] == pytest.approx(bias.rows / result.pings.height)
    assert hit.evidence["devices"] == zero["device_id"].n_unique()
    assert hit.evidence["share_low"] < hit.evidence["share"] < hit.evidence["share_high"]
    assert km_to_nearest_cell(hit, 0.0, 0.0) < 1.5
    assert not [f for f in found if f.kind == "density_spike"]


@pytest.mark.parametrize("city", ["new_york", "sao_paulo"])
def test_coordinate_pileup_found_high(planted, city):
    result, found = planted["coordinate_pileup", city]
    bias = result.planted[0]
    hits = [f for f in found if f.kind == "coordinate_pileup"]
    assert len(hits) == 1 and hits[0].severity == "high"
    at = result.pings.filter((pl.col("lat") == bias.lat) & (pl.col("lon") == bias.lon))
    assert (hits[0].evidence["lat"], hits[0].evidence["lon"]) == (bias.lat, bias.lon)
    assert hits[0].evidence["pings"] == at.height
    assert hits[0].evidence["devices"] == at["device_id"].n_unique() >= 200
    assert km_to_nearest_cell(hits[0], bias.lat, bias.lon) < 1.5
    assert serious(found) == hits


@pytest.mark.parametrize("city", ["new_york", "sao_paulo"])
def test_density_spike_found_at_the_venue(planted, city):
    result, found = planted["density_spike", city]
    bias = result.planted[0]
    hits = serious(found, "density_spike")
    assert len(hits) == 1
    assert km_to_nearest_cell(hits[0], bias.lat, bias.lon) < 1.5
    ev = hits[0].evidence
    assert ev["ratio"] >= 8 and ev["devices"] >= 100
    assert len(ev["neighbour_pings"]) == ring_slots(2)
    assert ev["neighbour_mean_pings"] == pytest.approx(sum(ev["neighbour_pings"]) / 18)
    assert serious(found) == hits


def test_swapped_rows_found_with_their_count(swapped):
    pings, mask, found = swapped
    hits = [f for f in found if f.kind == "swapped_coordinates"]
    assert len(hits) == 1 and hits[0].severity in ("medium", "high")
    ev = hits[0].evidence
    assert ev["rows"] == int(mask.sum())
    assert ev["share"] == pytest.approx(mask.mean())
    # The example's mirror is an unswapped place of the data; its own place is a swapped row.
    ex = ev["example"]
    assert (ex["mirrored_lat"], ex["mirrored_lon"]) == (ex["lon"], ex["lat"])
    assert abs(ex["mirrored_lat"] - 40.75) < 0.5 and abs(ex["mirrored_lon"] + 73.98) < 0.5
    swapped_cells = set(
        latlng_to_cells(
            pings.filter(pl.Series(mask))["lat"], pings.filter(pl.Series(mask))["lon"], RES
        ).to_list()
    )
    assert {str_to_cell(c) for c in hits[0].cells} <= swapped_cells
    # Swapped rows are told once: not again as distant points.
    assert not [f for f in found if f.kind == "distant_points"]
    assert serious(found) == hits


def test_distant_devices_found_with_their_count(moved_away):
    pings, mask, found = moved_away
    hits = [f for f in found if f.kind == "distant_points"]
    assert len(hits) == 1
    ev = hits[0].evidence
    assert ev["pings"] == int(mask.sum())
    assert ev["devices"] == 60
    assert ev["distance_km"] == pytest.approx(8 * 111.2, rel=0.03)
    # About half a percent of the data: informational, not a warning.
    assert hits[0].severity == "low"
    where = ev["where"][0]
    assert abs(where["lat"] - (-23.55 + 8)) < 0.5
    assert not [f for f in found if f.kind == "swapped_coordinates"]


def test_a_sizeable_share_of_distant_pings_is_medium():
    city = generate_pings(20_000, city="new_york", seed=5).pings
    rng = np.random.default_rng(0)
    n = 1_000  # ~5 % of the data, from 50 devices in Chicago
    far = canonical(
        [f"far{i % 50}" for i in range(n)],
        41.88 + rng.normal(0, 0.01, n),
        -87.63 + rng.normal(0, 0.01, n),
        rng.integers(0, 20_000, n),
    )
    found = run(pl.concat([city, far]))
    hits = [f for f in found if f.kind == "distant_points"]
    assert len(hits) == 1 and hits[0].severity == "medium"
    assert km_to_nearest_cell(hits[0], 41.88, -87.63) < 1.5


# --- small counts and look-alikes are not findings -------------------------------------


def _quiet_suburb(rng: np.random.Generator) -> pl.DataFrame:
    """300 devices spread thinly over ~30 × 30 km, a few pings each around home."""
    n_dev = 300
    home_lat = 40.5 + rng.uniform(0, 0.27, n_dev)
    home_lon = -74.3 + rng.uniform(0, 0.36, n_dev)
    per = rng.integers(3, 30, n_dev)
    dev = np.repeat(np.arange(n_dev), per)
    return canonical(
        [f"d{d}" for d in dev],
        home_lat[dev] + rng.normal(0, 2e-4, dev.size),
        home_lon[dev] + rng.normal(0, 2e-4, dev.size),
        rng.integers(0, 20_000, dev.size),
    )


def test_city_centre_through_coarse_cells_is_a_peak_not_a_spike():
    # At resolution 7 (~5 km² cells) the dense core fills one cell far above its rings;
    # the rings' own gradient predicts it. (A plain ring mean flags it 12×.)
    pings = generate_pings(N, city="sao_paulo", seed=1).pings
    ctx = Context(summarise(pings, 7))
    found = [f for detector in DETECTORS for f in detector(ctx)]
    assert serious(found) == []


def test_truncated_coordinates_at_a_venue_are_a_spike_not_a_pileup():
    # A quarter of devices write 3 decimals: the venue's pings pile on a grid of points
    # ~100 m apart, each shared by many devices; none stands alone like a fallback.
    result = generate_pings(
        N, city="sao_paulo", seed=5, biases=("density_spike", "coordinate_precision")
    )
    found = run(result.pings)
    venue = result.planted[0]
    assert [f for f in found if f.kind == "coordinate_pileup"] == []
    spikes = serious(found, "density_spike")
    assert spikes and km_to_nearest_cell(spikes[0], venue.lat, venue.lon) < 1.5


def test_busy_phone_on_a_quiet_street_is_not_a_spike():
    rng = np.random.default_rng(11)
    base = _quiet_suburb(rng)
    n = 3_000  # one phone, forty times its neighbours' pings, alone in its cell
    phone = canonical(
        ["busy"] * n,
        40.63 + rng.normal(0, 1e-4, n),
        -74.12 + rng.normal(0, 1e-4, n),
        rng.integers(0, 20_000, n),
    )
    found = run(pl.concat([base, phone]))
    assert [f for f in found if f.kind == "density_spike"] == []
    assert [f for f in found if f.kind == "coordinate_pileup"] == []


def test_a_few_zero_pings_are_low():
    rng = np.random.default_rng(2)
    base = _quiet_suburb(rng)
    zeros = canonical(["z1", "z2"], [0.0, 0.0], [0.0, 0.0], [5, 9])
    found = run(pl.concat([base, zeros]))
    hits = [f for f in found if f.kind == "null_island"]
    assert len(hits) == 1 and hits[0].severity == "low"
    assert hits[0].evidence["pings"] == 2 and hits[0].evidence["exact_zero_pings"] == 2
    assert not serious(found)


def _venue_checkins(rng: np.random.Generator, n_venues=3_000, n_devices=4_000) -> pl.DataFrame:
    """Check-in style data: every ping on one of many venue coordinates, popularity
    log-normal (a smooth heavy tail, like real venues)."""
    v_lat = 40.75 + rng.normal(0, 0.05, n_venues)
    v_lon = -73.98 + rng.normal(0, 0.06, n_venues)
    weight = rng.lognormal(0, 1.0, n_venues)
    per = rng.integers(2, 25, n_devices)
    dev = np.repeat(np.arange(n_devices), per)
    venue = rng.choice(n_venues, size=dev.size, p=weight / weight.sum())
    return canonical(
        [f"u{d}" for d in dev], v_lat[venue], v_lon[venue], rng.integers(0, 200_000, dev.size)
    )


@pytest.fixture(scope="module")
def venues() -> pl.DataFrame:
    return _venue_checkins(np.random.default_rng(21))


def test_venue_snapped_data_is_not_a_pileup_everywhere(venues):
    coords = venues.group_by("lat", "lon").agg(pl.col("device_id").n_unique())
    assert (coords["device_id"] >= 20).sum() > 100  # many venues with many devices ...
    found = run(venues)
    assert [f for f in found if f.kind == "coordinate_pileup"] == []  # ... none a pileup


def test_fallback_coordinate_in_venue_data_stands_out(venues):
    rng = np.random.default_rng(5)
    top = venues.group_by("lat", "lon").agg(pl.col("device_id").n_unique())["device_id"].max()
    n_dev = 6 * top
    n = 3 * n_dev
    fallback = canonical(
        [f"u{i % n_dev}" for i in range(n)],
        [40.7128] * n,
        [-74.006] * n,
        rng.integers(0, 200_000, n),
    )
    found = run(pl.concat([venues, fallback]))
    hits = [f for f in found if f.kind == "coordinate_pileup"]
    assert len(hits) == 1 and hits[0].severity in ("medium", "high")
    assert hits[0].evidence["venue_snapped"] is True
    assert (hits[0].evidence["lat"], hits[0].evidence["lon"]) == (40.7128, -74.006)


# --- building blocks against independent methods ---------------------------------------


def test_kd_tree_neighbourhood_matches_h3_grid_disk():
    centre = int(latlng_to_cells([40.75], [-73.98], RES)[0])
    cells = np.array(grid_disk(centre, 6), dtype=np.uint64)
    keep = np.random.default_rng(0).random(cells.size) < 0.7  # holes: empty slots
    keep[0] = True
    cells = cells[keep]
    lat, lon = zip(*(cell_centre(int(c)) for c in cells), strict=True)
    hood = neighbourhood(np.array(lat), np.array(lon), RES, 2)
    present = set(cells.tolist())
    for i, cell in enumerate(cells[:40]):
        expected = (set(grid_disk(int(cell), 2)) - {int(cell)}) & present
        got = {int(cells[j]) for j in hood.index[i] if j < cells.size}
        assert got == expected
    assert hood.slots == 18 == len(grid_disk(centre, 2)) - 1


def test_overdispersion_recovers_a_known_alpha():
    rng = np.random.default_rng(3)
    mu = rng.uniform(5, 200, 20_000)
    alpha = 0.3
    gamma = rng.gamma(1 / alpha, alpha * mu)
    counts = rng.poisson(gamma).astype(float)
    assert nb_overdispersion(counts, mu, trim=0.0) == pytest.approx(alpha, rel=0.1)
    assert nb_overdispersion(rng.poisson(mu).astype(float), mu, trim=0.0) < 0.02


def test_helpers_against_hand_values():
    # One degree of latitude is ~111.2 km on the mean-radius sphere.
    assert haversine_km(np.array([1.0]), np.array([0.0]), 0.0, 0.0)[0] == pytest.approx(
        111.195, rel=1e-4
    )
    assert weighted_quantile(np.array([3.0, 1.0, 2.0]), np.array([1.0, 1.0, 8.0]), 0.5) == 2.0
    assert ring_slots(1) == 6 and ring_slots(2) == 18


# --- evidence is JSON and matches the schema -------------------------------------------


def test_evidence_is_json_and_valid(planted, swapped, moved_away, venues):
    found = [f for _, fs in planted.values() for f in fs] + swapped[2] + moved_away[2]
    assert {f.kind for f in found} == KINDS
    for schema in SCHEMA.values():
        Draft202012Validator.check_schema(schema)
    for finding in found:
        text = json.dumps(finding.to_dict(), allow_nan=False)
        assert "device_id" not in text
        Draft202012Validator(SCHEMA[finding.kind]).validate(json.loads(text)["evidence"])
        assert finding.title and 2 <= finding.story.count(". ") + 1 <= 6


def test_degenerate_inputs_give_no_crash_and_no_spurious_finding():
    rng = np.random.default_rng(8)
    one = canonical(["a"], [40.7], [-74.0], [0])
    no_ids = canonical(
        [None] * 500, 40.7 + rng.normal(0, 0.02, 500), -74 + rng.normal(0, 0.02, 500), range(500)
    )
    assert run(one) == []
    assert run(no_ids) == []
