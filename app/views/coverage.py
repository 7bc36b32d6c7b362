"""Coverage page: the panel's homes against who lives there. The regions coloured by
sampling rate around the overall rate, the funnel plot, the log-log fit, the table of
regions, the weights to download and the coverage findings.

Every number comes from :mod:`explorer.interactive.coverage_view`; this page draws. The
reference is the dataset's own (the sample's population layer, or one uploaded here and
kept with the dataset under its link) or, when the view says ``ref=coarse``, the coarse
default from the offline gazetteer of cities.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pydeck as pdk
import streamlit as st

from app import cache, deck, frame, mapview, sidebar, state
from app.components import inert, severity_badge
from app.frame import Page
from app.views.findings import release_upload
from explorer.errors import PingFileError
from explorer.interactive import coverage_view as cv
from explorer.interactive.basemap import base_map

REFERENCE_TYPES = ["geojson", "json", "gpkg", "zip", "parquet", "geoparquet", "csv"]
FORMATS_TEXT = (
    "regions with a population column as GeoJSON, GeoPackage, zipped Shapefile or "
    "GeoParquet (any projection), or a CSV of H3 cells with a population column"
)
UNREADABLE_REFERENCE = (
    "This file could not be read as a reference population; upload " + FORMATS_TEXT + "."
)
SVG = {"embedOptions": {"renderer": "svg"}}
FLAG_COLOURS = {"high": "#d62728", "medium": "#ff7f0e", "low": "#1f77b4", "none": "#4c4c4c"}
REGION_TOOLTIP = {
    "text": "{name} ({region_id})\n{residents} residents · {home_devices} devices with a home"
    "\n{rate} · {ratio}\nfinding: {flag}"
}
_ROWS = "@@pbe-coverage-regions@@"
_FLAGGED = "@@pbe-coverage-flagged@@"
FLAG_LINE = [200, 20, 20, 255]
REGION_LINE = [90, 90, 90, 200]


def _set_reference(choice: str | None) -> None:
    state.write_view(state.read_view().with_changes(ref=choice))


def _stored_sha(page: Page) -> str:
    if page.dataset.is_sample:
        return ""
    found = cache.store().reference_info(page.dataset.key)
    return found.sha256 if found is not None else ""


def _upload_reference(page: Page) -> None:
    """The reference uploader, for the session that uploaded these pings: a file that
    reads is kept with the dataset; one that does not gives its one sentence."""
    upload = st.file_uploader(
        "Upload a reference population for these pings",
        type=REFERENCE_TYPES,
        key="reference-upload",
        help="Population and region id columns are found by name (population, pop, "
        "residents …; id, code, name …).",
    )
    if upload is None:
        return
    if not state.new_selection("reference-upload", upload.file_id):
        problem = state.recall("reference_problem")
        if problem and problem[0] == upload.file_id:
            _reference_error(problem[1])
        return
    data = upload.getvalue()
    try:
        from explorer.reading.reference_files import read_reference

        read_reference(data, name=Path(upload.name).name)
    except PingFileError as exc:
        state.remember("reference_problem", (upload.file_id, str(exc)))
        _reference_error(str(exc))
        return
    except Exception:  # noqa: BLE001 - a hostile file must never take the page down
        state.remember("reference_problem", (upload.file_id, UNREADABLE_REFERENCE))
        _reference_error(UNREADABLE_REFERENCE)
        return
    cache.store().put_reference(page.dataset.key, data, upload.name)
    release_upload("reference-upload", upload.file_id)
    _set_reference(None)
    st.rerun()


def _reference_error(message: str) -> None:
    with st.container(key="reference-error"):
        st.error(inert(message))


def _reference_section(page: Page, has_own: bool) -> None:
    """Where the regions come from, the uploader, and the switch to or from the coarse
    default."""
    with st.expander("Reference population", expanded=not has_own):
        if page.dataset.is_sample:
            st.caption(
                "The sample comes with its population layer (data/samples/population.geojson). "
                "Upload your own pings to compare them with your own reference."
            )
        elif state.owns(page.dataset.key):
            st.caption(
                f"Upload {FORMATS_TEXT}. It is kept with your pings under their link, so a "
                "colleague opening the link sees the same coverage."
            )
            _upload_reference(page)
        else:
            st.caption("Only the session that uploaded these pings can change their reference.")
        if page.view.ref == "coarse" and has_own:
            st.button(
                "Use the dataset's own reference",
                key="reference-own",
                on_click=_set_reference,
                args=(None,),
            )


def _no_reference(page: Page) -> None:
    with st.container(key="no-reference"):
        st.info(
            "No reference population for these pings yet. To compare the panel's homes with "
            f"who lives there, upload {FORMATS_TEXT} (in the box above), or use the coarse "
            "default: cities from an offline gazetteer, each with its population."
        )
        st.button(
            "Use the coarse default (cities from a gazetteer)",
            key="reference-coarse",
            on_click=_set_reference,
            args=("coarse",),
        )


def _region_deck(view: cv.CoverageView, basemap: bool, view_id: str) -> pdk.Deck:
    """The regions coloured by rate over the offline base map, flagged ones outlined."""
    base = base_map(view.camera)
    under, over = deck.base_layers(base, basemap)
    regions = pdk.Layer(
        "GeoJsonLayer",
        id="coverage-regions",
        data=_ROWS,
        get_fill_color="properties.fill",
        get_line_color=REGION_LINE,
        line_width_min_pixels=1,
        stroked=True,
        filled=True,
        pickable=True,
        auto_highlight=True,
    )
    flagged = {
        **view.features,
        "features": [f for f in view.features["features"] if f["properties"]["flag"] != "none"],
    }
    outline = pdk.Layer(
        "GeoJsonLayer",
        id="coverage-flagged",
        data=_FLAGGED,
        filled=False,
        stroked=True,
        get_line_color=FLAG_LINE,
        line_width_min_pixels=3,
        pickable=False,
    )
    rows = {_ROWS: json.dumps(view.features), _FLAGGED: json.dumps(flagged)}
    rows |= {deck._BASE_PLACEHOLDER.format(k): v for k, v in base.rows_json.items()}
    style = {"map_style": None} if basemap else {"map_provider": None, "map_style": deck.NO_BASEMAP}
    return deck._PreSerialisedDeck(
        layers=[*under, regions, outline, *over],
        views=[pdk.View(type="MapView", controller=True, id=view_id)],
        initial_view_state=pdk.ViewState(**view.camera, pitch=0, bearing=0),
        tooltip=REGION_TOOLTIP,
        rows_json=rows,
        **style,
    )


def _map(page: Page, view: cv.CoverageView) -> None:
    with st.container(key="coverage-map"):
        mapview.legend(view.legend, "home devices per 1,000 residents, against the overall rate")
        basemap = sidebar.basemap_on(page.view)
        key = hashlib.sha256(f"{page.args!r}{view.source}{view.camera}".encode()).hexdigest()
        built = _region_deck(view, basemap, f"coverage-map-{key[:12]}")
        st.pydeck_chart(built, key="coverage-deck", height=480)


def _flag_colour() -> dict:
    return {
        "field": "finding",
        "type": "nominal",
        "scale": {"domain": list(FLAG_COLOURS), "range": list(FLAG_COLOURS.values())},
        "legend": {"title": "finding", "orient": "top"},
    }


def _points(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(finding=frame["flag"].fillna("none"))


def _funnel(view: cv.CoverageView) -> None:
    limits = view.funnel_limits.to_pandas()
    points = _points(view.funnel_points.to_pandas())
    x = {"field": "residents", "type": "quantitative", "scale": {"type": "log"}}
    band = [
        {
            "data": {"name": "limits"},
            "mark": {"type": "area", "opacity": opacity, "color": "#9ecae1"},
            "encoding": {
                "x": x,
                "y": {"field": f"low_{level}", "type": "quantitative"},
                "y2": {"field": f"high_{level}"},
            },
        }
        for level, opacity in (("99.8", 0.25), ("95", 0.35))
    ]
    overall = {
        "data": {"values": [{"rate": view.coverage.overall_rate}]},
        "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#4c4c4c"},
        "encoding": {"y": {"field": "rate", "type": "quantitative"}},
    }
    dots = {
        "data": {"name": "regions"},
        "mark": {"type": "point", "filled": True, "size": 60},
        "encoding": {
            "x": {**x, "title": "residents (log scale)"},
            "y": {"field": "rate", "type": "quantitative", "title": "home devices per 1,000"},
            "color": _flag_colour(),
            "tooltip": [
                {"field": "name"},
                {"field": "residents", "format": ",.0f"},
                {"field": "home_devices", "title": "home devices", "format": ","},
                {"field": "rate", "title": "per 1,000", "format": ".3~r"},
                {"field": "finding"},
            ],
        },
    }
    spec = {
        "title": "Funnel: each region's rate against the overall rate (95 % and 99.8 % limits)",
        "datasets": {"limits": limits, "regions": points},
        "layer": [*band, overall, dots] if not limits.empty else [overall, dots],
        "usermeta": SVG,
    }
    st.vega_lite_chart(spec=spec, width="stretch", key="coverage-funnel")


def _fit(view: cv.CoverageView) -> None:
    points = _points(view.fit_points.to_pandas())
    log = {"type": "log"}
    layers = [
        {
            "data": {"name": "regions"},
            "mark": {"type": "point", "filled": True, "size": 60},
            "encoding": {
                "x": {"field": "residents", "type": "quantitative", "scale": log},
                "y": {
                    "field": "home_devices",
                    "type": "quantitative",
                    "scale": log,
                    "title": "home devices",
                },
                "color": _flag_colour(),
                "tooltip": [{"field": "name"}, {"field": "residents", "format": ",.0f"}],
            },
        }
    ]
    if not view.fit_line.is_empty():
        layers.append(
            {
                "data": {"name": "fit"},
                "mark": {"type": "line", "color": "#4c4c4c"},
                "encoding": {
                    "x": {"field": "residents", "type": "quantitative", "scale": log},
                    "y": {"field": "home_devices", "type": "quantitative", "scale": log},
                },
            }
        )
    spec = {
        "title": "Home devices against residents (log-log, with the fitted line)",
        "datasets": {"regions": points, "fit": view.fit_line.to_pandas()},
        "layer": layers,
        "usermeta": SVG,
    }
    st.vega_lite_chart(spec=spec, width="stretch", key="coverage-fit")
    st.caption(inert(cv.fit_words(view.coverage.fit)))


def _downloads(page: Page, view: cv.CoverageView, choice: str | None, sha: str) -> None:
    stem = Path(page.dataset.name).stem or "pings"
    left, right = st.columns(2)
    left.download_button(
        "Weights per region (CSV)",
        data=lambda: cv.weights_csv(view.coverage),
        file_name=f"{stem}-coverage-regions.csv",
        mime="text/csv",
        key="dl-coverage-regions",
        on_click="ignore",
    )
    right.download_button(
        "Weights per device, with your device ids (CSV)",
        data=lambda: cache.device_weights_for(*page.args, choice, sha),
        file_name=f"{stem}-coverage-devices.csv",
        mime="text/csv",
        key="dl-coverage-devices",
        on_click="ignore",
    )


def _findings(view: cv.CoverageView) -> None:
    with st.container(key="coverage-findings"):
        if not view.findings:
            st.caption("No region is covered far below or above the rest.")
        for finding in view.findings:
            with st.container(border=True):
                severity_badge(finding.severity)
                st.markdown(f"**{inert(finding.title)}**")
                st.markdown(inert(finding.story))


def _header(view: cv.CoverageView) -> None:
    with st.container(key="coverage-reference"):
        if view.coarse:
            st.warning(
                f"Coarse reference: {inert(view.source)}. Cities stand for whole areas, so "
                "only large differences between them mean much; upload census regions for "
                "a finer comparison."
            )
        else:
            st.markdown(f"**Reference:** {inert(view.source)}")
    with st.container(key="coverage-headline"):
        st.markdown(inert(cv.headline(view)))


def coverage_page() -> None:
    """Draw the Coverage page."""
    page = frame.open_page("coverage", "Coverage")
    if page is None or page.analysis is None:
        return
    sha = _stored_sha(page)
    has_own = page.dataset.is_sample and cache.sample_population_path() is not None
    has_own = has_own or bool(sha)
    _reference_section(page, has_own)
    choice = page.view.ref
    if choice is None and not has_own:
        _no_reference(page)
        return
    try:
        view = cache.coverage_for(*page.args, choice, sha)
    except PingFileError as exc:
        _reference_error(str(exc))
        return
    if view is None:
        _no_reference(page)
        return
    _header(view)
    _map(page, view)
    left, right = st.columns(2)
    with left:
        _funnel(view)
    with right:
        _fit(view)
    st.subheader("Regions")
    with st.container(key="coverage-table"):
        st.markdown(inert(cv.flagged_words(view)))
        st.dataframe(view.table.to_pandas(), hide_index=True)
    _downloads(page, view, choice, sha)
    st.subheader("Coverage findings")
    _findings(view)
