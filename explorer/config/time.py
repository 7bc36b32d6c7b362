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
        5,
        "At least five devices must each vote for the shift on their own days: five out of "
        "five is the fewest a sign test can tell from coin flips at the 5 % level.",
    )
    shift_max_days: int = setting(
        28,
        "A device's days weigh its profile and its vote up to four weeks; past that its "
        "profile is already sharp and more days would let one long-lived device outweigh "
        "the rest.",
    )
    shift_even_mix: float = setting(
        0.2,
        "Votes compare each device with the reference day mixed 4:1 with an even day, so "
        "that one ping in the small hours cannot make a whole device decisive.",
    )
    shift_vote_llr: float = setting(
        2.3,
        "A device votes when its days favour one clock by a likelihood ratio of 10 ('strong' "
        "on Jeffreys' scale), each day counted as one draw of an hour: about eight days for "
        "a 3-hour shift, five for eight hours; devices with fewer days abstain.",
    )
    shift_alpha: float = setting(
        0.05,
        "The devices voting for the shift must outnumber those against at the 5 % level of "
        "a one-sided sign test (the devices, not their days or pings, are independent).",
    )
    shift_agreement_share: float = setting(
        0.5,
        "The lower Wilson bound of the share of voting devices for the shift must exceed a "
        "half: most people in the data, not a night-working minority, live on that clock.",
    )
    shift_high_devices: int = setting(
        30,
        "High needs at least 30 devices voting for the shift; fewer could be a team that "
        "works nights, so a small panel stays medium and its story says so.",
    )
    shift_bootstrap_samples: int = setting(
        400,
        "Resamples of devices behind the intervals of the shift, of the fit gain and of the "
        "share of device-days for the shift: enough for stable 5th and 95th percentiles.",
    )
    shift_bootstrap_seed: int = setting(
        20, "Seed of the bootstrap, so that the same summary always gives the same intervals."
    )
    shift_bootstrap_groups: int = setting(
        2000,
        "Past 2,000 devices the bootstrap resamples 2,000 fixed groups of devices (whole "
        "groups, so clusters stay intact): the intervals barely change and the cost stays "
        "flat for millions of devices.",
    )
    shift_interval_share: float = setting(
        0.9,
        "Bootstrap intervals hold the central 90 %; the decision reads their lower end (a "
        "one-sided 95 % bound).",
    )
    shift_fit_tv: float = setting(
        0.35,
        "The shifted profile must fit the reference day within this total-variation distance, "
        "else no shift explains it (a partial day fits no better than 0.7); trip loggers, "
        "which peak at commutes, fit a right clock only to 0.25–0.33.",
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
