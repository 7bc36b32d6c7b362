"""What every page does first: view from the URL, dataset, filters, analysis, share link."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app import cache, components, pipeline, sidebar, state
from app.pipeline import Dataset
from app.state import ViewState
from explorer.analysis import Analysis
from explorer.findings import Finding
from explorer.reading.pings import ReadResult


@dataclass(frozen=True)
class Page:
    """A page's view and its analysed dataset (``analysis`` None: nothing passes filters)."""

    view: ViewState
    dataset: Dataset
    read: ReadResult
    filters: cache.FilterKey
    res: int
    suggested: int
    analysis: Analysis | None

    @property
    def args(self) -> tuple:
        """Arguments of the cached per-view stages (``cache.metrics_for(*page.args)``)."""
        d = self.dataset
        return (d.key, d.columns, d.zone, self.filters, self.res)

    def selected_finding(self) -> Finding | None:
        if self.analysis is None or self.view.finding is None:
            return None
        return next((f for f in self.analysis.findings if f.id == self.view.finding), None)

    def area(self) -> tuple[list[str], str] | None:
        """The selected area (finding cells, else clicked cell) and its label."""
        finding = self.selected_finding()
        if finding is not None and finding.cells:
            return list(finding.cells), f"finding: {finding.title}"
        if self.view.cell:
            return [self.view.cell], f"cell {self.view.cell}"
        return None


STALE_FINDING = (
    "The selected finding does not exist at resolution {res} with these filters, "
    "so no finding is selected now."
)


def _drop_stale_finding(view: ViewState, analysis: Analysis | None, res: int) -> None:
    """A finding the view names but the analysis lacks (e.g. after a resolution change)
    leaves the view, and the page says so: run again, so the share link, the map and
    every page show the view without it."""
    if analysis is None or view.finding is None:
        return  # nothing passes the filters: no finding can be looked for
    if any(f.id == view.finding for f in analysis.findings):
        return
    state.write_view(view.with_changes(finding=None))
    state.flash(STALE_FINDING.format(res=res), kind="info")
    st.rerun()


def open_page(url_path: str, title: str | None) -> Page | None:
    """Header, dataset and filters of a page; ``None`` when there is nothing to show yet.

    ``title`` None: the page drew its own title (and e.g. the uploader under it).
    """
    if title is not None:
        st.title(title)
    note = state.pop_flash()
    if note is not None:
        message, kind = note
        with st.container(key=f"flash-{kind}"):
            (st.info if kind == "info" else st.error)(message)
    view = state.read_view()
    dataset, view = pipeline.resolve(view)
    # The header goes above the reading, but is drawn once its outcome is known: an
    # unusable upload gives way to the sample, which must not show the upload's name.
    header = st.container()
    result = pipeline.read(dataset)
    if result == pipeline.UNUSABLE and not dataset.is_sample:
        # The upload cannot be used (the message is shown): carry on with the sample.
        view = view.with_changes(ds=None, finding=None, cell=None)
        state.write_view(view)
        dataset = pipeline.resolve(view)[0]
        result = pipeline.read(dataset)
    with header:
        if dataset.is_sample:
            note = "bundled sample"
        else:
            note = "your upload" if state.owns(dataset.key) else "an upload shared by link"
        components.dataset_header(dataset.name, note)
    components.share_box(view, url_path)
    if isinstance(result, str):  # the mapping form, or a message, is shown
        return None
    options = cache.options_for(dataset.key, dataset.columns, dataset.zone)
    suggested = cache.suggested_for(dataset.key, dataset.columns, dataset.zone)
    filters, res = sidebar.filter_sidebar(view, options, suggested)
    analysis = pipeline.analyse(dataset, result, filters, res)
    _drop_stale_finding(view, analysis, res)
    return Page(view, dataset, result, filters, res, suggested, analysis)
