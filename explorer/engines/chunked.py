"""The chunked engine: files and chunks summarised one at a time, big tables spilled.

Memory holds one chunk (``chunk_rows`` rows), the merged cell tables (cells × hours,
types … — they grow with cells, not with pings) and one spilled partition at a time.
Every chunk's pings (coordinate, device and row hash: its ``coords`` and ``rows``
tables side by side) are cut into partitions by coordinate and written to a temporary
folder, and so are the device-keyed tables (cells × devices, devices, devices × days:
they grow with devices, and a vendor's day can hold millions); each partition is then
reduced on its own, the pings into compacted ``coords`` and ``rows`` (identical rows
share a coordinate, hence a partition; see :mod:`explorer.summary.compact`). Only the
final device tables, which the detectors read, are ever whole in memory.
"""

from __future__ import annotations

import contextlib
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from explorer.analysis import suggested_resolution_for
from explorer.config import Config
from explorer.errors import PingFileError
from explorer.reading import sources
from explorer.reading.chunks import Chunk, file_sha256, iter_chunks
from explorer.reading.decode import EmptyInputError
from explorer.reading.many_files import Totals, named
from explorer.summary import (
    REJECTION_REASONS,
    Summary,
    merge,
    merge_table,
    summarise,
)
from explorer.summary.compact import (
    PARTITION_KEYS,
    compacted_pings,
    coords_keep,
    partition,
)

#: Rows per chunk unless set (``--chunk-rows`` or the environment variable below): a
#: chunk's working memory grows with its rows, and larger chunks ran faster for little
#: more peak memory, which the detectors at the end set either way.
DEFAULT_CHUNK_ROWS = 4_000_000
CHUNK_ROWS_ENV = "EXPLORER_CHUNK_ROWS"
#: Partial summaries merged together once this many have accumulated.
MERGE_EVERY = 8
#: Bytes of input assumed per ping when sizing spill partitions (Parquet is ~20-40).
BYTES_PER_PING = 20
#: The device-keyed tables, spilled in this many partitions by device hash: at 100
#: million pings (2.4 million devices) one partition holds ~1.3 million chunk rows.
DEVICE_PARTS = 16
DEVICE_TABLES = ("cell_devices", "devices", "device_days", "device_moments", "device_nights")
#: Everything spilled rather than merged in memory.
SPILLED = (*PARTITION_KEYS, *DEVICE_TABLES)
#: The spilled table of pings: ``coords`` and ``rows`` of a chunk side by side (one
#: partitioning, one file and one read for both; their rows are the same pings).
PINGS = "pings"
#: Files sampled (first chunk of each) to suggest a resolution when none is given.
SAMPLE_FILES = 8
SAMPLE_ROWS = 200_000

Progress = Callable[[str], None]


def chunk_rows_setting(value: int | None = None) -> int:
    """The chunk size: the argument, else ``EXPLORER_CHUNK_ROWS``, else the default."""
    if value is None:
        text = os.environ.get(CHUNK_ROWS_ENV, "").strip()
        try:  # int() takes spaces and underscores ("2_000_000"), not "1e6" or "4.5"
            value = int(text) if text else DEFAULT_CHUNK_ROWS
        except ValueError:
            raise PingFileError(
                f"{CHUNK_ROWS_ENV} must be a whole number of rows, not {text!r}; fix or unset it."
            ) from None
    if value < 1:
        raise PingFileError(f"The chunk size must be a positive number of rows, not {value}.")
    return int(value)


