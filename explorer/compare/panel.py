"""The ``panel_changed`` check: the panel as a whole, before and after.

Four metrics, each told with both values and an interval: devices per day (days as
the unit, the first and last day left out as they may be cut), pings per device per
active day (devices as the unit, on the log scale: a few busy phones do not carry the
mean), the device-type mix (devices as the unit, Newcombe's interval of a difference of
shares) and the period covered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
from scipy import special

from explorer.compare.changes import Change, ChangeKind
from explorer.config.compare import CompareConfig
from explorer.stats import wilson_interval
from explorer.summary import Summary
from explorer.summary.panel import daily_series
from explorer.summary.views import device_types
from explorer.text import count, pct, ratio

#: Days kept whole when there are at least this many (the first and last left out).
TRIM_FROM_DAYS = 4


def daily_devices(summary: Summary) -> np.ndarray:
    """Devices per local day with any, the first and last day left out from 4 days on."""
    days = daily_series(summary).filter(pl.col("devices") > 0)["devices"].to_numpy()
    return days[1:-1] if len(days) >= TRIM_FROM_DAYS else days


def pings_per_active_day(summary: Summary) -> np.ndarray:
    """Each device's pings per local day it was seen."""
    days = summary.tables["device_days"]
    if days.is_empty():
        return np.zeros(0)
    per = days.group_by("device").agg(pings=pl.col("pings").sum(), days=pl.len())
    return (per["pings"] / per["days"]).to_numpy().astype(float)


def log_ratio(before: np.ndarray, after: np.ndarray) -> dict[str, float] | None:
    """Geometric means of each side with t intervals, and their ratio with Welch's
    interval; None with fewer than two values on a side."""
    if min(len(before), len(after)) < 2:
        return None
    logs = [np.log(np.clip(v, 1e-9, None)) for v in (before, after)]
    means = [float(v.mean()) for v in logs]
    variances = [float(v.var(ddof=1)) / len(v) for v in logs]
    out: dict[str, float] = {}
    for name, mean, var, n in zip(("before", "after"), means, variances, (len(before), len(after))):
        half = float(special.stdtrit(n - 1, 0.975)) * np.sqrt(var)
        out |= {name: np.exp(mean), f"{name}_low": np.exp(mean - half)}
        out[f"{name}_high"] = np.exp(mean + half)
    se2 = sum(variances)
    dof = se2**2 / sum(v**2 / (n - 1) for v, n in zip(variances, (len(before), len(after))))
    half = float(special.stdtrit(max(dof, 1.0), 0.975)) * np.sqrt(se2) if se2 > 0 else 0.0
    diff = means[1] - means[0]
    out |= {
        "change_ratio": np.exp(diff),
        "change_ratio_low": np.exp(diff - half),
        "change_ratio_high": np.exp(diff + half),
    }
    return {k: float(v) for k, v in out.items()}


def _ratio_severity(numbers: dict[str, float], config: CompareConfig) -> str | None:
    point = numbers["change_ratio"]
    low, high = numbers["change_ratio_low"], numbers["change_ratio_high"]
    conservative = low if point >= 1 else 1 / high
    if conservative >= config.high_panel_ratio:
        return "high"
    if conservative >= config.medium_panel_ratio:
        return "medium"
    far = point >= config.low_panel_ratio or point <= 1 / config.low_panel_ratio
    return "low" if far and (low > 1 or high < 1) else None


_METRICS = {
    "devices_per_day": ("devices per day", "days", "Every daily count of people"),
    "pings_per_device": ("pings per device per active day", "devices", "Dwell times, trip "
                         "counts and any per-device rate"),
}  # fmt: skip


def _ratio_change(metric: str, numbers: dict[str, float], units: tuple[int, int], config):
    severity = _ratio_severity(numbers, config)
    if severity is None:
        return None
    words, unit, affected = _METRICS[metric]
    point = numbers["change_ratio"]
    direction = "rose" if point >= 1 else "fell"
    title = (
        f"The panel's {words} {direction} from {numbers['before']:,.1f} to "
        f"{numbers['after']:,.1f} ({ratio(point)})"
    )
    story = (
        f"Typical {words} were {numbers['before']:,.1f} before and {numbers['after']:,.1f} "
        f"after (geometric means over {count(units[0])} and {count(units[1])} {unit}): "
        f"{ratio(point)} (interval {ratio(numbers['change_ratio_low'])} to "
        f"{ratio(numbers['change_ratio_high'])}). {affected} built on one delivery does not "
        "carry over to the other without a correction. Check whether the supplier changed "
        "its panel, its sampling or its SDK between the deliveries."
    )
    evidence = {"metric": metric, **numbers, f"before_{unit}": units[0]}
    evidence[f"after_{unit}"] = units[1]
    return Change(
        ChangeKind.PANEL_CHANGED,
        metric,
        severity,
        round(100 * abs(np.log(point)), 4),
        title,
        story,
        evidence=evidence,
    )


