"""ISO-8601 timestamp strings of one fixed layout read digit by digit in numpy.

Vendor exports write every timestamp alike (``2026-05-04T07:31:09Z``, with an offset,
or naive), so the layout is read once from the data and every row of that length is
checked byte by byte against it; rows that do not fit are left to the general parser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from explorer._speed.blocks import CACHE_BLOCK
from explorer._speed.schedule import map_on_threads

_DIGIT = ord("0")
_US_PER_S = 1_000_000
_MONTH_LENGTHS = np.array(
    [
        [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
        [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
    ],
    dtype=np.int64,
)
#: Days before each month (column) in common and leap years (rows).
_MONTH_STARTS = np.concatenate([[[0], [0]], np.cumsum(_MONTH_LENGTHS, axis=1)[:, :-1]], axis=1)


def _year_tables() -> tuple[np.ndarray, np.ndarray]:
    """For years 0-9999: whether each is a leap year, and the days from 1970-01-01 to its
    1 January (proleptic Gregorian), so a date's day number is three table look-ups."""
    years = np.arange(10_000, dtype=np.int64)
    leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
    days_in_year = 365 + leap
    starts = np.concatenate([[0], np.cumsum(days_in_year)[:-1]])
    return leap.astype(np.int64), starts - starts[1970]


_LEAP, _YEAR_STARTS = _year_tables()


@dataclass(frozen=True)
class Layout:
    """Where each field's digits sit in a string of ``length`` bytes, and its fixed bytes."""

    length: int
    literals: tuple[tuple[int, int], ...]  # (position, byte) that must match
    fraction: tuple[int, ...]  # positions of the fraction's digits, most significant first
    zone_sign: int | None  # position of the offset's sign; None for "Z" or no zone
    zone_digits: tuple[int, ...]  # hour and (optionally) minute digits of the offset
    aware: bool  # written with a zone ("Z" or an offset): the values are instants


def layout_of(example: str) -> Layout | None:
    """The layout of ``example`` (``YYYY-MM-DD[T ]HH:MM:SS[.f+][Z|±HH[:MM|MM]]``), or None.

    Only the ISO shapes vendors write are read here; any other shape returns None and the
    caller uses the general parser.
    """
    data = example.encode("ascii", errors="replace")
    head = "dddd-dd-ddXdd:dd:dd"
    if len(data) < len(head) or data[10:11] not in (b"T", b" "):
        return None
    literals = [(10, data[10])]
    for i, kind in enumerate(head):
        if kind == "d" and not chr(data[i]).isdigit():
            return None
        if kind not in "dX":
            if chr(data[i]) != kind:
                return None
            literals.append((i, data[i]))
    at = len(head)
    fraction: list[int] = []
    if data[at : at + 1] == b".":
        literals.append((at, data[at]))
        at += 1
        while at < len(data) and chr(data[at]).isdigit():
            fraction.append(at)
            at += 1
        if not fraction or len(fraction) > 9:
            return None
    zone = data[at:]
    if zone in (b"", b"Z"):
        literals.extend((at + i, byte) for i, byte in enumerate(zone))
        return Layout(len(data), tuple(literals), tuple(fraction), None, (), zone == b"Z")
    shapes = {3: "sdd", 5: "sdddd", 6: "sdd:dd"}
    shape = shapes.get(len(zone))
    if shape is None or zone[:1] not in (b"+", b"-"):
        return None
    digits = []
    for i, kind in enumerate(shape[1:], start=1):
        if kind == "d":
            if not chr(zone[i]).isdigit():
                return None
            digits.append(at + i)
        else:
            literals.append((at + i, zone[i]))
    return Layout(len(data), tuple(literals), tuple(fraction), at, tuple(digits), True)


def _number(block: np.ndarray, positions: range | tuple[int, ...]) -> np.ndarray:
    """The decimal number written by the digits at ``positions`` of each row."""
    value = np.zeros(len(block), dtype=np.int64)
    for position in positions:
        value *= 10
        value += block[:, position]
    return value


