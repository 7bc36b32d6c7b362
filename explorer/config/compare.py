"""Thresholds of ``python -m explorer compare``: when a difference between two deliveries
is a change worth telling, and how serious it is."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting


@dataclass(frozen=True)
class CompareConfig:
    """How two analyses are matched and when their differences are changes."""

    fdr: float = setting(
        0.01,
        "False-discovery rate (Benjamini-Hochberg) across the areas one comparison tests: "
        "with hundreds of areas, 1 % keeps chance changes to a rare low one.",
    )
    area_typical_devices: int = setting(
        60,
        "Areas are the finest H3 parents of the analysis cells in which the typical "
        "device's main area holds at least 60 devices: a share then moves by chance by "
        "about a quarter, so only real shifts pass the thresholds below.",
    )
    coarsest_area_resolution: int = setting(
        5,
        "Areas are never coarser than H3 resolution 5 (about 250 km², a district of a "
        "metro): coarser ones would hide the district a supplier dropped.",
    )
    min_area_devices: int = setting(
        10,
        "An area is tested only when at least 10 devices have their main area there on "
        "one side: fewer is a few households, whatever their share does.",
    )
    low_area_ratio: float = setting(
        1.25,
        "An area whose share of devices moved significantly by at least a quarter (point "
        "estimate) is told as low: visible on a map, rarely enough to change a result.",
    )
    medium_area_ratio: float = setting(
        1.5,
        "From 1.5 times (or two thirds) the share before at the conservative end of its "
        "interval, counts of people in that area are off by half beyond the panel's "
        "own change: medium.",
    )
    high_area_ratio: float = setting(
        2.5,
        "From 2.5 times (or 40 %) the share before at the conservative end, the area was "
        "largely added or dropped by the supplier: high.",
    )
    medium_share_points: float = setting(
        0.005,
        "A medium area change also moves at least 0.5 % of the panel's devices: a tiny "
        "area doubling its handful of devices changes no total.",
    )
    high_share_points: float = setting(
        0.02,
        "A high area change moves at least 2 % of the panel's devices (the share gained "
        "or lost): enough to bias any city-wide count or weighting.",
    )
    mix_min_devices: int = setting(
        30,
        "An area's device-type mix or hour profile is compared only with at least 30 "
        "devices seen there on each side: a mix of fewer moves by 10 points by chance.",
    )
    mix_min_type_share: float = setting(
        0.05,
        "Device types under 5 % of the panel's devices are pooled as 'other' in the "
        "mixes: rare types add noise, not power.",
    )
    low_mix_distance: float = setting(
        0.05,
        "An area's mix or hour profile that moved significantly by 5 points of total "
        "variation beyond the panel's own move is told as low.",
    )
    medium_mix_distance: float = setting(
        0.1,
        "From 10 points of total variation beyond the panel's own move (conservative end "
        "of the interval), e.g. an OS share from 45 % to 55 %, any demographic proxy "
        "built on device type or time of day shifts there: medium.",
    )
    high_mix_distance: float = setting(
        0.25,
        "From 25 points beyond the panel's move (conservative end), the area's devices "
        "were largely replaced or re-labelled (a supplier's SDK, one OS dropped): high.",
    )
    permutations: int = setting(
        200,
        "Random relabellings of an area's devices that set the chance level of its mix "
        "distance (its tail from a gamma law matched to them), and bootstrap draws of "
        "its interval: enough for a stable mean and spread in well under a second.",
    )
    seed: int = setting(
        20240603,
        "Seed of the permutations and bootstrap draws: the same two files give the "
        "same comparison in every run.",
    )
    low_panel_ratio: float = setting(
        1.1,
        "Devices per day or pings per device that moved by at least 10 % (point estimate, "
        "interval excluding no change) are told as low: a normal week-to-week drift.",
    )
    medium_panel_ratio: float = setting(
        1.25,
        "From a quarter more (or a fifth less) at the conservative end of the interval, "
        "daily totals and per-device rates of the two deliveries cannot be compared "
        "without a correction: medium.",
    )
    high_panel_ratio: float = setting(
        1.6,
        "From 1.6 times (or under two thirds) at the conservative end, the panel works "
        "differently (denser tracking, a supplier added or lost): high.",
    )
    medium_type_share_points: float = setting(
        0.05,
        "A device type's share of the panel that moved by 5 points (conservative end) "
        "changes any OS-based weighting: medium.",
    )
    high_type_share_points: float = setting(
        0.15,
        "A type's share moved by 15 points (conservative end): a platform was added or "
        "dropped by the supplier: high.",
    )
    medium_period_share: float = setting(
        0.1,
        "A delivery covering 10 % less (or more) time than the other, and at least a "
        "day, is told as medium: daily figures compare, totals do not.",
    )
    high_period_share: float = setting(
        0.5,
        "A delivery covering half the time of the other (or twice) is high: any total, "
        "trend or weekly pattern differs by construction.",
    )
    min_period_days: float = setting(
        1.0,
        "A difference of less than a day in the period covered is never a change: "
        "deliveries cut at different hours of one day are the same delivery.",
    )
    match_coarser_steps: int = setting(
        1,
        "Findings of one kind are the same finding when their cells overlap once both "
        "are taken one H3 level coarser: a spike that moved to the next cell of its "
        "block is the same spike.",
    )
    changed_score_ratio: float = setting(
        2.0,
        "A finding found in both whose score grew or shrank by at least twice is "
        "told as changed, even at the same severity.",
    )
    moved_score_ratio: float = setting(
        1.25,
        "A finding whose severity moved is told as changed only if its score moved by a "
        "quarter too: a score sitting on a threshold flips severity by chance.",
    )
    max_changes_per_kind: int = setting(
        10,
        "At most this many changes of one kind are listed (the strongest): more is one "
        "pattern better told by the panel-level changes.",
    )
