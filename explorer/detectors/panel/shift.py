"""Panel shifts: a day from which the panel works differently and stays so — devices a
day, pings per device or the device-type mix step up or down.

It reads the daily series (local days) and the devices per day and main type. Days
that are not whole (a cut first or last day, a hole inside) are left out; with two
weeks or more each weekday's rhythm is taken out. Each metric gets its one best step,
a permutation p-value for it (Benjamini-Hochberg across the metrics), a straight line
it must beat (steady growth is not a step) and a bootstrap interval of its size.
Metrics that step on the same day are one change, told once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.config.panel import PanelShiftConfig
from explorer.detectors.context import Context
from explorer.detectors.needs import SEVERAL_DAYS, check
from explorer.detectors.panel.steps import (
    Metric,
    Step,
    best_step,
    panel_metrics,
    weekday_adjusted,
    whole_days,
)
from explorer.findings import Finding, FindingKind
from explorer.stats import benjamini_hochberg
from explorer.summary.panel import iso_hour
from explorer.text import count, pct

KIND = FindingKind.PANEL_SHIFT.value
#: Seed of the permutations and bootstrap resamples (the same data, the same finding).
_SEED = 22
#: What each metric is, in words.
_NAMES = {
    "devices": "devices a day",
    "pings_per_device": "pings per device",
    "pings": "pings a day",
}


@dataclass(frozen=True)
class Shift:
    """A metric's step, judged: its day, size on the metric's own scale and severity."""

    metric: Metric
    step: Step
    day: dt.date
    before: float
    after: float
    change: float
    change_low: float
    change_high: float
    severity: str | None
    size: float


@dataclass(frozen=True)
class Scan:
    """What was tested: the calendar days, which were whole, whether the weekly rhythm
    was taken out, and the shifts found (strongest first)."""

    days: list[dt.date]
    kept: np.ndarray
    weekday_adjusted: bool
    metrics: list[Metric]
    shifts: list[Shift]


def scan_panel(ctx: Context) -> Scan:
    """Every metric's best step that is significant (Benjamini-Hochberg across the
    metrics), beats the trends and is big enough to tell, strongest first; on whole
    days only, the weekly rhythm out from two weeks on."""
    cfg = ctx.config.panel_shift
    daily = ctx.daily
    days = daily["day"].to_list()
    pings = daily["pings"].to_numpy().astype(float)
    if np.count_nonzero(pings) >= cfg.weekly_min_days:
        # A Sunday is judged against Sundays: the rhythm out first, then whole days.
        weekdays = np.array([d.weekday() for d in days], dtype=int)
        pings = np.exp(weekday_adjusted(np.log(np.where(pings > 0, pings, np.nan)), weekdays))
    kept = whole_days(np.nan_to_num(pings), cfg.edge_day_share, cfg.inside_day_share)
    adjust = int(kept.sum()) >= cfg.weekly_min_days
    metrics = panel_metrics(ctx, daily) if kept.sum() >= 2 * cfg.min_days_each_side else []
    return Scan(days, kept, adjust, metrics, _shifts(ctx, days, kept, adjust, metrics))


def _shifts(
    ctx: Context, days: list[dt.date], kept: np.ndarray, adjust: bool, metrics: list[Metric]
) -> list[Shift]:
    cfg = ctx.config.panel_shift
    weekdays = np.array([d.weekday() for d in days], dtype=int)
    candidates = []
    for i, metric in enumerate(metrics):
        scaled = np.where(kept, metric.scaled, np.nan)
        if adjust:
            scaled = weekday_adjusted(scaled, weekdays)
        positions = np.flatnonzero(~np.isnan(scaled))
        step = best_step(
            scaled[positions],
            positions,
            cfg.min_days_each_side,
            cfg.permutations,
            cfg.resamples,
            _SEED + i,
        )
        if step is not None:
            candidates.append(_judged(metric, step, days[positions[step.at]], cfg))
    if not candidates:
        return []
    found = benjamini_hochberg(
        np.array([c.step.p_value for c in candidates]), ctx.config.severity.fdr
    )
    told = [
        c
        for c, significant in zip(candidates, found, strict=True)
        if significant and c.step.beats_trend and c.severity is not None
    ]
    return sorted(told, key=lambda s: -s.size)


def _judged(metric: Metric, step: Step, day: dt.date, cfg: PanelShiftConfig) -> Shift:
    """A step in a metric's own terms (a ratio, or a share's change in points), with
    its severity (None when too small to tell) and its size in medium thresholds."""
    if metric.is_share:
        before, after = _expit(step.mean_before), _expit(step.mean_after)
        low = _expit(step.mean_before + step.low) - before
        high = _expit(step.mean_before + step.high) - before
        points = 100 * abs(after - before)
        levels = (cfg.low_type_points, cfg.medium_type_points, cfg.high_type_points)
        severity = _severity(points, levels)
        return Shift(
            metric,
            step,
            day,
            before,
            after,
            after - before,
            low,
            high,
            severity,
            points / cfg.medium_type_points,
        )
    factor = float(np.exp(abs(step.difference)))
    levels = (1 + cfg.low_change, 1 + cfg.medium_change, 1 + cfg.high_change)
    return Shift(
        metric,
        step,
        day,
        float(np.exp(step.mean_before)),
        float(np.exp(step.mean_after)),
        float(np.exp(step.difference)),
        float(np.exp(step.low)),
        float(np.exp(step.high)),
        _severity(factor, levels),
        float(np.log(factor) / np.log(1 + cfg.medium_change)),
    )


def _severity(size: float, levels: tuple[float, float, float]) -> str | None:
    low, medium, high = levels
    if size >= high:
        return "high"
    if size >= medium:
        return "medium"
    return "low" if size >= low else None


def _expit(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))


def grouped(shifts: list[Shift], within_days: int) -> list[list[Shift]]:
    """Shifts whose days lie within ``within_days`` of the strongest one's, together:
    one change of the panel seen in several metrics (strongest first in each group)."""
    left, groups = list(shifts), []
    while left:
        lead = left[0]
        group = [s for s in left if abs((s.day - lead.day).days) <= within_days]
        groups.append(group)
        left = [s for s in left if s not in group]
    return groups


@check(KIND, SEVERAL_DAYS)
def detect_panel_shift(ctx: Context) -> list[Finding]:
    """Days from which devices a day, pings per device or the type mix step and stay."""
    scan = scan_panel(ctx)
    groups = grouped(scan.shifts, ctx.config.panel_shift.same_step_days)
    return [_finding(ctx, scan, group) for group in groups]


def _finding(ctx: Context, scan: Scan, group: list[Shift]) -> Finding:
    lead = group[0]
    cfg = ctx.config.panel_shift
    pings = _pings_factor(group)
    levels = (1 + cfg.low_change, 1 + cfg.medium_change, 1 + cfg.high_change)
    severity = min([*(s.severity for s in group), _severity(pings, levels)], key=_RANK.index)
    score = max(*(s.size for s in group), np.log(pings) / np.log(1 + cfg.medium_change))
    hours = ctx.summary.tables["period_hours"]
    start = hours.filter(pl.col("day") == lead.day)["hour"].min()
    period = {"start": iso_hour(start), "end": iso_hour(hours["hour"].max() + 1)}
    when = f"{lead.day.day} {lead.day:%B %Y}"
    title = f"The panel changes from {when}: " + ", ".join(_headline(s) for s in group)
    return Finding(
        KIND,
        severity,
        round(float(score), 3),
        title,
        " ".join(_story(group, when)),
        (),
        _evidence(scan, group),
        period,
    )


_RANK = ("high", "medium", "low", None)


def _pings_factor(group: list[Shift]) -> float:
    """Devices and pings per device stepping together change the pings a day by their
    product (half the devices each sending half the pings is a quarter of the pings),
    as a factor up or down; 1 when they do not both step."""
    factor = _signed_pings_factor(group) or 1.0
    return max(factor, 1 / factor)


def _signed_pings_factor(group: list[Shift]) -> float | None:
    ratios = {s.metric.name: s.change for s in group if not s.metric.is_share}
    if not {"devices", "pings_per_device"} <= set(ratios):
        return None
    return ratios["devices"] * ratios["pings_per_device"]


def _times(r: float) -> str:
    return f"{r:.1f}" if r >= 1.95 else f"{r:.2f}"


def _headline(shift: Shift) -> str:
    if shift.metric.is_share:
        return f"{shift.metric.device_type} {pct(shift.before)} → {pct(shift.after)} of devices"
    r = shift.change
    change = f"{r:.1f}×" if r >= 1.95 else f"{'+' if r > 1 else '−'}{pct(abs(r - 1))}"
    return f"{_NAMES[shift.metric.name]} {change}"


def _phrase(shift: Shift) -> str:
    """What changed, with the levels on each side and the interval."""
    if shift.metric.is_share:
        points = 100 * shift.change
        return (
            f"{shift.metric.device_type} makes {pct(shift.after)} of the devices a day instead "
            f"of {pct(shift.before)} ({points:+.0f} points, interval {100 * shift.change_low:+.0f}"
            f" to {100 * shift.change_high:+.0f})"
        )
    name, r = shift.metric.name, shift.change
    level = (
        f"{count(shift.after)} instead of {count(shift.before)}"
        if name != "pings_per_device"
        else f"{shift.after:.1f} instead of {shift.before:.1f}"
    )
    subject = {
        "devices": "the panel has",
        "pings_per_device": "each device sends",
        "pings": "the data holds",
    }[name]
    noun = {"devices": "devices a day", "pings_per_device": "pings a day", "pings": "pings a day"}
    if r >= 1:
        size = f"{_times(r)} times the {noun[name]}"
        interval = f"interval {_times(shift.change_low)} to {_times(shift.change_high)}"
    else:
        size = f"{pct(1 - r)} fewer {noun[name]}"
        interval = f"interval {pct(1 - shift.change_high)} to {pct(1 - shift.change_low)} fewer"
    return f"{subject} {size} ({level}; {interval})"


def _story(group: list[Shift], when: str) -> list[str]:
    """Two to four sentences: what changed, what it means, how sure, what to do."""
    sentences = [f"From {when} " + "; ".join(_phrase(s) for s in group) + "."]
    sentences.append(_meaning({s.metric.name: s.change for s in group}))
    if any(s.metric.is_share for s in group):
        sentences.append(
            "Figures that differ by device type (reach, sampling rates, income proxies) move "
            "with the mix, not with behaviour: compare each type on its own side of the day."
        )
    lead = group[0].step
    sentences.append(
        f"The step holds over {lead.at} whole days before and {lead.days - lead.at} after, "
        "beyond the weekly rhythm, and fits better than a steady or bending trend."
    )
    return sentences[:4]


_NOT_COMPARABLE = "before and after that day are not comparable"


def _meaning(changes: dict[str, float]) -> str:
    """What a change of these metrics (name -> ratio) means for anyone counting."""
    devices, per_device = changes.get("devices"), changes.get("pings_per_device")
    if devices is not None and per_device is not None:
        more = "more" if devices > 1 else "fewer"
        denser = "more densely" if per_device > 1 else "more sparsely"
        return (
            f"{more.capitalize()} devices are seen and each is tracked {denser}, so the pings "
            f"a day are {_times(devices * per_device)} times what they were: counts of pings and "
            f"of devices {_NOT_COMPARABLE} — ask the supplier what changed (an SDK, a "
            "sampling rate, a source)."
        )
    if devices is not None:
        grew = devices > 1
        return (
            f"The panel itself {'grew' if grew else 'shrank'} (a supplier or an app "
            f"{'added' if grew else 'dropped'}), not people's movement: counts of devices or "
            f"visits {_NOT_COMPARABLE} — compare within each side, or ask the supplier."
        )
    if per_device is not None:
        up = per_device > 1
        return (
            f"Devices a day stay level: {'denser' if up else 'sparser'} tracking, not "
            f"{'more' if up else 'less'} movement; any count of pings {_NOT_COMPARABLE} — "
            "compare devices, or ask the supplier what changed."
        )
    if "pings" in changes:
        return (
            "Without device ids more devices cannot be told from denser tracking; counts of "
            f"pings {_NOT_COMPARABLE} — ask the supplier what changed."
        )
    return f"The devices a day stay level, but figures by device type {_NOT_COMPARABLE}."


def _evidence(scan: Scan, group: list[Shift]) -> dict:
    """The change day, the days tested, and per metric its levels, change with
    interval, p-value and daily series (raw values, null where undefined)."""
    return {
        "change_day": group[0].day.isoformat(),
        "days_tested": int(scan.kept.sum()),
        "days_left_out": [
            d.isoformat() for d, k in zip(scan.days, scan.kept, strict=True) if not k
        ],
        "weekday_adjusted": scan.weekday_adjusted,
        "pings_change": _signed_pings_factor(group),
        "days": [d.isoformat() for d in scan.days],
        "metrics": [_metric_evidence(s) for s in group],
    }


def _metric_evidence(shift: Shift) -> dict:
    values = [None if np.isnan(v) else round(float(v), 6) for v in shift.metric.values]
    return {
        "metric": shift.metric.name,
        "type": shift.metric.device_type,
        "unit": "share" if shift.metric.is_share else "ratio",
        "change_day": shift.day.isoformat(),
        "before": shift.before,
        "after": shift.after,
        "change": shift.change,
        "change_low": shift.change_low,
        "change_high": shift.change_high,
        "p_value": shift.step.p_value,
        "severity": shift.severity,
        "values": values,
    }
