"""The words of the data story: numbers rounded for people, lists in prose, and per
finding kind the problem, the check that passed and what the data is not fit for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np

from explorer.findings import Finding
from explorer.text import pct

_NUMBER_WORDS = ("no", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")


def about(n: float) -> str:
    """A count rounded for people: 952 -> 'about 950', 12,400 -> 'about 12,000',
    3,210,000 -> 'about 3.2 million'; small or already round counts stay exact."""
    n = int(round(float(n)))
    if n >= 1_000_000:
        rounded = f"{n / 1e6:.1f}".removesuffix(".0")
        return f"{'' if n % 100_000 == 0 else 'about '}{rounded} million"
    if n < 100:
        return str(n)
    digits = 10 ** (len(str(n)) - 2)
    rounded = int(round(n / digits) * digits)
    if rounded >= 1_000_000:
        return f"about {about(rounded)}"
    return f"{rounded:,}" if rounded == n else f"about {rounded:,}"


def share_words(share: float) -> str:
    """A share for people: '47 %', '2 %', '0.5 %', 'under 0.1 %'."""
    if share >= 0.01:
        return pct(share, 0)
    return pct(share, 1) if share >= 0.001 else "under 0.1 %"


def join_words(items: list[str], last: str = "and", sep: str = ", ") -> str:
    """'a', 'a and b', 'a, b and c' (or with ``sep`` '; ' for items holding commas)."""
    if len(items) <= 1:
        return "".join(items)
    return f"{sep.join(items[:-1])}{sep if sep == '; ' else ' '}{last} {items[-1]}"


def number_word(n: int) -> str:
    return _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else f"{n:,}"


def plural_about(n: int, word: str) -> str:
    """'about 12,000 pings', '1 device'."""
    return f"{about(n)} {word}{'' if n == 1 else 's'}"


def _ev(finding: Finding, key: str) -> float | None:
    """A finite number of the finding's evidence, or None."""
    value = finding.evidence.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        return None
    return float(value)


def _of_pings(finding: Finding, key: str = "share") -> str:
    share = _ev(finding, key)
    return f"{share_words(share)} of pings" if share else "some pings"


def _shift(finding: Finding) -> str:
    hours = _ev(finding, "best_shift_hours")
    return f"about {abs(round(hours))} hours" if hours else "several hours"


def _span(finding: Finding) -> str:
    """How long a finding's period lasts: 'of about 5 hours', 'of about 2 days' ('' without
    a period)."""
    if finding.period is None:
        return ""
    start, end = (
        dt.datetime.fromisoformat(finding.period[k].replace("Z", "+00:00"))
        for k in ("start", "end")
    )
    hours = (end - start) / dt.timedelta(hours=1)
    if hours < 36:
        return f" of about {max(round(hours), 1)} hour{'' if round(hours) <= 1 else 's'}"
    return f" of about {round(hours / 24)} days"


def _grid(finding: Finding) -> str:
    metres = _ev(finding, "grid_metres")
    return f"about {about(metres).removeprefix('about ')} m" if metres else "a coarse grid"


def _region(finding: Finding) -> str:
    """The name of the region a coverage finding is about ('a region' without one)."""
    name = finding.evidence.get("name")
    return str(name) if isinstance(name, str) and name else "a region"


def _coverage_times(finding: Finding) -> str:
    """'about 4.5 times below' / 'about 2.1 times above' / 'far below' (no homes)."""
    ratio = _ev(finding, "ratio")
    if not ratio:
        return "far below"
    if ratio < 1:
        return f"about {1 / ratio:.1f} times below"
    return f"about {ratio:.1f} times above"


#: kind -> the problem in one clause with its consequence.
PROBLEMS: dict[str, Callable[[Finding], str]] = {
    "timezone_shift": lambda f: (
        f"the clock looks {_shift(f)} off (timestamps likely in the wrong time zone), "
        "so every time-of-day result would be shifted"
    ),
    "coordinate_pileup": lambda f: (
        f"{_of_pings(f)} sit on a fallback coordinate shared by many devices, "
        "a fake hotspot for any density or visit count"
    ),
    "null_island": lambda f: (
        f"{_of_pings(f)} sit at (0, 0), missing locations written as zeros, "
        "which skew centroids and extents"
    ),
    "density_spike": lambda _: (
        "a place is far denser than its neighbourhood, a hotspot a density model would believe"
    ),
    "device_concentration": lambda _: (
        "a few devices send most of the pings in places, so ping counts overstate people there"
    ),
    "hour_profile": lambda _: (
        "an area keeps hours unlike the rest of the data, which its hourly profile would take "
        "at face value"
    ),
    "timestamp_heaping": lambda f: (
        f"{_of_pings(f)} are stamped at exact round times, a false spike in hourly profiles"
    ),
    "device_type_skew": lambda _: (
        "the device-type mix leans to one type in places, so comparisons between areas "
        "mix in who uses which phone"
    ),
    "coordinate_precision": lambda f: (
        f"{_of_pings(f, 'ping_share')} have coordinates cut to a grid of {_grid(f)}, "
        "too coarse for visits or dwell times"
    ),
    "duplicate_pings": lambda f: f"{_of_pings(f)} are duplicate rows, inflating every count",
    "swapped_coordinates": lambda _: (
        "some rows have latitude and longitude swapped, so they land far away"
    ),
    "sign_flipped": lambda _: "some rows have a flipped sign, a mirror image of the data",
    "distant_points": lambda _: "some pings lie far from all the others, stray or mis-placed",
    "venue_snapped": lambda _: (
        "most pings are snapped to venues, so they show where check-ins are, not where people walk"
    ),
    "at_sea": lambda _: "some pings lie on open water, far from any coast: impossible fixes",
    "impossible_speed": lambda _: (
        "some devices jump between places faster than an airliner, so bad fixes are mixed in"
    ),
    "device_type_changes": lambda _: (
        "some devices change type between pings, two sources under one id"
    ),
    "panel_gap": lambda f: (
        f"the feed has a hole{_span(f)}, so daily counts and trends across it show a drop "
        "that is not real"
    ),
    "panel_shift": lambda _: (
        "the panel changes from one day on and stays changed (devices a day, pings per "
        "device or the type mix), so a before/after comparison measures the data, not the world"
    ),
    "partial_period": lambda _: (
        "the first or last day is cut short, a delivery made before the day ended, so its "
        "counts read as a drop that is not real"
    ),
    "transient_devices": lambda _: (
        "most devices are seen too briefly to be followed over days, so per-device habits "
        "(homes, routines, repeat visits) rest on a minority of the panel"
    ),
    "coverage_bias": lambda f: (
        f"{_region(f)} is sampled {_coverage_times(f)} the rest of the panel, so counts of "
        "people there are off by that much until weighted"
    ),
}

