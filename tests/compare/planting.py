"""Changes planted in the after delivery of a comparison, on canonical ping frames.

Each function takes canonical pings and returns new ones; together with
:mod:`explorer.synth.panel_biases` they plant each change kind alone.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from explorer.binning.cells import cells_to_parent, latlng_to_cells


def week_halves(pings: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The pings before and from the middle instant of the period (two weeks of 14 days)."""
    start, end = pings["timestamp"].min(), pings["timestamp"].max()
    middle = start + (end - start) / 2
    return pings.filter(pl.col("timestamp") < middle), pings.filter(pl.col("timestamp") >= middle)


def device_halves(pings: pl.DataFrame, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two random halves of the devices (each device's pings stay together)."""
    ids = pings["device_id"].unique().sort()
    first = ids.filter(pl.Series(np.random.default_rng(seed).random(len(ids)) < 0.5))
    inside = pl.col("device_id").is_in(first.implode())
    return pings.filter(inside), pings.filter(~inside)


def main_areas(pings: pl.DataFrame, resolution: int) -> pl.DataFrame:
    """(device_id, area): the H3 cell at ``resolution`` holding most of each device's pings."""
    cells = latlng_to_cells(pings["lat"].to_numpy(), pings["lon"].to_numpy(), resolution)
    frame = pings.select("device_id").with_columns(area=pl.Series(cells, dtype=pl.UInt64))
    return (
        frame.group_by("device_id", "area")
        .agg(n=pl.len())
        .sort(["device_id", "n", "area"], descending=[False, True, False])
        .group_by("device_id", maintain_order=True)
        .agg(pl.col("area").first())
    )


def busy_area(pings: pl.DataFrame, resolution: int, rank: int = 3) -> int:
    """The area (H3 cell at ``resolution``) that is the main area of the ``rank``-th most
    devices: a busy district, not the very centre."""
    counts = main_areas(pings, resolution).group_by("area").agg(n=pl.len())
    return int(counts.sort(["n", "area"], descending=[True, False])["area"][rank])


def devices_of_area(pings: pl.DataFrame, area: int, resolution: int) -> pl.Series:
    """Ids of the devices whose pings fall mostly in ``area``."""
    mains = main_areas(pings, resolution)
    return mains.filter(pl.col("area") == area)["device_id"]


def drop_area_devices(
    pings: pl.DataFrame, area: int, resolution: int, share: float, seed: int = 0
) -> pl.DataFrame:
    """A ``share`` of the devices living mostly in ``area`` removed: a supplier dropped there."""
    ids = devices_of_area(pings, area, resolution).sort()
    gone = ids.filter(pl.Series(np.random.default_rng(seed).random(len(ids)) < share))
    return pings.filter(~pl.col("device_id").is_in(gone.implode()))


def switch_area_type(
    pings: pl.DataFrame, area: int, resolution: int, share: float, to: str = "ios", seed: int = 0
) -> pl.DataFrame:
    """A ``share`` of the devices living mostly in ``area`` now report ``to`` as their type."""
    ids = devices_of_area(pings, area, resolution).sort()
    moved = ids.filter(pl.Series(np.random.default_rng(seed).random(len(ids)) < share))
    return pings.with_columns(
        device_type=pl.when(pl.col("device_id").is_in(moved.implode()))
        .then(pl.lit(to))
        .otherwise(pl.col("device_type"))
    )


def add_pileup(
    pings: pl.DataFrame, lat: float, lon: float, devices: int, share: float, seed: int = 0
) -> pl.DataFrame:
    """A ``share`` of the pings of ``devices`` random devices snapped to one 4-decimal
    coordinate: an IP-geolocation centroid that appeared."""
    rng = np.random.default_rng(seed)
    ids = pings["device_id"].unique().sort()
    chosen = ids.gather(rng.choice(len(ids), size=min(devices, len(ids)), replace=False))
    mine = pings["device_id"].is_in(chosen.implode()).to_numpy()
    snapped = mine & (rng.random(pings.height) < share)
    return pings.with_columns(
        lat=pl.when(pl.Series(snapped)).then(round(lat, 4)).otherwise(pl.col("lat")),
        lon=pl.when(pl.Series(snapped)).then(round(lon, 4)).otherwise(pl.col("lon")),
    )


def area_parent(cell: int, resolution: int) -> int:
    return int(cells_to_parent(pl.Series([cell], dtype=pl.UInt64), resolution)[0])


def shift_area_hours(
    pings: pl.DataFrame, area: int, resolution: int, hours: int, seed: int = 0
) -> pl.DataFrame:
    """The pings of the devices living mostly in ``area`` arrive ``hours`` later: their
    day moved (a clock or a batch upload changed for one supplier's devices there)."""
    ids = devices_of_area(pings, area, resolution)
    return pings.with_columns(
        timestamp=pl.when(pl.col("device_id").is_in(ids.implode()))
        .then(pl.col("timestamp") + pl.duration(hours=hours))
        .otherwise(pl.col("timestamp"))
    )
