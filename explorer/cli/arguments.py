"""The command line's arguments (argparse only, so that parsing them imports nothing heavy:
the process settings that depend on them are made before numpy is imported)."""

from __future__ import annotations

import argparse

READING_FLAGS = {
    "lat_col": "lat",
    "lon_col": "lon",
    "time_col": "timestamp",
    "date_col": "date",
    "device_col": "device_id",
    "type_col": "device_type",
}


def _add_reading_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", help="pings: a CSV (optionally .gz) or Parquet file, folder, glob or URL"
    )
    parser.add_argument("--lat-col", help="column holding latitude")
    parser.add_argument("--lon-col", help="column holding longitude")
    parser.add_argument("--time-col", help="column holding the timestamp (or the clock time)")
    parser.add_argument("--date-col", help="column holding the date, when time is separate")
    parser.add_argument("--device-col", help="column holding the device id")
    parser.add_argument("--type-col", help="column holding the device type / OS")
    parser.add_argument(
        "--tz", help="IANA zone of timestamps without zone (default: each ping's place)"
    )
    parser.add_argument(
        "--resolution",
        type=int,
        choices=range(0, 16),
        metavar="R",
        help="H3 resolution 0-15 (default: suggested from the data)",
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "memory", "chunked", "dask"),
        default="auto",
        help="how to process the input (default: auto)",
    )
    parser.add_argument("--scheduler", help="Dask scheduler address for --engine dask")
    parser.add_argument(
        "--chunk-rows",
        type=int,
        metavar="N",
        help="rows per chunk for --engine chunked/dask (default 4,000,000)",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stage messages on stderr (default: when stderr is a terminal)",
    )


def _add_reference_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reference",
        metavar="FILE",
        help="reference population: regions with residents (GeoJSON, GeoPackage, zipped "
        "Shapefile, GeoParquet) or a CSV of H3 cells with a population column",
    )
    parser.add_argument(
        "--population-col", help="column of --reference holding residents (default: detected)"
    )
    parser.add_argument(
        "--region-id-col", help="column of --reference holding region ids (default: detected)"
    )


#: Help of each reading flag's column, by flag name (compare repeats them per side).
_COLUMN_HELP = {
    "lat_col": "latitude",
    "lon_col": "longitude",
    "time_col": "the timestamp (or the clock time)",
    "date_col": "the date, when time is separate",
    "device_col": "the device id",
    "type_col": "the device type / OS",
}


def _add_compare(sub: argparse._SubParsersAction) -> None:
    """``compare BEFORE AFTER``: shared reading flags, and ``--before-*``/``--after-*``
    overrides of the columns and zone of one side."""
    compare = sub.add_parser("compare", help="report what changed between two deliveries")
    compare.add_argument("before", help="the earlier delivery: file, folder, glob or URL")
    compare.add_argument("after", help="the later delivery: file, folder, glob or URL")
    for flag, what in _COLUMN_HELP.items():
        name = flag.replace("_", "-")
        compare.add_argument(f"--{name}", help=f"column holding {what} (both sides)")
        for side in ("before", "after"):
            compare.add_argument(f"--{side}-{name}", help=f"column holding {what} ({side})")
    compare.add_argument("--tz", help="IANA zone of timestamps without zone (both sides)")
    for side in ("before", "after"):
        compare.add_argument(f"--{side}-tz", help=f"IANA zone of naive timestamps ({side})")
    compare.add_argument(
        "--resolution",
        type=int,
        choices=range(0, 16),
        metavar="R",
        help="H3 resolution 0-15 of both sides (default: suggested from the after data)",
    )
    compare.add_argument(
        "--engine",
        choices=("auto", "memory", "chunked", "dask"),
        default="auto",
        help="how to process each input (default: auto)",
    )
    compare.add_argument("--chunk-rows", type=int, metavar="N", help="rows per chunk (chunked)")
    compare.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stage messages on stderr (default: when stderr is a terminal)",
    )
    compare.add_argument("--format", choices=("json", "markdown", "html"), default="markdown")
    compare.add_argument("--output", help="write the comparison here instead of stdout")
    compare.add_argument(
        "--fail-on",
        choices=("high", "medium", "low"),
        help="exit 1 when a change at or above this level exists",
    )
    compare.add_argument("--config", help="TOML or JSON file of thresholds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m explorer", description="Find the biases in location pings."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    analyze = sub.add_parser("analyze", help="report the findings of a ping file")
    _add_reading_flags(analyze)
    analyze.add_argument(
        "--format",
        choices=("json", "markdown", "html", "csv"),
        default="markdown",
        help="report format; csv writes the weights per region of --reference instead",
    )
    analyze.add_argument("--output", help="write the report here instead of stdout")
    analyze.add_argument(
        "--fail-on",
        choices=("high", "medium", "low"),
        help="exit 1 when a finding at or above this level exists",
    )
    analyze.add_argument("--config", help="TOML or JSON file of thresholds")
    analyze.add_argument("--baseline", help="file of accepted finding ids (JSON report or list)")
    _add_reference_flags(analyze)
    analyze.add_argument(
        "--weights-per-device",
        metavar="FILE",
        help="also write each device's weight against --reference to this CSV, under the "
        "file's own device ids",
    )
    profile = sub.add_parser("profile", help="print the dataset profile of a ping file")
    _add_reading_flags(profile)
    profile.add_argument("--format", choices=("json", "markdown"), default="markdown")
    profile.add_argument("--config", help="TOML or JSON file of thresholds")
    clean = sub.add_parser(
        "clean",
        help="write a copy without the rows behind some findings, or with only the "
        "devices a usable-panel rule keeps",
    )
    _add_reading_flags(clean)
    clean.add_argument(
        "--drop",
        nargs="+",
        default=[],
        choices=("null_island", "duplicate_pings", "device_concentration"),
        help="finding kinds whose rows to remove",
    )
    clean.add_argument(
        "--keep-panel",
        metavar="N,M",
        help="keep only devices active on at least N local days with M or more distinct "
        "local hours each (rows without a device id are removed too)",
    )
    clean.add_argument("--output", required=True, help="the cleaned file (.csv, .csv.gz, .parquet)")
    clean.add_argument("--config", help="TOML or JSON file of thresholds")
    _add_compare(sub)
    return parser
