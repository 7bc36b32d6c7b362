"""Thresholds of the venue-snapping detector."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting


@dataclass(frozen=True)
class SnappingConfig:
    """When coordinates are venue positions rather than where devices were."""

    shared_devices: int = setting(
        3,
        "A coordinate counts as shared when at least this many distinct devices report it "
        "exactly; with GPS jitter even two devices rarely do, so three is already a venue.",
    )
    medium_share: float = setting(
        0.5,
        "Share of pings on shared coordinates above which the data set is venue-snapped: "
        "clean GPS data has almost none, check-in exports most (Gowalla New York: 83 %).",
    )
    low_share: float = setting(
        0.2,
        "Share of pings on shared coordinates worth a low, informational note: a fifth of "
        "the data quantised to venues already shapes any density map.",
    )
    cap_density_spikes: str = setting(
        "low",
        "Highest severity left to density spikes in venue-snapped data, where every popular "
        "venue is denser than its street by construction.",
    )
    top_coordinates: int = setting(
        10, "How many of the most shared coordinates the evidence lists for a chart or table."
    )
