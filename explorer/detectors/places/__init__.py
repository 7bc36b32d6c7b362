"""Detectors of the places family: null island, coordinate pileups, density spikes,
distant points, swapped and sign-flipped coordinates.

The work lives in :mod:`.points` (exact coordinates), :mod:`.density` (cells against
their neighbourhood) and :mod:`.far` (rows far from the main mass); :mod:`.common`
holds what they share.
"""

from __future__ import annotations

from explorer.detectors.places.density import detect_density_spike
from explorer.detectors.places.far import (
    detect_distant_points,
    detect_sign_flipped,
    detect_swapped_coordinates,
)
from explorer.detectors.places.points import detect_coordinate_pileup, detect_null_island
from explorer.detectors.places.sea import detect_at_sea

__all__ = [
    "DETECTORS",
    "detect_at_sea",
    "detect_coordinate_pileup",
    "detect_density_spike",
    "detect_distant_points",
    "detect_null_island",
    "detect_sign_flipped",
    "detect_swapped_coordinates",
]

DETECTORS = [
    detect_null_island,
    detect_coordinate_pileup,
    detect_density_spike,
    detect_distant_points,
    detect_swapped_coordinates,
    detect_sign_flipped,
    detect_at_sea,
]
