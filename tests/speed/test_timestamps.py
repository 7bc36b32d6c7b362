"""The fixed-layout timestamp reader gives exactly what polars' general parser gives."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from explorer._speed.timestamps import layout_of, read_fixed_layout
from explorer.reading.parse import parse_timestamps

AWARE = "%Y-%m-%dT%H:%M:%S%.f%#z"
NAIVE_T = "%Y-%m-%dT%H:%M:%S%.f"
NAIVE_SPACE = "%Y-%m-%d %H:%M:%S%.f"


def _random_stamps(rng: np.random.Generator, n: int, zone: str, fraction: int, sep: str) -> list:
    """``n`` strings of one layout with random, partly impossible, field values."""
    years = rng.choice([1, 999, 1900, 1969, 1970, 2000, 2023, 2024, 2100, 9999], n)
    months = rng.integers(0, 14, n)  # 0 and 13 are impossible
    days = rng.integers(0, 32, n)  # 0, Feb 30, Apr 31 ... are impossible
    hours, minutes, seconds = rng.integers(0, 25, n), rng.integers(0, 61, n), rng.integers(0, 61, n)
    out = []
    for i in range(n):
        text = (
            f"{years[i]:04d}-{months[i]:02d}-{days[i]:02d}{sep}"
            f"{hours[i]:02d}:{minutes[i]:02d}:{seconds[i]:02d}"
        )
        if fraction:
            text += "." + "".join(str(d) for d in rng.integers(0, 10, fraction))
        sign = "+" if rng.random() < 0.5 else "-"
        offset_h, offset_m = rng.integers(0, 15), rng.choice([0, 30, 45])
        text += {
            "": "",
            "Z": "Z",
            "+HH:MM": f"{sign}{offset_h:02d}:{offset_m:02d}",
            "+HHMM": f"{sign}{offset_h:02d}{offset_m:02d}",
            "+HH": f"{sign}{offset_h:02d}",
        }[zone]
        out.append(text)
    return out


@pytest.mark.parametrize(
    ("zone", "fraction", "sep"),
    [
        ("Z", 0, "T"),
        ("Z", 3, "T"),
        ("Z", 9, " "),
        ("+HH:MM", 0, "T"),
        ("+HHMM", 6, "T"),
        ("+HH", 1, " "),
        ("", 0, "T"),
        ("", 0, " "),
        ("", 7, " "),
    ],
)
def test_every_value_matches_polars(zone: str, fraction: int, sep: str) -> None:
    rng = np.random.default_rng(len(zone) * 100 + fraction * 10 + (sep == "T"))
    text = pl.Series("ts", _random_stamps(rng, 4_000, zone, fraction, sep))
    layout = layout_of(text[0])
    assert layout is not None and layout.aware == bool(zone)
    ours = read_fixed_layout(text, layout)
    fmt = AWARE if zone else (NAIVE_T if sep == "T" else NAIVE_SPACE)
    theirs = text.str.to_datetime(fmt, strict=False, time_unit="us")
    read = ours.is_not_null()
    # Every value read matches polars; every row polars reads is read, but leap seconds.
    assert (ours.filter(read) == theirs.filter(read)).all()
    leap_second = text.str.slice(17, 2) == "60"
    assert not (theirs.is_not_null() & ~read & ~leap_second).any()
    assert int(read.sum()) > 500  # the random fields leave plenty of valid dates


def test_rows_of_another_shape_are_left_out() -> None:
    text = pl.Series(
        "ts",
        [
            "2024-06-03T12:00:00Z",
            None,
            "2024-06-03T12:00:00+00:00",  # another length
            "2024-06-03X12:00:00Z",  # a literal out of place
            "2024-06-0é12:00:00Z",  # a two-byte character in a digit's place
            "2024-06-03T12:0a:00Z",
            "2024-02-29T00:00:00Z",  # a leap day
            "2023-02-29T00:00:00Z",  # not a leap day
            "",
        ],
    )
    ours = read_fixed_layout(text, layout_of("2024-06-03T12:00:00Z"))
    assert ours.is_not_null().to_list() == [
        True,
        False,
        False,
        False,
        False,
        False,
        True,
        False,
        False,
    ]
    assert ours[6].isoformat() == "2024-02-29T00:00:00+00:00"


@pytest.mark.parametrize(
    "example", ["2024-06-03", "03/06/2024 12:00:00", "2024-06-03T12:00Z", "2024-06-03T12:00:00 UTC"]
)
def test_other_shapes_have_no_layout(example: str) -> None:
    assert layout_of(example) is None


def test_sliced_and_chunked_columns_are_read_in_place() -> None:
    stamps = [f"2024-06-{d:02d}T{h:02d}:15:00Z" for d in range(1, 29) for h in range(24)]
    text = pl.concat([pl.Series("ts", stamps[:300]), pl.Series("ts", stamps[300:])], rechunk=False)
    expected = text.str.to_datetime(AWARE, time_unit="us")
    assert (read_fixed_layout(text, layout_of(stamps[0])) == expected).all()
    sliced = text.slice(250, 200)
    assert (read_fixed_layout(sliced, layout_of(stamps[0])) == expected.slice(250, 200)).all()


@pytest.mark.parametrize("minority", ["2024-06-03T12:00:00.5+02:00", " 2024-06-03T12:00:00Z "])
def test_the_column_parse_falls_back_for_rows_of_another_layout(minority: str) -> None:
    rng = np.random.default_rng(4)
    stamps = _random_stamps(rng, 3_000, "Z", 0, "T")
    stamps[::7] = [minority] * len(stamps[::7])
    frame = pl.DataFrame({"timestamp": stamps})
    parsed, timing = parse_timestamps(frame, {"timestamp": "timestamp"}, None)
    text = frame["timestamp"].str.strip_chars()
    expected = text.str.to_datetime(AWARE, strict=False, time_unit="us")
    assert not timing.naive
    assert parsed.values.equals(expected.rename(parsed.values.name), check_names=False)
    assert int(parsed.unparsable.sum()) == expected.null_count()


@pytest.mark.parametrize("threads", [1, 2])
def test_small_blocks_on_threads_give_the_same_values(monkeypatch, threads):
    from explorer._speed import timestamps

    monkeypatch.setattr(timestamps, "CACHE_BLOCK", 97)
    rng = np.random.default_rng(9)
    stamps = _random_stamps(rng, 3_000, "+HH:MM", 3, "T")
    stamps[::11] = [None] * len(stamps[::11])
    text = pl.Series("ts", stamps)
    ours = read_fixed_layout(text, layout_of(stamps[1]), threads=threads)
    theirs = text.str.to_datetime(AWARE, strict=False, time_unit="us")
    leap_second = (text.str.slice(17, 2) == "60").fill_null(False)  # left to polars' parser
    assert ours.filter(~leap_second).equals(theirs.filter(~leap_second), check_names=False)
    assert ours.null_count() > len(stamps[::11])
