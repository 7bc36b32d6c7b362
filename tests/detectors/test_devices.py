"""device_concentration: planted alone, clean data quiet, busy-but-normal phones,
few outlier devices, data-set-wide concentration and the evidence schema."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from jsonschema import Draft202012Validator

from explorer.binning.cells import cells_to_str, latlng_to_cells
from explorer.detectors.devices import DETECTORS, concentration_curve
from explorer.findings import Finding
from explorer.synth.pings import generate_pings
from explorer.testing import km_to_nearest_cell, serious
from tests.detectors.conftest import START, evidence_schema, pings_from_columns, run_detectors

RES = 8
N = 200_000
KIND = "device_concentration"
SCHEMA = evidence_schema("devices")
DAYS = 14


def run(pings: pl.DataFrame) -> list[Finding]:
    return run_detectors(DETECTORS, pings, RES)


def one_device(
    device_id: str,
    n: int,
    lat: float,
    lon: float,
    seed: int,
    device_type: str = "ios",
    jitter_deg: float = 1e-4,
) -> pl.DataFrame:
    """``n`` pings of one device around a spot, spread evenly over ``DAYS`` days."""
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.integers(0, DAYS * 86_400, n))
    return pings_from_columns(
        device_id=[device_id] * n,
        timestamp=[START + timedelta(seconds=int(s)) for s in seconds],
        lat=lat + rng.normal(0, jitter_deg, n),
        lon=lon + rng.normal(0, jitter_deg, n),
        device_type=[device_type] * n,
    )


def validate(findings: list[Finding]) -> None:
    validator = Draft202012Validator(SCHEMA[KIND])
    for f in findings:
        evidence = json.loads(json.dumps(f.evidence, allow_nan=False))
        validator.validate(evidence)
        assert "device-" in f.evidence.get("device", "device-")


# --- shared data (generated once per module) -------------------------------------------


@pytest.fixture(scope="module")
def planted():
    out = {}
    for city in ("new_york", "sao_paulo"):
        result = generate_pings(N, city=city, seed=1, biases=(KIND,))
        out[city] = (result, run(result.pings))
    return out


# --- known answers ----------------------------------------------------------------------


def test_concentration_curve_known_answer() -> None:
    # 4 devices: 50, 30, 10, 10 pings of 100. Top 25 % = 1 device = 50 %.
    curve = concentration_curve(np.array([10, 50, 10, 30]), (0.01, 0.25, 0.5, 1.0))
    assert [p["pings"] for p in curve] == pytest.approx([0.5, 0.5, 0.8, 1.0])
    assert [p["devices"] for p in curve] == [0.01, 0.25, 0.5, 1.0]
    assert concentration_curve(np.array([]), (0.5,)) == []


# --- planted alone ----------------------------------------------------------------------


@pytest.mark.parametrize("city", ["new_york", "sao_paulo"])
def test_planted_device_found_at_its_cell(planted, city) -> None:
    result, findings = planted[city]
    bias = result.planted[0]
    hits = [f for f in serious(findings) if f.evidence["scope"] == "cell"]
    assert len(hits) == 1
    f = hits[0]
    assert f.severity == "high"
    assert km_to_nearest_cell(f, bias.lat, bias.lon) < 1.5
    assert f.evidence["device_pings"] == bias.rows == 15_000
    # 15,000 pings over 14 or 15 active local days.
    assert 15_000 / 15 <= f.evidence["pings_per_day"] <= 15_000 / 14
    assert f.evidence["cell_share"] > 0.8
    assert f.evidence["ratio"] > 100
    validate(findings)


def test_planted_device_is_the_only_finding_and_story_names_a_label(planted) -> None:
    result, findings = planted["new_york"]
    device_id = result.pings.group_by("device_id").len().sort("len")["device_id"][-1]
    for f in findings:
        assert device_id not in f.story and device_id not in f.title
        assert device_id not in json.dumps(f.evidence)
    # The remedy in words; the command line is the Markdown report's (cli_remedy).
    assert "a cleaned copy of the file leaves them out" in serious(findings)[0].story
    assert "--drop" not in serious(findings)[0].story


# --- clean data quiet -------------------------------------------------------------------


def test_clean_synth_has_no_medium_or_high(clean) -> None:
    for key, pings in clean.items():
        findings = run(pings)
        assert serious(findings) == [], key
        validate(findings)


def test_busy_phone_alone_on_quiet_street_is_not_a_finding(clean) -> None:
    base = clean[("new_york", 0)]
    # 40 km from the centre: nobody else there. 100 pings a day is busy but within the
    # heavy tail of real phones (clean data has phones with 100-300 a day).
    lat, lon = 40.754 + 0.36, -73.984
    busy = one_device("busy-phone", 100 * DAYS, lat, lon, seed=3)
    findings = run(pl.concat([base, busy]))
    cell = cells_to_str(latlng_to_cells(np.array([lat]), np.array([lon]), RES).to_list())[0]
    assert not [f for f in findings if cell in f.cells]
    assert serious(findings) == []


def test_few_outlier_devices_in_one_cell_form_one_finding(clean) -> None:
    base = clean[("sao_paulo", 2)]
    lat, lon = -23.60, -46.70
    pair = pl.concat(
        [
            one_device("a", 7_000, lat, lon, seed=1),
            one_device("b", 6_500, lat, lon, seed=2, device_type="android"),
        ]
    )
    findings = [f for f in serious(run(pl.concat([base, pair]))) if f.evidence["scope"] == "cell"]
    assert len(findings) == 1
    f = findings[0]
    assert f.evidence["outlier_devices"] == 2
    assert f.evidence["device_pings"] == 7_000
    assert km_to_nearest_cell(f, lat, lon) < 1.5
    cell_pings = f.evidence["cell_pings"]
    assert f.evidence["cell_share"] == pytest.approx(13_500 / cell_pings)


# --- data-set-wide ----------------------------------------------------------------------


def test_extreme_dataset_concentration_is_high_with_curve() -> None:
    rng = np.random.default_rng(0)
    parts = [one_device(f"heavy{i}", 9_000, 40.70 + 0.05 * i, -73.95, seed=i) for i in range(2)]
    # 198 ordinary devices with 10 pings each, scattered over the city.
    for i in range(198):
        parts.append(
            one_device(
                f"d{i}",
                10,
                40.6 + 0.2 * rng.random(),
                -74.0 + 0.2 * rng.random(),
                seed=100 + i,
                jitter_deg=0.01,
            )
        )
    findings = run(pl.concat(parts))
    dataset = [f for f in findings if f.evidence["scope"] == "dataset"]
    assert len(dataset) == 1
    f = dataset[0]
    # Top 1 % of 200 devices = 2 devices = 18,000 of 19,980 pings.
    assert f.evidence["top_ping_share"] == pytest.approx(18_000 / 19_980)
    assert f.evidence["top_devices"] == 2
    assert f.severity == "high"
    assert f.cells == ()
    curve = {p["devices"]: p["pings"] for p in f.evidence["curve"]}
    assert curve[1.0] == pytest.approx(1.0)
    assert curve[0.5] == pytest.approx((18_000 + 98 * 10) / 19_980)
    validate(findings)


def test_too_few_devices_no_outlier_call() -> None:
    # 10 devices: quantiles of the device distribution mean nothing; one heavy phone alone.
    parts = [one_device(f"d{i}", 20, 40.7, -73.9 + 0.01 * i, seed=i) for i in range(9)]
    parts.append(one_device("heavy", 5_000, 40.8, -73.9, seed=99))
    assert run(pl.concat(parts)) == []
