"""The per-device tables of a summary, counted on dense integer codes.

``cell_devices``, ``devices``, ``device_days`` and ``device_moments`` group every ping by a
high-cardinality key (device × cell, device × type, device × day), where hash
group-bys over millions of pings are slow. So each table is a counting pass over the
codes of :mod:`explorer._speed.codes` (``numpy.bincount`` when the key space is dense,
a sort of one 64-bit key otherwise). The tables are the same as the straightforward
polars group-bys (``tests/test_summary_devices.py`` checks that).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import polars as pl

from explorer._speed.blocks import blockwise
from explorer._speed.codes import (
    Coded,
    DeviceCodes,
    as_timestamps,
    counts_of,
    factorize,
    first_last,
    key_of,
    runs,
)
from explorer.binning.cells import cell_resolution, cells_to_parent

_HOURS = 24
#: The places of ``device_moments`` are H3 cells of resolution 5 (~250 km², ~9 km
#: across): fine enough to tell two towns apart, coarse enough that a device's hour
#: mostly holds one place, so the table stays near one row per device-hour.
MOMENT_PLACE_RESOLUTION = 5
#: A key space up to this many times the number of pings (plus a constant) is counted
#: with dense arrays; a sparser one is sorted instead (memory stays O(pings)).
_DENSE_FACTOR = 2
_DENSE_SLACK = 1_000_000


def _dense(space: int, rows: int) -> bool:
    return space <= _DENSE_FACTOR * rows + _DENSE_SLACK


def _count_keys(keys: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``keys`` (all in [0, space)) and how often each occurs; a sparse
    ``keys`` is sorted in place (callers pass keys they made and no longer need)."""
    if _dense(space, keys.size):
        return counts_of(keys, space)
    keys.sort()
    starts, lengths = runs(keys)
    return keys[starts], lengths


def cell_devices(frame: pl.DataFrame, cells: Coded, devices: DeviceCodes) -> pl.DataFrame:
    """Pings and the bitmask of local hours seen, per (cell, device)."""
    c, d = devices.of(cells.codes), devices.devices.codes
    hour = devices.of(frame["hour"].to_numpy())
    n_dev = len(devices.devices)
    # One sortable key per ping: (cell code, device code, hour). Sorted, its runs are
    # (cell, device, hour) counts, and runs of key // 24 are (cell, device) pairs.
    key = key_of(c, n_dev, d)
    key *= _HOURS
    key += hour
    key.sort()
    starts, counts = runs(key)
    pair = key[starts]
    del key, starts  # the largest arrays go before the next ones are made
    hours = np.empty(pair.size, dtype=np.uint8)
    # In place: each distinct key becomes its (cell, device) pair, its hour goes apart.
    np.divmod(pair, _HOURS, out=(pair, hours), casting="unsafe")
    bits = np.left_shift(np.uint32(1), hours, dtype=np.uint32)
    pair_starts, _ = runs(pair)
    pings = np.add.reduceat(counts, pair_starts) if counts.size else counts
    mask = np.bitwise_or.reduceat(bits, pair_starts) if bits.size else bits
    cell_code, dev_code = np.divmod(pair[pair_starts], n_dev)
    return pl.DataFrame(
        {
            "cell": pl.Series(cells.values[cell_code], dtype=pl.UInt64),
            "device": pl.Series(devices.devices.values[dev_code], dtype=pl.UInt64),
            "pings": pl.Series(pings, dtype=pl.Int64),
            "hour_mask": pl.Series(mask, dtype=pl.UInt32),
        }
    )


def devices_table(
    stamp: pl.Series, coarse: np.ndarray, types: Coded, devices: DeviceCodes
) -> pl.DataFrame:
    """``devices`` of pings given by their timestamps and coarse flags (see ``TABLES``):
    it needs no cell and no local clock."""
    stamps = devices.of(stamp.dt.epoch("us").to_numpy())
    return _devices(devices, types, devices.of(coarse), stamps, stamp.dtype)


