"""Engines: memory, chunked and the compaction agree exactly on many-file inputs."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.analysis import analyze_summary
from explorer.cli.main import main
from explorer.engines.choose import choose_engine, summarise_source
from explorer.engines.chunked import CHUNK_ROWS_ENV, chunk_rows_setting
from explorer.errors import PingFileError
from explorer.summary import summarise
from explorer.summary.compact import compact
from tests.conftest import assert_same_summary
from tests.engines.conftest import RESOLUTION, biased_pings, write_split

CHUNK = 9_000


@pytest.fixture(scope="module")
def pings() -> pl.DataFrame:
    return biased_pings()


@pytest.fixture(scope="module")
def full_summary(pings):
    return summarise(pings, RESOLUTION)


def test_compacted_summary_gives_identical_findings(full_summary) -> None:
    compacted = compact(full_summary)
    # The O(pings) tables really shrink: one coords row per ping becomes a few hundred.
    assert compacted.tables["coords"].height < full_summary.tables["coords"].height / 20
    assert compacted.tables["rows"].height < full_summary.tables["rows"].height / 20
    full = analyze_summary(full_summary, source="x", salt="s").findings
    small = analyze_summary(compacted, source="x", salt="s").findings
    kinds = {f.kind for f in full}
    assert {"coordinate_pileup", "null_island", "duplicate_pings"} <= kinds
    assert small == full


def test_compaction_keeps_exactly_what_detectors_read(pings, full_summary) -> None:
    coords = full_summary.tables["coords"]
    kept = compact(full_summary).tables["coords"]
    # Every coordinate reported by two or more devices survives, with all its rows,
    # counted independently from the pings themselves.
    shared = (
        pings.drop_nulls("device_id")
        .group_by("lat", "lon")
        .agg(devices=pl.col("device_id").n_unique())
        .filter(pl.col("devices") >= 2)
    )
    kept_points = kept.select("lat", "lon").unique()
    assert shared.join(kept_points, on=["lat", "lon"], how="anti").is_empty()
    rows_of_shared = coords.join(shared.select("lat", "lon"), on=["lat", "lon"])
    assert rows_of_shared.join(kept, on=["lat", "lon", "device"], how="anti").is_empty()
    near_zero = coords.filter((pl.col("lat").abs() <= 0.01) & (pl.col("lon").abs() <= 0.01))
    assert near_zero.height > 0
    assert near_zero.join(kept, on=["lat", "lon", "device"], how="anti").is_empty()


def test_duplicates_are_exact(pings, full_summary) -> None:
    # 64-bit row hashes: the chance of a false duplicate among n distinct rows is about
    # n² / 2^65 (3e-4 at 100 million rows); here we count exact duplicates independently.
    exact = pings.group_by(pl.all()).agg(n=pl.len()).filter(pl.col("n") > 1)
    kept = compact(full_summary).tables["rows"]
    # Every used ping has one row hash, so the pings used are the rows' total.
    assert full_summary.tables["rows"]["pings"].sum() == full_summary.rows_used
    assert kept.height == exact.height
    assert sorted(kept["pings"].to_list()) == sorted(exact["n"].to_list())


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(cuts=st.lists(st.integers(1, 59_999), min_size=3, max_size=9))
def test_chunked_equals_memory_on_split_files(pings, tmp_path_factory, cuts) -> None:
    folder = tmp_path_factory.mktemp("split")
    write_split(pings, folder, cuts)
    memory, meta_memory = summarise_source(folder, resolution=RESOLUTION, engine="memory")
    chunked, meta = summarise_source(
        folder, resolution=RESOLUTION, engine="chunked", chunk_rows=CHUNK
    )
    expected = compact(memory)
    assert_same_summary(expected, chunked)
    assert memory.rows_read == pings.height
    assert meta["files"] == meta_memory["files"] == {"read": len(set(cuts)) + 1, "empty": 0}
    assert meta["input_sha256"] == meta_memory["input_sha256"]
    findings = analyze_summary(chunked, source="x", salt="s").findings
    assert findings == analyze_summary(expected, source="x", salt="s").findings


def _csv(rows: str) -> str:
    return "device_id,timestamp,lat,lon,os\n" + rows


def test_rejections_summed_over_files_and_chunks(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(
        _csv("a,1700000000000,48.85,2.35,iOS\nb,1700000000000,95.0,2.35,iOS\n")
    )
    sub = tmp_path / "day=2"
    sub.mkdir()
    (sub / "b.csv").write_text(
        _csv("c,1700000000000,48.85,,Android\nd,nonsense,48.85,2.35,iOS\ne,1,2\n")
    )
    with gzip.open(sub / "c.csv.gz", "wt") as fh:
        fh.write(_csv("f,1700000000000,48.86,2.36,iOS\n"))
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "_SUCCESS").write_text("")
    expected = {
        "malformed_line": 1,
        "latitude_out_of_range": 1,
        "longitude_missing": 1,
        "timestamp_unparsable": 1,
    }
    for engine, chunk in (("memory", None), ("chunked", 1)):
        summary, meta = summarise_source(tmp_path, resolution=8, engine=engine, chunk_rows=chunk)
        assert summary.rows_read == 6 and summary.rows_used == 2
        assert {k: v for k, v in summary.rejected_by_reason.items() if v} == expected
        assert meta["files"] == {"read": 4, "empty": 1}


def test_one_corrupt_file_names_it(tmp_path: Path, capsys) -> None:
    write_split(biased_pings().head(3_000), tmp_path, [1_000, 2_000])
    (tmp_path / "part=1" / "broken.parquet").write_bytes(b"PAR1" + b"\x00garbage" * 50)
    for engine in ("memory", "chunked"):
        code = main(["analyze", str(tmp_path), "--engine", engine, "--resolution", "8"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2
        assert len(err) == 1 and "part=1/broken.parquet" in err[0], err


def test_only_empty_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("")
    (tmp_path / "b.csv").write_text("device_id,timestamp,lat,lon\n")
    for engine in ("memory", "chunked"):
        with pytest.raises(PingFileError, match="all 2 files are empty"):
            summarise_source(tmp_path, resolution=8, engine=engine)


def test_single_file_chunked_keeps_single_file_messages(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(PingFileError, match="e.csv is empty"):
        summarise_source(tmp_path / "e.csv", engine="chunked")
    (tmp_path / "bad.csv").write_text(_csv("a,,48.85,2.35,iOS\n"))
    with pytest.raises(PingFileError, match="Every one of the 1 rows"):
        summarise_source(tmp_path / "bad.csv", engine="chunked")


def test_auto_picks_by_size(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(_csv("a,1700000000000,48.85,2.35,iOS\n" * 1000))
    size = path.stat().st_size
    assert choose_engine(path, memory=size * 1000) == "memory"
    assert choose_engine(path, memory=size) == "chunked"
    assert choose_engine(path.read_bytes()) == "memory"


def test_chunk_rows_setting(monkeypatch) -> None:
    monkeypatch.setenv(CHUNK_ROWS_ENV, "1234")
    assert chunk_rows_setting() == 1234
    assert chunk_rows_setting(50) == 50
    monkeypatch.delenv(CHUNK_ROWS_ENV)
    assert chunk_rows_setting() == 4_000_000  # the default the README and --help state
    with pytest.raises(PingFileError, match="positive"):
        chunk_rows_setting(0)
    monkeypatch.setenv(CHUNK_ROWS_ENV, " 2_000_000 ")
    assert chunk_rows_setting() == 2_000_000
    for text in ("abc", "1e6", "4.5"):  # a one-line error, not int()'s ValueError
        monkeypatch.setenv(CHUNK_ROWS_ENV, text)
        with pytest.raises(PingFileError, match=f"must be a whole number of rows, not '{text}'"):
            chunk_rows_setting()


def test_unknown_engine_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PingFileError, match="not available"):
        summarise_source(tmp_path, engine="spark")


def test_batches_group_small_chunks_without_splitting_any() -> None:
    from explorer.engines.chunked import batches
    from explorer.reading.chunks import Chunk
    from explorer.reading.parse import Timing

    def chunk(n: int) -> Chunk:
        pings = pl.DataFrame({"i": list(range(n))})
        return Chunk(pings, n, {}, Timing("", False), {})

    sizes = [3, 4, 2, 10, 0, 5, 5, 1]
    groups = [[c.pings.height for c in group] for group in batches(map(chunk, sizes), 7)]
    # at most 7 pings a group, a bigger chunk on its own, order and every chunk kept
    assert groups == [[3, 4], [2], [10], [0, 5], [5, 1]]
    assert list(batches([], 7)) == []


def test_the_spill_takes_only_ungrouped_chunk_summaries(pings, tmp_path: Path) -> None:
    """The spilled pings are the coords and rows tables side by side: grouped tables (rows
    no longer the pings, in the same order) are refused rather than paired wrongly."""
    from explorer.engines.chunked import Spill, summarise_chunk

    spill = Spill(tmp_path, 4)
    chunk = summarise_chunk(pings.head(5_000), RESOLUTION)
    spill.write(chunk)
    assert spill.written == 1
    assert sum(p.height for i in range(4) for p in spill.pieces("pings", i)) == 5_000
    with pytest.raises(ValueError, match="ungrouped"):
        spill.write(summarise(pings.head(5_000), RESOLUTION))
