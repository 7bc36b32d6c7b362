"""Summarising canonical pings: every table of :data:`~explorer.summary.tables.TABLES`.

:func:`summarise` reads as its steps: the binning stage's per-ping columns, the dense
codes, then one counting pass per group of tables. The steps run on a small scheduler
(:class:`explorer._speed.schedule.Steps`) that starts each one as soon as its inputs
exist, so the counting that needs no cell or no local clock overlaps with the H3 and
time-zone work.

The two tables with about one row per ping (``coords``, ``rows``) are built in one of
three ways (``per_ping``):

- ``"full"``: complete, so partial summaries merge exactly (the default);
- ``"compact"``: already cut to what the detectors read under ``config``
  (:mod:`explorer.summary.compact`): the same findings, far less time and memory, but
  no longer mergeable;
- ``"ungrouped"``: one row per ping, for an engine that spills them and groups them
  once all chunks are read.
"""

from __future__ import annotations

from typing import Any, Literal

import polars as pl

from explorer._speed.codes import device_codes, factorize, type_codes
from explorer._speed.schedule import Steps
from explorer.binning.prepare import (
    cells_of,
    clocked_frame,
    decimals_of,
    placed_frame,
    with_device_hashes,
)
from explorer.config import Config
from explorer.summary.cell_tables import clock_tables, place_tables
from explorer.summary.compact import compacted_tables, keep_rule, repeats_of
from explorer.summary.device_tables import (
    cell_devices,
    device_days_table,
    device_moments,
    device_nights,
    devices_table,
)
from explorer.summary.period_tables import period_hours
from explorer.summary.tables import REJECTION_REASONS, TABLES, Summary, row_hash

PerPing = Literal["full", "compact", "ungrouped"]

#: Steps run at a time: two cores, plus one so that a step waiting on memory or on a
#: library's own threads (H3, polars) does not leave a core idle.
THREADS = 3


def summarise(
    pings: pl.DataFrame,
    resolution: int,
    *,
    rows_read: int | None = None,
    rejected_by_reason: dict[str, int] | None = None,
    time_interpretation: str = "",
    naive_timestamps: bool = False,
    per_ping: PerPing = "full",
    config: Config | None = None,
) -> Summary:
    """Summarise canonical pings at ``resolution`` (counts are pings unless named devices).

    ``pings`` carry their ids, or the ids' ``device`` hashes instead (``read_pings``'
    ``device_ids=False``). ``rows_read`` and ``rejected_by_reason`` are reading's counts
    (default: every ping read, none rejected). ``per_ping`` chooses how the two per-ping
    tables are built (see the module); ``config`` sets what ``"compact"`` keeps.
    """
    steps = Steps()
    steps.add("cells", lambda p: cells_of(p, resolution), "pings")
    steps.add("decimals", decimals_of, "pings")
    steps.add("placed", placed_frame, "pings", "cells", "decimals")
    steps.add("coarse", lambda d: d.coarse, "decimals")
    steps.add("prepared", clocked_frame, "placed", "cell_codes")
    return _summary_of(
        steps,
        {"pings": with_device_hashes(pings)},
        resolution,
        rows_read=rows_read,
        rejected_by_reason=rejected_by_reason,
        time_interpretation=time_interpretation,
        naive_timestamps=naive_timestamps,
        per_ping=per_ping,
        config=config,
    )


def summarise_prepared(frame: pl.DataFrame, resolution: int, **options: Any) -> Summary:
    """:func:`summarise` (with the same keywords) of pings already passed through
    :func:`~explorer.binning.prepare.prepare`: the binning steps are skipped."""
    given = {
        "pings": frame,
        "cells": frame["cell"],
        "placed": frame,
        "prepared": frame,
        "coarse": frame["coarse"].to_numpy(),
    }
    return _summary_of(Steps(), given, resolution, **options)


class _Reading:
    """What reading said about the pings, carried into the summary."""

    def __init__(
        self, rejected: dict[str, int] | None, time_interpretation: str, naive: bool
    ) -> None:
        self.rejected = {reason: 0 for reason in REJECTION_REASONS} | (rejected or {})
        self.time_interpretation = time_interpretation
        self.naive = naive