def device_days_table(frame: pl.DataFrame, devices: DeviceCodes) -> pl.DataFrame:
    """``device_days`` of prepared pings (see ``TABLES``)."""
    return _device_days(
        devices,
        devices.of(frame["day"].to_physical().to_numpy()),
        devices.of(frame["hour"].to_numpy()),
    )


def _devices(
    devices: DeviceCodes,
    types: Coded,
    coarse: np.ndarray,
    stamps: np.ndarray,
    stamp_dtype: pl.DataType,
) -> pl.DataFrame:
    names = types.values
    group = key_of(devices.devices.codes, len(names), devices.of(types.codes))
    space = len(devices.devices) * len(names)
    if not _dense(space, group.size):
        coded = factorize(pl.Series(group))
        group, keys = coded.codes, coded.values
        space = len(keys)
    else:
        keys = np.arange(space)
    pings = np.bincount(group, minlength=space)
    coarse_pings = np.bincount(group[coarse], minlength=space)
    first, last = first_last(group, stamps, space)
    present = np.flatnonzero(pings)
    dev_code, type_code = np.divmod(keys[present], len(names))
    return pl.DataFrame(
        {
            "device": pl.Series(devices.devices.values[dev_code], dtype=pl.UInt64),
            "device_type": names.gather(type_code),
            "pings": pl.Series(pings[present], dtype=pl.Int64),
            "coarse_pings": pl.Series(coarse_pings[present], dtype=pl.Int64),
            "first_seen": as_timestamps(first[present], stamp_dtype),
            "last_seen": as_timestamps(last[present], stamp_dtype),
        }
    )


#: Local hours that count as night for home inference: 22:00 to 05:59, when most people
#: are at home (later than the evening commute, earlier than the morning one). A ping
#: after midnight belongs to the night that began the evening before.
NIGHT_START_HOUR, NIGHT_END_HOUR = 22, 6


def device_nights(frame: pl.DataFrame, cells: Coded, devices: DeviceCodes) -> pl.DataFrame:
    """Night pings per (device, cell, night): where each device spends its nights (see
    ``TABLES``); a night is dated by its evening."""
    hour = devices.of(frame["hour"].to_numpy())
    at_night = (hour >= NIGHT_START_HOUR) | (hour < NIGHT_END_HOUR)
    day = devices.of(frame["day"].to_physical().to_numpy())[at_night].astype(np.int64)
    night = day - (hour[at_night] < NIGHT_END_HOUR)
    c, d = devices.of(cells.codes)[at_night], devices.devices.codes[at_night]
    if not night.size:
        return pl.DataFrame(
            schema={"device": pl.UInt64, "cell": pl.UInt64, "night": pl.Date, "pings": pl.Int64}
        )
    first = int(night.min())
    n_nights = int(night.max()) - first + 1
    key = key_of(c, len(devices.devices), d)
    key *= n_nights
    key += night - first
    keys, counts = _count_keys(key, len(cells) * len(devices.devices) * n_nights)
    pair, offset = np.divmod(keys, n_nights)
    cell_code, dev_code = np.divmod(pair, len(devices.devices))
    return pl.DataFrame(
        {
            "device": pl.Series(devices.devices.values[dev_code], dtype=pl.UInt64),
            "cell": pl.Series(cells.values[cell_code], dtype=pl.UInt64),
            "night": pl.Series(offset + first, dtype=pl.Int32).cast(pl.Date),
            "pings": pl.Series(counts, dtype=pl.Int64),
        }
    )


_EMPTY_MOMENTS = pl.DataFrame(
    schema={
        "device": pl.UInt64,
        "hour": pl.Int32,
        "place": pl.UInt64,
        "pings": pl.Int64,
        "first_seen": pl.Int64,
        "last_seen": pl.Int64,
    }
)


