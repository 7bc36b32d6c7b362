"""The Dask engine on a real two-process LocalCluster: same summaries and findings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from dask.distributed import LocalCluster

from explorer.analysis import analyze_summary
from explorer.cli.main import main
from explorer.engines.choose import summarise_source
from explorer.engines.dask_cluster import plan_units
from explorer.errors import PingFileError
from explorer.reading.sources import expand_source
from explorer.summary.compact import compact
from tests.conftest import assert_same_summary
from tests.engines.conftest import RESOLUTION, biased_pings, write_split

CHUNK = 9_000


@pytest.fixture(scope="module")
def cluster():
    # Worker processes are spawned, and spawning re-runs ``__main__`` from its file. Earlier
    # tests (Streamlit's AppTest) can leave ``__main__`` pointing at a temporary page
    # script, which the workers would then run; they need only import ``explorer``.
    main = sys.modules["__main__"]
    saved = main.__dict__.pop("__file__", None)
    try:
        with LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as local:
            yield local
    finally:
        if saved is not None:
            main.__file__ = saved


@pytest.fixture(scope="module")
def split_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dask-split")
    write_split(biased_pings(), folder, [4_000, 4_001, 19_000, 30_500, 47_000])
    (folder / "part=0" / "empty.csv").write_text("")
    return folder


def test_dask_equals_memory_and_chunked(cluster, split_folder) -> None:
    address = cluster.scheduler_address
    memory, _ = summarise_source(split_folder, resolution=RESOLUTION, engine="memory")
    chunked, chunked_meta = summarise_source(
        split_folder, resolution=RESOLUTION, engine="chunked", chunk_rows=CHUNK
    )

    def dask(**options):
        return summarise_source(
            split_folder,
            resolution=RESOLUTION,
            engine="dask",
            scheduler=address,
            chunk_rows=CHUNK,
            **options,
        )

    on_dask, meta = dask()
    expected = compact(memory)
    assert_same_summary(expected, on_dask)
    assert_same_summary(chunked, on_dask)
    assert on_dask.rows_read == biased_pings().height
    assert meta["files"] == {"read": 7, "empty": 1}
    assert meta["input_sha256"] == chunked_meta["input_sha256"] != ""
    unhashed, bare = dask(digest=False)
    assert bare["input_sha256"] == ""
    assert_same_summary(on_dask, unhashed)
    findings = analyze_summary(on_dask, source="x", salt="s").findings
    assert findings == analyze_summary(expected, source="x", salt="s").findings
    assert {"coordinate_pileup", "null_island", "duplicate_pings"} <= {f.kind for f in findings}


def test_large_parquet_files_split_by_row_groups(split_folder) -> None:
    files = [f for f in expand_source(split_folder) if f.is_parquet]
    units = plan_units(files, 5_000)
    # 2,500-row groups, two per task: every group read exactly once.
    for file in files:
        groups = [g for u in units if u.file == file for g in (u.row_groups or ())]
        assert groups == sorted(set(groups)) and groups[0] == 0
    assert len(units) > len(files)


def test_corrupt_file_on_workers_names_it(cluster, split_folder, tmp_path, capsys) -> None:
    bad = tmp_path / "bad"
    write_split(biased_pings().head(2_000), bad, [1_000])
    (bad / "part=2").mkdir()
    (bad / "part=2" / "broken.parquet").write_bytes(b"PAR1" + b"\x00junk" * 40)
    args = ["analyze", str(bad), "--engine", "dask", "--scheduler", cluster.scheduler_address]
    assert main([*args, "--resolution", "8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "part=2/broken.parquet" in err[0], err


def test_missing_dask_is_a_clear_error(monkeypatch, split_folder) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(PingFileError, match=r"pip install 'ping-bias-explorer\[dask\]'"):
        summarise_source(split_folder, resolution=RESOLUTION, engine="dask")
