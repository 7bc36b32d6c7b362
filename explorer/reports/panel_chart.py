"""Inline-SVG charts of the panel over time: daily series with findings' periods
shaded, and the survival table as a heat table (HTML, no scripts, no URLs).

Built from the report's ``panel`` block (:mod:`explorer.reports.panel`); every label
that may come from the data passes through :func:`explorer.reports.charts.escape`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from explorer.reports.charts import AREA_COLOUR, SEVERITY_COLOURS, escape
from explorer.reports.story_words import share_words

#: Width of a chart and height of one of its stacked panels, in SVG units.
WIDTH, PANEL_HEIGHT = 560, 84
#: Days up to which each day gets a dot (beyond, the line alone).
DOTTED_DAYS = 62
_LEFT, _RIGHT, _TOP, _GAP, _BOTTOM = 52, 10, 22, 22, 22
_FONT = 'font-family="system-ui, sans-serif" font-size="11" fill="#344054"'


def _f(value: float) -> str:
    return f"{value:.1f}"


def _series(days: list[dict[str, Any]], with_ids: bool) -> list[tuple[str, list]]:
    """The daily series a chart stacks: pings, and with ids devices and pings per device."""
    out = [("Pings per day", [d.get("pings") for d in days])]
    if with_ids:
        out.append(("Devices per day", [d.get("devices") for d in days]))
        out.append(("Pings per device per day", [d.get("pings_per_device") for d in days]))
    return out


def period_span(
    period: dict[str, Any], first_day: dt.date, offset_hours: int
) -> tuple[float, float]:
    """A period's start and end in days from the first local day's midnight, at the
    data's main UTC offset."""
    origin = dt.datetime.combine(first_day, dt.time(), dt.UTC) - dt.timedelta(hours=offset_hours)

    def days(text: str) -> float:
        instant = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        return (instant - origin) / dt.timedelta(days=1)

    return days(period["start"]), days(period["end"])


def daily_chart(panel: dict[str, Any]) -> str:
    """Stacked line charts of the daily series, one column per local day, with every
    finding's period shaded in its severity's colour ("" without days)."""
    days = panel.get("days") or []
    if not days:
        return ""
    series = _series(days, bool(panel.get("device_ids")))
    n = len(days)
    plot_w = WIDTH - _LEFT - _RIGHT
    height = _TOP + len(series) * (PANEL_HEIGHT + _GAP) + _BOTTOM
    bottom = height - _BOTTOM

    def x_of(day: float) -> float:
        return _LEFT + plot_w * day / n

    title = "The panel per local day"
    body = [f'<text x="0" y="14" {_FONT} font-weight="600">{escape(title)}</text>']
    body += _shading(panel, days, x_of, _TOP, bottom)
    for i, (name, values) in enumerate(series):
        top = _TOP + i * (PANEL_HEIGHT + _GAP) + _GAP
        body += _panel(name, values, top, x_of)
    body += _day_ticks(days, x_of, bottom)
    return (
        f'<svg class="chart panel-daily" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _shading(panel: dict[str, Any], days: list[dict], x_of, top: float, bottom: float) -> list[str]:
    first = dt.date.fromisoformat(str(days[0]["day"]))
    offset = int((panel.get("day_convention") or {}).get("utc_offset_hours") or 0)
    out = []
    for period in panel.get("periods") or []:
        try:
            start, end = period_span(period, first, offset)
        except (KeyError, TypeError, ValueError):
            continue
        start, end = max(start, 0.0), min(end, float(len(days)))
        if end < start:
            continue
        x0, x1 = x_of(start), x_of(end)
        colour = SEVERITY_COLOURS.get(str(period.get("severity")), SEVERITY_COLOURS["low"])
        kind = str(period.get("kind", "")).replace("_", " ")
        label = f"{kind}: {period.get('start')} to {period.get('end')}"
        out.append(
            f'<rect class="period" x="{_f(x0)}" y="{_f(top)}" width="{_f(max(x1 - x0, 2.0))}" '
            f'height="{_f(bottom - top)}" fill="{colour}" fill-opacity="0.18">'
            f"<title>{escape(label)}</title></rect>"
        )
    return out


def _panel(name: str, values: Sequence[Any], top: float, x_of) -> list[str]:
    """One stacked panel: its name, a baseline, the peak value and the line (broken
    where a day has no value)."""
    numbers = [
        v if isinstance(v, int | float) and not isinstance(v, bool) else None for v in values
    ]
    peak = max([v for v in numbers if v is not None] + [0]) or 1
    base = top + PANEL_HEIGHT

    def y_of(v: float) -> float:
        return base - PANEL_HEIGHT * v / peak

    out = [
        f'<text x="{_LEFT}" y="{_f(top - 6)}" {_FONT}>{escape(name)}</text>',
        f'<line x1="{_LEFT}" y1="{_f(base)}" x2="{WIDTH - _RIGHT}" y2="{_f(base)}" '
        'stroke="#98a2b3"/>',
        f'<text x="0" y="{_f(top + 9)}" {_FONT}>{escape(_short(peak))}</text>',
        f'<text x="0" y="{_f(base)}" {_FONT}>0</text>',
    ]
    runs: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(numbers):
        if v is None:
            runs.append([])
            continue
        runs[-1].append((x_of(i + 0.5), y_of(v)))
    for run in (r for r in runs if r):
        points = " ".join(f"{_f(x)},{_f(y)}" for x, y in run)
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{AREA_COLOUR}" stroke-width="2"/>'
        )
        if len(values) <= DOTTED_DAYS:
            out += [
                f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2.5" fill="{AREA_COLOUR}"/>' for x, y in run
            ]
    return out


