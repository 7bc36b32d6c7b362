"""The pydeck map: cells coloured by a metric over an offline base map, the selected
finding's cells outlined.

Rows carry only what the layer and its text tooltip need (hex id, a few numbers, a
colour); the view state is a pure function of the URL and the data, so reruns do not
move the map unless the selection changed. The map's view carries an id that names the
data it shows: when the data or its resolution changes, the browser takes the new
camera whole instead of keeping the old zoom.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

import numpy as np
import polars as pl
import pydeck as pdk
import streamlit as st

from app import state
from app.state import ViewState
from explorer.interactive.basemap import BaseMap
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
#: Offline base map colours (RGBA): pale water and land, grey coasts and borders.
WATER = [214, 226, 236, 255]
LAND = [244, 242, 237, 255]
COAST = [140, 150, 162, 255]
BORDER = [150, 136, 160, 200]
NAME = [30, 30, 35, 255]
NAME_HALO = [255, 255, 255, 220]
#: Stands in for a layer's data in pydeck's JSON until the pre-serialised rows replace it.
_PLACEHOLDER = "@@pbe-rows@@"
_BASE_PLACEHOLDER = "@@pbe-base-{}@@"


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
    """A Deck whose layers' data is already JSON text (spliced into ``to_json``)."""

    def __init__(self, *args, rows_json: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _ROWS[self] = rows_json

    def to_json(self) -> str:
        text = super().to_json()
        for placeholder, rows in _ROWS.get(self, {}).items():
            text = text.replace(json.dumps(placeholder), rows, 1)
        return text


def base_layers(base: BaseMap, online: bool) -> tuple[list[pdk.Layer], list[pdk.Layer]]:
    """The offline base map's layers: (under the cells, over the cells).

    With the online basemap on, only coasts and borders are drawn (fills would hide its
    tiles, and its own labels would clash with ours); they stay if its tiles fail.
    """
    under = []
    if not online:
        under.append(_polygons("base-water", "water", filled=True, fill=WATER))
    under.append(_polygons("base-land", "land", filled=not online, fill=LAND))
    borders = pdk.Layer(
        "PathLayer",
        id="base-borders",
        data=_BASE_PLACEHOLDER.format("borders"),
        get_path="path",
        get_color=BORDER,
        get_width=1,
        pickable=False,
    )
    under.append(_literal(borders, width_units="pixels"))
    if online:
        return under, []
    names = pdk.Layer(
        "TextLayer",
        id="base-names",
        data=_BASE_PLACEHOLDER.format("places"),
        get_position=["lon", "lat"],
        get_text="name",
        get_size="size",
        get_color=NAME,
        font_settings={"sdf": True},
        outline_width=2,
        outline_color=NAME_HALO,
        # Overlapping names give way to the more populous: fewer names when zoomed out.
        pickable=False,
    )
    font = "Helvetica, Arial, sans-serif"
    return under, [
        _literal(names, size_units="pixels", font_family=font, character_set=base.characters)
    ]


def _literal(layer: pdk.Layer, **props: str) -> pdk.Layer:
    """Set string props as plain strings: given to ``pdk.Layer``, a string becomes an
    expression the browser evaluates (``"pixels"`` would read a field named pixels)."""
    for name, value in props.items():
        setattr(layer, name, value)
    return layer


def _polygons(layer_id: str, rows: str, *, filled: bool, fill: list[int]) -> pdk.Layer:
    layer = pdk.Layer(
        "PolygonLayer",
        id=layer_id,
        data=_BASE_PLACEHOLDER.format(rows),
        get_polygon="polygon",
        filled=filled,
        get_fill_color=fill,
        stroked=layer_id == "base-land",
        get_line_color=COAST,
        get_line_width=1,
        pickable=False,
    )
    return _literal(layer, line_width_units="pixels")


def hexagon_layer(layer_id: str, data: Any) -> pdk.Layer:
    """Cells filled by their ``color`` (rows with ``hex`` and ``color``), pickable."""
    return pdk.Layer(
        "H3HexagonLayer",
        id=layer_id,
        data=data,
        get_hexagon="hex",
        get_fill_color="color",
        pickable=True,
        auto_highlight=True,
        opacity=0.75,
        stroked=False,
        extruded=False,
    )


def build_deck(
    rows_json: str,
    selected_cells: list[str],
    view: dict[str, float],
    basemap: bool,
    metric: str = "pings",
    base: BaseMap | None = None,
    view_id: str = "map-view",
) -> pdk.Deck:
    """A deck with layer ``cells`` and, when a finding is selected, layer ``selected``;
    with ``base``, the offline base map's layers under the cells and its names over them.

    ``view_id`` names the data the view was computed for: a new id makes the browser
    take ``view`` whole (the same id keeps the user's pan and zoom across reruns).
    """
    under, over = base_layers(base, basemap) if base is not None else ([], [])
    layers = [*under, hexagon_layer("cells", _PLACEHOLDER)]
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
    layers.extend(over)
    rows = {_PLACEHOLDER: rows_json}
    if base is not None:
        rows.update({_BASE_PLACEHOLDER.format(k): v for k, v in base.rows_json.items()})
    # Streamlit's frontend adds a Carto basemap when a deck names no style; its
    # "__MAP_STYLE__" placeholder is the one style that means "draw no basemap".
    kwargs = {"map_style": None} if basemap else {"map_provider": None, "map_style": NO_BASEMAP}
    return _PreSerialisedDeck(
        layers=layers,
        views=[pdk.View(type="MapView", controller=True, id=view_id)],
        initial_view_state=pdk.ViewState(**view, pitch=0, bearing=0),
        tooltip=tooltip(metric),
        rows_json=rows,
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
