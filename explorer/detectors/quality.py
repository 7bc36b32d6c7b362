"""Detectors of the quality family."""

from __future__ import annotations

DETECTORS: list = []
