"""coordinate_precision and duplicate_pings: planted alone, clean data quiet, hand-built
known answers (GPS rounding to 5-6 decimals is fine, (0, 0) is not a grid) and schema."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from jsonschema import Draft202012Validator

from explorer.detectors.quality import DETECTORS, grid_metres
from explorer.findings import Finding
from explorer.synth.pings import generate_pings
from explorer.testing import serious
from tests.detectors.conftest import START, evidence_schema, pings_from_columns, run_detectors

RES = 8
N = 200_000
SCHEMA = evidence_schema("quality")


def run(pings: pl.DataFrame) -> list[Finding]:
    return run_detectors(DETECTORS, pings, RES)


def of_kind(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def validate(findings: list[Finding]) -> None:
    for f in findings:
        evidence = json.loads(json.dumps(f.evidence, allow_nan=False))
        Draft202012Validator(SCHEMA[f.kind]).validate(evidence)


def city_pings(n_devices: int, per_device: int, seed: int) -> pl.DataFrame:
    """Pings with full-precision coordinates, ``per_device`` per device, distinct instants."""
    rng = np.random.default_rng(seed)
    n = n_devices * per_device
    return pings_from_columns(
        device_id=[f"d{i // per_device}" for i in range(n)],
        timestamp=[START + timedelta(seconds=int(s)) for s in rng.permutation(n) * 7],
        lat=40.7 + rng.random(n) * 0.1,
        lon=-74.0 + rng.random(n) * 0.1,
        device_type=["ios"] * n,
    )


def test_grid_metres_known_answers() -> None:
    assert grid_metres(3) == pytest.approx(111.32)
    assert grid_metres(2) == pytest.approx(1113.2)
    assert grid_metres(6) == pytest.approx(0.11132)


# --- coordinate_precision ---------------------------------------------------------------


@pytest.mark.parametrize("city", ["new_york", "sao_paulo"])
def test_planted_truncation_found(city) -> None:
    result = generate_pings(N, city=city, seed=0, biases=("coordinate_precision",))
    findings = run(result.pings)
    hits = serious(of_kind(findings, "coordinate_precision"))
    assert len(hits) == 1
    ev = hits[0].evidence
    # A quarter of devices truncate: the planter picks round(0.25 * devices).
    assert ev["device_share"] == pytest.approx(0.25, abs=0.005)
    assert ev["typical_decimals"] == 3
    assert ev["grid_metres"] == pytest.approx(111.32)
    assert "111 m" in hits[0].title
    assert sum(ev["decimals_histogram"]) == result.pings.height
    assert ev["coarse_pings"] == pytest.approx(result.planted[0].rows, rel=0.01)
    validate(findings)


def test_hand_built_truncation_known_shares() -> None:
    pings = city_pings(n_devices=100, per_device=20, seed=1)
    coarse = pings["device_id"].is_in([f"d{i}" for i in range(30)]).to_numpy()
    # Truncate in numpy (true division): 40.79 must be the double nearest 40.79.
    lat, lon = pings["lat"].to_numpy(), pings["lon"].to_numpy()
    pings = pings.with_columns(
        lat=pl.Series(np.where(coarse, np.floor(lat * 100) / 100, lat)),
        lon=pl.Series(np.where(coarse, np.floor(lon * 100) / 100, lon)),
    )
    found = of_kind(run(pings), "coordinate_precision")
    assert len(found) == 1
    ev = found[0].evidence
    assert ev["coarse_devices"] == 30
    assert ev["device_share"] == pytest.approx(0.3)
    assert ev["coarse_pings"] == 600
    assert ev["ping_share"] == pytest.approx(600 / 2000)
    assert ev["typical_decimals"] == 2
    assert ev["grid_metres"] == pytest.approx(1113.2)
    assert found[0].severity == "high"


@pytest.mark.parametrize("decimals", [5, 6])
def test_uniform_gps_rounding_is_not_flagged(clean, decimals) -> None:
    pings = clean[("new_york", 0)].with_columns(
        pl.col("lat").round(decimals), pl.col("lon").round(decimals)
    )
    assert of_kind(run(pings), "coordinate_precision") == []


def test_exact_zero_is_not_a_grid() -> None:
    pings = city_pings(n_devices=50, per_device=20, seed=2)
    zero = pl.Series(np.arange(pings.height) % 50 == 0)  # 2 % of rows at (0, 0)
    pings = pings.with_columns(
        lat=pl.when(zero).then(0.0).otherwise(pl.col("lat")),
        lon=pl.when(zero).then(0.0).otherwise(pl.col("lon")),
    )
    assert of_kind(run(pings), "coordinate_precision") == []


# --- duplicate_pings --------------------------------------------------------------------


@pytest.mark.parametrize("city", ["new_york", "sao_paulo"])
def test_planted_duplicates_found(city) -> None:
    result = generate_pings(N, city=city, seed=1, biases=("duplicate_pings",))
    findings = run(result.pings)
    hits = serious(of_kind(findings, "duplicate_pings"))
    assert len(hits) == 1
    ev = hits[0].evidence
    copies = result.planted[0].rows
    assert ev["extra_copies"] == copies
    assert ev["share"] == pytest.approx(copies / result.pings.height)
    assert ev["max_copies"] == 2
    assert "Drop the duplicate rows" in hits[0].story and "python -m" not in hits[0].story
    validate(findings)


def test_hand_built_duplicates_known_answer() -> None:
    pings = city_pings(n_devices=10, per_device=10, seed=3)
    # Row 0 and row 1 written twice, row 2 three times: 4 extra copies of 104 rows.
    pings = pl.concat([pings, pings[[0, 1, 2, 2]]])
    found = of_kind(run(pings), "duplicate_pings")
    assert len(found) == 1
    ev = found[0].evidence
    assert ev["duplicate_rows"] == 3
    assert ev["extra_copies"] == 4
    assert ev["rows"] == 104
    assert ev["share"] == pytest.approx(4 / 104)
    assert ev["max_copies"] == 3
    assert ev["copies_histogram"] == {"2": 2, "3": 1}
    assert found[0].severity == "medium"


def test_no_duplicates_no_finding() -> None:
    assert of_kind(run(city_pings(n_devices=10, per_device=10, seed=4)), "duplicate_pings") == []


# --- clean data quiet -------------------------------------------------------------------


def test_clean_synth_has_no_medium_or_high(clean) -> None:
    for key, pings in clean.items():
        findings = run(pings)
        assert serious(findings) == [], key
        validate(findings)
