"""Compare page: what changed from an earlier delivery (BEFORE) to the view's dataset
(AFTER): the comparison's story, the changes as cards grouped by kind, a diff map of the
areas' share of devices, and both daily series on one chart.

The earlier dataset lives in the view (``before=`` in the link: ``sample`` or a dataset
id), so the share link reopens the same comparison. Every number comes from
:mod:`explorer.interactive.compare_view`; this page draws.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pydeck as pdk
import streamlit as st

from app import cache, components, deck, frame, mapview, sidebar, state
from app.components import inert
from app.evidence import show_evidence
from app.store import is_valid_id
from app.views.findings import UPLOAD_TYPES, release_upload
from explorer.errors import ColumnMappingError, PingFileError
from explorer.interactive.basemap import base_map
from explorer.interactive.compare_view import (
    DIFF_LABEL,
    MATTERS,
    ChangeCard,
    ChangeGroup,
    CompareView,
    nothing_sentence,
)

BAD_BEFORE = (
    "The dataset to compare with (before= in the link) is not valid or has expired; "
    "choose another one below."
)
CHOOSE = (
    "Choose an earlier delivery (BEFORE) to compare with the current dataset (AFTER): the "
    "sample, one of your uploads, a dataset id or share link, or upload the earlier file."
)
UNMAPPED = (
    "The earlier dataset's columns could not be found: open its link (as the current "
    "dataset) to map them, then compare again."
)
UNUSABLE = "The earlier dataset could not be read; choose another one."
SIDE_COLOURS = {"before": "#8c8c8c", "after": "#1f77b4"}
OUTLINE = [20, 20, 20, 255]
TOOLTIP = {
    "text": "Area {hex}\n{before_devices} devices before ({before_share}) · "
    "{after_devices} after ({after_share})\n{value}"
}
_ROWS = "@@pbe-compare-rows@@"
_NONE = ""


def _known(key: str) -> bool:
    """True for the sample or a stored dataset's id (refused or not)."""
    return key == cache.SAMPLE_KEY or (is_valid_id(key) and cache.store().info(key) is not None)


def _drop_bad_before() -> bool:
    """A ``before`` that names no dataset leaves the view (and the share link); True
    when one was dropped, so the page says so once."""
    view = state.read_view()
    if view.before is None or _known(view.before):
        return False
    state.write_view(view.with_changes(before=None))
    return True


def _label(key: str) -> str:
    """How the chooser names a dataset (file names shown as plain option text)."""
    if key == _NONE:
        return "Choose the earlier dataset …"
    if key == cache.SAMPLE_KEY:
        return f"The bundled sample ({cache.sample_path().name})"
    found = cache.store().info(key)
    name = found.name if found is not None else "an expired dataset"
    return f"{name} ({'your upload' if state.owns(key) else 'shared by link'})"


def _on_before() -> None:
    picked = state.widget_value("compare-before") or None
    state.write_view(state.read_view().with_changes(before=picked))


def _id_from_text(text: str) -> str | None:
    """The dataset a pasted id or share link names (a link's ``ds``; none: the sample)."""
    text = text.strip()
    if not text:
        return None
    if "://" in text or "?" in text:
        query = parse_qs(urlsplit(text).query)
        return (query.get("ds") or [cache.SAMPLE_KEY])[-1]
    return text


def _on_link() -> None:
    picked = _id_from_text(str(state.widget_value("compare-link") or ""))
    if picked is not None:
        state.write_view(state.read_view().with_changes(before=picked))


def _upload() -> None:
    """A second upload on this page is stored (this session's) and becomes BEFORE."""
    upload = st.file_uploader(
        "… or upload the earlier file (CSV, CSV.gz or Parquet)",
        type=UPLOAD_TYPES,
        key="compare-upload",
    )
    if upload is None or state.handled_upload(upload.file_id):
        return
    state.mark_upload(upload.file_id)
    dataset_id = cache.store().put(upload.getvalue(), upload.name)
    release_upload("compare-upload", upload.file_id)
    state.add_owned(dataset_id)
    state.write_view(state.read_view().with_changes(before=dataset_id))
    st.rerun()  # drawn again with the stored file as BEFORE, the uploader empty


