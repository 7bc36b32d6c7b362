"""``python -m benchmarks.bench``: time read, bin, summarise and the whole analysis.

Generates N synthetic pings once (cached under ``.bench/``, see :mod:`benchmarks.shapes`):
today's shape (one city, epoch milliseconds, time order) and the realistic shapes (four
metros, UUID ids, shuffled, ISO strings with ``Z``, with offsets or naive), each as CSV
and Parquet. Then, as separate processes in rounds: ``python -m explorer profile|analyze``
on today's shape, and ``analyze`` next to the best-library script
(:mod:`benchmarks.peer`) on every realistic shape and format — wall clock, CPU seconds,
peak resident memory, and how many times faster ``analyze`` is than the peer. Last, the
medians of in-process runs per stage and the naive notebook approach (pandas + row-wise
``apply(h3.latlng_to_cell)`` + groupby) on a 1-million-row slice, both on today's shape.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.shapes import SHAPES, epoch_paths, parse_shapes, shape_paths
from explorer.cli.process import keep_freed_memory, no_huge_page_advice

NAIVE_ROWS = 1_000_000


def _median_time(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _generate(rows: int, shapes: tuple[str, ...]) -> None:
    """Write missing input files in a child process: generating 10 M pings takes gigabytes,
    which this process must not hold when it forks the measured commands."""
    command = [sys.executable, "-m", "benchmarks.shapes", "--rows", str(rows)]
    subprocess.run([*command, "--shapes", ",".join(shapes)], check=True)


def ensure_files(rows: int) -> tuple[Path, Path]:
    """Today's shape as CSV and Parquet (New York, planted biases, epoch ms), made once."""
    paths = epoch_paths(rows)
    if not all(p.exists() for p in paths.values()):
        _generate(rows, ())
    return paths["csv"], paths["parquet"]


def ensure_realistic(rows: int, shapes: tuple[str, ...]) -> dict[str, dict[str, Path]]:
    """The realistic ``shapes`` by shape and format (``{"iso_utc": {"parquet": ...}}``)."""
    paths = {shape: shape_paths(rows, shape) for shape in shapes}
    if not all(p.exists() for by_format in paths.values() for p in by_format.values()):
        _generate(rows, shapes)
    return paths


#: Wall seconds, CPU seconds and peak resident memory (GB) of one run.
Measured = tuple[float, float, float]


