"""device_type_skew: planted alone, clean data and smooth OS gradients quiet, small
counts, devices (not pings) counted, and the evidence schema."""

from __future__ import annotations

import json
from datetime import timedelta

import h3
import numpy as np
import polars as pl
import pytest
from jsonschema import Draft202012Validator

from explorer.binning.cells import cells_to_str, latlng_to_cells
from explorer.detectors.context import Context
from explorer.detectors.mix import (
    DETECTORS,
    overall_mix,
    region_resolution,
    two_sided_binomial_p,
)
from explorer.findings import Finding
from explorer.summary import summarise
from explorer.synth.pings import generate_pings
from explorer.testing import km_to_nearest_cell, serious
from tests.detectors.conftest import START, evidence_schema, pings_from_columns, run_detectors

RES = 8
N = 200_000
KIND = "device_type_skew"
SCHEMA = evidence_schema("mix")


def run(pings: pl.DataFrame, resolution: int = RES) -> list[Finding]:
    return run_detectors(DETECTORS, pings, resolution)


def pings_of(
    devices: list[tuple[str, str, int]], lat: float, lon: float, seed: int, jitter_deg: float = 2e-4
) -> pl.DataFrame:
    """Pings of (device id, type, count) around one spot over two weeks."""
    rng = np.random.default_rng(seed)
    rows = [(d, t) for d, t, n in devices for _ in range(n)]
    n = len(rows)
    seconds = rng.integers(0, 14 * 86_400, n)
    return pings_from_columns(
        device_id=[d for d, _ in rows],
        timestamp=[START + timedelta(seconds=int(s)) for s in seconds],
        lat=lat + rng.normal(0, jitter_deg, n),
        lon=lon + rng.normal(0, jitter_deg, n),
        device_type=[t for _, t in rows],
    )


