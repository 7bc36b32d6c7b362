"""The command line's weights: ``analyze --reference F --format csv`` writes the weights
per region in place of the report, and ``--weights-per-device FILE`` writes each
device's weight under the file's own device ids.

Per-device weights are an export of the user's own rows (as ``clean`` is), so they
keep the original ids: the pings are read again with the same reading flags, and each
distinct id is matched to its weight by the hash the summaries count devices by. CSV
is formula-safe.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from explorer.analysis import Analysis
from explorer.detectors.coverage import coverage_table, device_weights_by_id, region_weights_frame
from explorer.errors import PingFileError
from explorer.reading.pings import read_pings
from explorer.safe_csv import csv_bytes, write_csv

#: Why the weights cannot be written without a reference population.
NEEDS_REFERENCE = (
    "{flag} writes post-stratification weights, which need a reference population: "
    "give --reference FILE."
)


def weights_problem(args: argparse.Namespace) -> str | None:
    """Why the weights asked for cannot be made (None when they can, or none is asked)."""
    for flag, wanted in (
        ("--format csv", getattr(args, "format", None) == "csv"),
        ("--weights-per-device", bool(getattr(args, "weights_per_device", None))),
    ):
        if wanted and not getattr(args, "reference", None):
            return NEEDS_REFERENCE.format(flag=flag)
    return None


def region_weights_csv(analysis: Analysis) -> str:
    """The per-region weights table of ``analysis`` as CSV text."""
    table = coverage_table(analysis.summary, analysis.reference, analysis.config)
    return csv_bytes(region_weights_frame(table)).decode("utf-8")


def write_device_weights(
    analysis: Analysis,
    source: str | Path,
    output: str | Path,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
) -> int:
    """Write ``device_id, region_id, weight`` of every device with a weight, under the
    ids of ``source`` (read again with ``columns`` and ``tz``); the rows written."""
    if not analysis.columns.get("device_id"):
        raise PingFileError(
            "--weights-per-device needs device ids; name the id column with --device-col."
        )
    read = read_pings(source, columns=columns, tz=tz, digest=False)
    table = device_weights_by_id(
        analysis.summary, analysis.reference, analysis.config, read.pings["device_id"]
    )
    write_csv(table, output)
    return table.height
