"""The Dask engine: partial summaries computed where the data is read, on the workers.

Each task reads one file (or a slice of a Parquet file's row groups), summarises it in
chunks and keeps its ``coords`` and ``rows`` tables on the worker, cut into hash
partitions. The small tables are tree-merged on the workers (``merge`` is
associative) and only the merged result comes to the client; there the compaction rule
(main mass, null-island radius) is worked out, and each partition is reduced and
compacted on a worker. Raw pings never leave the workers; the client receives the
merged small tables and the compacted coords and rows.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from explorer.config import Config
from explorer.engines.chunked import (
    chunk_rows_setting,
    finish,
    merge_small,
    partition_count,
    strip,
    summarise_chunk,
)
from explorer.errors import PingFileError
from explorer.reading import sources
from explorer.reading.chunks import file_sha256, iter_chunks
from explorer.reading.decode import EmptyInputError
from explorer.reading.many_files import Totals, named
from explorer.summary import Summary
from explorer.summary.compact import (
    PARTITION_KEYS,
    CoordsKeep,
    coords_keep,
    partition,
    reduce_compact,
    reduce_table,
)

#: Partial summaries merged per task at each level of the merge tree.
FAN_IN = 8
INSTALL_HINT = "install with pip install 'ping-bias-explorer[dask]'"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Unit:
    """One task's share of the input: a file, or some row groups of a Parquet file."""

    file: sources.InputFile
    row_groups: tuple[int, ...] | None = None

    @property
    def first(self) -> bool:
        return self.row_groups is None or 0 in self.row_groups


def plan_units(files: list[sources.InputFile], chunk_rows: int) -> list[Unit]:
    """Files, with large Parquet files split by row groups of about ``chunk_rows`` rows."""
    units = []
    for file in files:
        if not file.is_parquet:
            units.append(Unit(file))
            continue
        try:
            with file.open() as handle:
                meta = pq.ParquetFile(handle).metadata
        except Exception:  # noqa: BLE001 - a damaged file is reported by its task
            units.append(Unit(file))
            continue
        groups, rows = [], 0
        for index in range(meta.num_row_groups):
            groups.append(index)
            rows += meta.row_group(index).num_rows
            if rows >= chunk_rows:
                units.append(Unit(file, tuple(groups)))
                groups, rows = [], 0
        if groups or not units or units[-1].file != file:
            units.append(Unit(file, tuple(groups) if meta.num_row_groups else None))
    return units


def summarise_unit(
    unit: Unit,
    resolution: int,
    columns: Mapping[str, str] | None,
    tz: str | None,
    chunk_rows: int,
    parts: int,
    digest: bool = True,
) -> dict[str, Any]:
    """Run on a worker: the unit's small summary, counts, partitioned big tables and (with
    ``digest``, for a file's first unit) the file's sha256."""
    totals = Totals(files_read=1 if unit.first else 0)
    small, big = [], {name: [] for name in PARTITION_KEYS}
    try:
        for chunk in iter_chunks(unit.file, columns, tz, chunk_rows, unit.row_groups):
            totals.add_chunk(chunk)
            if chunk.pings.height == 0:
                continue
            summary = summarise_chunk(chunk.pings, resolution)
            small.append(strip(summary))
            for name in PARTITION_KEYS:
                big[name].append(summary.tables[name])
            if len(small) >= FAN_IN:
                small = [merge_small(small)]
    except EmptyInputError as exc:
        totals.files_empty = 1 if unit.first else 0
        totals.empty_message = str(exc)
    except PingFileError as exc:
        raise named(unit.file.label, exc) from exc
    pieces = {
        name: partition(reduce_table(name, frames), name, parts) for name, frames in big.items()
    }
    return {
        "small": merge_small(small) if small else None,
        "totals": totals,
        "digest": file_sha256(unit.file)
        if digest and unit.first and not totals.files_empty
        else None,
        **{name: [pieces[name].get(p) for p in range(parts)] for name in PARTITION_KEYS},
    }


def merge_results(*smalls: Summary | None) -> Summary | None:
    """Merge small summaries (a node of the merge tree)."""
    present = [s for s in smalls if s is not None]
    return merge_small(present) if present else None


