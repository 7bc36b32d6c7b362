"""Thresholds of the places detectors (null island, pileups, density spikes, far and
swapped points)."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting


@dataclass(frozen=True)
class PlacesConfig:
    """Thresholds of the places detectors."""

    null_island_radius_deg: float = setting(
        0.01,
        "Pings within 0.01° (~1.1 km) of (0, 0) count as null island: the open sea of the "
        "Gulf of Guinea, where no phone is, and wide enough to catch zeros written with noise.",
    )
    null_island_medium_share: float = setting(
        0.0005,
        "0.05 % of pings on one point already make it one of the busiest cells of a city-wide "
        "data set, so a model of where people are sees a phantom hotspot.",
    )
    null_island_high_share: float = setting(
        0.002,
        "From 0.2 % of pings (lower 95 % bound) the phantom hotspot outweighs most real "
        "neighbourhoods and shifts any centroid or bounding box of the data.",
    )
    pileup_min_devices: int = setting(
        20,
        "With GPS jitter two devices almost never share an exact coordinate; twenty on one "
        "point is a written-in fallback, not a coincidence.",
    )
    pileup_min_ratio: float = setting(
        10.0,
        "A pileup holds at least 10× the devices of a typical shared coordinate (the median; "
        "1 device where coordinates are jittered), a robust top-vs-median test.",
    )
    pileup_min_z: float = setting(
        4.0,
        "Robust z-score (median and MAD of log device counts of shared coordinates) a pileup "
        "must exceed: a one-in-30,000 departure under a log-normal spread of venue sizes.",
    )
    pileup_gap_rank: int = setting(
        5,
        "A pileup must also stand out against the 5th-busiest other coordinate, so the smooth "
        "heavy tail of real venues (airports, stations) in check-in data is not one.",
    )
    pileup_gap_ratio: float = setting(
        3.0,
        "... by this factor: real venue popularity falls off gradually (the top venues of NYC "
        "check-ins differ by < 2×), a fallback coordinate jumps far above the rest.",
    )
    pileup_nearby_km: float = setting(
        0.3,
        "... and against every other shared coordinate within 300 m: truncated coordinates "
        "spread a busy place over a grid of points ~100 m apart, a fallback point is alone.",
    )
    pileup_medium_share: float = setting(
        0.001,
        "A fallback point holding 0.1 % of pings is among the busiest places of a city data "
        "set and worth checking before modelling visits.",
    )
    pileup_high_share: float = setting(
        0.01,
        "From 1 % of pings (lower 95 % bound) the fallback point is a top hotspot that would "
        "change any footfall or density model.",
    )
    pileup_high_devices: int = setting(
        100,
        "A high pileup also needs 100 devices behind it: a data-set-wide fallback, not one "
        "faulty phone.",
    )
    pileup_country_centroid_km: float = setting(
        50.0,
        "A pileup within 50 km of a country's centroid is named after it: published centroids "
        "of one country (polygon centroid, label point, a rounded '46, 2') lie tens of km apart.",
    )
    pileup_region_centroid_km: float = setting(
        30.0,
        "... within 30 km of a first-level region's centroid: regions are smaller than "
        "countries, so their centroid variants lie closer together.",
    )
    pileup_capital_km: float = setting(
        2.0,
        "... within 2 km of a capital's point: city-level fallbacks sit on the city's "
        "gazetteer point (sources differ by under a km), not anywhere in a city of 20 km.",
    )
    pileup_default_coordinate_km: float = setting(
        1.0,
        "... within 1 km of a well-known default coordinate: a fixed literal, moved at most "
        "~0.8 km when written with 2 decimals.",
    )
    pileup_known_place_score: float = setting(
        10.0,
        "Score added to a pileup on a known place (as much as a tenfold ratio): it is surely a "
        "fallback, so it ranks above an unnamed one; its severity still rests on its share.",
    )
    spike_ring: int = setting(
        2,
        "A cell alone is compared with the ring of cells 1 and 2 steps away (18 cells): wide "
        "enough to be stable, near enough to share the local density gradient.",
    )
    spike_min_ratio: float = setting(
        2.0,
        "A spike holds at least twice the devices its neighbourhood predicts: below that, "
        "a dense cell is within what a city's own cells vary by.",
    )
    spike_medium_ratio: float = setting(
        2.0,
        "A medium or high spike is also at least twice its prediction: in a dense centre a "
        "crowd of hundreds of devices doubles a cell; a smooth peak does not.",
    )
    spike_high_ratio: float = setting(
        8.0,
        "From 8× its prediction (with a crowd's excess) a single cell dominates its district "
        "and would bias any density or footfall model built on the data.",
    )
    spike_min_excess_devices: int = setting(
        10,
        "Any spike holds at least 10 extra devices (lower 95 % bound): a few more phones than "
        "predicted is a household or an office floor, not a place worth a finding.",
    )
    spike_medium_devices: int = setting(
        50,
        "A medium or high spike needs at least 50 extra devices (lower 95 % bound): fewer is a "
        "building, a household or a workplace, not a crowd.",
    )
    spike_high_devices: int = setting(
        300,
        "From 300 extra devices (lower 95 % bound) at a clear ratio the crowd is a top hotspot "
        "of any city-scale data set.",
    )
    spike_ring_scale_max_edge_km: float = setting(
        0.25,
        "Cells with edges under 250 m (resolution 9 and finer) are also tested with their first "
        "ring against rings 2..3, so a venue spread over several cells is seen whole; coarser "
        "cells hold a venue, and their 7-cell disk is a city sub-centre's size.",
    )
    spike_max_gradient: float = setting(
        4.0,
        "A ring's rise over the next one is capped at 4× before it is extrapolated to the "
        "centre: steeper is a venue spilling into the ring, not a city's gradient.",
    )
    spike_gradient_min_devices: float = setting(
        2.0,
        "The city's own rise exponent is read from cells whose outer ring holds at least 2 "
        "devices per slot: emptier rings are noise.",
    )
    spike_gradient_min_rise: float = setting(
        1.3,
        "... and whose inner ring rises at least 1.3× over the outer one: flatter rings say "
        "nothing about how a peak continues.",
    )
    spike_gradient_min_cells: int = setting(
        20,
        "With fewer than 20 such cells the full rise is assumed (exponent 1): the cautious "
        "choice, which expects the most of a peak.",
    )
    spike_full_rise_edge_km: float = setting(
        1.0,
        "Cells with edges of 1 km or more (resolution 7 and coarser) hold a sub-centre or town "
        "core whole, which rises over its rings like a cusp: the full rise is expected there.",
    )
    spike_coarse_severity: str = setting(
        "low",
        "... and there a 100 m venue and a city's ~1 km sub-centre both fill one cell over flat "
        "rings, which device counts cannot tell apart: such spikes are told at most as low.",
    )
    spike_min_expected: float = setting(
        0.5,
        "Neighbour levels below half a device (or half a typical device's pings) are floored "
        "here, so a lone house among empty cells is not an infinite ratio.",
    )
    spike_min_overdispersion: float = setting(
        0.05,
        "Cells of a real city vary by at least ~22 % beyond Poisson (α = 0.05) around any "
        "neighbourhood prediction; a data set of sparse cells would estimate less.",
    )
    spike_trim_share: float = setting(
        0.02,
        "The 2 % of cells with the largest standardised excess are left out when estimating "
        "the neighbourhood overdispersion, so spikes do not hide themselves by inflating it.",
    )
    far_factor: float = setting(
        4.0,
        "A ping is distant beyond 4× the radius holding 90 % of pings around the median "
        "centre: a city's outskirts stay inside, another city or an ocean does not.",
    )
    far_min_km: float = setting(
        50.0,
        "Never closer than 50 km: commuter belts and airports around a compact city are not "
        "distant points.",
    )
    mass_share: float = setting(
        0.9,
        "The data's main mass is the smallest disk around the median centre holding 90 % of "
        "pings: robust to a few percent of strays.",
    )
    distant_medium_share: float = setting(
        0.02,
        "Distant pings are informational until they are 2 % of the data (lower 95 % bound); "
        "then a bounding box, a centroid or a map extent is skewed by them.",
    )
    swap_match_resolution: int = setting(
        6,
        "A mirrored (lat, lon) — swapped or sign-flipped — must land in an occupied H3 cell at "
        "resolution 6 (~36 km²) or finer: coarse enough to catch mirrored rows of sparse areas.",
    )
    swap_medium_share: float = setting(
        0.0005,
        "0.05 % of rows (swapped or sign-flipped) sent to the mirrored place already put a "
        "visible cluster on another continent and skew bounding boxes and centroids.",
    )
    swap_high_share: float = setting(
        0.005,
        "From 0.5 % mirrored rows (lower 95 % bound) a pipeline is mixing up columns or "
        "signs for a source or vendor: every spatial statistic of the data is affected.",
    )
    swap_min_rows: int = setting(
        3,
        "Fewer than 3 mirrored rows can be chance: a stray ping that happens to mirror into "
        "the data's area.",
    )
