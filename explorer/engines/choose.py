"""Choosing how to process an input: in memory, in bounded chunks, or on Dask.

Every engine produces the same :class:`~explorer.summary.Summary`; the detectors
then run once on it. ``memory`` reads everything at once (fastest while it
fits); ``chunked`` reads files in chunks of ``chunk_rows`` rows and spills the
O(pings) tables to disk; ``dask`` summarises files and row groups on the workers of a
Dask cluster. All three return compacted summaries (see
:mod:`explorer.summary.compact`): the same findings, bounded memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from explorer.analysis import Analysis, analyze_summary, suggested_resolution_for
from explorer.config import Config
from explorer.engines.chunked import sample_resolution, summarise_chunked
from explorer.engines.dask_cluster import summarise_dask
from explorer.engines.sizing import fits_in_memory, unpacked_budget
from explorer.errors import PingFileError
from explorer.reading import sources
from explorer.reading.decode import UnpackedTooLarge, max_unpacked_bytes
from explorer.reading.pings import read_pings
from explorer.summary import Summary, summarise

Progress = Callable[[str], None]
ENGINES = ("auto", "memory", "chunked", "dask")


def _quiet(_: str) -> None:
    return None


def choose_engine(source: str | Path | bytes, memory: int | None = None) -> str:
    """``memory`` when the input comfortably fits, else ``chunked``."""
    if isinstance(source, bytes | bytearray | memoryview):
        return "memory"
    return "memory" if fits_in_memory(sources.expand_source(source), memory) else "chunked"


def _summarise_memory(
    source: str | Path | bytes,
    resolution: int | None,
    columns: Mapping[str, str] | None,
    tz: str | None,
    config: Config | None,
    progress: Progress,
    digest: bool,
) -> tuple[Summary, dict[str, Any]]:
    # A summary counts devices by their hashes: Parquet ids are hashed as they are decoded.
    memory = unpacked_budget()
    try:
        read = read_pings(
            source,
            columns=columns,
            tz=tz,
            digest=digest,
            device_ids=False,
            max_unpacked=min(memory, max_unpacked_bytes()),
        )
    except UnpackedTooLarge as exc:
        if memory >= max_unpacked_bytes():
            raise  # the configured limit was reached: its own sentence says so
        name = "the input" if isinstance(source, bytes) else Path(os.fspath(source)).name
        raise UnpackedTooLarge(
            f"{name} unpacks to more than {memory / (1 << 20):,.0f} MB, more than the "
            "memory engine holds on this machine (half its memory at 4 bytes per byte of "
            "CSV); use --engine chunked or auto, which stream it."
        ) from exc
    progress(
        f"read {read.rows_read:,} rows ({read.rows_rejected:,} rejected); binning and summarising"
    )
    suggested = suggested_resolution_for(read.pings)
    summary = summarise(
        read.pings,
        suggested if resolution is None else resolution,
        rows_read=read.rows_read,
        rejected_by_reason=read.rejected_by_reason,
        time_interpretation=read.time_interpretation,
        naive_timestamps=read.naive_timestamps,
        per_ping="compact",
        config=config,
    )
    meta = {
        "source": read.source,
        "input_sha256": read.input_sha256,
        "columns": read.columns,
        "suggested_resolution": suggested,
        "files": read.files,
        "engine": "memory",
    }
    return summary, meta


def summarise_source(
    source: str | Path | bytes,
    *,
    resolution: int | None = None,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    engine: str = "auto",
    scheduler: str | None = None,
    chunk_rows: int | None = None,
    config: Config | None = None,
    progress: Progress = _quiet,
    digest: bool = True,
) -> tuple[Summary, dict[str, Any]]:
    """Summary of a source (file, bytes, folder, glob or URL) and its metadata.

    The metadata holds source, input_sha256 ("" with ``digest=False``, which skips
    hashing the input), columns, suggested_resolution, files (read, empty) and the
    engine used. ``config`` sets what compaction keeps (every engine returns compacted
    coords and rows tables); analyse with the same config.
    """
    if engine not in ENGINES:
        raise PingFileError(f"Engine {engine!r} is not available; use one of {', '.join(ENGINES)}.")
    chosen = choose_engine(source) if engine == "auto" else engine
    progress(f"reading with the {chosen} engine")
    if chosen == "memory":
        try:
            return _summarise_memory(source, resolution, columns, tz, config, progress, digest)
        except UnpackedTooLarge:
            # Planned from the packed size, but it unpacks past what fits: stream it.
            if engine != "auto" or isinstance(source, bytes | bytearray | memoryview):
                raise
            chosen = "chunked"
            progress("the input unpacks to more than fits in memory; reading it in chunks")
    engine = chosen
    if isinstance(source, bytes | bytearray | memoryview):
        raise PingFileError(f"The {engine} engine reads files; pass a path, folder or glob.")
    files = sources.expand_source(source)
    label = Path(os.fspath(source)).name if len(files) == 1 else os.fspath(source)
    # The suggestion needs a sample read here, on the client: skip it when told the resolution.
    suggested = sample_resolution(files, columns, tz) if resolution is None else resolution
    res = suggested
    options = {
        "resolution": res,
        "columns": columns,
        "tz": tz,
        "chunk_rows": chunk_rows,
        "digest": digest,
    }
    if engine == "chunked":
        summary, meta = summarise_chunked(
            files, **options, config=config, label=label, progress=progress
        )
    else:
        summary, meta = summarise_dask(
            files, **options, config=config, label=label, scheduler=scheduler, progress=progress
        )
    meta.update(source=label, suggested_resolution=suggested, engine=engine)
    return summary, meta


def analyze_source(
    source: str | Path | bytes,
    *,
    resolution: int | None = None,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    config: Config | None = None,
    engine: str = "auto",
    scheduler: str | None = None,
    chunk_rows: int | None = None,
    salt: str | None = None,
    progress: Progress = _quiet,
    reference: Any = None,
) -> Analysis:
    """Summarise with the chosen engine, then detect and rank findings (against a
    ``reference`` population, :class:`explorer.reading.reference.Reference`, if given)."""
    summary, meta = summarise_source(
        source,
        resolution=resolution,
        columns=columns,
        tz=tz,
        engine=engine,
        scheduler=scheduler,
        chunk_rows=chunk_rows,
        config=config,
        progress=progress,
    )
    progress("detecting")
    return analyze_summary(
        summary,
        source=meta["source"],
        config=config,
        salt=salt,
        suggested_resolution=meta["suggested_resolution"],
        input_sha256=meta["input_sha256"],
        columns=meta["columns"],
        reference=reference,
    )
