"""Thresholds of the time detectors (hour profiles, time zones, heaped timestamps)."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting

#: A human day on the local clock, relative activity per hour 0–23: low 1–5 a.m., rising
#: from 6–7, a daytime plateau and an evening peak around 18–21 (the shape of published
#: smartphone-activity curves; only its shape matters, the scale is arbitrary).
# fmt: off
HUMAN_DAY = (
    1.6, 0.8, 0.5, 0.4, 0.5, 1.0, 2.5, 4.5, 5.5, 5.5, 5.5, 5.6,
    5.8, 5.6, 5.4, 5.4, 5.6, 6.2, 6.8, 7.0, 6.8, 6.2, 4.8, 3.0,
)
# fmt: on


@dataclass(frozen=True)
class TimeConfig:
    """Thresholds of the time detectors."""

    # --- hour_profile -----------------------------------------------------------------
    area_resolution: int = setting(
        8,
        "Hour profiles are compared over areas of about 1 km (H3 resolution 8, 0.74 km²); "
        "finer cells are pooled into their resolution-8 parent so each area has enough devices.",
    )
    quiet_hour_ratio: float = setting(
        0.5,
        "An hour is 'quiet' when it carries less than half of an even 1/24 share of the data "
        "set's device-hours: the small hours of a human day, found from the data itself.",
    )
    prior_devices: float = setting(
        10.0,
        "Each area's profile is shrunk towards the rest as if it held this many extra typical "
        "devices, so an area of five devices cannot look extreme by chance.",
    )
    hour_min_tv: float = setting(
        0.2,
        "An area is reported only when its shrunk device-hour profile differs from the rest by "
        "at least this total-variation distance (a fifth of its activity sits at other hours).",
    )
    hour_medium_night: float = setting(
        0.2,
        "Medium when the area's share of device-hours in quiet hours exceeds the rest's by 20 "
        "points: people active while the city sleeps, not commuters (who shift to daytime).",
    )
    hour_high_night: float = setting(
        0.4,
        "High when the quiet-hour excess reaches 40 points: most of the area's activity is at "
        "night, which would bias any model of presence or footfall there.",
    )
    hour_high_devices: int = setting(
        20,
        "A high hour_profile finding needs at least this many devices in the area, so it speaks "
        "for a crowd rather than a household.",
    )

    # --- timezone_shift ---------------------------------------------------------------
    reference_day: tuple[float, ...] = setting(
        HUMAN_DAY,
        "Reference human day (24 relative weights, local hours 0–23) that the data set's hour "
        "profile is matched against under every circular shift.",
    )
    min_shift_hours: int = setting(
        3,
        "Shifts of 1–2 hours are within the spread of real cities (late cities, shift work, "
        "daylight saving); 3 hours or more points to timestamps read in the wrong zone.",
    )
    shift_min_devices: int = setting(
        30,
        "The data-set hour profile must rest on at least this many devices before its shape is "
        "trusted.",
    )
    shift_fit_tv: float = setting(
        0.2,
        "The shifted profile must fit the reference day within this total-variation distance; "
        "otherwise the data has no human day at all and no shift explains it.",
    )
    shift_medium_gain: float = setting(
        0.08,
        "Medium when shifting improves the fit by 0.08 in total variation over no shift (8 % "
        "of the activity moves to the right hours).",
    )
    shift_high_gain: float = setting(
        0.15,
        "High when the improvement reaches 0.15: every hour-based result (night share, rush "
        "hours, dwell by hour) would be wrong by hours.",
    )

    # --- timestamp_heaping --------------------------------------------------------------
    heap_neighbour_minutes: int = setting(
        10,
        "The expected count at a round second is the mean of the same second-of-minute in the "
        "10 minutes on either side: local enough to follow the daily curve, wide enough to be "
        "stable, and unaffected by timestamps truncated to minutes.",
    )
    heap_min_excess: int = setting(
        20,
        "A heap needs at least 20 excess pings; fewer is a handful of rows, not a default value.",
    )
    heap_medium_share: float = setting(
        0.0025,
        "Medium when the excess pings at round times are 0.25 % of all pings: enough to put a "
        "visible spike in any time-of-day chart.",
    )
    heap_high_share: float = setting(
        0.01,
        "High when 1 % of all pings sit on a round time such as midnight: default timestamps "
        "that distort hourly profiles and dwell times.",
    )
    heap_clock_tie: float = setting(
        0.95,
        "Heaps on the local and the UTC clock within 5 % of each other are the same rows seen "
        "twice; the one at midnight (else the local one) is told.",
    )
    truncated_share: float = setting(
        0.9,
        "When at least 90 % of pings have seconds :00 the timestamps are truncated to minutes "
        "(or hours): a loss of precision, told as such and never as a heap.",
    )
    minute_heap_share: float = setting(
        0.005,
        "Excess pings at :00 seconds of every minute are reported (low) when they reach 0.5 % "
        "of pings: part of the data is truncated to minutes.",
    )
