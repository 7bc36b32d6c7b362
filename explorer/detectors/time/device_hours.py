"""Each device's day: its hour profile and the local days behind it, from the summary.

Read from two mergeable tables: ``cell_devices`` (pings and the bitmask of local hours
per cell and device) and ``device_days`` (the local days each device was seen on).
The pings of a device are not independent observations, so what a detector weighs is
its days; its pings only shape its profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.detectors.context import Context

HOURS = 24


@dataclass(frozen=True)
class DeviceDays:
    """Each device's hour profile and the local days behind it, devices sorted by hash."""

    profiles: np.ndarray  # (n, 24) share of the device's pings at each local hour
    days: np.ndarray  # (n,) local days the device was seen on
    pings: int


def device_day_profiles(ctx: Context) -> DeviceDays:
    """Per-device hour profiles from ``cell_devices`` and days from ``device_days``.

    A (cell, device) row knows its pings and the set of local hours they fell in, not
    how they split between those hours: they are split as the cell's own pings split
    between those hours (``cell_hours``), which is exact for a cell of one device.
    The work is per hour a row has seen (one to three for most), not 24 per row.
    """
    tables = ctx.summary.tables
    rows = tables["cell_devices"].filter(pl.col("device").is_not_null())
    cell_ids, cell_hours = _cell_hour_matrix(tables["cell_hours"])
    devices, device_code = np.unique(rows["device"].to_numpy(), return_inverse=True)
    cell_code = np.searchsorted(cell_ids, rows["cell"].to_numpy())
    masks = rows["hour_mask"].to_numpy().astype("<u4")
    pings = rows["pings"].to_numpy().astype(float)
    # Each row's seen hours as (row, hour) pairs, row by row, from the bits of its mask.
    bits = np.unpackbits(masks.view(np.uint8).reshape(-1, 4), axis=1, bitorder="little")
    row, hour = np.nonzero(bits[:, :HOURS])
    weight = cell_hours[cell_code[row], hour]  # the cell's pings in that hour
    total = np.bincount(row, weights=weight, minlength=masks.size)
    count = np.bincount(row, minlength=masks.size)
    # A row's pings split as its cell's pings split over the row's hours (evenly when the
    # cell has none there).
    row_total = total[row]
    share = np.where(
        row_total > 0, weight / np.where(row_total > 0, row_total, 1.0), 1 / count[row]
    )
    hours = np.bincount(
        device_code[row] * HOURS + hour, weights=share * pings[row], minlength=devices.size * HOURS
    ).reshape(devices.size, HOURS)
    days = _days_per_device(tables["device_days"], devices)
    totals = hours.sum(axis=1)
    keep = (totals > 0) & (days > 0)
    return DeviceDays(
        profiles=hours[keep] / totals[keep, None], days=days[keep], pings=int(round(totals.sum()))
    )


def _cell_hour_matrix(cell_hours: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Sorted cell ids and their (cells, 24) pings per local hour."""
    ids, code = np.unique(cell_hours["cell"].to_numpy(), return_inverse=True)
    hour = cell_hours["hour"].to_numpy().astype(np.int64)
    pings = cell_hours["pings"].to_numpy().astype(float)
    matrix = np.bincount(code * HOURS + hour, weights=pings, minlength=ids.size * HOURS)
    return ids, matrix.reshape(ids.size, HOURS)


def _days_per_device(device_days: pl.DataFrame, devices: np.ndarray) -> np.ndarray:
    """Local days seen of each of the sorted ``devices`` (0 for one with none)."""
    seen, per_device = np.unique(device_days["device"].drop_nulls().to_numpy(), return_counts=True)
    out = np.zeros(devices.size)
    where = np.searchsorted(seen, devices)
    found = (where < seen.size) & (seen[np.minimum(where, seen.size - 1)] == devices)
    out[found] = per_device[where[found]]
    return out
