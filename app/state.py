"""The one place that reads and writes the URL and the session state.

All view state lives in the URL (a :class:`ViewState`), so every screen is a
shareable link. Values from the URL are untrusted: anything malformed is dropped
(falls back to its default) rather than raising. The session remembers what must not
travel in a link: which uploads this session owns, column mappings per file hash, and
the last view (Streamlit clears query parameters on a page switch, so the view is
carried over from here). The time zone of naive timestamps is part of the view (``tz``):
a colleague opening the link reads the file the same way, and so is the Panel page's
usable-panel rule (``rule=N,M``): a colleague sees what the same rule keeps; and so is
the Coverage page's choice of the coarse default reference (``ref=coarse``) over the
dataset's own; and so is the Compare page's earlier dataset (``before``, checked like
``ds``), compared with the view's dataset as the later one.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from typing import Any
from urllib.parse import unquote

import streamlit as st

from explorer.errors import PingFileError
from explorer.findings import SEVERITIES, FindingKind
from explorer.summary.panel_rule import PanelRule, parse_rule

METRICS = ("pings", "devices", "pings_per_device", "type_share", "night_share", "finding_score")
#: The map's colour when the view names none and no finding has cells (see metric_shown).
DEFAULT_METRIC = "pings"
_DS_MAX = 64
#: Bounds on device types from a link (the sidebar keeps only the data's own types).
_TYPE_MAX_CHARS, _TYPES_MAX = 100, 64
#: Camera decimals: 5 for degrees (about a metre), 2 for the zoom level.
_DEGREE_DECIMALS, _ZOOM_DECIMALS = 5, 2
_FINDING_RE = re.compile(r"^[0-9a-f]{16}$")
_CELL_RE = re.compile(r"^[0-9a-f]{15,16}$")
_SWITCH = {"on": True, "off": False}
#: Longest panel rule a link may give ("N,M"); longer text is not a rule.
_RULE_MAX_CHARS = 12
#: References the Coverage page can be told to use instead of the dataset's own.
REFERENCES = ("coarse",)


@dataclass(frozen=True)
class ViewState:
    """Everything a link reproduces; ``None`` means "the default" (e.g. suggested res)."""

    ds: str | None = None
    res: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    h0: int = 0
    h1: int = 24
    types: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None  # finding kinds listed (None: all)
    severities: tuple[str, ...] | None = None  # finding severities listed (None: all)
    metric: str | None = None  # None: finding score when findings exist (metric_shown)
    finding: str | None = None
    cell: str | None = None
    lat: float | None = None
    lon: float | None = None
    zoom: float | None = None
    basemap: bool | None = None  # None: the server's default (``PBE_BASEMAP``)
    tz: str | None = None  # IANA zone of naive timestamps; None: the zone at each place
    rule: PanelRule | None = None  # the Panel page's rule; None: the configured default
    ref: str | None = None  # Coverage page: "coarse" default; None: the dataset's own
    before: str | None = None  # Compare page: the earlier dataset ("sample" or a store id)

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> ViewState:
        """Parse query parameters (str or list of str values); bad values are ignored."""
        get = _getter(query)
        h0 = 0 if get("h0") is None else _int(get("h0"), 0, 24)
        h1 = 24 if get("h1") is None else _int(get("h1"), 0, 24)
        hours = (0, 24) if h0 is None or h1 is None or h0 >= h1 else (h0, h1)
        start, end = _date(get("start")), _date(get("end"))
        if start and end and start > end:
            start, end = None, None
        metric = get("metric")
        camera = _camera(get("lat"), get("lon"), get("zoom"))
        return cls(
            ds=_ds(get("ds")),
            res=_int(get("res"), 0, 15),
            start=start,
            end=end,
            h0=hours[0],
            h1=hours[1],
            types=_types(get("types")),
            kinds=_known(get("kinds"), tuple(FindingKind)),
            severities=_known(get("severities"), SEVERITIES),
            metric=metric if metric in METRICS else None,
            finding=_match(get("finding"), _FINDING_RE),
            cell=_match(get("cell"), _CELL_RE),
            lat=camera[0],
            lon=camera[1],
            zoom=camera[2],
            basemap=_SWITCH.get(get("basemap") or ""),
            tz=_zone(get("tz")),
            rule=_rule(get("rule"))[0],
            ref=get("ref") if get("ref") in REFERENCES else None,
            before=_ds(get("before")),
        )

    def to_query(self) -> dict[str, str]:
        """Query parameters for this view, defaults left out."""
        out: dict[str, str] = {}
        for name, value in ((f.name, getattr(self, f.name)) for f in fields(self)):
            if value is None or value == getattr(ViewState, name, None):
                continue
            if isinstance(value, PanelRule):
                out[name] = value.text()
            elif name == "types":
                out[name] = _join_types(value)
            elif name in ("lat", "lon", "zoom"):
                out[name] = _decimal(value, _ZOOM_DECIMALS if name == "zoom" else _DEGREE_DECIMALS)
            elif isinstance(value, tuple):
                out[name] = ",".join(value)
            elif isinstance(value, bool):
                out[name] = "on" if value else "off"
            elif isinstance(value, dt.date):
                out[name] = value.isoformat()
            else:
                out[name] = str(value)
        return out

    def with_changes(self, **changes: Any) -> ViewState:
        return replace(self, **changes)


def metric_shown(view: ViewState, has_findings: bool) -> str:
    """The map's colour metric: the view's, else finding score when findings are on the
    map (the most telling colouring), else pings."""
    if view.metric is not None:
        return view.metric
    return "finding_score" if has_findings else DEFAULT_METRIC


def _getter(query: Mapping[str, Any]):
    def get(name: str) -> str | None:
        value = query.get(name)
        if isinstance(value, list | tuple):
            value = value[-1] if value else None
        return value if isinstance(value, str) and value != "" else None

    return get


def _ds(text: str | None) -> str | None:
    # Kept even when malformed (so the page can say the link is bad), but bounded.
    return None if text is None else text[:_DS_MAX]


def _int(text: str | None, low: int, high: int) -> int | None:
    try:
        value = int(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and low <= value <= high else None


def _float(text: str | None, low: float, high: float) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    if value is None or not math.isfinite(value) or not low <= value <= high:
        return None
    return value


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _camera(lat: str | None, lon: str | None, zoom: str | None) -> tuple[float | None, ...]:
    """Latitude, longitude and zoom, each rounded (the map uses them only all together)."""
    values = (_float(lat, -90.0, 90.0), _float(lon, -180.0, 180.0), _float(zoom, 0.0, 24.0))
    digits = (_DEGREE_DECIMALS, _DEGREE_DECIMALS, _ZOOM_DECIMALS)
    return tuple(
        None if v is None else round(v, d) + 0.0 for v, d in zip(values, digits, strict=True)
    )


def _decimal(value: float, digits: int) -> str:
    """``value`` rounded to ``digits`` decimals, without trailing zeros (52.5, not 52.50000)."""
    text = f"{round(value, digits) + 0.0:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _zone(text: str | None) -> str | None:
    """An IANA zone name known to this server's zone database, else None."""
    return text if text is not None and text in _zones() else None


