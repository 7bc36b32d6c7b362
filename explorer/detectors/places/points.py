"""Exact-coordinate detectors: null island and coordinate pileups (from the coords table)."""

from __future__ import annotations

import numpy as np
import polars as pl

from explorer.binning.cells import cells_to_str, latlng_to_cells
from explorer.config.places import PlacesConfig
from explorer.detectors.context import Context
from explorer.detectors.needs import DEVICE_IDS, check
from explorer.detectors.places.common import (
    cached,
    from_devices,
    haversine_km,
    main_mass,
    near_null_island,
    plain,
    share_interval,
    shared_coordinates,
)
from explorer.findings import Finding, FindingKind
from explorer.geography.gazetteer import known_places
from explorer.text import count, pct, plural

#: MAD of a normal distribution is 0.6745 σ: dividing by it turns a MAD into a σ.
_MAD_TO_SIGMA = 1.4826
#: Smallest spread (σ of log device counts) the pileup z-score divides by, so a data set
#: whose shared coordinates all hold exactly two devices does not make three an outlier.
_MIN_LOG_SIGMA = 0.5


def _severity(lower_share: float, medium: float, high: float, high_ok: bool = True) -> str:
    if lower_share >= high and high_ok:
        return "high"
    return "medium" if lower_share >= medium else "low"


def _extent_reaches_null_island(ctx: Context) -> bool:
    """Whether the data's bounding box touches null island (skips a full scan if not)."""
    radius = ctx.config.places.null_island_radius_deg
    extent = ctx.summary.tables["extent"]
    if extent.is_empty() or extent["lat_min"][0] is None:
        return False
    box = extent.row(0, named=True)
    return (
        box["lat_min"] <= radius
        and box["lat_max"] >= -radius
        and box["lon_min"] <= radius
        and box["lon_max"] >= -radius
    )


@check(FindingKind.NULL_ISLAND.value)
def detect_null_island(ctx: Context) -> list[Finding]:
    """Pings at or within ``null_island_radius_deg`` of (0, 0)."""
    cfg = ctx.config.places
    total = ctx.total_pings
    if not _extent_reaches_null_island(ctx):
        return []
    coords = ctx.summary.tables["coords"]
    near = coords.filter(near_null_island(pl.col("lat"), pl.col("lon"), cfg.null_island_radius_deg))
    if near.is_empty() or total == 0:
        return []
    pings = int(near["pings"].sum())
    exact = int(near.filter((pl.col("lat") == 0) & (pl.col("lon") == 0))["pings"].sum())
    devices = int(near["device"].drop_nulls().n_unique())
    share, low, high = share_interval(pings, total)
    severity = _severity(low, cfg.null_island_medium_share, cfg.null_island_high_share)
    points = near.select("lat", "lon").unique()
    cells = sorted(set(latlng_to_cells(points["lat"], points["lon"], ctx.resolution).to_list()))
    evidence = {
        "pings": pings,
        "exact_zero_pings": exact,
        "share": share,
        "share_low": low,
        "share_high": high,
        "devices": devices,
        "radius_deg": cfg.null_island_radius_deg,
    }
    story = (
        f"{plural(pings, 'ping')} ({pct(share)} of the data{from_devices(devices)}) "
        f"sit at or within {cfg.null_island_radius_deg}° of latitude 0, longitude 0, in the open "
        "sea off West Africa: missing locations written as zeros. A model of where people are "
        "would see a phantom hotspot in the Gulf of Guinea and skewed centroids and extents. "
        "Check which source or app version writes zeros, and drop these rows before "
        "modelling: a cleaned copy of the file leaves them out."
    )
    return [
        Finding(
            FindingKind.NULL_ISLAND.value,
            severity,
            float(share * 100),
            f"{count(pings)} pings ({pct(share)}) at null island (0, 0)",
            story,
            tuple(cells_to_str(cells)),
            plain(evidence),
        )
    ]


def _pileup_reference(devices: np.ndarray, exclude: int) -> tuple[float, float, float]:
    """(typical devices, log median, log sigma) of shared coordinates (≥ 2 devices),
    the ``exclude`` busiest left out.

    The busiest are the coordinates that can be pileups: counted in, two pileups among a
    few chance coincidences set the median between themselves and hide each other. Where
    coordinates are jittered almost none are shared and the typical coordinate holds one
    device.
    """
    shared = np.sort(devices[devices >= 2])[::-1][exclude:]
    if shared.size < 2:
        return 1.0, 0.0, _MIN_LOG_SIGMA
    logs = np.log(shared.astype(float))
    median = float(np.median(logs))
    sigma = max(_MAD_TO_SIGMA * float(np.median(np.abs(logs - median))), _MIN_LOG_SIGMA)
    return float(np.exp(median)), median, sigma


