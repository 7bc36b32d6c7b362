"""Tidy per-cell, per-device and per-dataset views derived from a :class:`Summary`.

Detectors and presenters read these instead of re-deriving them. Counts are pings
unless a column name says devices.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os

import numpy as np
import polars as pl

from explorer._speed.codes import runs
from explorer.binning.cells import cell_centres
from explorer.reading.device_hash import device_hashes
from explorer.summary.build import Summary

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
    seen = [
        ((pl.col("hour_mask") & (1 << hour)) > 0).sum().cast(pl.Int64).alias(f"h{hour}")
        for hour in range(HOURS)
    ]
    counts = cell_devices.lazy().group_by("cell").agg(seen).collect()
    wide = cells.to_frame("cell").join(counts, on="cell", how="left", maintain_order="left")
    out = wide.select(f"h{hour}" for hour in range(HOURS)).fill_null(0).to_numpy()
    return pl.Series(out.astype(np.int64)).cast(pl.List(pl.Int64))


def device_types(summary: Summary) -> pl.DataFrame:
    """Each device's main type (the type of most of its pings)."""
    devices = summary.tables["devices"]
    return (
        devices.sort(["device", "pings", "device_type"], descending=[False, True, False])
        .group_by("device", maintain_order=True)
        .agg(pl.col("device_type").first(), pl.col("pings").sum())
    )


def cell_frame(
    summary: Summary, coded: tuple[pl.DataFrame, list[str]] | None = None
) -> pl.DataFrame:
    """One row per cell.

    Columns: cell, pings, devices, no_device_pings, first_seen, last_seen,
    hour_pings (24, local hours), hour_devices (24: devices seen at each local hour),
    weekday_pings (7, Monday first), type_pings and type_devices (structs by type),
    lat, lon (cell centre). ``coded`` is :func:`coded_cell_devices` of the summary's
    devices and main types, if already derived.
    """
    t = summary.tables
    cells = t["cells"].sort("cell")
    ids = cells["cell"]
    cd = t["cell_devices"]
    devices = cd.group_by("cell").agg(devices=pl.len().cast(pl.Int64))
    if coded is None:
        coded = coded_cell_devices(cd, _per_device(summary).select("device", "device_type"))
    type_devices = _type_devices(*coded)
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


def coded_cell_devices(
    cell_devices: pl.DataFrame, types: pl.DataFrame
) -> tuple[pl.DataFrame, list[str]]:
    """(cell, device, code) rows, ``code`` being the device's main type as an index into
    the returned names (``types``: device, device_type).

    Rows are joined to a small integer code, not to the type string: at 13 million
    (cell, device) rows the joined copy stays small; codes become names once counted
    (:func:`named_codes`). Every device of ``cell_devices`` has a type: both tables come
    from the same pings.
    """
    names = sorted(types["device_type"].unique().drop_nulls().to_list())
    codes = types.select(
        "device",
        code=pl.col("device_type")
        .replace_strict(names, list(range(len(names))), default=None)
        .cast(pl.UInt32),
    )
    return cell_devices.select("cell", "device").join(codes, on="device"), names


