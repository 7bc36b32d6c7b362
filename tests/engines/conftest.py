"""Shared data for the engine tests: biased synthetic pings split into many files.

Imported by the engine test modules: ``from tests.engines.conftest import ...``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from explorer.synth.pings import generate_pings, write_pings

BIASES = (
    "coordinate_pileup",
    "null_island",
    "duplicate_pings",
    "device_type_skew",
    "timestamp_heaping",
)
RESOLUTION = 8
#: Suffixes cycled over the pieces: mixed CSV, gzip CSV and Parquet.
SUFFIXES = (".csv", ".parquet", ".csv.gz", ".parquet")


@cache
def biased_pings() -> pl.DataFrame:
    """~60k pings with several planted biases (the same every call)."""
    return generate_pings(60_000, seed=7, biases=BIASES).pings


def write_split(frame: pl.DataFrame, folder: Path, cuts: list[int]) -> list[Path]:
    """Write ``frame`` cut at ``cuts`` into hive folders (``part=k/``), mixed formats.

    Parquet pieces get small row groups so chunks cross row-group edges.
    """
    edges = [0, *sorted(set(c for c in cuts if 0 < c < frame.height)), frame.height]
    paths = []
    for index, (start, end) in enumerate(zip(edges, edges[1:])):
        piece = frame.slice(start, end - start)
        sub = folder / f"part={index % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"piece-{index:03d}{SUFFIXES[index % len(SUFFIXES)]}"
        if path.suffix == ".parquet":
            piece = piece.select("device_id", "timestamp", "lat", "lon", "device_type")
            piece.write_parquet(path, row_group_size=2_500)
        else:
            write_pings(piece, path)
        paths.append(path)
    return paths
