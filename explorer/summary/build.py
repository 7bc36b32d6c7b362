"""Mergeable partial aggregates of canonical pings.

A :class:`Summary` is a set of keyed count tables plus row counts. Every table merges
by grouping on its keys and combining its values (sum, min, max, bitwise or), so
``summarise(A ∪ B) == merge(summarise(A), summarise(B))`` holds exactly: the same code
serves one frame, a stream of chunks and a Dask cluster. Detectors read summaries only.

Device ids are replaced by 64-bit hashes (``device`` columns); the chance that two of a
million devices collide is about 3e-8. Rows without a device id count in every
per-ping table but in no per-device one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from explorer.binning.prepare import Steps, prepare_coded
from explorer.reading.device_hash import HASH_SEED, device_hashes
from explorer.reading.pings import REJECT_REASONS
from explorer.summary.cell_tables import clock_tables, place_tables
from explorer.summary.codes import Coded, device_codes, factorize, type_codes
from explorer.summary.device_tables import cell_devices, device_days_table, devices_table

#: The rejection reasons of reading, in the order they are checked.
REJECTION_REASONS = REJECT_REASONS

_SUM, _MIN, _MAX, _OR = "sum", "min", "max", "or"

#: table name -> (key columns, {value column: how it merges})
TABLES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "cells": (
        ("cell",),
        {"pings": _SUM, "no_device_pings": _SUM, "first_seen": _MIN, "last_seen": _MAX},
    ),
    "cell_hours": (("cell", "hour"), {"pings": _SUM}),
    "cell_weekdays": (("cell", "weekday"), {"pings": _SUM}),
    "cell_types": (("cell", "device_type"), {"pings": _SUM}),
    "cell_devices": (("cell", "device"), {"pings": _SUM, "hour_mask": _OR}),
    "devices": (
        ("device", "device_type"),
        {"pings": _SUM, "coarse_pings": _SUM, "first_seen": _MIN, "last_seen": _MAX},
    ),
    "device_days": (("device", "day"), {"pings": _SUM}),
    "coords": (("lat", "lon", "device"), {"pings": _SUM}),
    "rows": (("row_hash",), {"pings": _SUM}),
    "seconds_utc": (("second",), {"pings": _SUM}),
    "seconds_local": (("second",), {"pings": _SUM}),
    "decimals": (("lat_decimals", "lon_decimals"), {"pings": _SUM}),
    "extent": ((), {"lat_min": _MIN, "lat_max": _MAX, "lon_min": _MIN, "lon_max": _MAX}),
}


@dataclass(frozen=True)
class Summary:
    """Partial aggregates of pings at one H3 resolution (see ``TABLES``)."""

    resolution: int
    tables: dict[str, pl.DataFrame]
    rows_read: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    time_interpretation: str = ""
    naive_timestamps: bool = False

    @property
    def rows_rejected(self) -> int:
        return int(sum(self.rejected_by_reason.values()))

    @property
    def rows_used(self) -> int:
        return int(self.tables["cells"]["pings"].sum() or 0)

    def canonical(self) -> Summary:
        """The same summary with every table sorted by its keys (for comparisons)."""
        tables = {}
        for name, frame in self.tables.items():
            keys = list(TABLES[name][0])
            tables[name] = frame.sort(keys, nulls_last=True) if keys else frame
        return replace(self, tables=tables)


#: The five canonical columns, the device as its hash: equal rows over these are exact
#: duplicates. The hash rather than the id, so that a reader may hash the ids as it
#: decodes them and never make their strings (see :func:`explorer.reading.pings.read_pings`); two
#: rows of different devices share a row only if their devices share a hash (about 3e-8
#: for a million devices).
ROW_COLUMNS = ("device", "timestamp", "lat", "lon", "device_type")


def row_hash() -> pl.Expr:
    """A 64-bit hash of the five canonical columns (types as text: Categorical codes differ
    between processes); equal rows share it. Computed where a table needs it, not in
    :func:`~explorer.binning.prepare.prepare`: the memory engine hashes only pings whose
    coordinate repeats. The frame needs ``device``
    (:func:`~explorer.reading.device_hash.device_hashes`), not the ids.
    """
    columns = [pl.col(c).cast(pl.String) if c == "device_type" else pl.col(c) for c in ROW_COLUMNS]
    return pl.struct(columns).hash(HASH_SEED).alias("row_hash")


def _per_ping_tables(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The two O(pings) tables, complete (mergeable): coords and rows."""
    count = pl.len().cast(pl.Int64).alias("pings")
    lazy = frame.lazy()
    coords = lazy.group_by("lat", "lon", "device").agg(count)
    rows = lazy.group_by(row_hash()).agg(count)
    return dict(zip(("coords", "rows"), pl.collect_all([coords, rows]), strict=True))


