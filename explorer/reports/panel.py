"""The ``panel`` section of the report as data: the daily series, per-device
distributions, the survival table of usable-panel rules, the default rule and the
findings' periods to shade on a daily chart.

Small on purpose (one record per local day, a few quantiles and fixed histogram bins
per device figure, the survival grid): no per-device rows and no hourly series, so
that the JSON of a month of data stays in the tens of kB. Without device ids the
device parts are empty and ``reason`` says why.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from explorer.summary.panel import daily_series, daily_types, panel_devices, quantiles
from explorer.summary.panel_rule import PanelRule, qualifying_days

if TYPE_CHECKING:  # pragma: no cover - typing only
    from explorer.analysis import Analysis
    from explorer.findings import Finding
    from explorer.summary import Summary

__all__ = ["DAY_CONVENTION", "HISTOGRAM_BINS", "panel_section"]

DAY_CONVENTION = (
    "Days are local calendar days at each ping's place (its real time zone, daylight "
    "saving included), as in the hour profile; findings' periods are UTC instants."
)
#: Lower edges of the fixed histogram bins of each per-device figure: a bin holds the
#: devices from its edge up to (not including) the next; the last bin is open.
#: active_days in days, pings_per_day in pings per active day, hours_per_day in
#: distinct local hours per active day, median_gap_s in seconds.
HISTOGRAM_BINS: dict[str, tuple[float, ...]] = {
    "active_days": (1, 2, 3, 5, 8, 15, 22, 29),
    "pings_per_day": (1, 2, 5, 10, 20, 50, 100, 200, 500),
    "hours_per_day": (1, 2, 3, 4, 6, 8, 12, 16),
    "median_gap_s": (0, 60, 300, 900, 3_600, 10_800, 21_600, 86_400, 604_800),
}
#: Device types named per day; the others are summed as "other" (a file may name
#: hundreds of models).
MAX_DAY_TYPES = 8
#: Decimals kept of shares and per-device averages: a report reads them to a tenth of
#: a percent at most, and fewer digits keep the JSON small.
SHARE_DIGITS = 4
#: UTC offsets (hours) tried when placing UTC instants on the data's local days.
_OFFSETS = np.arange(-12, 15)
_GAP_WORDS = {0: "under 1 min", 60: "1-5 min", 300: "5-15 min", 900: "15-60 min"}
_GAP_WORDS |= {3_600: "1-3 h", 10_800: "3-6 h", 21_600: "6-24 h", 86_400: "1-7 days"}
_GAP_WORDS |= {604_800: "a week or more"}


def panel_section(analysis: Analysis) -> dict[str, Any]:
    """The report's ``panel`` block of ``analysis`` (JSON-safe, days as ISO dates)."""
    summary, context = analysis.summary, analysis.context
    reason = analysis.lacking.get("device_ids")
    with_ids = reason is None
    offset = main_utc_offset(summary)
    settings = analysis.config.panel_devices
    rule = PanelRule(settings.rule_days, settings.rule_hours)
    return {
        "device_ids": with_ids,
        "reason": None if with_ids else f"Device figures are empty: {reason}.",
        "day_convention": {"text": DAY_CONVENTION, "utc_offset_hours": offset},
        "days": day_records(
            summary, with_ids, context.daily, context.daily_types if with_ids else None
        ),
        "devices": device_distributions(summary, context.panel_devices) if with_ids else None,
        "survival": _survival(context.survival) if with_ids else [],
        "rule": rule_block(summary, rule, with_ids, context.qualifying_days if with_ids else None),
        "periods": period_records(analysis.findings, offset),
    }


