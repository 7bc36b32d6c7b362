"""device_type_changes, and device_type_skew told by the type a place's pings report:
devices whose type changes in an area (several strengths, sizes and cities, one across
the antimeridian), spread phone switches, OS versions, clean data and the real file."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from jsonschema import Draft202012Validator

from explorer.binning.cells import cell_centre, str_to_cell
from explorer.detectors.mix import DETECTORS as MIX_DETECTORS
from explorer.detectors.mix import type_family
from explorer.findings import Finding
from explorer.reading.pings import read_pings
from explorer.synth.pings import CITIES, generate_pings
from explorer.testing import km_to_nearest_cell, serious
from tests.conftest import REAL_DATA
from tests.detectors.conftest import evidence_schema, run_detectors

RES = 8
N = 150_000
KIND = "device_type_changes"
SKEW = "device_type_skew"
SCHEMA = evidence_schema("mix")
REAL = REAL_DATA
GPS_FILE = REAL / "gps_accuracy_devices_tracks.csv"
#: Taveuni, Fiji: the 180th meridian runs across the island.
TAVEUNI = (-16.8, 180.0)


def run(pings: pl.DataFrame, resolution: int = RES) -> list[Finding]:
    return run_detectors(MIX_DETECTORS, pings, resolution)


def of_kind(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def validate(findings: list[Finding]) -> None:
    for f in findings:
        Draft202012Validator(SCHEMA[f.kind]).validate(
            json.loads(json.dumps(f.evidence, allow_nan=False))
        )


def km_between(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Haversine distances in km (right across the antimeridian)."""
    p, p0, dlon = np.radians(lat), np.radians(lat0), np.radians(lon - lon0)
    h = np.sin((p - p0) / 2) ** 2 + np.cos(p) * np.cos(p0) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))


def at_place(lat0: float, lon0: float, dx_km, dy_km) -> tuple:
    """The points ``dx_km`` east and ``dy_km`` north of (lat0, lon0), longitude wrapped."""
    lat = lat0 + np.asarray(dy_km) / 110.574
    lon = lon0 + np.asarray(dx_km) / (111.320 * np.cos(np.radians(lat0)))
    return lat, (lon + 180.0) % 360.0 - 180.0


@functools.cache
def city_pings(city: str, seed: int) -> pl.DataFrame:
    return generate_pings(N, city=city, seed=seed).pings


@functools.cache
def island_pings(seed: int, scale: float = 0.35) -> pl.DataFrame:
    """A synthetic city shrunk to an island's size and moved onto the 180th meridian."""
    city = CITIES["new_york"]
    pings = city_pings("new_york", seed)
    dy = (pings["lat"].to_numpy() - city.lat) * 110.574 * scale
    dx = (pings["lon"].to_numpy() - city.lon) * 111.320 * np.cos(np.radians(city.lat)) * scale
    lat, lon = at_place(*TAVEUNI, dx, dy)
    return pings.with_columns(lat=pl.Series(lat), lon=pl.Series(lon))


def plant_type_changes(
    pings: pl.DataFrame, place: tuple[float, float], radius_km: float, share: float, seed: int
) -> tuple[pl.DataFrame, int]:
    """A ``share`` of the android devices seen within ``radius_km`` of ``place`` report
    ios there (a second SDK for that area); also returns how many devices then carry
    both types (those with pings inside and outside the area)."""
    inside = pl.Series(km_between(pings["lat"].to_numpy(), pings["lon"].to_numpy(), *place))
    inside = inside <= radius_km
    android = pings.filter(inside & (pl.col("device_type") == "android"))["device_id"]
    candidates = android.unique().sort()
    rng = np.random.default_rng(seed)
    chosen = candidates.filter(pl.Series(rng.random(len(candidates)) < share)).implode()
    flip = inside & pings["device_id"].is_in(chosen)
    planted = pings.with_columns(
        device_type=pl.when(flip).then(pl.lit("ios")).otherwise(pl.col("device_type"))
    )
    both = planted.filter(pl.col("device_id").is_in(chosen)).group_by("device_id")
    changing = both.agg(pl.col("device_type").n_unique())["device_type"].eq(2).sum()
    return planted, int(changing)


