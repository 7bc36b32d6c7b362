"""The pydeck map: cells coloured by a metric, the selected finding's cells outlined.

Rows carry only what the layer and its text tooltip need (hex id, a few numbers, a
colour); the view state is a pure function of the URL and the data, so reruns do not
move the map unless the selection changed.
"""

from __future__ import annotations

import json
import weakref

import numpy as np
import polars as pl
import pydeck as pdk
import streamlit as st

from app import state
from app.state import ViewState
from explorer.interactive.map_layers import LegendStop, color_ramp

METRIC_LABELS = {
    "pings": "pings",
    "devices": "devices",
    "pings_per_device": "pings per device",
    "type_share": "share of devices of the main type",
    "night_share": "share of pings at night (0–6 h)",
    "finding_score": "finding score",
}
SELECTED_LINE = [230, 30, 30, 255]
SELECTED_FILL = [230, 30, 30, 70]
NO_BASEMAP = "__MAP_STYLE__"
#: Stands in for a layer's data in pydeck's JSON until the pre-serialised rows replace it.
_PLACEHOLDER = "@@pbe-rows@@"


def tooltip(metric: str) -> dict[str, str]:
    """Plain-text tooltip (no HTML: cell values may come from a user's file)."""
    return {
        "text": "Cell {hex}\n{pings} pings · {devices} devices\n"
        + METRIC_LABELS[metric]
        + ": {value}"
    }


def layer_rows(metrics: pl.DataFrame, metric: str) -> tuple[str, list[LegendStop]]:
    """The layer's rows as a JSON array (one object per cell) and the legend.

    Serialised by polars in one vectorised step, because pydeck's own serialisation
    is slow for a layer of many cells.
    """
    colours, stops = color_ramp(metrics[metric], metric)
    value = metrics[metric]
    text = (
        value.cast(pl.Int64).cast(pl.String)
        if metric in ("pings", "devices")
        else value.cast(pl.Float64).round(2).cast(pl.String)
    )
    frame = metrics.select("hex", "pings", "devices").with_columns(
        value=text.fill_null("–"),
        color=pl.Series(colours.astype(np.uint8)),
    )
    return frame.write_json(), stops


#: Rows JSON per deck, outside the deck's attributes (pydeck serialises every attribute).
_ROWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _PreSerialisedDeck(pdk.Deck):
    """A Deck whose ``cells`` layer data is already JSON text (spliced into ``to_json``)."""

    def __init__(self, *args, rows_json: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _ROWS[self] = rows_json

    def to_json(self) -> str:
        return super().to_json().replace(json.dumps(_PLACEHOLDER), _ROWS.get(self, "[]"), 1)


def build_deck(
    rows_json: str,
    selected_cells: list[str],
    view: dict[str, float],
    basemap: bool,
    metric: str = "pings",
) -> pdk.Deck:
    """A deck with layer ``cells`` and, when a finding is selected, layer ``selected``."""
    layers = [
        pdk.Layer(
            "H3HexagonLayer",
            id="cells",
            data=_PLACEHOLDER,
            get_hexagon="hex",
            get_fill_color="color",
            pickable=True,
            auto_highlight=True,
            opacity=0.75,
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
                filled=True,
                get_fill_color=SELECTED_FILL,
                stroked=True,
                get_line_color=SELECTED_LINE,
                line_width_min_pixels=3,
                pickable=False,
            )
        )
    # Streamlit's frontend adds a Carto basemap when a deck names no style; its
    # "__MAP_STYLE__" placeholder is the one style that means "draw no basemap".
    kwargs = {"map_style": None} if basemap else {"map_provider": None, "map_style": NO_BASEMAP}
    return _PreSerialisedDeck(
        layers=layers,
        initial_view_state=pdk.ViewState(**view, pitch=0, bearing=0),
        tooltip=tooltip(metric),
        rows_json=rows_json,
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
