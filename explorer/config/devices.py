"""Thresholds of the devices detectors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DevicesConfig:
    """Thresholds of the devices detectors."""
