"""keep_freed_memory: a freed large block is reused, not faulted in again."""

import ctypes
import mmap
import os
import subprocess
import sys

import pytest

from explorer.cli.allocator import ENV_SWITCH, _glibc

# Allocates and frees 80 MB twice; prints whether the setting applied and how many pages
# the second allocation faulted in (19,531 pages of 4 KiB when the block is mapped afresh;
# numpy's huge-page advice is turned off so that faults count 4 KiB pages).
PROBE = """
import resource, sys
import numpy as np
from explorer.cli.allocator import keep_freed_memory
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


def test_the_reference_platform_is_glibc():
    # CI and the reference machine run Debian; the tests below assume the setting applies.
    assert sys.platform == "linux" and _glibc()


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
    import explorer.cli.main

    called = []
    target = explorer.cli.main if module == "explorer" else benchmarks.bench
    monkeypatch.setattr(target, "keep_freed_memory", lambda: called.append(True))
    if module == "explorer":
        monkeypatch.setattr(explorer.cli.main, "main", lambda: 0)
        assert explorer.cli.main.run() == 0
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
from explorer.cli import allocator
from explorer.cli.allocator import keep_freed_memory, warm_heap
np._core.multiarray._set_madvise_hugepage(False)
applied = keep_freed_memory() if sys.argv[1] != "off" else False
if sys.argv[1] == "warm-written":  # advice the kernel refuses: the pages are written
    allocator.MADV_POPULATE_WRITE = -1
thread = warm_heap(90_000_000) if sys.argv[1].startswith("warm") else None
if thread is not None:
    thread.join()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
array = np.ones(10_000_000)
print(thread is not None, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _warm_probe(mode: str) -> tuple[str, int]:
    proc = subprocess.run(
        [sys.executable, "-c", WARM_PROBE, mode], capture_output=True, text=True, timeout=120
    )
    started, faults = proc.stdout.split()
    return started, int(faults)


@pytest.mark.parametrize("mode", ["warm", "warm-written"])
def test_heap_faulted_in_ahead_serves_the_next_large_array(mode):
    started, faults = _warm_probe(mode)
    assert started == "True" and faults < 2_000  # 80 MB is 19,531 pages of 4 KiB
    started, faults = _warm_probe("kept")
    assert started == "False" and faults > 15_000


def test_no_heap_is_faulted_in_unless_freed_memory_is_kept():
    started, faults = _warm_probe("off")
    assert started == "False" and faults > 15_000
    from explorer.cli import allocator

    kept = allocator._KEPT[0]
    try:
        allocator._KEPT[0] = False
        assert allocator.warm_heap(1 << 20) is None
        allocator._KEPT[0] = True
        assert allocator.warm_heap(0) is None
        thread = allocator.warm_heap(1 << 20)
        assert thread is not None
        thread.join(timeout=30)
        assert not thread.is_alive()
    finally:
        allocator._KEPT[0] = kept


def test_the_command_line_warms_heap_only_for_parquet_read_in_memory(tmp_path, monkeypatch):
    from explorer.cli import main as cli
    from explorer.engines import sizing
    from explorer.reading import csv_text as _io_csv

    parquet, csv = tmp_path / "p.parquet", tmp_path / "p.csv"
    parquet.write_bytes(b"x" * 1000)
    csv.write_bytes(b"x" * 1000)
    asked = []
    monkeypatch.setattr(cli, "warm_heap", asked.append)
    monkeypatch.setattr(_io_csv, "read_ahead", lambda *_: None)

    def start(path: str, engine: str) -> None:
        cli._start_ahead(cli.build_parser().parse_args(["profile", path, "--engine", engine]))

    start(str(parquet), "auto")
    assert asked == [int(1000 * sizing.EXPANSION["parquet"] * sizing.WARM_SHARE["parquet"])]
    start(str(csv), "memory")
    assert asked[-1] == 0  # a CSV's peak comes while it is parsed: nothing ahead
    start(str(tmp_path / "missing.parquet"), "auto")
    start("s3://bucket/p.parquet", "auto")
    monkeypatch.setattr(cli, "fits_in_memory", lambda files: False)
    start(str(parquet), "auto")  # the chunked engine will read it
    assert len(asked) == 2


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * mmap.PAGESIZE


@pytest.mark.parametrize("refused", [False, True])
def test_populate_faults_in_every_page_of_the_block(refused):
    from explorer.cli.allocator import MADV_POPULATE_WRITE, POPULATE_STEP, populate

    size = 3 * POPULATE_STEP + 12_345  # steps, a partial step and a partial last page
    region = mmap.mmap(-1, size + mmap.PAGESIZE)
    block = ctypes.addressof(ctypes.c_char.from_buffer(region)) + 100  # not page-aligned
    libc = ctypes.CDLL(None)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    calls = []

    def madvise(address: int, length: int, advice: int) -> int:
        calls.append((address, length, advice))
        return -1 if refused else libc.madvise(address, length, advice)

    before = _resident_bytes()
    populate(block, size, madvise)
    grown = _resident_bytes() - before
    assert grown >= size - 2 * mmap.PAGESIZE  # all but the partial first and last pages
    if refused:  # one refused call, then every byte written
        assert len(calls) == 1
    else:  # the reference kernel (6.x) takes the advice, step by step, page-aligned
        # from the first whole page (block + 3,996) to the last whole one (block + 3 steps
        # + 12,188): three steps and 8,192 bytes
        assert [length for _, length, _ in calls] == [POPULATE_STEP] * 3 + [8_192]
        assert all(a % mmap.PAGESIZE == 0 and adv == MADV_POPULATE_WRITE for a, _, adv in calls)
    assert region[: size + 100] == bytes(size + 100)  # populated pages read as zeros
