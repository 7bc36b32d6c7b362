"""Sidebar filters bound to the URL: dates, hours, device types, resolution, basemap.

Each widget is keyed; its value is set from the view before it is drawn, on every run
and every page (so a link, a page switch or a finding selection never leaves it showing
something else), and its change callback writes the view back.
"""

from __future__ import annotations

import datetime as dt
import os

import streamlit as st

from app import cache, state
from app.components import inert
from app.state import ViewState
from explorer.interactive.filters import FilterOptions

#: Resolutions offered: 4 (~1,770 km² cells) to 11 (~0.002 km²).
RESOLUTIONS = tuple(range(4, 12))


def _clamp(day: dt.date | None, options: FilterOptions, default: dt.date) -> dt.date:
    if day is None or options.first_date is None or options.last_date is None:
        return default
    return min(max(day, options.first_date), options.last_date)


def basemap_default() -> bool:
    """The server's choice when the view says nothing: off with ``PBE_BASEMAP=off``."""
    return os.environ.get("PBE_BASEMAP", "on").strip().lower() != "off"


def basemap_on(view: ViewState) -> bool:
    """Whether the maps of ``view`` draw a basemap (its toggle, else the server's default)."""
    return basemap_default() if view.basemap is None else view.basemap


# Callbacks run before the page, so the view they write is what the page draws; none
# needs to touch its widget, which sync_widget sets from the view on every run.


def _on_dates() -> None:
    picked = state.widget_value("f_dates") or ()
    bounds = state.recall("date_bounds")
    if len(picked) != 2 or bounds is None:
        state.hold_widget("f_dates")  # one end picked so far: keep it on the screen
        return
    start = None if picked[0] == bounds[0] else picked[0]
    end = None if picked[1] == bounds[1] else picked[1]
    state.write_view(state.read_view().with_changes(start=start, end=end))


def _on_hours() -> None:
    h0, h1 = state.widget_value("f_hours")
    state.write_view(state.read_view().with_changes(h0=int(h0), h1=int(h1)))


def _on_types() -> None:
    picked = sorted(state.widget_value("f_types") or [])
    every = state.recall("all_types", ())
    types = None if not picked or set(picked) == set(every) else tuple(picked)
    state.write_view(state.read_view().with_changes(types=types))


def _on_res() -> None:
    res = int(state.widget_value("f_res"))
    suggested = state.recall("suggested")
    # The camera in the view is the selection's at the old resolution: it is worked out
    # again at the new one (app/frame.py).
    view = state.read_view().with_changes(res=None if res == suggested else res)
    state.write_view(view.with_changes(lat=None, lon=None, zoom=None))


def _on_basemap() -> None:
    on = bool(state.widget_value("basemap"))
    state.write_view(
        state.read_view().with_changes(basemap=None if on == basemap_default() else on)
    )


def _date_filter(view: ViewState, options: FilterOptions) -> None:
    if options.first_date is None or options.last_date is None:
        return
    bounds = (options.first_date, options.last_date)
    state.remember("date_bounds", bounds)
    start = _clamp(view.start, options, bounds[0])
    end = _clamp(view.end, options, bounds[1])
    state.sync_widget("f_dates", (start, end))
    st.sidebar.date_input(
        "Dates (local time)",
        min_value=bounds[0],
        max_value=bounds[1],
        key="f_dates",
        on_change=_on_dates,
    )


def _resolution_slider(view: ViewState, suggested: int) -> int:
    state.remember("suggested", suggested)
    res = view.res if view.res is not None else suggested
    offered = sorted({*RESOLUTIONS, suggested, res})
    state.sync_widget("f_res", res)
    st.sidebar.select_slider(
        "H3 resolution (cell size)",
        options=offered,
        format_func=lambda r: f"{r} (suggested)" if r == suggested else str(r),
        key="f_res",
        on_change=_on_res,
        help="Larger numbers mean smaller cells. The suggested one keeps cells readable.",
    )
    return res


def filter_sidebar(
    view: ViewState, options: FilterOptions, suggested: int
) -> tuple[cache.FilterKey, int, ViewState]:
    """Draw the filters and the basemap toggle, each showing ``view``; return the filter
    key and resolution the view asks for, and the view with only the device types the
    data has (a link may name others). The same on every page."""
    sb = st.sidebar
    sb.header("Filters")
    if view.tz is not None:
        sb.container(key="tz-note").caption(
            f"Timestamps without a zone are read in {inert(view.tz)} (set on the Data page)."
        )
    _date_filter(view, options)
    state.sync_widget("f_hours", (view.h0, view.h1))
    sb.slider("Hours of the day (local time)", 0, 24, key="f_hours", on_change=_on_hours)
    every = list(options.device_types)
    state.remember("all_types", tuple(every))
    chosen = [t for t in (view.types or every) if t in every] or every
    state.sync_widget("f_types", sorted(chosen))
    sb.multiselect("Device types", sorted(every), key="f_types", on_change=_on_types)
    res = _resolution_slider(view, suggested)
    state.sync_widget("basemap", basemap_on(view))
    sb.toggle("Basemap (loaded from an outside map service)", key="basemap", on_change=_on_basemap)
    types = tuple(sorted(chosen)) if set(chosen) != set(every) else None
    view = view.with_changes(types=types)
    filters = (
        view.start.isoformat() if view.start else None,
        view.end.isoformat() if view.end else None,
        view.h0,
        view.h1,
        types,
    )
    return filters, res, view
