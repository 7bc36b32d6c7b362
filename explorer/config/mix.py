"""Thresholds of the mix detectors."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting


@dataclass(frozen=True)
class MixConfig:
    """Thresholds of the mix detectors (``device_type_skew``, ``device_type_changes``)."""

    unit_resolution: int = setting(
        8,
        "Cells finer than this H3 resolution (~0.7 km²) are pooled into their parent for the "
        "test, so a neighbourhood-sized skew has enough distinct devices behind each test.",
    )
    region_edge_km: float = setting(
        3.0,
        "Each cell's mix is compared with its region: the coarser H3 parent whose edge is at "
        "least this long (a few km), so an OS mix that drifts smoothly across a city is "
        "expected rather than flagged.",
    )
    region_prior_devices: float = setting(
        50.0,
        "A region's share is pulled towards the data set's by this many pseudo-devices, so a "
        "sparse region on the edge of the data does not set an extreme reference.",
    )
    max_prior_devices: float = setting(
        50.0,
        "The empirical-Bayes prior of a cell's share weighs at most as much as this many "
        "devices: in a nearly uniform city the fitted prior is almost certain, and without a "
        "cap it would shrink a real local skew away.",
    )
    screen_p_value: float = setting(
        0.03,
        "Neighbouring units this surprising on their own, leaning the same way, are pooled and "
        "retested as one area (Bonferroni over all units), so a skewed neighbourhood split "
        "across cell boundaries (a 1 km area over three res-8 cells) is not missed.",
    )
    min_type_share: float = setting(
        0.05,
        "Device types below this share of all devices are not tested on their own: a few "
        "rare types would only add tests without power.",
    )
    min_share_difference: float = setting(
        0.15,
        "A cell or area must differ from its region by at least 15 percentage points in one "
        "type's device share; smaller shifts rarely change a weighting or a model.",
    )
    high_share_difference: float = setting(
        0.3,
        "An area 30 points off its region (e.g. 80 % iOS against 50 %) skews any "
        "demographic or income proxy built on device type (high).",
    )
    min_area_devices: int = setting(
        75,
        "An area finding needs at least this many distinct devices to be medium: then the 95 % "
        "interval of its share is within about ±11 points, narrower than the smallest "
        "difference reported; fewer is a few households, however lopsided.",
    )
    high_min_devices: int = setting(
        100,
        "An area finding needs at least this many distinct devices to be high.",
    )
    type_change_medium_share: float = setting(
        0.01,
        "Devices that switch between two device types back and forth are medium once the 95 % "
        "interval's lower end of their share passes 1 %: beyond the few people whose one "
        "account id spans a phone and a tablet of two platforms.",
    )
    type_change_high_share: float = setting(
        0.05,
        "One device id in twenty carrying two platforms (lower end of the interval) is high: "
        "ids are not devices, and every per-device count and mix is off by that much.",
    )
    type_change_area_km: float = setting(
        3.0,
        "Where the other type sits: its pings within this distance of the cell holding most "
        "of them form the area told (a supplier's or SDK's patch of a city).",
    )
    type_change_area_share: float = setting(
        0.5,
        "The other type's pings are told as sitting in one area when at least half of them "
        "lie there; spread thinner, the change is told for the whole data set.",
    )
    type_change_area_devices: int = setting(
        20,
        "This many devices switching back and forth whose other type sits in one area are "
        "medium whatever their share: the type field changes with place, which skews that "
        "area's mix and cannot be a few people's phone and tablet.",
    )
