"""Detection of device types, epoch units and timestamp formats (column names are
:mod:`explorer.reading.column_names`).

Everything here works on small samples or whole columns at once; the reading itself
lives in :mod:`explorer.reading.pings`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

_IOS_PATTERN = r"(?:^|[^a-z])(?:ios|iphone|ipados)"


def normalise_device_type(values: pl.Expr | pl.Series) -> pl.Expr | pl.Series:
    """Normalise device types: iOS/iPhone/iPadOS -> ios, Android -> android, else lower-cased.

    Missing or empty values become ``unknown``. A Series is normalised once per distinct
    value and mapped back, which is much faster on millions of rows with few types.
    """
    if isinstance(values, pl.Series):
        return _normalise_series(values)
    clean = values.cast(pl.String).str.strip_chars().str.to_lowercase()
    return (
        pl.when(clean.is_null() | (clean == ""))
        .then(pl.lit("unknown"))
        .when(clean.str.contains(_IOS_PATTERN))
        .then(pl.lit("ios"))
        .when(clean.str.contains("android", literal=True))
        .then(pl.lit("android"))
        .otherwise(clean)
    )


def _normalise_series(values: pl.Series) -> pl.Series:
    """Normalise once per distinct value and map back (few distinct values, many rows).

    Only values that change are replaced, so a file whose types are already canonical
    (the usual case) costs one pass to find its distinct values.
    """
    text = values.cast(pl.String)
    distinct = text.unique().drop_nulls()
    mapped = pl.select(normalise_device_type(pl.lit(distinct, dtype=pl.String))).to_series()
    changed = distinct != mapped
    if bool(changed.any()):
        text = text.replace(distinct.filter(changed), mapped.filter(changed))
    if text.null_count():
        text = text.fill_null("unknown")
    return text.rename(values.name)


#: Epoch units, their size in microseconds, and the median magnitude below which they apply.
#: Boundaries sit where a unit would put today's dates thousands of years away.
EPOCH_UNITS: tuple[tuple[str, float, float], ...] = (
    ("s", 1e6, 1e11),
    ("ms", 1e3, 1e14),
    ("us", 1.0, 1e17),
    ("ns", 1e-3, float("inf")),
)
EPOCH_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def detect_epoch_unit(values: pl.Series | np.ndarray) -> str:
    """Epoch unit ('s', 'ms', 'us' or 'ns') from the median absolute value of finite numbers."""
    array = np.asarray(values.to_numpy() if isinstance(values, pl.Series) else values, dtype=float)
    array = np.abs(array[np.isfinite(array)])
    median = float(np.median(array)) if array.size else 0.0
    return next(unit for unit, _, upper in EPOCH_UNITS if median < upper)


@dataclass(frozen=True)
class TimestampFormat:
    """A strptime-style format (polars/chrono syntax) found for a timestamp column."""

    format: str
    aware: bool
    #: Day/month order could not be told apart from the sample (no value above 12).
    ambiguous_day_month: bool = False


_TIME_PARTS = ("%H:%M:%S%.f", "%H:%M", "%I:%M:%S %p", "%I:%M %p")
_DATE_PARTS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y")

#: Candidate formats, aware ones first; ties go to the earlier one (so day-first wins).
AWARE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M%#z",
)
NAIVE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    *(f"{d} {t}" for d in _DATE_PARTS for t in _TIME_PARTS),
    "%Y%m%dT%H%M%S",
    *_DATE_PARTS,
)
_MONTH_FIRST = {"%m/%d/%Y": "%d/%m/%Y", "%m-%d-%Y": "%d-%m-%Y"}


def _parse_count(sample: pl.Series, fmt: str) -> int:
    try:
        parsed = sample.str.to_datetime(fmt, strict=False, time_unit="us")
    except pl.exceptions.PolarsError:
        return 0
    return len(parsed) - parsed.null_count()


def detect_timestamp_format(sample: pl.Series) -> TimestampFormat | None:
    """The candidate format that parses most of a sample of strings, or None if none parses any."""
    sample = sample.drop_nulls().str.strip_chars()
    sample = sample.filter(sample != "")
    if sample.is_empty():
        return None
    counts = {fmt: _parse_count(sample, fmt) for fmt in (*AWARE_FORMATS, *NAIVE_FORMATS)}
    best = max(counts, key=lambda f: counts[f])  # max keeps the first of equal counts
    if counts[best] == 0:
        return None
    ambiguous = any(
        best.startswith(first) and counts[best.replace(first, second, 1)] == counts[best]
        for second, first in _MONTH_FIRST.items()
    )
    return TimestampFormat(best, aware=best in AWARE_FORMATS, ambiguous_day_month=ambiguous)


def looks_numeric(sample: pl.Series) -> int:
    """How many values of a string sample parse as numbers."""
    parsed = sample.str.strip_chars().cast(pl.Float64, strict=False)
    return int(parsed.is_finite().fill_null(False).sum())
