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
