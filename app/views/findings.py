"""Findings page: the data's story, the uploader, findings grouped by kind, and the map.

The map column stays in view beside the list on wide screens and comes first on phones
(:data:`LAYOUT_CSS`), so "Show on map" moves a map the user can see.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app import cache, components, frame, mapview, state
from app.state import ViewState
from explorer.analysis import Analysis
from explorer.detectors.needs import DEVICE_IDS, without_device_counts
from explorer.findings import SEVERITIES, Finding
from explorer.interactive.grouping import (
    FindingCard,
    KindGroup,
    filter_findings,
    group_findings,
    kind_label,
)
from explorer.reports.story import data_story

UPLOAD_TYPES = ["csv", "gz", "parquet"]
#: Groups whose worst finding is this bad open on load; the rest show their heading only.
OPEN_SEVERITIES = ("high", "medium")
#: The map column (container ``map-panel``) sticks below Streamlit's header while the
#: list scrolls; below Streamlit's 640 px breakpoint, where columns stack, it comes first
#: and scrolls with the page (a sticky map would cover the list on a phone).
LAYOUT_CSS = """
<style>
div[data-testid="stColumn"]:has(.st-key-map-panel) {
  position: sticky;
  top: 3.75rem;
  align-self: flex-start;
}
@media (max-width: 640px) {
  div[data-testid="stColumn"]:has(.st-key-map-panel) {
    position: static;
    order: -1;
  }
}
</style>
"""


def _select(finding_id: str) -> None:
    """Select a finding: the URL names it and the map flies to its cells."""
    view = state.read_view().with_changes(
        finding=finding_id, cell=None, lat=None, lon=None, zoom=None
    )
    state.write_view(view)


def upload_section() -> None:
    """The uploader; a new file goes to the store and the URL switches to it."""
    limit = st.get_option("server.maxUploadSize")
    upload = st.file_uploader(
        "Upload your pings (CSV, CSV.gz or Parquet)",
        type=UPLOAD_TYPES,
        key="upload",
        help="Columns are found by name; you can map them yourself if they are not.",
    )
    st.caption(
        f"Files up to {limit} MB. Uploads are kept for {cache.store().retention_s / 86400:.0f} "
        "days under a private link and can be deleted on the Data page."
    )
    if upload is None or state.handled_upload(upload.file_id):
        return
    state.mark_upload(upload.file_id)
    dataset_id = cache.store().put(upload.getvalue(), upload.name)
    release_upload("upload", upload.file_id)
    state.add_owned(dataset_id)
    state.write_view(ViewState(ds=dataset_id))
    st.rerun()  # drawn again for the stored dataset, the uploader empty


def release_upload(key: str, file_id: str) -> None:
    """Drop the uploaded bytes from Streamlit's memory once they are stored: from its
    upload manager and from the uploader's value (``key``), which would otherwise hold
    them until the session expires, an upload's size per session (the browser still
    shows the file's name; the data are read from the store). The caller reruns the
    page: the uploader drawn in this run has no value left to read."""
    ctx = get_script_run_ctx()
    manager = getattr(ctx, "uploaded_file_mgr", None)
    if ctx is not None and manager is not None:
        manager.remove_file(ctx.session_id, file_id)
    state.forget_widget(key)


def _on_kinds() -> None:
    picked = state.widget_value("f_kinds") or []
    every = state.recall("finding_kinds", ())
    kinds = None if not picked or set(picked) == set(every) else tuple(picked)
    state.write_view(state.read_view().with_changes(kinds=kinds))


def _on_severities() -> None:
    picked = state.widget_value("f_severities") or []
    severities = None if not picked or set(picked) == set(SEVERITIES) else tuple(picked)
    state.write_view(state.read_view().with_changes(severities=severities))


def finding_filters(view: ViewState, findings: list[Finding]) -> list[Finding]:
    """Kind and severity multiselects (bound to the view); the findings they let through.

    Nothing picked lists everything, as the sidebar's device types do.
    """
    every = list(dict.fromkeys(f.kind for f in findings))
    state.remember("finding_kinds", tuple(every))
    kinds = [k for k in (view.kinds or ()) if k in every]
    severities = list(view.severities or ())
    state.sync_widget("f_kinds", kinds)
    state.sync_widget("f_severities", severities)
    with st.container(key="findings-filters", horizontal=True):
        st.multiselect(
            "Kinds",
            every,
            format_func=kind_label,
            key="f_kinds",
            on_change=_on_kinds,
            placeholder="All kinds",
        )
        st.multiselect(
            "Severities",
            list(SEVERITIES),
            key="f_severities",
            on_change=_on_severities,
            placeholder="All severities",
        )
    return filter_findings(findings, kinds or None, severities or None)


def _evidence(finding: Finding, has_devices: bool) -> None:
    # Without device ids every device count reads 0: they are left out.
    evidence = finding.evidence if has_devices else without_device_counts(finding.evidence)
    components.evidence_chart(replace(finding, evidence=evidence))


def _select_button(finding: Finding, selected: bool) -> None:
    """ "Show on map" for a finding with cells; a whole-data finding has no place to show,
    so its button only opens its evidence."""
    st.button(
        "Show on map" if finding.cells else "Show evidence",
        key=f"select-{finding.id}",
        on_click=_select,
        args=(finding.id,),
        type="primary" if selected else "secondary",
    )


def folded_card(finding: Finding, selected_id: str | None, has_devices: bool) -> None:
    """A finding told inside another's card: its place is already the host's."""
    with st.container(key=f"finding-{finding.id}"):
        st.markdown(f"Also ({finding.severity}): {components.inert(finding.title)}")
        _select_button(finding, finding.id == selected_id)
        if finding.id == selected_id:
            st.markdown(components.inert(finding.story))
            _evidence(finding, has_devices)


def finding_card(card: FindingCard, selected_id: str | None, has_devices: bool = True) -> None:
    finding = card.finding
    selected = finding.id == selected_id
    with st.container(key=f"finding-{finding.id}", border=True):
        components.severity_badge(finding.severity)
        # Titles and stories quote the data (device types, file names): shown as text.
        st.markdown(f"**{components.inert(finding.title)}**")
        if card.place:
            st.caption(components.inert(card.place))
        st.markdown(components.inert(finding.story))
        _select_button(finding, selected)
        if selected:
            _evidence(finding, has_devices)
        for other in card.also:
            folded_card(other, selected_id, has_devices)


def group_section(group: KindGroup, selected_id: str | None, has_devices: bool) -> None:
    """One kind: an expander headed by its count and worst severity, open when it is bad
    or holds the selected finding."""
    opened = group.worst in OPEN_SEVERITIES or selected_id in group.finding_ids
    with st.expander(group.heading, expanded=opened), st.container(key=f"group-{group.kind}"):
        for card in group.cards:
            finding_card(card, selected_id, has_devices)


def story_section(analysis: Analysis) -> None:
    """The data's story in a few sentences (contract: container ``story``)."""
    with st.container(key="story"):
        st.markdown(components.inert(data_story(analysis)))


