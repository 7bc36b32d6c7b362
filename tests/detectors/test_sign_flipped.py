"""Sign-flipped coordinates: a mirror image of part of the data in another hemisphere.

Planted in several cities, for a share of devices (a source that drops the minus sign) or
of rows, with the latitude's, the longitude's or both signs wrong; found with their exact
count at the flipped place, never told again as distant points; clean data, swapped rows
and a real trip far away are not sign flips.
"""

from __future__ import annotations

import jsonschema
import numpy as np
import polars as pl
import pytest

from explorer.binning.cells import latlng_to_cells, str_to_cell
from explorer.detectors import DETECTORS
from explorer.synth.pings import generate_pings
from explorer.testing import serious
from tests import ping_shapes
from tests.detectors.conftest import evidence_schema, run_detectors

RES = 8
#: (latitude factor, longitude factor) of each sign error.
SIGNS = {"latitude": (-1, 1), "longitude": (1, -1), "both": (-1, -1)}


def run(pings: pl.DataFrame) -> list:
    return run_detectors(DETECTORS, pings, RES)


def flip(pings: pl.DataFrame, mask: np.ndarray, sign: str) -> pl.DataFrame:
    """``pings`` with the coordinates of the rows in ``mask`` sign-flipped."""
    a, b = SIGNS[sign]
    m = pl.Series(mask)
    return pings.with_columns(
        lat=pl.when(m).then(pl.col("lat") * a).otherwise(pl.col("lat")),
        lon=pl.when(m).then(pl.col("lon") * b).otherwise(pl.col("lon")),
    )


def devices_mask(pings: pl.DataFrame, id_column: str, share: float, seed: int) -> np.ndarray:
    """Rows of a random ``share`` of the devices: one source writes them all."""
    ids = pings[id_column].unique().sort()
    rng = np.random.default_rng(seed)
    chosen = ids.filter(pl.Series(rng.random(ids.len()) < share))
    return pings[id_column].is_in(chosen.implode()).to_numpy()


def hits_of(found: list, kind: str = "sign_flipped") -> list:
    return [f for f in found if f.kind == kind]


def assert_at_flipped_rows(hit, pings: pl.DataFrame, mask: np.ndarray) -> None:
    flipped = pings.filter(pl.Series(mask))
    where = set(latlng_to_cells(flipped["lat"], flipped["lon"], RES).to_list())
    assert {str_to_cell(c) for c in hit.cells} <= where


@pytest.mark.parametrize(
    ("city", "sign", "share"),
    [
        ("new_york", "longitude", 0.05),
        ("new_york", "latitude", 0.01),
        ("sao_paulo", "latitude", 0.006),
        ("sao_paulo", "both", 0.05),
        ("london", "latitude", 0.02),
    ],
)
def test_devices_with_a_flipped_sign_are_found_with_their_count(city, sign, share):
    pings = generate_pings(60_000, city=city, seed=11).pings
    mask = devices_mask(pings, "device_id", share, seed=2)
    assert mask.sum() >= 15
    flipped = flip(pings, mask, sign)
    found = run(flipped)
    hits = hits_of(found)
    assert len(hits) == 1, [(f.kind, f.severity, f.title) for f in found]
    hit = hits[0]
    # High once the lower bound of the share passes 0.5 %, medium from 0.05 %.
    assert hit.severity == ("high" if hit.evidence["share_low"] >= 0.005 else "medium")
    ev = hit.evidence
    assert ev["rows"] == int(mask.sum())
    assert ev["by_sign"] == {sign: int(mask.sum())}
    assert ev["devices"] == pings.filter(pl.Series(mask))["device_id"].n_unique()
    assert ev["share"] == pytest.approx(mask.mean())
    assert ev["share_low"] < ev["share"] < ev["share_high"]
    a, b = SIGNS[sign]
    example = ev["example"]
    assert (example["mirrored_lat"], example["mirrored_lon"]) == (
        a * example["lat"],
        b * example["lon"],
    )
    assert_at_flipped_rows(hit, flipped, mask)
    # Told once: not again as distant points or as swapped rows.
    assert not hits_of(found, "distant_points")
    assert not hits_of(found, "swapped_coordinates")
    jsonschema.validate(ev, evidence_schema("mirrors")["sign_flipped"])


@pytest.mark.parametrize("city", ["sydney", "tokyo", "cairo", "moscow"])
def test_flipped_rows_are_found_in_small_files_of_other_cities(city):
    pings = ping_shapes.pings(city, n=3_000, seed=4, devices=60).rename({"t": "timestamp"})
    pings = pings.select(
        device_id=pl.col("device"),
        timestamp=pl.from_epoch("timestamp", time_unit="s").dt.replace_time_zone("UTC"),
        lat="lat",
        lon="lon",
        device_type=pl.col("os").str.split(" ").list.first().str.to_lowercase(),
    )
    mask = np.random.default_rng(5).random(pings.height) < 0.03
    flipped = flip(pings, mask, "latitude" if city != "moscow" else "longitude")
    hits = hits_of(run(flipped))
    assert len(hits) == 1 and hits[0].severity in ("medium", "high")
    # A flipped row whose true place no other ping shares (the sparse edge of a small
    # file) mirrors into nothing: at most a few are missed, none is invented.
    assert 0.95 * mask.sum() <= hits[0].evidence["rows"] <= mask.sum()
    assert_at_flipped_rows(hits[0], flipped, mask)


def test_a_few_rows_are_low_and_two_are_nothing():
    pings = generate_pings(60_000, city="new_york", seed=12).pings
    few = np.zeros(pings.height, dtype=bool)
    few[[10, 500, 9_000, 30_000, 50_000]] = True
    hits = hits_of(run(flip(pings, few, "longitude")))
    assert len(hits) == 1 and hits[0].severity == "low" and hits[0].evidence["rows"] == 5
    two = np.zeros(pings.height, dtype=bool)
    two[[10, 500]] = True
    assert not hits_of(run(flip(pings, two, "longitude")))


@pytest.mark.parametrize("city", ["new_york", "sao_paulo", "london"])
def test_clean_data_has_no_sign_flip(city):
    found = run(generate_pings(60_000, city=city, seed=13).pings)
    assert not hits_of(found)
    assert serious(found) == []


def test_swapped_rows_stay_swapped_and_a_real_trip_is_no_flip():
    pings = generate_pings(60_000, city="new_york", seed=14).pings
    mask = np.random.default_rng(1).random(pings.height) < 0.01
    m = pl.Series(mask)
    swapped = pings.with_columns(
        lat=pl.when(m).then(pl.col("lon")).otherwise(pl.col("lat")),
        lon=pl.when(m).then(pl.col("lat")).otherwise(pl.col("lon")),
    )
    found = run(swapped)
    assert hits_of(found, "swapped_coordinates") and not hits_of(found)
    # Some devices' every ping 10° north (a trip, or another city) mirrors into nothing.
    moved = pings.with_columns(lat=pl.when(m).then(pl.col("lat") + 10).otherwise(pl.col("lat")))
    found = run(moved)
    assert hits_of(found, "distant_points") and not hits_of(found)
