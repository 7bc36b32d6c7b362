"""Findings page: upload, the findings list (badge, title, story) and the map."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app import cache, components, frame, mapview, state
from app.state import ViewState
from explorer.detectors.needs import DEVICE_IDS, without_device_counts
from explorer.findings import Finding

UPLOAD_TYPES = ["csv", "gz", "parquet"]


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
    _release(upload.file_id)
    state.add_owned(dataset_id)
    state.write_view(ViewState(ds=dataset_id))


def _release(file_id: str) -> None:
    """Drop the uploaded bytes from Streamlit's memory once they are in the store: they
    would otherwise stay there until the session ends, an upload's size per session (the
    uploader then shows no file; the dataset is read from the store)."""
    ctx = get_script_run_ctx()
    manager = getattr(ctx, "uploaded_file_mgr", None)
    if ctx is not None and manager is not None:
        manager.remove_file(ctx.session_id, file_id)


def finding_card(finding: Finding, selected: bool, has_devices: bool = True) -> None:
    with st.container(key=f"finding-{finding.id}", border=True):
        components.severity_badge(finding.severity)
        # Titles and stories quote the data (device types, file names): shown as text.
        st.markdown(f"**{components.inert(finding.title)}**")
        st.markdown(components.inert(finding.story))
        st.button(
            "Show on map",
            key=f"select-{finding.id}",
            on_click=_select,
            args=(finding.id,),
            type="primary" if selected else "secondary",
        )
        if selected:
            # Without device ids every device count reads 0: they are left out.
            evidence = finding.evidence if has_devices else without_device_counts(finding.evidence)
            components.evidence_chart(replace(finding, evidence=evidence))


def findings_page() -> None:
    """Draw the Findings page (default page)."""
    st.title("Findings")
    upload_section()
    page = frame.open_page("findings", None)
    if page is None or page.analysis is None:
        return
    analysis = page.analysis
    findings = analysis.findings
    has_devices = DEVICE_IDS not in analysis.lacking
    left, right = st.columns([5, 6])
    with left:
        with st.container(key="findings-summary"):
            st.markdown(components.summary_line(findings, analysis.summary.rows_used))
        if not findings:
            components.checks_run_note(analysis)
        components.skipped_checks(analysis)
        for finding in findings:
            finding_card(finding, finding.id == page.view.finding, has_devices)
    with right:
        view = mapview.map_panel(page, page.view.metric)
        if view.cell:
            st.caption(
                f"Cell {view.cell} selected: its profile is on the Map page, and the Time of "
                "day and Device types pages compare it with the rest."
            )
