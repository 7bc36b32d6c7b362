"""Tidy per-cell, per-device and per-dataset views derived from a :class:`Summary`.

Detectors and presenters read these instead of re-deriving them. Counts are pings
unless a column name says devices.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from explorer.binning import cell_centres
from explorer.summary import Summary

HOURS = 24
WEEKDAYS = 7


def _row_of(cells: pl.Series, frame: pl.DataFrame) -> np.ndarray:
    """Row index in the sorted ``cells`` of each row of ``frame`` (every cell is present)."""
    return cells.search_sorted(frame["cell"]).to_numpy()


def _wide(cells: pl.Series, frame: pl.DataFrame, key: str, width: int) -> pl.Series:
    """Long (cell, key, pings) -> one list of ``width`` counts per cell of sorted ``cells``."""
    out = np.zeros((len(cells), width), dtype=np.int64)
    if frame.height:
        out[_row_of(cells, frame), frame[key].to_numpy().astype(np.int64)] = frame[
            "pings"
        ].to_numpy()
    return pl.Series(out).cast(pl.List(pl.Int64))


def _hour_devices(cells: pl.Series, cell_devices: pl.DataFrame) -> pl.Series:
    """Devices seen at each local hour per cell, from the per-(cell, device) hour bits."""
    out = np.zeros((len(cells), HOURS), dtype=np.int64)
    if cell_devices.height:
        rows = _row_of(cells, cell_devices)
        mask = cell_devices["hour_mask"].to_numpy().astype(np.int64)
        for hour in range(HOURS):
            out[:, hour] = np.bincount(rows, weights=(mask >> hour) & 1, minlength=len(cells))
    return pl.Series(out).cast(pl.List(pl.Int64))


def device_types(summary: Summary) -> pl.DataFrame:
    """Each device's main type (the type of most of its pings)."""
    devices = summary.tables["devices"]
    return (
        devices.sort(["device", "pings", "device_type"], descending=[False, True, False])
        .group_by("device", maintain_order=True)
        .agg(pl.col("device_type").first(), pl.col("pings").sum())
    )


def cell_frame(summary: Summary) -> pl.DataFrame:
    """One row per cell.

    Columns: cell, pings, devices, no_device_pings, first_seen, last_seen,
    hour_pings (24, local hours), hour_devices (24: devices seen at each local hour),
    weekday_pings (7, Monday first), type_pings and type_devices (structs by type),
    lat, lon (cell centre).
    """
    t = summary.tables
    cells = t["cells"].sort("cell")
    ids = cells["cell"]
    cd = t["cell_devices"]
    devices = cd.group_by("cell").agg(devices=pl.len().cast(pl.Int64))
    types = device_types(summary).select("device", "device_type")
    type_devices = (
        cd.join(types, on="device", how="left")
        .group_by("cell", "device_type")
        .agg(devices=pl.len().cast(pl.Int64))
    )
    out = (
        cells.with_columns(
            hour_pings=_wide(ids, t["cell_hours"], "hour", HOURS),
            hour_devices=_hour_devices(ids, cd),
            weekday_pings=_wide(ids, t["cell_weekdays"], "weekday", WEEKDAYS),
        )
        .join(devices, on="cell", how="left")
        .join(_type_struct(t["cell_types"], "pings", "type_pings"), on="cell", how="left")
        .join(_type_struct(type_devices, "devices", "type_devices"), on="cell", how="left")
        .with_columns(pl.col("devices").fill_null(0))
        .sort("cell")
    )
    lat, lon = cell_centres(out["cell"])
    return out.with_columns(lat=pl.Series(lat), lon=pl.Series(lon))


def _type_struct(frame: pl.DataFrame, value: str, name: str) -> pl.DataFrame:
    """(cell, device_type, value) -> cell with a list of {device_type, value} structs."""
    return frame.group_by("cell").agg(
        pl.struct(pl.col("device_type"), pl.col(value).alias("n"))
        .sort_by(pl.col("device_type"))
        .alias(name)
    )


def device_frame(summary: Summary) -> pl.DataFrame:
    """One row per device: pings, cells, active days, pings per day, coarse pings, type, span."""
    t = summary.tables
    devices = (
        t["devices"]
        .group_by("device")
        .agg(
            pl.col("pings").sum(),
            pl.col("coarse_pings").sum(),
            pl.col("first_seen").min(),
            pl.col("last_seen").max(),
        )
    )
    cells = t["cell_devices"].group_by("device").agg(cells=pl.len().cast(pl.Int64))
    days = t["device_days"].group_by("device").agg(active_days=pl.len().cast(pl.Int64))
    return (
        devices.join(device_types(summary).select("device", "device_type"), on="device", how="left")
        .join(cells, on="device", how="left")
        .join(days, on="device", how="left")
        .with_columns(pings_per_day=pl.col("pings") / pl.col("active_days").clip(1))
        .sort("device")
    )


def hour_totals(summary: Summary) -> np.ndarray:
    """Pings per local hour over the whole data set (24 counts)."""
    frame = summary.tables["cell_hours"].group_by("hour").agg(pl.col("pings").sum())
    out = np.zeros(HOURS, dtype=np.int64)
    out[frame["hour"].to_numpy().astype(int)] = frame["pings"].to_numpy()
    return out


def type_totals(summary: Summary) -> dict[str, int]:
    """Pings per device type over the whole data set."""
    frame = summary.tables["cell_types"].group_by("device_type").agg(pl.col("pings").sum())
    return dict(zip(frame["device_type"].to_list(), frame["pings"].to_list()))


def seconds_histogram(summary: Summary, clock: str = "local") -> np.ndarray:
    """Pings per second of the day (86 400 counts) on the local or UTC clock."""
    frame = summary.tables[f"seconds_{clock}"]
    out = np.zeros(86_400, dtype=np.int64)
    out[frame["second"].to_numpy().astype(int)] = frame["pings"].to_numpy()
    return out


def device_label(device_hash: int, salt: str) -> str:
    """Short salted label of a device for stories and charts (never the id itself)."""
    import hashlib

    digest = hashlib.blake2b(f"{salt}:{device_hash}".encode(), digest_size=4).hexdigest()
    return f"device-{digest}"
