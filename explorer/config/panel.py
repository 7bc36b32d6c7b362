"""Thresholds of the panel checks: holes in the feed, cut days, shifts, transient devices."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting


@dataclass(frozen=True)
class PanelGapsConfig:
    """Thresholds of ``panel_gap`` and ``partial_period`` (the time line of the pings)."""

    low_hour_ratio: float = setting(
        0.25,
        "An hour holding under a quarter of the pings its hour of the day usually holds is "
        "a hole: weekends, holidays and storms lower traffic by a third to a half, not by "
        "three quarters.",
    )
    medium_lost_share: float = setting(
        0.005,
        "A hole that loses 0.5 % of the period's expected pings (about 3-4 busy hours in a "
        "month) already biases hour-of-day and daily figures of anyone counting visits.",
    )
    high_lost_share: float = setting(
        0.03,
        "From 3 % of the period's expected pings lost (a whole day in a month), daily "
        "series, trends and dwell times built on the data are visibly wrong.",
    )
    partial_day_share: float = setting(
        0.8,
        "A first or last day holding under 80 % of the pings a day normally holds up to "
        "the same hours is cut short: a day's traffic varies by about ±15 % between days.",
    )
    medium_partial_share: float = setting(
        0.5,
        "A cut day with under half its expected pings halves any daily count that "
        "includes it, enough to read as a real drop in a trend.",
    )


@dataclass(frozen=True)
class PanelShiftConfig:
    """Thresholds of ``panel_shift`` (a step in the panel that stays)."""

    min_days_each_side: int = setting(
        3,
        "A step needs at least 3 days before and after it to tell it from a weekend "
        "(2 days) or one odd day.",
    )
    medium_change: float = setting(
        0.3,
        "A lasting change of 30 % in devices a day, pings per device or a type's share "
        "is beyond weekly rhythm and real-world drift over a few weeks, and moves any "
        "before/after comparison.",
    )
    high_change: float = setting(
        1.0,
        "A lasting doubling (or halving) is a different panel: what is counted after the "
        "step cannot be compared with what came before.",
    )


@dataclass(frozen=True)
class PanelDevicesConfig:
    """Thresholds of ``transient_devices`` and the usable-panel rule it quotes."""

    min_days: int = setting(
        3,
        "Devices can only be followed across days when the data covers at least 3 local "
        "days; on fewer, every device is brief by construction.",
    )
    max_span_hours: float = setting(
        24.0,
        "A device whose pings all fall within 24 hours is seen for a day at most: it "
        "cannot be followed from one day to the next (counted in hours rather than local "
        "dates, so an evening-to-morning visit or an id rotated at UTC midnight counts "
        "once in every time zone).",
    )
    min_devices: int = setting(
        20,
        "Under 20 devices judged, a share of brief devices says more about the few "
        "devices in the file than about a panel.",
    )
    rule_days: int = setting(
        3,
        "The usable-panel rule quoted by default asks for 3 active days: the fewest on "
        "which home and work places can be told apart from one-off visits.",
    )
    rule_hours: int = setting(
        4,
        "The rule's days each need 4 distinct local hours seen: enough to see a device at "
        "two parts of its day (mobilkit's and vendors' daily-coverage thresholds run "
        "from 2 to 8 hours).",
    )
    low_share: float = setting(
        0.3,
        "When 30 % of devices (lower 95 % bound) are seen within one day only it is worth "
        "saying: trip and home statistics rest on the remaining devices alone.",
    )
    medium_share: float = setting(
        0.5,
        "When most devices (over 50 %, lower 95 % bound) cannot be followed, any "
        "per-device figure describes a minority of the panel.",
    )
    high_share: float = setting(
        0.8,
        "When over 80 % of devices (lower 95 % bound) are seen within one day only, the "
        "ids likely rotate: the data is a set of snapshots, not a panel.",
    )
