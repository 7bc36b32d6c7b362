"""Thresholds of home inference and of the coverage check against a reference population."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting


@dataclass(frozen=True)
class CoverageConfig:
    """How homes are inferred, and when a region's sampling rate is a finding."""

    home_resolution: int = setting(
        8,
        "Homes are cells of H3 resolution 8 (about 0.7 km²): a block of streets, coarse "
        "enough that GPS noise at night stays in one cell, fine enough to place a home in "
        "a census tract or district.",
    )
    min_nights: int = setting(
        3,
        "A home needs at least 3 nights seen: one or two nights can be a hotel, a friend's "
        "flat or a night shift.",
    )
    min_home_share: float = setting(
        0.5,
        "The home cell must hold at least half of a device's nights: below that the device "
        "sleeps in several places and no single home can be named.",
    )
    low_ratio: float = setting(
        1.5,
        "A region is told (low) when its rate differs from the overall rate by at least "
        "1.5 times at the conservative end of its interval: counts made there are off by "
        "a third or more before any weighting.",
    )
    medium_ratio: float = setting(
        2.0,
        "From twice (or half) the overall rate at the conservative end, a region's counts "
        "are off by a factor of two: any map or total of people without weights misleads.",
    )
    high_ratio: float = setting(
        4.0,
        "From four times (or a quarter of) the overall rate at the conservative end, the "
        "panel barely sees (or floods) the region: weights of that size amplify noise too.",
    )
    min_dispersion_regions: int = setting(
        8,
        "The spread of rates between regions (overdispersion) is estimated from at least 8 "
        "regions with expected homes; with fewer it cannot be told from the planted "
        "outliers and the test stays Poisson (the ratio thresholds still hold it).",
    )
    typical_min_expected: float = setting(
        5.0,
        "The typical rate each region is compared with is the residents-weighted median "
        "rate of the regions expecting at least 5 home devices (their rates are within "
        "about half of the truth); with fewer than 3 such regions it is the pooled rate.",
    )
    max_weight_to_median: float = setting(
        5.0,
        "A region's weight is capped at 5 times the median device's weight: a region with "
        "one or two homes for thousands of residents would otherwise let one device speak "
        "for a district (the common trimming rule of survey weights).",
    )
    max_finding_cells: int = setting(
        500,
        "A finding lists the home cells of its region up to 500; a larger region is named "
        "by its id only (the cells would swamp the report, the region is the place).",
    )
    max_funnel_points: int = setting(
        400,
        "The funnel plot of a finding carries at most 400 regions (the most populous, plus "
        "the finding's own): enough to see the funnel, small enough for the report.",
    )
