"""Change kinds, the Change record (shaped like a finding) and their ranking."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from explorer.findings import SEVERITIES, record_dict, stable_id

_RANK = {name: i for i, name in enumerate(SEVERITIES)}


class ChangeKind(StrEnum):
    """Stable names of what changed between two deliveries; each member's ``__doc__``
    says what it means."""

    def __new__(cls, value: str, doc: str) -> ChangeKind:
        member = str.__new__(cls, value)
        member._value_ = value
        member.__doc__ = doc
        return member

    FINDING_APPEARED = (
        "finding_appeared",
        "A finding of the after delivery that the before delivery did not have at that place.",
    )
    FINDING_VANISHED = (
        "finding_vanished",
        "A finding of the before delivery that the after delivery no longer has.",
    )
    FINDING_CHANGED = (
        "finding_changed",
        "A finding in both deliveries whose severity moved or whose effect grew or shrank a lot.",
    )
    AREA_SHARE_CHANGED = (
        "area_share_changed",
        "An area whose share of the panel's devices rose or fell far beyond the panel's change.",
    )
    AREA_MIX_CHANGED = (
        "area_mix_changed",
        "An area whose device-type mix or hour profile of devices changed beyond the panel's.",
    )
    PANEL_CHANGED = (
        "panel_changed",
        "The panel as a whole changed: devices per day, pings per device, type mix or period.",
    )


@dataclass(frozen=True)
class Change:
    """One difference between two deliveries, told like a finding.

    ``subject`` names what changed within its kind (a finding kind, a panel metric, a
    mix aspect, a direction) and enters the id with the cells, period and regions, so a
    baseline or a link can name a change across runs.
    """

    kind: str
    subject: str
    severity: str
    score: float
    title: str
    story: str
    cells: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    period: dict[str, str] | None = None
    regions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in _RANK:
            raise ValueError(f"Unknown severity {self.severity!r}.")
        ChangeKind(self.kind)

    @property
    def id(self) -> str:  # noqa: A003 - the contract names this field "id"
        """16 hex characters from the kind, subject, sorted cells, period and regions."""
        return stable_id(f"{self.kind}/{self.subject}", self.cells, self.period, self.regions)

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)


def worse(a: str, b: str) -> str:
    """The more serious of two severities."""
    return a if _RANK[a] <= _RANK[b] else b


def severity_rank(severity: str) -> int:
    """0 for high, 1 for medium, 2 for low."""
    return _RANK[severity]


def rank_changes(changes: Iterable[Change], per_kind: int) -> list[Change]:
    """Changes by severity then score (highest first), one per id, at most ``per_kind``
    of each kind."""
    best: dict[str, Change] = {}
    for change in changes:
        kept = best.get(change.id)
        if kept is None or _key(change) < _key(kept):
            best[change.id] = change
    kept_per_kind: dict[str, int] = {}
    out = []
    for change in sorted(best.values(), key=_key):
        if kept_per_kind.get(change.kind, 0) < per_kind:
            kept_per_kind[change.kind] = kept_per_kind.get(change.kind, 0) + 1
            out.append(change)
    return out


def _key(change: Change) -> tuple[int, float, str]:
    return (_RANK[change.severity], -float(change.score), change.id)
