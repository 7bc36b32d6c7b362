"""Coverage of a reference population: the panel's homes per resident in each region,
weights that correct it, and the regions sampled far below or above the rest."""

from __future__ import annotations

from explorer.detectors.coverage.bias import detect_coverage_bias
from explorer.detectors.coverage.rates import CoverageTable, coverage_table
from explorer.detectors.coverage.weights import (
    device_weights,
    device_weights_by_id,
    region_weights_frame,
)

__all__ = [
    "DETECTORS",
    "CoverageTable",
    "coverage_table",
    "detect_coverage_bias",
    "device_weights",
    "device_weights_by_id",
    "region_weights_frame",
]

DETECTORS: list = [detect_coverage_bias]
