"""Choosing how to process an input: in memory, in bounded chunks, or on Dask.

Every engine produces the same mergeable :class:`~explorer.summary.Summary`; the
detectors then run once on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from explorer.analysis import Analysis, analyze_summary, suggested_resolution_for
from explorer.config import Config
from explorer.io import read_pings
from explorer.summary import Summary, summarise

Progress = Callable[[str], None]
ENGINES = ("auto", "memory")


def _quiet(_: str) -> None:
    return None


def summarise_source(
    source: str | Path | bytes,
    *,
    resolution: int | None = None,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    engine: str = "auto",
    scheduler: str | None = None,
    progress: Progress = _quiet,
) -> tuple[Summary, dict[str, Any]]:
    """Summary of a source and its metadata (source name, sha256, columns, suggestion)."""
    if engine not in ENGINES:
        from explorer.errors import PingFileError

        raise PingFileError(f"Engine {engine!r} is not available; use one of {', '.join(ENGINES)}.")
    progress("reading")
    read = read_pings(source, columns=columns, tz=tz)
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
    )
    meta = {
        "source": read.source,
        "input_sha256": read.input_sha256,
        "columns": read.columns,
        "suggested_resolution": suggested,
    }
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
    salt: str | None = None,
    progress: Progress = _quiet,
) -> Analysis:
    """Summarise with the chosen engine, then detect and rank findings."""
    summary, meta = summarise_source(
        source,
        resolution=resolution,
        columns=columns,
        tz=tz,
        engine=engine,
        scheduler=scheduler,
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
    )
