"""The peer script's tables agree with a row-by-row computation with h3-py."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime

import h3
import polars as pl
import pytest

from benchmarks.peer import per_cell_tables
from benchmarks.shapes import SHAPES
from tests.conftest import ROOT

SAMPLE_ROWS = 400


def _parse(text: str) -> datetime:
    """An ISO timestamp as a naive datetime: UTC when it has a zone, as written if not."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _brute_force(rows: list[dict]) -> dict[str, dict]:
    """The peer's four tables as dicts, one Python loop over the rows."""
    cells: dict[int, dict] = {}
    devices_in = defaultdict(set)
    hours, types, devices = Counter(), Counter(), Counter()
    for row in rows:
        cell = h3.str_to_int(h3.latlng_to_cell(row["lat"], row["lon"], 8))
        moment = _parse(row["timestamp"])
        entry = cells.setdefault(cell, {"pings": 0, "first": moment, "last": moment})
        entry["pings"] += 1
        entry["first"], entry["last"] = min(entry["first"], moment), max(entry["last"], moment)
        devices_in[cell].add(row["device_id"])
        hours[cell, moment.hour] += 1
        types[cell, row["device_type"]] += 1
        devices[row["device_id"]] += 1
    for cell, entry in cells.items():
        entry["devices"] = len(devices_in[cell])
    return {"cells": cells, "hours": hours, "device_types": types, "devices": devices}


def _as_dicts(tables: dict[str, pl.DataFrame]) -> dict[str, dict]:
    cells = {
        r["cell"]: {
            "pings": r["pings"],
            "devices": r["devices"],
            "first": r["first"].replace(tzinfo=None),
            "last": r["last"].replace(tzinfo=None),
        }
        for r in tables["cells"].iter_rows(named=True)
    }
    return {
        "cells": cells,
        "hours": {(c, h): n for c, h, n in tables["hours"].iter_rows()},
        "device_types": {(c, t): n for c, t, n in tables["device_types"].iter_rows()},
        "devices": dict(tables["devices"].iter_rows()),
    }


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("shape", SHAPES)
def test_peer_tables_match_a_row_by_row_computation(realistic_files, shape, fmt, tmp_path):
    source = realistic_files[shape][fmt]
    sample = (pl.read_parquet(source) if fmt == "parquet" else pl.read_csv(source)).head(
        SAMPLE_ROWS
    )
    path = tmp_path / source.name
    sample.write_parquet(path) if fmt == "parquet" else sample.write_csv(path)
    expected = _brute_force(sample.to_dicts())
    assert _as_dicts(per_cell_tables(path)) == expected
    assert len(expected["cells"]) > 50  # four metros' worth of cells, not a handful


def test_naive_times_are_taken_as_written(realistic_files):
    tables = per_cell_tables(realistic_files["naive_local"]["parquet"])
    assert tables["cells"]["first"].dtype == pl.Datetime("us")  # no zone attached


def test_the_script_runs_as_its_own_process(realistic_files):
    path = realistic_files["iso_offset"]["csv"]
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.peer", str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    cells = per_cell_tables(path)["cells"].height
    assert f"cells: {cells:,} rows" in out.splitlines()
