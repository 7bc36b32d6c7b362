"""A field too long for the CSV parser rejects its line (``malformed_line``), not the
whole file: the rest reads, with every engine, and every row is counted."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from explorer.engines.choose import summarise_source
from explorer.reading.csv_text import MAX_LINE_BYTES
from explorer.reading.long_lines import long_lines, without_long_lines
from explorer.reading.pings import read_pings

HEADER = b"device_id,timestamp,lat,lon,os\n"
ROWS = [
    f"d{i % 5},{1_717_387_249_000 + i * 60_000},{40.7 + i * 1e-4:.6f},-73.9,ios\n".encode()
    for i in range(300)
]
#: A few MB: more than any block the parser uses on a file this small.
LONG_FIELD = b"x" * (3 * MAX_LINE_BYTES)


def long_line(end: bytes = b"\n") -> bytes:
    return b"dlong,1717387249000,40.7,-73.9," + LONG_FIELD + end


def test_lines_longer_than_the_limit_are_found() -> None:
    text = b"short\n" + b"a" * 25 + b"\r\n" + b"b" * 10 + b"\nmid\r" + b"c" * 40
    spans = long_lines(memoryview(text), 10)
    assert [bytes(text[a:b]) for a, b in spans] == [b"a" * 25, b"c" * 40]
    kept, cut = without_long_lines(pa.py_buffer(text), 10)
    assert cut == 2 and kept.to_pybytes() == b"short\n\r\n" + b"b" * 10 + b"\nmid\r"
    assert long_lines(memoryview(b"z" * 11), 10) == [(0, 11)]
    assert long_lines(memoryview(b"z" * 10 + b"\n"), 10) == []


@pytest.mark.parametrize(
    "position", ["first", "middle", "last without a line end", "two, one ending in CRLF"]
)
def test_an_over_long_line_is_one_malformed_line(tmp_path: Path, position: str) -> None:
    body = {
        "first": long_line() + b"".join(ROWS),
        "middle": b"".join(ROWS[:150]) + long_line() + b"".join(ROWS[150:]),
        "last without a line end": b"".join(ROWS) + long_line(b""),
        "two, one ending in CRLF": b"".join(ROWS[:100])
        + long_line(b"\r\n")
        + b"".join(ROWS[100:200])
        + long_line()
        + b"".join(ROWS[200:]),
    }[position]
    path = tmp_path / "pings.csv"
    path.write_bytes(HEADER + body)
    long = 2 if position.startswith("two") else 1
    result = read_pings(path)
    assert result.rows_used == len(ROWS)
    assert result.rows_read == len(ROWS) + long
    assert result.rejected_by_reason["malformed_line"] == long
    assert result.rows_rejected == long


@pytest.mark.parametrize("engine", ["memory", "chunked"])
def test_every_engine_counts_the_line(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "pings.csv.gz"
    path.write_bytes(
        gzip.compress(HEADER + b"".join(ROWS[:10]) + long_line() + b"".join(ROWS[10:]))
    )
    summary, _ = summarise_source(path, resolution=7, engine=engine, chunk_rows=100)
    assert summary.rows_read == len(ROWS) + 1
    assert summary.rows_used == len(ROWS)
    assert summary.rejected_by_reason["malformed_line"] == 1


def test_the_limit_is_the_same_for_every_file(tmp_path: Path) -> None:
    """A line of up to MAX_LINE_BYTES is read; one byte more is malformed, wherever it is."""
    prefix = b"dwide,1717387249000,40.7,-73.9,"
    wide = prefix + b"y" * (MAX_LINE_BYTES - len(prefix))
    path = tmp_path / "pings.csv"
    path.write_bytes(HEADER + b"".join(ROWS) + wide + b"\n" + wide + b"y\n")
    result = read_pings(path)
    assert result.rows_used == len(ROWS) + 1
    assert result.rejected_by_reason["malformed_line"] == result.rows_rejected == 1
