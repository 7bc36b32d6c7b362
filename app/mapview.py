"""The map panel shared by the Findings and Map pages."""

from __future__ import annotations

import streamlit as st

from app import cache, components, deck, sidebar
from app.frame import Page
from app.state import ViewState
from explorer.interactive.map_layers import view_for_cells


def map_view_state(page: Page) -> dict[str, float]:
    """URL view if complete, else the selected finding's cells, else the whole data."""
    v = page.view
    if v.lat is not None and v.lon is not None and v.zoom is not None:
        return {"latitude": v.lat, "longitude": v.lon, "zoom": v.zoom}
    finding = page.selected_finding()
    if finding is not None and finding.cells:
        flown = view_for_cells(finding.cells)
        if flown is not None:
            return flown
    return cache.home_view_for(*page.args)


def map_panel(page: Page, metric: str) -> ViewState:
    """Legend and map coloured by ``metric``; returns the view (a click may set ``cell``)."""
    basemap = sidebar.basemap_on(page.view)
    rows, stops = cache.layer_for(*page.args, metric)
    _, map_res = cache.metrics_for(*page.args)
    components.legend(stops, metric)
    if map_res != page.res:
        st.caption(
            f"Too many cells to draw: shown at resolution {map_res} (each a group of "
            f"resolution-{page.res} cells); findings use resolution {page.res}."
        )
    finding = page.selected_finding()
    selected = list(finding.cells) if finding is not None else []
    built = deck.build_deck(rows, selected, map_view_state(page), basemap, metric)
    return deck.draw_map(built, page.view)