def _rank_reference(counts: np.ndarray, rank: int) -> np.ndarray:
    """For each of the top counts (descending), the ``rank``-th largest of the others."""
    if counts.size <= rank:
        return np.ones(counts.size)
    # Removing one of the first ``rank`` entries moves the rank-th other one down by one.
    position = np.where(np.arange(counts.size) < rank, rank, rank - 1)
    return np.maximum(counts[position], 1.0)


def _nearby_devices(top: pl.DataFrame, shared: pl.DataFrame, km: float) -> np.ndarray:
    """Most devices on any *other* shared coordinate within ``km`` of each top coordinate.

    Truncated coordinates put a busy place on a grid of neighbouring points each shared
    by many devices; a fallback coordinate stands alone.
    """
    lat, lon = shared["lat"].to_numpy(), shared["lon"].to_numpy()
    devices = shared["devices"].to_numpy().astype(float)
    dlat = km / 111.2
    out = np.ones(top.height)
    for i, (lat0, lon0) in enumerate(zip(top["lat"], top["lon"], strict=True)):
        dlon = dlat / max(np.cos(np.radians(lat0)), 1e-6)
        near = (np.abs(lat - lat0) <= dlat) & (np.abs(lon - lon0) <= dlon)
        near &= (lat != lat0) | (lon != lon0)
        out[i] = max(float(devices[near].max()) if near.any() else 1.0, 1.0)
    return out


def _pileup_candidates(ctx: Context) -> tuple[pl.DataFrame, float, float]:
    """Coordinates passing every pileup test, with the typical and shared-ping share.

    Nothing here depends on where a coordinate lies: a pileup in the centre, in the
    next region or on another continent is tested against the same reference.
    """
    cfg = ctx.config.places
    coords = shared_coordinates(ctx).filter(
        ~near_null_island(pl.col("lat"), pl.col("lon"), cfg.null_island_radius_deg)
    )
    devices = coords["devices"].to_numpy()
    typical, log_median, sigma = _pileup_reference(devices, cfg.pileup_gap_rank)
    # Only the few biggest coordinates can be pileups: rank them, then test each against
    # the gap_rank-th busiest *other* coordinate.
    top = coords.top_k(
        cfg.pileup_gap_rank + ctx.config.severity.max_findings_per_kind, by="devices"
    ).sort("devices", descending=True)
    counts = top["devices"].to_numpy().astype(float)
    nearby = _nearby_devices(top, coords.filter(pl.col("devices") >= 2), cfg.pileup_nearby_km)
    gap_ref = np.maximum(_rank_reference(counts, cfg.pileup_gap_rank), nearby)
    z = (np.log(np.maximum(counts, 1.0)) - log_median) / sigma
    top = top.with_columns(
        gap_reference=pl.Series(gap_ref),
        nearby_devices=pl.Series(nearby),
        z=pl.Series(z),
        ratio=pl.Series(counts / typical),
    )
    keep = top.filter(
        (pl.col("devices") >= cfg.pileup_min_devices)
        & (pl.col("ratio") >= cfg.pileup_min_ratio)
        & (pl.col("z") >= cfg.pileup_min_z)
        & (pl.col("devices") >= cfg.pileup_gap_ratio * pl.col("gap_reference"))
    )
    # The pileups' own pings do not make the rest of the data look venue-snapped.
    shared = coords.filter(pl.col("devices") >= 2)["pings"].sum() - keep["pings"].sum()
    return keep, typical, float(shared) / max(float(ctx.total_pings), 1.0)


def _pileup_cells(ctx: Context) -> list[int]:
    keep = cached(ctx, "pileups", _pileup_candidates)[0]
    return latlng_to_cells(keep["lat"], keep["lon"], ctx.resolution).to_list()


def pileup_coordinates(ctx: Context) -> pl.DataFrame:
    """The exact coordinates (lat, lon) found as pileups (cached per context)."""
    return cached(ctx, "pileups", _pileup_candidates)[0].select("lat", "lon")


def pileup_cells(ctx: Context) -> list[int]:
    """Cells of the coordinates found as pileups, in finding order (cached per context)."""
    return cached(ctx, "pileup_cells", _pileup_cells)


@check(FindingKind.COORDINATE_PILEUP.value, DEVICE_IDS)
def detect_coordinate_pileup(ctx: Context) -> list[Finding]:
    """Exact coordinates shared by far more devices than any other place in the data."""
    total = ctx.total_pings
    if total == 0:
        return []
    keep, typical, shared_share = cached(ctx, "pileups", _pileup_candidates)
    if keep.is_empty():
        return []
    cells = pileup_cells(ctx)
    findings = []
    for row, cell in zip(keep.iter_rows(named=True), cells, strict=True):
        findings.append(_pileup_finding(ctx, row, cell, typical, shared_share, total))
    return findings


