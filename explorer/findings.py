"""Finding kinds, the Finding record (data, no markup) and ranking."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SEVERITIES = ("high", "medium", "low")
_SEVERITY_RANK = {name: i for i, name in enumerate(SEVERITIES)}


class FindingKind(StrEnum):
    """Stable names of the biases found; each member's ``__doc__`` says what it means."""

    def __new__(cls, value: str, doc: str) -> FindingKind:
        member = str.__new__(cls, value)
        member._value_ = value
        member.__doc__ = doc
        return member

    NULL_ISLAND = (
        "null_island",
        "Pings at or next to (0, 0): a missing location written as zeros.",
    )
    COORDINATE_PILEUP = (
        "coordinate_pileup",
        "One exact coordinate shared by far more devices than any real place (IP fallback).",
    )
    DENSITY_SPIKE = (
        "density_spike",
        "A cell far denser than its neighbourhood predicts.",
    )
    DEVICE_CONCENTRATION = (
        "device_concentration",
        "One or a few devices produce most of a cell's (or the data set's) pings.",
    )
    HOUR_PROFILE = (
        "hour_profile",
        "A cell or area whose hour-of-day profile departs from the data set's.",
    )
    TIMEZONE_SHIFT = (
        "timezone_shift",
        "The hour profile fits a human day only after shifting it by 3 hours or more.",
    )
    TIMESTAMP_HEAPING = (
        "timestamp_heaping",
        "Excess pings at exact round times such as midnight: default or truncated timestamps.",
    )
    DEVICE_TYPE_SKEW = (
        "device_type_skew",
        "A cell or area whose device-type mix departs from the data set's.",
    )
    COORDINATE_PRECISION = (
        "coordinate_precision",
        "A share of coordinates truncated to few decimals: grid artefacts, false precision.",
    )
    DUPLICATE_PINGS = (
        "duplicate_pings",
        "Exact duplicate rows.",
    )
    SWAPPED_COORDINATES = (
        "swapped_coordinates",
        "Some rows have latitude and longitude exchanged: they land far away, mirrored.",
    )
    VENUE_SNAPPED = (
        "venue_snapped",
        "Most pings sit on coordinates shared by many devices: check-ins snapped to venues.",
    )
    DISTANT_POINTS = (
        "distant_points",
        "Pings far from all the others: stray fixes, test devices or mis-geocoded rows.",
    )
    AT_SEA = (
        "at_sea",
        "Pings on open water, far from any coast: impossible fixes, not ferries or harbours.",
    )
    SIGN_FLIPPED = (
        "sign_flipped",
        "Some rows have a latitude or longitude with the wrong sign: a mirror image of the data.",
    )
    IMPOSSIBLE_SPEED = (
        "impossible_speed",
        "Devices that jump between places faster than an airliner flies: bad fixes mixed in.",
    )
    DEVICE_TYPE_CHANGES = (
        "device_type_changes",
        "Devices whose type changes between pings: two suppliers or SDKs under one id.",
    )
    PANEL_GAP = (
        "panel_gap",
        "Hours or days inside the period with no pings, or far too few: a hole in the feed.",
    )
    PANEL_SHIFT = (
        "panel_shift",
        "From one day on the panel works differently (devices, pings per device, type mix).",
    )
    PARTIAL_PERIOD = (
        "partial_period",
        "The first or last day is cut short: a delivery made before the day ended.",
    )
    COVERAGE_BIAS = (
        "coverage_bias",
        "A region whose residents are sampled far below or above the rest: devices with a "
        "home there per resident.",
    )
    TRANSIENT_DEVICES = (
        "transient_devices",
        "Most devices are seen too briefly to be followed over days.",
    )


@dataclass(frozen=True)
class Finding:
    """One bias, told as a short story with its numbers and its place.

    ``cells`` are lower-case hex H3 ids; ``evidence`` holds the numbers behind the
    finding and the series its chart needs (JSON-serialisable, no markup); ``period``
    is the span of time a finding is about (``{"start", "end"}``, ISO 8601 UTC
    instants), or None for findings about places or the whole data; ``regions`` are
    the reference population's ids of the regions a finding concerns (coverage).
    """

    kind: str
    severity: str
    score: float
    title: str
    story: str
    cells: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    period: dict[str, str] | None = None
    regions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in _SEVERITY_RANK:
            raise ValueError(f"Unknown severity {self.severity!r}.")
        FindingKind(self.kind)
        if self.period is not None and set(self.period) != {"start", "end"}:
            raise ValueError(f"A period has a start and an end, not {sorted(self.period)}.")

    @property
    def id(self) -> str:  # noqa: A003 - the design names this field "id"
        """Stable id from the kind, the sorted cells, and the period and regions if any
        (16 hex characters): two gaps of one delivery have no cells, but differ in time."""
        return stable_id(self.kind, self.cells, self.period, self.regions)

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)


def stable_id(
    head: str,
    cells: Iterable[str],
    period: dict[str, str] | None = None,
    regions: Iterable[str] = (),
) -> str:
    """16 hex characters of ``head`` (a kind, and what else names the record), the sorted
    cells, and the period and regions if any: findings and comparison changes alike."""
    text = head + ":" + ",".join(sorted(cells))
    if period is not None:
        text += f"@{period['start']}/{period['end']}"
    regions = sorted(regions)
    if regions:
        text += "#" + ",".join(regions)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_dict(record: Any) -> dict[str, Any]:
    """A finding-shaped record (a Finding, a comparison's change) as the JSON holds it."""
    return {
        "id": record.id,
        "kind": record.kind,
        "severity": record.severity,
        "score": record.score,
        "title": record.title,
        "story": record.story,
        "cells": list(record.cells),
        "period": dict(record.period) if record.period is not None else None,
        "regions": list(record.regions),
        "evidence": record.evidence,
    }


def severity_at_least(severity: str, level: str) -> bool:
    """True when ``severity`` is as bad as ``level`` or worse."""
    return _SEVERITY_RANK[severity] <= _SEVERITY_RANK[level]


def rank(findings: Iterable[Finding]) -> list[Finding]:
    """Findings ordered by severity, then score (highest first), one per id."""
    best: dict[str, Finding] = {}
    for finding in findings:
        kept = best.get(finding.id)
        if kept is None or _key(finding) < _key(kept):
            best[finding.id] = finding
    return sorted(best.values(), key=_key)


def _key(finding: Finding) -> tuple[int, float, str]:
    return (_SEVERITY_RANK[finding.severity], -float(finding.score), finding.id)
