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
        monkeypatch.setattr(explorer.cli.main, "main", lambda: 0)
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
