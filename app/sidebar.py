"""Sidebar filters bound to the URL: dates, hours, device types, resolution, basemap.

Each widget is keyed; its value is set from the view before it is drawn (so a link
or a finding selection moves it) and its change callback writes the view back.
"""

from __future__ import annotations

import datetime as dt
import os

import streamlit as st

from app import cache, state
from app.state import ViewState
from explorer.interactive.filters import FilterOptions

#: Resolutions offered: 4 (~1,770 km² cells) to 11 (~0.002 km²).
RESOLUTIONS = tuple(range(4, 12))


def _clamp(day: dt.date | None, options: FilterOptions, default: dt.date) -> dt.date:
    if day is None or options.first_date is None or options.last_date is None:
        return default
    return min(max(day, options.first_date), options.last_date)


def _on_dates() -> None:
    picked = state.widget_value("f_dates") or ()
    bounds = state.recall("date_bounds")
    if len(picked) != 2 or bounds is None:
        return  # the user has picked one end so far
    start = None if picked[0] == bounds[0] else picked[0]
    end = None if picked[1] == bounds[1] else picked[1]
    state.mark_widget("f_dates", tuple(picked))
    state.write_view(state.read_view().with_changes(start=start, end=end))


def _on_hours() -> None:
    h0, h1 = state.widget_value("f_hours")
    state.mark_widget("f_hours", (h0, h1))
    state.write_view(state.read_view().with_changes(h0=int(h0), h1=int(h1)))


def _on_types() -> None:
    picked = sorted(state.widget_value("f_types") or [])
    every = state.recall("all_types", ())
    state.mark_widget("f_types", picked)
    types = None if not picked or set(picked) == set(every) else tuple(picked)
    state.write_view(state.read_view().with_changes(types=types))


def _on_res() -> None:
    res = int(state.widget_value("f_res"))
    state.mark_widget("f_res", res)
    suggested = state.recall("suggested")
    state.write_view(state.read_view().with_changes(res=None if res == suggested else res))


def filter_sidebar(
    view: ViewState, options: FilterOptions, suggested: int
) -> tuple[cache.FilterKey, int]:
    """Draw the filters; return the filter key and resolution the view asks for."""
    sb = st.sidebar
    sb.header("Filters")
    if options.first_date is not None and options.last_date is not None:
        bounds = (options.first_date, options.last_date)
        state.remember("date_bounds", bounds)
        start = _clamp(view.start, options, bounds[0])
        end = _clamp(view.end, options, bounds[1])
        state.sync_widget("f_dates", (start, end))
        sb.date_input(
            "Dates (local time)",
            min_value=bounds[0],
            max_value=bounds[1],
            key="f_dates",
            on_change=_on_dates,
        )
    state.sync_widget("f_hours", (view.h0, view.h1))
    sb.slider("Hours of the day (local time)", 0, 24, key="f_hours", on_change=_on_hours)
    every = list(options.device_types)
    state.remember("all_types", tuple(every))
    chosen = [t for t in (view.types or every) if t in every] or every
    state.sync_widget("f_types", sorted(chosen))
    sb.multiselect("Device types", sorted(every), key="f_types", on_change=_on_types)
    state.remember("suggested", suggested)
    res = view.res if view.res is not None else suggested
    offered = sorted({*RESOLUTIONS, suggested, res})
    state.sync_widget("f_res", res)
    sb.select_slider(
        "H3 resolution (cell size)",
        options=offered,
        format_func=lambda r: f"{r} (suggested)" if r == suggested else str(r),
        key="f_res",
        on_change=_on_res,
        help="Larger numbers mean smaller cells. The suggested one keeps cells readable.",
    )
    types = tuple(sorted(chosen)) if set(chosen) != set(every) else None
    filters = (
        view.start.isoformat() if view.start else None,
        view.end.isoformat() if view.end else None,
        view.h0,
        view.h1,
        types,
    )
    return filters, res


def basemap_on() -> bool:
    """Whether to draw a basemap: off with ``PBE_BASEMAP=off`` or the sidebar toggle."""
    default = os.environ.get("PBE_BASEMAP", "on").strip().lower() != "off"
    state.sync_widget("basemap", default)
    return bool(st.sidebar.toggle("Basemap (loaded from an outside map service)", key="basemap"))
