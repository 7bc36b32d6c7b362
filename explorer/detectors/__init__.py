"""One module per bias family; each exposes ``DETECTORS``: summaries in, findings out."""

from __future__ import annotations

from collections.abc import Callable

from explorer.detectors import devices, mix, places, quality, time
from explorer.detectors.context import Context
from explorer.findings import Finding, rank

Detector = Callable[[Context], list[Finding]]

DETECTORS: list[Detector] = [
    *places.DETECTORS,
    *devices.DETECTORS,
    *time.DETECTORS,
    *mix.DETECTORS,
    *quality.DETECTORS,
]


def detect_all(context: Context) -> list[Finding]:
    """Run every detector and rank what they find."""
    found: list[Finding] = []
    for detector in DETECTORS:
        found.extend(detector(context))
    return rank(found)
