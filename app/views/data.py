"""Data page: profile, rejected rows, time zone, downloads, fixes and deletion."""

from __future__ import annotations

import zoneinfo

import pandas as pd
import streamlit as st

from app import cache, frame, state
from app.components import inert
from app.downloads import download_section, fixes_section
from app.frame import Page
from app.pipeline import rejected_summary

AT_EACH_PLACE = "At each ping's place (default)"


def _profile(page: Page) -> None:
    profile = page.analysis.profile() if page.analysis is not None else None
    read = page.read
    st.subheader("Rows")
    cols = st.columns(3)
    cols[0].metric("Rows read", f"{read.rows_read:,}")
    cols[1].metric("Rows used", f"{read.rows_used:,}")
    cols[2].metric("Rows rejected", f"{read.rows_rejected:,}")
    rejected_summary(read)
    # Column names are the file's: quoted as text, never as a code span they could close.
    used = ", ".join(f"{role} ← “{inert(name)}”" for role, name in read.columns.items())
    st.markdown("**Columns used:** " + used)
    # How each was chosen (explicitly, by its name or by its values) and why, as explorer
    # says: a table, so the names and reasons from the file are shown as text.
    st.dataframe(pd.DataFrame(read.column_choices), hide_index=True, key="column-choices")
    if profile is not None:
        span = profile["time"]
        st.markdown(f"**Time span (UTC, after filters):** {span['start']} to {span['end']}")
        st.markdown("**Busiest cells (after filters)**")
        st.dataframe(pd.DataFrame(profile["top_cells"]), hide_index=True)


def _on_zone() -> None:
    choice = state.widget_value("f_zone")
    key = state.recall("zone_dataset")
    state.mark_widget("f_zone", choice)
    state.set_zone(key, None if choice == AT_EACH_PLACE else choice)


def _zone_section(page: Page) -> None:
    st.subheader("Time zone of the timestamps")
    if not page.read.naive_timestamps and page.dataset.zone is None:
        st.caption("The timestamps carry their zone (or are epoch times): nothing to choose.")
        return
    st.caption(
        "Timestamps without a zone are read as local time at each ping's place. If your "
        "file was written in one zone, say which and the file is read again."
    )
    zones = [AT_EACH_PLACE, *sorted(zoneinfo.available_timezones())]
    state.remember("zone_dataset", page.dataset.key)
    state.sync_widget("f_zone", page.dataset.zone or AT_EACH_PLACE)
    st.selectbox("Read naive timestamps in", zones, key="f_zone", on_change=_on_zone)


def _delete_section(page: Page) -> None:
    if page.dataset.is_sample or not state.owns(page.dataset.key):
        return
    st.subheader("Your upload")
    st.caption(
        f"Stored under a private link for {cache.store().retention_s / 86400:.0f} days. "
        "Only this browser session can delete it."
    )
    if st.button("Delete my upload", key="delete-upload", type="secondary"):
        cache.store().delete(page.dataset.key)
        state.drop_owned(page.dataset.key)
        cache.clear_all()
        state.write_view(state.ViewState())
        state.flash("Your upload was deleted; showing the sample.")
        st.rerun()


def data_page() -> None:
    """Draw the Data page."""
    page = frame.open_page("data", "Data")
    if page is None:
        return
    _profile(page)
    _zone_section(page)
    if page.analysis is not None:
        download_section(page)
        fixes_section(page)
    _delete_section(page)