def _summary_of(
    steps: Steps,
    given: dict[str, Any],
    resolution: int,
    *,
    rows_read: int | None = None,
    rejected_by_reason: dict[str, int] | None = None,
    time_interpretation: str = "",
    naive_timestamps: bool = False,
    per_ping: PerPing = "full",
    config: Config | None = None,
) -> Summary:
    """Add the counting steps to ``steps`` (whose binning steps, or ``given``, provide
    ``pings``, ``cells``, ``coarse``, ``placed`` and ``prepared``), run them, and gather
    the tables into a summary."""
    reading = _Reading(rejected_by_reason, time_interpretation, naive_timestamps)
    steps.add("cell_codes", factorize, "cells")
    steps.add("devices", device_codes, "pings")
    steps.add("types", lambda p: type_codes(p["device_type"]), "pings")
    steps.add("devices_table", _devices_table, "pings", "coarse", "types", "devices")
    steps.add("place_tables", place_tables, "placed", "cell_codes", "types")
    steps.add("clock_tables", clock_tables, "prepared", "cell_codes")
    steps.add("device_days", device_days_table, "prepared", "devices")
    steps.add("cell_devices", cell_devices, "prepared", "cell_codes", "devices")
    steps.add("device_moments", device_moments, "prepared", "cell_codes", "devices")
    steps.add("period_hours", period_hours, "prepared")
    steps.add("device_nights", device_nights, "prepared", "cell_codes", "devices")
    _add_per_ping_steps(steps, per_ping, config)
    done = steps.run(given, THREADS)
    tables = {
        **done["place_tables"],
        **done["clock_tables"],
        **done["per_ping"],
        "devices": done["devices_table"],
        "device_days": done["device_days"],
        "cell_devices": done["cell_devices"],
        "device_moments": done["device_moments"],
        "period_hours": done["period_hours"],
        "device_nights": done["device_nights"],
    }
    used = done["pings"].height
    return Summary(
        resolution=resolution,
        tables={name: tables.get(name, pl.DataFrame()) for name in TABLES},
        rows_read=used + sum(reading.rejected.values()) if rows_read is None else rows_read,
        rejected_by_reason=reading.rejected,
        time_interpretation=reading.time_interpretation,
        naive_timestamps=reading.naive,
    )


def _devices_table(pings: pl.DataFrame, coarse, types, devices) -> pl.DataFrame:
    return devices_table(pings["timestamp"], coarse, types, devices)


def _add_per_ping_steps(steps: Steps, per_ping: PerPing, config: Config | None) -> None:
    """The step ``per_ping``: the coords and rows tables, built as ``per_ping`` says."""
    if per_ping == "full":
        steps.add("per_ping", _full_per_ping_tables, "pings")
    elif per_ping == "ungrouped":
        steps.add("per_ping", _ungrouped_per_ping_tables, "pings")
    elif per_ping == "compact":
        # The keep rule needs the main mass, hence the complete cells table.
        steps.add("repeats", repeats_of, "pings")
        steps.add("keep", lambda tables: keep_rule(tables["cells"], config), "place_tables")
        steps.add("per_ping", compacted_tables, "pings", "repeats", "keep")
    else:
        raise ValueError(f"per_ping is one of full, compact, ungrouped, not {per_ping!r}")


def _full_per_ping_tables(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The two O(pings) tables, complete (mergeable): coords and rows."""
    count = pl.len().cast(pl.Int64).alias("pings")
    lazy = frame.lazy()
    coords = lazy.group_by("lat", "lon", "device").agg(count)
    rows = lazy.group_by(row_hash()).agg(count)
    return dict(zip(("coords", "rows"), pl.collect_all([coords, rows]), strict=True))


def _ungrouped_per_ping_tables(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The coords and rows tables as one row per ping (``pings`` = 1): nearly every key is
    unique within a chunk, so grouping there saves no rows; the spilled partitions are
    grouped once, when they are reduced (which sums ``pings``)."""
    one = pl.lit(1, pl.Int64).alias("pings")
    return {
        "coords": frame.select("lat", "lon", "device", one),
        "rows": frame.select(row_hash(), one),
    }
