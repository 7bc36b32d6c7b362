"""The Data page's row downloads: formula-safe, and offered to the uploader alone."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest

from app.downloads import _affected_csv, _cleaned
from app.frame import Page
from app.pipeline import Dataset
from app.state import ViewState
from app.store import DatasetStore
from explorer.analysis import analyze, analyze_read
from explorer.reading.pings import read_pings
from explorer.safe_csv import FORMULA_PREFIXES
from tests.app.conftest import PAGES, csv_bytes

FORMULAS = ("=1+1", "+1+1", "-1+1", "@SUM(1)", "\t=1", "\r=1")


@pytest.fixture(scope="module")
def hostile_page() -> Page:
    """A page on pings whose device ids and types are formulas (and null-island rows)."""
    frame = pl.read_csv(csv_bytes(6_000, ("null_island", "duplicate_pings"), seed=31))
    n = len(FORMULAS)
    hostile = frame.with_columns(
        device_id=pl.lit(pl.Series(FORMULAS)).gather(pl.int_range(pl.len()) % n)
        + pl.col("device_id"),
        device_type=pl.lit(pl.Series(FORMULAS)).gather(pl.int_range(pl.len()) % n),
    )
    read = read_pings(hostile.write_csv().encode(), name="hostile.csv")
    analysis = analyze_read(read, salt="s")
    dataset = Dataset("sample", "hostile.csv", "", (), None)
    return Page(ViewState(), dataset, read, (None, None, 0, 24, None), 8, 8, analysis)


def assert_formula_safe(data: bytes) -> None:
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows
    lon = header.index("lon")
    for row in rows:
        assert not any(cell.startswith(FORMULA_PREFIXES) for i, cell in enumerate(row) if i != lon)
        assert float(row[lon]) < 0  # New York: negative longitudes stay numbers


def test_rows_behind_a_finding_and_the_cleaned_file_are_formula_safe(hostile_page) -> None:
    null_island = next(f for f in hostile_page.analysis.findings if f.kind == "null_island")
    rows = _affected_csv(hostile_page, null_island)
    assert "'=1+1" in rows.decode()
    header, *cells = list(csv.reader(io.StringIO(rows.decode(), newline="")))
    assert all(abs(float(row[header.index("lon")])) <= 0.01 for row in cells)
    cleaned = _cleaned(hostile_page, ("null_island", "duplicate_pings"))
    assert_formula_safe(cleaned)
    assert "'@SUM(1)" in cleaned.decode()


def download_labels(at) -> list[str]:
    return [b.label for b in at.get("download_button")]


def test_only_the_uploader_is_offered_the_rows(store: DatasetStore, page_app) -> None:
    data = csv_bytes(6_000, ("null_island",), seed=32)
    finding = analyze(data).findings[0].id
    owner = page_app("findings").run()
    owner.file_uploader(key="upload").set_value(("mine.csv", data, "text/csv")).run()
    dataset_id = owner.query_params["ds"]
    owner.button(key=f"select-{finding}").click().run()
    owner.session_state["test_page"] = PAGES["data"]
    owner.run()
    assert not owner.exception
    offered = download_labels(owner)
    assert "Cleaned file (CSV)" in offered and any(x.startswith("Rows behind") for x in offered)

    stranger = page_app("data", ds=dataset_id, finding=finding).run()
    assert not stranger.exception
    withheld = download_labels(stranger)
    assert "Cleaned file (CSV)" not in withheld
    assert not any(x.startswith("Rows behind") for x in withheld)
    assert "Cells (CSV)" in withheld  # aggregates stay shareable
    assert any("uploaded this file" in c.value for c in stranger.caption)