def _read_block(block: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds since the epoch (UTC when the layout has a zone) and which rows fit."""
    fits = np.ones(len(block), dtype=bool)
    for position, byte in layout.literals:
        fits &= block[:, position] == byte
    if layout.zone_sign is not None:
        sign = block[:, layout.zone_sign]
        fits &= (sign == ord("+")) | (sign == ord("-"))
    digits = block - _DIGIT  # uint8: bytes below "0" wrap above 9
    digit_positions = [*range(4), 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
    digit_positions += [*layout.fraction, *layout.zone_digits]
    fits &= (digits[:, digit_positions] <= 9).all(axis=1)
    year, month, day = _number(digits, range(4)), _number(digits, (5, 6)), _number(digits, (8, 9))
    hour, minute = _number(digits, (11, 12)), _number(digits, (14, 15))
    second = _number(digits, (17, 18))
    fits &= (month >= 1) & (month <= 12)
    month = np.where(fits, month, 1)  # rows that do not fit still index the tables safely
    leap = _LEAP[year]
    fits &= (day >= 1) & (day <= _MONTH_LENGTHS[leap, month]) & (hour < 24) & (minute < 60)
    fits &= second < 60  # a leap second (":60") is left to the general parser
    days = _YEAR_STARTS[year] + _MONTH_STARTS[leap, month] + day - 1
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second
    micros = seconds * _US_PER_S
    if layout.fraction:
        kept = layout.fraction[:6]  # polars truncates to microseconds: so do we
        micros += _number(digits, kept) * 10 ** (6 - len(kept))
    if layout.zone_sign is not None:
        zone_hours = _number(digits, layout.zone_digits[:2])
        zone_minutes = _number(digits, layout.zone_digits[2:]) if len(layout.zone_digits) > 2 else 0
        fits &= (zone_hours < 24) & (np.asarray(zone_minutes) < 60)
        offset = (zone_hours * 3600 + zone_minutes * 60) * _US_PER_S
        micros -= np.where(block[:, layout.zone_sign] == ord("-"), -offset, offset)
    return micros, fits


def _chunk_bytes(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start offsets, lengths (-1 for null) and the byte buffer of a large-string chunk."""
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    data = chunk.buffers()[2]
    buffer = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    if chunk.null_count:
        lengths = np.where(chunk.is_null().to_numpy(zero_copy_only=False), -1, lengths)
    return offsets[:-1], lengths, buffer


def _read_chunk(
    chunk: pa.Array, layout: Layout, micros: np.ndarray, fits: np.ndarray, threads: int
) -> None:
    """Fill ``micros`` and ``fits`` for one chunk, a cache-sized block of rows at a time,
    the blocks on ``threads`` threads (numpy releases the GIL)."""
    starts, lengths, buffer = _chunk_bytes(chunk)
    size = layout.length
    width = np.arange(size)

    def one(first: int) -> None:
        part = slice(first, first + CACHE_BLOCK)
        rows = np.flatnonzero(lengths[part] == size)
        if not len(rows):
            return
        begin, count = starts[part][0], len(rows)
        if count == len(starts[part]) and starts[part][-1] - begin == (count - 1) * size:
            # Every row has the layout's length and they lie back to back: a matrix view.
            block = buffer[begin : begin + count * size].reshape(count, size)
        else:
            block = buffer[starts[part][rows, None] + width]
        values, ok = _read_block(block, layout)
        micros[part][rows] = values
        fits[part][rows] = ok

    map_on_threads(one, list(range(0, len(starts), CACHE_BLOCK)), threads)


def read_fixed_layout(text: pl.Series, layout: Layout, threads: int = 2) -> pl.Series:
    """Instants of the rows of ``text`` that fit ``layout``; null where a row does not fit.

    Layouts with a zone give UTC instants, naive ones naive datetimes, as polars'
    ``str.to_datetime`` gives for the same strings.
    """
    micros = np.zeros(len(text), dtype=np.int64)
    fits = np.zeros(len(text), dtype=bool)
    array = text.to_arrow()
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    at = 0
    for chunk in chunks:
        end = at + len(chunk)
        _read_chunk(chunk.cast(pa.large_string()), layout, micros[at:end], fits[at:end], threads)
        at = end
    values = pl.Series(text.name, micros).cast(pl.Datetime("us", "UTC" if layout.aware else None))
    return pl.select(pl.when(pl.Series(fits)).then(values)).to_series().rename(text.name)