#: kind -> the check that found nothing, in words (the order in which they are named).
PASSED = {
    "timezone_shift": "the time zone",
    "null_island": "null island",
    "coordinate_pileup": "fallback coordinates",
    "duplicate_pings": "duplicates",
    "hour_profile": "the hours of the day",
    "device_type_skew": "the device-type mix",
    "impossible_speed": "impossible speeds",
    "at_sea": "pings at sea",
    "device_concentration": "over-active devices",
    "timestamp_heaping": "round timestamps",
    "coordinate_precision": "coordinate precision",
    "density_spike": "density spikes",
    "swapped_coordinates": "swapped coordinates",
    "sign_flipped": "flipped signs",
    "distant_points": "stray points",
    "venue_snapped": "venue snapping",
    "device_type_changes": "devices changing type",
    "panel_gap": "holes in the feed",
    "partial_period": "cut-short days",
    "panel_shift": "shifts in the panel",
    "transient_devices": "devices too brief to follow",
    "coverage_bias": "coverage of the residents",
}

#: kind -> what the data is not fit for while the problem stands.
NOT_FIT = {
    "timezone_shift": "time-of-day analysis until the timestamps are re-read in the right zone",
    "timestamp_heaping": "hourly profiles until the round-time stamps are dropped",
    "hour_profile": "hourly profiles of the flagged area",
    "coordinate_pileup": "footfall or visit counts at the piled-up coordinates",
    "at_sea": "footfall near the pings at sea",
    "null_island": "centroids or extents until the (0, 0) pings are dropped",
    "density_spike": "footfall at the flagged hotspot until it is explained",
    "device_type_skew": "comparing device types (such as iOS and Android users) by area",
    "device_type_changes": "per-device analyses of device type",
    "device_concentration": "counting people from pings without capping the busiest devices",
    "coordinate_precision": "anything finer than the coordinates' grid",
    "duplicate_pings": "ping counts until the duplicates are dropped",
    "impossible_speed": "trip or dwell modelling without cleaning",
    "swapped_coordinates": "trip or dwell modelling without cleaning",
    "sign_flipped": "trip or dwell modelling without cleaning",
    "distant_points": "trip or dwell modelling without cleaning",
    "venue_snapped": "studying where people are between venues",
    "panel_gap": "daily series or trends across the hole in the feed",
    "panel_shift": "comparing before and after the panel's shift",
    "partial_period": "daily counts of the cut-short day",
    "transient_devices": "following devices over days without a usable-panel rule",
    "coverage_bias": "counting people by region without the coverage weights",
}

#: Uses of the data: (words, what the data must have (one need or several), kinds that
#: rule it out everywhere, kinds that rule it out only at the flagged places).
USES = (
    (
        "density maps on the analysed grid (H3 resolution {resolution})",
        None,
        {"coordinate_precision", "venue_snapped", "duplicate_pings", "device_concentration"},
        {"coordinate_pileup", "null_island", "density_spike", "at_sea", "distant_points"},
    ),
    (
        "time-of-day profiles",
        "whole_day",
        {"timezone_shift", "timestamp_heaping"},
        {"hour_profile"},
    ),
    (
        "comparing device types",
        "device_types",
        {"device_type_changes"},
        {"device_type_skew"},
    ),
    (
        "trip and dwell modelling",
        "device_ids",
        {"impossible_speed", "swapped_coordinates", "sign_flipped", "coordinate_precision",
         "venue_snapped", "duplicate_pings", "distant_points"},
        set(),
    ),
    (
        "daily series and trends",
        "several_days",
        {"panel_gap", "panel_shift", "partial_period"},
        set(),
    ),
    (
        "following devices over days",
        ("device_ids", "several_days"),
        {"transient_devices"},
        set(),
    ),
)  # fmt: skip

#: need -> what the data is not fit for without it.
NOT_FIT_LACKING = {
    "device_ids": "counting people, as pings cannot be tied to devices",
    "whole_day": "daily time-of-day profiles, as it covers only part of a day",
    "several_days": "trends over days, as it covers a single day",
}


def problem_clause(finding: Finding) -> str:
    """The finding's problem in one clause with its consequence (its title for a kind
    without words of its own)."""
    clause = PROBLEMS.get(finding.kind)
    if clause:
        return clause(finding)
    title = " ".join(finding.title.split())
    return title[:1].lower() + title[1:]


#: need -> what the data lacks, in words, when several needs are told together.
NEED_WORDS = {
    "device_ids": "the data has no device ids",
    "device_types": "it names fewer than two device types",
    "whole_day": "it covers less than a whole day",
    "several_days": "it covers a single day",
    "reference": "no reference population was given",
}
