"""The charts of a finding's evidence, as data (:class:`Chart`) and as inline SVG.

One definition for every reader: the HTML report draws :func:`chart_svg` of each
:class:`Chart`, the app draws the same charts from the same models. Evidence shapes
differ by kind and grow as detectors do, so the series are read defensively: known
keys become the matching chart, other numeric series a plain one. Hour series are
always drawn as shares, both of them, never counts beside shares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from explorer.reports import charts
from explorer.reports.wording import humanise, is_coordinate, is_number

#: Longest list of distinct sorted integers shown as text (e.g. quiet hours), not drawn.
MAX_ID_LIST = 12
#: (first, second, names, title, y axis) of 24-hour series drawn side by side, both as shares.
HOUR_PAIRS = (
    (
        "area_hours",
        "rest_hours",
        ("This area", "Everywhere else"),
        "Activity by local hour",
        "share of device-hours",
    ),
    ("hours", "reference", ("This data", "A human day"), "Pings by local hour", "share of pings"),
    (
        "before_hours",
        "after_hours",
        ("Before", "After"),
        "Devices' hours by local hour",
        "share of device-hours",
    ),
)
#: (first, second, names, title) of {category: share} mixes drawn side by side; a key
#: is drawn in the first pair whose both keys are there.
MIX_PAIRS = (
    ("area_mix", "regional_mix", ("This area", "Around it"), "Device-type mix of devices"),
    ("area_mix", "overall_mix", ("This area", "Overall"), "Device-type mix of devices"),
    ("area_ping_mix", "regional_ping_mix", ("This area", "Around it"), "Device-type mix of pings"),
    ("mix", "reference_mix", ("Observed", "Expected"), "Mix"),
    ("before_mix", "after_mix", ("Before", "After"), "Device-type mix of devices"),
)
#: Most charts drawn for one finding.
MAX_CHARTS = 4
#: Test-statistic internals a reader cannot use (the story and the shares tell it).
HIDDEN = frozenset({"tv", "z", "gain", "gain_interval", "overdispersion"})
#: Mixes told in words or by another chart (the same devices counted another way).
_NOT_CHARTED = frozenset({"overall_mix", "area_main_type_mix", "area_ping_type_mix"})
#: (title, x axis, y axis) of known series; others are titled from their key.
SERIES = {
    "area_ping_hours": ("This area's pings by local hour", "local hour", "share of pings"),
    "decimals_histogram": ("Pings by decimals in their coordinates", "decimals", "pings"),
    "neighbour_pings": ("Pings in the neighbouring cells", "neighbouring cell", "pings"),
    "neighbour_devices": ("Devices in the neighbouring cells", "neighbouring cell", "devices"),
    "tv_by_shift": (
        "Mismatch with a human day, by clock shift",
        "clock moved by (hours)",
        "mismatch",
    ),
    "minute_pings": ("Pings per minute", "minute", "pings"),
    "second_of_minute": ("Pings by second of the minute", "second", "pings"),
    "copies_histogram": ("Duplicated rows by number of copies", "copies", "rows"),
    "curve": ("Share of pings sent by the busiest devices", "share of devices", "share of pings"),
}
#: Series whose bars are numbered from 0 (a histogram or a shift), not from 1.
_FROM_ZERO = ("histogram", "second_of_minute", "by_shift")
_HOUR_AXES = ("local hour", "share")


@dataclass(frozen=True)
class Chart:
    """One chart of a finding, as data: drawn as SVG by the reports and by the app.

    ``kind`` is ``"hours"`` (24 bars), ``"bars"`` (a short series), ``"mix"`` (horizontal
    bars of categories) or ``"curve"`` (a line through points, ``categories`` its x).
    ``values`` holds one series per name, aligned with ``categories``; ``unit`` says how
    to write them: ``"share"`` (a percentage), ``"count"`` or ``"number"``.
    """

    kind: str
    title: str
    x_label: str
    y_label: str
    names: tuple[str, ...]
    categories: tuple[Any, ...]
    values: tuple[tuple[float, ...], ...]
    unit: str


def is_id_list(value: Any) -> bool:
    """A short, sorted list of distinct integers: a set of hours or codes, not a series."""
    return (
        isinstance(value, list)
        and 0 < len(value) <= MAX_ID_LIST
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and all(a < b for a, b in zip(value, value[1:]))
    )


def is_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(is_number(v) for v in value)


def as_numbers(value: Any) -> list[float] | None:
    """The list as numbers, or None when it is not a non-empty list of numbers."""
    if isinstance(value, list) and value and all(is_number(v) or v is None for v in value):
        return [float(v) if v is not None else 0.0 for v in value]
    return None


def as_mix(value: Any) -> dict[str, float] | None:
    """{category: number}, or None; a record naming a place (lat, lon) is not a mix."""
    if not isinstance(value, dict) or not value or any(is_coordinate(str(k)) for k in value):
        return None
    if all(is_number(v) for v in value.values()):
        return {str(k): float(v) for k, v in value.items()}
    return None


def as_points(value: Any) -> tuple[list[tuple[float, float]], str, str] | None:
    """(points, x name, y name) of a curve given as dicts, pairs or plain numbers."""
    if not isinstance(value, list) or len(value) < 2:
        return None
    if all(isinstance(p, dict) for p in value):
        keys = [k for k, v in value[0].items() if is_number(v)]
        # Records with labels or many fields are a table, not a curve.
        if len(keys) != len(value[0]) or len(keys) > 3:
            return None
        if len(keys) >= 2 and all(
            is_number(p.get(keys[0])) and is_number(p.get(keys[1])) for p in value
        ):
            return [(p[keys[0]], p[keys[1]]) for p in value], keys[0], keys[1]
        return None
    if all(isinstance(p, list) and len(p) == 2 and all(map(is_number, p)) for p in value):
        return [(p[0], p[1]) for p in value], "", ""
    return None


def _shares(values: list[float]) -> tuple[float, ...]:
    """A series as shares of its total (already shares stay as they are)."""
    clean = [v if math.isfinite(v) and v > 0 else 0.0 for v in values]
    total = sum(clean)
    if total <= 1.0 + 1e-6 or total == 0:
        return tuple(clean)
    return tuple(v / total for v in clean)


def _unit_of(series: list[list[float]] | list[tuple[float, ...]]) -> str:
    flat = [v for s in series for v in s]
    if all(float(v).is_integer() for v in flat) and any(v > 1 for v in flat):
        return "count"
    return "share" if all(0 <= v <= 1 for v in flat) else "number"


_HOURS = tuple(f"{h:02d}" for h in range(24))


def _hour_charts(evidence: dict[str, Any], used: set[str]) -> list[Chart]:
    out = []
    for first, second, names, title, y_label in HOUR_PAIRS:
        a, b = as_numbers(evidence.get(first)), as_numbers(evidence.get(second))
        if not a or len(a) != 24:
            continue
        series = [_shares(a)] + ([_shares(b)] if b and len(b) == 24 else [])
        shown = names[: len(series)]
        out.append(
            Chart("hours", title, "local hour", y_label, shown, _HOURS, tuple(series), "share")
        )
        used.update({first, second} if len(series) == 2 else {first})
    return out


def _mix_chart(
    title: str, mixes: list[dict[str, float]], names: tuple[str, ...], axes: tuple[str, str]
) -> Chart:
    """Bars of one or two mixes; ``axes`` are (categories, values) in words."""
    categories = tuple(charts.top_categories(mixes[0], mixes[1] if len(mixes) > 1 else None))
    values = tuple(tuple(m.get(c, 0.0) for c in categories) for m in mixes)
    unit = _unit_of(values)
    return Chart("mix", title, *axes, names[: len(mixes)], categories, values, unit)


def _mix_charts(evidence: dict[str, Any], used: set[str]) -> list[Chart]:
    out = []
    for first, second, names, title in MIX_PAIRS:
        a, b = as_mix(evidence.get(first)), as_mix(evidence.get(second))
        if a and b and first not in used:
            axes = ("device type", "share") if "type" in title else ("", "share")
            out.append(_mix_chart(title, [a, b], names, axes))
            used.update({first, second})
    return out


def _ticks(key: str, length: int, start: str | None) -> tuple[str, ...]:
    """Category names of a short series: clock times from ``start`` (HH:MM), else numbers."""
    if start and len(start) == 5 and start[2] == ":" and start.replace(":", "").isdigit():
        first = int(start[:2]) * 60 + int(start[3:])
        return tuple(f"{(first + i) // 60 % 24:02d}:{(first + i) % 60:02d}" for i in range(length))
    offset = 0 if any(w in key for w in _FROM_ZERO) else 1
    return tuple(str(i + offset) for i in range(length))


def _single_chart(key: str, value: Any, start: str | None = None) -> Chart | None:
    """The chart of one series, or None when the value is not a series to draw."""
    if is_id_list(value) or key in HIDDEN or key in _NOT_CHARTED:
        return None
    if is_pair(value) and key.endswith(("_interval", "_ci")):
        return None  # an interval: told with its value in the key numbers
    numbers, mix, points = as_numbers(value), as_mix(value), as_points(value)
    name = key.rsplit(" ", 1)[-1]
    title, x_label, y_label = SERIES.get(name, (humanise(key), "", ""))
    if numbers and len(numbers) == 24 and "hour" in key.lower():
        y_label = y_label if y_label.startswith("share") else "share"
        return Chart(
            "hours", title, "local hour", y_label, (title,), _HOURS, (_shares(numbers),), "share"
        )
    if points:
        xs, ys = tuple(float(p[0]) for p in points[0]), tuple(float(p[1]) for p in points[0])
        x_label = x_label or points[1].replace("_", " ")
        y_label = y_label or points[2].replace("_", " ")
        return Chart("curve", title, x_label, y_label, (title,), xs, (ys,), _unit_of([ys]))
    if numbers and len(numbers) >= 2:
        ticks = _ticks(name, len(numbers), start)
        return Chart(
            "bars", title, x_label, y_label, (title,), ticks, (tuple(numbers),), _unit_of([numbers])
        )
    if mix:
        return _mix_chart(title, [mix], (title,), (x_label, y_label or "share"))
    return None


#: Titles of timelines: {"hours": [UTC instants], "observed": [...], "expected": [...]}.
TIMELINES = {
    "window": "Pings per hour around the hole",
    "day_hours": "Pings per hour of the cut day",
}


def _timeline_charts(evidence: dict[str, Any], used: set[str]) -> list[Chart]:
    """Pings seen and expected per UTC hour, side by side (a hole, a cut day)."""
    out = []
    for key, value in evidence.items():
        if not isinstance(value, dict) or not {"hours", "observed", "expected"} <= set(value):
            continue
        hours, seen, due = (
            value["hours"],
            as_numbers(value["observed"]),
            as_numbers(value["expected"]),
        )
        if not (seen and due and len(hours) == len(seen) == len(due) >= 2):
            continue
        ticks = tuple(f"{h[8:10]}/{h[5:7]} {h[11:16]}" for h in hours)
        title = TIMELINES.get(key, humanise(key))
        names = ("Seen", "Expected")
        out.append(
            Chart(
                "bars", title, "UTC hour", "pings", names, ticks, (tuple(seen), tuple(due)), "count"
            )
        )
        used.add(key)
    return out


def chart_models(evidence: dict[str, Any]) -> list[Chart]:
    """The charts of a finding's evidence (at most ``MAX_CHARTS``): paired hour series,
    mixes and timelines first, then every other series; hour series always as shares."""
    used: set[str] = set(HIDDEN)
    out = _hour_charts(evidence, used) + _mix_charts(evidence, used)
    out += _timeline_charts(evidence, used)
    for key, value in evidence.items():
        if key in used or len(out) >= MAX_CHARTS:
            continue
        chart = _single_chart(key, value)
        if chart:
            out.append(chart)
        elif isinstance(value, dict):
            # One level of nesting, e.g. {"series": {"start": "03:30", "minute_pings": [...]}}.
            start = value.get("start") if isinstance(value.get("start"), str) else None
            out += [c for k, v in value.items() if (c := _single_chart(f"{key} {k}", v, start))]
    return out[:MAX_CHARTS]


def chart_svg(chart: Chart) -> str:
    """One chart of the model as inline SVG (the HTML report's drawing of it)."""
    first = list(chart.values[0])
    second = list(chart.values[1]) if len(chart.values) > 1 else None
    names = (chart.names + ("", ""))[:2]
    if chart.kind == "hours":
        return charts.hour_bars(first, second, names, chart.title, chart.y_label)
    if chart.kind == "mix":
        mixes = [dict(zip(chart.categories, v)) for v in chart.values]
        return charts.mix_bars(
            mixes[0], mixes[1] if second else None, names, chart.title, chart.unit
        )
    if chart.kind == "curve":
        points = list(zip(chart.categories, first))
        return charts.line_chart(points, chart.title, chart.x_label, chart.y_label)
    return charts.value_bars(
        first, chart.title, ticks=chart.categories, x_label=chart.x_label, y_label=chart.y_label
    )


def evidence_charts(evidence: dict[str, Any]) -> list[str]:
    """SVG charts of the series in a finding's evidence (at most ``MAX_CHARTS``)."""
    return [chart_svg(c) for c in chart_models(evidence)]
