"""Fixtures of the comparison tests: two weeks of a clean panel per city, analysed once."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest

from explorer.analysis import Analysis
from explorer.engines.choose import analyze_source
from explorer.synth.pings import generate_pings, write_pings
from tests.compare.planting import week_halves

#: Pings of the 14-day panel whose two weeks are compared (about 100,000 a week).
PANEL_PINGS = 200_000
#: One resolution for the planted cases, so that each before week is analysed once.
RESOLUTION = 8
#: The resolution of the areas at which the planted changes are placed.
AREA_RESOLUTION = 7


@pytest.fixture(scope="session")
def weeks() -> Callable[[str, int], tuple[pl.DataFrame, pl.DataFrame]]:
    """(first week, second week) of a clean 14-day panel of ``city`` at ``seed``."""
    cache: dict[tuple[str, int], tuple[pl.DataFrame, pl.DataFrame]] = {}

    def make(city: str, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        if (city, seed) not in cache:
            pings = generate_pings(PANEL_PINGS, city=city, seed=seed, days=14).pings
            cache[(city, seed)] = week_halves(pings)
        return cache[(city, seed)]

    return make


@pytest.fixture(scope="session")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Analysis]:
    """Analysis of a frame written as CSV, at ``resolution`` (default: suggested)."""
    folder = tmp_path_factory.mktemp("compare")
    written = iter(range(1_000_000))

    def analyse(frame: pl.DataFrame, resolution: int | None = RESOLUTION) -> Analysis:
        path = folder / f"pings_{next(written)}.csv"
        write_pings(frame, path)
        return analyze_source(path, resolution=resolution)

    return analyse


@pytest.fixture(scope="session")
def before_week(weeks, analysed) -> Callable[[str, int], Analysis]:
    """The first week's analysis at ``RESOLUTION``, once per city and seed."""
    cache: dict[tuple[str, int], Analysis] = {}

    def get(city: str, seed: int) -> Analysis:
        if (city, seed) not in cache:
            cache[(city, seed)] = analysed(weeks(city, seed)[0])
        return cache[(city, seed)]

    return get