def named_codes(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """``frame`` with its ``code`` column replaced by the ``device_type`` it stands for."""
    lookup = pl.DataFrame(
        {"code": list(range(len(names))), "device_type": names},
        schema={"code": pl.UInt32, "device_type": pl.String},
    )
    columns = [("device_type" if c == "code" else c) for c in frame.columns]
    return frame.join(lookup, on="code", how="left").select(columns)


def _type_devices(coded: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """(cell, device_type, devices): distinct devices of each main type per cell, from
    :func:`coded_cell_devices`."""
    counted = coded.group_by("cell", "code").agg(devices=pl.len().cast(pl.Int64))
    return named_codes(counted, names)


def _type_struct(frame: pl.DataFrame, value: str, name: str) -> pl.DataFrame:
    """(cell, device_type, value) -> cell with a list of {device_type, value} structs."""
    return frame.group_by("cell").agg(
        pl.struct(pl.col("device_type"), pl.col(value).alias("n"))
        .sort_by(pl.col("device_type"))
        .alias(name)
    )


def _rows_per_device(devices: pl.Series, name: str) -> pl.DataFrame:
    """(device, ``name``): rows per distinct device, sorted by device.

    Sorting one column and measuring its runs is faster and leaner than hashing tens of
    millions of rows into millions of groups (a merged summary of 100 million pings has
    ~13 million cell × device rows).
    """
    ordered = np.sort(devices.to_numpy())
    starts, counts = runs(ordered)
    return pl.DataFrame(
        {
            "device": pl.Series(ordered[starts], dtype=pl.UInt64),
            name: pl.Series(counts, dtype=pl.Int64),
        }
    )


def _per_device(summary: Summary) -> pl.DataFrame:
    """The devices table with one row per device (its main type), sorted by device."""
    devices = summary.tables["devices"].sort("device")
    ids = devices["device"].to_numpy()
    if not (ids[1:] == ids[:-1]).any():
        return devices
    # Some device reported several types: sum over them, keep the main type.
    merged = devices.group_by("device").agg(
        pl.col("pings").sum(),
        pl.col("coarse_pings").sum(),
        pl.col("first_seen").min(),
        pl.col("last_seen").max(),
    )
    types = device_types(summary).select("device", "device_type")
    return merged.join(types, on="device", how="left").sort("device")


def device_frame(summary: Summary) -> pl.DataFrame:
    """One row per device: pings, cells, active days, pings per day, coarse pings, type, span."""
    t = summary.tables
    cells = _rows_per_device(t["cell_devices"]["device"], "cells")
    days = _rows_per_device(t["device_days"]["device"], "active_days")
    return (
        _per_device(summary)
        .select("device", "pings", "coarse_pings", "first_seen", "last_seen", "device_type")
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


#: Environment variable: a secret that keys the device labels instead of the data, so
#: that one device keeps its label across files (set it alike wherever labels must match).
LABEL_KEY_ENV = "EXPLORER_LABEL_KEY"
#: Prefix of the digest a label key is made from (a new one would change every label).
_KEY_DOMAIN = b"explorer device labels v1\n"


def label_key(summary: Summary) -> str:
    """The key of a summary's device labels: ``$EXPLORER_LABEL_KEY`` when set, else a
    digest of every device's hash and ping count.

    The digest is the same in every run and for every engine (the ``devices`` table
    merges exactly), whatever the file's container or compression, and on every machine
    with the same polars (whose seeded hashes name the devices; a test pins one). It
    needs the whole data set: a label cannot be checked against a guessed id without
    the file.
    """
    devices = summary.tables["devices"]
    if "device" not in devices.columns:
        return _key_of_totals(pl.DataFrame(schema={"device": pl.UInt64, "pings": pl.Int64}))
    return _key_of_totals(devices.group_by("device").agg(pl.col("pings").sum()))


def label_key_of_pings(pings: pl.DataFrame) -> str:
    """:func:`label_key` of the summary of ``pings`` (canonical pings, with ids or their
    ``device`` hashes), without summarising them: a filtered view keeps the labels of
    its whole data set."""
    hashed = (
        pings
        if "device" in pings.columns
        else pings.with_columns(device_hashes(pings["device_id"]))
    )
    totals = (
        hashed.lazy()
        .filter(pl.col("device").is_not_null())
        .group_by("device")
        .agg(pl.len().alias("pings"))
        .collect()
    )
    return _key_of_totals(totals)


def _key_of_totals(totals: pl.DataFrame) -> str:
    """The configured key, or the sha256 of (device hash, pings) sorted by device."""
    configured = os.environ.get(LABEL_KEY_ENV, "")
    if configured:
        return configured
    ordered = totals.sort("device")
    digest = hashlib.sha256(_KEY_DOMAIN)
    digest.update(ordered["device"].cast(pl.UInt64).to_numpy().astype("<u8").tobytes())
    digest.update(ordered["pings"].cast(pl.Int64).to_numpy().astype("<i8").tobytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=8)
def _keyed(key: str) -> hmac.HMAC:
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def device_label(device_hash: int, key: str) -> str:
    """Short label of a device for stories and charts: the first 32 bits of the
    HMAC-SHA256 of its 64-bit hash under ``key`` (see :func:`label_key`), never the id."""
    mac = _keyed(key).copy()
    mac.update(int(device_hash).to_bytes(8, "little"))
    return f"device-{mac.hexdigest()[:8]}"
