"""The one place with ``st.cache_*`` wrappers: every stage of the pipeline, per dataset.

Cached functions take a dataset key (``"sample"`` or a store id), the column mapping
and time zone as tuples/strings, and filter values: never an upload object. Data is
loaded from the store *inside* the cache, so one user's key never yields another's
bytes. The stages that hold frames (pings, filtered pings, summaries, analyses) are
kept by their size within the server's memory budget (:mod:`app.budget`), and run in
one of a few analysis slots; the small derived stages use ``cache_resource``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from app.budget import (
    CACHE_SHARE,
    BudgetCache,
    analysis_slot,
    memory_budget,
    upload_expansion,
)
from app.deck import layer_rows
from app.store import DatasetStore
from explorer.analysis import Analysis, analyze_summary, suggested_resolution_for
from explorer.engines.sizing import input_format
from explorer.errors import PingFileError
from explorer.interactive.area_profiles import Comparison, compare_area
from explorer.interactive.filters import FilterOptions, apply_filter, filter_options, make_filter
from explorer.interactive.map_layers import (
    LegendStop,
    cell_metrics,
    map_resolution,
    view_for_summary,
)
from explorer.reading.decode import UnpackedTooLarge
from explorer.reading.pings import ReadResult, read_pings
from explorer.summary import Summary, summarise
from explorer.summary.views import label_key, label_key_of_pings

if TYPE_CHECKING:  # pragma: no cover - typing only
    from explorer.interactive.compare_view import CompareView
    from explorer.interactive.coverage_view import CoverageView
    from explorer.reading.reference import Reference

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
    found.remove_interrupted_writes()
    found.purge_expired()
    return found


@st.cache_resource(show_spinner=False)
def _frames() -> BudgetCache:
    """The cache of the stages that hold frames, within half the memory budget."""
    return BudgetCache(lambda: int(memory_budget() * CACHE_SHARE))


def _source(dataset_key: str) -> tuple[Path, str]:
    """(path, display name) of a dataset key; a refused upload raises its refusal again
    without being read."""
    if dataset_key == SAMPLE_KEY:
        path = sample_path()
        return path, path.name
    found = store().info(dataset_key)
    if found is not None and found.refused:
        raise PingFileError(found.refused)
    path = store().path(dataset_key)
    if found is None or path is None:
        # The caller checked the store; this only happens if it expired in between.
        raise LookupError("This dataset link is not valid or has expired.")
    return path, found.name


def _refuse_if_too_large(path: Path, name: str) -> None:
    """Refuse, before reading, a file whose analysis would need more than the budget."""
    kind = input_format(name)
    budget = memory_budget()
    if kind != "gzip" and path.stat().st_size * upload_expansion(kind) > budget:
        megabytes, times = path.stat().st_size / 1e6, upload_expansion(kind)
        raise UnpackedTooLarge(
            f"{name} is too large to analyse on this server ({megabytes:,.0f} MB of "
            f"{kind.upper()} needs about {times:.0f} times that in memory, more "
            f"than its {budget / (1 << 30):.1f} GB budget); analyse it on your own machine "
            "with the package's chunked engine (see the README) or upload a part of it."
        )


def _planned(path: Path, name: str) -> int:
    """Memory an upload's analysis is planned to need (all of the budget for a gzip file,
    whose unpacked size is known only once it is read)."""
    kind = input_format(name)
    if kind == "gzip":
        return memory_budget()
    return int(path.stat().st_size * upload_expansion(kind))


def read_dataset(dataset_key: str, columns: Columns, zone: str | None) -> ReadResult:
    """Read a dataset (raises PingFileError / ColumnMappingError as explorer does); an
    upload too large for the memory budget is refused, and remembered as refused."""
    key = ("read", dataset_key, columns, zone)
    return _frames().get(key, lambda: _read(dataset_key, columns, zone))


def _read(dataset_key: str, columns: Columns, zone: str | None) -> ReadResult:
    path, name = _source(dataset_key)
    try:
        with analysis_slot():
            _refuse_if_too_large(path, name)
            _frames().make_room(_planned(path, name), memory_budget())
            return read_pings(
                path,
                columns=dict(columns) or None,
                tz=zone,
                name=name,
                max_unpacked=int(memory_budget() // upload_expansion("gzip")),
            )
    except UnpackedTooLarge as exc:
        if dataset_key != SAMPLE_KEY:
            store().set_refused(dataset_key, _for_the_app(exc))
        raise PingFileError(_for_the_app(exc)) from exc


def _for_the_app(exc: UnpackedTooLarge) -> str:
    """The reader's refusal, with what to do here instead of command-line advice."""
    if not exc.limit:
        return str(exc)  # the app's own refusal, already worded for the page
    return (
        f"{exc.label} unpacks to more than {exc.limit / (1 << 20):,.0f} MB, more than this "
        "server analyses at once; analyse it on your own machine with the package's "
        "chunked engine (see the README) or upload a part of it."
    )


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def label_key_for(dataset_key: str, columns: Columns, zone: str | None) -> str:
    """The key of a dataset's device labels: the command line's for the same file, so an
    upload and a report of it name devices alike, whatever the filters."""
    return label_key_of_pings(read_dataset(dataset_key, columns, zone).pings)


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def options_for(dataset_key: str, columns: Columns, zone: str | None) -> FilterOptions:
    """Local date span and device types of the whole dataset (for the filter form)."""
    return filter_options(read_dataset(dataset_key, columns, zone).pings)


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def suggested_for(dataset_key: str, columns: Columns, zone: str | None) -> int:
    """The suggested H3 resolution of the whole (unfiltered) dataset."""
    return suggested_resolution_for(read_dataset(dataset_key, columns, zone).pings)


