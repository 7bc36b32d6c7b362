"""Panel page: the panel over the period (devices, pings and pings per device a day,
findings' periods shaded), per-device distributions, and what a usable-panel rule
"N active days with M hours each" keeps: the survival curve and the areas that lose most.

Every number comes from :mod:`explorer.interactive.panel_view`; this page draws. The
rule lives in the view (``rule=N,M`` in the link), so a colleague sees the same.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import polars as pl
import pydeck as pdk
import streamlit as st

from app import cache, deck, frame, mapview, sidebar, state
from app.components import inert, not_drawn
from explorer.interactive import panel_view as pv
from explorer.interactive.basemap import base_map
from explorer.summary.panel_rule import PanelRule

#: Colours of the shaded periods by the finding's severity, and of the series.
BAND_COLOURS = {"high": "#d62728", "medium": "#ff7f0e", "low": "#1f77b4"}
LINE_COLOUR = "#4c4c4c"
SVG = {"embedOptions": {"renderer": "svg"}}
_ROWS = "@@pbe-panel-rows@@"
LOSS_TOOLTIP = {"text": "Cell {hex}\n{devices} devices, {devices_kept} kept by the rule\n{value}"}


def _default_rule(page: frame.Page) -> PanelRule:
    settings = page.analysis.config.panel_devices
    return PanelRule(settings.rule_days, settings.rule_hours)


def _on_rule() -> None:
    rule = PanelRule(int(state.widget_value("rule_days")), int(state.widget_value("rule_hours")))
    default = state.recall("rule_default")
    state.write_view(state.read_view().with_changes(rule=None if rule == default else rule))


def _frame(data: pl.DataFrame) -> pd.DataFrame:
    return data.to_pandas()


def _time_axis(title: str | None = None) -> dict[str, Any]:
    return {"field": "at", "type": "temporal", "title": title, "axis": {"format": "%b %d"}}


def _bands_layer() -> dict[str, Any]:
    """Findings' periods as shaded bands (named dataset ``periods``)."""
    return {
        "data": {"name": "periods"},
        "mark": {"type": "rect", "opacity": 0.18},
        "encoding": {
            "x": {"field": "start", "type": "temporal", "title": None},
            "x2": {"field": "end"},
            "color": {
                "field": "severity",
                "type": "nominal",
                "scale": {"domain": list(BAND_COLOURS), "range": list(BAND_COLOURS.values())},
                "legend": {"title": "finding's period", "orient": "top"},
            },
            "tooltip": [{"field": "title", "title": "finding"}, {"field": "kind"}],
        },
    }


def _series_spec(
    data: pl.DataFrame, periods: pl.DataFrame, title: str, y_title: str
) -> dict[str, Any]:
    """A line through the days (or hours), findings' periods shaded beneath."""
    line = {
        "data": {"name": "series"},
        "mark": {"type": "line", "point": True, "color": LINE_COLOUR},
        "encoding": {
            "x": _time_axis(),
            "y": {"field": "value", "type": "quantitative", "title": y_title},
            "tooltip": [
                {"field": "label", "title": "day"},
                {"field": "value", "title": y_title, "format": ",.3~r"},
            ],
        },
    }
    layers = [_bands_layer(), line] if not periods.is_empty() else [line]
    return {
        "title": title,
        "datasets": {"series": _frame(data), "periods": _frame(periods)},
        "layer": layers,
        "usermeta": SVG,
    }


def _daily_charts(view: pv.PanelView) -> None:
    """Devices, pings and pings per device a day, one chart each, periods shaded."""
    daily = pv.daily_chart(view)
    periods = pv.periods_on_chart(view)
    with st.container(key="panel-daily"):
        for measure in daily["measure"].unique(maintain_order=True):
            data = daily.filter(pl.col("measure") == measure).select("at", "value", label="day")
            spec = _series_spec(data, periods, f"{measure.capitalize()} per local day", measure)
            st.vega_lite_chart(spec=spec, width="stretch", key=f"daily-{measure}")
        if not periods.is_empty():
            st.caption(
                "Shaded: the periods of findings about a span of time (UTC instants; the "
                "points sit at the middle of each local day)."
            )


def _hourly_chart(view: pv.PanelView) -> None:
    hourly = pv.hourly_chart(view)
    if hourly is None or hourly.is_empty():
        return
    data = hourly.select(
        "at", value=pl.col("pings").cast(pl.Float64), label=pl.col("at").cast(pl.String)
    )
    spec = _series_spec(data, pv.periods_on_chart(view), "Pings per UTC hour", "pings")
    st.vega_lite_chart(spec=spec, width="stretch", key="hourly-pings")


def _histograms(view: pv.PanelView) -> None:
    st.subheader("Devices by how they can be followed")
    columns = st.columns(2)
    for i, hist in enumerate(pv.distributions(view)):
        spec = {
            "title": hist.title,
            "datasets": {"bins": _frame(hist.bins)},
            "data": {"name": "bins"},
            "mark": {"type": "bar", "color": LINE_COLOUR},
            "encoding": {
                "x": {"field": "label", "type": "ordinal", "sort": None, "title": hist.title},
                "y": {"field": "devices", "type": "quantitative", "title": "devices"},
                "tooltip": [
                    {"field": "label", "title": hist.title},
                    {"field": "devices", "format": ","},
                    {"field": "share", "format": ".1%", "title": "share of devices"},
                ],
            },
            "usermeta": SVG,
        }
        with columns[i % 2]:
            st.vega_lite_chart(spec=spec, width="stretch", key=f"hist-{hist.key}")
            if hist.without:
                st.caption(f"{hist.without:,} devices with a single ping have no gap.")


