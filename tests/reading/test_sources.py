"""Input expansion (folders, hive partitions, globs, fsspec URLs) and reading many files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import fsspec
import polars as pl
import pytest

from explorer.engines.choose import summarise_source
from explorer.errors import PingFileError
from explorer.reading.pings import read_pings
from explorer.reading.sources import combined_sha256, expand_source, is_multi

HEADER = "device_id,timestamp,lat,lon,os\n"
ROW = "a,1700000000000,48.85,2.35,iOS\n"


def _layout(root: Path) -> None:
    for rel, text in {
        "day=2024-06-03/hour=01/a.csv": HEADER + ROW,
        "day=2024-06-03/hour=02/b.csv": HEADER + ROW * 2,
        "day=2024-06-04/c.txt": HEADER + ROW,
        "_temporary/d.csv": HEADER + ROW,
        ".hidden.csv": HEADER + ROW,
        "day=2024-06-04/_SUCCESS": "",
        "notes.md": "not pings",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_folder_is_searched_recursively_through_hive_partitions(tmp_path: Path) -> None:
    _layout(tmp_path)
    files = expand_source(tmp_path)
    assert [f.label for f in files] == [
        "day=2024-06-03/hour=01/a.csv",
        "day=2024-06-03/hour=02/b.csv",
        "day=2024-06-04/c.txt",
    ]
    assert [f.size for f in files] == [len(HEADER + ROW), len(HEADER + ROW * 2), len(HEADER + ROW)]
    assert is_multi(tmp_path) and not is_multi(tmp_path / "notes.md")


def test_glob_and_single_file(tmp_path: Path) -> None:
    _layout(tmp_path)
    files = expand_source(str(tmp_path / "day=*" / "**" / "*.csv"))
    assert [f.label for f in files] == ["a.csv", "b.csv"]
    assert [f.label for f in expand_source(tmp_path / "notes.md")] == ["notes.md"]
    with pytest.raises(PingFileError, match="matches no ping files"):
        expand_source(str(tmp_path / "*.parquet"))
    with pytest.raises(PingFileError, match="does not exist"):
        expand_source(tmp_path / "missing.csv")


def test_read_pings_concatenates_a_folder(tmp_path: Path) -> None:
    _layout(tmp_path)
    result = read_pings(tmp_path)
    assert result.rows_read == 4 and result.rows_used == 4
    assert result.files == {"read": 3, "empty": 0}
    assert result.pings["lat"].to_list() == [48.85] * 4
    digests = [hashlib.sha256((HEADER + ROW * n).encode()).hexdigest() for n in (1, 2, 1)]
    assert result.input_sha256 == combined_sha256(digests)


def test_columns_detected_per_file_and_explicit_mapping_applies_to_all(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("north,east,when\n48.85,2.35,1700000000\n")
    (tmp_path / "b.csv").write_text("east,north,when\n2.36,48.86,1700000060\n")
    mapping = {"lat": "north", "lon": "east", "timestamp": "when"}
    result = read_pings(tmp_path, columns=mapping)
    assert result.pings["lat"].to_list() == [48.85, 48.86]
    assert result.columns == mapping
    (tmp_path / "c.csv").write_text("latitude,lng,ts\n48.87,2.37,1700000120\n")
    (tmp_path / "d.csv").write_text("lat,lon,timestamp\n48.88,2.38,1700000180\n")
    mixed = read_pings(str(tmp_path / "[cd].csv"))
    assert mixed.columns["lat"] == "latitude | lat"
    assert mixed.pings["lon"].to_list() == [2.37, 2.38]


def test_empty_files_counted_corrupt_file_named(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(HEADER + ROW)
    (tmp_path / "blank.csv").write_text("  \n")
    (tmp_path / "header.csv").write_text(HEADER)
    pl.DataFrame(schema={"lat": pl.Float64, "lon": pl.Float64, "ts": pl.Int64}).write_parquet(
        tmp_path / "none.parquet"
    )
    result = read_pings(tmp_path)
    assert result.files == {"read": 4, "empty": 3} and result.rows_used == 1
    (tmp_path / "zz.csv").write_bytes(b"\x00\x01\x02\x03" * 100)
    with pytest.raises(PingFileError, match="zz.csv is not a text file"):
        read_pings(tmp_path)


def test_fsspec_urls_read_like_paths(tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe("/pings/day=1/a.csv", (HEADER + ROW).encode())
    fs.pipe("/pings/day=2/b.csv", (HEADER + ROW * 3).encode())
    pl.DataFrame({"lat": [1.5], "lon": [2.5], "timestamp": [1_700_000_000]}).write_parquet(
        tmp_path / "c.parquet"
    )
    fs.pipe("/pings/day=2/c.parquet", (tmp_path / "c.parquet").read_bytes())
    files = expand_source("memory://pings")
    assert [f.label for f in files] == ["day=1/a.csv", "day=2/b.csv", "day=2/c.parquet"]
    assert read_pings("memory://pings").rows_used == 5
    summary, meta = summarise_source("memory://pings", resolution=7, engine="chunked")
    assert summary.rows_used == 5 and meta["files"] == {"read": 3, "empty": 0}
    assert read_pings("memory://pings/day=1/a.csv").rows_used == 1
    with pytest.raises(PingFileError, match="does not exist"):
        expand_source("memory://nowhere/x.csv")
