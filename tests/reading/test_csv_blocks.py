"""The CSV parser's block size changes how fast a file parses, never what it parses to."""

from __future__ import annotations

import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from explorer.reading import csv_text as csvio
from explorer.reading import mapped_columns as src
from explorer.reading.pings import read_pings
from tests.ping_shapes import malformed_csv


def test_block_size_is_capped_for_large_inputs_and_split_for_small_ones() -> None:
    cores = pa.cpu_count()
    assert csvio.block_bytes(750 << 20) == csvio.BLOCK_BYTES
    medium = 20 << 20  # split so that every core parses at least BLOCKS_PER_CORE blocks
    assert medium // csvio.block_bytes(medium) >= csvio.BLOCKS_PER_CORE * cores
    assert csvio.block_bytes(10_000) == 1 << 20  # pyarrow's own default, the floor


@pytest.mark.parametrize("bad_late_value", [False, True])
def test_small_and_default_blocks_parse_to_the_same_table(
    monkeypatch: pytest.MonkeyPatch, bad_late_value: bool
) -> None:
    data = malformed_csv(40_000, seed=3)
    if bad_late_value:  # the typed parse fails late and is redone with strings
        late = data.index(b",40.5", len(data) // 2)
        data = data[:late] + b",4O.5" + data[late + 5 :]
    default = csvio.parse_input(data, None, "pings.csv")
    monkeypatch.setattr(csvio, "_MIN_BLOCK_BYTES", 1 << 12)
    monkeypatch.setattr(csvio, "BLOCK_BYTES", 1 << 12)
    small = csvio.parse_input(data, None, "pings.csv")
    assert isinstance(default, csvio.ParsedCsv) and isinstance(small, csvio.ParsedCsv)
    assert small.table.num_rows == default.table.num_rows == 40_000 - 80
    assert small.malformed == default.malformed == 80
    assert small.table.column("lat").type == (pa.string() if bad_late_value else pa.float64())
    assert small.table.combine_chunks().equals(default.table.combine_chunks())
    assert len(small.table.column("lat").chunks) > len(default.table.column("lat").chunks)


def test_many_blocks_give_contiguous_numbers_and_the_same_pings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Numbers reach numpy in one chunk each; text stays in the parser's chunks (polars
    takes it as string views, without copying): the pings equal a one-block read."""
    data = malformed_csv(40_000, seed=5)
    one_block = read_pings(data)
    monkeypatch.setattr(csvio, "_MIN_BLOCK_BYTES", 1 << 12)
    monkeypatch.setattr(csvio, "BLOCK_BYTES", 1 << 12)
    frame = src.read_table(data, None, "pings.csv").frame
    assert {name: frame[name].n_chunks() for name in ("timestamp", "lat", "lon")} == {
        "timestamp": 1,
        "lat": 1,
        "lon": 1,
    }
    assert frame["device_id"].n_chunks() > 1
    many_blocks = read_pings(data)
    assert_frame_equal(many_blocks.pings, one_block.pings, categorical_as_str=True)
    assert many_blocks.rejected_by_reason == one_block.rejected_by_reason
