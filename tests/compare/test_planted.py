"""Each change kind planted alone in the after week, at several strengths and in several
cities, is found at the right place with the right severity."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from explorer.binning.cells import cells_to_parent, str_to_cell
from explorer.compare import compare_analyses
from explorer.synth.panel_biases import cut_after, densify_after
from tests.compare.conftest import AREA_RESOLUTION
from tests.compare.planting import (
    add_pileup,
    busy_area,
    drop_area_devices,
    shift_area_hours,
    switch_area_type,
)

CITIES = [("new_york", 1), ("singapore", 2)]
_RANK = {"high": 0, "medium": 1, "low": 2}


def _at_least(severity: str, level: str) -> bool:
    return _RANK[severity] <= _RANK[level]


def _compare(city, seed, plant, weeks, analysed, before_week):
    after = plant(weeks(city, seed)[1])
    return compare_analyses(before_week(city, seed), analysed(after))


def _covers(change, area: int) -> bool:
    """Whether the change's cells are (or lie inside) ``area``."""
    for cell in change.cells:
        value = str_to_cell(cell)
        parent = cells_to_parent(pl.Series([value], dtype=pl.UInt64), AREA_RESOLUTION)[0]
        if int(parent) == area:
            return True
    return False


def _serious_kinds(comparison) -> set[str]:
    return {c.kind for c in comparison.changes if c.severity in ("high", "medium")}


@pytest.mark.parametrize(("city", "seed"), CITIES)
@pytest.mark.parametrize(("share", "level"), [(1.0, "high"), (0.6, "medium")])
def test_devices_dropped_in_one_district(city, seed, share, level, weeks, analysed, before_week):
    area = busy_area(weeks(city, seed)[1], AREA_RESOLUTION)
    comparison = _compare(
        city,
        seed,
        lambda w: drop_area_devices(w, area, AREA_RESOLUTION, share, seed),
        weeks,
        analysed,
        before_week,
    )
    found = [c for c in comparison.changes if c.kind == "area_share_changed"]
    assert found and found[0].evidence["direction"] == "fell"
    assert _covers(found[0], area)
    assert _at_least(found[0].severity, level)
    assert _serious_kinds(comparison) == {"area_share_changed"}


@pytest.mark.parametrize(("city", "seed"), CITIES)
@pytest.mark.parametrize(("share", "level"), [(1.0, "high"), (0.6, "medium")])
def test_an_areas_devices_switched_to_one_os(
    city, seed, share, level, weeks, analysed, before_week
):
    area = busy_area(weeks(city, seed)[1], AREA_RESOLUTION)
    comparison = _compare(
        city,
        seed,
        lambda w: switch_area_type(w, area, AREA_RESOLUTION, share, "ios", seed),
        weeks,
        analysed,
        before_week,
    )
    found = [c for c in comparison.changes if c.kind == "area_mix_changed"]
    assert found and found[0].subject == "device_type"
    assert _covers(found[0], area)
    assert _at_least(found[0].severity, level)
    evidence = found[0].evidence
    assert evidence["after_mix"]["ios"] > evidence["before_mix"]["ios"] + 0.2
    # No panel-wide change is claimed for one district's relabelling.
    assert not any(c.kind == "panel_changed" for c in comparison.changes)


@pytest.mark.parametrize(("city", "seed"), CITIES)
def test_an_areas_hours_moved(city, seed, weeks, analysed, before_week):
    area = busy_area(weeks(city, seed)[1], AREA_RESOLUTION)
    comparison = _compare(
        city,
        seed,
        lambda w: shift_area_hours(w, area, AREA_RESOLUTION, 6),
        weeks,
        analysed,
        before_week,
    )
    found = [c for c in comparison.changes if c.kind == "area_mix_changed"]
    assert found and found[0].subject == "hours" and _covers(found[0], area)
    assert _at_least(found[0].severity, "medium")


@pytest.mark.parametrize(("city", "seed"), CITIES)
@pytest.mark.parametrize(("factor", "level"), [(2.0, "high"), (1.5, "medium")])
def test_pings_per_device_densified(city, seed, factor, level, weeks, analysed, before_week):
    comparison = _compare(
        city,
        seed,
        lambda w: densify_after(w, w["timestamp"].min(), factor, seed),
        weeks,
        analysed,
        before_week,
    )
    found = [c for c in comparison.changes if c.kind == "panel_changed"]
    assert [c.subject for c in found if _at_least(c.severity, "medium")] == ["pings_per_device"]
    assert _at_least(found[0].severity, level)
    assert found[0].evidence["change_ratio_low"] > 1.25
    # Denser tracking moves no area's share of devices: devices count once each.
    assert not any(
        c.kind == "area_share_changed" and c.severity != "low" for c in comparison.changes
    )


@pytest.mark.parametrize(("city", "seed"), CITIES)
@pytest.mark.parametrize(("days", "level"), [(4, "high"), (2, "medium")])
def test_a_period_shorter_by_days(city, seed, days, level, weeks, analysed, before_week):
    comparison = _compare(
        city,
        seed,
        lambda w: cut_after(w, w["timestamp"].max() - dt.timedelta(days=days)),
        weeks,
        analysed,
        before_week,
    )
    found = [c for c in comparison.changes if c.kind == "panel_changed" and c.subject == "period"]
    assert len(found) == 1 and found[0].severity == level
    assert found[0].evidence["before_days"] - found[0].evidence["after_days"] == pytest.approx(
        days, abs=0.1
    )
    assert found[0].period is not None


@pytest.mark.parametrize(("city", "seed"), CITIES)
@pytest.mark.parametrize(("devices", "level"), [(300, "high"), (100, "medium")])
def test_a_pileup_added_after(city, seed, devices, level, weeks, analysed, before_week):
    week = weeks(city, seed)[1]
    lat, lon = float(week["lat"].median()) + 0.02, float(week["lon"].median()) + 0.03
    comparison = _compare(
        city,
        seed,
        lambda w: add_pileup(w, lat, lon, devices, 0.3, seed),
        weeks,
        analysed,
        before_week,
    )
    found = [
        c
        for c in comparison.changes
        if c.kind == "finding_appeared" and c.subject == "coordinate_pileup"
    ]
    assert len(found) == 1 and _at_least(found[0].severity, level)
    finding = found[0].evidence["after_finding"]
    assert finding["kind"] == "coordinate_pileup" and found[0].cells == tuple(finding["cells"])
