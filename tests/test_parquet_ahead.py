"""polars' decode of a Parquet file started ahead (explorer.reading.parquet.read_ahead): used
only when the file and the columns match, and reading with it gives exactly what reading
without it gives, errors included. The command line's use of it is tested with the CSV
parse's, in tests/test_ahead.py."""

import gzip
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from explorer.cli import ahead
from explorer.errors import PingFileError
from explorer.reading import parquet as pqa
from explorer.reading.pings import read_pings
from tests.test_ahead import read_taking_work_ahead

PINGS = {
    "device_id": ["a", "b", "c", "a"],
    "timestamp": [1700000000, 1700000060, 1700000120, 1700000240],
    "lat": [40.71, 40.72, 95.0, 40.75],  # the third is out of range
    "lon": [-74.01, -74.02, -74.03, -74.05],
}


@pytest.fixture(autouse=True)
def _nothing_left_ahead():
    ahead._STARTED.clear()  # work other tests' commands started and never took
    yield
    ahead._STARTED.clear()


def _write(path: Path, **extra: pa.Array) -> Path:
    pq.write_table(pa.table({**{k: pa.array(v) for k, v in PINGS.items()}, **extra}), path)
    return path


def _inputs(tmp_path: Path) -> list[Path]:
    types = ["iOS", "Android", "android", None]
    return [
        _write(tmp_path / "text_types.parquet", os=pa.array(types)),
        _write(tmp_path / "dictionary_types.parquet", os=pa.array(types).dictionary_encode()),
        _write(tmp_path / "numeric_types.parquet", os=pa.array([1, 2, 2, 1])),
        _write(tmp_path / "no_types.parquet"),
    ]


@pytest.mark.parametrize("hash_ids", [False, True])
def test_reading_takes_the_decode_started_ahead_and_reads_the_same(tmp_path, monkeypatch, hash_ids):
    for path in _inputs(tmp_path):
        expected = read_pings(path, device_ids=not hash_ids)
        pqa.read_ahead(path, None, hash_ids=hash_ids)
        ahead._STARTED[("parquet", os.path.realpath(path))][2].result(timeout=60)
        refused = [(pl, "read_parquet"), (pl, "scan_parquet")]
        got = read_taking_work_ahead(monkeypatch, path, expected, refused, device_ids=not hash_ids)
        assert got.rows_read == 4 and got.rows_used == 3, path.name
        assert ("device" in got.pings.columns) == hash_ids, path.name


def test_a_decode_started_for_the_other_kind_of_ids_is_not_used(tmp_path):
    """Ids hashed ahead are no use to a reader that wants the ids, and the other way round."""
    path = _write(tmp_path / "p.parquet")
    for hash_ids in (False, True):
        pqa.read_ahead(path, None, hash_ids=hash_ids)
        got = read_pings(path, device_ids=hash_ids)
        assert got.pings.columns[0] == ("device_id" if hash_ids else "device")
        assert ahead._STARTED == {}


def test_a_decode_started_with_other_columns_is_not_used(tmp_path):
    path = _write(tmp_path / "two.parquet", lat2=pa.array([1.5] * 4), lon2=pa.array([2.5] * 4))
    pqa.read_ahead(path, None, hash_ids=False)
    got = read_pings(path, columns={"lat": "lat2", "lon": "lon2"})
    assert got.pings["lat"].to_list() == [1.5] * 4 and got.pings["lon"].to_list() == [2.5] * 4
    assert ahead._STARTED == {}


def test_no_decode_starts_for_what_is_not_a_plain_parquet_file_that_maps(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("device_id,timestamp,lat,lon\na,1700000000,1.5,2.5\n")
    unmapped = tmp_path / "unmapped.parquet"
    pq.write_table(pa.table({"x": [1.0], "y": [2.0]}), unmapped)
    compressed = tmp_path / "p.parquet.gz"
    compressed.write_bytes(gzip.compress(_write(tmp_path / "p.parquet").read_bytes()))
    for path in (csv, unmapped, tmp_path / "missing.parquet", tmp_path, compressed):
        pqa.read_ahead(path, None, hash_ids=True)
    pqa.read_ahead(tmp_path / "p.parquet", {"lat": "no_such_column"}, hash_ids=True)
    assert [kind for kind, _ in ahead._STARTED] == []


def _damaged(tmp_path: Path) -> dict[str, Path]:
    whole = _write(tmp_path / "whole.parquet").read_bytes()
    footer = int.from_bytes(whole[-8:-4], "little") + 8  # footer length, its length, PAR1
    pages = bytearray(whole)
    pages[4 : len(whole) - footer] = b"\xff" * (len(whole) - footer - 4)
    files = {"junk": b"PAR1" + b"\x00" * 64, "pages": bytes(pages)}
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / f"{name}.parquet"
        paths[name].write_bytes(data)
    return paths


def test_errors_of_a_decode_started_ahead_are_the_readers_errors(tmp_path):
    for name, path in _damaged(tmp_path).items():
        with pytest.raises(PingFileError) as plain:
            read_pings(path)
        pqa.read_ahead(path, None, hash_ids=False)
        # Only the file with a sound footer ("pages") maps, so only its decode starts.
        assert (("parquet", os.path.realpath(path)) in ahead._STARTED) == (name == "pages")
        with pytest.raises(PingFileError) as started_ahead:
            read_pings(path)
        assert str(started_ahead.value) == str(plain.value), name
        assert "damaged Parquet file" in str(plain.value), name
    assert ahead._STARTED == {}  # the failed decode was taken, its error raised as the reader's


def test_the_decode_ahead_imports_nothing(tmp_path):
    """Two threads importing the same extension modules at once can deadlock: once the
    module is imported, the decode it starts imports nothing."""
    path = _write(tmp_path / "p.parquet", os=pa.array(["ios"] * 4))
    script = textwrap.dedent(
        f"""
        import os, sys
        import explorer.reading.parquet as pqa
        from explorer.cli import ahead
        heavy = sorted(m for m in ("h3", "h3ronpy", "pandas", "explorer.reading.pings") if m in sys.modules)
        before = set(sys.modules)
        pqa.read_ahead({str(path)!r}, None, hash_ids=True)
        frame = ahead._STARTED[("parquet", os.path.realpath({str(path)!r}))][2].result(60)
        print(heavy, sorted(set(sys.modules) - before), sorted(frame.columns))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout.strip() == f"[] [] {sorted([pqa.HASHED, 'lat', 'lon', 'timestamp'])}", (
        run.stderr
    )
