"""The three per-device tables of a summary, counted on dense integer codes.

``cell_devices``, ``devices`` and ``device_days`` group every ping by a
high-cardinality key (device × cell, device × type, device × day). Hash group-bys over
ten million pings cost 1.3-1.7 s each on two cores; here the device hashes are
factorised once into dense codes (Arrow's dictionary encoding) and each table is a counting pass
(``numpy.bincount`` when the key space is dense, a sort of one 64-bit key otherwise),
about three times faster for the three together. The tables are the same as the
straightforward polars group-bys (``tests/test_summary_devices.py`` checks that).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

_HOURS = 24
#: A key space up to this many times the number of pings (plus a constant) is counted
#: with dense arrays; a sparser one is sorted instead (memory stays O(pings)).
_DENSE_FACTOR = 2
_DENSE_SLACK = 1_000_000


def _dense(space: int, rows: int) -> bool:
    return space <= _DENSE_FACTOR * rows + _DENSE_SLACK


def runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of each run of equal values in a sorted array."""
    if sorted_keys.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.empty(sorted_keys.size, dtype=bool)
    change[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    return starts, np.diff(np.append(starts, sorted_keys.size))


def _count_keys(keys: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``keys`` (all in [0, space)) and how often each occurs."""
    if _dense(space, keys.size):
        counts = np.bincount(keys, minlength=space)
        present = np.flatnonzero(counts)
        return present, counts[present]
    ordered = np.sort(keys)
    starts, lengths = runs(ordered)
    return ordered[starts], lengths


def _timestamps(values: np.ndarray, dtype: pl.DataType) -> pl.Series:
    return pl.Series(values, dtype=pl.Int64).cast(pl.Datetime("us")).cast(dtype)


def _cell_devices(c: np.ndarray, d: np.ndarray, hour: np.ndarray, cells, devices) -> pl.DataFrame:
    n_dev = len(devices)
    # One sortable key per ping: (cell code, device code, hour). Sorted, its runs are
    # (cell, device, hour) counts, and runs of key // 24 are (cell, device) pairs.
    key = (c * n_dev + d) * _HOURS + hour
    key.sort()
    starts, counts = runs(key)
    distinct = key[starts]
    pair, hours = np.divmod(distinct, _HOURS)
    pair_starts, _ = runs(pair)
    pings = np.add.reduceat(counts, pair_starts) if counts.size else counts
    bits = np.left_shift(np.uint32(1), hours.astype(np.uint32))
    mask = np.bitwise_or.reduceat(bits, pair_starts) if bits.size else bits
    cell_code, dev_code = np.divmod(pair[pair_starts], n_dev)
    return pl.DataFrame(
        {
            "cell": pl.Series(cells[cell_code], dtype=pl.UInt64),
            "device": pl.Series(devices[dev_code], dtype=pl.UInt64),
            "pings": pl.Series(pings, dtype=pl.Int64),
            "hour_mask": pl.Series(mask, dtype=pl.UInt32),
        }
    )


def _type_codes(types: pl.Series) -> tuple[np.ndarray, pl.Series]:
    """Dense codes of the device types and the type of each code.

    Types are few; their 64-bit hashes are factorised (codes are local, so any seed
    serves; two of a few hundred strings share a hash with a chance of ~1e-15) and each
    code is named by the distinct type with that hash.
    """
    t, hashes = factorize(types.hash(0))
    distinct = types.unique()
    name_of = dict(zip(distinct.hash(0).to_list(), distinct.to_list(), strict=True))
    return t, pl.Series(types.name, [name_of[h] for h in hashes.tolist()], dtype=types.dtype)


def _devices(
    d: np.ndarray,
    types: pl.Series,
    coarse: np.ndarray,
    stamps: np.ndarray,
    devices: np.ndarray,
    stamp_dtype: pl.DataType,
) -> pl.DataFrame:
    t, names = _type_codes(types)
    group = d * len(names) + t
    space = len(devices) * len(names)
    if not _dense(space, group.size):
        group, keys = pd.factorize(group)
        space = len(keys)
    else:
        keys = np.arange(space)
    pings = np.bincount(group, minlength=space)
    coarse_pings = np.bincount(group[coarse], minlength=space)
    first = np.full(space, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(space, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, group, stamps)
    np.maximum.at(last, group, stamps)
    present = np.flatnonzero(pings)
    dev_code, type_code = np.divmod(keys[present], len(names))
    return pl.DataFrame(
        {
            "device": pl.Series(devices[dev_code], dtype=pl.UInt64),
            "device_type": names.gather(type_code),
            "pings": pl.Series(pings[present], dtype=pl.Int64),
            "coarse_pings": pl.Series(coarse_pings[present], dtype=pl.Int64),
            "first_seen": _timestamps(first[present], stamp_dtype),
            "last_seen": _timestamps(last[present], stamp_dtype),
        }
    )


def _device_days(d: np.ndarray, day: np.ndarray, devices: np.ndarray) -> pl.DataFrame:
    first_day = int(day.min()) if day.size else 0
    n_days = (int(day.max()) - first_day + 1) if day.size else 1
    keys, counts = _count_keys(d * n_days + (day - first_day), len(devices) * n_days)
    dev_code, offset = np.divmod(keys, n_days)
    return pl.DataFrame(
        {
            "device": pl.Series(devices[dev_code], dtype=pl.UInt64),
            "day": pl.Series(offset + first_day, dtype=pl.Int32).cast(pl.Date),
            "pings": pl.Series(counts, dtype=pl.Int64),
        }
    )


def device_tables(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """``cell_devices``, ``devices`` and ``device_days`` of prepared pings (see ``TABLES``).

    Pings without a device id are left out, as in every per-device table.
    """
    if frame["device"].null_count():
        frame = frame.filter(pl.col("device").is_not_null())
    d, devices = factorize(frame["device"])
    stamp = frame["timestamp"]
    # Two counting jobs at once: numpy and Arrow release the GIL in these loops.
    with ThreadPoolExecutor(1) as pool:
        per_device = pool.submit(
            lambda: {
                "devices": _devices(
                    d,
                    frame["device_type"],
                    frame["coarse"].to_numpy(),
                    stamp.dt.epoch("us").to_numpy(),
                    devices,
                    stamp.dtype,
                ),
                "device_days": _device_days(
                    d, frame["day"].to_physical().to_numpy().astype(np.int64), devices
                ),
            }
        )
        c, cells = factorize(frame["cell"])
        hour = frame["hour"].to_numpy().astype(np.int64)
        return {"cell_devices": _cell_devices(c, d, hour, cells, devices), **per_device.result()}


def factorize(values: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes (int64, in order of first appearance) and the distinct values.

    Arrow's dictionary encoding of 64-bit integers is ~1.6x faster than pandas'
    factorize on ten million device hashes (measured); no nulls may be present.
    """
    encoded = pc.dictionary_encode(values.to_arrow())
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary.to_numpy(zero_copy_only=False)