def _day_ticks(days: list[dict], x_of, bottom: float) -> list[str]:
    """A date under the first day and then about every week (every seventh column)."""
    step = max(7, 7 * round(len(days) / 8 / 7)) if len(days) > 8 else 1
    out = []
    for i in range(0, len(days), step):
        day = dt.date.fromisoformat(str(days[i]["day"]))
        out.append(
            f'<text x="{_f(x_of(i))}" y="{_f(bottom + 16)}" {_FONT}>{day.strftime("%d %b")}</text>'
        )
    return out


def _short(value: float) -> str:
    """A peak value for an axis: 12,345 -> '12,345', 3.26 -> '3.3'."""
    return f"{value:,.0f}" if value >= 100 or float(value).is_integer() else f"{value:.1f}"


def survival_heat_table(panel: dict[str, Any]) -> str:
    """The survival table as HTML: hours a day down, active days across, each cell the
    share of devices kept, shaded by it (its devices and pings in a tooltip)."""
    rows = panel.get("survival") or []
    if not rows:
        return ""
    days = sorted({int(r["min_days"]) for r in rows})
    hours = sorted({int(r["min_hours"]) for r in rows})
    cell = {(int(r["min_days"]), int(r["min_hours"])): r for r in rows}
    rule = panel.get("rule") or {}
    head = "".join(f"<th>{d}+ days</th>" for d in days)
    body = []
    for m in hours:
        tds = []
        for d in days:
            r = cell.get((d, m))
            if r is None:
                tds.append("<td></td>")
                continue
            share = float(r.get("device_share") or 0.0)
            ink = "#fff" if share > 0.55 else "#1d2939"
            mark = (
                " outline:2px solid #1d2939;"
                if (d, m) == (rule.get("min_days"), rule.get("min_hours"))
                else ""
            )
            pings = share_words(float(r.get("ping_share") or 0))
            tip = f"{int(r['devices']):,} devices, {pings} of pings"
            tds.append(
                f'<td class="n" style="background:rgba(47,111,176,{share:.2f});color:{ink};{mark}" '
                f'title="{escape(tip)}">{escape(share_words(share) if share else "0 %")}</td>'
            )
        body.append(f"<tr><th>{m}+ hours a day</th>{''.join(tds)}</tr>")
    return f'<table class="survival"><tr><th></th>{head}</tr>{"".join(body)}</table>'
