"""Time-of-day page: the selected area's hour profile against the rest of the data.

Shares count devices (device-hours); a file without device ids is shown in pings, and
says so, rather than as an empty device chart.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import cache, frame
from app.components import HOURS, inert
from explorer.detectors.needs import DEVICE_IDS


def _hours_frame(columns: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.RangeIndex(HOURS, name="local hour"))


def _area_numbers(area, rest, label: str, has_devices: bool) -> None:
    if has_devices:
        st.markdown(
            f"**{inert(label)}**: {area.pings:,} pings from {area.devices:,} devices in "
            f"{area.cells:,} cells. Rest of the data: {rest.pings:,} pings from "
            f"{rest.devices:,} devices."
        )
    else:
        st.markdown(
            f"**{inert(label)}**: {area.pings:,} pings in {area.cells:,} cells. "
            f"Rest of the data: {rest.pings:,} pings."
        )


def _caption(no_devices: str | None) -> None:
    if no_devices is None:
        st.caption(
            "Hours are local at each ping's place. Shares count devices: a device seen at an "
            "hour counts once for that hour, however many pings it sent."
        )
    else:
        st.caption(
            f"Hours are local at each ping's place. Shares count pings, not devices, because "
            f"{inert(no_devices)}: a busy device weighs more than a quiet one."
        )


def time_page() -> None:
    """Draw the Time of day page."""
    page = frame.open_page("time", "Time of day")
    if page is None or page.analysis is None:
        return
    no_devices = page.analysis.lacking.get(DEVICE_IDS)
    _caption(no_devices)
    area = page.area()
    if area is None:
        st.info("Select a finding (Show on map) or click a cell on the map to compare it here.")
        whole = cache.comparison_for(*page.args, ()).rest
        if no_devices is None:
            chart = _hours_frame({"whole data set": whole.hour_shares})
            st.line_chart(chart, y_label="share of device-hours")
        else:
            chart = _hours_frame({"whole data set": whole.hour_ping_shares})
            st.line_chart(chart, y_label="share of pings")
        return
    cells, label = area
    comparison = cache.comparison_for(*page.args, tuple(cells))
    _area_numbers(comparison.area, comparison.rest, label, no_devices is None)
    if no_devices is None:
        hours = _hours_frame(
            {
                "selected area": comparison.area.hour_shares,
                "rest of the data": comparison.rest.hour_shares,
            }
        )
        st.line_chart(hours, y_label="share of device-hours")
        st.caption("The same by pings (busy devices weigh more):")
    pings = _hours_frame(
        {
            "selected area": comparison.area.hour_ping_shares,
            "rest of the data": comparison.rest.hour_ping_shares,
        }
    )
    st.line_chart(pings, y_label="share of pings")