def chooser() -> None:
    """The earlier dataset: the sample, this session's uploads, the link's, a pasted id
    or link, or a new upload (contract: container ``compare-choose``)."""
    view = state.read_view()
    options = [_NONE, cache.SAMPLE_KEY, *state.owned_ids()]
    if view.before is not None and view.before not in options:
        options.append(view.before)
    with st.container(key="compare-choose"):
        state.sync_widget("compare-before", view.before or _NONE)
        st.selectbox(
            "Before (the earlier delivery)",
            options,
            format_func=_label,
            key="compare-before",
            on_change=_on_before,
        )
        state.sync_widget("compare-link", "")
        st.text_input(
            "… or paste a dataset id or share link",
            key="compare-link",
            on_change=_on_link,
            placeholder="https://…?ds=…",
        )
        _upload()


def _card(card: ChangeCard) -> None:
    change = card.change
    with st.container(key=f"change-{change.id}", border=True):
        components.severity_badge(change.severity)
        st.markdown(f"**{inert(change.title)}**")
        if card.place:
            st.caption(inert(card.place))
        st.markdown(inert(change.story))
        with st.expander("Evidence"):
            show_evidence(SimpleNamespace(id=change.id, evidence=card.evidence))


def _group(group: ChangeGroup) -> None:
    with (
        st.expander(group.heading, expanded=group.worst in MATTERS),
        st.container(key=f"change-group-{group.kind}"),
    ):
        for card in group.cards:
            _card(card)


def _diff_deck(cv: CompareView, basemap: bool) -> pdk.Deck:
    """The areas coloured by their change in share over the offline base map, the
    changed ones outlined."""
    diff = cv.diff
    base = base_map(diff.camera)
    under, over = deck.base_layers(base, basemap)
    layers = [*under, deck.hexagon_layer("diff", _ROWS)]
    if diff.outlined:
        layers.append(
            pdk.Layer(
                "H3HexagonLayer",
                id="changed",
                data=[{"hex": h} for h in diff.outlined],
                get_hexagon="hex",
                filled=True,
                get_fill_color=[0, 0, 0, 0],
                stroked=True,
                # deck.gl draws an H3 outline only on flat (not extruded) hexagons.
                extruded=False,
                get_line_color=OUTLINE,
                line_width_min_pixels=3,
                pickable=False,
            )
        )
    rows = {_ROWS: diff.rows.write_json()}
    rows |= {deck._BASE_PLACEHOLDER.format(k): v for k, v in base.rows_json.items()}
    style = {"map_style": None} if basemap else {"map_provider": None, "map_style": deck.NO_BASEMAP}
    key = hashlib.sha256(f"{cv.data['before']['provenance']}{diff.camera}".encode()).hexdigest()
    return deck._PreSerialisedDeck(
        layers=[*layers, *over],
        views=[pdk.View(type="MapView", controller=True, id=f"compare-map-{key[:12]}")],
        initial_view_state=pdk.ViewState(**diff.camera, pitch=0, bearing=0),
        tooltip=TOOLTIP,
        rows_json=rows,
        **style,
    )


def _diff_map(cv: CompareView, basemap: bool) -> None:
    st.subheader("Where the share of devices moved")
    mapview.legend(cv.diff.legend, DIFF_LABEL)
    outlined = (
        " Outlined: areas whose share or mix changed beyond chance." if cv.diff.outlined else ""
    )
    st.caption(
        f"{cv.diff.rows.height:,} areas at H3 resolution {cv.diff.resolution}, each device "
        "counted once in its main area; red lost share of the panel's devices, blue gained."
        + outlined
    )
    st.pydeck_chart(_diff_deck(cv, basemap), key="compare-map", height=460)


