"""Time-of-day page: the selected area's hour profile against the rest of the data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import cache, frame
from app.components import HOURS, inert


def _area_numbers(area, rest, label: str) -> None:
    st.markdown(
        f"**{inert(label)}**: {area.pings:,} pings from {area.devices:,} devices in {area.cells:,} "
        f"cells. Rest of the data: {rest.pings:,} pings from {rest.devices:,} devices."
    )


def time_page() -> None:
    """Draw the Time of day page."""
    page = frame.open_page("time", "Time of day")
    if page is None or page.analysis is None:
        return
    area = page.area()
    st.caption(
        "Hours are local at each ping's place. Shares count devices: a device seen at an "
        "hour counts once for that hour, however many pings it sent."
    )
    if area is None:
        st.info("Select a finding (Show on map) or click a cell on the map to compare it here.")
        whole = cache.comparison_for(*page.args, ())
        chart = pd.DataFrame(
            {"whole data set": whole.rest.hour_shares},
            index=pd.RangeIndex(HOURS, name="local hour"),
        )
        st.line_chart(chart, y_label="share of device-hours")
        return
    cells, label = area
    comparison = cache.comparison_for(*page.args, tuple(cells))
    _area_numbers(comparison.area, comparison.rest, label)
    hours = pd.DataFrame(
        {
            "selected area": comparison.area.hour_shares,
            "rest of the data": comparison.rest.hour_shares,
        },
        index=pd.RangeIndex(HOURS, name="local hour"),
    )
    st.line_chart(hours, y_label="share of device-hours")
    pings = pd.DataFrame(
        {
            "selected area": comparison.area.hour_ping_shares,
            "rest of the data": comparison.rest.hour_ping_shares,
        },
        index=pd.RangeIndex(HOURS, name="local hour"),
    )
    st.caption("The same by pings (busy devices weigh more):")
    st.line_chart(pings, y_label="share of pings")
