"""The pydeck map: cells coloured by a metric, the selected finding's cells outlined.

Rows carry only what the layer and its text tooltip need (hex id, a few numbers, a
colour); the view state is a pure function of the URL and the data, so reruns do not
move the map unless the selection changed.
"""

from __future__ import annotations

import polars as pl
import pydeck as pdk
import streamlit as st

from app import state
from app.state import ViewState
from explorer.mapdata import LegendStop, color_ramp

METRIC_LABELS = {
    "pings": "pings",
    "devices": "devices",
    "pings_per_device": "pings per device",
    "type_share": "share of devices of the main type",
    "night_share": "share of pings at night (0–6 h)",
    "finding_score": "finding score",
}
TOOLTIP = {
    "text": "Cell {hex}\n{pings} pings · {devices} devices\n{label}: {value}",
}
SELECTED_LINE = [230, 30, 30, 255]


def layer_rows(metrics: pl.DataFrame, metric: str) -> tuple[list[dict], list[LegendStop]]:
    """One dict per cell for the layer, and the legend of its colours."""
    colours, stops = color_ramp(metrics[metric], metric)
    values = metrics[metric].cast(pl.Float64)
    text = values.map_elements(
        lambda v: f"{v:,.2f}" if v is not None and v == v else "–", return_dtype=pl.String
    )
    frame = metrics.select("hex", "pings", "devices").with_columns(
        value=text,
        label=pl.lit(METRIC_LABELS[metric]),
        color=pl.Series(colours, dtype=pl.List(pl.Int64)),
    )
    return frame.to_dicts(), stops


def build_deck(
    rows: list[dict],
    selected_cells: list[str],
    view: dict[str, float],
    basemap: bool,
) -> pdk.Deck:
    """A deck with layer ``cells`` and, when a finding is selected, layer ``selected``."""
    layers = [
        pdk.Layer(
            "H3HexagonLayer",
            id="cells",
            data=rows,
            get_hexagon="hex",
            get_fill_color="color",
            pickable=True,
            auto_highlight=True,
            stroked=False,
            extruded=False,
        )
    ]
    if selected_cells:
        layers.append(
            pdk.Layer(
                "H3HexagonLayer",
                id="selected",
                data=[{"hex": h} for h in selected_cells],
                get_hexagon="hex",
                filled=False,
                stroked=True,
                get_line_color=SELECTED_LINE,
                line_width_min_pixels=3,
                pickable=False,
            )
        )
    kwargs = {"map_style": None} if basemap else {"map_provider": None, "map_style": None}
    return pdk.Deck(
        layers=layers,
        initial_view_state=pdk.ViewState(**view, pitch=0, bearing=0),
        tooltip=TOOLTIP,
        **kwargs,
    )


def draw_map(deck: pdk.Deck, view: ViewState) -> ViewState:
    """Draw the map; a clicked cell becomes the view's ``cell`` (written to the URL)."""
    event = st.pydeck_chart(
        deck, key="map", on_select="rerun", selection_mode="single-object", height=520
    )
    picked = _picked_hex(event)
    if picked is not None and state.new_selection("map", picked):
        view = view.with_changes(cell=picked)
        state.write_view(view)
    return view


def _picked_hex(event: object) -> str | None:
    try:
        objects = event.selection["objects"].get("cells") or []  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError):
        return None
    if not objects:
        return None
    value = objects[0].get("hex") if isinstance(objects[0], dict) else None
    return str(value) if value else None
