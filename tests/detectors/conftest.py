"""Shared data and helpers for the detector tests.

The ``clean`` fixture is found by pytest; the helpers are imported:
``from tests.detectors.conftest import START, evidence_schema, run_detectors, ...``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from explorer.detectors.context import Context
from explorer.findings import Finding
from explorer.summary import summarise
from explorer.synth.pings import generate_pings
from tests.conftest import ROOT

#: Pings in each clean synthetic city of the ``clean`` fixture.
CLEAN_PINGS = 200_000
SCHEMA_DIR = ROOT / "explorer" / "reports" / "schemas"
#: The first instant of hand-built pings (the synthetic data's first day too).
START = datetime(2024, 6, 3, tzinfo=UTC)


def evidence_schema(family: str) -> dict[str, Any]:
    """The evidence schemas of a family of detectors (``evidence_<family>.json``), by kind."""
    return json.loads((SCHEMA_DIR / f"evidence_{family}.json").read_text())


def pings_from_columns(
    device_id: Sequence[str],
    timestamp: Sequence[datetime],
    lat: Sequence[float],
    lon: Sequence[float],
    device_type: Sequence[str],
) -> pl.DataFrame:
    """Canonical pings from parallel columns, the instants in microseconds as read."""
    frame = pl.DataFrame(
        {
            "device_id": device_id,
            "timestamp": timestamp,
            "lat": lat,
            "lon": lon,
            "device_type": device_type,
        }
    )
    return frame.with_columns(pl.col("timestamp").dt.cast_time_unit("us"))


def run_detectors(
    detectors: Iterable[Callable[[Context], Iterable[Finding]]],
    pings: pl.DataFrame,
    resolution: int,
) -> list[Finding]:
    """Every finding of ``detectors`` on a summary of ``pings`` (salt ``"test"``)."""
    ctx = Context(summarise(pings, resolution), salt="test")
    return [f for detector in detectors for f in detector(ctx)]


@pytest.fixture(scope="package")
def clean() -> dict[tuple[str, int], pl.DataFrame]:
    """Clean synthetic pings of two cities, three seeds each (made once for this folder)."""
    return {
        (city, seed): generate_pings(CLEAN_PINGS, city=city, seed=seed).pings
        for city in ("new_york", "sao_paulo")
        for seed in range(3)
    }