def filtered_pings(
    dataset_key: str, columns: Columns, zone: str | None, filters: FilterKey
) -> pl.DataFrame:
    """The dataset's pings that pass the filters."""
    key = ("filtered", dataset_key, columns, zone, filters)
    return _frames().get(key, lambda: _filtered(dataset_key, columns, zone, filters))


def _filtered(
    dataset_key: str, columns: Columns, zone: str | None, filters: FilterKey
) -> pl.DataFrame:
    start, end, h0, h1, types = filters
    spec = make_filter(
        dt.date.fromisoformat(start) if start else None,
        dt.date.fromisoformat(end) if end else None,
        (h0, h1),
        types,
    )
    pings = read_dataset(dataset_key, columns, zone).pings
    with analysis_slot():
        filtered = apply_filter(pings, spec)
    # Unfiltered, it is the same frame: cache it as nothing more.
    return pings if filtered.height == pings.height else filtered


def summary_for(
    dataset_key: str, columns: Columns, zone: str | None, filters: FilterKey, res: int
) -> Summary:
    """Bin and summarise the filtered pings at ``res``."""
    key = ("summary", dataset_key, columns, zone, filters, res)
    return _frames().get(key, lambda: _summary(dataset_key, columns, zone, filters, res))


def _summary(
    dataset_key: str, columns: Columns, zone: str | None, filters: FilterKey, res: int
) -> Summary:
    read = read_dataset(dataset_key, columns, zone)
    frame = filtered_pings(dataset_key, columns, zone, filters)
    unfiltered = frame.height == read.pings.height
    with analysis_slot():
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


def analysis_for(
    dataset_key: str, columns: Columns, zone: str | None, filters: FilterKey, res: int
) -> Analysis:
    """Detect and rank findings on the filtered summary, against the dataset's own
    reference population when it has one (the sample's layer, or one uploaded with it)."""
    sha = reference_sha(dataset_key)
    key = ("analysis", dataset_key, columns, zone, filters, res, sha)
    return _frames().get(key, lambda: _analysis(dataset_key, columns, zone, filters, res, sha))


def reference_sha(dataset_key: str) -> str:
    """What names the dataset's own reference population in cache keys: its sha256,
    ``"sample"`` for the sample's layer, empty without one (a new upload, a new key)."""
    if dataset_key == SAMPLE_KEY:
        return "sample" if sample_population_path() is not None else ""
    found = store().reference_info(dataset_key)
    return found.sha256 if found is not None else ""


def _own_reference_or_none(dataset_key: str, sha: str) -> Reference | None:
    """The dataset's own reference for its findings; one that cannot be read gives none
    here (the Coverage page says why in its sentence)."""
    if not sha:
        return None
    try:
        return own_reference(dataset_key, sha)
    except PingFileError:
        return None


