"""What the Data page's download buttons produce (their callables, run directly)."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import polars as pl
import pytest

from app.downloads import _cleaned, _geojson, _stem
from app.frame import Page
from app.pipeline import Dataset
from app.state import ViewState
from explorer.analysis import analyze_read
from explorer.interactive.map_layers import cell_metrics
from explorer.reading.pings import read_pings
from explorer.reports.geo import cells_csv, cells_geodataframe, to_geoparquet


@pytest.fixture(scope="module")
def page(small_sample) -> Page:
    read = read_pings(small_sample)
    analysis = analyze_read(read, salt="test")
    dataset = Dataset("sample", "my=file.csv.gz", "", (), None)
    return Page(ViewState(), dataset, read, (None, None, 0, 24, None), 8, 8, analysis)


def test_downloads_of_cells_and_findings(page: Page) -> None:
    metrics = cell_metrics(page.analysis.summary, page.analysis.findings)
    collection = json.loads(_geojson(metrics, page.analysis.findings))
    layers = [f["properties"]["layer"] for f in collection["features"]]
    with_cells = [f for f in page.analysis.findings if f.cells]
    assert layers.count("cell") == metrics.height and layers.count("finding") == len(with_cells)
    back = gpd.read_parquet(io.BytesIO(to_geoparquet(cells_geodataframe(metrics))))
    assert len(back) == metrics.height
    table = pl.read_csv(io.BytesIO(cells_csv(metrics)))
    assert table["pings"].sum() == page.read.rows_used
    assert _stem(page) == "my_file"


def test_cleaned_file_drops_the_null_island_and_duplicate_rows(page: Page) -> None:
    kinds = {f.kind for f in page.analysis.findings}
    assert {"null_island", "duplicate_pings"} <= kinds
    cleaned = pl.read_csv(io.BytesIO(_cleaned(page, ("null_island", "duplicate_pings"))))
    near_zero = (cleaned["lat"].abs() < 0.01) & (cleaned["lon"].abs() < 0.01)
    assert not near_zero.any()
    assert cleaned.height < page.read.rows_used
    assert not cleaned.is_duplicated().any()
