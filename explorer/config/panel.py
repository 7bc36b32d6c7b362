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
    normal_hour_ratio: float = setting(
        0.5,
        "The feed is running from the first hour holding half its expectation: the "
        "hours before it (zones joining one by one on the first day) are the first "
        "day's cut edge, told by partial_period, not a hole; likewise at the end.",
    )
    bridge_hours: int = setting(
        2,
        "Low runs apart by at most 2 hours that hold under half their expectation are "
        "one hole: a thinned feed creeps over the low line by chance for an hour or two.",
    )
    min_whole_days: int = setting(
        3,
        "The hour-of-day profile and the day's level come from whole UTC days: with 3, "
        "one odd day cannot move them; with fewer the time line is not judged.",
    )
    trim_share: float = setting(
        0.2,
        "An hour of the day's usual share is a mean over days with the lowest and highest "
        "20 % left out: a hole of up to 4 days in 3 weeks cannot pull it down.",
    )
    level_window_days: int = setting(
        29,
        "A day's expected level is the median of the whole days within two weeks either "
        "side: it follows a panel growing over months, and a hole of up to two weeks "
        "cannot lower its own expectation.",
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
        "A first or last day holding under 80 % of a day (its pings over its pings plus "
        "what a usual day holds beyond the cut) is cut short: a missing last hour or two "
        "is not worth a finding, a missing evening is.",
    )
    stray_day_share: float = setting(
        0.02,
        "An edge day holding under 2 % of a usual day is a stray, not a day: travellers' "
        "few pings land on the next local date of the zone they flew to.",
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
    weekly_min_days: int = setting(
        14,
        "With two weeks or more each weekday is seen at least twice, enough to take its "
        "median effect out before looking for a step; on fewer days no rhythm is removed.",
    )
    edge_day_share: float = setting(
        0.8,
        "A first or last day holding under 80 % of the pings of the days next to it is "
        "cut short (partial_period tells it) and left out: a weekend day holds about 85 %.",
    )
    inside_day_share: float = setting(
        0.5,
        "A day inside the period holding under half the pings of the days on both sides "
        "is a hole (panel_gap tells it) and left out; a holiday keeps 60 % or more.",
    )
    min_devices_a_day: int = setting(
        10,
        "Pings per device and type shares of a day with under 10 devices are a few "
        "phones' habits, not the panel's: such days are left out of those two metrics.",
    )
    min_type_share: float = setting(
        0.05,
        "Device types holding under 5 % of the devices are too few a day for their share "
        "to be followed; only main known types are tested (unknown is not a type).",
    )
    permutations: int = setting(
        2000,
        "Shuffles of the days behind each step's p-value: the smallest p-value they can "
        "give (1/2001) is well below what Benjamini-Hochberg asks across a few metrics.",
    )
    resamples: int = setting(
        1000,
        "Bootstrap resamples of the days on each side behind a step's 95 % interval.",
    )
    same_step_days: int = setting(
        1,
        "Metrics whose steps fall within a day of each other are one change of the "
        "panel, told as one finding with each metric's numbers.",
    )
    low_change: float = setting(
        0.1,
        "A lasting change under 10 % in devices a day or pings per device is within "
        "what a panel drifts over a few weeks and is not told.",
    )
    medium_change: float = setting(
        0.3,
        "A lasting change of 30 % (a factor of 1.3 up or down) in devices a day or pings "
        "per device is beyond weekly rhythm and drift, and moves any before/after "
        "comparison.",
    )
    high_change: float = setting(
        0.8,
        "A lasting change by a factor of 1.8 or more (near a doubling or a halving) is a "
        "different panel: what is counted after the step cannot be compared with before.",
    )
    low_type_points: float = setting(
        3.0,
        "A type's share of devices moving under 3 percentage points for good is within "
        "the day-to-day noise of a few thousand devices and is not told.",
    )
    medium_type_points: float = setting(
        10.0,
        "A type's share of devices moving 10 percentage points for good changes any "
        "figure that differs by OS (ad reach, income proxies, sampling rates).",
    )
    high_type_points: float = setting(
        25.0,
        "A type's share moving 25 points or more is a different mix: a supplier or an "
        "OS's pings added or lost, and type-weighted figures are not comparable.",
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
