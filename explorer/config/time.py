"""Thresholds of the time detectors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimeConfig:
    """Thresholds of the time detectors."""