def day_records(
    summary: Summary,
    with_ids: bool = True,
    series: pl.DataFrame | None = None,
    types: pl.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """One record per local day: pings and, with device ids, devices, pings per device,
    new and returning devices and devices by main type (null and empty without);
    ``series`` is the summary's daily series and ``types`` its devices per day and main
    type (:func:`explorer.summary.panel.daily_types`), if already derived."""
    series = daily_series(summary) if series is None else series
    if types is None and with_ids:
        types = daily_types(summary)
    by_day = _types_by_day(types) if with_ids else {}
    out = []
    for row in series.iter_rows(named=True):
        record = {"day": row["day"].isoformat(), "pings": row["pings"]}
        for key in ("devices", "pings_per_device", "new_devices", "returning_devices"):
            record[key] = _rounded(row[key]) if with_ids else None
        record["devices_by_type"] = by_day.get(row["day"], {})
        out.append(record)
    return out


def _types_by_day(daily: pl.DataFrame) -> dict[dt.date, dict[str, int]]:
    """Devices per day and main type, the :data:`MAX_DAY_TYPES` commonest types named
    (from :func:`explorer.summary.panel.daily_types`)."""
    frame = daily.with_columns(pl.col("device_type").fill_null("unknown"))
    totals = frame.group_by("device_type").agg(pl.col("devices").sum())
    named = totals.sort(["devices", "device_type"], descending=[True, False]).head(MAX_DAY_TYPES)
    keep = set(named["device_type"].to_list())
    frame = (
        frame.with_columns(
            device_type=pl.when(pl.col("device_type").is_in(keep))
            .then(pl.col("device_type"))
            .otherwise(pl.lit("other"))
        )
        .group_by("day", "device_type")
        .agg(pl.col("devices").sum())
    )
    out: dict[dt.date, dict[str, int]] = {}
    for day, kind, devices in frame.sort("day", "device_type").iter_rows():
        out.setdefault(day, {})[kind] = int(devices)
    return out


def device_distributions(
    summary: Summary, per_device: pl.DataFrame | None = None
) -> dict[str, Any]:
    """Devices counted, and per figure (active days, pings and hours per active day,
    median gap) its quantiles and histogram over :data:`HISTOGRAM_BINS`; ``per_device``
    is the summary's per-device panel view if already derived."""
    per_device = panel_devices(summary) if per_device is None else per_device
    figures = {}
    for name, edges in HISTOGRAM_BINS.items():
        values = per_device[name]
        figures[name] = {
            "devices": int(values.drop_nulls().len()),
            "quantiles": {k: _rounded(v) for k, v in quantiles(values).items()},
            "histogram": histogram(values, edges, name),
        }
    return {"count": per_device.height, **figures}


def histogram(values: pl.Series, edges: tuple[float, ...], name: str = "") -> list[dict]:
    """Devices per bin (``from`` inclusive, ``to`` exclusive, the last bin open), with a
    label in words; values below the first edge count in the first bin."""
    clean = values.drop_nulls()
    array = clean.to_numpy().astype(np.float64) if clean.len() else np.zeros(0)
    index = np.clip(np.searchsorted(np.asarray(edges, float), array, side="right") - 1, 0, None)
    counts = np.bincount(index, minlength=len(edges))
    uppers = list(edges[1:]) + [None]
    return [
        {"from": lo, "to": hi, "label": _bin_label(name, lo, hi), "devices": int(n)}
        for lo, hi, n in zip(edges, uppers, counts, strict=True)
    ]


def _bin_label(name: str, lo: float, hi: float | None) -> str:
    if name == "median_gap_s":
        return _GAP_WORDS.get(int(lo), f"{lo:g} s or more")
    if hi is None:
        return f"{lo:g} or more"
    if name == "active_days":  # whole days: 3-4 rather than 3 to under 5
        return f"{lo:g}" if hi - lo == 1 else f"{lo:g}-{hi - 1:g}"
    return f"{lo:g} to under {hi:g}"


def rule_block(
    summary: Summary,
    rule: PanelRule,
    with_ids: bool = True,
    per_device: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """The default usable-panel rule, in words, and what it keeps (devices and their
    pings, counts and shares; null without device ids). ``per_device`` is
    :func:`explorer.summary.panel_rule.qualifying_days` for (at least) the rule's hours,
    if already derived."""
    block: dict[str, Any] = {
        "min_days": rule.min_days,
        "min_hours": rule.min_hours,
        "text": rule.text(),
        "words": rule.words(),
    }
    if not with_ids:
        return block | dict.fromkeys(("devices", "device_share", "pings", "ping_share"))
    if per_device is None:
        per_device = qualifying_days(summary, (rule.min_hours,))
    kept = per_device[f"days_h{rule.min_hours}"] >= rule.min_days
    devices, pings = int(kept.sum()), int(per_device["pings"].filter(kept).sum() or 0)
    total_devices, total_pings = per_device.height, int(per_device["pings"].sum() or 0)
    return block | {
        "devices": devices,
        "device_share": _rounded(devices / total_devices if total_devices else 0.0),
        "pings": pings,
        "ping_share": _rounded(pings / total_pings if total_pings else 0.0),
    }


def _survival(table: pl.DataFrame) -> list[dict[str, Any]]:
    return table.with_columns(pl.col("device_share", "ping_share").round(SHARE_DIGITS)).to_dicts()


def _rounded(value: Any) -> Any:
    """Floats to :data:`SHARE_DIGITS` decimals (enough for any chart or table); others as
    they are."""
    return round(value, SHARE_DIGITS) if isinstance(value, float) else value


def main_utc_offset(summary: Summary) -> int:
    """The whole-hour UTC offset that puts most pings' UTC hours on their local days:
    the main time zone's, to place UTC instants on a chart of local days (0 without
    pings).

    Data covering only part of each day fits several offsets; among them, the one
    that best turns the pings' UTC hours of the day into their local hours is taken.
    """
    period = summary.tables["period_hours"]
    if period.is_empty():
        return 0
    day_hour = (period["day"].cast(pl.Int64) * 24).to_numpy()
    local = period["hour"].cast(pl.Int64).to_numpy()[None, :] + _OFFSETS[:, None] - day_hour
    weights = period["pings"].to_numpy().astype(np.float64)
    fit = (((local >= 0) & (local < 24)) * weights).sum(axis=1)
    best = _OFFSETS[fit == fit.max()]
    utc, here = (_hours_of_day(summary.tables[t]) for t in ("seconds_utc", "seconds_local"))
    overlap = [np.minimum(utc, np.roll(here, -int(c))).sum() for c in best]
    return int(best[int(np.argmax(overlap))])


def _hours_of_day(seconds: pl.DataFrame) -> np.ndarray:
    """Pings per hour of the day (24 values) from a (second of the day, pings) table."""
    hours = (seconds["second"].cast(pl.Int64) // 3_600).clip(0, 23).to_numpy()
    return np.bincount(hours, weights=seconds["pings"].to_numpy(), minlength=24)[:24]


def period_records(findings: list[Finding], utc_offset_hours: int = 0) -> list[dict[str, Any]]:
    """The findings with a period, in rank order: id, kind, severity, UTC start and end,
    and the local days they touch at ``utc_offset_hours`` (for shading a daily chart)."""
    out = []
    for finding in findings:
        if finding.period is None:
            continue
        start, end = (_instant(finding.period[k]) for k in ("start", "end"))
        shift = dt.timedelta(hours=utc_offset_hours)
        last = max(start, end - dt.timedelta(seconds=1))
        out.append(
            {
                "finding": finding.id,
                "kind": finding.kind,
                "severity": finding.severity,
                "start": finding.period["start"],
                "end": finding.period["end"],
                "first_day": (start + shift).date().isoformat(),
                "last_day": (last + shift).date().isoformat(),
            }
        )
    return out


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)