#: Why each kind of known place collects fallback fixes, for a pileup's story.
_WHY_THERE = {
    "country_centroid": "IP geolocation writes it for a device it can only place in the country",
    "region_centroid": "IP geolocation writes it for a device it can only place in the region",
    "capital": "IP geolocation writes a city's point for a device it can only place in the city",
    "default_coordinate": "software writes it when it has no location at all",
}


#: The setting that says how near a pileup must be to each kind of known place to be
#: named after it.
REACH_SETTINGS = {
    "country_centroid": "pileup_country_centroid_km",
    "region_centroid": "pileup_region_centroid_km",
    "capital": "pileup_capital_km",
    "default_coordinate": "pileup_default_coordinate_km",
}


def known_place_of(lat: float, lon: float, cfg: PlacesConfig) -> dict | None:
    """The nearest known place (centroid, capital, default coordinate) within its kind's
    naming distance of a coordinate, as evidence (name, kind, distance_km, source)."""
    reach = {kind: getattr(cfg, name) for kind, name in REACH_SETTINGS.items()}
    places = known_places()
    km = haversine_km(
        np.array([p.lat for p in places]), np.array([p.lon for p in places]), lat, lon
    )
    within = km <= np.array([reach.get(p.kind, -1.0) for p in places])
    if not within.any():
        return None
    best = int(np.flatnonzero(within)[np.argmin(km[within])])
    place = places[best]
    return {
        "name": place.name,
        "kind": place.kind,
        "distance_km": float(km[best]),
        "source": place.source,
    }


def _place_words(place: dict | None) -> tuple[str, str]:
    """(title tail, story sentence) naming the known place a pileup sits on, if any."""
    if place is None:
        generic = (
            "This is the signature of a fallback location (IP geolocation, a postcode or "
            "city centroid) written in when no fix was available."
        )
        return "", generic
    name, km = place["name"], place["distance_km"]
    why = _WHY_THERE.get(place["kind"], "software writes it when it knows no better place")
    if f"{km:.0f}" == "0":
        return f" at {name}", f"It is {name}: {why}."
    return (
        f" {km:.0f} km from {name}",
        f"It lies {km:.0f} km from {name} (published points of one place differ by that "
        f"much): {why}.",
    )


def _centre_distance(ctx: Context, lat: float, lon: float) -> tuple[float | None, str]:
    """(km from the data's centre, story clause when beyond the far distance)."""
    mass = main_mass(ctx)
    if mass is None:
        return None, ""
    km = float(haversine_km(np.array([lat]), np.array([lon]), mass.lat, mass.lon)[0])
    if km <= mass.far_km:
        return km, ""
    return (
        km,
        f"; {km:,.0f} km from the centre of the data, it also stretches any map, extent "
        "or centroid",
    )


def _pileup_finding(
    ctx: Context, row: dict, cell: int, typical: float, shared_share: float, total: int
) -> Finding:
    cfg = ctx.config.places
    pings, devices = int(row["pings"]), int(row["devices"])
    share, low, high = share_interval(pings, total)
    severity = _severity(
        low,
        cfg.pileup_medium_share,
        cfg.pileup_high_share,
        high_ok=devices >= cfg.pileup_high_devices,
    )
    snapped = shared_share >= ctx.config.snapping.medium_share
    versus = (
        f"the typical shared venue coordinate holds {typical:.0f}"
        if snapped
        else "with GPS jitter almost no two devices share an exact coordinate"
    )
    place = known_place_of(row["lat"], row["lon"], cfg)
    title_place, place_sentence = _place_words(place)
    centre_km, far_clause = _centre_distance(ctx, row["lat"], row["lon"])
    evidence = {
        "lat": row["lat"],
        "lon": row["lon"],
        "pings": pings,
        "devices": devices,
        "share": share,
        "share_low": low,
        "share_high": high,
        "typical_devices": typical,
        "ratio": row["ratio"],
        "z": row["z"],
        "next_busiest_devices": row["gap_reference"],
        "nearby_devices": row["nearby_devices"],
        "shared_ping_share": shared_share,
        "venue_snapped": snapped,
        "known_place": place,
        "centre_distance_km": centre_km,
    }
    story = (
        f"{plural(devices, 'device')} report the exact coordinate ({row['lat']}, {row['lon']}) "
        f"— {count(pings)} pings, {pct(share)} of the data — while {versus}. "
        f"{place_sentence} Visits, dwell times and density there are artefacts{far_clause}. "
        "Check the accuracy field or the source of these pings and drop or down-weight the "
        "coordinate."
    )
    title = (
        f"{count(devices)} devices share one exact coordinate ({pct(share)} of pings)" + title_place
    )
    score = float(np.log10(max(row["ratio"], 1.0)) * 10 + share * 100)
    score += cfg.pileup_known_place_score if place is not None else 0.0
    return Finding(
        FindingKind.COORDINATE_PILEUP.value,
        severity,
        score,
        title,
        story,
        (cells_to_str([cell])[0],),
        plain(evidence),
    )
