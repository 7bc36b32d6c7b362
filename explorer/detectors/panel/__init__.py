"""The panel over time: the summary's period series and per-device days in, findings
about holes in the feed, cut days, lasting shifts and devices that cannot be followed
out (each with the span of time it concerns as its ``period``).
"""

from __future__ import annotations

from explorer.detectors.panel.gaps import detect_panel_gaps
from explorer.detectors.panel.partial import detect_partial_period
from explorer.detectors.panel.shift import detect_panel_shift
from explorer.detectors.panel.transient import detect_transient_devices

DETECTORS: list = [
    detect_panel_gaps,
    detect_partial_period,
    detect_panel_shift,
    detect_transient_devices,
]
