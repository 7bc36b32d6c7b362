"""Device types are read as a Categorical: normalised once per distinct value, and their
codes are the summary's type codes (no strings per ping)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from explorer._speed.codes import type_codes
from explorer.cleaning import write_rows
from explorer.reading.chunks import iter_chunks
from explorer.reading.pings import read_pings
from explorer.reading.sources import expand_source
from explorer.summary import row_hash

RAW_TYPES = ["iPhone 12", "Android", " Web ", None, "iOS", "android 14", "WEB"]
WANTED = ["ios", "android", "web", "unknown", "ios", "android", "web"]


def _parquet(path: Path, types: list, *, row_group_size: int = 3) -> Path:
    n = len(types)
    frame = pl.DataFrame(
        {
            "device_id": [f"d{i % 3}" for i in range(n)],
            "ts": [1_700_000_000_000 + 60_000 * i for i in range(n)],
            "lat": [40.7 + 0.001 * i for i in range(n)],
            "lon": [-74.0] * n,
            "os": types,
        }
    )
    frame.write_parquet(path, row_group_size=row_group_size)  # types in several row groups
    return path


def test_parquet_types_are_normalised_as_a_categorical(tmp_path: Path) -> None:
    pings = read_pings(_parquet(tmp_path / "p.parquet", RAW_TYPES)).pings
    assert pings["device_type"].dtype == pl.Categorical
    assert pings["device_type"].to_list() == WANTED


def test_chunked_parquet_reads_the_same_types(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "p.parquet", RAW_TYPES)
    (file,) = expand_source(path)
    chunks = list(iter_chunks(file, None, None, chunk_rows=2))
    assert len(chunks) > 1
    types = pl.concat([c.pings["device_type"] for c in chunks])
    assert types.dtype == pl.Categorical
    assert types.to_list() == WANTED


def test_csv_types_are_normalised_as_a_categorical() -> None:
    rows = "".join(f"d,{1_700_000_000 + i},1,2,{t or ''}\n" for i, t in enumerate(RAW_TYPES))
    pings = read_pings(("device_id,ts,lat,lon,os\n" + rows).encode()).pings
    assert pings["device_type"].dtype == pl.Categorical
    assert pings["device_type"].to_list() == WANTED


def test_numeric_parquet_types_become_text(tmp_path: Path) -> None:
    pings = read_pings(_parquet(tmp_path / "n.parquet", [1, 2, 2, None])).pings
    assert pings["device_type"].to_list() == ["1", "2", "2", "unknown"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_type_codes_of_a_categorical_equal_those_of_strings(seed: int) -> None:
    rng = np.random.default_rng(seed)
    names = np.array(["android", "ios", "web", "unknown", "tv"])
    text = pl.Series("device_type", names[rng.integers(0, 5, 5_000)] if seed else names[[2, 2, 0]])
    pl.Series(["zzz", "other"]).cast(pl.Categorical)  # categories that the types do not use
    as_text, as_codes = type_codes(text), type_codes(text.cast(pl.Categorical))
    assert as_codes.codes.dtype == as_text.codes.dtype == np.int32
    assert as_codes.codes.tolist() == as_text.codes.tolist()
    assert as_codes.values.dtype == pl.String
    assert as_codes.values.to_list() == as_text.values.to_list()
    # codes in order of first appearance: each value is its first row's type
    first = [int(np.argmax(as_codes.codes == k)) for k in range(len(as_codes))]
    assert as_codes.values.to_list() == text.gather(first).to_list()


def test_type_codes_of_a_categorical_with_nulls_or_no_rows() -> None:
    with_null = pl.Series(["ios", None, "ios"]).cast(pl.Categorical)
    assert (
        type_codes(with_null).codes.tolist() == type_codes(with_null.cast(pl.String)).codes.tolist()
    )
    assert len(type_codes(pl.Series([], dtype=pl.Categorical)).codes) == 0


def test_row_hash_is_the_same_for_text_and_categorical_types() -> None:
    frame = pl.DataFrame(
        {
            "device": pl.Series([11, 12], dtype=pl.UInt64),
            "timestamp": [1, 2],
            "lat": [1.0, 2.0],
            "lon": [3.0, 4.0],
            "device_type": ["ios", "android"],
        }
    )
    coded = frame.with_columns(pl.col("device_type").cast(pl.Categorical))
    assert frame.select(row_hash()).equals(coded.select(row_hash()))


def test_written_rows_keep_types_as_plain_text(tmp_path: Path) -> None:
    pings = read_pings(_parquet(tmp_path / "p.parquet", RAW_TYPES)).pings
    out = write_rows(pings, tmp_path / "out.parquet")
    assert pl.read_parquet(out)["device_type"].dtype == pl.String


def test_parquet_types_stored_as_a_dictionary_are_normalised(tmp_path: Path) -> None:
    """A column written as categories (pandas' category, Arrow's dictionary type)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "device_id": ["a", "b", "c"],
            "ts": [1_700_000_000_000] * 3,
            "lat": [1.0, 2.0, 3.0],
            "lon": [1.0, 2.0, 3.0],
            "os": pa.array(["iPhone", "Android", None]).dictionary_encode(),
        }
    )
    pq.write_table(table, tmp_path / "d.parquet")
    pings = read_pings(tmp_path / "d.parquet").pings
    assert pings["device_type"].dtype == pl.Categorical
    assert pings["device_type"].to_list() == ["ios", "android", "unknown"]
    (file,) = expand_source(tmp_path / "d.parquet")
    (chunk,) = iter_chunks(file, None, None, chunk_rows=10)
    assert chunk.pings["device_type"].to_list() == ["ios", "android", "unknown"]
