"""The command line's process settings: a freed large block is reused, not faulted in again."""

import os
import subprocess
import sys

import pytest

from explorer.cli.process import ENV_SWITCH, _glibc

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or not _glibc(), reason="keep_freed_memory sets glibc's malloc"
)

# Allocates and frees 80 MB twice; prints whether the setting applied and how many pages
# the second allocation faulted in (19,531 pages of 4 KiB when the block is mapped afresh;
# numpy's huge-page advice is turned off so that faults count 4 KiB pages).
PROBE = """
import resource, sys
import numpy as np
from explorer.cli.process import keep_freed_memory
np._core.multiarray._set_madvise_hugepage(False)
applied = keep_freed_memory() if sys.argv[1] == "on" else False
first = np.ones(10_000_000)
del first
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
second = np.ones(10_000_000)
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _probe(mode: str, **env: str) -> tuple[str, int]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    applied, faults = proc.stdout.split()
    return applied, int(faults)


def test_freed_blocks_are_reused():
    applied, faults = _probe("on")
    assert applied == "True"
    assert faults < 2_000  # 80 MB is 19,531 pages of 4 KiB


def test_without_it_a_large_block_is_faulted_in_again():
    applied, faults = _probe("off")
    assert applied == "False"
    assert faults > 15_000


def test_environment_switch_turns_it_off():
    applied, faults = _probe("on", **{ENV_SWITCH: "0"})
    assert applied == "False"
    assert faults > 15_000


@pytest.mark.parametrize("module", ["explorer", "benchmarks.bench"])
def test_entry_points_apply_it(module, monkeypatch):
    import benchmarks.bench
    import explorer.cli
    import explorer.cli.main

    called = []
    target = explorer.cli if module == "explorer" else benchmarks.bench
    monkeypatch.setattr(target, "keep_freed_memory", lambda: called.append(True))
    if module == "explorer":
        monkeypatch.setattr(explorer.cli.main, "run_command", lambda args: 0)
        monkeypatch.setattr("sys.argv", ["explorer", "profile", "pings.csv"])
        assert explorer.cli.run() == 0
    else:
        monkeypatch.setattr(benchmarks.bench, "ensure_files", _stop)
        with pytest.raises(_Stop):
            benchmarks.bench.main(["--rows", "10"])
    assert called == [True]


class _Stop(Exception):
    pass


def _stop(rows):
    raise _Stop


# Faults in 80 MB ahead (or not), then counts the pages an 80 MB numpy array faults in.
WARM_PROBE = """
import resource, sys
import numpy as np
from explorer.cli import process
np._core.multiarray._set_madvise_hugepage(False)
applied = process.keep_freed_memory() if sys.argv[1] != "off" else False
if sys.argv[1] == "warm-written":  # advice the kernel refuses: the pages are written
    process.MADV_POPULATE_WRITE = -1
thread = process.warm_heap(90_000_000) if sys.argv[1].startswith("warm") else None
if thread is not None:
    thread.join()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
array = np.ones(10_000_000)
print(thread is not None, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.parametrize("mode", ["warm", "warm-written", "cold"])
def test_heap_faulted_in_ahead_serves_the_next_large_array(mode):
    proc = subprocess.run(
        [sys.executable, "-c", WARM_PROBE, mode], capture_output=True, text=True, timeout=120
    )
    started, faults = proc.stdout.split()
    assert started == str(mode != "cold")
    assert (int(faults) < 2_000) == (mode != "cold"), faults  # 80 MB is 19,531 pages


def test_heap_is_warmed_only_for_a_local_parquet_file_read_in_memory(tmp_path):
    import argparse

    from explorer.cli.process import WARM_MAX, heap_to_warm

    small, large = tmp_path / "p.parquet", tmp_path / "big.parquet"
    small.write_bytes(b"x" * 1_000_000)
    with open(large, "wb") as handle:
        handle.truncate(1 << 30)  # sparse: 1 GiB on paper
    csv = tmp_path / "p.csv"
    csv.write_bytes(b"x" * 1_000_000)

    def args(path, command="profile", engine="auto"):
        return argparse.Namespace(command=command, engine=engine, path=str(path))

    assert heap_to_warm(args(small)) == 3_500_000  # a quarter of 14 bytes per byte
    assert heap_to_warm(args(large, "analyze", "memory")) == WARM_MAX
    for no in (args(csv), args(small, engine="chunked"), args(small, "clean"), args(tmp_path)):
        assert heap_to_warm(no) == 0


def test_the_warm_up_plans_parquet_as_the_engines_do():
    """cli/process.py cannot import the engines' sizing before numpy (it would load the
    reader), so it states the Parquet expansion again: the two must agree."""
    from explorer.cli.process import PARQUET_WARM_BYTES_PER_BYTE
    from explorer.engines.sizing import EXPANSION

    assert EXPANSION["parquet"] * 0.25 == PARQUET_WARM_BYTES_PER_BYTE