def _rule(text: str | None) -> tuple[PanelRule | None, str | None]:
    """The panel rule of a link's ``N,M`` and, when the text is not a rule, why."""
    if text is None:
        return None, None
    shown = text if len(text) <= _RULE_MAX_CHARS else text[:_RULE_MAX_CHARS] + "…"
    try:
        if len(text) > _RULE_MAX_CHARS:
            raise PingFileError(f"The panel rule {shown!r} is too long; write e.g. 3,4.")
        return parse_rule(text), None
    except PingFileError as exc:
        return None, str(exc)


def rule_problem(query: Mapping[str, Any]) -> str | None:
    """Why the link's panel rule (``rule``) cannot be used, or None (none given, or fine)."""
    return _rule(_getter(query)("rule"))[1]


def _join_types(types: tuple[str, ...]) -> str:
    """Types joined by commas; only the separator and the escape character are
    percent-encoded in a type, so common ones read as themselves (types=android,ios)."""
    return ",".join(t.replace("%", "%25").replace(",", "%2C") for t in types)


def _types(text: str | None) -> tuple[str, ...] | None:
    """Device types from the link, lower-cased as the reader does: any text is kept
    (bounded, no control characters); the sidebar keeps only the types the data has."""
    if text is None:
        return None
    parts = {unquote(p).strip().lower() for p in text.split(",")}
    kept = sorted(p for p in parts if p and _plain(p))
    return tuple(kept[:_TYPES_MAX]) or None


def _plain(text: str) -> bool:
    """Bounded text without control, format or unassigned characters."""
    return len(text) <= _TYPE_MAX_CHARS and not any(unicodedata.category(c)[0] == "C" for c in text)


def _known(text: str | None, names: tuple[str, ...]) -> tuple[str, ...] | None:
    """The known names among comma-separated ``text``, in ``names``' order; None if none."""
    parts = {p.strip() for p in (text or "").split(",")}
    kept = tuple(str(n) for n in names if n in parts)
    return kept or None


def _match(text: str | None, pattern: re.Pattern[str]) -> str | None:
    return text if text is not None and pattern.match(text) else None


# --- URL <-> session ------------------------------------------------------------

_LAST_VIEW = "_pbe_last_view"
_RULE_NOTE = "_pbe_rule_note"


def read_view() -> ViewState:
    """The view in the URL; after a page switch (empty URL) the session's last view."""
    params = st.query_params.to_dict()
    if not params and _LAST_VIEW in st.session_state:
        view = st.session_state[_LAST_VIEW]
        write_view(view)
        return view
    view = ViewState.from_query(params)
    st.session_state[_LAST_VIEW] = view
    problem = rule_problem(params)
    if problem is not None:
        # The link's rule is dropped from the URL below: the Panel page says why, once.
        st.session_state[_RULE_NOTE] = problem
    return view


