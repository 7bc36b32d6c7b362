"""Impossible speeds: devices that are in two far-apart places closer in time than any
vehicle could join them.

It reads ``device_moments`` (per device, UTC hour and coarse place, the first and last
second seen there). Two places a device was seen at, next to each other in its time
order, give a real pair of pings: the distance between the places (less their size)
over the shortest time between their first and last seconds is a lower bound on the
speed the device would have needed. Beyond the fastest airliner, one of the two fixes
is wrong. Jumps to places another finding already explains (null island, swapped or
sign-flipped rows) are counted apart, so the same rows are not told twice.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from explorer._speed.codes import factorize
from explorer.binning.cells import (
    cell_centres,
    cell_edge_km,
    cell_resolution,
    cells_to_parent,
    cells_to_str,
    latlng_to_cells,
)
from explorer.detectors.context import Context
from explorer.detectors.needs import DEVICE_IDS, check
from explorer.detectors.places.common import (
    haversine_km,
    main_mass,
    near_null_island,
    plain,
    share_interval,
)
from explorer.detectors.places.far import far_rows
from explorer.findings import Finding, FindingKind
from explorer.text import count, pct, plural

#: Each place is paired with the next this many places in its device's time order: a
#: stray fix between two places seen within the same hour is next to neither of them.
NEIGHBOURS = 3
#: Stray places listed in the evidence and shown on the map.
_WHERE_ROWS = 10
_MAX_CELLS = 20


def jumps(ctx: Context) -> pl.DataFrame:
    """Pairs of a device's places near each other in its time order (up to
    :data:`NEIGHBOURS` apart) farther apart than ``min_jump_km``, with the distance (less
    the places' size), the shortest time between their pings and the speed that needs.

    Only devices whose places span more than ``min_jump_km`` can jump that far, so the
    rest (in one metro, every device) are left out before anything is sorted.
    """
    moments = ctx.summary.tables["device_moments"]
    if moments.height < 2:
        return _NO_JUMPS
    slack = 2 * cell_edge_km(cell_resolution(int(moments["place"][0])))
    reach = ctx.config.travel.min_jump_km + slack
    wide = _wide_devices(_with_centres(ctx.summary.tables["cell_devices"], "cell"), reach)
    moments = moments.filter(pl.col("device").is_in(wide.implode()))
    if moments.height < 2:
        return _NO_JUMPS
    ordered = moments.select("device", "place", "first_seen", "last_seen").sort(
        ["device", "first_seen", "last_seen", "place"]
    )
    device = ordered["device"].to_numpy()
    # Places are few (coarse cells): each row carries its place's code, and a centre is
    # looked up only for the rows of candidate pairs.
    places = factorize(ordered["place"])
    place = places.codes
    centre_lat, centre_lon = cell_centres(pl.Series(places.values, dtype=pl.UInt64))
    first, last = ordered["first_seen"].to_numpy(), ordered["last_seen"].to_numpy()
    pairs = []
    for step in range(1, NEIGHBOURS + 1):
        a = np.flatnonzero((device[step:] == device[:-step]) & (place[step:] != place[:-step]))
        pa, pb = place[a], place[a + step]
        far = haversine_km(centre_lat[pa], centre_lon[pa], centre_lat[pb], centre_lon[pb]) > reach
        pairs.append(np.column_stack([a[far], a[far] + step]))
    a, b = np.concatenate(pairs).T
    lat_a, lon_a = centre_lat[place[a]], centre_lon[place[a]]
    lat_b, lon_b = centre_lat[place[b]], centre_lon[place[b]]
    km = haversine_km(lat_a, lon_a, lat_b, lon_b) - slack
    gaps = np.abs(np.stack([first[b] - last[a], first[b] - first[a], last[b] - last[a]]))
    seconds = np.maximum(np.minimum(gaps.min(axis=0), np.abs(last[b] - first[a])), 1)
    frame = pl.DataFrame(
        {
            "device": ordered["device"].gather(a),
            "from_place": ordered["place"].gather(a),
            "to_place": ordered["place"].gather(b),
            "from_lat": lat_a,
            "from_lon": lon_a,
            "to_lat": lat_b,
            "to_lon": lon_b,
            "km": km,
            "seconds": seconds,
            "kmh": km / (seconds / 3_600),
        }
    )
    # A pair found at several steps is one jump: keep its fastest reading.
    return frame.sort("kmh", descending=True).unique(
        ["device", "from_place", "to_place"], keep="first", maintain_order=True
    )


_NO_JUMPS = pl.DataFrame(
    schema={
        "device": pl.UInt64,
        "from_place": pl.UInt64,
        "to_place": pl.UInt64,
        "from_lat": pl.Float64,
        "from_lon": pl.Float64,
        "to_lat": pl.Float64,
        "to_lon": pl.Float64,
        "km": pl.Float64,
        "seconds": pl.Int64,
        "kmh": pl.Float64,
    }
)


def _with_centres(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """``frame`` with the centre (``lat``, ``lon``) of each H3 cell in ``column``, found
    once per distinct cell."""
    cells = frame[column].unique()
    lat, lon = cell_centres(cells)
    return frame.join(pl.DataFrame({column: cells, "lat": lat, "lon": lon}), on=column)


def _wide_devices(cells: pl.DataFrame, km: float) -> pl.Series:
    """Devices whose cells (a device's places, fewer rows than its moments) span more
    than ``km``: latitude span plus longitude span at the box's widest latitude bounds
    any two places' distance from above, so no device that could jump that far is left
    out (a box across ±180° only looks wider)."""
    extent = cells.group_by("device").agg(
        lat_span=pl.col("lat").max() - pl.col("lat").min(),
        lon_span=pl.col("lon").max() - pl.col("lon").min(),
        widest=pl.col("lat").abs().min().radians().cos(),
    )
    reach = pl.col("lat_span") + pl.col("lon_span") * pl.col("widest")
    return extent.filter(reach * 111.2 > km)["device"]


def _artefact_places(ctx: Context, resolution: int) -> pl.Series:
    """Coarse places holding rows another finding tells: null island, swapped or flipped."""
    coords = ctx.summary.tables["coords"]
    null = coords.filter(
        near_null_island(pl.col("lat"), pl.col("lon"), ctx.config.places.null_island_radius_deg)
    )
    mirrored = far_rows(ctx).filter(pl.col("swapped") | pl.col("flipped").is_not_null())
    points = pl.concat([null.select("lat", "lon"), mirrored.select("lat", "lon")])
    if points.is_empty():
        return pl.Series("place", [], dtype=pl.UInt64)
    return latlng_to_cells(points["lat"], points["lon"], resolution).unique()


def _stray_ends(ctx: Context, fast: pl.DataFrame, moments: pl.DataFrame) -> pl.DataFrame:
    """For each impossible jump, the end where its device was seen less (the stray fix);
    on a tie, the end farther from the data's main mass (stray fixes land away from it)."""
    jumpers = moments.filter(pl.col("device").is_in(fast["device"].unique().implode()))
    seen = jumpers.group_by("device", "place").agg(pl.col("pings").sum().alias("seen"))
    ends = fast.join(
        seen.rename({"place": "from_place", "seen": "from_seen"}), on=["device", "from_place"]
    ).join(seen.rename({"place": "to_place", "seen": "to_seen"}), on=["device", "to_place"])
    mass = main_mass(ctx)
    lat0, lon0 = (mass.lat, mass.lon) if mass is not None else (0.0, 0.0)
    to_km = haversine_km(ends["to_lat"].to_numpy(), ends["to_lon"].to_numpy(), lat0, lon0)
    from_km = haversine_km(ends["from_lat"].to_numpy(), ends["from_lon"].to_numpy(), lat0, lon0)
    to_is_stray = (pl.col("to_seen") < pl.col("from_seen")) | (
        (pl.col("to_seen") == pl.col("from_seen")) & pl.Series(to_km >= from_km)
    )
    return ends.select(
        "device",
        place=pl.when(to_is_stray).then("to_place").otherwise("from_place"),
        lat=pl.when(to_is_stray).then("to_lat").otherwise("from_lat"),
        lon=pl.when(to_is_stray).then("to_lon").otherwise("from_lon"),
    )


def _busiest_cells_of(ctx: Context, places: pl.Series) -> pl.Series:
    """The busiest data cell in each coarse place, in the places' order: where a stray
    fix lands (a pile-up's own cell, when one holds it), not the place's centre."""
    resolution = cell_resolution(int(places[0]))
    cells = ctx.cells.select("cell", "pings").with_columns(
        place=cells_to_parent(ctx.cells["cell"], resolution)
    )
    busiest = (
        cells.filter(pl.col("place").is_in(places.implode()))
        .sort(["pings", "cell"], descending=[True, False])
        .group_by("place", maintain_order=True)
        .first()
    )
    return pl.DataFrame({"place": places}).join(
        busiest, on="place", how="inner", maintain_order="left"
    )["cell"]


@check(FindingKind.IMPOSSIBLE_SPEED.value, DEVICE_IDS)
def detect_impossible_speed(ctx: Context) -> list[Finding]:
    """Devices seen at two places farther apart than an airliner flies in the time between."""
    cfg = ctx.config.travel
    fast = jumps(ctx).filter((pl.col("kmh") > cfg.max_speed_kmh) & (pl.col("km") > cfg.min_jump_km))
    if fast.is_empty():
        return []
    moments = ctx.summary.tables["device_moments"]
    artefacts = _artefact_places(ctx, cell_resolution(int(moments["place"][0])))
    explained = pl.col("from_place").is_in(artefacts.implode()) | pl.col("to_place").is_in(
        artefacts.implode()
    )
    told_elsewhere = int(fast.filter(explained).height)
    fast = fast.filter(~explained)
    devices = int(fast["device"].n_unique())
    if devices < cfg.min_devices:
        return []
    total = int(ctx.summary.tables["devices"]["device"].n_unique())
    share, low, high = share_interval(devices, total)
    severity = (
        "high"
        if low >= cfg.high_device_share
        else "medium"
        if low >= cfg.medium_device_share
        else "low"
    )
    strays = _stray_ends(ctx, fast, moments)
    where = (
        strays.group_by("place")
        .agg(
            pl.col("lat").first(),
            pl.col("lon").first(),
            devices=pl.col("device").n_unique(),
            jumps=pl.len(),
        )
        .sort(["devices", "jumps", "place"], descending=[True, True, False])
    )
    cells = _busiest_cells_of(ctx, where["place"].head(_MAX_CELLS))
    example = fast.sort(["kmh", "km"], descending=True).row(fast.height // 2, named=True)
    median_km = float(fast["km"].median())
    median_minutes = float(fast["seconds"].median()) / 60
    evidence = {
        "devices": devices,
        "devices_total": total,
        "share": share,
        "share_low": low,
        "share_high": high,
        "jumps": fast.height,
        "jumps_told_elsewhere": told_elsewhere,
        "median_km": median_km,
        "median_minutes": median_minutes,
        "max_speed_kmh": cfg.max_speed_kmh,
        "example": {
            "from_lat": example["from_lat"],
            "from_lon": example["from_lon"],
            "to_lat": example["to_lat"],
            "to_lon": example["to_lon"],
            "km": example["km"],
            "minutes": example["seconds"] / 60,
        },
        "where": where.head(_WHERE_ROWS).select("lat", "lon", "devices", "jumps").to_dicts(),
        "places_total": where.height,
    }
    story = (
        f"{plural(devices, 'device')} ({pct(share)} of all) jump between places faster than "
        f"an airliner flies (over {cfg.max_speed_kmh:,.0f} km/h): e.g. {example['km']:,.0f} km "
        f"in {_duration(example['seconds'])}, from ({example['from_lat']:.3f}, "
        f"{example['from_lon']:.3f}) to ({example['to_lat']:.3f}, {example['to_lon']:.3f}). "
        f"The typical impossible jump is {median_km:,.0f} km in "
        f"{_duration(median_minutes * 60)}. Fixes from another source (an IP address, a cell "
        "tower, a cached or default location) are mixed into these devices' tracks, so their "
        "trips, dwell times and homes are wrong. The map shows where the stray fixes land; "
        "drop them (or those devices) before modelling movement."
    )
    title = f"{count(devices)} devices ({pct(share)}) move faster than an airliner"
    return [
        Finding(
            FindingKind.IMPOSSIBLE_SPEED.value,
            severity,
            float(share * 100),
            title,
            story,
            tuple(cells_to_str(cells)),
            plain(evidence),
        )
    ]


def _duration(seconds: float) -> str:
    """A short time span as people say it: 40 seconds, 12 minutes, 3.5 hours."""
    if seconds < 90:
        return plural(round(seconds), "second")
    if seconds < 90 * 60:
        return plural(round(seconds / 60), "minute")
    return f"{seconds / 3_600:.1f} hours"


__all__ = ["DETECTORS", "detect_impossible_speed", "jumps"]

DETECTORS = [detect_impossible_speed]
