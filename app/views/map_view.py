"""Map page: cells coloured by a chosen metric; a clicked cell shows its profile."""

from __future__ import annotations

import streamlit as st

from app import cache, components, frame, mapview, state
from app.deck import METRIC_LABELS
from explorer.interactive.map_layers import METRICS


def _on_metric() -> None:
    metric = state.widget_value("f_metric")
    state.write_view(state.read_view().with_changes(metric=metric))


def map_page() -> None:
    """Draw the Map page."""
    page = frame.open_page("map", "Map")
    if page is None or page.analysis is None:
        return
    metric = mapview.shown_metric(page)
    state.sync_widget("f_metric", metric)
    st.selectbox(
        "Colour cells by",
        METRICS,
        format_func=lambda m: METRIC_LABELS[m],
        key="f_metric",
        on_change=_on_metric,
    )
    view = mapview.map_panel(page, metric)
    if not view.cell:
        st.info("Click a hexagon to see its hour profile and device-type mix.")
        return
    comparison = cache.comparison_for(*page.args, (view.cell,))
    if comparison.area.pings == 0:
        st.info("The selected cell holds no pings under the current filters.")
        return
    st.subheader(f"Cell {view.cell}")
    st.markdown(
        f"{comparison.area.pings:,} pings from {comparison.area.devices:,} devices "
        f"({comparison.area.cells} cell{'s' if comparison.area.cells != 1 else ''} at "
        f"resolution {page.res})."
    )
    components.profile_charts(comparison.area, comparison.rest, "this cell")
