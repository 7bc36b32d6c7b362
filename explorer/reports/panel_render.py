"""The words and tables of the report's "Panel over time" section, as plain text
(Markdown and HTML escape and lay them out): how days are counted, the default rule
and what it keeps, the daily (or weekly) table, the per-device distributions and the
survival table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from explorer.reports.story_words import share_words

#: Beyond this many days the table rolls the days up by week (the chart keeps days).
WEEKLY_AFTER_DAYS = 31
#: Per-device figures in the order shown, with their names in words.
FIGURES = {
    "active_days": "Active days",
    "pings_per_day": "Pings per active day",
    "hours_per_day": "Hours seen per active day",
    "median_gap_s": "Median gap between pings",
}
#: Periods of findings named in the section's sentences; the others are counted.
NAMED_PERIODS = 5

Table = tuple[tuple[str, ...], list[tuple[str, ...]]]


def rule_sentence(panel: dict[str, Any]) -> str:
    """What the default usable-panel rule keeps, or why it cannot be applied."""
    rule = panel.get("rule") or {}
    name = f"The default usable-panel rule, {rule.get('words', '')} ({rule.get('text', '')})"
    if rule.get("devices") is None:
        return f"{name}, needs device ids."
    total = int((panel.get("devices") or {}).get("count") or 0)
    return (
        f"{name}, keeps {int(rule['devices']):,} of {total:,} devices "
        f"({_share(rule.get('device_share'))}) and {_share(rule.get('ping_share'))} of their pings."
    )


def panel_sentences(panel: dict[str, Any]) -> list[str]:
    """How days are counted, why device figures are empty, the rule, the shaded periods."""
    out = [str((panel.get("day_convention") or {}).get("text") or "")]
    if panel.get("reason"):
        out.append(str(panel["reason"]))
    out.append(rule_sentence(panel))
    periods = panel.get("periods") or []
    if periods:
        named = [
            f"{str(p.get('kind', '')).replace('_', ' ')} ({p.get('severity')}) from "
            f"{p.get('start')} to {p.get('end')}"
            for p in periods[:NAMED_PERIODS]
        ]
        more = len(periods) - NAMED_PERIODS
        named += [f"{more} more"] if more > 0 else []
        out.append(f"Findings about a span of time: {'; '.join(named)}.")
    return [s for s in out if s]


def _days_flagged(panel: dict[str, Any]) -> dict[str, list[str]]:
    """Local day (ISO) -> kinds of the findings whose period touches it."""
    out: dict[str, list[str]] = {}
    for p in panel.get("periods") or []:
        try:
            first = dt.date.fromisoformat(str(p["first_day"]))
            last = dt.date.fromisoformat(str(p["last_day"]))
        except (KeyError, ValueError):
            continue
        kind = str(p.get("kind", "")).replace("_", " ")
        for i in range((last - first).days + 1):
            kinds = out.setdefault((first + dt.timedelta(days=i)).isoformat(), [])
            if kind not in kinds:
                kinds.append(kind)
    return out


def _share(value: Any) -> str:
    """A share in words, exactly "0 %" when nothing is kept."""
    return "0 %" if not value else share_words(float(value))


def _n(value: Any) -> str:
    return "" if value is None else f"{value:,.0f}"


def _ratio(value: Any) -> str:
    return "" if value is None else f"{value:,.1f}"


def daily_table(panel: dict[str, Any]) -> tuple[str, Table]:
    """The table of days (title, header, rows), rolled up by week beyond
    :data:`WEEKLY_AFTER_DAYS` days; a last column names the findings touching a day."""
    days = panel.get("days") or []
    if len(days) > WEEKLY_AFTER_DAYS:
        return "Per week (weeks from Monday; devices are counted per day, then averaged)", (
            _weekly(panel)
        )
    ids = bool(panel.get("device_ids"))
    flagged = _days_flagged(panel)
    header = ("Day", "Pings") + (("Devices", "Pings per device", "New", "Returning") if ids else ())
    rows = []
    for d in days:
        row = (str(d.get("day")), _n(d.get("pings")))
        if ids:
            row += (_n(d.get("devices")), _ratio(d.get("pings_per_device")))
            row += (_n(d.get("new_devices")), _n(d.get("returning_devices")))
        rows.append(row + ((", ".join(flagged.get(str(d.get("day")), [])),) if flagged else ()))
    return "Per local day", (header + (("Findings",) if flagged else ()), rows)


def _weekly(panel: dict[str, Any]) -> Table:
    """Days summed by week (from its Monday): pings, devices a day on average, pings
    per device (device pings over device-days), new devices."""
    ids = bool(panel.get("device_ids"))
    weeks: dict[dt.date, list[dict[str, Any]]] = {}
    for d in panel.get("days") or []:
        day = dt.date.fromisoformat(str(d["day"]))
        weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append(d)
    header = ("Week of", "Days", "Pings")
    header += ("Devices a day", "Pings per device", "New devices") if ids else ()
    rows = []
    for monday, group in weeks.items():
        row = (monday.isoformat(), str(len(group)), _n(sum(d.get("pings") or 0 for d in group)))
        if ids:
            device_days = sum(d.get("devices") or 0 for d in group)
            pings = sum((d.get("pings_per_device") or 0) * (d.get("devices") or 0) for d in group)
            row += (
                _ratio(device_days / len(group)),
                _ratio(pings / device_days if device_days else None),
            )
            row += (_n(sum(d.get("new_devices") or 0 for d in group)),)
        rows.append(row)
    return header, rows


def figure_value(name: str, value: Any) -> str:
    """A per-device figure for people: gaps in s, min, h or days; others to a tenth."""
    if value is None:
        return ""
    if name != "median_gap_s":
        return f"{value:,.1f}".removesuffix(".0")
    for unit, seconds in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if value >= seconds:
            return f"{f'{value / seconds:,.1f}'.removesuffix('.0')} {unit}"
    return f"{value:.0f} s"


def distribution_table(panel: dict[str, Any]) -> Table | None:
    """Per figure: devices with a value and its quantiles (None without device ids)."""
    devices = panel.get("devices")
    if not devices:
        return None
    header = ("Per device", "Devices", "10 %", "25 %", "Median", "75 %", "90 %")
    rows = []
    for key, name in FIGURES.items():
        figure = devices.get(key) or {}
        q = figure.get("quantiles") or {}
        values = tuple(figure_value(key, q.get(p)) for p in ("p10", "p25", "p50", "p75", "p90"))
        rows.append((name, _n(figure.get("devices"))) + values)
    return header, rows


def survival_pivot(panel: dict[str, Any]) -> Table | None:
    """Devices kept (share and count) by hours a day (rows) and active days (columns)."""
    rows = panel.get("survival") or []
    if not rows:
        return None
    days = sorted({int(r["min_days"]) for r in rows})
    hours = sorted({int(r["min_hours"]) for r in rows})
    cell = {(int(r["min_days"]), int(r["min_hours"])): r for r in rows}
    header = ("Hours a day",) + tuple(f"{d}+ days" for d in days)
    out = []
    for m in hours:
        shares = tuple(_share(cell[(d, m)]["device_share"]) if (d, m) in cell else "" for d in days)
        out.append((f"{m}+",) + shares)
    return header, out


def histograms(panel: dict[str, Any]) -> list[tuple[str, list[int], list[str]]]:
    """Per figure: its name, devices per bin and a short tick per bin (the bin's lower
    edge; empty without device ids)."""
    devices = panel.get("devices") or {}
    out = []
    for key, name in FIGURES.items():
        bins = (devices.get(key) or {}).get("histogram") or []
        if not bins:
            continue
        ticks = [
            str(b.get("label")) if key == "active_days" else figure_value(key, b.get("from"))
            for b in bins
        ]
        out.append((name, [int(b.get("devices") or 0) for b in bins], ticks))
    return out
