"""Vectorised parsing of coordinates, timestamps and ids, with missing vs unparsable masks."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from explorer._speed.timestamps import Layout, layout_of, read_fixed_layout
from explorer.geography.timezones import localize_naive, localize_naive_at
from explorer.reading.detection import (
    EPOCH_UNIT_WORDS,
    EPOCH_UNITS,
    TimestampFormat,
    detect_epoch_unit,
    detect_timestamp_format,
    looks_numeric,
)

#: Written-out values that mean "no value" rather than "a value we cannot read".
#: Includes pyarrow's own null spellings, so typed and string reads classify alike.
NULL_TOKENS = (
    *("", "na", "n/a", "nan", "null", "none", "nil", "-", "?", "#n/a", "#n/a n/a", "#na"),
    *("-nan", "-1.#ind", "-1.#qnan", "1.#ind", "1.#qnan"),
)
#: Values looked at to choose a timestamp format or an epoch unit.
SAMPLE_SIZE = 2_000
#: Latest instant accepted from an epoch number (9999-12-31T23:59:59Z), in microseconds.
MAX_EPOCH_US = 253_402_300_799_000_000
#: A median above this (in any unit) means a lone `time` column holds epoch instants.
EPOCH_FLOOR = 1e8


@dataclass(frozen=True)
class Parsed:
    """Parsed values (null where not usable) and why: missing or unparsable (Boolean masks)."""

    values: pl.Series
    missing: pl.Series
    unparsable: pl.Series


@dataclass(frozen=True)
class Timing:
    """How timestamps were read: a sentence for outputs, and whether they were naive."""

    interpretation: str
    naive: bool


def _where(mask: pl.Series, values: pl.Series) -> pl.Series:
    """``values`` where ``mask`` is true, null elsewhere."""
    if bool(mask.all()):  # the common, clean case: no copy
        return values
    return pl.select(pl.when(mask).then(values)).to_series().rename(values.name)


def _missing_among(raw: pl.Series, failed: pl.Series) -> pl.Series:
    """Which failed values are missing (null, blank, or a null word); checked only where failed."""
    missing = pl.select(pl.repeat(False, len(raw), dtype=pl.Boolean)).to_series().rename(raw.name)
    if not bool(failed.any()):
        return missing
    index = failed.arg_true()
    subset = raw.gather(index)
    if subset.dtype == pl.String:
        blank = subset.str.strip_chars().str.to_lowercase().is_in(NULL_TOKENS)
    else:
        blank = subset.cast(pl.Float64, strict=False).is_nan()
    return missing.scatter(index, subset.is_null() | blank.fill_null(True))


def parse_number(raw: pl.Series, decimal_comma: bool = False) -> Parsed:
    """Float64 values of a coordinate column, with masks of missing and unparsable rows."""
    if len(raw) == 0:
        empty = pl.Series(raw.name, [], dtype=pl.Boolean)
        return Parsed(pl.Series(raw.name, [], dtype=pl.Float64), empty, empty)
    if raw.dtype.is_numeric():
        values = raw.cast(pl.Float64, strict=False)
    else:
        text = raw.cast(pl.String)
        if decimal_comma:
            text = text.str.replace_all(",", ".", literal=True)
        values = text.cast(pl.Float64, strict=False)
        retry = ~values.is_finite().fill_null(False)
        if bool(retry.any()):  # padded values are rare: strip only the ones that failed
            index = retry.arg_true()
            values = values.scatter(
                index, text.gather(index).str.strip_chars().cast(pl.Float64, strict=False)
            )
        raw = text
    usable = values.is_finite().fill_null(False)
    missing = _missing_among(raw, ~usable)
    return Parsed(_where(usable, values), missing, ~usable & ~missing)


def _epoch(numbers: pl.Series) -> tuple[pl.Series, str]:
    """UTC instants from epoch numbers, unit chosen by magnitude; out-of-range -> null."""
    sample = _finite(numbers.gather_every(max(1, len(numbers) // 100_000)))
    unit = detect_epoch_unit(sample if len(sample) else _finite(numbers))
    scale = next(us for name, us, _ in EPOCH_UNITS if name == unit)
    n = pl.col("n")
    if numbers.dtype.is_integer():
        # Integer arithmetic in one pass; nanoseconds always fit (|int64| / 1000 < limit).
        n = n.cast(pl.Int64, strict=False)
        limit = MAX_EPOCH_US // int(scale) if scale >= 1 else None
        micros = n * int(scale) if scale >= 1 else n // 1000
        ok = n.is_not_null() if limit is None else (n >= -limit) & (n <= limit)
    else:
        scaled = n.cast(pl.Float64, strict=False) * scale
        ok = scaled.is_finite().fill_null(False) & (scaled.abs() <= MAX_EPOCH_US)
        micros = scaled.round(0).cast(pl.Int64, strict=False)
    parts = numbers.to_frame("n").select(micros.alias("us"), ok.alias("ok"))
    if not parts["ok"].all():  # out of range somewhere: null there (else no second pass)
        parts = parts.select(pl.when("ok").then("us").alias("us"))
    instants = parts["us"].cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return instants.rename(numbers.name), unit


def _finite(values: pl.Series) -> pl.Series:
    floats = values.cast(pl.Float64, strict=False)
    return floats.filter(floats.is_finite().fill_null(False))


def _sample(text: pl.Series) -> pl.Series:
    step = max(1, len(text) // SAMPLE_SIZE)
    return text.gather_every(step).head(SAMPLE_SIZE).drop_nulls().str.strip_chars()


def _strings_to_instants(text: pl.Series, tz: str | None) -> tuple[pl.Series, Timing]:
    """Instants (aware, UTC) or naive datetimes from strings; unreadable values -> null."""
    sample = _sample(text)
    fmt = detect_timestamp_format(sample)
    numeric = looks_numeric(sample)
    if numeric and numeric >= _format_hits(sample, fmt):
        ints = text.cast(pl.Int64, strict=False)
        if ints.null_count() > text.null_count():
            numbers = text.str.strip_chars().cast(pl.Float64, strict=False)
        else:
            numbers = ints
        instants, unit = _epoch(numbers)
        return instants, Timing(f"epoch {EPOCH_UNIT_WORDS[unit]}, UTC", naive=False)
    if fmt is None:
        empty = pl.repeat(None, len(text), dtype=pl.Datetime("us", "UTC"), eager=True)
        return empty, Timing("no readable timestamps", naive=False)
    parsed = _parse_format(text, fmt, sample)
    retry = parsed.is_null() & text.is_not_null()
    if bool(retry.any()):
        index = retry.arg_true()
        again = (
            text.gather(index)
            .str.strip_chars()
            .str.to_datetime(fmt.format, strict=False, time_unit="us")
        )
        parsed = parsed.scatter(index, again)
    return parsed, _string_timing(fmt, tz)


def _parse_format(text: pl.Series, fmt: TimestampFormat, sample: pl.Series) -> pl.Series:
    """``text`` read with ``fmt``: rows of the sample's commonest ISO layout digit by digit,
    the others (and every row when there is no such layout) by polars' parser."""
    layout = _common_layout(sample, fmt)
    if layout is None:
        return text.str.to_datetime(fmt.format, strict=False, time_unit="us")
    parsed = read_fixed_layout(text, layout)
    rest = parsed.is_null() & text.is_not_null()
    if bool(rest.any()):
        index = rest.arg_true()
        general = text.gather(index).str.to_datetime(fmt.format, strict=False, time_unit="us")
        parsed = parsed.scatter(index, general)
    return parsed