def pop_rule_note() -> str | None:
    """Why the panel rule of the link this session opened was not used, once."""
    return st.session_state.pop(_RULE_NOTE, None)


def write_view(view: ViewState) -> ViewState:
    """Put ``view`` in the URL (only when it changed) and remember it in the session.

    What is kept, and returned, is what the URL reads back as (an empty hour range, say,
    is no view; the camera is rounded), so the session, the URL, the share link and the
    widgets cannot disagree.
    """
    view = ViewState.from_query(view.to_query())
    st.session_state[_LAST_VIEW] = view
    wanted = view.to_query()
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
    return view


def clear_selection() -> None:
    """Unselect the finding and the cell (from a callback): the map shows the whole data."""
    # The camera was the selection's: it goes with it.
    write_view(read_view().with_changes(finding=None, cell=None, lat=None, lon=None, zoom=None))


def _bucket(name: str) -> dict[str, Any]:
    return st.session_state.setdefault(f"_pbe_{name}", {})


def owns(dataset_id: str | None) -> bool:
    """True when this session uploaded ``dataset_id`` (it may delete it)."""
    return bool(dataset_id) and dataset_id in _bucket("owned")


def add_owned(dataset_id: str) -> None:
    _bucket("owned")[dataset_id] = True


def drop_owned(dataset_id: str) -> None:
    _bucket("owned").pop(dataset_id, None)


def owned_ids() -> tuple[str, ...]:
    """The ids of this session's uploads, oldest first (the Compare page offers them)."""
    return tuple(_bucket("owned"))


def mapping_for(sha256: str) -> dict[str, str] | None:
    """The column mapping this session gave for the file with this hash."""
    return _bucket("mappings").get(sha256)


def remember_mapping(sha256: str, columns: Mapping[str, str]) -> None:
    _bucket("mappings")[sha256] = dict(columns)


def set_zone(dataset_key: str, zone: str | None) -> None:
    """From a callback: read the view's dataset's naive timestamps in ``zone`` (None: at
    each place). The zone travels in the link (``tz``), so a colleague sees the same."""
    del dataset_key  # the view names its dataset; a new dataset starts a new view
    write_view(read_view().with_changes(tz=zone or None))


def handled_upload(file_id: str) -> bool:
    """True when this upload (by the widget's file id) was already stored."""
    return _bucket("uploads").get("last") == file_id


def mark_upload(file_id: str) -> None:
    _bucket("uploads")["last"] = file_id


def flash(message: str, kind: str = "error") -> None:
    """Keep a message to show once on the next run (e.g. after a rerun).

    ``kind`` is "error" (something failed) or "info" (the view was changed, and why).
    """
    st.session_state["_pbe_flash"] = (message, kind)


def pop_flash() -> tuple[str, str] | None:
    """The kept message and its kind, once."""
    return st.session_state.pop("_pbe_flash", None)


def sync_widget(key: str, value: Any) -> None:
    """Set a keyed widget to the view's ``value``; call it on every run, before the widget.

    The view is the one truth and a widget only shows it, so the widget is set on every
    run, not only when the view changed: Streamlit drops the value of a widget that a run
    does not draw, and after a page switch the "same" widget is a new one (its id holds
    the page) that starts at its default, whatever the session still holds under its
    key. A user's change is no exception: its callback has written the view before the
    run. Only a widget held by :func:`hold_widget` is left as the user left it, once.
    """
    if st.session_state.pop(f"_pbe_hold_{key}", False):
        return
    st.session_state[key] = value


def hold_widget(key: str) -> None:
    """From a callback: leave the widget as the user left it in the coming run.

    For a value the view cannot hold yet, such as a date range with one end picked.
    """
    st.session_state[f"_pbe_hold_{key}"] = True


def widget_value(key: str) -> Any:
    return st.session_state.get(key)


def forget_widget(key: str) -> None:
    """Drop a keyed widget's value from the session. An uploader's value holds the
    uploaded bytes, which a session otherwise keeps until it expires (Streamlit keeps a
    closed session a few minutes for a reconnect): three uploads in a row held three
    copies."""
    st.session_state.pop(key, None)


def mark_widget(key: str, value: Any) -> None:
    """Nothing to record any more: :func:`sync_widget` sets every widget on every run.

    Kept for callbacks that still call it (app/views/data.py); remove with the last call.
    """
    del key, value


def new_selection(key: str, value: str) -> bool:
    """True the first time a widget reports ``value`` (a selection stays set on reruns)."""
    marker = f"_pbe_sel_{key}"
    if st.session_state.get(marker) == value:
        return False
    st.session_state[marker] = value
    return True


def remember(name: str, value: Any) -> None:
    """Keep a value for widget callbacks of this session (bounds, options …)."""
    st.session_state[f"_pbe_mem_{name}"] = value


def recall(name: str, default: Any = None) -> Any:
    return st.session_state.get(f"_pbe_mem_{name}", default)