#: Builds the coords and rows tables from the pings with their device hashes (the input's
#: columns and ``device``; a prepared frame has them too). It runs beside the other
#: tables; its second argument returns (waiting until it exists) a summary whose tables
#: keyed by place (cells, cell_types, decimals, extent) are complete; its other tables
#: are still empty.
PerPing = Callable[[pl.DataFrame, Callable[[], "Summary"]], dict[str, pl.DataFrame]]


def summarise(pings: pl.DataFrame, resolution: int, **options: Any) -> Summary:
    """Summarise canonical pings at ``resolution`` (counts are pings unless named devices):
    with their ids, or with the ids' ``device`` hashes instead (``read_pings``'
    ``device_ids=False``).

    ``options`` are :func:`summarise_prepared`'s keywords (counts from reading, the time
    interpretation, ``per_ping``). What needs no cell starts before the cells exist.
    """
    settings = _Options(**options)
    with_device = (
        pings  # read with its ids hashed (read_pings' ``device_ids=False``)
        if "device" in pings.columns
        else pings.with_columns(device_hashes(pings["device_id"]))
    )
    return _summarise(
        with_device,
        resolution,
        lambda steps: prepare_coded(with_device, resolution, steps),
        settings,
    )


def summarise_prepared(
    frame: pl.DataFrame,
    resolution: int,
    *,
    rows_read: int | None = None,
    rejected_by_reason: dict[str, int] | None = None,
    time_interpretation: str = "",
    naive_timestamps: bool = False,
    per_ping: PerPing | None = None,
) -> Summary:
    """The summary of pings already passed through :func:`prepare`.

    By default every table is complete, so partial summaries merge exactly. ``per_ping``
    replaces how the two O(pings) tables are built: the memory engine passes
    :func:`explorer.summary.compact.compacting`, which builds them already cut to what
    the detectors read (the same findings, far less time and memory, no longer mergeable).
    """
    options = _Options(
        rows_read, rejected_by_reason, time_interpretation, naive_timestamps, per_ping
    )

    def prepared(steps: Steps) -> tuple[pl.DataFrame, Coded]:
        steps.coarse_known(frame["coarse"].to_numpy())
        steps.binned()  # the cells exist already
        coded = factorize(frame["cell"])
        steps.placed(frame, coded)
        return frame, coded

    return _summarise(frame, resolution, prepared, options)


@dataclass(frozen=True)
class _Options:
    """:func:`summarise_prepared`'s keywords (an unknown one is a TypeError)."""

    rows_read: int | None = None
    rejected_by_reason: dict[str, int] | None = None
    time_interpretation: str = ""
    naive_timestamps: bool = False
    per_ping: PerPing | None = None