def _analysis(
    dataset_key: str,
    columns: Columns,
    zone: str | None,
    filters: FilterKey,
    res: int,
    sha: str = "",
) -> Analysis:
    read = read_dataset(dataset_key, columns, zone)
    summary = summary_for(dataset_key, columns, zone, filters, res)
    unfiltered = filtered_pings(dataset_key, columns, zone, filters).height == read.pings.height
    with analysis_slot():
        return analyze_summary(
            summary,
            source=read.source,
            # Unfiltered, the summary's own key is the data set's (and costs no pass).
            salt=label_key(summary) if unfiltered else label_key_for(dataset_key, columns, zone),
            suggested_resolution=suggested_for(dataset_key, columns, zone),
            input_sha256=read.input_sha256,
            columns=read.columns,
            reference=_own_reference_or_none(dataset_key, sha),
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


#: The filters of a whole dataset (no date, hour or device-type filter).
WHOLE: FilterKey = (None, None, 0, 24, None)


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def delivery_comparison_for(
    before: tuple[str, Columns, str],
    after: tuple[str, Columns, str],
    zone: str | None,
    res: int,
) -> CompareView:
    """What the Compare page shows: two whole datasets, each ``(key, columns, reference
    sha256)``, analysed at ``res`` and compared (the second is the later delivery)."""
    from explorer.compare import compare_analyses
    from explorer.interactive.compare_view import compare_view

    earlier = analysis_for(before[0], before[1], zone, WHOLE, res)
    later = analysis_for(after[0], after[1], zone, WHOLE, res)
    with analysis_slot():
        return compare_view(compare_analyses(earlier, later))


def sample_population_path() -> Path | None:
    """The bundled sample's population layer (``population.geojson`` beside the sample;
    ``$PBE_SAMPLE_POPULATION`` overrides it), None when there is none."""
    configured = os.environ.get("PBE_SAMPLE_POPULATION")
    path = Path(configured) if configured else sample_path().with_name("population.geojson")
    return path if path.is_file() else None


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def own_reference(dataset_key: str, sha256: str) -> Reference | None:
    """The dataset's own reference population (the sample's layer, or the one uploaded
    with the dataset, whose ``sha256`` keys the cache); raises PingFileError when it
    cannot be read, None when there is none."""
    from explorer.reading.reference_files import read_reference  # geopandas: when used

    del sha256  # part of the cache key only: a new upload is a new entry
    if dataset_key == SAMPLE_KEY:
        path = sample_population_path()
        return None if path is None else read_reference(path)
    found = store().get_reference(dataset_key)
    return None if found is None else read_reference(found.data, name=found.name)


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def coverage_for(
    dataset_key: str,
    columns: Columns,
    zone: str | None,
    filters: FilterKey,
    res: int,
    choice: str | None,
    sha256: str,
) -> CoverageView | None:
    """The Coverage page's numbers against the dataset's own reference (``choice`` None)
    or the coarse default (``"coarse"``); None without a reference. Raises PingFileError
    when the reference cannot be read or no city lies near the data."""
    from explorer.interactive.coverage_view import coverage_view, data_box
    from explorer.reading.reference_files import coarse_reference

    analysis = analysis_for(dataset_key, columns, zone, filters, res)
    if choice == "coarse":
        reference = coarse_reference(*data_box(analysis.summary, analysis.config))
    else:
        reference = own_reference(dataset_key, sha256)
    if reference is None:
        return None
    with analysis_slot():
        return coverage_view(analysis.summary, reference, analysis.config, analysis.salt)


@st.cache_resource(max_entries=_ENTRIES, show_spinner=False)
def device_weights_for(
    dataset_key: str,
    columns: Columns,
    zone: str | None,
    filters: FilterKey,
    res: int,
    choice: str | None,
    sha256: str,
) -> bytes:
    """Weights per device under the file's own device ids, as CSV bytes."""
    from explorer.interactive.coverage_view import device_weights_csv

    analysis = analysis_for(dataset_key, columns, zone, filters, res)
    view = coverage_for(dataset_key, columns, zone, filters, res, choice, sha256)
    pings = filtered_pings(dataset_key, columns, zone, filters)
    with analysis_slot():
        return device_weights_csv(
            analysis.summary, view.reference, pings["device_id"], analysis.config
        )
