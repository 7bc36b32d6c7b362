"""Property test: any bytes give a consistent ReadResult or one PingFileError, nothing else."""

from __future__ import annotations

import gzip

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.errors import PingFileError
from explorer.reading.pings import REJECT_REASONS, ReadResult, read_pings

HEADERS = [
    ["device_id", "timestamp", "lat", "lon", "os"],
    ["lat", "lng", "ts"],
    ["y", "x", "time", "platform"],
    ["a", "b", "c"],
]
CLEAN = st.sampled_from(
    [
        "1", "-1", "48.85", "2.35", "12.5", "-3.25", "0", "1700000000", "1700000000000",
        "2024-01-01T00:00:00Z", "2024-01-01 10:00", "31/12/2024 23:59", "iOS", "Android",
    ]
)  # fmt: skip
HOSTILE = st.sampled_from(
    ["", "91", "-181", "1e3", "nan", "NA", "x", "1,5", '"', '"q,1"', "é", "  "]
)
VALUES = st.one_of(CLEAN, CLEAN, CLEAN, HOSTILE)


@st.composite
def csv_like(draw: st.DrawFn) -> bytes:
    """A header and rows of plausible, broken and hostile fields, sometimes mutated."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = draw(st.sampled_from(HEADERS))
    width = len(header)
    row = st.one_of(
        st.lists(VALUES, min_size=width, max_size=width),  # mostly well-formed lines
        st.lists(VALUES, min_size=width, max_size=width),
        st.lists(VALUES, min_size=width, max_size=width),
        st.lists(VALUES, max_size=6),
    )
    rows = draw(st.lists(row, max_size=12))
    text = "\n".join(delimiter.join(r) for r in [header, *rows])
    data = text.encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])), errors="replace")
    if draw(st.integers(0, 3)) == 0:
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:position] + draw(st.binary(max_size=8)) + data[position + 1 :]
    if draw(st.integers(0, 9)) == 0:
        data = gzip.compress(data)
    return data


def _check(data: bytes) -> None:
    try:
        result = read_pings(data)
    except PingFileError as error:
        assert str(error)
        return
    assert isinstance(result, ReadResult)
    assert list(result.rejected_by_reason) == list(REJECT_REASONS)
    assert all(count >= 0 for count in result.rejected_by_reason.values())
    assert result.rows_used + result.rows_rejected == result.rows_read
    assert result.rows_used > 0
    assert result.pings.columns == ["device_id", "timestamp", "lat", "lon", "device_type"]
    assert result.pings["device_type"].null_count() == 0
    assert bool((result.pings["lat"].abs() <= 90).all())
    assert bool((result.pings["lon"].abs() <= 180).all())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_like())
def test_mutated_csv_gives_result_or_ping_file_error(data: bytes) -> None:
    _check(data)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_give_result_or_ping_file_error(data: bytes) -> None:
    _check(data)
