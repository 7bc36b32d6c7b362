"""``python -m benchmarks.bench``: time read, bin, summarise and the whole analysis.

Generates N synthetic pings once (cached under ``.bench/``) as CSV and Parquet, then
reports medians of several in-process runs per stage, the wall clock and peak resident
memory of ``python -m explorer profile|analyze`` run as separate processes (in rounds),
and the naive notebook approach (pandas + row-wise ``apply(h3.latlng_to_cell)`` +
groupby) on a 1-million-row slice for comparison.
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

from explorer.cli.process import keep_freed_memory

BENCH_DIR = Path(".bench")
NAIVE_ROWS = 1_000_000


def _median_time(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def ensure_files(rows: int) -> tuple[Path, Path]:
    """Synthetic CSV and Parquet of ``rows`` pings (New York, planted biases), made once."""
    BENCH_DIR.mkdir(exist_ok=True)
    csv_path = BENCH_DIR / f"pings_{rows}.csv"
    parquet_path = BENCH_DIR / f"pings_{rows}.parquet"
    if not (csv_path.exists() and parquet_path.exists()):
        from explorer.synth.pings import generate_pings, write_pings

        print(f"generating {rows:,} pings (once) ...", file=sys.stderr, flush=True)
        result = generate_pings(
            rows,
            seed=11,
            biases=("coordinate_pileup", "null_island", "duplicate_pings", "device_type_skew"),
        )
        write_pings(result, parquet_path)
        write_pings(result, csv_path)
    return csv_path, parquet_path


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
    args = parser.parse_args(argv)
    keep_freed_memory()  # as the command line does
    csv_path, parquet_path = ensure_files(args.rows)
    print(
        f"# Benchmark: {args.rows:,} pings, H3 resolution {args.resolution}, median of "
        f"{args.runs} runs\n# machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n"
    )
    # Separate processes first: a child's peak RSS counts the parent it was forked from
    # until it execs, so they must start while this process is still small.
    commands = {
        f"{name} {label}": [sys.executable, "-m", "explorer", name, str(path), "--format", "json"]
        for label, path in (("parquet", parquet_path), ("csv", csv_path))
        for name in ("profile", "analyze")
    }
    runs = in_rounds(commands, args.runs)
    print("| command (separate process) | wall s | CPU s | peak RSS GB |\n|---|---:|---:|---:|")
    for key, measured in runs.items():
        walls, cpus, peaks = zip(*measured, strict=True)
        print(
            f"| {key} | {statistics.median(walls):.2f} "
            f"| {statistics.median(cpus):.2f} | {max(peaks):.2f} |",
            flush=True,
        )
    print("\n| input | stage | seconds | rows/s |\n|---|---|---:|---:|")
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
