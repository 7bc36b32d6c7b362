"""Cells and findings' areas as polygons (GeoJSON, GeoParquet) and a per-cell CSV.

geopandas and shapely are imported inside the functions that need them: the
analysis path never pays for them. The CSV is written by :mod:`explorer.safe_csv`, the
product's one formula-safe CSV writer.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

import polars as pl

from explorer.binning.cells import cell_boundary, str_to_cell
from explorer.findings import Finding

# Re-exported (redundant aliases): callers and tests still import them from here.
from explorer.safe_csv import FORMULA_PREFIXES as FORMULA_PREFIXES
from explorer.safe_csv import csv_bytes
from explorer.safe_csv import formula_safe as formula_safe

if TYPE_CHECKING:  # pragma: no cover - typing only
    import geopandas as gpd  # presentation only: see the module

#: Columns of a metrics frame that go into exports (never device ids: there are none).
EXPORT_COLUMNS = (
    "hex",
    "lat",
    "lon",
    "pings",
    "devices",
    "pings_per_device",
    "type_share",
    "night_share",
    "finding_score",
)


def _polygon(hex_id: str):
    from shapely.geometry import Polygon  # presentation only: see the module

    # h3 gives (lat, lon) vertices; GeoJSON wants (lon, lat).
    return Polygon([(lon, lat) for lat, lon in cell_boundary(str_to_cell(hex_id))])


def _export_frame(metrics: pl.DataFrame) -> pl.DataFrame:
    return metrics.select([c for c in EXPORT_COLUMNS if c in metrics.columns])


def cells_geodataframe(metrics: pl.DataFrame) -> gpd.GeoDataFrame:
    """One hexagon polygon (WGS 84) per row of a metrics frame (needs a ``hex`` column)."""
    import geopandas as gpd  # presentation only: see the module

    frame = _export_frame(metrics)
    geometry = [_polygon(h) for h in frame["hex"].to_list()]
    return gpd.GeoDataFrame(frame.to_pandas(), geometry=geometry, crs="EPSG:4326")


def findings_geodataframe(findings: Iterable[Finding]) -> gpd.GeoDataFrame:
    """One (multi)polygon per finding that has cells: the union of its cells."""
    import geopandas as gpd  # presentation only: see the module
    import pandas as pd  # presentation only: see the module
    from shapely import union_all  # presentation only: see the module

    rows, shapes = [], []
    for finding in findings:
        if not finding.cells:
            continue
        rows.append(
            {
                "id": finding.id,
                "kind": finding.kind,
                "severity": finding.severity,
                "score": float(finding.score),
                "title": finding.title,
                "story": finding.story,
                "cells": len(finding.cells),
            }
        )
        shapes.append(union_all([_polygon(c) for c in finding.cells]))
    columns = ["id", "kind", "severity", "score", "title", "story", "cells"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=shapes, crs="EPSG:4326")


def to_geojson(frame: gpd.GeoDataFrame) -> str:
    """GeoJSON FeatureCollection text (coordinates lon, lat)."""
    return frame.to_json(drop_id=True)


def to_geoparquet(frame: gpd.GeoDataFrame) -> bytes:
    """GeoParquet bytes (geometry as WKB, CRS in the metadata)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def cells_csv(metrics: pl.DataFrame) -> bytes:
    """The per-cell metrics as UTF-8 CSV, safe to open in a spreadsheet."""
    return csv_bytes(_export_frame(metrics))
