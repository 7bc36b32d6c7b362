"""Reading a finding's evidence for people: key numbers as text, series as charts.

Evidence shapes differ by kind and grow as detectors do, so this module reads them
defensively: known series keys become the matching chart, other numeric series a
plain chart, scalars a short table. Returned strings are plain text (not escaped);
the chart SVGs are complete and escaped by :mod:`explorer.reports.charts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from explorer.reports.figures import (
    HIDDEN,
    Chart,
    as_mix,
    as_points,
    chart_models,
    evidence_charts,
    is_id_list,
    is_pair,
)
from explorer.reports.wording import (
    format_value,
    humanise,
    is_number,
    label,
)

__all__ = [
    "Chart",
    "EvidenceView",
    "Table",
    "chart_models",
    "evidence_charts",
    "evidence_view",
    "finding_action",
    "format_value",
    "humanise",
    "key_numbers",
    "records",
    "tables",
]

#: Longest list of distinct sorted integers shown as text (e.g. quiet hours).
MAX_ID_LIST = 12
#: Most records (e.g. heaped times) shown as a table.
MAX_RECORDS = 12
#: Interval keys whose point value has another name.
_INTERVAL_OF = {
    "difference_ci": "share_difference",
    "share_ci": "share",
    "shift_interval": "shift_hours",
}


@dataclass(frozen=True)
class Table:
    """A short list of records: title, headers in words and formatted cells."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class EvidenceView:
    """What a finding's evidence shows a reader: key numbers, tables and charts."""

    numbers: tuple[tuple[str, str], ...]
    tables: tuple[Table, ...]
    charts: tuple[Chart, ...]


def _interval_keys(key: str, evidence: dict[str, Any]) -> list[str]:
    """Keys holding the interval of ``key``: ``key_low``/``key_high`` or a pair."""
    if is_number(evidence.get(f"{key}_low")) and is_number(evidence.get(f"{key}_high")):
        return [f"{key}_low", f"{key}_high"]
    named = [k for k, base in _INTERVAL_OF.items() if base == key]
    return [k for k in (f"{key}_interval", f"{key}_ci", *named) if is_pair(evidence.get(k))][:1]


def _interval_text(key: str, evidence: dict[str, Any]) -> str:
    keys = _interval_keys(key, evidence)
    if not keys:
        return ""
    low, high = [evidence[k] for k in keys] if len(keys) == 2 else evidence[keys[0]]
    return f" (interval {format_value(key, low)} to {format_value(key, high)})"


def _bounds(evidence: dict[str, Any]) -> set[str]:
    """Keys shown inside another key's line: the bounds of its interval."""
    return {
        k for key in evidence if is_number(evidence[key]) for k in _interval_keys(key, evidence)
    }


def _scalars(value: Any) -> bool:
    """A small record of scalars that is not a mix to chart (e.g. an example point)."""
    if not isinstance(value, dict) or not value:
        return False
    if not all(v is None or isinstance(v, str | int | float | bool) for v in value.values()):
        return False
    return as_mix(value) is None


def key_numbers(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """(label in words, value with unit) of every scalar, short id list, interval and
    small record in the evidence; test-statistic internals are left out."""
    out = []
    bounds = _bounds(evidence)
    for key, value in evidence.items():
        if key in HIDDEN or key in bounds:
            continue
        if value is None or isinstance(value, str | int | float | bool):
            out.append((label(key), format_value(key, value) + _interval_text(key, evidence)))
        elif is_id_list(value):
            # A list of hours is not a number of hours: the key keeps its last word.
            out.append((humanise(key), ", ".join(str(v) for v in value)))
        elif is_pair(value) and key.endswith(("_interval", "_ci")):
            low, high = (format_value(key.rsplit("_", 1)[0], v) for v in value)
            out.append((label(key), f"{low} to {high}"))
        elif _scalars(value):
            parts = (f"{label(k).lower()} {format_value(k, v)}" for k, v in value.items())
            out.append((label(key), ", ".join(parts)))
    return out


def _cell(key: str, value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " and ".join(value)
    return format_value(key, value)


def tables(evidence: dict[str, Any]) -> list[Table]:
    """Short lists of records (e.g. the heaped times), headers in words, cells with units."""
    out = []
    for key, value in evidence.items():
        if (
            key in HIDDEN
            or as_points(value) is not None
            or not isinstance(value, list)
            or not value
        ):
            continue
        if len(value) > MAX_RECORDS or not all(isinstance(r, dict) for r in value):
            continue
        headers = [
            k
            for k, v in value[0].items()
            if isinstance(v, str | int | float | bool)
            or (isinstance(v, list) and all(isinstance(x, str) for x in v))
        ]
        rows = tuple(tuple(_cell(h, r.get(h)) for h in headers) for r in value)
        out.append(Table(label(key), tuple(label(h) for h in headers), rows))
    return out


def records(evidence: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headers, formatted rows) of :func:`tables`, for the text reports."""
    return [(t.title, list(t.headers), [list(r) for r in t.rows]) for t in tables(evidence)]


def evidence_view(evidence: dict[str, Any]) -> EvidenceView:
    """What a finding's evidence shows a reader: one definition for every report and the app."""
    return EvidenceView(
        tuple(key_numbers(evidence)), tuple(tables(evidence)), tuple(chart_models(evidence))
    )


#: The app's actions on a finding: a cleaned copy without its rows, re-reading the
#: timestamps in another zone, naming the file's columns in the mapping form.
DOWNLOAD_CLEANED, CHOOSE_TIME_ZONE, MAP_COLUMNS = (
    "download_cleaned",
    "choose_time_zone",
    "map_columns",
)
#: The action each kind offers (the cleaned kinds are explorer.cleaning.DROPPABLE).
ACTIONS = {
    "null_island": DOWNLOAD_CLEANED,
    "duplicate_pings": DOWNLOAD_CLEANED,
    "device_concentration": DOWNLOAD_CLEANED,
    "timezone_shift": CHOOSE_TIME_ZONE,
    "timestamp_heaping": MAP_COLUMNS,
}


def finding_action(kind: str, evidence: dict[str, Any]) -> str | None:
    """The action a finding offers, if any: a zone only for timestamps read without one,
    the column form only for bare dates (the time of day is in another column)."""
    action = ACTIONS.get(kind)
    if action == CHOOSE_TIME_ZONE and not (
        evidence.get("naive_timestamps") and evidence.get("suggested_tz")
    ):
        return None
    if action == MAP_COLUMNS and evidence.get("pattern") != "truncated_days":
        return None
    return action
