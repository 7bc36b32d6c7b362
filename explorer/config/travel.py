"""Thresholds of the travel detector (impossible speeds)."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting


@dataclass(frozen=True)
class TravelConfig:
    """Thresholds of the impossible-speed detector."""

    max_speed_kmh: float = setting(
        1_200.0,
        "Faster than 1,200 km/h between two pings is impossible for a phone: airliners cruise "
        "at 800–950 km/h over the ground and rarely pass 1,100 km/h even with a jet stream.",
    )
    min_jump_km: float = setting(
        50.0,
        "A jump counts only beyond 50 km (after allowing for the coarse places' size): "
        "shorter GPS glitches stay inside a metro and other checks see them.",
    )
    min_devices: int = setting(
        3,
        "Fewer than 3 devices with impossible jumps can be one faulty phone or a tester: "
        "not worth a finding about the data.",
    )
    medium_device_share: float = setting(
        0.005,
        "From 0.5 % of devices (lower 95 % bound) the stray fixes change trip, dwell and "
        "home statistics of enough devices to move any mobility model.",
    )
    high_device_share: float = setting(
        0.05,
        "From 5 % of devices (lower 95 % bound) one device in twenty mixes in fixes from "
        "another place: a source of coarse or fallback locations under the GPS feed.",
    )
