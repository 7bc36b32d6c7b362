"""What every page does first: view from the URL, dataset, filters, analysis, share link."""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from app import cache, components, pipeline, sidebar, state
from app.deck import _picked_hex  # the map's own reading of its selection
from app.pipeline import Dataset
from app.state import ViewState
from explorer.analysis import Analysis
from explorer.findings import Finding
from explorer.interactive.map_layers import view_for_cells
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


def _take_map_click(view: ViewState) -> ViewState:
    """A cell clicked on the map since the last run becomes the view's ``cell`` now, before
    the share link is drawn (the map itself is drawn later in the run).

    The camera moves to the cell at the zoom it had (:func:`_settle_camera`).
    """
    picked = _picked_hex(state.widget_value("map"))
    if picked is None or not state.new_selection("map", picked):
        return view
    return view.with_changes(cell=picked, lat=None, lon=None)


def _drop_missing_finding(page: Page) -> None:
    """A finding the view names but the analysis lacks (e.g. after a resolution change)
    leaves the view with its camera, and the page says so: run again, so the share link,
    the map and every page show the view without it."""
    seen = state.recall("finding_seen")
    elsewhere = (*(seen[1:] if seen and seen[0] == page.view.finding else ()), page.suggested)
    note = pipeline.missing_finding_note(
        page.view, page.dataset, page.filters, page.res, elsewhere, page.analysis
    )
    if note is None:
        if page.view.finding is not None and page.analysis is not None:
            state.remember("finding_seen", (page.view.finding, page.res))
        return
    state.write_view(page.view.with_changes(finding=None, lat=None, lon=None, zoom=None))
    state.flash(note, kind="info")
    st.rerun()


def _settle_camera(page: Page) -> ViewState:
    """The view with the camera its selection implies (the selected finding's cells, else
    the clicked cell at the zoom the view had), unless it names a whole camera already.

    Streamlit does not report the camera after the user moves the map (its pydeck event
    holds the selection alone), so the link carries the camera of the selection.
    """
    v = page.view
    if v.lat is not None and v.lon is not None and v.zoom is not None:
        return v
    finding = page.selected_finding()
    camera = view_for_cells(finding.cells) if finding is not None and finding.cells else None
    if camera is None and v.cell is not None:
        centre = view_for_cells([v.cell])
        zoom = v.zoom if v.zoom is not None else cache.home_view_for(*page.args)["zoom"]
        camera = None if centre is None else {**centre, "zoom": zoom}
    if camera is None:
        return v.with_changes(lat=None, lon=None, zoom=None)
    return v.with_changes(lat=camera["latitude"], lon=camera["longitude"], zoom=camera["zoom"])


def open_page(url_path: str, title: str | None) -> Page | None:
    """Header, dataset and filters of a page; ``None`` when there is nothing to show yet.

    ``title`` None: the page drew its own title (and e.g. the uploader under it). The
    share link is drawn last, from the view every stage has settled (a clicked cell,
    device types the data has, the selection's camera), so it is this run's view.
    """
    if title is not None:
        st.title(title)
    note = state.pop_flash()
    if note is not None:
        message, kind = note
        with st.container(key=f"flash-{kind}"):
            (st.info if kind == "info" else st.error)(message)
    view = _take_map_click(state.read_view())
    dataset, view = pipeline.resolve(view)
    # The header goes above the reading, but is drawn once its outcome is known: an
    # unusable upload gives way to the sample, which must not show the upload's name.
    header = st.container()
    result = pipeline.read(dataset)
    if result == pipeline.UNUSABLE and not dataset.is_sample:
        # The upload cannot be used (the message is shown): carry on with the sample.
        view = view.with_changes(ds=None, finding=None, cell=None, lat=None, lon=None, zoom=None)
        view = state.write_view(view)
        dataset = pipeline.resolve(view)[0]
        result = pipeline.read(dataset)
    with header:
        if dataset.is_sample:
            note = "bundled sample"
        else:
            note = "your upload" if state.owns(dataset.key) else "an upload shared by link"
        components.dataset_header(dataset.name, note)
    if isinstance(result, str):  # the mapping form, or a message, is shown
        components.share_box(state.write_view(view), url_path)
        return None
    options = cache.options_for(dataset.key, dataset.columns, dataset.zone)
    suggested = cache.suggested_for(dataset.key, dataset.columns, dataset.zone)
    filters, res, view = sidebar.filter_sidebar(view, options, suggested)
    analysis = pipeline.analyse(dataset, result, filters, res)
    page = Page(view, dataset, result, filters, res, suggested, analysis)
    _drop_missing_finding(page)
    if analysis is not None:
        page = replace(page, view=_settle_camera(page))
    page = replace(page, view=state.write_view(page.view))
    components.share_box(page.view, url_path)
    return page