def selection_bar(page: frame.Page, view: ViewState) -> None:
    """What is selected, and a button that clears it (contract: container ``selection``)."""
    finding = page.selected_finding()
    if finding is None and not view.cell:
        return
    with st.container(key="selection"):
        if finding is not None:
            st.caption(f"Selected: {components.inert(finding.title)}")
        if view.cell:
            st.caption(
                f"Cell {view.cell} selected: its profile is on the Map page, and the Time "
                "of day and Device types pages compare it with the rest."
            )
        st.button("Clear selection", key="clear-selection", on_click=state.clear_selection)


def findings_page() -> None:
    """Draw the Findings page (default page)."""
    st.title("Findings")
    story_slot = st.container()
    upload_section()
    page = frame.open_page("findings", None)
    if page is None or page.analysis is None:
        return
    analysis = page.analysis
    with story_slot:
        story_section(analysis)
    findings = analysis.findings
    has_devices = DEVICE_IDS not in analysis.lacking
    st.html(LAYOUT_CSS)
    left, right = st.columns([5, 6])
    with left:
        with st.container(key="findings-summary"):
            st.markdown(components.summary_line(findings, analysis.summary.rows_used))
        if not findings:
            components.checks_run_note(analysis)
        components.skipped_checks(analysis)
        shown = finding_filters(page.view, findings) if findings else []
        for group in group_findings(shown):
            group_section(group, page.view.finding, has_devices)
    with right, st.container(key="map-panel"):
        view = mapview.map_panel(page, page.view.metric)
        selection_bar(page, view)
