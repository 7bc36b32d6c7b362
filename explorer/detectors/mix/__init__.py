"""Detectors of the mix family: device types by place and by device.

:mod:`.skew` finds places whose device-type mix departs from their region's, counted by
each device's main type and by the type its pings report there (:mod:`.place_types`),
on the test units of :mod:`.units`; :mod:`.changes` finds devices whose type changes
between pings.
"""

from __future__ import annotations

from explorer.detectors.mix.changes import detect_device_type_changes, type_family
from explorer.detectors.mix.skew import detect_device_type_skew
from explorer.detectors.mix.units import overall_mix, region_resolution, two_sided_binomial_p

__all__ = [
    "DETECTORS",
    "detect_device_type_changes",
    "detect_device_type_skew",
    "overall_mix",
    "region_resolution",
    "two_sided_binomial_p",
    "type_family",
]

DETECTORS = [detect_device_type_skew, detect_device_type_changes]
