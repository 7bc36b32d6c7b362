"""``python -m benchmarks.bench_scale``: the engines on a large many-file data set.

Writes ``--rows`` synthetic pings (default 100 million) once, as ``--files`` Parquet
files under ``.bench/scale/<rows>/`` (generated file by file, so memory stays bounded),
then times, each in its own process (wall clock, peak RSS from ``os.wait4``):

- ``analyze --engine chunked`` on the whole data set;
- ``analyze --engine memory`` on the first files, about 10 million pings;
- the Dask engine on a LocalCluster of 2 worker processes (rows/s, rows/s per worker
  from the task stream, and whether any worker restarted).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from explorer.cli.process import keep_freed_memory, no_huge_page_advice

SCALE_DIR = Path(".bench") / "scale"
BIASES = ("coordinate_pileup", "null_island", "duplicate_pings", "device_type_skew")
MEMORY_ROWS = 10_000_000
DONE = "_DONE"  # skipped when the folder is read (names starting with "_" are)


def ensure_dataset(rows: int, files: int) -> Path:
    """The data set's folder, written once (one seed per file)."""
    folder = SCALE_DIR / str(rows)
    if (folder / DONE).exists():
        return folder
    from explorer.synth.pings import generate_pings, write_pings

    folder.mkdir(parents=True, exist_ok=True)
    per_file = -(-rows // files)
    for index in range(files):
        count = min(per_file, rows - index * per_file)
        print(f"writing file {index + 1}/{files} ({count:,} pings)", file=sys.stderr, flush=True)
        result = generate_pings(count, seed=1000 + index, biases=BIASES)
        write_pings(result, folder / f"part-{index:03d}.parquet")
    (folder / DONE).write_text(f"{rows} pings in {files} files\n")
    return folder


def run_child(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (GB) and stdout of a child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read().decode() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        err = proc.stderr.read().decode()[-800:] if proc.stderr else ""
        raise RuntimeError(f"{' '.join(args)} failed: {err}")
    return wall, usage.ru_maxrss / 1024 / 1024, out


def _parquet_rows(paths: list[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)


def dask_child(folder: str, resolution: int) -> int:
    """Run in a child process: the Dask engine on 2 local workers; prints JSON."""
    from dask.distributed import Client, LocalCluster, get_task_stream

    from explorer.engines.choose import analyze_source

    with (
        LocalCluster(n_workers=2, processes=True, threads_per_worker=1) as cluster,
        Client(cluster) as client,
    ):
        before = client.run(os.getpid)
        started = time.perf_counter()
        with get_task_stream(client) as stream:
            analysis = analyze_source(
                folder, engine="dask", scheduler=cluster.scheduler_address, resolution=resolution
            )
        wall = time.perf_counter() - started
        after = client.run(os.getpid)
        busy: dict[str, float] = {}
        for task in stream.data:
            for span in task.get("startstops", ()):
                if span.get("action") == "compute":
                    worker = task["worker"]
                    busy[worker] = busy.get(worker, 0.0) + span["stop"] - span["start"]
    rows = analysis.summary.rows_read
    print(
        json.dumps(
            {
                "rows": rows,
                "wall": wall,
                "busy": busy,
                "restarted": sorted(before.items()) != sorted(after.items()),
                "findings": len(analysis.findings),
            }
        )
    )
    return 0


def _table(rows: list[tuple[str, int, float, float | None, str]]) -> str:
    lines = [
        "| run | pings | wall s | M rows/s | peak RSS GB | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, n, wall, rss, note in rows:
        rss_text = f"{rss:.2f}" if rss is not None else "-"
        lines.append(
            f"| {name} | {n:,} | {wall:.1f} | {n / wall / 1e6:.2f} | {rss_text} | {note} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_scale")
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--resolution", type=int, default=8)
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--dask-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    keep_freed_memory()  # as the command line does
    no_huge_page_advice()
    if args.dask_child:
        return dask_child(args.dask_child, args.resolution)
    folder = ensure_dataset(args.rows, args.files)
    paths = sorted(folder.glob("part-*.parquet"))
    common = ["--format", "json", "--resolution", str(args.resolution)]
    env = dict(os.environ)
    if args.chunk_rows:
        env["EXPLORER_CHUNK_ROWS"] = str(args.chunk_rows)
    results = []
    cli = [sys.executable, "-m", "explorer", "analyze"]
    wall, rss, _ = run_child([*cli, str(folder), "--engine", "chunked", *common])
    total = _parquet_rows(paths)  # planted biases add a few rows to the asked-for count
    results.append(("chunked, whole set", total, wall, rss, f"{len(paths)} files"))
    take = 1
    while take < len(paths) and _parquet_rows(paths[:take]) < MEMORY_ROWS:
        take += 1
    subset = SCALE_DIR / f"{args.rows}-memory"  # outside the folder: not read twice
    subset.mkdir(exist_ok=True)
    for path in paths[:take]:
        link = subset / path.name
        if not link.exists():
            link.symlink_to(path.resolve())
    n_memory = _parquet_rows(paths[:take])
    wall, rss, _ = run_child([*cli, str(subset), "--engine", "memory", *common])
    results.append(("memory", n_memory, wall, rss, f"first {take} files"))
    if not args.skip_dask:
        child = [sys.executable, "-m", "benchmarks.bench_scale", "--dask-child", str(folder)]
        wall, rss, out = run_child([*child, "--resolution", str(args.resolution)])
        info = json.loads(out.strip().splitlines()[-1])
        busy = sorted(info["busy"].values())
        rate = info["rows"] / max(sum(busy), 1e-9) / 1e6  # rows_read = rows in the files
        note = (
            f"{len(busy)} workers busy {', '.join(f'{s:.0f}' for s in busy)} s; "
            f"{rate:.2f} M rows per worker-second; "
            f"worker restarted: {'yes' if info['restarted'] else 'no'}"
        )
        results.append(("dask LocalCluster", info["rows"], info["wall"], None, note))
    print(
        f"# Scale benchmark: {args.rows:,} pings in {len(paths)} Parquet files, "
        f"resolution {args.resolution}\n# machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n"
    )
    print(_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