def with_os_gradient(pings: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Re-type devices so iOS runs smoothly from 20 % in the west to 80 % in the east."""
    dev = pings.group_by("device_id").agg(pl.col("lon").median()).sort("device_id")
    lo, hi = dev["lon"].quantile(0.02), dev["lon"].quantile(0.98)
    x = ((dev["lon"] - lo) / (hi - lo)).clip(0, 1).to_numpy()
    ios = np.random.default_rng(seed).random(len(x)) < 0.2 + 0.6 * x
    dev = dev.with_columns(device_type=pl.Series(np.where(ios, "ios", "android")))
    return pings.drop("device_type").join(dev.select("device_id", "device_type"), on="device_id")


def validate(findings: list[Finding]) -> None:
    validator = Draft202012Validator(SCHEMA[KIND])
    for f in findings:
        validator.validate(json.loads(json.dumps(f.evidence, allow_nan=False)))


# --- known answers ----------------------------------------------------------------------


def test_two_sided_binomial_known_answers() -> None:
    # 10 of 10 at p = 0.5: one tail is 0.5**10, doubled.
    assert two_sided_binomial_p(10, 10, 0.5) == pytest.approx(2 * 0.5**10)
    assert two_sided_binomial_p(0, 10, 0.5) == pytest.approx(2 * 0.5**10)
    assert two_sided_binomial_p(5, 10, 0.5) == pytest.approx(1.0)
    # 0 of 4 at p = 0.2: P(X <= 0) = 0.8**4, doubled.
    assert two_sided_binomial_p(0, 4, 0.2) == pytest.approx(2 * 0.8**4)


def test_region_resolution_has_an_edge_of_a_few_km() -> None:
    res = region_resolution(8, 3.0)
    assert h3.average_hexagon_edge_length(res, unit="km") >= 3.0
    assert h3.average_hexagon_edge_length(res + 1, unit="km") < 3.0
    assert region_resolution(3, 3.0) == 3


def test_overall_mix_counts_devices_not_pings() -> None:
    # One very busy iOS phone and three android phones: 25 % iOS by devices.
    pings = pings_of(
        [("a", "ios", 500), ("b", "android", 2), ("c", "android", 2), ("d", "android", 2)],
        40.75,
        -73.98,
        seed=0,
    )
    mix = overall_mix(Context(summarise(pings, RES)))
    assert mix == pytest.approx({"android": 0.75, "ios": 0.25})


# --- planted alone ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("city", "seed"), [("new_york", 0), ("new_york", 1), ("sao_paulo", 0), ("sao_paulo", 2)]
)
def test_planted_skew_found_at_its_place(city, seed) -> None:
    result = generate_pings(N, city=city, seed=seed, biases=(KIND,))
    bias = result.planted[0]
    findings = run(result.pings)
    hits = serious(findings)
    assert len(hits) == 1
    f = hits[0]
    assert km_to_nearest_cell(f, bias.lat, bias.lon) < 1.5
    ev = f.evidence
    assert ev["device_type"] == "ios"
    assert ev["area_mix"]["ios"] > 0.65
    assert ev["reference_share"] < 0.6
    assert ev["share_difference"] == pytest.approx(ev["area_share"] - ev["reference_share"])
    assert ev["difference_ci"][0] > 0.1
    assert ev["devices"] >= 30
    assert sum(ev["area_mix"].values()) == pytest.approx(1.0)
    validate(findings)


# --- quiet cases ------------------------------------------------------------------------


def test_clean_synth_has_no_medium_or_high(clean) -> None:
    for key, pings in clean.items():
        findings = run(pings)
        assert serious(findings) == [], key
        validate(findings)


def test_smooth_os_gradient_is_quiet(clean) -> None:
    for seed, key in enumerate([("new_york", 1), ("sao_paulo", 1)]):
        pings = with_os_gradient(clean[key], seed)
        # The gradient is real: iOS share differs by > 30 points between west and east.
        dev = pings.group_by("device_id").agg(pl.col("lon").median(), pl.col("device_type").first())
        west = dev.filter(pl.col("lon") < dev["lon"].quantile(0.2))
        east = dev.filter(pl.col("lon") > dev["lon"].quantile(0.8))
        share = [(d["device_type"] == "ios").mean() for d in (west, east)]
        assert share[1] - share[0] > 0.3
        assert serious(run(pings)) == [], key


def test_busy_phone_alone_on_quiet_street_is_not_a_skew(clean) -> None:
    lat, lon = 40.754 + 0.36, -73.984
    busy = pings_of([("busy-phone", "ios", 1_400)], lat, lon, seed=5)
    findings = run(pl.concat([clean[("new_york", 2)], busy]))
    cell = cells_to_str(latlng_to_cells(np.array([lat]), np.array([lon]), RES).to_list())[0]
    assert not [f for f in findings if cell in f.cells]
    assert serious(findings) == []


def test_a_handful_of_ios_devices_is_not_medium(clean) -> None:
    # Six iOS-only devices in a quiet suburban spot: lopsided, but a household or two.
    lat, lon = -23.5505 - 0.12, -46.6333 + 0.05
    six = pings_of([(f"h{i}", "ios", 30) for i in range(6)], lat, lon, seed=7)
    findings = run(pl.concat([clean[("sao_paulo", 0)], six]))
    assert serious(findings) == []


def test_planted_skew_found_at_finer_resolution() -> None:
    # At resolution 9 (~0.1 km² cells) each cell has too few devices; pooling into
    # ~0.7 km² units still finds the area, told by its resolution-9 cells.
    result = generate_pings(N, city="new_york", seed=3, biases=(KIND,))
    bias = result.planted[0]
    hits = serious(run(result.pings, resolution=9))
    assert len(hits) == 1
    assert km_to_nearest_cell(hits[0], bias.lat, bias.lon) < 1.5
    assert all(h3.get_resolution(c) == 9 for c in hits[0].cells)
    assert hits[0].evidence["device_type"] == "ios"
