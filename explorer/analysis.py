"""The one-call API: read, bin, summarise, detect, rank — and the dataset profile."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from explorer import __version__
from explorer.binning.cells import cells_to_str, suggest_resolution_for_points
from explorer.config import Config, load_config
from explorer.findings import Finding
from explorer.reading.pings import ReadResult, read_pings
from explorer.summary import Summary, summarise
from explorer.summary.views import label_key, label_key_of_pings

if TYPE_CHECKING:  # pragma: no cover - typing only
    from explorer.detectors import Context
    from explorer.detectors.needs import SkippedCheck

#: Cells listed in a profile's ``top_cells`` block.
TOP_CELLS = 10
#: Points the resolution is suggested from (an evenly strided sample beyond it).
EXTENT_SAMPLE = 500_000
#: Pings on one local weekday less than this far apart lie on one local date: dates a
#: week apart are at least 7 days less the 26 hours between UTC-12 and UTC+14 apart.
SAME_DATE_SPAN = dt.timedelta(days=7) - dt.timedelta(hours=26)
#: A local weekday counts as a day of the data when it holds this share of the pings:
#: stray rows (null island in its own zone, a default date) do not make a second day.
MIN_DAY_SHARE = 0.05
#: The data covers a whole day when it spans this long: every clock hour then lies in
#: its time window (a daily export runs from 00:00:00 to 23:59:59).
WHOLE_DAY_SPAN = dt.timedelta(hours=23)


@dataclass(frozen=True)
class Analysis:
    """Everything one analysis produced: where the data came from, its summary, findings."""

    source: str
    resolution: int
    suggested_resolution: int
    summary: Summary
    findings: list[Finding]
    config: Config
    input_sha256: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    #: The key of the device labels (by default derived from the data: label_key).
    salt: str = ""
    generated: str = ""
    #: Checks that could not run, each with what the data lacks and why.
    skipped: tuple[SkippedCheck, ...] = ()
    #: Finding kinds of the checks that ran, in the registry's order.
    checks_run: tuple[str, ...] = ()
    #: What the data lacks that some checks need: need -> reason (see detectors.needs).
    lacking: dict[str, str] = field(default_factory=dict)
    #: The reference population given by the user (explorer.reading.reference), or None.
    reference: Any = None
    #: The detectors' context, whose derived views (per cell, per device, per day) the
    #: reports reuse rather than derive again.
    detection_context: Any = field(default=None, repr=False, compare=False)

    @property
    def context(self) -> Context:
        known = self.detection_context
        if known is not None and known.summary is self.summary and known.config is self.config:
            return known
        from explorer.detectors import Context  # see analyze_summary

        return Context(self.summary, self.config, self.salt, self.reference)

    def profile(self) -> dict[str, Any]:
        """The ``rows``, ``time``, ``bbox`` and ``top_cells`` blocks of the report."""
        return profile_blocks(self.summary)

    def provenance(self) -> dict[str, str]:
        return {
            "version": __version__,
            "input_sha256": self.input_sha256,
            "config_sha256": self.config.sha256(),
            "generated": self.generated,
        }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def profile_blocks(summary: Summary) -> dict[str, Any]:
    """Dataset profile: rows read/used/rejected, time span, bounding box, busiest cells."""
    cells = summary.tables["cells"]
    extent = summary.tables["extent"]
    devices = summary.tables["cell_devices"].group_by("cell").agg(devices=pl.len())
    top = (
        cells.join(devices, on="cell", how="left")
        .with_columns(pl.col("devices").fill_null(0))
        .sort(["pings", "cell"], descending=[True, False])
        .head(TOP_CELLS)
    )
    has_rows = cells.height > 0
    return {
        "rows": {
            "read": summary.rows_read,
            "used": summary.rows_used,
            "rejected": summary.rows_rejected,
            "rejected_by_reason": dict(summary.rejected_by_reason),
        },
        "time": {
            "interpretation": summary.time_interpretation,
            "naive": summary.naive_timestamps,
            "start": _iso(cells["first_seen"].min()) if has_rows else None,
            "end": _iso(cells["last_seen"].max()) if has_rows else None,
        },
        "bbox": {
            name: (
                float(extent[name][0]) if extent.height and extent[name][0] is not None else None
            )
            for name in ("lat_min", "lat_max", "lon_min", "lon_max")
        },
        "top_cells": [
            {"cell": cell, "pings": int(p), "devices": int(d)}
            for cell, p, d in zip(
                cells_to_str(top["cell"].to_list()),
                top["pings"].to_list(),
                top["devices"].to_list(),
            )
        ],
    }


def time_span(summary: Summary) -> dt.timedelta:
    """From the first ping to the last (zero without pings)."""
    cells = summary.tables["cells"]
    if cells.is_empty():
        return dt.timedelta(0)
    return cells["last_seen"].max() - cells["first_seen"].min()


def spans_several_days(summary: Summary) -> bool:
    """Whether the pings cover more than one day: they span 24 hours or more, and two
    local weekdays each hold ``MIN_DAY_SHARE`` of them (or one weekday recurs a week on).

    One UTC day of a city west or east of Greenwich touches two local dates, yet it is
    a single day of data.
    """
    span = time_span(summary)
    if span < dt.timedelta(days=1):
        return False
    weekdays = summary.tables["cell_weekdays"].group_by("weekday").agg(pl.col("pings").sum())
    shares = weekdays["pings"] / max(int(weekdays["pings"].sum()), 1)
    return int((shares >= MIN_DAY_SHARE).sum()) >= 2 or span >= SAME_DATE_SPAN


#: Why the coverage check cannot run without a reference population.
NO_REFERENCE = "no reference population was given"


def lacking_inputs(
    summary: Summary, columns: Mapping[str, Any], reference: Any = None
) -> dict[str, str]:
    """What the data lacks that some checks need: need -> the reason in words.

    ``columns`` are the roles read (``device_id``, ``device_type`` …): a role without a
    column and a column without values are told apart; ``reference`` is the user's
    reference population, if any.
    """
    from explorer.detectors.needs import (
        DEVICE_IDS,
        DEVICE_TYPES,
        REFERENCE,
        SEVERAL_DAYS,
        WHOLE_DAY,
    )

    reasons = {
        DEVICE_IDS: _device_id_gap(summary, columns),
        DEVICE_TYPES: _device_type_gap(summary, columns),
        WHOLE_DAY: _whole_day_gap(time_span(summary)),
        SEVERAL_DAYS: None if spans_several_days(summary) else "the data covers a single day",
        REFERENCE: None if reference is not None else NO_REFERENCE,
    }
    return {need: reason for need, reason in reasons.items() if reason}


def _device_id_gap(summary: Summary, columns: Mapping[str, Any]) -> str | None:
    if not summary.tables["devices"].is_empty():
        return None
    return (
        "no row has a device id" if "device_id" in columns else "the file has no device id column"
    )


def _device_type_gap(summary: Summary, columns: Mapping[str, Any]) -> str | None:
    """Why device-type mixes cannot be compared (fewer than two known types), or None."""
    from explorer.detectors.context import UNKNOWN_TYPE

    types = set(summary.tables["cell_types"]["device_type"].unique().to_list()) - {UNKNOWN_TYPE}
    if len(types) >= 2:
        return None
    if "device_type" not in columns:
        return "the file has no device type column"
    return "the file names only one device type" if types else "no row has a device type"


def _whole_day_gap(span: dt.timedelta) -> str | None:
    if span >= WHOLE_DAY_SPAN:
        return None
    hours = span / dt.timedelta(hours=1)
    lasting = f"{hours:.1f} hours" if hours >= 1 else "less than an hour"
    return f"the data spans {lasting}, not a whole day"


def suggested_resolution_for(pings: pl.DataFrame, n_pings: int | None = None) -> int:
    """Suggested H3 resolution from the scale of the places where the pings are.

    Sized from the dense places (see ``suggest_resolution_for_points``), not from the
    bounding box: several metros, or a city across ±180°, get what one city gets, and
    stray points (null island, a trip abroad) form tiny places that do not count.
    ``n_pings`` is the size of the whole input when ``pings`` is a sample of it.
    """
    if pings.is_empty():
        return 8
    total = pings.height if n_pings is None else n_pings
    # An evenly strided sample: the places and their 1 % edges of 500,000 points are
    # within a small fraction of a percent of the whole data's, for a fraction of the time.
    # Column by column: a query on the whole frame would first copy every column into
    # one chunk when they are chunked differently, a copy of every column, strings too.
    step = -(-pings.height // EXTENT_SAMPLE)
    lat, lon = pings["lat"], pings["lon"]
    if step > 1:
        lat, lon = lat.gather_every(step), lon.gather_every(step)
    return suggest_resolution_for_points(lat.to_numpy(), lon.to_numpy(), total)


def analyze_read(
    read: ReadResult,
    *,
    resolution: int | None = None,
    config: Config | None = None,
    salt: str | None = None,
    pings: pl.DataFrame | None = None,
    reference: Any = None,
) -> Analysis:
    """Summarise and detect on pings already read (``pings`` overrides ``read.pings``,
    e.g. a filtered subset), against a ``reference`` population if given."""
    config = config or Config()
    frame = read.pings if pings is None else pings
    suggested = suggested_resolution_for(frame)
    res = suggested if resolution is None else int(resolution)
    summary = summarise(
        frame,
        res,
        rows_read=read.rows_read if pings is None else frame.height,
        rejected_by_reason=read.rejected_by_reason if pings is None else None,
        time_interpretation=read.time_interpretation,
        naive_timestamps=read.naive_timestamps,
        per_ping="compact",
        config=config,
    )
    return analyze_summary(
        summary,
        source=read.source,
        config=config,
        # A subset keeps the labels of the whole read (see label_key_of_pings).
        salt=salt if salt is not None or pings is None else label_key_of_pings(read.pings),
        suggested_resolution=suggested,
        input_sha256=read.input_sha256,
        columns=read.columns,
        reference=reference,
    )


def analyze_summary(
    summary: Summary,
    *,
    source: str,
    config: Config | None = None,
    salt: str | None = None,
    suggested_resolution: int | None = None,
    input_sha256: str = "",
    columns: dict[str, str] | None = None,
    reference: Any = None,
) -> Analysis:
    """Detect and rank findings on a (possibly merged) summary, against a ``reference``
    population (:class:`explorer.reading.reference.Reference`) if given."""
    # Imported here: profiling (read and summarise only) never pays for the detectors'
    # statistics (scipy) at import.
    from explorer.detectors import DETECTORS, Context, detect_all, plan_checks

    config = config or Config()
    # The same file gives the same labels in every run (see label_key).
    salt = salt if salt is not None else label_key(summary)
    needed = {need for detector in DETECTORS for need in detector.needs}
    lacking = {
        need: reason
        for need, reason in lacking_inputs(summary, columns or {}, reference).items()
        if need in needed
    }
    runnable, skipped = plan_checks(lacking)
    context = Context(summary, config, salt, reference)
    findings = detect_all(context, runnable)
    return Analysis(
        source=source,
        resolution=summary.resolution,
        suggested_resolution=summary.resolution
        if suggested_resolution is None
        else suggested_resolution,
        summary=summary,
        findings=findings,
        config=config,
        input_sha256=input_sha256,
        columns=dict(columns or {}),
        salt=salt,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        skipped=tuple(skipped),
        checks_run=tuple(detector.kind for detector in runnable),
        lacking=lacking,
        reference=reference,
        detection_context=context,
    )


def analyze(
    source: str | Path | bytes,
    *,
    resolution: int | None = None,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    config: Config | str | Path | dict | None = None,
    name: str | None = None,
    salt: str | None = None,
    reference: Any = None,
) -> Analysis:
    """Read a ping file (path or bytes) and return its summary and ranked findings;
    ``reference`` is a population to compare the panel's homes with (a
    :class:`explorer.reading.reference.Reference`)."""
    cfg = config if isinstance(config, Config) else load_config(config)
    read = read_pings(source, columns=columns, tz=tz, name=name)
    return analyze_read(read, resolution=resolution, config=cfg, salt=salt, reference=reference)
