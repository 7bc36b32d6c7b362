"""Dense integer codes of the prepared pings' keys, shared by every counting pass.

Grouping ten million pings by hash is the slow way to count them. Cells, device types
and devices are instead turned into dense codes once (Arrow's dictionary encoding), and
every table is then a ``numpy.bincount`` or one sort of a 64-bit key
(:mod:`explorer.summary.cell_tables`, :mod:`explorer.summary.device_tables`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Coded:
    """Codes of one key per ping and the value of each code.

    The codes are int32, as Arrow's dictionary encoding makes them (``-1`` never
    occurs): a 64-bit copy of each code column would double its memory for nothing. A
    key made of codes times a key space can pass 2**31, so keys are made in int64
    (:func:`key_of`).
    """

    codes: np.ndarray
    values: np.ndarray | pl.Series

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class DeviceCodes:
    """Device codes of the pings that have a device (``with_device``: which; None = all)."""

    devices: Coded
    with_device: np.ndarray | None

    def of(self, per_ping: np.ndarray) -> np.ndarray:
        """``per_ping`` (one value per ping) cut to the pings that have a device."""
        return per_ping if self.with_device is None else per_ping[self.with_device]


#: Values are encoded run by run when runs of equal neighbours are at most this share of
#: them (exports sorted by device, or a device's pings in one cell one after another).
RUN_SHARE = 0.5


def factorize(values: pl.Series) -> Coded:
    """Dense codes in order of first appearance, and the distinct values (no nulls).

    Arrow's dictionary encoding makes them, which beats pandas' factorize on 64-bit
    device hashes. Where equal values come in runs (many exports are sorted by device),
    only each run's first value is encoded and its code repeated: the same codes, for
    one hash lookup per run instead of per ping.
    """
    keys = values.to_numpy()
    if keys.size > 1 and np.count_nonzero(keys[1:] != keys[:-1]) < RUN_SHARE * keys.size:
        starts, lengths = runs(keys)
        heads = _encode(keys[starts])
        return Coded(np.repeat(heads.codes, lengths), heads.values)
    return _encode(keys)


def _encode(keys: np.ndarray) -> Coded:
    encoded = pc.dictionary_encode(pl.Series(keys).to_arrow())  # pa.array imports pandas
    return Coded(_as_numpy(encoded.indices), _as_numpy(encoded.dictionary))


def _as_numpy(array: pa.Array) -> np.ndarray:
    """An Arrow array of numbers as numpy (through polars: no copy without nulls).

    Arrow's own ``to_numpy`` imports pandas, which is slow to import and which the
    command line otherwise never needs.
    """
    return pl.Series(array).to_numpy()


def type_codes(types: pl.Series) -> Coded:
    """Dense codes of the device types (in order of first appearance), and the type
    (string) of each code.

    Read pings carry their types as a Categorical: its physical codes are renumbered
    densely through a small lookup table, which is cheaper than hashing the strings.
    Strings (pings built in code) have their 64-bit hashes factorised instead (codes are
    local, so any seed serves; two of a few hundred strings share a hash with a chance
    of ~1e-15). Each code is named by its first row.
    """
    if types.dtype == pl.Categorical and not types.null_count() and types.len():
        physical = types.to_physical()
        first = physical.arg_unique().to_numpy()
        ids = physical.to_numpy()
        lookup = np.zeros(int(ids[first].max()) + 1, dtype=np.int32)
        lookup[ids[first]] = np.arange(first.size)
        return Coded(lookup[ids], types.gather(first).cast(pl.String))
    codes = factorize(types.hash(0)).codes
    first = pl.Series(codes).arg_unique().to_numpy()  # the first row of each code
    return Coded(codes, types.gather(first[np.argsort(codes[first])]))


def device_codes(frame: pl.DataFrame) -> DeviceCodes:
    """Codes of the device hashes; pings without a device id are left out."""
    device = frame["device"]
    if device.null_count():
        with_device = device.is_not_null().to_numpy()
        return DeviceCodes(factorize(device.filter(device.is_not_null())), with_device)
    return DeviceCodes(factorize(device), None)


def runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of each run of equal neighbours (in a sorted array, of each
    distinct value)."""
    if sorted_keys.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.empty(sorted_keys.size, dtype=bool)
    change[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    lengths = np.empty_like(starts)  # differences of the starts, written in place
    np.subtract(starts[1:], starts[:-1], out=lengths[:-1])
    lengths[-1] = sorted_keys.size - starts[-1]
    return starts, lengths


def key_of(outer: np.ndarray, space: int, inner: np.ndarray) -> np.ndarray:
    """``outer * space + inner`` as one new int64 array, whatever the inputs' widths
    (32-bit codes times a key space can pass 2**31); callers may go on in place."""
    key = np.multiply(outer, space, dtype=np.int64)
    key += inner
    return key


def counts_of(keys: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``keys`` (all in [0, space), dense) and how often each occurs."""
    counts = np.bincount(keys, minlength=space)
    present = np.flatnonzero(counts)
    return present, counts[present]


def first_last(codes: np.ndarray, values: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest of ``values`` (int64) per code in [0, space)."""
    first = np.full(space, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(space, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, codes, values)
    np.maximum.at(last, codes, values)
    return first, last


def as_timestamps(micros: np.ndarray, dtype: pl.DataType) -> pl.Series:
    """Epoch microseconds as datetimes of ``dtype`` (the pings' timestamp type)."""
    return pl.Series(micros, dtype=pl.Int64).cast(pl.Datetime("us")).cast(dtype)