def _rule_controls(view: pv.PanelView, rule: PanelRule) -> None:
    """Sliders for N (active days) and M (hours a day), showing the view's rule."""
    state.sync_widget("rule_days", rule.min_days)
    state.sync_widget("rule_hours", rule.min_hours)
    left, right = st.columns(2)
    left.slider(
        "N: active days at least",
        1,
        max(view.n_days, rule.min_days, 2),
        key="rule_days",
        on_change=_on_rule,
        help=f"The period covers {view.n_days} local days.",
    )
    right.slider(
        "M: local hours seen on each of those days, at least",
        1,
        pv.HOURS_A_DAY,
        key="rule_hours",
        on_change=_on_rule,
    )


def _survival_chart(view: pv.PanelView, rule: PanelRule) -> None:
    curve = pv.survival_curve(view, rule.min_hours)
    long = pd.concat(
        [
            _frame(curve.select("min_days", share=col, kept=n, series=pl.lit(name)))
            for col, n, name in (
                ("device_share", "devices", "devices kept"),
                ("ping_share", "pings", "pings kept"),
            )
        ]
    )
    chosen = pd.DataFrame({"min_days": [rule.min_days]})
    spec = {
        "title": f"Kept if we require N active days with {rule.min_hours} or more hours each",
        "datasets": {"curve": long, "chosen": chosen},
        "layer": [
            {
                "data": {"name": "curve"},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": {
                        "field": "min_days",
                        "type": "quantitative",
                        "title": "N active days",
                        "axis": {"format": "d", "tickMinStep": 1},
                    },
                    "y": {
                        "field": "share",
                        "type": "quantitative",
                        "title": "share kept",
                        "axis": {"format": ".0%"},
                        "scale": {"domain": [0, 1]},
                    },
                    "color": {"field": "series", "type": "nominal", "legend": {"orient": "top"}},
                    "tooltip": [
                        {"field": "series"},
                        {"field": "min_days", "title": "N"},
                        {"field": "kept", "format": ","},
                        {"field": "share", "format": ".1%"},
                    ],
                },
            },
            {
                "data": {"name": "chosen"},
                "mark": {"type": "rule", "strokeDash": [4, 3], "color": LINE_COLOUR},
                "encoding": {"x": {"field": "min_days", "type": "quantitative"}},
            },
        ],
        "usermeta": SVG,
    }
    st.vega_lite_chart(spec=spec, width="stretch", key="survival")


def _loss_deck(layer: pv.LossLayer, camera: dict[str, float], basemap: bool, view_id: str):
    """The cells coloured by share of devices lost, over the offline base map."""
    base = base_map(camera)
    under, over = deck.base_layers(base, basemap)
    cells = deck.hexagon_layer("panel-loss", _ROWS)
    rows = {_ROWS: layer.rows.drop("share_lost").write_json()}
    rows |= {deck._BASE_PLACEHOLDER.format(k): v for k, v in base.rows_json.items()}
    # As on the Map page: no style at all unless the online basemap is on.
    style = {"map_style": None} if basemap else {"map_provider": None, "map_style": deck.NO_BASEMAP}
    return deck._PreSerialisedDeck(
        layers=[*under, cells, *over],
        views=[pdk.View(type="MapView", controller=True, id=view_id)],
        initial_view_state=pdk.ViewState(**camera, pitch=0, bearing=0),
        tooltip=LOSS_TOOLTIP,
        rows_json=rows,
        **style,
    )


def _loss_map(page: frame.Page, view: pv.PanelView, rule: PanelRule) -> None:
    st.subheader("Where the rule loses most devices")
    layer = pv.loss_layer(page.analysis.summary, view, rule)
    mapview.legend(layer.legend, "share of each cell's devices the rule loses")
    st.caption(
        f"{layer.cells_shown:,} cells with {layer.min_devices} or more devices are coloured"
        f" (resolution {layer.resolution}); a cell with fewer says too little and is grey."
    )
    camera = cache.home_view_for(*page.args)
    basemap = sidebar.basemap_on(page.view)
    key = hashlib.sha256(f"{page.args!r}{camera}".encode()).hexdigest()[:12]
    built = _loss_deck(layer, camera, basemap, f"panel-map-{key}")
    st.pydeck_chart(built, key="panel-map", height=460)


def _rule_note(default: PanelRule) -> None:
    note = state.pop_rule_note()
    if note is not None:
        with st.container(key="rule-note"):
            st.info(f"{inert(note)} The default rule {default.text()} is shown instead.")


def panel_page() -> None:
    """Draw the Panel page."""
    page = frame.open_page("panel", "Panel")
    if page is None or page.analysis is None:
        return
    default = _default_rule(page)
    state.remember("rule_default", default)
    _rule_note(default)
    analysis = page.analysis
    view = pv.panel_view(analysis.summary, analysis.findings, analysis.lacking, default)
    if view.reason is not None:
        not_drawn("panel to follow", view.reason)
        _daily_charts(view)
        _hourly_chart(view)
        return
    _daily_charts(view)
    _histograms(view)
    st.subheader("Devices kept by a usable-panel rule")
    rule = page.view.rule or default
    _rule_controls(view, rule)
    outcome = pv.rule_outcome(view, rule, pv.pings_without_id(view))
    with st.container(key="panel-keeps"):
        st.markdown(f"**{outcome.sentence()}** under the rule {rule.words()} ({rule.text()}).")
    _survival_chart(view, rule)
    _loss_map(page, view, rule)
