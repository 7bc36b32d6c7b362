"""Offline time-zone lookup per coarse cell, and local clocks for UTC instants.

The zone of a ping comes from its coordinates (tzfpy, offline), looked up once per
coarse grid square rather than per ping. Offsets are resolved once per
(zone, quarter-hour) pair and joined back, so daylight saving is exact for every zone
whose transitions fall on quarter hours (all of today's zones).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import tzfpy

from explorer._speed.blocks import blockwise
from explorer._speed.codes import Coded, factorize
from explorer.binning.cells import cell_centres, cells_to_parent

#: Grid step, in degrees, of the squares whose centre is looked up. 0.1° is ~11 km:
#: coarse enough that a city needs a few hundred look-ups, fine enough that only
#: pings within a few km of a zone border can take the neighbour's zone.
ZONE_GRID_DEG = 0.1
_QUARTER_HOUR_S = 900


def zone_names(lat: pl.Series, lon: pl.Series) -> pl.Series:
    """IANA zone name for every ping, looked up once per coarse grid square ("UTC" where a
    coordinate is missing)."""
    zones, zone = _square_zones(lat.to_numpy(), lon.to_numpy())
    return pl.Series("zone", zones, dtype=pl.String).gather(zone)


def _square_zones(lat: np.ndarray, lon: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Zone names and each point's zone index, looked up once per coarse grid square of
    ``ZONE_GRID_DEG`` (at its centre), the squares told apart by dense codes."""
    rows, cols = round(180 / ZONE_GRID_DEG) + 2, round(360 / ZONE_GRID_DEG) + 2
    finite = np.isfinite(lat) & np.isfinite(lon)
    gy = np.floor(np.where(finite, lat, 0.0) / ZONE_GRID_DEG).astype(np.int64) + rows // 2
    gx = np.floor(np.where(finite, lon, 0.0) / ZONE_GRID_DEG).astype(np.int64) + cols // 2
    square = gy * cols + gx
    square[~finite] = -1  # no place, no zone: read as UTC, as zone_names leaves it
    coded = factorize(pl.Series(square))
    square_gy, square_gx = np.divmod(np.asarray(coded.values), cols)
    centre_lat = np.clip((square_gy - rows // 2 + 0.5) * ZONE_GRID_DEG, -89.99, 89.99)
    centre_lon = ((square_gx - cols // 2 + 0.5) * ZONE_GRID_DEG + 180.0) % 360.0 - 180.0
    names = [
        (tzfpy.get_tz(float(x), float(y)) or "UTC") if key >= 0 else "UTC"
        for x, y, key in zip(centre_lon, centre_lat, np.asarray(coded.values))
    ]
    zones = sorted(set(names))
    index = {zone: i for i, zone in enumerate(zones)}
    zone_of_square = np.array([index[name] for name in names], dtype=np.int64)
    return zones, zone_of_square[coded.codes]


def localize_naive_at(naive: pl.Series, lat: pl.Series, lon: pl.Series) -> pl.Series:
    """:func:`localize_naive` with each row's zone taken from its coordinates, as
    :func:`zone_names` finds it: zones as codes and offsets from a dense (zone,
    quarter-hour) table, so no per-row zone names are made or joined."""
    naive = naive.cast(pl.Datetime("us"))
    valid = naive.is_not_null().to_numpy()
    if len(naive) == 0 or not valid.any():
        return naive.dt.replace_time_zone("UTC")
    zones, zone = _square_zones(lat.to_numpy(), lon.to_numpy())
    us = naive.dt.epoch("us").fill_null(0).to_numpy()
    quarter_us = _QUARTER_HOUR_S * 1_000_000
    q = us // quarter_us
    q_min, q_max = int(q[valid].min()), int(q[valid].max())
    span = q_max - q_min + 1
    if span * len(zones) > _MAX_LUT:
        return localize_naive(naive, pl.Series(zones, dtype=pl.String).gather(zone))
    table = _offset_table(zones, q_min, span, from_local=True)
    row = np.where(valid, zone * span + (q - q_min), 0)
    utc = us - table.ravel()[row].astype(np.int64) * 1_000_000
    out = pl.Series(naive.name, utc).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return out if valid.all() else pl.select(pl.when(pl.Series(valid)).then(out)).to_series()


def _offsets(keys: pl.DataFrame, *, from_local: bool) -> pl.DataFrame:
    """UTC offset in seconds for each unique (zone, quarter-hour) key.

    ``from_local`` means the quarter hour is a wall-clock time in that zone; a wall
    time in a daylight-saving gap moves forward by the gap, one in an overlap takes
    the earlier instant (the same rule as Python's ``zoneinfo`` with ``fold=0``).
    """
    parts = []
    for (zone,), group in keys.group_by(["zone"]):
        stamp = (group["q"].cast(pl.Int64) * (_QUARTER_HOUR_S * 1_000_000)).cast(pl.Datetime("us"))
        if from_local:
            aware = stamp.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
            shifted = (stamp + pl.duration(hours=1)).dt.replace_time_zone(
                zone, ambiguous="earliest", non_existent="null"
            )
            utc = aware.fill_null(shifted).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            offset = (stamp - utc).dt.total_seconds()
        else:
            local = stamp.dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
            offset = (local.dt.replace_time_zone(None) - stamp).dt.total_seconds()
        parts.append(group.with_columns(offset_s=offset.cast(pl.Int32)))
    if not parts:
        return keys.with_columns(offset_s=pl.lit(0, pl.Int32))
    return pl.concat(parts)


def _offset_table(zones: list[str], q_min: int, span: int, *, from_local: bool) -> np.ndarray:
    """UTC offsets in seconds (zones × ``span`` quarter hours from ``q_min``): the dense
    table the per-ping offsets are read from (see :func:`_offsets` for ``from_local``)."""
    quarters = pl.DataFrame({"q": pl.int_range(q_min, q_min + span, eager=True)})
    table = np.zeros((len(zones), span), dtype=np.int32)
    for i, name in enumerate(zones):
        offsets = _offsets(quarters.with_columns(zone=pl.lit(name)), from_local=from_local)
        table[i] = offsets["offset_s"].to_numpy()
    return table


def _offset_per_ping(naive_us: pl.Series, zone: pl.Series, *, from_local: bool) -> pl.Series:
    frame = pl.DataFrame({"zone": zone, "us": naive_us}).with_columns(
        q=(pl.col("us") // (_QUARTER_HOUR_S * 1_000_000)).cast(pl.Int64)
    )
    keys = frame.select("zone", "q").unique().drop_nulls()
    table = _offsets(keys, from_local=from_local)
    joined = frame.join(table, on=["zone", "q"], how="left", maintain_order="left")
    return joined["offset_s"].fill_null(0)


def localize_naive(naive: pl.Series, zone: pl.Series | str) -> pl.Series:
    """Read naive wall-clock datetimes as local times in ``zone`` and return UTC instants.

    ``zone`` is one IANA name for all rows, or one name per row.
    """
    naive = naive.cast(pl.Datetime("us"))
    if isinstance(zone, str):
        zone = pl.Series("zone", [zone], dtype=pl.String).extend_constant(zone, len(naive) - 1)
    naive_us = naive.dt.epoch("us")
    offset = _offset_per_ping(naive_us, zone, from_local=True)
    utc_us = naive_us - offset.cast(pl.Int64) * 1_000_000
    return utc_us.cast(pl.Datetime("us")).dt.replace_time_zone("UTC").rename(naive.name)


def local_offsets(timestamp: pl.Series, zone: pl.Series) -> pl.Series:
    """UTC offset in seconds (Int32) of each UTC instant in its row's zone."""
    utc_us = timestamp.dt.replace_time_zone(None).cast(pl.Datetime("us")).dt.epoch("us")
    return _offset_per_ping(utc_us, zone, from_local=False)


#: Largest (zones × quarter hours) table of offsets built as a dense lookup; beyond it
#: (many zones over many years) offsets are joined instead.
_MAX_LUT = 4_000_000


def _zone_of_cells(cells: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Zone names and the zone index of each of the distinct ``cells``, one lookup per
    coarse parent cell."""
    unique = pl.Series("cell", cells, dtype=pl.UInt64)
    coarse_res = 5 if len(unique) == 0 else min(5, _resolution_of(unique[0]))
    parents = cells_to_parent(unique, coarse_res) if len(unique) else unique
    coded = factorize(parents)
    lat, lon = cell_centres(pl.Series(coded.values, dtype=pl.UInt64))
    names = [tzfpy.get_tz(float(x), float(y)) or "UTC" for x, y in zip(lon, lat)]
    zones = sorted(set(names))
    index = {z: i for i, z in enumerate(zones)}
    zone_of_parent = np.array([index[n] for n in names], dtype=np.int64)
    return zones, zone_of_parent[coded.codes]


def _resolution_of(cell: int) -> int:
    return (int(cell) >> 52) & 0xF


def local_offsets_by_cell(
    timestamp: pl.Series, cells: pl.Series, coded: Coded | None = None
) -> pl.Series:
    """UTC offset in seconds (Int32) of each instant at its H3 cell's zone.

    The fast path of :func:`local_offsets` for binned pings: zones come from coarse
    parents of the cells, and offsets from a dense (zone, quarter-hour) lookup table.
    ``coded``: ``factorize(cells)`` when the caller has it already.
    """
    if len(timestamp) == 0:
        return pl.Series("offset_s", [], dtype=pl.Int32)
    coded = factorize(cells) if coded is None else coded
    zones, zone_of_cell = _zone_of_cells(coded.values)
    us = timestamp.dt.epoch("us").to_numpy()
    quarter_us = _QUARTER_HOUR_S * 1_000_000
    q_min, q_max = int(us.min()) // quarter_us, int(us.max()) // quarter_us  # floor: monotonic
    span = q_max - q_min + 1
    if span * len(zones) > _MAX_LUT:
        names = pl.Series(zones, dtype=pl.String).gather(zone_of_cell[coded.codes])
        return local_offsets(timestamp, names)
    flat = _offset_table(zones, q_min, span, from_local=False).ravel()
    offsets = np.empty(us.size, dtype=np.int32)

    def step(us: np.ndarray, codes: np.ndarray, out: np.ndarray, row: np.ndarray) -> None:
        # The row of the flat table: zone * span + quarter hour - q_min.
        np.floor_divide(us, quarter_us, out=row)
        row -= q_min
        if len(zones) > 1:
            row += zone_of_cell[codes] * span
        flat.take(row, out=out)

    blockwise(step, [us, coded.codes], [offsets], scratch=[np.int64])
    return pl.Series("offset_s", offsets, dtype=pl.Int32)
