"""Fixtures of the benchmark tests: the realistic shapes, small, generated once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.shapes import ensure_shapes

#: Rows of the small realistic files (a thousand per metro).
SMALL_ROWS = 4_000


@pytest.fixture(scope="session")
def realistic_files(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """Every realistic shape of :data:`SMALL_ROWS` pings by shape and format."""
    return ensure_shapes(SMALL_ROWS, folder=tmp_path_factory.mktemp("shapes"))
