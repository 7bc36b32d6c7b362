"""Detectors of the devices family."""

from __future__ import annotations

DETECTORS: list = []
