"""The pydeck spec the browser receives: layers, tooltip, basemap, no device ids."""

from __future__ import annotations

import json

import h3
import polars as pl

from app.deck import NO_BASEMAP, _picked_hex, build_deck, layer_rows
from explorer.interactive.map_layers import PALETTE

CELLS = [h3.latlng_to_cell(40.75 + i * 0.01, -73.98, 9) for i in range(3)]


def metrics() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "hex": CELLS,
            "pings": [1, 50, 900],
            "devices": [1, 5, 30],
            "night_share": [0.0, 0.5, None],
        }
    )


def test_rows_carry_only_what_the_layer_needs() -> None:
    rows_json, stops = layer_rows(metrics(), "night_share")
    rows = json.loads(rows_json)
    assert [r["hex"] for r in rows] == CELLS
    assert set(rows[0]) == {"hex", "pings", "devices", "value", "color"}
    assert [r["value"] for r in rows] == ["0.0", "0.5", "–"]
    assert rows[0]["color"] == list(PALETTE[0]) and len(stops) == 6


def test_deck_has_cells_and_selected_layers_and_a_text_tooltip() -> None:
    rows_json, _ = layer_rows(metrics(), "pings")
    deck = build_deck(rows_json, CELLS[:1], {"latitude": 40.7, "longitude": -74, "zoom": 10}, True)
    spec = json.loads(deck.to_json())
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert layers["cells"]["@@type"] == "H3HexagonLayer"
    assert [r["hex"] for r in layers["cells"]["data"]] == CELLS
    assert layers["selected"]["data"] == [{"hex": CELLS[0]}]
    assert spec["initialViewState"]["zoom"] == 10
    assert spec.get("mapProvider") == "carto" and "mapStyle" not in spec  # map_style=None
    assert set(deck._tooltip) == {"text"}  # noqa: SLF001 - what Streamlit sends as tooltip
    assert "{hex}" in deck._tooltip["text"]  # noqa: SLF001


def test_without_basemap_the_spec_names_no_outside_style() -> None:
    rows_json, _ = layer_rows(metrics(), "pings")
    spec = json.loads(
        build_deck(rows_json, [], {"latitude": 0, "longitude": 0, "zoom": 1}, False).to_json()
    )
    assert spec["mapStyle"] == NO_BASEMAP and "mapProvider" not in spec
    assert "http" not in json.dumps(spec)
    assert [layer["id"] for layer in spec["layers"]] == ["cells"]


class _Event:
    def __init__(self, selection: dict) -> None:
        self.selection = selection


def test_a_clicked_hexagon_is_read_from_the_selection() -> None:
    assert _picked_hex(_Event({"objects": {"cells": [{"hex": CELLS[1], "pings": 50}]}})) == CELLS[1]
    assert _picked_hex(_Event({"objects": {}})) is None
    assert _picked_hex(_Event({"objects": {"cells": []}})) is None
    assert _picked_hex(object()) is None
