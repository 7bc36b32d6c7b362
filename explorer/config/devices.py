"""Thresholds of the devices detectors."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting


@dataclass(frozen=True)
class DevicesConfig:
    """Thresholds of the devices detectors (``device_concentration``)."""

    tail_quantile: float = setting(
        0.99,
        "A device's pings per active day are compared with this quantile of all devices': "
        "realistic data has a heavy tail, so only a device far beyond the busiest 1 % is odd.",
    )
    min_devices_for_tail: int = setting(
        50,
        "Below this many devices the quantiles of the device distribution are too unstable to "
        "call any single device an outlier.",
    )
    medium_tail_ratio: float = setting(
        12.0,
        "Pings per day at least this many times the tail quantile make a device an outlier "
        "(medium): clean heavy-tailed data tops out near 9× with a few hundred pings a day.",
    )
    high_tail_ratio: float = setting(
        25.0,
        "At this many times the tail quantile (about a thousand pings a day against a busy "
        "phone's thirty) one device can dominate any density model (high).",
    )
    min_cell_share: float = setting(
        0.5,
        "Outlier devices must produce at least this share of a cell's pings for the cell's "
        "counts to describe them rather than the place.",
    )
    min_device_pings: int = setting(
        200,
        "An outlier device needs at least this many pings in the cell; fewer cannot distort a "
        "cell's counts whatever the ratio.",
    )
    top_device_share: float = setting(
        0.01,
        "The data-set-wide check looks at the pings of this top share of devices (top 1 %).",
    )
    min_devices_for_curve: int = setting(
        100,
        "The data-set-wide concentration needs this many devices, so that the top 1 % is at "
        "least one whole device.",
    )
    dataset_low_share: float = setting(
        0.4,
        "Top-1 % devices sending more than this share of all pings is reported (low): clean "
        "heavy-tailed activity gives 15-30 %.",
    )
    dataset_medium_share: float = setting(
        0.6,
        "Top-1 % devices sending more than this share means most of the data is a handful of "
        "devices (medium): per-place counts mostly measure them.",
    )
    dataset_high_share: float = setting(
        0.8,
        "Top-1 % devices sending more than this share leaves little independent signal (high).",
    )
    curve_device_shares: tuple[float, ...] = setting(
        (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0),
        "Top shares of devices at which the concentration curve (share of pings) is reported "
        "for its chart; log-spaced at the top where concentration shows.",
    )
