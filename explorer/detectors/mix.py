"""Detectors of the mix family."""

from __future__ import annotations

DETECTORS: list = []
