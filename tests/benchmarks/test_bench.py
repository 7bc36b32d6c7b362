"""The benchmark's process measurement: wall clock, CPU seconds and peak memory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.bench import run_process

ROOT = Path(__file__).resolve().parents[2]


def test_a_child_process_is_measured_by_its_clock_cpu_and_memory():
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    grow = "block = bytearray(200 << 20)\n"  # 200 MB, touched (zeroed) by bytearray
    # Measured from a small parent, as `make bench` does: Linux counts the parent's
    # resident size at the fork in a child's peak, and this test process may by now hold
    # gigabytes of other tests' data.
    measure = (
        "import sys; from benchmarks.bench import run_process; "
        f"print(*run_process([sys.executable, '-c', {burn + grow!r}]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", measure], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    wall, cpu, peak_gb = (float(v) for v in out.split())
    assert cpu >= 0.3  # the child's own CPU time, not the parent's
    assert wall >= cpu / 2  # one thread: its CPU time cannot outrun two cores' clock
    assert 0.2 < peak_gb < 2.0


def test_a_failing_child_is_an_error_naming_its_stderr():
    with pytest.raises(RuntimeError, match="boom"):
        run_process([sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"])


def test_commands_are_measured_in_rounds():
    from benchmarks.bench import in_rounds

    calls = []

    def measure(command):
        calls.append(command[0])
        return (float(len(calls)), 0.0, 0.0)

    measured = in_rounds({"a": ["a"], "b": ["b"]}, 3, measure)
    assert calls == ["a", "b", "a", "b", "a", "b"]
    assert measured == {
        "a": [(1.0, 0.0, 0.0), (3.0, 0.0, 0.0), (5.0, 0.0, 0.0)],
        "b": [(2.0, 0.0, 0.0), (4.0, 0.0, 0.0), (6.0, 0.0, 0.0)],
    }


def test_each_realistic_file_runs_analyze_next_to_the_peer():
    from benchmarks.bench import process_commands

    epoch = {"parquet": Path("e.parquet"), "csv": Path("e.csv")}
    realistic = {"iso_utc": {"parquet": Path("z.parquet"), "csv": Path("z.csv")}}
    commands = process_commands(epoch, realistic)
    assert list(commands) == [
        "profile epoch_ms parquet",
        "analyze epoch_ms parquet",
        "profile epoch_ms csv",
        "analyze epoch_ms csv",
        "analyze iso_utc parquet",
        "peer iso_utc parquet",
        "analyze iso_utc csv",
        "peer iso_utc csv",
    ]
    assert commands["analyze iso_utc csv"][-4:] == ["analyze", "z.csv", "--format", "json"]
    assert commands["peer iso_utc csv"][1:] == ["-m", "benchmarks.peer", "z.csv"]


def test_the_table_gives_analyze_its_speed_against_the_peer_round_by_round():
    from benchmarks.bench import process_table

    measured = {
        "analyze epoch_ms csv": [(4.0, 5.0, 1.0)] * 3,
        "analyze iso_utc csv": [(2.0, 3.0, 1.5), (4.0, 3.0, 1.6), (3.0, 3.0, 1.4)],
        "peer iso_utc csv": [(4.0, 5.0, 2.5), (4.0, 5.0, 2.9), (9.0, 5.0, 2.7)],
    }
    lines = process_table(measured)
    assert lines[2] == "| analyze | epoch_ms | csv | 4.00 | 5.00 | 1.00 |  |"
    # Round ratios peer ÷ ours: 2.0, 1.0, 3.0 (median 2.0); not 5.0 / 3.0 of the medians.
    assert lines[3] == "| analyze | iso_utc | csv | 3.00 | 3.00 | 1.60 | 2.00× |"
    assert lines[4] == "| peer | iso_utc | csv | 4.00 | 5.00 | 2.90 |  |"


def test_shapes_are_chosen_by_name():
    from argparse import ArgumentTypeError

    from benchmarks.shapes import SHAPES, parse_shapes

    assert parse_shapes("iso_offset") == ("iso_offset",)
    assert parse_shapes("") == ()
    assert parse_shapes(",".join(SHAPES)) == SHAPES
    with pytest.raises(ArgumentTypeError, match="iso_local"):
        parse_shapes("iso_utc,iso_local")
