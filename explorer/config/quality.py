"""Thresholds of the quality detectors."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the quality detectors (``coordinate_precision``, ``duplicate_pings``)."""

    device_coarse_share: float = setting(
        0.5,
        "A device counts as reporting coarse coordinates when at least half its pings have "
        "at most 3 decimals: a chance short decimal now and then is not a truncating device.",
    )
    precision_low_share: float = setting(
        0.002,
        "Coarse coordinates in more than 0.2 % of pings or devices are reported (low): "
        "measured coordinates have 3 or fewer decimals by chance about once in a million.",
    )
    precision_medium_share: float = setting(
        0.02,
        "At 2 % of pings or devices on a ~100 m grid, visit and dwell analyses at street scale "
        "are visibly distorted (medium).",
    )
    precision_high_share: float = setting(
        0.1,
        "At 10 % of pings or devices, grid points become artificial hotspots in any fine-scale "
        "map (high).",
    )
    duplicate_low_share: float = setting(
        0.0,
        "Any exact duplicate row is reported (low): the same device, instant and place twice "
        "is an export or ingestion fault, never a second observation.",
    )
    duplicate_medium_share: float = setting(
        0.005,
        "Extra copies above 0.5 % of rows inflate counts and dwell times enough to check "
        "before use (medium).",
    )
    duplicate_high_share: float = setting(
        0.05,
        "Extra copies above 5 % of rows bias every count-based statistic by as much (high).",
    )