# --- known answers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("ios", "ios"),
        ("iOS 17.4", "ios"),
        ("windows 10", "windows"),
        ("Windows 11", "windows"),
        ("android13", "android"),
        ("harmonyos_4.0", "harmonyos"),
        ("dedicated_gps_handheld", "dedicated_gps_handheld"),
        ("  ", "unknown"),
    ],
)
def test_type_family_drops_versions_only(name, family) -> None:
    assert type_family(name) == family


# --- planted: a type that changes with place --------------------------------------------


@pytest.mark.parametrize(
    ("city", "seed", "share", "radius_km"),
    [
        ("new_york", 1, 0.02, 0.5),
        ("london", 2, 0.10, 1.0),
        ("sao_paulo", 3, 0.50, 2.0),
        ("new_york", 4, 0.50, 1.0),
        ("london", 5, 0.50, 0.5),
        ("sao_paulo", 6, 0.10, 2.0),
    ],
)
def test_planted_changes_are_counted_and_placed(city, seed, share, radius_km) -> None:
    c = CITIES[city]
    place = at_place(c.lat, c.lon, 1.5, -1.0)
    pings, changing = plant_type_changes(city_pings(city, seed), place, radius_km, share, seed)
    assert changing >= 1
    findings = run(pings)
    found = of_kind(findings, KIND)
    assert len(found) == 1
    ev = found[0].evidence
    # The summary keeps every device's types: the count is exact.
    assert ev["changing_devices"] == changing
    assert ev["pairs"][0]["types"] == ["android", "ios"] or changing <= 3
    low, high = ev["share_ci"]
    assert low <= ev["share"] <= high
    # Where the other type sits: the cell holding most of it is in or next to the area.
    top = cell_centre(str_to_cell(ev["top_cells"][0]["cell"]))
    assert km_between(np.array([top[0]]), np.array([top[1]]), *place)[0] < radius_km + 1.0
    if found[0].cells:
        assert km_to_nearest_cell(found[0], *place) < radius_km + 1.0
    if changing >= 40:
        assert found[0].severity in ("medium", "high")
    if changing < 10:
        assert found[0].severity == "low"
    validate(findings)


@pytest.mark.parametrize(
    ("city", "seed", "radius_km"),
    [("new_york", 7, 0.5), ("sao_paulo", 8, 0.75), ("london", 9, 1.0)],
)
def test_issue_shape_skew_in_pings_of_devices_android_elsewhere(city, seed, radius_km) -> None:
    # A ~1 km area where nearly every ping says iOS while its devices are android elsewhere.
    c = CITIES[city]
    place = at_place(c.lat, c.lon, -2.0, 1.0)
    pings, changing = plant_type_changes(city_pings(city, seed), place, radius_km, 0.95, seed)
    findings = run(pings)
    skews = [f for f in serious(findings, SKEW) if km_to_nearest_cell(f, *place) < 1.5]
    assert len(skews) == 1
    ev = skews[0].evidence
    assert ev["measure"] == "ping_type"
    assert ev["device_type"] == "ios"
    assert ev["area_ping_mix"]["ios"] > ev["regional_ping_mix"]["ios"] + 0.15
    assert ev["area_ping_type_mix"]["ios"] > ev["area_main_type_mix"]["ios"] + 0.1
    assert ev["share_difference"] == pytest.approx(ev["area_share"] - ev["reference_share"])
    changes = serious(findings, KIND)
    assert len(changes) == 1 and changes[0].evidence["changing_devices"] == changing
    assert km_to_nearest_cell(changes[0], *place) < radius_km + 1.0
    validate(findings)


# --- across the antimeridian ------------------------------------------------------------


def test_island_on_the_180th_meridian_is_clean() -> None:
    pings = island_pings(10)
    assert (pings["lon"] > 179.9).sum() > 1000 and (pings["lon"] < -179.9).sum() > 1000
    findings = run(pings)
    assert of_kind(findings, KIND) == []
    assert serious(findings) == []