def partition_count(files: list[sources.InputFile], chunk_rows: int) -> int:
    """Spill partitions so that one reduced partition holds about ``chunk_rows`` rows,
    planned from what the files unpack to (:func:`unpacked_size`)."""
    pings = sum(unpacked_size(f) for f in files) // BYTES_PER_PING
    return int(min(max(pings // chunk_rows + 1, 1), 512))


#: Bytes of CSV a gzip byte is planned to unpack to when its trailer says less: repetitive
#: exports compress far better than the usual four times, and too few partitions hold too
#: many rows each when they are reduced, while too many only cost small files.
GZIP_PLANNED_RATIO = 8


def unpacked_size(file: sources.InputFile) -> int:
    """Bytes a file is planned to unpack to: its size, or for gzip the larger of the
    trailer's size (exact below 4 GiB, the rest modulo 4 GiB) and ``GZIP_PLANNED_RATIO``
    times its size."""
    if file.url or file.pipe or not file.path.lower().endswith(".gz") or file.size < 18:
        return file.size
    try:
        with open(file.path, "rb") as handle:
            handle.seek(-4, os.SEEK_END)
            trailer = int.from_bytes(handle.read(4), "little")
    except OSError:
        trailer = 0
    return max(trailer, file.size * GZIP_PLANNED_RATIO)


def sample_resolution(
    files: list[sources.InputFile], columns: Mapping[str, str] | None, tz: str | None
) -> int:
    """A suggested resolution from the first rows of a few files (evenly spread)."""
    step = max(len(files) // SAMPLE_FILES, 1)
    frames, sampled_bytes = [], 0
    for file in files[::step][:SAMPLE_FILES]:
        try:
            chunk = next(iter_chunks(file, columns, tz, SAMPLE_ROWS), None)
        except EmptyInputError:
            continue
        if chunk is not None and chunk.pings.height:
            frames.append(chunk.pings)
            sampled_bytes += file.size
    if not frames:
        return suggested_resolution_for(pl.DataFrame())
    sample = pl.concat(frames)
    scale = sources.total_bytes(files) / max(sampled_bytes, 1)
    estimate = int(sample.height * max(scale, 1.0))
    return suggested_resolution_for(sample, n_pings=estimate)


def strip(summary: Summary, names: tuple[str, ...] = tuple(PARTITION_KEYS)) -> Summary:
    """The summary without the tables ``names`` (the O(pings) ones unless told)."""
    tables = {k: v for k, v in summary.tables.items() if k not in names}
    return replace(summary, tables=tables)


def merge_small(parts: list[Summary], names: tuple[str, ...] = tuple(PARTITION_KEYS)) -> Summary:
    """Merge summaries stripped of the tables ``names``."""
    empty = {name: pl.DataFrame() for name in names}
    merged = merge(replace(p, tables={**p.tables, **empty}) for p in parts)
    return strip(merged, names)


def summarise_chunk(pings: pl.DataFrame, resolution: int) -> Summary:
    """The partial summary of one chunk's pings (counts are set on the final summary); its
    coords and rows tables are ungrouped (one row per ping), ready to be spilled."""
    return summarise(pings, resolution, rows_read=pings.height, per_ping="ungrouped")


def batches(chunks: Iterable[Chunk], rows: int) -> Iterator[list[Chunk]]:
    """Consecutive chunks grouped so that a group holds at most ``rows`` pings (a chunk is
    never split, so one larger chunk is a group of its own).

    Files smaller than a chunk are summarised together: each summary pays for its
    thread pools, its time-zone table and its H3 grid, whose squares are finer (and
    spare more points from H3) the more points share it.
    """
    batch: list[Chunk] = []
    held = 0
    for chunk in chunks:
        if batch and held + chunk.pings.height > rows:
            yield batch
            batch, held = [], 0
        batch.append(chunk)
        held += chunk.pings.height
    if batch:
        yield batch


def _counted_pings(batch: list[Chunk], totals: Totals) -> pl.DataFrame:
    """The pings of a group of chunks as one contiguous frame; their counts go to totals."""
    for chunk in batch:
        totals.add_chunk(chunk)
    frames = [chunk.pings for chunk in batch]
    return pl.concat(frames, rechunk=True) if len(frames) > 1 else frames[0]


@dataclass
class Spill:
    """Partition files of the spilled tables in a temporary folder (Arrow IPC)."""

    folder: Path
    parts: int
    written: int = 0
    empty: dict[str, pl.DataFrame] = field(default_factory=dict)

    def write(self, summary: Summary) -> None:
        """Spill a chunk's summary, whose coords and rows are ungrouped (one row per ping)."""
        coords, rows = summary.tables["coords"], summary.tables["rows"]
        if coords.height != rows.height:  # grouped tables: their rows are not the pings
            raise ValueError("Spill.write takes a chunk summary with ungrouped coords and rows.")
        pings = pl.DataFrame([coords["lat"], coords["lon"], coords["device"], rows["row_hash"]])
        self._write(PINGS, partition(pings, "coords", self.parts))
        for name in DEVICE_TABLES:
            table = summary.tables[name]
            self.empty.setdefault(name, table.head(0))
            self._write(name, partition(table, name, DEVICE_PARTS, ("device",)))
        self.written += 1

    def _write(self, name: str, pieces: dict[int, pl.DataFrame]) -> None:
        for index, piece in pieces.items():
            target = self.folder / name / str(index)
            target.mkdir(parents=True, exist_ok=True)
            piece.write_ipc(target / f"{self.written}.arrow")

    def pieces(self, name: str, index: int) -> list[pl.DataFrame]:
        folder = self.folder / name / str(index)
        return [pl.read_ipc(p) for p in sorted(folder.glob("*.arrow"))]

    def device_table(self, name: str, pool: ThreadPoolExecutor) -> pl.DataFrame:
        """A device-keyed table, reduced partition by partition (devices never straddle)."""
        parts = pool.map(lambda p: merge_table(name, self.pieces(name, p)), range(DEVICE_PARTS))
        return pl.concat([self.empty[name], *(p for p in parts if p.width)], how="vertical")


def finish(merged: Summary, totals: Totals, tables: dict[str, pl.DataFrame]) -> Summary:
    """The final summary: merged tables plus counts summed over every file and chunk."""
    return replace(
        merged,
        tables={**merged.tables, **tables},
        rows_read=totals.rows_read,
        rejected_by_reason={r: totals.rejected.get(r, 0) for r in REJECTION_REASONS},
        time_interpretation=totals.interpretation,
        naive_timestamps=totals.naive,
    )


def _chunks(
    files: list[sources.InputFile],
    columns: Mapping[str, str] | None,
    tz: str | None,
    chunk_rows: int,
    totals: Totals,
    digests: list[str] | None,
) -> Iterator[Chunk]:
    """The files' chunks; each file's sha256 is appended to ``digests`` unless it is None."""
    for file in files:
        totals.files_read += 1
        try:
            yield from iter_chunks(file, columns, tz, chunk_rows)
        except EmptyInputError as exc:
            totals.files_empty += 1
            totals.empty_message = str(exc)
            continue
        except PingFileError as exc:
            raise named(file.label, exc) from exc
        if digests is not None:
            digests.append(file_sha256(file))


_DONE = object()


def prefetched(items: Iterator[Chunk]) -> Iterator[Chunk]:
    """``items``, with the next one read in a background thread while this one is used.

    Reading and decoding a chunk (Arrow, mostly without the GIL) overlaps summarising the
    previous one; at most one chunk waits. An error while reading is raised here, in
    order, as if read in this thread.
    """
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                ready.put((item, None))
            ready.put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, re-raised there
            ready.put((_DONE, exc))

    worker = threading.Thread(target=produce, name="explorer-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # let a producer blocked on put() see the stop flag
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.1)


def summarise_chunked(
    files: list[sources.InputFile],
    *,
    resolution: int,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    chunk_rows: int | None = None,
    config: Config | None = None,
    label: str = "",
    progress: Progress = lambda _m: None,
    digest: bool = True,
) -> tuple[Summary, dict]:
    """Compacted summary of many files read in chunks, and its metadata (``digest=False``
    skips the files' sha256: ``input_sha256`` is then "")."""
    rows = chunk_rows_setting(chunk_rows)
    totals, small = Totals(), []
    digests: list[str] | None = [] if digest else None
    with tempfile.TemporaryDirectory(prefix="explorer-spill-") as folder:
        spill = Spill(Path(folder), partition_count(files, rows))
        for batch in batches(prefetched(_chunks(files, columns, tz, rows, totals, digests)), rows):
            pings = _counted_pings(batch, totals)
            del batch  # the chunks' frames live on only in ``pings``
            if pings.height == 0:
                continue
            summary = summarise_chunk(pings, resolution)
            del pings
            spill.write(summary)
            small.append(strip(summary, SPILLED))
            if len(small) >= MERGE_EVERY:
                small = [merge_small(small, SPILLED)]
            progress(f"summarised {totals.rows_read:,} rows")
        used = sum(int(s.tables["cells"]["pings"].sum()) for s in small)
        totals.check_usable(used, label)
        merged = merge_small(small, SPILLED)
        keep = coords_keep(merged, config)
        # Partitions are independent: two at a time keep both cores busy between the
        # single-threaded steps (file reads, sorts) of each.
        with ThreadPoolExecutor(2) as pool:
            reduced = list(
                pool.map(
                    lambda p: compacted_pings(spill.pieces(PINGS, p), keep), range(spill.parts)
                )
            )
            tables = {
                name: pl.concat([r[name] for r in reduced], how="vertical_relaxed")
                for name in PARTITION_KEYS
            }
            tables.update({name: spill.device_table(name, pool) for name in DEVICE_TABLES})
    meta = {
        "input_sha256": "" if digests is None else sources.combined_sha256(digests),
        "columns": totals.mapping,
        "files": totals.files,
    }
    return finish(merged, totals, tables), meta
