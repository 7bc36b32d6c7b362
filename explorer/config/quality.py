"""Thresholds of the quality detectors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the quality detectors."""
