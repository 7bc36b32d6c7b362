"""Thresholds of the mix detectors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MixConfig:
    """Thresholds of the mix detectors."""
