"""A library that fails on damaged input (an Arrow error, a polars error or even a polars
panic) gives one sentence naming the file, never a crash."""

import contextlib

import polars as pl
import pytest

from explorer.errors import PingFileError
from explorer.reading import mapped_columns
from explorer.reading.pings import read_pings


@pytest.mark.parametrize(
    "error",
    [pl.exceptions.PanicException("bad utf-8"), pl.exceptions.ComputeError("bad page")],
    ids=["panic", "polars error"],
)
def test_a_parquet_decode_failure_is_one_sentence(tmp_path, monkeypatch, error):
    path = tmp_path / "p.parquet"
    pl.DataFrame(
        {"device_id": ["a"], "timestamp": [1_700_000_000], "lat": [48.85], "lon": [2.35]}
    ).write_parquet(path)
    assert read_pings(path).rows_used == 1

    def broken(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(mapped_columns, "decode", broken)
    with pytest.raises(PingFileError, match="p.parquet") as caught:
        read_pings(path)
    assert "\n" not in str(caught.value)


def test_every_damaged_byte_pattern_of_a_small_parquet_file_is_refused_or_read(tmp_path):
    """Bytes of a valid file overwritten at many places: each read ends in rows or in a
    PingFileError, never in another exception."""
    import random

    good = tmp_path / "good.parquet"
    pl.DataFrame(
        {
            "device_id": ["a", "b", "c"] * 20,
            "timestamp": [1_700_000_000 + i for i in range(60)],
            "lat": [48.85] * 60,
            "lon": [2.35] * 60,
            "os": ["iOS", "Android", "x"] * 20,
        }
    ).write_parquet(good)
    data, rng = good.read_bytes(), random.Random(7)
    for i in range(150):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        path = tmp_path / f"m{i}.parquet"
        path.write_bytes(bytes(damaged))
        for ids in (True, False):
            with contextlib.suppress(PingFileError):
                read_pings(path, device_ids=ids)
