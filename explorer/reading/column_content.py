"""What a column's sampled values look like: numbers and their decimals, instants, dates,
clock times, identifiers, operating-system names.

Works on a small sample (the CSV head the layout sniffer read, or a Parquet file's first
rows), one :class:`Profile` per column. Each ``*_reading`` function returns a short
sentence saying what the values are when at least ``share`` of them fit, None otherwise;
:mod:`explorer.reading.column_guess` decides with them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from explorer.reading.detection import (
    EPOCH_UNIT_WORDS,
    EPOCH_UNITS,
    detect_epoch_unit,
    detect_timestamp_format,
    normalise_device_type,
)
from explorer.reading.parse import NULL_TOKENS

#: Share of sampled values that must fit a role for content alone to choose a column: a
#: few blanks or typos are allowed, a mixed column is not.
CONTENT_SHARE = 0.95
#: Share that a column found by a broad name needs: most values must fit (the rest
#: become rejected rows, counted by reason), but a name is not enough on its own.
NAME_SHARE = 0.5
#: Pings come from the smartphone era: an epoch number that reads as an instant before
#: 2000 or from 2100 on, in the unit its magnitude gives, is not a ping's time.
EPOCH_YEARS = (2000, 2100)
#: Every epoch of those years is below this in any unit (nanoseconds reach 4.1e18).
_EPOCH_CEILING = 1e19
#: A device id shaped like an identifier: a UUID (IDFA, GAID), a hex or base64 hash of
#: one, or a token of letters and digits; at least this many characters.
MIN_ID_CHARS = 8
#: At most this many distinct device types in the sample (OS names are a small set).
MAX_DEVICE_TYPES = 20
#: Words that name a mobile (or desktop) operating system, beyond iOS and Android.
OS_WORDS = re.compile(
    r"windows|harmony|kaios|blackberry|tizen|fire ?os|webos|sailfish|symbian|chrome ?os|"
    r"mac ?os|ipad|iphone|huawei|linux|ubuntu|other|unknown"
)

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")
_DECIMALS = re.compile(r"[.,](\d+)")
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?[AaPp]\.?[Mm]\.?)?$")
#: One token of letters, digits and the signs of UUIDs and base64: IDFAs and GAIDs, hex
#: or base64 hashes of them, vendors' own ids.
_ID_SHAPE = re.compile(rf"^[A-Za-z0-9+/=_\-]{{{MIN_ID_CHARS},}}$")
_NULLS = frozenset(NULL_TOKENS)


@dataclass(frozen=True)
class Profile:
    """One column's sampled values: the text of those present, and numbers where they parse.

    ``numbers`` is aligned with the sample's rows (NaN where a value is absent or not a
    number), so two columns' numbers pair row by row.
    """

    name: str
    raw: pl.Series

    @cached_property
    def text(self) -> pl.Series:
        """The values present, as stripped strings."""
        text = self.raw.cast(pl.String, strict=False).str.strip_chars()
        return text.filter(text.is_not_null() & ~text.str.to_lowercase().is_in(_NULLS))

    @cached_property
    def numbers(self) -> np.ndarray:
        if self.raw.dtype.is_numeric():
            return self.raw.cast(pl.Float64).fill_null(np.nan).to_numpy()
        text = self.raw.cast(pl.String, strict=False).str.strip_chars()
        fits = text.str.contains(_NUMBER.pattern).fill_null(False)
        value = text.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
        numbers = value.fill_null(np.nan).to_numpy().copy()
        numbers[~fits.to_numpy()] = np.nan
        return numbers

    @cached_property
    def finite(self) -> np.ndarray:
        return self.numbers[np.isfinite(self.numbers)]

    @property
    def present(self) -> int:
        return len(self.text)

    def share(self, count: int) -> float:
        """``count`` as a share of the values present (0 when none is)."""
        return count / self.present if self.present else 0.0

    @cached_property
    def decimals(self) -> float:
        """Median number of decimal places of the values that are numbers."""
        if self.raw.dtype.is_integer():
            return 0.0
        if self.raw.dtype.is_float():
            text = pl.Series(self.finite).cast(pl.String)
        else:
            text = self.text.filter(self.text.str.contains(_NUMBER.pattern))
        if text.is_empty():
            return 0.0
        places = text.str.extract(_DECIMALS.pattern, 1).str.len_chars().fill_null(0)
        return float(places.median() or 0.0)


def profiles(sample: Mapping[str, pl.Series]) -> dict[str, Profile]:
    """A profile per sampled column."""
    # Series renamed: polars reads a name like "^…$" as a pattern in its own methods.
    return {name: Profile(name, values.rename("values")) for name, values in sample.items()}


def number_share(p: Profile, limit: float) -> float:
    """Share of the values that are numbers within ±``limit``."""
    return p.share(int((np.abs(p.finite) <= limit).sum()))


def instant_reading(p: Profile, share: float) -> str | None:
    """The values as instants: a date-time type, epoch numbers, or dates with times."""
    if isinstance(p.raw.dtype, pl.Datetime):
        return "a column of date-times"
    if p.present and p.share(len(p.finite)) >= share:
        return _epoch_reading(p, share)
    fmt = detect_timestamp_format(p.text) if p.present else None
    if fmt is None or not any(part in fmt.format for part in ("%H", "%I")):
        return None
    hits = _parsed(p.text, fmt.format)
    if p.share(hits) < share:
        return None
    return f"{hits} of {p.present} sampled values read as dates with times ({fmt.format})"


def _epoch_reading(p: Profile, share: float) -> str | None:
    numbers = p.finite[np.abs(p.finite) < _EPOCH_CEILING]
    if not numbers.size:
        return None
    unit = detect_epoch_unit(numbers)
    micros = next(size for name, size, _ in EPOCH_UNITS if name == unit)
    seconds = numbers * micros / 1e6
    low, high = (dt.datetime(y, 1, 1, tzinfo=dt.UTC).timestamp() for y in EPOCH_YEARS)
    inside = seconds[(seconds >= low) & (seconds < high)]
    if p.share(len(inside)) < share:
        return None
    first, last = (
        dt.datetime.fromtimestamp(s, dt.UTC).date() for s in (inside.min(), inside.max())
    )
    return f"epoch {EPOCH_UNIT_WORDS[unit]} from {first} to {last}"


def _parsed(text: pl.Series, fmt: str) -> int:
    parsed = text.str.to_datetime(fmt, strict=False, time_unit="us")
    return len(parsed) - parsed.null_count()


def date_reading(p: Profile, share: float) -> str | None:
    """The values as calendar dates without times."""
    if p.raw.dtype == pl.Date:
        return "a column of dates"
    fmt = detect_timestamp_format(p.text) if p.present else None
    if fmt is None or "%H" in fmt.format or "%I" in fmt.format or p.finite.size:
        return None
    hits = _parsed(p.text, fmt.format)
    return f"dates ({fmt.format})" if p.share(hits) >= share else None


def clock_reading(p: Profile, share: float) -> str | None:
    """The values as times of day (08:15, 08:15:30, 8:15 PM)."""
    if p.raw.dtype == pl.Time:
        return "a column of times of day"
    hits = int(p.text.str.contains(_CLOCK.pattern).sum()) if p.present else 0
    return "times of day (hh:mm[:ss])" if hits and p.share(hits) >= share else None


def id_reading(p: Profile, share: float) -> str | None:
    """The values as device identifiers that repeat: UUIDs, hashes or letter-digit tokens.

    Numbers are not taken (counts, ratings and row numbers look the same), and neither
    is a column whose every sampled value differs (a row or event id, not a device's).
    """
    if not p.present or p.share(len(p.finite)) > 1 - share:
        return None
    text = p.text  # with a letter and a digit: dates, counts and words are not ids
    shaped = (
        text.str.contains(_ID_SHAPE.pattern)
        & text.str.contains(r"[A-Za-z]")
        & text.str.contains(r"\d")
    )
    if p.share(int(shaped.sum())) < share:
        return None
    counts = p.text.value_counts(sort=True)
    distinct, top = counts.height, int(counts["count"][0])
    if distinct < 2 or top < 2:
        return None
    return (
        f"{distinct} distinct identifier-shaped values in {p.present} sampled rows, "
        f"repeating (the commonest {top} times)"
    )


def device_type_reading(p: Profile, share: float) -> str | None:
    """The values as a few operating-system names (iOS, Android …)."""
    if not p.present or p.share(len(p.finite)) > 1 - share:
        return None
    distinct = p.text.unique()
    if len(distinct) > MAX_DEVICE_TYPES:
        return None
    normal = normalise_device_type(p.text.cast(pl.String))
    named = normal.is_in(["ios", "android"]) | normal.str.contains(OS_WORDS.pattern)
    if p.share(int(named.sum())) < share:
        return None
    shown = ", ".join(sorted(normal.unique().to_list())[:5])
    return f"{len(distinct)} distinct values naming operating systems ({shown})"
