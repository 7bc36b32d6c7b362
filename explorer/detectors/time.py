"""Detectors of the time family."""

from __future__ import annotations

DETECTORS: list = []