def _daily_chart(cv: CompareView) -> None:
    """Devices per local day of both deliveries on one chart."""
    spec = {
        "title": "Devices per local day, before and after",
        "datasets": {"daily": cv.daily.to_pandas()},
        "data": {"name": "daily"},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {
                "field": "day",
                "type": "temporal",
                "timeUnit": "yearmonthdate",
                "title": None,
                "axis": {"format": "%b %d", "tickCount": {"interval": "day", "step": 1}},
            },
            "y": {"field": "devices", "type": "quantitative", "title": "devices"},
            "color": {
                "field": "side",
                "type": "nominal",
                "scale": {"domain": list(SIDE_COLOURS), "range": list(SIDE_COLOURS.values())},
                "legend": {"title": None, "orient": "top"},
            },
            "tooltip": [
                {"field": "side"},
                {"field": "day", "type": "temporal", "format": "%Y-%m-%d"},
                {"field": "devices", "format": ","},
                {"field": "pings", "format": ","},
            ],
        },
        "usermeta": {"embedOptions": {"renderer": "svg"}},
    }
    with st.container(key="compare-daily"):
        st.vega_lite_chart(spec=spec, width="stretch", key="compare-daily-chart")


def _compare(page: frame.Page, before: str) -> CompareView | None:
    """The cached comparison of ``before`` with the page's dataset at its resolution; a
    short note instead when the earlier dataset cannot be used."""
    found = None if before == cache.SAMPLE_KEY else cache.store().info(before)
    columns = (found.columns or state.mapping_for(found.sha256) or {}) if found else {}
    earlier = (before, tuple(sorted(columns.items())), cache.reference_sha(before))
    d = page.dataset
    later = (d.key, d.columns, cache.reference_sha(d.key))
    note = None
    try:
        with st.status(f"Comparing at resolution {page.res} …", expanded=False) as status:
            cv = cache.delivery_comparison_for(earlier, later, d.zone, page.res)
            status.update(label=f"Compared at resolution {page.res}", state="complete")
        return cv
    except ColumnMappingError:
        note = UNMAPPED
    except PingFileError as exc:
        note = inert(str(exc))
    except LookupError:
        note = BAD_BEFORE
    except Exception:  # noqa: BLE001 - an earlier upload must never take the page down
        note = UNUSABLE
    with st.container(key="compare-note"):
        st.warning(note)
    return None


def _show(cv: CompareView, page: frame.Page) -> None:
    with st.container(key="compare-sides"):
        st.markdown(f"**Before:** {inert(cv.before_name)} · **After:** {inert(cv.after_name)}")
        if page.filters != cache.WHOLE:
            st.caption("Both files are compared whole: the sidebar's filters apply to other pages.")
    with st.container(key="compare-story"):
        st.markdown(inert(cv.story))
    with st.container(key="compare-summary"):
        st.markdown(f"**{cv.counts_line}**")
    if not cv.matters:
        with st.container(key="compare-null"):
            st.success(nothing_sentence(cv))
    sides = pd.DataFrame(cv.sides, columns=["", "Before", "After"])
    st.dataframe(sides, hide_index=True)
    for group in cv.groups:
        _group(group)
    _daily_chart(cv)
    _diff_map(cv, sidebar.basemap_on(page.view))


def compare_page() -> None:
    """Draw the Compare page."""
    st.title("Compare")
    if _drop_bad_before():
        with st.container(key="compare-note"):
            st.warning(BAD_BEFORE)
    chooser()
    page = frame.open_page("compare", None)
    if page is None:
        return
    before = page.view.before
    if before is None:
        with st.container(key="compare-empty"):
            st.info(CHOOSE)
        return
    cv = _compare(page, before)
    if cv is not None:
        _show(cv, page)
