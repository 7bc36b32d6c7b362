"""The map panel shared by the Findings and Map pages."""

from __future__ import annotations

import hashlib
import html
import json

import streamlit as st
import streamlit.components.v1 as st_components

from app import cache, deck, sidebar, state
from app.frame import Page
from app.state import ViewState
from explorer.interactive.basemap import base_map
from explorer.interactive.map_layers import LegendStop, view_for_cells

#: The style Streamlit's frontend loads for its online basemap (light theme); the page
#: asks for it once to say whether the online basemap can load at all.
ONLINE_STYLE_URL = "https://basemaps.cartocdn.com/gl/positron-gl-style/style.json"
ONLINE_NOTE = (
    "Online basemap on: its tiles come from an outside map service and need a network. "
    "The coasts and borders shipped with the app are drawn either way; turn it off in the "
    "sidebar for the full offline map with place names."
)
#: Says in the page, from the browser, whether the online basemap's style could be fetched.
_PROBE = """<div id="probe" style="font:14px sans-serif;color:#555">
Checking the online basemap…</div>
<script>
const box = document.getElementById("probe");
function report(ok) {
  box.textContent = ok
    ? "The online basemap loaded."
    : "The online basemap could not be loaded (no network, or its map service is "
      + "unreachable): the map shows the offline coasts and borders only.";
  box.style.color = ok ? "#555" : "#b00020";
  box.dataset.state = ok ? "loaded" : "failed";
}
const timer = setTimeout(() => report(false), 10000);
fetch(URL, {mode: "no-cors", cache: "no-store"})
  .then(() => { clearTimeout(timer); report(true); })
  .catch(() => { clearTimeout(timer); report(false); });
</script>"""


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


def shown_metric(page: Page) -> str:
    """The view's colour metric, else its default for this analysis (app/state.py)."""
    findings = page.analysis.findings if page.analysis is not None else []
    return state.metric_shown(page.view, any(f.cells for f in findings))


def view_id(page: Page, view: dict[str, float]) -> str:
    """An id of the data and camera the map shows: it changes with the dataset, filters,
    resolution or computed camera, so the browser then takes the new camera whole."""
    text = json.dumps([repr(page.args), view], sort_keys=True, default=str)
    return "map-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def legend(stops: list[LegendStop], metric: str) -> None:
    """Colour swatches, each with its range and share of cells in words."""
    items = []
    for stop in stops:
        r, g, b = stop.color
        items.append(
            f'<span style="white-space:nowrap"><span style="display:inline-block;width:0.9em;'
            f"height:0.9em;background:rgb({r},{g},{b});margin:0 0.3em 0 0.8em;"
            f'vertical-align:middle"></span>{html.escape(stop.label)}</span>'
        )
    name = html.escape(deck.METRIC_LABELS.get(metric, metric))
    with st.container(key="map-legend"):
        st.markdown(f"<small><b>{name}</b>{' '.join(items)}</small>", unsafe_allow_html=True)


def online_basemap_note() -> None:
    """Say that the online basemap needs a network, and whether the browser reached it."""
    with st.container(key="online-basemap"):
        st.caption(ONLINE_NOTE)
        st_components.html(_PROBE.replace("URL", json.dumps(ONLINE_STYLE_URL)), height=48)


def map_panel(page: Page, metric: str | None) -> ViewState:
    """Legend and map coloured by ``metric`` (``None``: the default); returns the view
    (a click may set ``cell``)."""
    metric = metric or shown_metric(page)
    basemap = sidebar.basemap_on(page.view)
    rows, stops = cache.layer_for(*page.args, metric)
    _, map_res = cache.metrics_for(*page.args)
    legend(stops, metric)
    if map_res != page.res:
        st.caption(
            f"Too many cells to draw: shown at resolution {map_res} (each a group of "
            f"resolution-{page.res} cells); findings use resolution {page.res}."
        )
    if basemap:
        online_basemap_note()
    finding = page.selected_finding()
    selected = list(finding.cells) if finding is not None else []
    view = map_view_state(page)
    built = deck.build_deck(
        rows, selected, view, basemap, metric, base=base_map(view), view_id=view_id(page, view)
    )
    return deck.draw_map(built, page.view)
