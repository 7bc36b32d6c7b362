"""Detectors of the time family: odd hour profiles, shifted time zones, heaped timestamps.

Each lives in its own module (:mod:`.hours`, :mod:`.shift`, :mod:`.heaping`); this
module lists them for the registry.
"""

from __future__ import annotations

from explorer.detectors.time.heaping import detect_timestamp_heaping
from explorer.detectors.time.hours import detect_hour_profile
from explorer.detectors.time.shift import detect_timezone_shift

__all__ = ["DETECTORS", "detect_hour_profile", "detect_timestamp_heaping", "detect_timezone_shift"]

DETECTORS = [detect_hour_profile, detect_timezone_shift, detect_timestamp_heaping]
