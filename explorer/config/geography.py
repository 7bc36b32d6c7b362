"""Thresholds of the geography detectors (pings at sea)."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting


@dataclass(frozen=True)
class GeographyConfig:
    """Thresholds of the at-sea detector."""

    sea_min_km: float = setting(
        15.0,
        "A ping counts as at sea beyond 15 km from any land: GPS scatter off a coastal city "
        "(metres to a few km), harbours, bays and ferry lanes near shore all stay inside it.",
    )
    sea_cap_km: float = setting(
        2000.0,
        "Distances to land are measured up to 2,000 km (farther than any point of the ocean "
        "is from land is ~2,700 km); beyond it a story says 'more than 2,000 km'.",
    )
    sea_min_pings: int = setting(
        10,
        "Fewer than 10 sea pings are not told at all: a handful of wild fixes is noise.",
    )
    sea_pile_min_devices: int = setting(
        3,
        "An exact sea coordinate shared by 3 devices is written in, not measured: two GPS "
        "fixes of different phones at sea never agree to every decimal.",
    )
    sea_pile_min_pings: int = setting(
        20,
        "Without device ids, 20 pings on one exact sea coordinate make it a written-in point: "
        "a drifting or sailing phone never repeats its fix that often.",
    )
    sea_pile_medium_share: float = setting(
        0.0005,
        "Piled sea points holding 0.05 % of pings (lower 95 % bound) are as busy as a city "
        "neighbourhood: a model of where people are sees a phantom place at sea.",
    )
    sea_pile_high_share: float = setting(
        0.002,
        "From 0.2 % of pings (lower 95 % bound) on piled sea points, the phantom place "
        "outweighs most real neighbourhoods and moves any centroid or density model.",
    )
    sea_medium_share: float = setting(
        0.05,
        "Thinly spread sea pings are travel (ferries, cruises, flights) and reach a few "
        "percent in coastal data with busy crossings; 5 % of all pings (lower 95 % bound) "
        "on open water is more than travel explains for a land data set.",
    )
    sea_high_share: float = setting(
        0.2,
        "A fifth of all pings (lower 95 % bound) on open water means the coordinates of a "
        "large part of the data are wrong, whatever their pattern.",
    )
