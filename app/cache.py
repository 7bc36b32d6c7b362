"""The one place with ``st.cache_*`` wrappers: every stage of the pipeline, per dataset.

Cached functions take a dataset key (``"sample"`` or a store id), the column mapping
and time zone as tuples/strings, and filter values: never an upload object. Data is
loaded from the store *inside* the cache, so one user's key never yields another's
bytes. ``cache_resource`` hands out the same immutable frames without copying them;
``max_entries`` bounds memory.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

import polars as pl
import streamlit as st

from app.deck import layer_rows
from app.store import DatasetStore
from explorer.analysis import Analysis, analyze_summary, suggested_resolution_for
from explorer.interactive.area_profiles import Comparison, compare_area
from explorer.interactive.filters import FilterOptions, apply_filter, filter_options, make_filter
from explorer.interactive.map_layers import (
    LegendStop,
    cell_metrics,
    map_resolution,
    view_for_summary,
)
from explorer.reading.pings import ReadResult, read_pings
from explorer.summary import Summary, summarise

SAMPLE_KEY = "sample"
#: Entries kept per stage; a few datasets x filter settings at a time.
_ENTRIES = 6

Columns = tuple[tuple[str, str], ...]
FilterKey = tuple[str | None, str | None, int, int, tuple[str, ...] | None]


def sample_path() -> Path:
    """The bundled sample (``$PBE_SAMPLE_PATH`` overrides it, e.g. in tests)."""
    configured = os.environ.get("PBE_SAMPLE_PATH")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1] / "data" / "samples" / "pings.csv"


@st.cache_resource(show_spinner=False)
def store() -> DatasetStore:
    """The process's dataset store (directory and retention from the environment).

    Expired datasets are purged when the store is first used, and on every upload.
    """
    found = DatasetStore()
    found.purge_expired()
    return found


@st.cache_resource(show_spinner=False)
def _sample_salt() -> str:
    # Salted device labels for the sample, stable for the life of the process.
    return secrets.token_hex(8)


def _source(dataset_key: str) -> tuple[bytes | Path, str, str]:
    """(bytes or path, display name, salt) of a dataset key."""
    if dataset_key == SAMPLE_KEY:
        path = sample_path()
        return path, path.name, _sample_salt()
    stored = store().get(dataset_key)
    if stored is None:
        # The caller checked the store; this only happens if it expired in between.
        raise LookupError("This dataset link is not valid or has expired.")
    return stored.data, stored.name, stored.salt


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def read_dataset(dataset_key: str, columns: Columns, zone: str | None) -> ReadResult:
    """Read a dataset (raises PingFileError / ColumnMappingError as explorer does)."""
    data, name, _ = _source(dataset_key)
    return read_pings(data, columns=dict(columns) or None, tz=zone, name=name)


def salt_for(dataset_key: str) -> str:
    """The salt of a dataset's device labels (stored with an upload; per process for the sample)."""
    if dataset_key == SAMPLE_KEY:
        return _sample_salt()
    found = store().info(dataset_key)
    return found.salt if found is not None else _sample_salt()


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def options_for(dataset_key: str, columns: Columns, zone: str | None) -> FilterOptions:
    """Local date span and device types of the whole dataset (for the filter form)."""
    return filter_options(read_dataset(dataset_key, columns, zone).pings)


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def suggested_for(dataset_key: str, columns: Columns, zone: str | None) -> int:
    """The suggested H3 resolution of the whole (unfiltered) dataset."""
    return suggested_resolution_for(read_dataset(dataset_key, columns, zone).pings)


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def filtered_pings(
    dataset_key: str, columns: Columns, zone: str | None, filters: FilterKey
) -> pl.DataFrame:
    start, end, h0, h1, types = filters
    spec = make_filter(
        dt.date.fromisoformat(start) if start else None,
        dt.date.fromisoformat(end) if end else None,
        (h0, h1),
        types,
    )
    return apply_filter(read_dataset(dataset_key, columns, zone).pings, spec)


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def summary_for(
    dataset_key: str, columns: Columns, zone: str | None, filters: FilterKey, res: int
) -> Summary:
    """Bin and summarise the filtered pings at ``res``."""
    read = read_dataset(dataset_key, columns, zone)
    frame = filtered_pings(dataset_key, columns, zone, filters)
    unfiltered = frame.height == read.pings.height
    return summarise(
        frame,
        res,
        rows_read=read.rows_read if unfiltered else frame.height,
        rejected_by_reason=read.rejected_by_reason if unfiltered else None,
        time_interpretation=read.time_interpretation,
        naive_timestamps=read.naive_timestamps,
        # Built already compacted for the detectors under the default configuration,
        # which analysis_for uses: the same findings in less time and memory.
        per_ping="compact",
    )


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def analysis_for(
    dataset_key: str, columns: Columns, zone: str | None, filters: FilterKey, res: int
) -> Analysis:
    """Detect and rank findings on the filtered summary."""
    read = read_dataset(dataset_key, columns, zone)
    return analyze_summary(
        summary_for(dataset_key, columns, zone, filters, res),
        source=read.source,
        salt=salt_for(dataset_key),
        suggested_resolution=suggested_for(dataset_key, columns, zone),
        input_sha256=read.input_sha256,
        columns=read.columns,
    )


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def metrics_for(
    dataset_key: str,
    columns: Columns,
    zone: str | None,
    filters: FilterKey,
    res: int,
) -> tuple[pl.DataFrame, int]:
    """Per-cell map metrics (coarsened past 100,000 cells) and their resolution."""
    analysis = analysis_for(dataset_key, columns, zone, filters, res)
    map_res = map_resolution(analysis.summary)
    return cell_metrics(analysis.summary, analysis.findings, resolution=map_res), map_res


def clear_all() -> None:
    """Forget every cached stage (after a dataset is deleted, and between tests)."""
    st.cache_resource.clear()
    st.cache_data.clear()


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def layer_for(
    dataset_key: str, columns: Columns, zone: str | None, filters: FilterKey, res: int, metric: str
) -> tuple[str, list[LegendStop]]:
    """The map layer's rows (JSON text) and legend for one metric."""
    metrics, _ = metrics_for(dataset_key, columns, zone, filters, res)
    return layer_rows(metrics, metric)


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def home_view_for(
    dataset_key: str, columns: Columns, zone: str | None, filters: FilterKey, res: int
) -> dict[str, float]:
    """The map view that shows the data (computed once per analysis)."""
    return view_for_summary(analysis_for(dataset_key, columns, zone, filters, res).summary)


@st.cache_resource(max_entries=32, show_spinner=False)
def comparison_for(
    dataset_key: str,
    columns: Columns,
    zone: str | None,
    filters: FilterKey,
    res: int,
    hex_ids: tuple[str, ...],
) -> Comparison:
    """An area (hex ids) against the rest of the filtered data."""
    summary = analysis_for(dataset_key, columns, zone, filters, res).summary
    return compare_area(summary, hex_ids)