def run_process(args: list[str]) -> Measured:
    """Wall seconds, CPU seconds (user + system) and peak resident memory (GB) of a child
    process. On a shared machine the wall clock moves with the neighbours' load; the CPU
    seconds show whether the work itself changed. Linux counts the parent's resident size
    at the fork in the child's peak, so the caller must be small (the bench script is)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr.read().decode()[-500:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024 / 1024  # ru_maxrss is in KiB on Linux


def in_rounds(
    commands: dict[str, list[str]],
    runs: int,
    measure: Callable[[list[str]], Measured] = run_process,
) -> dict[str, list[Measured]]:
    """``measure`` of each command ``runs`` times, in rounds (every command once per round),
    so that a slow stretch of a shared machine falls on all commands alike, not on the
    runs of one of them."""
    measured: dict[str, list[Measured]] = {key: [] for key in commands}
    for _ in range(runs):
        for key, command in commands.items():
            measured[key].append(measure(command))
    return measured


def process_commands(
    epoch: dict[str, Path], realistic: dict[str, dict[str, Path]]
) -> dict[str, list[str]]:
    """Separate-process commands labelled ``"<program> <shape> <format>"``, in the order
    of a round: ``profile`` and ``analyze`` on today's shape, then ``analyze`` and the
    peer script one after the other on each realistic shape and format."""
    explorer = [sys.executable, "-m", "explorer"]
    commands = {
        f"{name} epoch_ms {fmt}": [*explorer, name, str(path), "--format", "json"]
        for fmt, path in epoch.items()
        for name in ("profile", "analyze")
    }
    for shape, by_format in realistic.items():
        for fmt, path in by_format.items():
            commands[f"analyze {shape} {fmt}"] = [
                *explorer,
                "analyze",
                str(path),
                "--format",
                "json",
            ]
            commands[f"peer {shape} {fmt}"] = [sys.executable, "-m", "benchmarks.peer", str(path)]
    return commands


def process_table(measured: dict[str, list[Measured]]) -> list[str]:
    """Markdown rows of :func:`in_rounds`' results: median wall and CPU seconds, highest
    peak, and for ``analyze`` on a file the peer also ran on, "ours ÷ peer": the median
    over rounds of peer wall ÷ ``analyze`` wall (above 1: ``analyze`` is faster)."""
    lines = [
        "| command | shape | format | wall s | CPU s | peak RSS GB | ours ÷ peer |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for key, runs in measured.items():
        program, shape, fmt = key.split()
        walls, cpus, peaks = zip(*runs, strict=True)
        peer = measured.get(f"peer {shape} {fmt}") if program == "analyze" else None
        ratio = ""
        if peer:
            ratio = f"{statistics.median(p[0] / o[0] for o, p in zip(runs, peer)):.2f}×"
        lines.append(
            f"| {program} | {shape} | {fmt} | {statistics.median(walls):.2f} "
            f"| {statistics.median(cpus):.2f} | {max(peaks):.2f} | {ratio} |"
        )
    return lines


def naive_rows_per_second(csv_path: Path, rows: int) -> float:
    """The notebook path: pandas read_csv, row-wise h3 via apply, then groupby."""
    import h3
    import pandas as pd

    started = time.perf_counter()
    frame = pd.read_csv(csv_path, nrows=rows)
    frame["cell"] = frame.apply(lambda r: h3.latlng_to_cell(r["lat"], r["lon"], 8), axis=1)
    frame.groupby("cell").agg(pings=("device_id", "size"), devices=("device_id", "nunique"))
    return rows / (time.perf_counter() - started)


def stage_times(path: Path, runs: int, resolution: int) -> dict[str, float]:
    """Median seconds of read (with the device hashes), bin (cells, clock), summarise
    (every table) and read→summary in this process."""
    import explorer.summary as summ
    from explorer.binning.prepare import prepare
    from explorer.reading.pings import read_pings

    # The memory engine's path: ids read as their hashes, tables of the O(pings) kind
    # built already compacted.
    read_s, read = _median_time(lambda: read_pings(path, device_ids=False), runs)
    bin_s, prepared = _median_time(lambda: prepare(read.pings, resolution), runs)
    agg_s, _ = _median_time(
        lambda: summ.summarise_prepared(prepared, resolution, per_ping="compact"), runs
    )
    total_s, _ = _median_time(
        lambda: summ.summarise(
            read_pings(path, device_ids=False).pings, resolution, per_ping="compact"
        ),
        runs,
    )
    return {
        "read": read_s,
        "bin": bin_s,
        "summarise": agg_s,
        "end_to_end": total_s,
        "rows": read.rows_used,
    }


def analysis_time(path: Path, runs: int, rows: int) -> float:
    """Median seconds of the full in-process analysis (read → findings) on ``rows`` rows."""
    from explorer.analysis import analyze_read
    from explorer.reading.pings import read_pings

    read = read_pings(path)
    sliced = read.pings.head(rows)
    seconds, _ = _median_time(lambda: analyze_read(read, pings=sliced, resolution=8), runs)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--resolution", type=int, default=8)
    parser.add_argument(
        "--shapes",
        type=parse_shapes,
        default=SHAPES,
        help=f"realistic shapes to run, comma-separated (default all: {','.join(SHAPES)}; "
        "empty for none)",
    )
    args = parser.parse_args(argv)
    keep_freed_memory()  # as the command line does
    no_huge_page_advice()
    csv_path, parquet_path = ensure_files(args.rows)
    realistic = ensure_realistic(args.rows, args.shapes)
    print(
        f"# Benchmark: {args.rows:,} pings, H3 resolution {args.resolution}, median of "
        f"{args.runs} runs\n# machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n# shapes: epoch_ms (one city, epoch ms, time "
        f"order); {', '.join(args.shapes) or 'no realistic shape'} (four metros, UUID ids, "
        "shuffled)\n"
    )
    # Separate processes first: a child's peak RSS counts the parent it was forked from
    # until it execs, so they must start while this process is still small.
    commands = process_commands({"parquet": parquet_path, "csv": csv_path}, realistic)
    for line in process_table(in_rounds(commands, args.runs)):
        print(line, flush=True)
    print("\n| input (epoch_ms) | stage | seconds | rows/s |\n|---|---|---:|---:|")
    for label, path in (("parquet", parquet_path), ("csv", csv_path)):
        times = stage_times(path, args.runs, args.resolution)
        for stage in ("read", "bin", "summarise", "end_to_end"):
            rate = times["rows"] / times[stage]
            print(f"| {label} | {stage} | {times[stage]:.2f} | {rate / 1e6:.2f} M |", flush=True)
    one_million = min(1_000_000, args.rows)
    print(
        f"\nfull analysis in-process, {one_million:,} pings (parquet): "
        f"{analysis_time(parquet_path, args.runs, one_million):.2f} s"
    )
    naive_rows = min(NAIVE_ROWS, args.rows)
    naive = naive_rows_per_second(csv_path, naive_rows)
    ours = stage_times(csv_path, 1, args.resolution)
    ratio = (ours["rows"] / ours["end_to_end"]) / naive
    print(
        f"naive notebook path on {naive_rows:,} rows: {naive / 1e6:.3f} M rows/s; "
        f"ours from CSV: {ours['rows'] / ours['end_to_end'] / 1e6:.2f} M rows/s "
        f"({ratio:.0f}× faster)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
