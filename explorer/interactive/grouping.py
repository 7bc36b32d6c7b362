"""Findings as a page lists them: filtered, grouped by kind, repeats folded, places named.

A long list of near-identical cards hides what matters, so the ranked findings are
shown in one group per kind (its name in words, its count and worst severity). A finding
whose cells all lie in the cells of a higher-ranked shown finding tells the same place
again: it is folded into that finding's card. Every finding with cells gets a label
saying where it is: the nearest known place of the gazetteer, else its coordinates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.binning.cells import cell_centres, cell_resolution, cell_to_parent, str_to_cell
from explorer.findings import SEVERITIES, Finding
from explorer.geography.gazetteer import known_places_near
from explorer.interactive.map_layers import unwrap_longitudes
from explorer.text import count, plural

__all__ = [
    "NEAR_PLACE_KM",
    "FindingCard",
    "KindGroup",
    "filter_findings",
    "group_findings",
    "kind_label",
    "period_label",
    "place_label",
]

#: A finding whose cells' centre lies this close (great-circle km) to a known place is
#: said to be "near" it: about a city's reach, so a pile-up at a capital's centroid is
#: named by it, while a place 100 km away would mislead.
NEAR_PLACE_KM = 30.0


@dataclass(frozen=True)
class FindingCard:
    """One card: a finding, where and when it is in words (None: about the whole data,
    at no particular time) and the findings folded into it (each with cells all among
    its cells), in rank order."""

    finding: Finding
    place: str | None
    also: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class KindGroup:
    """The cards of one kind, in rank order; ``folded`` counts this kind's findings told
    inside another kind's card instead."""

    kind: str
    label: str
    worst: str
    cards: tuple[FindingCard, ...]
    folded: int = 0

    @property
    def heading(self) -> str:
        """E.g. "Density spike: 10 findings, worst low (1 more told in another card)"."""
        text = f"{self.label}: {plural(len(self.cards), 'finding')}, worst {self.worst}"
        return text + (f" ({count(self.folded)} more told in another card)" if self.folded else "")

    @property
    def finding_ids(self) -> tuple[str, ...]:
        """Ids of every finding this group shows, folded ones included."""
        return tuple(f.id for c in self.cards for f in (c.finding, *c.also))


def kind_label(kind: str) -> str:
    """``density_spike`` -> ``Density spike``."""
    words = str(kind).replace("_", " ")
    return words[:1].upper() + words[1:]


def filter_findings(
    findings: Sequence[Finding],
    kinds: Iterable[str] | None = None,
    severities: Iterable[str] | None = None,
) -> list[Finding]:
    """The findings of the given kinds and severities (None: any), order kept."""
    kept_kinds = None if kinds is None else set(kinds)
    kept_severities = None if severities is None else set(severities)
    return [
        f
        for f in findings
        if (kept_kinds is None or f.kind in kept_kinds)
        and (kept_severities is None or f.severity in kept_severities)
    ]


def _cells_as_ints(hex_ids: Iterable[str]) -> set[int]:
    out = set()
    for text in hex_ids:
        try:
            out.add(str_to_cell(str(text)))
        except (ValueError, TypeError):
            continue
    return out


def _covered(cell: int, host: set[int], host_res: set[int]) -> bool:
    """True when ``cell`` is one of ``host``'s cells or lies inside one (a coarser one)."""
    if cell in host:
        return True
    res = cell_resolution(cell)
    return any(r < res and cell_to_parent(cell, r) in host for r in host_res)


def _fold_targets(findings: Sequence[Finding]) -> dict[int, int]:
    """For each finding (by position) whose cells all lie in an earlier finding's cells,
    the position of the first such finding; findings without cells fold nowhere."""
    cells = [_cells_as_ints(f.cells) for f in findings]
    res = [{cell_resolution(c) for c in s} for s in cells]
    targets: dict[int, int] = {}
    for i, mine in enumerate(cells):
        if not mine:
            continue
        for j in range(i):
            # The first covering finding is never itself folded: whatever covers it
            # would cover this one too, and comes earlier.
            if cells[j] and all(_covered(c, cells[j], res[j]) for c in mine):
                targets[i] = j
                break
    return targets


def _format_coordinates(lat: float, lon: float) -> str:
    """ "at 40.75° N, 73.98° W" (rounded first, so -0.001 reads 0.00° N, not S)."""
    lat, lon = round(lat, 2) + 0.0, round(lon, 2) + 0.0
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    return f"at {abs(lat):.2f}° {ns}, {abs(lon):.2f}° {ew}"


def place_label(hex_ids: Iterable[str], within_km: float = NEAR_PLACE_KM) -> str | None:
    """Where cells are, in words: "near <known place>" within ``within_km`` of their
    centre, else "at 40.75° N, 73.98° W"; None without a valid cell."""
    cells = sorted(_cells_as_ints(hex_ids))
    if not cells:
        return None
    lat, lon = cell_centres(pl.Series(cells, dtype=pl.UInt64))
    # Cells on both sides of ±180° average to a point between them, not across the globe.
    centre_lat = float(np.mean(lat))
    centre_lon = float((np.mean(unwrap_longitudes(lon)) + 180.0) % 360.0 - 180.0)
    place = known_places_near(centre_lat, centre_lon, within_km)[0]
    if place is not None:
        return f"near {place.name}"
    return _format_coordinates(centre_lat, centre_lon)


def period_label(period: dict[str, str] | None) -> str | None:
    """A finding's span of time in words, in UTC: "from 12 Jun 2024 04:00 to 13 Jun 2024
    04:00 UTC" (the day written once when both ends share it); None without a period."""
    if not period:
        return None
    start, end = (
        dt.datetime.fromisoformat(period[k].replace("Z", "+00:00")) for k in ("start", "end")
    )
    first = f"{start.day} {start:%b %Y %H:%M}"
    last = f"{end:%H:%M}" if end.date() == start.date() else f"{end.day} {end:%b %Y %H:%M}"
    return f"from {first} to {last} UTC"


def card_caption(finding: Finding) -> str | None:
    """Where and when a finding is, in words: its place, its period, or both."""
    parts = [p for p in (place_label(finding.cells), period_label(finding.period)) if p]
    return ", ".join(parts) if parts else None


def group_findings(findings: Sequence[Finding]) -> list[KindGroup]:
    """Ranked findings (as shown, after filters) -> one group per kind, in the order of
    each kind's best finding; repeats folded into the finding whose cells hold them."""
    targets = _fold_targets(findings)
    folded_into: dict[int, list[Finding]] = {}
    for i, j in targets.items():
        folded_into.setdefault(j, []).append(findings[i])
    by_kind: dict[str, list[FindingCard]] = {}
    folded_count: dict[str, int] = {}
    for i, finding in enumerate(findings):
        if i in targets:
            folded_count[finding.kind] = folded_count.get(finding.kind, 0) + 1
            continue
        card = FindingCard(finding, card_caption(finding), tuple(folded_into.get(i, ())))
        by_kind.setdefault(finding.kind, []).append(card)
    return [
        KindGroup(
            kind,
            kind_label(kind),
            min((c.finding.severity for c in cards), key=SEVERITIES.index),
            tuple(cards),
            folded_count.get(kind, 0),
        )
        for kind, cards in by_kind.items()
    ]