def device_moments(frame: pl.DataFrame, cells: Coded, devices: DeviceCodes) -> pl.DataFrame:
    """``device_moments`` of prepared pings: per device, UTC hour and coarse place, the
    pings and the first and last second seen (see ``TABLES``)."""
    if not len(cells):
        return _EMPTY_MOMENTS
    resolution = min(MOMENT_PLACE_RESOLUTION, cell_resolution(int(cells.values[0])))
    places = factorize(cells_to_parent(pl.Series(cells.values, dtype=pl.UInt64), resolution))
    micros = devices.of(frame["timestamp"].dt.epoch("us").to_numpy())
    first_hour, n_hours = 0, 1
    if micros.size:
        first_hour = int(micros.min()) // _US_PER_HOUR
        n_hours = int(micros.max()) // _US_PER_HOUR - first_hour + 1
    space = len(devices.devices) * n_hours * len(places)
    key, within = _moment_keys(
        devices.devices.codes,
        micros,
        devices.of(cells.codes),
        places,
        first_hour,
        n_hours,
    )
    last_in_run = space * _SECONDS_PER_HOUR < _KEY_LIMIT
    if last_in_run:
        starts, pings = _moments_by_sort(key, within)
        first = last = within
    else:
        key, pings, first, last = _moments_by_group(key, within)
        starts = np.arange(key.size)
    # The table has nearly a row per ping: its columns are written a block of moments at
    # a time, with no moment-sized keys, codes or seconds in between.
    n = starts.size
    device, place = np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64)
    hour = np.empty(n, dtype=np.int32)
    first_seen, last_seen = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    step = partial(
        _moment_rows,
        sources=(key, first, last),
        last_in_run=last_in_run,
        shape=(len(places), n_hours, first_hour),
        values=(devices.devices.values, np.asarray(places.values)),
    )
    blockwise(step, [starts, pings], [device, hour, place, first_seen, last_seen])
    return pl.DataFrame(
        {
            "device": pl.Series(device, dtype=pl.UInt64),
            "hour": pl.Series(hour, dtype=pl.Int32),
            "place": pl.Series(place, dtype=pl.UInt64),
            "pings": pl.Series(pings, dtype=pl.Int64),
            "first_seen": pl.Series(first_seen, dtype=pl.Int64),
            "last_seen": pl.Series(last_seen, dtype=pl.Int64),
        }
    )


def _moment_rows(
    starts: np.ndarray,
    pings: np.ndarray,
    device: np.ndarray,
    hour: np.ndarray,
    place: np.ndarray,
    first_seen: np.ndarray,
    last_seen: np.ndarray,
    *,
    sources: tuple[np.ndarray, np.ndarray, np.ndarray],
    last_in_run: bool,
    shape: tuple[int, int, int],
    values: tuple[np.ndarray, np.ndarray],
) -> None:
    """One block of moments' rows: moment ``i``'s key, first and last second are
    ``key[starts[i]]``, ``first[starts[i]]`` and ``last`` at its run's last row (or at
    ``starts[i]`` when each moment is one row)."""
    key, first, last = sources
    n_places, n_hours, first_hour = shape
    device_values, place_values = values
    code = key[starts]
    code, place_code = np.divmod(code, n_places)
    code, moment_hour = np.divmod(code, n_hours)  # code: the device's now
    device[:] = device_values[code]
    place[:] = place_values[place_code]
    moment_hour += first_hour
    hour[:] = moment_hour
    moment_hour *= _SECONDS_PER_HOUR
    np.add(moment_hour, first[starts], out=first_seen)
    np.add(moment_hour, last[starts + pings - 1] if last_in_run else last[starts], out=last_seen)


_SECONDS_PER_HOUR = 3_600
_US_PER_SECOND = 1_000_000
_US_PER_HOUR = _SECONDS_PER_HOUR * _US_PER_SECOND
#: Keys stay below this so that a moment's key times the seconds of an hour fits int64.
_KEY_LIMIT = 2**62