def _common_layout(sample: pl.Series, fmt: TimestampFormat) -> Layout | None:
    """The fixed layout of the sample's commonest length among values ``fmt`` reads."""
    readable = sample.filter(
        sample.str.to_datetime(fmt.format, strict=False, time_unit="us").is_not_null()
    )
    if readable.is_empty():
        return None
    lengths = readable.str.len_bytes()
    example = readable.filter(lengths == lengths.mode().sort()[0])[0]
    layout = layout_of(example)
    if layout is None or layout.aware != fmt.aware:
        return None
    return layout


def _format_hits(sample: pl.Series, fmt: TimestampFormat | None) -> int:
    if fmt is None:
        return 0
    parsed = sample.str.to_datetime(fmt.format, strict=False, time_unit="us")
    return len(parsed) - parsed.null_count()


def _string_timing(fmt: TimestampFormat, tz: str | None) -> Timing:
    if fmt.aware:
        return Timing("ISO 8601 instants with zone", naive=False)
    text = _naive_sentence(tz)
    if fmt.ambiguous_day_month:
        text += "; day and month order ambiguous (no value above 12), read day first"
    return Timing(text, naive=True)


def _naive_sentence(tz: str | None) -> str:
    if tz is None:
        return "naive local time at each ping's place (zone looked up from coordinates)"
    return f"naive local time in {tz} (as given)"


