"""What a page comparing two deliveries draws: the story, the changes as cards grouped by
kind, a diff map of areas coloured by how their share of devices moved (diverging, centred
on no change), and both daily series in one long frame. Every number comes from
:mod:`explorer.compare`; this module only shapes it for a screen.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from explorer.findings import SEVERITIES
from explorer.interactive.grouping import card_caption, kind_label
from explorer.interactive.map_layers import LegendStop, view_for_cells
from explorer.text import count, pct, plural

if TYPE_CHECKING:  # pragma: no cover - typing only; comparing is a later stage
    from explorer.compare import Change, Comparison

#: Severities that make a change matter; below them a comparison is "nothing changed".
MATTERS = ("high", "medium")
#: Diverging palette (ColorBrewer RdBu, 7 classes), RGB: red where an area lost share of
#: the panel's devices, blue where it gained, near-white about no change in the middle.
DIVERGING = (
    (178, 24, 43),
    (239, 138, 98),
    (253, 219, 199),
    (247, 247, 247),
    (209, 229, 240),
    (103, 169, 207),
    (33, 102, 172),
)
#: Upper bounds of the classes on each side of no change, as fractions of the largest
#: change in share: the middle class holds changes under a seventh of it (equal widths).
_SIDE_EDGES = (1 / 7, 3 / 7, 5 / 7)
#: Smallest change in points written as a number (two decimals); less reads "under 0.01".
_SMALLEST_POINTS = 0.01
#: What the diff map colours, for its legend heading.
DIFF_LABEL = "change in the area's share of devices (percentage points)"
#: The change kinds (explorer.compare.ChangeKind) that carry a finding in their evidence.
_FINDING_KINDS = ("finding_appeared", "finding_vanished", "finding_changed")
#: The change kinds about areas, whose cells the diff map outlines.
_AREA_KINDS = ("area_share_changed", "area_mix_changed")


@dataclass(frozen=True)
class ChangeCard:
    """One change as a card: where and when in words, and the evidence its charts draw
    (the finding's own for appeared, vanished or changed findings)."""

    change: Change
    place: str | None
    evidence: dict[str, Any]


@dataclass(frozen=True)
class ChangeGroup:
    """The cards of one change kind, in rank order, with its worst severity."""

    kind: str
    label: str
    worst: str
    cards: tuple[ChangeCard, ...]

    @property
    def heading(self) -> str:
        """E.g. "Area share changed: 2 changes, worst medium"."""
        return f"{self.label}: {plural(len(self.cards), 'change')}, worst {self.worst}"


@dataclass(frozen=True)
class DiffLayer:
    """The diff map: one row per area (hex, devices and shares before and after, the
    change in points, its colour and words), the legend, the changed areas' cells to
    outline, and a camera that shows every area."""

    rows: pl.DataFrame
    legend: list[LegendStop]
    outlined: tuple[str, ...]
    resolution: int
    camera: dict[str, float]


@dataclass(frozen=True)
class CompareView:
    """Everything the Compare page shows, in the order it shows it."""

    before_name: str
    after_name: str
    resolution: int
    story: str
    counts_line: str
    matters: bool
    sides: list[tuple[str, str, str]]
    groups: list[ChangeGroup]
    diff: DiffLayer
    daily: pl.DataFrame
    data: dict[str, Any]

    @property
    def change_ids(self) -> tuple[str, ...]:
        return tuple(card.change.id for g in self.groups for card in g.cards)


def card_evidence(change: Change) -> dict[str, Any]:
    """The evidence a change's card draws: the finding's own for a finding that appeared,
    vanished or changed (its charts are the finding's), else the change's."""
    if change.kind in _FINDING_KINDS:
        inner = change.evidence.get("after_finding") or change.evidence.get("before_finding")
        if isinstance(inner, dict) and isinstance(inner.get("evidence"), dict):
            return inner["evidence"]
    return change.evidence


def group_changes(changes: Sequence[Change]) -> list[ChangeGroup]:
    """Ranked changes -> one group per kind, in the order of each kind's first change."""
    by_kind: dict[str, list[ChangeCard]] = {}
    for change in changes:
        card = ChangeCard(change, card_caption(change), card_evidence(change))  # type: ignore[arg-type]
        by_kind.setdefault(change.kind, []).append(card)
    return [
        ChangeGroup(
            kind,
            kind_label(kind),
            min((c.change.severity for c in cards), key=SEVERITIES.index),
            tuple(cards),
        )
        for kind, cards in by_kind.items()
    ]


def counts_line(changes: Sequence[Change]) -> str:
    """E.g. "1 high · 2 medium · 3 low changes"; "No change passed the thresholds"."""
    counts = {s: sum(c.severity == s for c in changes) for s in SEVERITIES}
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    if not parts:
        return "No change passed the thresholds"
    return f"{' · '.join(parts)} {'change' if len(changes) == 1 else 'changes'}"


def diverging_ramp(points: np.ndarray) -> tuple[np.ndarray, list[LegendStop]]:
    """A colour per change in share (percentage points; an ``(n, 3)`` RGB array) and the
    legend: seven classes symmetric about zero, the middle one "about no change", the
    outer ones reaching the largest change on either side."""
    values = np.asarray(points, dtype=np.float64)
    finite = values[np.isfinite(values)]
    largest = float(np.abs(finite).max()) if finite.size else 0.0
    middle = len(DIVERGING) // 2
    if largest == 0.0:
        colours = np.tile(np.array(DIVERGING[middle]), (values.size, 1))
        return colours, [LegendStop(0.0, 0.0, DIVERGING[middle], "no change", int(values.size))]
    edges = np.array(_SIDE_EDGES) * largest
    breaks = np.concatenate([-edges[::-1], edges])
    classes = np.searchsorted(breaks, np.where(np.isfinite(values), values, 0.0), side="right")
    # A change exactly on the middle class's upper edge stays in it (symmetric classes).
    classes = np.where(values == edges[0], middle, classes)
    colours = np.array(DIVERGING, dtype=np.int64)[classes]
    bounds = np.concatenate([[-largest], breaks, [largest]])
    stops = []
    for i, colour in enumerate(DIVERGING):
        low, high = float(bounds[i]), float(bounds[i + 1])
        stops.append(
            LegendStop(low, high, colour, _class_words(low, high), int((classes == i).sum()))
        )
    return colours, stops


def _points(value: float) -> str:
    """Percentage points rounded to what a map can show: 0.04, 1.2, 12."""
    value = abs(value)
    if value == 0:
        return "0"
    if value < _SMALLEST_POINTS:
        return f"under {_SMALLEST_POINTS}"
    digits = min(2, max(0, 1 - int(math.floor(math.log10(value)))))
    return f"{round(value, digits):.{digits}f}"


def _class_words(low: float, high: float) -> str:
    """A class in words: "lost 3.1–5.3 points", "within ±0.8 points", "gained …"."""
    if low < 0 < high:
        return f"within ±{_points(high)} points (about no change)"
    verb = "lost" if high <= 0 else "gained"
    near, far = sorted((abs(low), abs(high)))
    return f"{verb} {_points(near)}–{_points(far)} points"


def _change_words(points: float) -> str:
    if points == 0:
        return "no change in share"
    verb = "gained" if points > 0 else "lost"
    return f"{verb} {_points(points)} points of share"


def diff_layer(data: dict[str, Any], changes: Sequence[Change]) -> DiffLayer:
    """The diff map of a comparison dict's ``areas``: each area's share of the panel's
    devices after minus before, coloured on the diverging scale; the areas whose share or
    mix changed (cells of those changes) outlined."""
    areas = data.get("areas") or []
    frame = pl.DataFrame(
        areas,
        schema={
            "cell": pl.String,
            "before_devices": pl.Int64,
            "after_devices": pl.Int64,
            "before_share": pl.Float64,
            "after_share": pl.Float64,
            "p_value": pl.Float64,
        },
    )
    points = ((frame["after_share"] - frame["before_share"]) * 100).to_numpy()
    colours, stops = diverging_ramp(points)
    rows = frame.select(
        hex=pl.col("cell"),
        before_devices="before_devices",
        after_devices="after_devices",
        before_share=pl.col("before_share").map_elements(pct, return_dtype=pl.String),
        after_share=pl.col("after_share").map_elements(pct, return_dtype=pl.String),
    ).with_columns(
        change=pl.Series(points, dtype=pl.Float64).round(3),
        value=pl.Series([_change_words(p) for p in points], dtype=pl.String),
        color=pl.Series(colours.astype(np.uint8).tolist(), dtype=pl.List(pl.UInt8)),
    )
    outlined = tuple(dict.fromkeys(c for ch in changes if ch.kind in _AREA_KINDS for c in ch.cells))
    camera = view_for_cells(frame["cell"].to_list()) or {
        "latitude": 0.0,
        "longitude": 0.0,
        "zoom": 1.0,
    }
    return DiffLayer(rows, stops, outlined, int(data["area_resolution"]), camera)


def daily_frame(data: dict[str, Any]) -> pl.DataFrame:
    """Both sides' daily series in one long frame: side ("before" / "after"), day (the
    local date), devices, pings and pings per device."""
    frames = []
    for side in ("before", "after"):
        days = data[side].get("daily") or []
        frames.append(
            pl.DataFrame(
                {
                    "side": [side] * len(days),
                    "day": [dt.date.fromisoformat(d["day"]) for d in days],
                    "devices": [int(d["devices"]) for d in days],
                    "pings": [int(d["pings"]) for d in days],
                    "pings_per_device": [
                        None if d["pings_per_device"] is None else float(d["pings_per_device"])
                        for d in days
                    ],
                },
                schema={
                    "side": pl.String,
                    "day": pl.Date,
                    "devices": pl.Int64,
                    "pings": pl.Int64,
                    "pings_per_device": pl.Float64,
                },
            )
        )
    return pl.concat(frames)


def nothing_sentence(view: CompareView) -> str:
    """The null comparison in words: no medium or high change, and what was checked."""
    low = sum(len(g.cards) for g in view.groups)
    rest = f" {plural(low, 'low change')} listed below" if low else " no change at all"
    return (
        "Nothing changed that matters: no medium or high change between the two deliveries "
        f"(findings, {count(view.diff.rows.height)} areas' shares and mixes, the panel);"
        f"{rest}."
    )


def compare_view(comparison: Comparison) -> CompareView:
    """What the Compare page shows for ``comparison``."""
    # Comparing is a later stage than interactive views: imported when called.
    from explorer.compare.contract import comparison_dict
    from explorer.compare.render import side_rows

    data = comparison_dict(comparison)
    changes = comparison.changes
    return CompareView(
        before_name=str(data["before"]["source"]),
        after_name=str(data["after"]["source"]),
        resolution=int(data["resolution"]),
        story=str(data["story"]),
        counts_line=counts_line(changes),
        matters=any(c.severity in MATTERS for c in changes),
        sides=side_rows(data),
        groups=group_changes(changes),
        diff=diff_layer(data, changes),
        daily=daily_frame(data),
        data=data,
    )