def _moment_keys(
    device: np.ndarray,
    micros: np.ndarray,
    cell: np.ndarray,
    places: Coded,
    first_hour: int,
    n_hours: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Each ping's moment key (device, UTC hour, place) and its second within the hour (as
    16-bit values), from its epoch microseconds and cell code, a cache-sized block at a
    time: the pings' seconds and places are never made whole (``places.codes`` is each
    cell code's place code)."""
    key = np.empty(micros.size, dtype=np.int64)
    within = np.empty(micros.size, dtype=np.int16)
    step = partial(
        _moment_block,
        place_of_cell=places.codes,
        n_places=len(places),
        first_hour=first_hour,
        n_hours=n_hours,
    )
    blockwise(step, [device, micros, cell], [key, within], [np.int64])
    return key, within


def _moment_block(
    device: np.ndarray,
    micros: np.ndarray,
    cell: np.ndarray,
    key: np.ndarray,
    within: np.ndarray,
    seconds: np.ndarray,
    *,
    place_of_cell: np.ndarray,
    n_places: int,
    first_hour: int,
    n_hours: int,
) -> None:
    """One block of :func:`_moment_keys` (``seconds`` is scratch)."""
    np.floor_divide(micros, _US_PER_SECOND, out=seconds)
    hour = seconds // _SECONDS_PER_HOUR
    np.subtract(seconds, hour * _SECONDS_PER_HOUR, out=within, casting="unsafe")
    hour -= first_hour
    np.multiply(device, n_hours, out=key, dtype=np.int64)
    key += hour
    key *= n_places
    key += place_of_cell[cell]


def _moments_by_sort(key: np.ndarray, within: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each moment's pings are after one sort of key × 3600 + second, in place in
    ``key`` and ``within`` (split again into moment key and second): each moment is a run,
    its first ping first and its last ping last. Returns each run's start and length."""
    key *= _SECONDS_PER_HOUR
    key += within
    key.sort()
    np.divmod(key, _SECONDS_PER_HOUR, out=(key, within), casting="unsafe")
    return runs(key)


def _moments_by_group(
    key: np.ndarray, within: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct moment keys, pings, and first and last second within the hour, one row per
    moment, by a hash group-by: for key spaces too wide to carry the seconds."""
    grouped = (
        pl.DataFrame({"key": key, "second": within})
        .group_by("key")
        .agg(
            pings=pl.len().cast(pl.Int64),
            first_seen=pl.col("second").min(),
            last_seen=pl.col("second").max(),
        )
    )
    return tuple(
        grouped[name].to_numpy(writable=True)
        for name in ("key", "pings", "first_seen", "last_seen")
    )


def _device_days(devices: DeviceCodes, day: np.ndarray, hour: np.ndarray) -> pl.DataFrame:
    """Pings and the bitmask of local hours seen, per (device, local day): counted per
    (device, day, hour) key, whose runs of key // 24 are the (device, day) pairs."""
    d = devices.devices.codes
    first_day = int(day.min()) if day.size else 0
    n_days = (int(day.max()) - first_day + 1) if day.size else 1
    key = key_of(d, n_days, day)
    key -= first_day
    key *= _HOURS
    key += hour
    keys, counts = _count_keys(key, len(devices.devices) * n_days * _HOURS)
    del key
    hours = np.empty(keys.size, dtype=np.uint8)
    pair, _ = np.divmod(keys, _HOURS, out=(keys, hours), casting="unsafe")
    bits = np.left_shift(np.uint32(1), hours, dtype=np.uint32)
    pair_starts, _ = runs(pair)
    pings = np.add.reduceat(counts, pair_starts) if counts.size else counts
    mask = np.bitwise_or.reduceat(bits, pair_starts) if bits.size else bits
    dev_code, offset = np.divmod(pair[pair_starts], n_days)
    return pl.DataFrame(
        {
            "device": pl.Series(devices.devices.values[dev_code], dtype=pl.UInt64),
            "day": pl.Series(offset + first_day, dtype=pl.Int32).cast(pl.Date),
            "pings": pl.Series(pings, dtype=pl.Int64),
            "hour_mask": pl.Series(mask, dtype=pl.UInt32),
        }
    )