def _typed_instants(column: pl.Series, tz: str | None) -> tuple[pl.Series, Timing]:
    """Instants from typed (Parquet) columns: datetimes, dates, or epoch numbers."""
    dtype = column.dtype
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        instants = column.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        return instants, Timing("timestamps with zone, converted to UTC", naive=False)
    if isinstance(dtype, pl.Datetime | pl.Date):
        return column.cast(pl.Datetime("us")), Timing(_naive_sentence(tz), naive=True)
    instants, unit = _epoch(column)
    return instants, Timing(f"epoch {EPOCH_UNIT_WORDS[unit]}, UTC", naive=False)


def _timestamp_column(frame: pl.DataFrame, mapping: dict[str, str]) -> pl.Series:
    """The timestamp column, or date and time joined by a space; a full ``time`` wins alone."""
    if "date" not in frame.columns:
        return frame["timestamp"]
    time = frame["time"].cast(pl.String)
    sample = _sample(time)
    numbers = sample.cast(pl.Float64, strict=False).drop_nulls().abs()
    full = detect_timestamp_format(sample)
    if (full is not None and _format_hits(sample, full) * 2 > len(sample)) or (
        len(numbers) * 2 > len(sample) and float(numbers.median() or 0) > EPOCH_FLOOR
    ):
        mapping["timestamp"] = mapping.pop("time")
        mapping.pop("date")
        return frame["time"]
    # A blank half makes the pair missing (concat_str gives null when either side is null).
    halves = [
        pl.when(c.str.len_chars() > 0).then(c)
        for c in (pl.col("date").str.strip_chars(), pl.col("time").str.strip_chars())
    ]
    pair = pl.DataFrame({"date": frame["date"].cast(pl.String), "time": time})
    return pair.select(pl.concat_str(halves, separator=" ")).to_series().rename("timestamp")


def parse_timestamps(
    frame: pl.DataFrame, mapping: dict[str, str], tz: str | None
) -> tuple[Parsed, Timing]:
    """Timestamps as aware UTC instants or naive datetimes, with missing/unparsable masks.

    ``mapping`` is updated when a lone ``time`` column turns out to hold full timestamps.
    """
    column = _timestamp_column(frame, mapping)
    if column.dtype == pl.String:
        values, timing = _strings_to_instants(column, tz)
    else:
        values, timing = _typed_instants(column, tz)
    failed = values.is_null()
    if column.dtype == pl.String and "date" in mapping:
        # A pair is missing when either half is: concat_str already made it null.
        failed = failed | column.is_null()
    missing = _missing_among(column, failed)
    return Parsed(values, missing, failed & ~missing), timing


def to_utc(
    values: pl.Series, timing: Timing, lat: pl.Series, lon: pl.Series, tz: str | None
) -> pl.Series:
    """UTC instants: naive values read in ``tz`` or at each ping's own zone."""
    if not timing.naive or len(values) == 0:
        return values.cast(pl.Datetime("us", "UTC"))
    if tz is None:
        return localize_naive_at(values, lat, lon).cast(pl.Datetime("us", "UTC"))
    return localize_naive(values, tz).cast(pl.Datetime("us", "UTC"))


def clean_device_id(ids: pl.Series) -> pl.Series:
    """Device ids as strings; empty ids become null (the row stays)."""
    text = ids.cast(pl.String)
    return _where(text != "", text).rename("device_id")  # a bit per row, no lengths
