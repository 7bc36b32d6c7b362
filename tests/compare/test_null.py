"""Null comparisons are quiet: a file with itself, two random halves of one delivery
(split by device), and two consecutive weeks of a clean panel give no medium or high
change, in several cities and seeds."""

from __future__ import annotations

import pytest

from explorer.compare import compare_analyses, compare_sources
from explorer.synth.pings import write_pings
from tests.compare.planting import device_halves

CITIES = [("new_york", 1), ("sao_paulo", 5), ("singapore", 2), ("london", 3)]


def _serious(comparison) -> list[tuple[str, str, str]]:
    return [
        (c.kind, c.severity, c.title)
        for c in comparison.changes
        if c.severity in ("high", "medium")
    ]


@pytest.mark.parametrize(("city", "seed"), CITIES[:2])
def test_a_file_compared_with_itself_has_no_change_at_all(city, seed, weeks, tmp_path):
    path = tmp_path / "week.csv"
    write_pings(weeks(city, seed)[1], path)
    comparison = compare_sources(path, path)
    assert comparison.changes == []
    assert len(comparison.matches) == len(comparison.after.findings)
    assert all(m.before.id == m.after.id for m in comparison.matches)


@pytest.mark.parametrize(("city", "seed"), CITIES)
def test_two_random_device_halves_of_one_delivery_are_quiet(city, seed, weeks, tmp_path):
    first, second = device_halves(weeks(city, seed)[0], seed)
    write_pings(first, tmp_path / "a.csv")
    write_pings(second, tmp_path / "b.csv")
    comparison = compare_sources(tmp_path / "a.csv", tmp_path / "b.csv")
    assert _serious(comparison) == []


@pytest.mark.parametrize(("city", "seed"), CITIES)
def test_two_consecutive_weeks_of_a_clean_panel_are_quiet(city, seed, weeks, analysed, before_week):
    comparison = compare_analyses(before_week(city, seed), analysed(weeks(city, seed)[1]))
    assert _serious(comparison) == []
    # The panel's figures were compared, and found alike.
    figures = comparison.panel["pings_per_device"]
    assert figures["change_ratio_low"] < 1 < figures["change_ratio_high"] or (
        0.95 < figures["change_ratio"] < 1.05
    )
