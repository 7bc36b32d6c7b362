"""Device types page: the selected area's device-type mix against the rest.

A mix counts devices by type: without device ids, or without two device types to
compare, the page says why there is no chart instead of drawing an empty one.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import cache, frame
from app.components import inert, not_drawn
from explorer.analysis import Analysis
from explorer.detectors.needs import DEVICE_IDS, DEVICE_TYPES


def _mix_frame(columns: dict[str, dict[str, float]]) -> pd.DataFrame:
    types = sorted({t for mix in columns.values() for t in mix})
    return pd.DataFrame(
        {name: [mix.get(t, 0.0) for t in types] for name, mix in columns.items()},
        index=pd.Index(types, name="device type"),
    )


def _no_mix_reason(analysis: Analysis) -> str | None:
    """Why no device-type mix can be drawn, or None when one can."""
    lacking = analysis.lacking
    if DEVICE_IDS in lacking:
        return f"a mix counts each device once, and {lacking[DEVICE_IDS]}"
    return lacking.get(DEVICE_TYPES)


def devices_page() -> None:
    """Draw the Device types page."""
    page = frame.open_page("devices", "Device types")
    if page is None or page.analysis is None:
        return
    reason = _no_mix_reason(page.analysis)
    if reason is not None:
        not_drawn("device-type chart", reason)
        return
    st.caption("Each device counts once, under the type of most of its pings.")
    area = page.area()
    if area is None:
        st.info("Select a finding (Show on map) or click a cell on the map to compare it here.")
        whole = cache.comparison_for(*page.args, ())
        st.bar_chart(_mix_frame({"whole data set": whole.rest.type_shares}), y_label="share")
        return
    cells, label = area
    comparison = cache.comparison_for(*page.args, tuple(cells))
    st.markdown(
        f"**{inert(label)}**: {comparison.area.devices:,} devices; rest of the data: "
        f"{comparison.rest.devices:,} devices."
    )
    mix = _mix_frame(
        {
            "selected area": comparison.area.type_shares,
            "rest of the data": comparison.rest.type_shares,
        }
    )
    st.bar_chart(mix, stack=False, y_label="share of devices")
    counts = (
        pd.DataFrame(
            {
                "selected area": comparison.area.type_devices,
                "rest of the data": comparison.rest.type_devices,
            }
        )
        .fillna(0)
        .astype(int)
    )
    counts.index.name = "device type"
    st.dataframe(counts)
