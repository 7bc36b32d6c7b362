"""Helpers and fixtures shared by the test folders.

Fixtures (``write_file``, ``synthetic_file``) are found by pytest in every folder below
this one; plain helpers and constants are imported: ``from tests.conftest import ...``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from explorer.synth.pings import SynthResult, write_pings

if TYPE_CHECKING:
    from explorer.summary import Summary

ROOT = Path(__file__).resolve().parents[1]
#: The real public files: ``../shared/data/real`` beside the repository, or this machine's
#: copy when a clean clone lives elsewhere (CI clones into a temporary folder).
REAL_DATA = next(
    (
        folder
        for folder in (ROOT.parent / "shared" / "data" / "real", Path("/work/shared/data/real"))
        if folder.is_dir()
    ),
    ROOT.parent / "shared" / "data" / "real",
)
#: Small files kept with the tests (see its README).
DATA_DIR = ROOT / "tests" / "data"

#: The canonical pings schema, written out here rather than taken from the reader.
PINGS_SCHEMA = {
    "device_id": pl.String,
    "timestamp": pl.Datetime("us", "UTC"),
    "lat": pl.Float64,
    "lon": pl.Float64,
    "device_type": pl.String,
}

#: The reasons a row is rejected, as a report counts them, in order.
REJECTION_REASONS = (
    "malformed_line",
    "latitude_missing",
    "latitude_unparsable",
    "latitude_out_of_range",
    "longitude_missing",
    "longitude_unparsable",
    "longitude_out_of_range",
    "timestamp_missing",
    "timestamp_unparsable",
)


def pings_frame(rows: Iterable[tuple]) -> pl.DataFrame:
    """Canonical pings from (device_id, UTC datetime, lat, lon, device_type) tuples."""
    return pl.DataFrame(rows, schema=PINGS_SCHEMA, orient="row")


def assert_same_summary(expected: Summary, actual: Summary) -> None:
    """Equal tables (sorted by key) and equal counts."""
    left, right = expected.canonical(), actual.canonical()
    assert left.resolution == right.resolution
    assert left.rows_read == right.rows_read
    assert left.rejected_by_reason == right.rejected_by_reason
    assert left.naive_timestamps == right.naive_timestamps
    assert set(left.tables) == set(right.tables)
    for name, table in left.tables.items():
        other = right.tables[name]
        assert table.shape == other.shape, name
        assert table.equals(other), name


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Factory: write text or bytes to ``name`` under ``tmp_path`` and return its path."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    return write


@pytest.fixture(scope="session")
def synthetic_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Factory: write synthetic pings (a ``generate_pings`` result or a frame) as ``name``
    in a new temporary folder named after ``folder``, and return the file's path."""

    def write(
        pings: SynthResult | pl.DataFrame,
        name: str = "pings.csv",
        *,
        folder: str = "synth",
        time_format: str = "epoch_ms",
    ) -> Path:
        path = tmp_path_factory.mktemp(folder) / name
        write_pings(pings, path, time_format=time_format)
        return path

    return write
