"""A finding's evidence and its action on the Findings page.

The evidence is explorer's display model (:func:`explorer.reports.evidence.evidence_view`,
the one the HTML report draws): this module only turns its charts into Vega-Lite specs
and its numbers and tables into frames. The action is the button that does what the
story asks (a cleaned copy, another time zone, the column form): no command line.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app import cache, state
from explorer.findings import Finding
from explorer.reports.charts import AREA_COLOUR, REFERENCE_COLOUR
from explorer.reports.evidence import (
    CHOOSE_TIME_ZONE,
    DOWNLOAD_CLEANED,
    MAP_COLUMNS,
    Chart,
    evidence_view,
    finding_action,
)

#: Axis number formats (d3) by the model's unit.
FORMATS = {"share": ".0%", "count": ",.0f", "number": ",.3~g"}
ZONE_BUTTON = "Re-read in another time zone ({zone})"


def _rows(chart: Chart) -> list[dict[str, Any]]:
    """Long-form data: one row per (series, category)."""
    return [
        {"category": category, "series": name, "value": value}
        for name, series in zip(chart.names, chart.values)
        for category, value in zip(chart.categories, series)
    ]


def _colour(chart: Chart) -> dict[str, Any]:
    colours = [AREA_COLOUR, REFERENCE_COLOUR][: len(chart.names)]
    legend = {"title": None, "orient": "top"} if len(chart.names) > 1 else None
    scale = {"domain": list(chart.names), "range": colours}
    return {"field": "series", "type": "nominal", "scale": scale, "legend": legend}


def vega_lite_spec(chart: Chart) -> dict[str, Any]:
    """The Vega-Lite spec of one chart of the model: bars by hour or category, mix bars
    lying down, or a line through points; axes titled in the model's words."""
    value = {
        "field": "value",
        "type": "quantitative",
        "title": chart.y_label or None,
        "axis": {"format": FORMATS.get(chart.unit, FORMATS["number"])},
    }
    category = {"field": "category", "title": chart.x_label or None, "sort": None}
    encoding: dict[str, Any] = {
        "color": _colour(chart),
        "tooltip": [
            {"field": "series", "title": "series"},
            {"field": "category", "title": chart.x_label or "category"},
            {**value, "title": chart.y_label or "value"},
        ],
    }
    if chart.kind == "curve":
        shares = all(0 <= float(c) <= 1 for c in chart.categories)
        axis = {"format": ".0%"} if shares else {}
        encoding |= {"x": {**category, "type": "quantitative", "axis": axis}, "y": value}
        mark: dict[str, Any] = {"type": "line", "point": True}
    elif chart.kind == "mix":
        encoding |= {
            "y": {**category, "type": "nominal"},
            "x": value,
            "yOffset": {"field": "series"},
        }
        mark = {"type": "bar"}
    else:
        axis = {"labelAngle": 0}
        encoding |= {"x": {**category, "type": "ordinal", "axis": axis}, "y": value}
        encoding["xOffset"] = {"field": "series"}
        mark = {"type": "bar"}
    return {
        "title": chart.title,
        # A named dataset: Streamlit sends it as a table beside the spec.
        "data": {"name": "evidence"},
        "datasets": {"evidence": pd.DataFrame(_rows(chart))},
        "mark": mark,
        "encoding": encoding,
        # SVG, not canvas: the axis titles are text a reader's tools (and tests) can find.
        "usermeta": {"embedOptions": {"renderer": "svg"}},
    }


def show_evidence(finding: Finding) -> None:
    """The finding's charts, key numbers and tables, as explorer's model has them."""
    view = evidence_view(finding.evidence)
    with st.container(key=f"evidence-{finding.id}"):
        for i, chart in enumerate(view.charts):
            spec = vega_lite_spec(chart)
            st.vega_lite_chart(spec=spec, width="stretch", key=f"chart-{finding.id}-{i}")
        if view.numbers:
            numbers = pd.DataFrame(list(view.numbers), columns=["Key number", "Value"])
            st.dataframe(numbers, hide_index=True)
        for table in view.tables:
            # Titles and cells are plain text shown in a table, never Markdown.
            frame = pd.DataFrame([list(r) for r in table.rows], columns=list(table.headers))
            st.dataframe(frame, hide_index=True, column_config=None)


def _set_zone(zone: str) -> None:
    """Re-read the dataset's naive timestamps in ``zone``; the selection goes, since the
    finding it names may not exist on the right clock."""
    view = state.read_view()
    state.write_view(view.with_changes(finding=None))
    state.set_zone(view.ds or cache.SAMPLE_KEY, zone)


def show_action(finding: Finding) -> None:
    """The button that does what the finding's story asks, if there is one."""
    action = finding_action(finding.kind, finding.evidence)
    if action == DOWNLOAD_CLEANED:
        from app.downloads import cleaned_copy_button

        cleaned_copy_button(finding)
    elif action == CHOOSE_TIME_ZONE:
        zone = str(finding.evidence["suggested_tz"])
        st.button(
            ZONE_BUTTON.format(zone=zone),
            key=f"zone-{finding.id}",
            on_click=_set_zone,
            args=(zone,),
            help="The file is read again with its timestamps in this zone; any other zone "
            "can be chosen on the Data page.",
        )
    elif action == MAP_COLUMNS:
        from app.mapping import remap_section

        remap_section(f"remap-{finding.id}")