@pytest.mark.parametrize(
    ("seed", "radius_km", "skew_told"), [(10, 0.5, True), (11, 1.0, True), (12, 2.0, False)]
)
def test_changes_across_the_antimeridian_are_one_area(seed, radius_km, skew_told) -> None:
    # The area sits on longitude 180: its cells lie on both sides of the jump.
    lat, lon = at_place(*TAVEUNI, 0.0, 3.0)
    place = (float(lat), float(lon))
    pings, changing = plant_type_changes(island_pings(seed), place, radius_km, 0.95, seed)
    findings = run(pings)
    changes = serious(findings, KIND)
    assert len(changes) == 1 and changes[0].evidence["changing_devices"] == changing
    lons = [cell_centre(str_to_cell(c))[1] for c in changes[0].cells]
    assert min(lons) < -179.9 and max(lons) > 179.9
    assert km_to_nearest_cell(changes[0], *place) < 1.0
    # A 2 km area is a sixth of this island: "around it" is mostly itself, so only the
    # changes are told as medium or high there.
    if skew_told:
        skews = [f for f in serious(findings, SKEW) if km_to_nearest_cell(f, *place) < 1.5]
        assert len(skews) == 1 and skews[0].evidence["measure"] == "ping_type"
        skew_lons = [cell_centre(str_to_cell(c))[1] for c in skews[0].cells]
        assert min(skew_lons) < -179.9 and max(skew_lons) > 179.9
    validate(findings)


# --- what is not an alarm ---------------------------------------------------------------


def test_clean_data_has_no_type_changes_and_no_serious_skew(clean) -> None:
    for key, pings in clean.items():
        findings = run(pings)
        assert of_kind(findings, KIND) == [], key
        assert serious(findings) == [], key


def test_phone_switches_spread_over_the_city_stay_low(clean) -> None:
    # 0.5 % of devices move to the other platform halfway through, each once.
    pings = clean[("sao_paulo", 1)]
    devices = pings["device_id"].unique().sort()
    rng = np.random.default_rng(3)
    chosen = devices.filter(pl.Series(rng.random(len(devices)) < 0.005)).implode()
    middle = pings["timestamp"].min() + (pings["timestamp"].max() - pings["timestamp"].min()) / 2
    later = pl.col("device_id").is_in(chosen) & (pl.col("timestamp") > middle)
    other = pl.when(pl.col("device_type") == "ios").then(pl.lit("android")).otherwise(pl.lit("ios"))
    switched = pings.with_columns(
        device_type=pl.when(later).then(other).otherwise(pl.col("device_type"))
    )
    findings = run(switched)
    (found,) = of_kind(findings, KIND)
    assert found.severity == "low"
    assert found.evidence["interleaved_devices"] == 0
    assert found.evidence["sequential_devices"] == found.evidence["changing_devices"] > 5
    assert found.cells == ()
    assert serious(findings) == []
    validate(findings)


def test_os_version_updates_are_not_changes(clean) -> None:
    # Types kept as a vendor wrote them: some devices go from "iOS 17.4" to "iOS 17.5"
    # and from "Android 13" to "Android 14" halfway through.
    pings = clean[("new_york", 2)]
    middle = pings["timestamp"].sort()[pings.height // 2]
    updated = pl.col("device_id").str.starts_with("a") & (pl.col("timestamp") > middle)
    versioned = pings.with_columns(
        device_type=pl.when(pl.col("device_type") == "ios")
        .then(pl.when(updated).then(pl.lit("iOS 17.5")).otherwise(pl.lit("iOS 17.4")))
        .otherwise(pl.when(updated).then(pl.lit("Android 14")).otherwise(pl.lit("Android 13")))
    )
    assert of_kind(run(versioned), KIND) == []


# --- the real file ----------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize("path", [GPS_FILE] if GPS_FILE.exists() else [])
def test_real_gps_devices_each_keep_their_class(path: Path) -> None:
    # Eight receivers, each one class all along: no change, and too few for a skew.
    mapping = {"device_id": "device", "timestamp": "time", "device_type": "device_class"}
    findings = run(read_pings(path, columns=mapping).pings)
    assert of_kind(findings, KIND) == []
    assert serious(findings, SKEW) == []


@pytest.mark.realdata
@pytest.mark.parametrize("path", [GPS_FILE] if GPS_FILE.exists() else [])
def test_real_gps_routes_as_ids_carry_several_classes(path: Path) -> None:
    # The route letter as the id: each id is eight receivers of four classes logging at
    # once, so both ids change type back and forth, the artefact this kind is for.
    mapping = {"device_id": "route", "timestamp": "time", "device_type": "device_class"}
    findings = run(read_pings(path, columns=mapping).pings)
    (found,) = of_kind(findings, KIND)
    ev = found.evidence
    assert ev["devices"] == ev["changing_devices"] == ev["interleaved_devices"] == 2
    assert found.severity == "high"
    validate(findings)
