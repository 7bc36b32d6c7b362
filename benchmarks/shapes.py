"""``python -m benchmarks.shapes``: the benchmark's input files, made once under ``.bench/``.

Two kinds of file, each as Parquet and CSV:

- ``epoch_ms``, today's shape: one city (New York), integer epoch-millisecond timestamps,
  16-hex-digit device ids, rows in time order;
- the realistic shapes, as vendors export pings: four metros on four continents (New
  York, São Paulo, London, Singapore), 36-character UUID device ids, rows shuffled, over
  four weeks that span both March daylight-saving changes, with timestamps as strings in
  one of :data:`SHAPES`: ``iso_utc`` (``2024-03-04T07:31:09Z``), ``iso_offset`` (the
  offset of the ping's city at that instant, ``2024-03-04T02:31:09-05:00``) or
  ``naive_local`` (the wall clock at the ping's place, no zone).

Every shape of one row count holds the same pings in the same order; only the timestamp
column's text differs. Generation runs in its own process when the benchmark asks for it,
so the benchmark's process stays small (a child's peak memory counts its parent's).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

BENCH_DIR = Path(".bench")
#: Timestamp shapes of the realistic files, in the order the benchmark runs them.
SHAPES: tuple[str, ...] = ("iso_utc", "iso_offset", "naive_local")
#: The file formats every shape is written in.
FORMATS: tuple[str, ...] = ("parquet", "csv")
#: Metros of the realistic files (North America, South America, Europe, Asia).
METROS: tuple[str, ...] = ("new_york", "sao_paulo", "london", "singapore")
#: Biases planted in every generated city, as today's bench plants them.
BIASES: tuple[str, ...] = (
    "coordinate_pileup",
    "null_island",
    "duplicate_pings",
    "device_type_skew",
)
#: Four weeks that hold the US (10 March) and the European (31 March) change to summer time.
START, DAYS = "2024-03-04", 28
SEED = 26
_EPOCH_SEED = 11


def epoch_paths(rows: int, folder: Path = BENCH_DIR) -> dict[str, Path]:
    """Today's shape by format: ``{"parquet": ..., "csv": ...}``."""
    return {fmt: folder / f"pings_{rows}.{fmt}" for fmt in FORMATS}


def shape_paths(rows: int, shape: str, folder: Path = BENCH_DIR) -> dict[str, Path]:
    """One realistic shape by format: ``{"parquet": ..., "csv": ...}``."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose from {list(SHAPES)}")
    return {fmt: folder / f"realistic_{rows}_{shape}.{fmt}" for fmt in FORMATS}


def _partial(path: Path) -> Path:
    """Where ``path`` is written before it is renamed into place (same suffix), so a file
    that exists under its own name is complete."""
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def ensure_epoch(rows: int, folder: Path = BENCH_DIR) -> dict[str, Path]:
    """Today's shape of ``rows`` pings (New York, planted biases), written once."""
    paths = epoch_paths(rows, folder)
    if all(p.exists() for p in paths.values()):
        return paths
    from explorer.synth.pings import generate_pings, write_pings

    folder.mkdir(parents=True, exist_ok=True)
    print(f"generating {rows:,} epoch-ms pings (once) ...", file=sys.stderr, flush=True)
    result = generate_pings(rows, seed=_EPOCH_SEED, biases=BIASES)
    for path in paths.values():
        write_pings(result, _partial(path))
        _partial(path).replace(path)
    return paths


def uuid_strings(count: int, seed: int) -> list[str]:
    """``count`` distinct random (version 4) UUIDs as 36-character strings, from ``seed``."""
    import uuid

    import numpy as np

    rng = np.random.default_rng(seed)
    halves = rng.integers(0, 2**64, size=(count, 2), dtype=np.uint64)
    ids = [str(uuid.UUID(int=(int(hi) << 64) | int(lo), version=4)) for hi, lo in halves]
    if len(set(ids)) != count:  # 2**-100 odds; a collision would merge two devices
        raise RuntimeError("UUID collision: choose another seed")
    return ids


def realistic_pings(rows: int, seed: int = SEED):
    """Canonical pings of :data:`METROS` (``rows`` shared evenly), UUID ids, shuffled.

    Besides the canonical columns the frame has ``iso_offset``: each timestamp written with
    its city's UTC offset at that instant (the city's zone, daylight saving included).
    """
    import numpy as np
    import polars as pl

    from explorer.synth.cities import CITIES
    from explorer.synth.pings import generate_pings

    parts = []
    for k, city in enumerate(METROS):
        share = rows // len(METROS) + (k < rows % len(METROS))
        result = generate_pings(
            share, city=city, seed=seed + k, biases=BIASES, start=START, days=DAYS
        )
        local = pl.col("timestamp").dt.convert_time_zone(CITIES[city].zone)
        whole = (result.pings["timestamp"].dt.epoch("us") % 1_000_000 == 0).all()
        clock = "%H:%M:%S" if whole else "%H:%M:%S%.6f"
        parts.append(
            result.pings.with_columns(iso_offset=local.dt.strftime(f"%Y-%m-%dT{clock}%:z"))
        )
    frame = pl.concat(parts)
    # Each distinct synthetic id gets one UUID, in order of first appearance (deterministic).
    synthetic = frame["device_id"].unique(maintain_order=True)
    uuids = pl.Series(uuid_strings(len(synthetic), seed), dtype=pl.String)
    frame = frame.with_columns(pl.col("device_id").replace_strict(synthetic, uuids))
    order = np.random.default_rng([seed, 1]).permutation(frame.height)
    return frame[order]


def ensure_shapes(
    rows: int, shapes: Iterable[str] = SHAPES, folder: Path = BENCH_DIR
) -> dict[str, dict[str, Path]]:
    """The realistic ``shapes`` of ``rows`` pings by shape and format, written once."""
    paths = {shape: shape_paths(rows, shape, folder) for shape in shapes}
    missing = [
        s for s, by_format in paths.items() if not all(p.exists() for p in by_format.values())
    ]
    if not missing:
        return paths
    from explorer.synth.pings import write_pings

    folder.mkdir(parents=True, exist_ok=True)
    print(f"generating {rows:,} realistic pings (once) ...", file=sys.stderr, flush=True)
    frame = realistic_pings(rows)
    canonical = frame.drop("iso_offset")
    for shape in missing:
        for path in paths[shape].values():
            if shape == "iso_offset":
                out = canonical.with_columns(timestamp=frame["iso_offset"])
                if path.suffix == ".parquet":
                    out.write_parquet(_partial(path))
                else:
                    out.write_csv(_partial(path))
            else:
                write_pings(canonical, _partial(path), time_format=shape)
            _partial(path).replace(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Generate today's shape and the chosen realistic shapes of ``--rows`` pings."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shapes")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated")
    parser.add_argument("--folder", type=Path, default=BENCH_DIR)
    args = parser.parse_args(argv)
    ensure_epoch(args.rows, args.folder)
    ensure_shapes(args.rows, parse_shapes(args.shapes), args.folder)
    return 0


def parse_shapes(text: str) -> tuple[str, ...]:
    """Shapes named in a comma-separated list (empty: none), checked against :data:`SHAPES`."""
    shapes = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = sorted(set(shapes) - set(SHAPES))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown shapes {unknown}; choose from {list(SHAPES)}")
    return shapes


if __name__ == "__main__":
    sys.exit(main())