def _summarise(
    with_device: pl.DataFrame,
    resolution: int,
    prepared: Callable[[Steps], tuple[pl.DataFrame, Coded]],
    options: _Options,
) -> Summary:
    """Every table; ``prepared(steps)`` gives the prepared frame and its cell codes, and
    reports its steps as they are done (:class:`Steps`).

    Counting passes on dense codes (numpy and Arrow release the GIL): the device and type
    codes (made while the pings are binned: they need no cell), the tables keyed by place
    (while the time zones are looked up), both per-device jobs and the per-ping tables
    run on threads beside the tables of the local clock.
    """
    rejected = {reason: 0 for reason in REJECTION_REASONS}
    rejected.update(options.rejected_by_reason or {})
    rows_read = options.rows_read

    def summary_of(tables: dict[str, pl.DataFrame], pings: int) -> Summary:
        return Summary(
            resolution=resolution,
            tables={name: tables.get(name, pl.DataFrame()) for name in TABLES},
            rows_read=pings + sum(rejected.values()) if rows_read is None else rows_read,
            rejected_by_reason=rejected,
            time_interpretation=options.time_interpretation,
            naive_timestamps=options.naive_timestamps,
        )

    placed_done: Future[Summary] = Future()
    build = options.per_ping or (lambda f, _: _per_ping_tables(f))
    with ThreadPoolExecutor(4) as pool:
        devices = pool.submit(device_codes, with_device)
        types_job = pool.submit(type_codes, with_device["device_type"])  # needs no cell either
        started: dict[str, Future[Any]] = {}
        starting = threading.Lock()

        def start_per_ping() -> None:
            # The per-ping tables need no cell either, only a core: they start once H3 is
            # done or the devices table is, whichever comes first, on the core that leaves
            # idle (started with H3, they only slowed it down and held more memory at once).
            with starting:
                if "per_ping" not in started:
                    started["per_ping"] = pool.submit(build, with_device, placed_done.result)

        def start_devices(coarse: np.ndarray) -> None:
            # The devices table needs no cell or local clock: counted while H3 runs, on
            # the core the device codes leave idle when they are done before the cells.
            def job() -> pl.DataFrame:
                table = devices_table(
                    with_device["timestamp"], coarse, types_job.result(), devices.result()
                )
                start_per_ping()
                return table

            started["devices"] = pool.submit(job)

        def start_placed(placed: pl.DataFrame, cells: Coded) -> None:
            # The tables keyed by place need no local clock: counted while the time zones
            # are looked up; the per-ping tables wait for them (for the main mass).
            def job() -> dict[str, pl.DataFrame]:
                try:
                    tables = place_tables(placed, cells, types_job.result())
                except BaseException as exc:  # never leave the per-ping thread waiting
                    placed_done.set_exception(exc)
                    raise
                placed_done.set_result(summary_of(tables, placed.height))
                return tables

            started["placed"] = pool.submit(job)

        try:
            frame, cells = prepared(Steps(start_per_ping, start_devices, start_placed))
            days = pool.submit(lambda: device_days_table(frame, devices.result()))
            pairs = pool.submit(lambda: cell_devices(frame, cells, devices.result()))
            tables = clock_tables(frame, cells)
            tables.update(started["placed"].result())
        except BaseException as exc:  # the per-ping thread must not wait for it forever
            with suppress(InvalidStateError):  # unless the place tables were done
                placed_done.set_exception(exc)
            raise
        tables.update(started["per_ping"].result())
        tables.update(
            devices=started["devices"].result(),
            device_days=days.result(),
            cell_devices=pairs.result(),
        )
        summary = summary_of(tables, frame.height)
    return summary


def merge_table(name: str, frames: list[pl.DataFrame]) -> pl.DataFrame:
    """One table of several partial summaries, combined by key (no columns if all empty)."""
    keys, values = TABLES[name]
    frames = [f for f in frames if f.height]
    if not frames:
        return next(iter(frames), None) or pl.DataFrame()
    stacked = pl.concat(frames, how="vertical_relaxed")
    ops = {
        _SUM: lambda c: pl.col(c).sum(),
        _MIN: lambda c: pl.col(c).min(),
        _MAX: lambda c: pl.col(c).max(),
        _OR: lambda c: pl.col(c).bitwise_or(),
    }
    aggs = [ops[how](col).alias(col) for col, how in values.items()]
    if not keys:
        return stacked.select(aggs)
    return stacked.group_by(list(keys)).agg(aggs)


def merge(summaries: Iterable[Summary]) -> Summary:
    """Combine partial summaries of disjoint sets of pings into one."""
    parts = list(summaries)
    if not parts:
        raise ValueError("merge() needs at least one summary.")
    resolutions = {s.resolution for s in parts}
    if len(resolutions) != 1:
        raise ValueError(f"Cannot merge summaries at different resolutions: {sorted(resolutions)}.")
    tables = {}
    for name in TABLES:
        frames = [s.tables[name] for s in parts]
        merged = merge_table(name, frames)
        tables[name] = merged if merged.width else frames[0]
    rejected = {
        reason: sum(s.rejected_by_reason.get(reason, 0) for s in parts)
        for reason in REJECTION_REASONS
    }
    interpretations = sorted({s.time_interpretation for s in parts if s.time_interpretation})
    return Summary(
        resolution=parts[0].resolution,
        tables=tables,
        rows_read=sum(s.rows_read for s in parts),
        rejected_by_reason=rejected,
        time_interpretation="; ".join(interpretations),
        naive_timestamps=any(s.naive_timestamps for s in parts),
    )
