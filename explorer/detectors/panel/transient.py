"""Transient devices: most devices are seen too briefly to be followed from one day to
the next, and what a usable-panel rule would keep.

A device is transient when all its pings fall within ``max_span_hours`` (a day): it
cannot be followed to another day, so its home, its trips and its repeat visits are
unknown. Measured in hours between the first and the last ping rather than in local
dates, so an evening-to-morning visit, or an id rotated at UTC midnight, is one brief
device in every time zone. Devices seen on few hours a day but on many days are not
transient: they are sparse, and the usable-panel rule quoted with the finding (days
seen and hours a day) says what a stricter panel keeps.

Censoring: a brief device seen on the first or last local day of the period may be
followed outside the window, so it is left out of the share (its count is told, with
the share it would give either way).
"""

from __future__ import annotations

import polars as pl

from explorer.config.panel import PanelDevicesConfig
from explorer.detectors.context import Context
from explorer.detectors.needs import DEVICE_IDS, SEVERAL_DAYS, check
from explorer.detectors.places.common import plain, share_interval
from explorer.findings import Finding, FindingKind
from explorer.summary.panel import quantiles
from explorer.summary.panel_rule import PanelRule
from explorer.text import count, pct, plural

#: Bins of the days-seen histogram (first and last active days counted, inclusive).
DAY_BINS = ((1, 1), (2, 2), (3, 4), (5, 7), (8, 14), (15, None))
#: Hours a day of the compact survival table told in the evidence (plus the rule's).
SURVIVAL_HOURS = (1, 8)
_DAY_S = 86_400


def brief_devices(ctx: Context) -> pl.DataFrame:
    """Per device: active_days, pings, pings_per_day, hours_per_day, ``brief`` (all its
    pings within ``max_span_hours``) and ``censored`` (brief and seen on the first or
    last local day of the period, so it may be followed outside the window)."""
    cfg = ctx.config.panel_devices
    devices = ctx.panel_devices
    days = ctx.summary.tables["device_days"]
    first, last = days["day"].min(), days["day"].max()
    at_edges = days.filter((pl.col("day") == first) | (pl.col("day") == last))["device"].unique()
    span_s = (pl.col("last_seen") - pl.col("first_seen")).dt.total_seconds()
    brief = span_s < cfg.max_span_hours * 3_600
    return devices.select(
        "device",
        "active_days",
        "pings",
        "pings_per_day",
        "hours_per_day",
        brief=brief,
        censored=brief & pl.col("device").is_in(at_edges.implode()),
    )


def _days_histogram(active_days: pl.Series) -> list[dict]:
    rows = []
    for low, high in DAY_BINS:
        inside = active_days >= low if high is None else active_days.is_between(low, high)
        label = f"{low}+" if high is None else str(low) if low == high else f"{low}-{high}"
        rows.append({"days": label, "devices": int(inside.sum())})
    return rows


def _rule_evidence(table: pl.DataFrame, rule: PanelRule) -> dict:
    """What ``rule`` keeps, read from the survival table (zeros when the period is too
    short for it)."""
    row = table.filter(
        (pl.col("min_days") == rule.min_days) & (pl.col("min_hours") == rule.min_hours)
    )
    kept = (
        row.row(0, named=True)
        if row.height
        else {"devices": 0, "device_share": 0.0, "pings": 0, "ping_share": 0.0}
    )
    return {
        "min_days": rule.min_days,
        "min_hours": rule.min_hours,
        "text": rule.text(),
        "words": rule.words(),
        "devices": kept["devices"],
        "device_share": kept["device_share"],
        "pings": kept["pings"],
        "ping_share": kept["ping_share"],
    }


def _severity(low: float, cfg: PanelDevicesConfig) -> str | None:
    if low >= cfg.high_share:
        return "high"
    if low >= cfg.medium_share:
        return "medium"
    if low >= cfg.low_share:
        return "low"
    return None


@check(FindingKind.TRANSIENT_DEVICES.value, DEVICE_IDS, SEVERAL_DAYS)
def detect_transient_devices(ctx: Context) -> list[Finding]:
    """Most devices are seen within a single day only: they cannot be followed."""
    cfg = ctx.config.panel_devices
    if not ctx.has_devices or ctx.daily.height < cfg.min_days:
        return []
    per_device = brief_devices(ctx)
    judged = per_device.filter(~pl.col("censored"))
    if judged.height < cfg.min_devices:
        return []
    transient = int(judged["brief"].sum())
    share, low, high = share_interval(transient, judged.height)
    severity = _severity(low, cfg)
    if severity is None:
        return []
    censored = int(per_device["censored"].sum())
    total = per_device.height
    judged_pings = int(judged["pings"].sum())
    brief = judged.filter("brief")
    transient_pings = int(brief["pings"].sum())
    rule = PanelRule(cfg.rule_days, cfg.rule_hours)
    table = ctx.survival
    hours = sorted({*SURVIVAL_HOURS, rule.min_hours})
    evidence = {
        "devices": total,
        "devices_judged": judged.height,
        "censored": censored,
        "transient": transient,
        "share": share,
        "share_low": low,
        "share_high": high,
        "share_if_censored_followed": transient / total,
        "share_if_censored_transient": (transient + censored) / total,
        "daily_share": int(brief["active_days"].sum()) / int(judged["active_days"].sum()),
        "transient_pings": transient_pings,
        "transient_ping_share": transient_pings / max(judged_pings, 1),
        "max_span_hours": cfg.max_span_hours,
        "period_days": ctx.daily.height,
        "days_seen": _days_histogram(per_device["active_days"]),
        "pings_per_day": quantiles(per_device["pings_per_day"]),
        "hours_per_day": quantiles(per_device["hours_per_day"]),
        "rule": _rule_evidence(table, rule),
        "survival": table.filter(pl.col("min_hours").is_in(hours)).to_dicts(),
    }
    return [
        Finding(
            FindingKind.TRANSIENT_DEVICES.value,
            severity,
            float(share * 100),
            f"{pct(share)} of devices are seen within a single day and cannot be followed",
            _story(evidence),
            (),
            plain(evidence),
        )
    ]


def _story(ev: dict) -> str:
    rule = ev["rule"]
    censored = (
        f" ({plural(ev['censored'], 'brief device')} on the first or last day left out: "
        "they may be seen outside the period)"
        if ev["censored"]
        else ""
    )
    return (
        f"{pct(ev['share'])} of devices (interval {pct(ev['share_low'])} to "
        f"{pct(ev['share_high'])}) are seen within a single day{censored}: they cannot be "
        "followed, so trips, homes and repeat visits rest on the remaining "
        f"{pct(1 - ev['share'])}. They make {pct(ev['daily_share'])} of the devices seen on "
        f"a typical day and send {pct(ev['transient_ping_share'])} of the pings: ids that "
        "rotate daily look like this, and so do one-off visitors. "
        f"A rule of {rule['words']} keeps {count(rule['devices'])} devices "
        f"({pct(rule['device_share'])}) and {pct(rule['ping_share'])} of the pings."
    )


__all__ = ["DETECTORS", "brief_devices", "detect_transient_devices"]

DETECTORS = [detect_transient_devices]
