"""Which dataset a page shows, and loading it stage by stage with a progress display.

A dataset key is ``"sample"`` or a store id. A link to an unknown, expired or
malformed id says so and the page carries on with the sample. A file that cannot be
read gives its one-sentence error; one whose columns cannot be found gets a mapping
form with a preview.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app import cache, state
from app.components import inert
from app.state import ViewState
from app.store import is_valid_id
from explorer.analysis import Analysis
from explorer.errors import ColumnMappingError, PingFileError
from explorer.interactive.filters import FilterOptions
from explorer.reading.pings import ReadResult

BAD_LINK = (
    "This dataset link is not valid or has expired; upload the file again or open the sample."
)


STALE_FINDING = (
    "The selected finding is not found at resolution {res} with these filters, "
    "so no finding is selected now."
)
STALE_FINDING_ELSEWHERE = (
    "The selected finding is not found at resolution {res}; it is found at resolution "
    "{other} with these filters. No finding is selected now."
)


UNREADABLE = (
    "This file could not be read; check that it is a CSV (plain or gzip) or Parquet file "
    "of pings, or open the sample."
)


@dataclass(frozen=True)
class Dataset:
    """A dataset key with what is needed to read it."""

    key: str
    name: str
    sha256: str
    columns: cache.Columns
    zone: str | None

    @property
    def is_sample(self) -> bool:
        return self.key == cache.SAMPLE_KEY


@dataclass(frozen=True)
class Loaded:
    """A dataset read, filtered and analysed for one view."""

    dataset: Dataset
    read: ReadResult
    options: FilterOptions
    suggested: int
    res: int
    filters: cache.FilterKey
    analysis: Analysis | None  # None when no ping passes the filters

    def args(self) -> tuple:
        """Positional arguments of the cached per-view stages."""
        d = self.dataset
        return (d.key, d.columns, d.zone, self.filters, self.res)


def _sample(zone: str | None) -> Dataset:
    return Dataset(cache.SAMPLE_KEY, cache.sample_path().name, "", (), zone)


def resolve(view: ViewState) -> tuple[Dataset, ViewState]:
    """The dataset of the view, read in the view's time zone; a bad ``ds`` shows the clear
    message and gives the sample."""
    if view.ds is None:
        return _sample(view.tz), view
    found = cache.store().info(view.ds) if is_valid_id(view.ds) else None
    if found is None:
        st.error(BAD_LINK)
        return _sample(view.tz), view
    columns = found.columns or state.mapping_for(found.sha256) or {}
    dataset = Dataset(
        found.dataset_id,
        found.name,
        found.sha256,
        tuple(sorted(columns.items())),
        view.tz,
    )
    return dataset, view


#: What :func:`read` returns instead of a result: the mapping form is shown / the file is unusable.
NEEDS_MAPPING, UNUSABLE = "needs-mapping", "unusable"


def read(dataset: Dataset) -> ReadResult | str:
    """Read with progress; on a mapping problem show the form, on a bad file the error.

    Returns the result, :data:`NEEDS_MAPPING` or :data:`UNUSABLE`.
    """
    try:
        with st.status(f"Reading {inert(dataset.name)} …", expanded=False) as status:
            result = cache.read_dataset(dataset.key, dataset.columns, dataset.zone)
            status.update(label=_read_label(result), state="complete")
            rejected_summary(result)
        return result
    except ColumnMappingError as exc:
        if dataset.is_sample:
            raise
        from app.mapping import mapping_form

        # The reader's best guesses (explorer's, not the app's) fill the form.
        mapping_form(dataset, str(exc), exc.guesses)
        return NEEDS_MAPPING
    except PingFileError as exc:
        from app.mapping import in_form_words

        # The message names the file and its columns: data, shown as text; its
        # command-line flags are said as the form the page offers instead.
        st.error(inert(in_form_words(str(exc))))
        if dataset.columns and not dataset.is_sample:
            from app.mapping import mapping_form

            # The user's own mapping did not work: let them try another.
            mapping_form(dataset, "Choose the columns again.", dict(dataset.columns))
            return NEEDS_MAPPING
        if not dataset.is_sample and state.owns(dataset.key):
            # An unusable upload is of no use to anyone: forget it.
            cache.store().delete(dataset.key, keep_refusal=True)
            state.drop_owned(dataset.key)
        return UNUSABLE
    except Exception:  # noqa: BLE001 - an upload must never take the app down
        if dataset.is_sample:
            raise
        st.error(UNREADABLE)
        return UNUSABLE


def rejected_summary(result: ReadResult) -> None:
    """Rejected rows by reason (each row counts under the first reason that applies)."""
    rejected = {k: v for k, v in result.rejected_by_reason.items() if v}
    if rejected:
        st.markdown("**Rejected rows by reason** (each row counts under its first reason)")
        st.dataframe(
            {"reason": list(rejected), "rows": list(rejected.values())},
            hide_index=True,
        )
    else:
        st.caption("No row was rejected.")
    st.caption(f"Timestamps: {result.time_interpretation}.")


def _read_label(result: ReadResult) -> str:
    rejected = result.rows_rejected
    extra = f", {rejected:,} rejected" if rejected else ""
    return f"Read {result.rows_read:,} rows: {result.rows_used:,} used{extra}"


def analyse(
    dataset: Dataset, result: ReadResult, filters: cache.FilterKey, res: int
) -> Analysis | None:
    """Filter, bin + summarise, detect: each stage cached, each shown as it runs."""
    args = (dataset.key, dataset.columns, dataset.zone, filters)
    with st.status("Filtering …", expanded=False) as status:
        frame = cache.filtered_pings(*args)
        if frame.is_empty():
            status.update(label="No ping passes the filters", state="error")
            return None
        status.update(label=f"Binning and summarising {frame.height:,} pings at resolution {res} …")
        summary = cache.summary_for(*args, res)
        status.update(label=f"Detecting biases in {summary.tables['cells'].height:,} cells …")
        analysis = cache.analysis_for(*args, res)
        status.update(
            label=f"Analysed {frame.height:,} pings"
            + (" (after filters)" if frame.height != result.rows_used else "")
            + f" in {summary.tables['cells'].height:,} cells at resolution {res}: "
            f"{len(analysis.findings)} findings",
            state="complete",
        )
    return analysis


def missing_finding_note(
    view: ViewState,
    dataset: Dataset,
    filters: cache.FilterKey,
    res: int,
    elsewhere: tuple[int, ...],
    analysis: Analysis | None,
) -> str | None:
    """The note for a finding the view names but this analysis lacks (e.g. after a change
    of resolution), None when there is nothing to say.

    The finding is looked up at the ``elsewhere`` resolutions (where this session last saw
    it, the suggested one), so the note can say where it is; those analyses are cached.
    """
    if analysis is None or view.finding is None:
        return None  # nothing passes the filters: no finding can be looked for
    if any(f.id == view.finding for f in analysis.findings):
        return None
    for other in dict.fromkeys(r for r in elsewhere if r != res):
        label = f"Looking for the selected finding at resolution {other} …"
        with st.status(label, expanded=False) as status:
            found = cache.analysis_for(dataset.key, dataset.columns, dataset.zone, filters, other)
            status.update(state="complete")
        if any(f.id == view.finding for f in found.findings):
            return STALE_FINDING_ELSEWHERE.format(res=res, other=other)
    return STALE_FINDING.format(res=res)
