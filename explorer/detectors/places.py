"""Detectors of the places family."""

from __future__ import annotations

DETECTORS: list = []
