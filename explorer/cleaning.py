"""Acting on findings: the rows behind a finding, and a cleaned copy of the data (without
the rows of some findings, or with only the devices a usable-panel rule keeps).

These are exports of the user's own rows, so they keep the original values (device
ids in clear), except that a CSV copy is formula-safe (:mod:`explorer.safe_csv`): a text
value that starts like a spreadsheet formula gets a leading apostrophe. Rows are
selected with vectorised polars expressions; only the labels of distinct devices are
computed in Python (one short hash each).
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from explorer.analysis import Analysis, analyze_read, suggested_resolution_for
from explorer.binning.cells import cell_resolution, latlng_to_cells, str_to_cell
from explorer.binning.decimals import COARSE_DECIMALS
from explorer.config import Config
from explorer.findings import Finding, FindingKind
from explorer.geography.timezones import local_offsets, zone_names
from explorer.reading.device_hash import device_hashes
from explorer.reading.pings import ReadResult, read_pings
from explorer.reading.sources import is_input_file
from explorer.safe_csv import write_csv
from explorer.summary import Summary, summarise
from explorer.summary.panel_rule import PanelRule, kept_devices, parse_rule
from explorer.summary.views import device_label

#: Kinds :func:`clean` can drop, in the order a removed row is counted under.
DROPPABLE = ("null_island", "duplicate_pings", "device_concentration")
#: What else a row removed by a usable-panel rule counts under, after the kinds: rows of
#: devices the rule leaves out, and rows without a device id (no rule can keep them).
PANEL_REASONS = ("keep_panel", "no_device_id")
#: Null-island radius in degrees (on both axes) when neither the finding nor the
#: config says; the null-island detector's default (~1.1 km of open sea).
NULL_ISLAND_RADIUS_DEG = 0.01
_LABEL = re.compile(r"device-[0-9a-f]{8}")


@dataclass(frozen=True)
class PanelKept:
    """What a usable-panel rule kept: the rule, and the devices it keeps and leaves out
    (judged on the whole input, as the report's survival table counts them)."""

    rule: PanelRule
    devices_kept: int
    devices_removed: int


@dataclass(frozen=True)
class CleanResult:
    """What :func:`clean` wrote: rows removed per dropped kind (and per panel reason),
    rows kept, where, and what the panel rule kept when one was given."""

    removed: dict[str, int]
    kept: int
    output: Path
    panel: PanelKept | None = None

    @property
    def removed_total(self) -> int:
        return sum(self.removed.values())


def _finding_parts(finding: Finding | dict[str, Any]) -> tuple[str, list[str], dict[str, Any]]:
    """(kind, cells, evidence) of a Finding or of its report dict."""
    if isinstance(finding, Finding):
        return finding.kind, list(finding.cells), dict(finding.evidence)
    return (
        str(finding["kind"]),
        list(finding.get("cells") or []),
        dict(finding.get("evidence") or {}),
    )


def null_island_radius(analysis: Analysis | None, config: Config | None = None) -> float:
    """Null-island radius (degrees) of the analysis: its finding, its config, else of
    ``config``, else the default."""
    if analysis is not None:
        for f in analysis.findings:
            if f.kind == FindingKind.NULL_ISLAND and "radius_deg" in f.evidence:
                return float(f.evidence["radius_deg"])
        config = analysis.config
    places = getattr(config, "places", None)
    return float(getattr(places, "null_island_radius_deg", NULL_ISLAND_RADIUS_DEG))


def null_island_mask(frame: pl.DataFrame, radius_deg: float) -> pl.Series:
    """True for pings within ``radius_deg`` of (0, 0) on both axes."""
    return frame.select(
        (pl.col("lat").abs() <= radius_deg) & (pl.col("lon").abs() <= radius_deg)
    ).to_series()


def duplicate_copy_mask(frame: pl.DataFrame) -> pl.Series:
    """True for every exact copy of an earlier row (the first copy stays False)."""
    return frame.select(~pl.struct(pl.all()).is_first_distinct()).to_series()


def _labels_in(value: Any) -> set[str]:
    """Every salted device label anywhere in an evidence value."""
    if isinstance(value, str):
        return set(_LABEL.findall(value))
    if isinstance(value, dict):
        return set().union(*(_labels_in(v) for v in value.values())) if value else set()
    if isinstance(value, list | tuple):
        return set().union(*(_labels_in(v) for v in value)) if value else set()
    return set()


def device_mask(frame: pl.DataFrame, labels: Collection[str], salt: str) -> pl.Series:
    """True for pings of devices whose salted label is in ``labels``.

    The label of a device is recomputed from the same hash the summaries use, so it
    matches the labels in stories and evidence of an analysis with this ``salt``.
    """
    hashed = device_hashes(frame["device_id"])
    wanted = set(labels)
    if not wanted:
        return pl.Series(values=[False] * frame.height, dtype=pl.Boolean)
    matching = [
        h for h in hashed.drop_nulls().unique().to_list() if device_label(h, salt) in wanted
    ]
    return hashed.is_in(matching).fill_null(False)


def busiest_devices_mask(frame: pl.DataFrame, n_devices: int) -> pl.Series:
    """True for pings of the ``n_devices`` devices with the most pings (ties by id)."""
    top = (
        frame.filter(pl.col("device_id").is_not_null())
        .group_by("device_id")
        .agg(pings=pl.len())
        .sort(["pings", "device_id"], descending=[True, False])
        .head(n_devices)
    )
    return frame["device_id"].is_in(top["device_id"].implode()).fill_null(False)


def cells_mask(frame: pl.DataFrame, cells: Iterable[str]) -> pl.Series:
    """True for pings inside any of ``cells`` (hex ids, each at its own resolution)."""
    by_res: dict[int, list[int]] = {}
    for cell in cells:
        value = str_to_cell(cell)
        by_res.setdefault(cell_resolution(value), []).append(value)
    mask = pl.Series(values=[False] * frame.height, dtype=pl.Boolean)
    for res, values in by_res.items():
        mask = mask | latlng_to_cells(frame["lat"], frame["lon"], res).is_in(values)
    return mask


def _concentration_labels(findings: Iterable[Finding]) -> set[str]:
    out: set[str] = set()
    for f in findings:
        if f.kind == FindingKind.DEVICE_CONCENTRATION:
            out |= _labels_in(f.evidence)
    return out


def _coarse_mask(frame: pl.DataFrame) -> pl.Series:
    """True where both coordinates have at most ``COARSE_DECIMALS`` decimals."""
    return frame.select(
        (pl.col("lat").round(COARSE_DECIMALS) == pl.col("lat"))
        & (pl.col("lon").round(COARSE_DECIMALS) == pl.col("lon"))
    ).to_series()


def heaped_seconds(evidence: dict[str, Any]) -> list[int]:
    """Seconds of the day the evidence names as heaps (``heaps[].time`` "HH:MM:SS" or
    ``seconds``); midnight when it names none."""
    out = [int(s) for s in evidence.get("seconds") or [] if isinstance(s, int | float)]
    for heap in evidence.get("heaps") or []:
        clock = str(heap.get("time", "")) if isinstance(heap, dict) else ""
        if re.fullmatch(r"\d{2}:\d{2}:\d{2}", clock):
            h, m, sec = (int(x) for x in clock.split(":"))
            out.append(h * 3600 + m * 60 + sec)
    return out or [0]


def _heaping_mask(frame: pl.DataFrame, evidence: dict[str, Any]) -> pl.Series:
    """True for pings at a heaped second of the day, on the clock the evidence names
    (``clock: utc``; otherwise local time at the ping's place)."""

    micros = frame["timestamp"].dt.epoch("us")
    if evidence.get("clock") != "utc":
        offset = local_offsets(frame["timestamp"], zone_names(frame["lat"], frame["lon"]))
        micros = micros + offset.cast(pl.Int64) * 1_000_000
    # Only whole seconds heap: a timestamp with a fraction is not a default value.
    whole = micros % 1_000_000 == 0
    return whole & ((micros // 1_000_000) % 86_400).is_in(heaped_seconds(evidence))


def affected_rows(
    read: ReadResult, finding: Finding | dict[str, Any], analysis: Analysis
) -> pl.DataFrame:
    """The user's rows behind one finding (original values, device ids in clear).

    Null island: rows within the radius of (0, 0); duplicates: every copy of a
    duplicated row; device concentration: the flagged devices' rows (in the finding's
    cells when it has any), or the ``top_devices`` busiest devices' rows for a
    data-set-wide finding; coordinate precision: coarse coordinates; timestamp
    heaping: rows at the heaped seconds; other kinds: rows in the finding's cells, or
    every row for a data-set-wide finding.
    """
    kind, cells, evidence = _finding_parts(finding)
    frame = read.pings
    if kind == FindingKind.NULL_ISLAND:
        radius = float(evidence.get("radius_deg", null_island_radius(analysis)))
        return frame.filter(null_island_mask(frame, radius))
    if kind == FindingKind.DUPLICATE_PINGS:
        return frame.filter(frame.is_duplicated())
    if kind == FindingKind.COORDINATE_PRECISION:
        return frame.filter(_coarse_mask(frame))
    if kind == FindingKind.TIMESTAMP_HEAPING:
        return frame.filter(_heaping_mask(frame, evidence))
    mask = cells_mask(frame, cells) if cells else None
    if kind == FindingKind.DEVICE_CONCENTRATION:
        labels = _labels_in(evidence)
        top = evidence.get("top_devices")
        if not labels and isinstance(top, int):
            devices = busiest_devices_mask(frame, top)
        else:
            devices = device_mask(frame, labels, analysis.salt)
        mask = devices if mask is None else mask & devices
    return frame if mask is None else frame.filter(mask)


def write_rows(frame: pl.DataFrame, path: str | os.PathLike) -> Path:
    """Write rows as ``.parquet``, ``.csv`` or ``.csv.gz`` (by suffix); returns the path.

    CSV is formula-safe (text cells only: numbers stay numbers); Parquet keeps every
    value as it is, since it is typed and no spreadsheet evaluates it.
    """
    path = Path(path)
    name = path.name.lower()
    # Types as plain text: a Categorical would be written as an Arrow dictionary type.
    frame = frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
    if name.endswith(".parquet"):
        frame.write_parquet(path)
    elif name.endswith(".csv.gz"):
        with gzip.open(path, "wb") as fh:
            write_csv(frame, fh)
    elif name.endswith(".csv"):
        write_csv(frame, path)
    else:
        raise ValueError(f"Cannot tell the format of {path.name}: use .csv, .csv.gz or .parquet.")
    return path


def clean(
    read_result_or_path: ReadResult | str | os.PathLike | bytes,
    drop: Collection[str],
    output: str | os.PathLike,
    *,
    analysis: Analysis | None = None,
    columns: dict[str, str] | None = None,
    tz: str | None = None,
    salt: str | None = None,
    null_island_radius_deg: float | None = None,
    config: Config | None = None,
    resolution: int | None = None,
    keep_panel: PanelRule | str | None = None,
) -> CleanResult:
    """Write a copy of the pings without the rows of the ``drop`` kinds, and with only
    the devices that meet ``keep_panel`` when it is given.

    ``drop`` names kinds from :data:`DROPPABLE`: null-island rows, exact duplicate
    copies (the first copy stays) and the devices of ``device_concentration``
    findings. Those findings come from ``analysis``, or from an analysis run here
    (with ``salt``, ``config`` and ``resolution``) when none is given; the null-island
    radius from that analysis, else from ``config``. ``keep_panel`` (a
    :class:`PanelRule` or its ``"N,M"`` text) keeps the devices active on at least N
    local days with M distinct local hours each, judged on the whole input; rows without
    a device id go too. A row removed for several reasons counts under the first in
    :data:`DROPPABLE` then :data:`PANEL_REASONS` order.
    """
    unknown = sorted(set(drop) - set(DROPPABLE))
    if unknown:
        raise ValueError(f"Cannot drop {unknown}; choose from {list(DROPPABLE)}.")
    rule = parse_rule(keep_panel) if isinstance(keep_panel, str) else keep_panel
    if not drop and rule is None:
        raise ValueError("Name finding kinds to drop or a panel rule to keep (N,M).")
    if not isinstance(read_result_or_path, ReadResult) and is_input_file(
        read_result_or_path, output
    ):
        raise ValueError(
            f"{Path(output).name} is one of the input files; write the copy elsewhere."
        )
    # The cleaned copy names no input by sha256, so a path is read without hashing it.
    read = (
        read_result_or_path
        if isinstance(read_result_or_path, ReadResult)
        else read_pings(read_result_or_path, columns=columns, tz=tz, digest=False)
    )
    if analysis is None and "device_concentration" in drop:
        analysis = analyze_read(read, resolution=resolution, config=config, salt=salt)
    if null_island_radius_deg is None:
        null_island_radius_deg = null_island_radius(analysis, config)
    frame = read.pings
    masks = _drop_masks(frame, drop, analysis, null_island_radius_deg)
    panel = None
    if rule is not None:
        summary = analysis.summary if analysis is not None else _summary(read, resolution, config)
        panel_masks, panel = panel_rule_masks(frame, summary, rule)
        masks |= panel_masks
    removed = pl.Series(values=[False] * frame.height, dtype=pl.Boolean)
    counts: dict[str, int] = {}
    for kind in (*DROPPABLE, *PANEL_REASONS):
        if kind in masks:
            new = masks[kind] & ~removed
            counts[kind] = int(new.sum())
            removed = removed | new
    kept = frame.filter(~removed)
    path = write_rows(kept, output)
    return CleanResult(removed=counts, kept=kept.height, output=path, panel=panel)


def _summary(read: ReadResult, resolution: int | None, config: Config | None) -> Summary:
    """The summary a panel rule is judged on, without running the detectors."""
    res = suggested_resolution_for(read.pings) if resolution is None else int(resolution)
    return summarise(read.pings, res, per_ping="compact", config=config)


def panel_rule_masks(
    frame: pl.DataFrame, summary: Summary, rule: PanelRule
) -> tuple[dict[str, pl.Series], PanelKept]:
    """Rows a usable-panel rule removes, by reason (``keep_panel``: devices that do not
    meet it in ``summary``; ``no_device_id``: rows without an id), and what it kept.

    Rows are matched to the summary's devices by the same hash the summaries use.
    """
    kept = kept_devices(summary, rule)
    no_id = frame["device_id"].is_null()
    keep = device_hashes(frame["device_id"]).is_in(kept.implode()).fill_null(False)
    devices = summary.tables["device_days"]["device"].n_unique()
    masks = {"keep_panel": ~keep & ~no_id, "no_device_id": no_id}
    return masks, PanelKept(rule, kept.len(), devices - kept.len())


def _drop_masks(
    frame: pl.DataFrame, drop: Collection[str], analysis: Analysis | None, radius_deg: float
) -> dict[str, pl.Series]:
    """Rows to drop per requested kind (a row may be in several)."""
    masks: dict[str, pl.Series] = {}
    if "null_island" in drop:
        masks["null_island"] = null_island_mask(frame, radius_deg)
    if "duplicate_pings" in drop:
        masks["duplicate_pings"] = duplicate_copy_mask(frame)
    if "device_concentration" in drop and analysis is not None:
        labels = _concentration_labels(analysis.findings)
        masks["device_concentration"] = device_mask(frame, labels, analysis.salt)
    return masks