def type_mix_change(before: Summary, after: Summary, config: CompareConfig) -> Change | None:
    """The device type whose share of devices moved most (conservative end of Newcombe's
    interval of the difference), as a change when it passes the thresholds."""
    mixes = [device_types(s)["device_type"].value_counts() for s in (before, after)]
    totals = [int(m["count"].sum()) for m in mixes]
    if min(totals) == 0:
        return None
    shares = [dict(zip(m["device_type"].to_list(), m["count"].to_list())) for m in mixes]
    best = None
    for name in sorted(set(shares[0]) | set(shares[1]), key=str):
        k = np.array([shares[0].get(name, 0), shares[1].get(name, 0)], dtype=float)
        n = np.array(totals, dtype=float)
        if max(k / n) < config.mix_min_type_share:
            continue
        low, high = wilson_interval(k, n)
        p = k / n
        diff = p[1] - p[0]
        lower = diff - np.sqrt((p[1] - low[1]) ** 2 + (high[0] - p[0]) ** 2)
        upper = diff + np.sqrt((high[1] - p[1]) ** 2 + (p[0] - low[0]) ** 2)
        conservative = lower if diff >= 0 else -upper
        if best is None or conservative > best[0]:
            best = (conservative, str(name), p, (low, high), (lower, upper))
    if best is None or best[0] < config.medium_type_share_points:
        return None
    conservative, name, p, (low, high), (lower, upper) = best
    severity = "high" if conservative >= config.high_type_share_points else "medium"
    evidence: dict[str, Any] = {
        "metric": "type_mix",
        "device_type": name,
        "before_share": float(p[0]),
        "before_share_low": float(low[0]),
        "before_share_high": float(high[0]),
        "after_share": float(p[1]),
        "after_share_low": float(low[1]),
        "after_share_high": float(high[1]),
        "share_difference": float(p[1] - p[0]),
        "share_difference_low": float(lower),
        "share_difference_high": float(upper),
        "before_devices": totals[0],
        "after_devices": totals[1],
        "before_mix": {str(k): v / totals[0] for k, v in shares[0].items()},
        "after_mix": {str(k): v / totals[1] for k, v in shares[1].items()},
    }
    story = (
        f"{name} devices were {pct(p[0])} of {count(totals[0])} devices before and "
        f"{pct(p[1])} of {count(totals[1])} after (difference {pct(lower)} to {pct(upper)} "
        "at 95 %). Anything weighted or segmented by device type (an income or age proxy) "
        "differs between the deliveries; check whether the supplier added or lost a "
        "platform's SDK or app."
    )
    return Change(
        ChangeKind.PANEL_CHANGED,
        "type_mix",
        severity,
        round(100 * conservative, 4),
        f"{name} devices went from {pct(p[0])} to {pct(p[1])} of the panel",
        story,
        evidence=evidence,
    )


def _days(time: dict[str, Any]) -> float | None:
    if not time.get("start") or not time.get("end"):
        return None
    start, end = (
        dt.datetime.fromisoformat(time[k].replace("Z", "+00:00")) for k in ("start", "end")
    )
    return (end - start) / dt.timedelta(days=1)


def period_change(before: dict, after: dict, config: CompareConfig) -> Change | None:
    """A change when the periods covered (``time`` blocks of the profiles) differ by a day
    or more and by ``medium_period_share`` of the longer."""
    days = (_days(before), _days(after))
    if None in days:
        return None
    longer = max(days[0], days[1], 1e-9)
    gap = abs(days[1] - days[0])
    if gap < config.min_period_days or gap / longer < config.medium_period_share:
        return None
    severity = "high" if gap / longer >= config.high_period_share else "medium"
    shorter = "shorter" if days[1] < days[0] else "longer"
    evidence = {
        "metric": "period",
        "before_days": round(days[0], 2),
        "after_days": round(days[1], 2),
        "before_start": before["start"],
        "before_end": before["end"],
        "after_start": after["start"],
        "after_end": after["end"],
        "period_share_difference": round(gap / longer, 4),
    }
    story = (
        f"The before delivery covers {days[0]:.1f} days ({before['start']} to {before['end']}) "
        f"and the after delivery {days[1]:.1f} days ({after['start']} to {after['end']}). "
        "Totals, counts of devices and weekly patterns differ by construction; compare "
        "daily figures, or ask the supplier whether days are missing."
    )
    return Change(
        ChangeKind.PANEL_CHANGED,
        "period",
        severity,
        round(100 * gap / longer, 4),
        f"The after delivery covers {days[1]:.1f} days against {days[0]:.1f} before "
        f"({gap:.1f} days {shorter})",
        story,
        evidence=evidence,
        period={"start": after["start"], "end": after["end"]},
    )


def detect_panel(
    before: Summary, after: Summary, times: tuple[dict, dict], config: CompareConfig
) -> list[Change]:
    """Every ``panel_changed`` change: devices per day, pings per device, type mix, period."""
    changes = []
    for metric, values in (
        ("devices_per_day", (daily_devices(before), daily_devices(after))),
        ("pings_per_device", (pings_per_active_day(before), pings_per_active_day(after))),
    ):
        numbers = log_ratio(*values)
        if numbers is not None:
            change = _ratio_change(metric, numbers, (len(values[0]), len(values[1])), config)
            changes.append(change)
    changes += [type_mix_change(before, after, config), period_change(*times, config)]
    return [c for c in changes if c is not None]


def panel_figures(before: Summary, after: Summary) -> dict[str, Any]:
    """The panel-level numbers of both sides whether or not they changed (for the story
    and the JSON): devices per day and pings per device with intervals."""
    out = {}
    for metric, values in (
        ("devices_per_day", (daily_devices(before), daily_devices(after))),
        ("pings_per_device", (pings_per_active_day(before), pings_per_active_day(after))),
    ):
        out[metric] = log_ratio(*values)
    return out