def reduce_partition(name: str, keep: CoordsKeep, *pieces: pl.DataFrame | None) -> pl.DataFrame:
    """Reduce one partition of a big table from every unit, then compact it."""
    return reduce_compact(name, [p for p in pieces if p is not None], keep)


def _client(scheduler: str | None) -> Any:
    try:
        from dask.distributed import Client, LocalCluster  # dask is an optional extra
    except ImportError as exc:
        raise PingFileError(f"The dask engine needs Dask; {INSTALL_HINT}.") from exc
    if scheduler:
        try:
            return Client(scheduler, timeout="20s")
        except OSError as exc:
            raise PingFileError(
                f"No Dask scheduler answers at {scheduler}; start one with dask-scheduler "
                "or check the address."
            ) from exc
    # A cluster sized to the machine (Dask chooses workers and threads from the cores);
    # its task-failure warnings stay quiet, the one error line comes from the CLI.
    cluster = LocalCluster(processes=True, dashboard_address=None, silence_logs=logging.ERROR)
    return Client(cluster)


def _tree_merge(client: Any, futures: list[Any]) -> Any:
    while len(futures) > 1:
        futures = [
            client.submit(merge_results, *futures[i : i + FAN_IN], pure=False)
            for i in range(0, len(futures), FAN_IN)
        ]
    return futures[0]


def summarise_dask(
    files: list[sources.InputFile],
    *,
    resolution: int,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    chunk_rows: int | None = None,
    config: Config | None = None,
    label: str = "",
    scheduler: str | None = None,
    progress: Progress = lambda _m: None,
    digest: bool = True,
) -> tuple[Summary, dict]:
    """Compacted summary of many files, computed on a Dask cluster, and its metadata
    (``digest=False`` skips the files' sha256: ``input_sha256`` is then "")."""
    rows = chunk_rows_setting(chunk_rows)
    parts = partition_count(files, rows)
    client = _client(scheduler)
    try:
        units = plan_units(files, rows)
        progress(f"{len(units)} tasks on {len(client.scheduler_info()['workers'])} workers")
        results = [
            client.submit(
                summarise_unit, u, resolution, columns, tz, rows, parts, digest, pure=False
            )
            for u in units
        ]
        field = operator.itemgetter
        totals_list = client.gather([client.submit(field("totals"), r) for r in results])
        digests = client.gather([client.submit(field("digest"), r) for r in results])
        merged = client.gather(
            _tree_merge(client, [client.submit(field("small"), r) for r in results])
        )
        totals = _sum_totals(totals_list)
        totals.check_usable(
            int(merged.tables["cells"]["pings"].sum()) if merged is not None else 0, label
        )
        keep = coords_keep(merged, config)
        tables = {}
        for name in PARTITION_KEYS:
            column = [client.submit(field(name), r) for r in results]
            reduced = [
                client.submit(
                    reduce_partition,
                    name,
                    keep,
                    *[client.submit(field(p), c) for c in column],
                    pure=False,
                )
                for p in range(parts)
            ]
            tables[name] = pl.concat(client.gather(reduced), how="vertical_relaxed")
    finally:
        _close(client, scheduler)
    meta = {
        "input_sha256": sources.combined_sha256([d for d in digests if d]) if digest else "",
        "columns": totals.mapping,
        "files": totals.files,
    }
    return finish(merged, totals, tables), meta


def _sum_totals(parts: list[Totals]) -> Totals:
    totals = Totals()
    for part in parts:
        totals.add(part.rows_read, part.rejected, "", part.naive, {})
        for text in part.interpretations:
            if text not in totals.interpretations:
                totals.interpretations.append(text)
        for role, names in part.columns.items():
            known = totals.columns.setdefault(role, [])
            known.extend(n for n in names if n not in known)
        totals.files_read += part.files_read
        totals.files_empty += part.files_empty
        totals.empty_message = totals.empty_message or part.empty_message
    return totals


def _close(client: Any, scheduler: str | None) -> None:
    cluster = client.cluster if not scheduler else None
    client.close()
    if cluster is not None:
        cluster.close()
