"""``python -m benchmarks.peer FILE``: the best-library script the benchmark compares with.

What a strong analyst writes with polars and polars-h3 to get the per-cell tables of a
ping file: read it, parse the timestamp strings, add the H3 cell (resolution 8), then
pings, distinct devices and first/last time per cell; pings per cell and hour of day;
pings per cell and device type; pings per device. It is the yardstick for
``python -m explorer analyze``, so it is written to be fast, not to lose: an explicit
timestamp format (polars' fast path) sniffed from the first value, integer cells,
and the tables built in one parallel ``collect_all`` over the prepared frame.

Timestamps with ``Z`` or an offset become UTC instants; naive ones are taken as given
(no zone lookup), and hours are those of the parsed timestamps.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import polars_h3 as plh3

RESOLUTION = 8
#: strftime layouts tried on the first timestamp, the most common first.
_LAYOUTS = (
    ("%Y-%m-%dT%H:%M:%SZ", "UTC"),
    ("%Y-%m-%dT%H:%M:%S%.fZ", "UTC"),
    ("%Y-%m-%dT%H:%M:%S%:z", "UTC"),
    ("%Y-%m-%dT%H:%M:%S%.f%:z", "UTC"),
    ("%Y-%m-%d %H:%M:%S", None),
    ("%Y-%m-%dT%H:%M:%S", None),
    ("%Y-%m-%d %H:%M:%S%.f", None),
)


def _scan(path: Path) -> pl.LazyFrame:
    if path.suffix == ".parquet":
        return pl.scan_parquet(path)
    return pl.scan_csv(path, schema_overrides={"device_id": pl.String})


def timestamp_expr(first: str | int) -> pl.Expr:
    """The parse of the ``timestamp`` column for values shaped like ``first``."""
    ts = pl.col("timestamp")
    if isinstance(first, int):
        return pl.from_epoch(ts, time_unit="ms").dt.replace_time_zone("UTC")
    for layout, zone in _LAYOUTS:
        try:
            pl.Series([first]).str.to_datetime(layout, time_zone=zone, strict=True)
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
            continue
        return ts.str.to_datetime(layout, time_zone=zone, time_unit="us")
    return ts.str.to_datetime(time_zone="UTC", time_unit="us")  # polars infers the layout


def per_cell_tables(path: str | Path, resolution: int = RESOLUTION) -> dict[str, pl.DataFrame]:
    """The per-cell and per-device tables of a ping file with canonical column names."""
    path = Path(path)
    first = _scan(path).select("timestamp").head(1).collect().item()
    pings = (
        _scan(path)
        .select(
            "device_id",
            "device_type",
            timestamp_expr(first),
            cell=plh3.latlng_to_cell("lat", "lon", resolution, return_dtype=pl.UInt64),
        )
        .collect()
        .lazy()
    )
    cells = pings.group_by("cell").agg(
        pings=pl.len(),
        devices=pl.col("device_id").n_unique(),
        first=pl.col("timestamp").min(),
        last=pl.col("timestamp").max(),
    )
    hours = pings.group_by("cell", hour=pl.col("timestamp").dt.hour()).agg(pings=pl.len())
    types = pings.group_by("cell", "device_type").agg(pings=pl.len())
    devices = pings.group_by("device_id").agg(pings=pl.len())
    names = ("cells", "hours", "device_types", "devices")
    return dict(zip(names, pl.collect_all([cells, hours, types, devices]), strict=True))


def main(argv: list[str] | None = None) -> int:
    """Build the tables of the file named on the command line; print their sizes."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m benchmarks.peer FILE", file=sys.stderr)
        return 2
    for name, table in per_cell_tables(args[0]).items():
        print(f"{name}: {table.height:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
