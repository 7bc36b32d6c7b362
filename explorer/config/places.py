"""Thresholds of the places detectors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlacesConfig:
    """Thresholds of the places detectors."""
