"""Reading a finding's evidence for people: key numbers as text, series as charts.

Evidence shapes differ by kind and grow as detectors do, so this module reads them
defensively: known series keys become the matching chart, other numeric series a
plain chart, scalars a short table. Returned strings are plain text (not escaped);
the chart SVGs are complete and escaped by :mod:`explorer.reports.charts`.
"""

from __future__ import annotations

import math
from typing import Any

from explorer.reports import charts

#: (first, second, names, title) of 24-hour series drawn side by side.
HOUR_PAIRS = (
    ("area_hours", "rest_hours", ("This area", "Everywhere else"), "Activity by local hour"),
    ("hours", "reference", ("This data", "A human day"), "Pings by local hour"),
)
#: (first, second, names) of {category: share} mixes drawn side by side.
MIX_PAIRS = (
    ("area_mix", "overall_mix", ("This area", "Overall")),
    ("mix", "reference_mix", ("Observed", "Expected")),
)
#: Most charts drawn for one finding.
MAX_CHARTS = 4
#: Longest list of distinct sorted integers shown as text (e.g. quiet hours).
MAX_ID_LIST = 12
#: Most records (e.g. heaped times) shown as a table.
MAX_RECORDS = 12
#: Words in a key that mark a value in [0, 1] as a share, shown as a percentage.
_SHARE_WORDS = ("share", "fraction", "ratio_of", "pct", "proportion")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def humanise(key: str) -> str:
    """``cell_share`` -> ``Cell share``."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def format_value(key: str, value: Any) -> str:
    """A scalar as a reader would write it: 12,345 / 37% / 4.2 / yes / n/a."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "n/a"
        if _is_coordinate(key):
            return f"{value:.4f}"
        if any(w in key.lower() for w in _SHARE_WORDS) and 0 <= value <= 1:
            return f"{value:.2%}" if value < 0.01 else f"{value:.1%}"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:,.1f}"
        return f"{value:.3g}"
    return str(value)


def _is_coordinate(key: str) -> bool:
    name = key.lower()
    return name in ("lat", "lon", "lng", "latitude", "longitude") or name.endswith(
        ("_lat", "_lon", "_lng")
    )


def _id_list(value: Any) -> bool:
    """A short, sorted list of distinct integers: a set of hours or codes, not a series."""
    return (
        isinstance(value, list)
        and 0 < len(value) <= MAX_ID_LIST
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and all(a < b for a, b in zip(value, value[1:]))
    )


def key_numbers(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, formatted value) of every scalar (and short id list) in the evidence."""
    out = []
    for key, value in evidence.items():
        if value is None or isinstance(value, str | int | float | bool):
            out.append((humanise(key), format_value(key, value)))
        elif _id_list(value):
            out.append((humanise(key), ", ".join(str(v) for v in value)))
    return out


def records(evidence: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headers, formatted rows) of short lists of records, e.g. the heaped times."""
    out = []
    for key, value in evidence.items():
        if _points(value) is not None or not isinstance(value, list) or not value:
            continue
        if len(value) > MAX_RECORDS or not all(isinstance(r, dict) for r in value):
            continue
        headers = [k for k in value[0] if isinstance(value[0][k], str | int | float | bool)]
        rows = [[format_value(h, r.get(h)) for h in headers] for r in value]
        out.append((humanise(key), [humanise(h) for h in headers], rows))
    return out


def _numbers(value: Any) -> list[float] | None:
    """The list as numbers, or None when it is not a non-empty list of numbers."""
    if isinstance(value, list) and value and all(is_number(v) or v is None for v in value):
        return [float(v) if v is not None else 0.0 for v in value]
    return None


def _mix(value: Any) -> dict[str, float] | None:
    if isinstance(value, dict) and value and all(is_number(v) for v in value.values()):
        return {str(k): float(v) for k, v in value.items()}
    return None


def _points(value: Any) -> tuple[list[tuple[float, float]], str, str] | None:
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


def _paired_charts(evidence: dict[str, Any], used: set[str]) -> list[str]:
    out = []
    for first, second, names, title in HOUR_PAIRS:
        a, b = _numbers(evidence.get(first)), _numbers(evidence.get(second))
        if a and len(a) == 24:
            out.append(charts.hour_bars(a, b if b and len(b) == 24 else None, names, title))
            used.update({first, second} if b else {first})
    for first, second, names in MIX_PAIRS:
        a, b = _mix(evidence.get(first)), _mix(evidence.get(second))
        if a:
            out.append(charts.mix_bars(a, b, names, title=humanise(first)))
            used.update({first, second} if b else {first})
    return out


def _single_chart(key: str, value: Any) -> str | None:
    numbers, mix, points = _numbers(value), _mix(value), _points(value)
    title = humanise(key)
    if _id_list(value):
        return None
    if numbers and len(numbers) == 24 and "hour" in key.lower():
        return charts.hour_bars(numbers, None, (title, ""), title)
    if points:
        return charts.line_chart(points[0], title, points[1], points[2])
    if numbers and len(numbers) >= 2:
        return charts.value_bars(numbers, title, first=0 if "histogram" in key.lower() else 1)
    if mix:
        return charts.mix_bars(mix, None, (title, ""), title)
    return None


def evidence_charts(evidence: dict[str, Any]) -> list[str]:
    """SVG charts of the series in a finding's evidence (at most ``MAX_CHARTS``)."""
    used: set[str] = set()
    out = _paired_charts(evidence, used)
    for key, value in evidence.items():
        if key in used or len(out) >= MAX_CHARTS:
            continue
        chart = _single_chart(key, value)
        if chart:
            out.append(chart)
        elif isinstance(value, dict):
            # One level of nesting, e.g. {"series": {"minute_pings": [...]}}.
            out += [c for k, v in value.items() if (c := _single_chart(f"{key} {k}", v))]
    return out[:MAX_CHARTS]
