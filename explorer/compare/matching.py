"""Findings of two analyses matched by kind and place (never by id), and the
``finding_appeared``, ``finding_vanished`` and ``finding_changed`` changes.

Two findings are the same when their kinds are equal and: their cells overlap once both
are taken ``match_coarser_steps`` H3 levels coarser; or, without cells, their periods
overlap (panel findings) or their regions do (coverage), or neither has any place at
all (whole-data findings). Pairs are taken best overlap first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from explorer.binning.cells import cell_resolution, cell_to_parent, is_valid_cell, str_to_cell
from explorer.compare.changes import Change, ChangeKind, severity_rank
from explorer.config.compare import CompareConfig
from explorer.findings import Finding
from explorer.text import ratio


@dataclass(frozen=True)
class Match:
    """A finding of the before analysis and its counterpart after."""

    before: Finding
    after: Finding


def _cells(finding: Finding) -> list[int]:
    return [str_to_cell(c) for c in finding.cells if is_valid_cell(c)]


def _overlap(a: Finding, b: Finding, steps: int) -> float:
    """How much two findings of one kind share their place (0: not at all, 1: all)."""
    cells_a, cells_b = _cells(a), _cells(b)
    if cells_a or cells_b:
        if not (cells_a and cells_b):
            return 0.0
        res = max(0, min(cell_resolution(c) for c in cells_a + cells_b) - steps)
        up_a = {cell_to_parent(c, res) for c in cells_a}
        up_b = {cell_to_parent(c, res) for c in cells_b}
        return len(up_a & up_b) / len(up_a | up_b)
    if a.regions or b.regions:
        common = set(a.regions) & set(b.regions)
        return len(common) / len(set(a.regions) | set(b.regions))
    if a.period is not None and b.period is not None:
        start = max(a.period["start"], b.period["start"])
        end = min(a.period["end"], b.period["end"])
        return 1.0 if start <= end else 0.0
    return 1.0 if a.period is None and b.period is None else 0.0


def match_findings(
    before: Sequence[Finding], after: Sequence[Finding], steps: int
) -> tuple[list[Match], list[Finding], list[Finding]]:
    """(matched pairs, findings only before, findings only after)."""
    pairs = [
        (overlap, i, j)
        for i, a in enumerate(before)
        for j, b in enumerate(after)
        if a.kind == b.kind and (overlap := _overlap(a, b, steps)) > 0
    ]
    used_b, used_a, matches = set(), set(), []
    for _, i, j in sorted(pairs, key=lambda t: (-t[0], t[1], t[2])):
        if i not in used_b and j not in used_a:
            used_b.add(i)
            used_a.add(j)
            matches.append(Match(before[i], after[j]))
    only_before = [f for i, f in enumerate(before) if i not in used_b]
    only_after = [f for j, f in enumerate(after) if j not in used_a]
    return matches, only_before, only_after


def _kind_words(kind: str) -> str:
    return kind.replace("_", " ")


def _summary(finding: Finding) -> dict:
    """The finding itself, for the evidence: the app draws it with the finding code."""
    return finding.to_dict()


def appeared(finding: Finding) -> Change:
    return Change(
        ChangeKind.FINDING_APPEARED,
        finding.kind,
        finding.severity,
        float(finding.score),
        f"New in the after delivery: {finding.title}",
        f"The after delivery has a {finding.severity} {_kind_words(finding.kind)} finding "
        f"that the before delivery does not have at this place. {finding.story}",
        cells=finding.cells,
        evidence={
            "finding_kind": finding.kind,
            "after_severity": finding.severity,
            "after_score": float(finding.score),
            "after_finding": _summary(finding),
        },
        period=finding.period,
        regions=finding.regions,
    )


def vanished(finding: Finding, reason: str | None) -> Change:
    """A finding gone from the after delivery: low (good news, or a fix), medium when
    the check could not run on the after delivery (``reason`` says why)."""
    why = (
        f" Its check could not run on the after delivery: {reason}; the problem may still be there."
        if reason
        else " The problem may have been fixed, or the place left the data."
    )
    return Change(
        ChangeKind.FINDING_VANISHED,
        finding.kind,
        "medium" if reason else "low",
        float(finding.score),
        f"Gone from the after delivery: {finding.title}",
        f"The before delivery had a {finding.severity} {_kind_words(finding.kind)} finding "
        f"here that the after delivery does not.{why}",
        cells=finding.cells,
        evidence={
            "finding_kind": finding.kind,
            "before_severity": finding.severity,
            "before_score": float(finding.score),
            "check_skipped": bool(reason),
            "before_finding": _summary(finding),
        },
        period=finding.period,
        regions=finding.regions,
    )


def changed(match: Match, config: CompareConfig) -> Change | None:
    """A change when the severity moved (with the score) or the score moved a lot."""
    a, b = match.before, match.after
    score_ratio = _score_ratio(a.score, b.score)
    moved = severity_rank(a.severity) != severity_rank(b.severity)
    big = max(score_ratio, 1 / score_ratio) if score_ratio > 0 else np.inf
    if not ((moved and big >= config.moved_score_ratio) or big >= config.changed_score_ratio):
        return None
    worse = severity_rank(b.severity) < severity_rank(a.severity) or (not moved and score_ratio > 1)
    direction = "grew" if worse else "shrank"
    severity = b.severity if worse else "low"
    title = (
        f"{_kind_words(a.kind).capitalize()} {direction}: {a.severity} to {b.severity}, "
        f"score {ratio(score_ratio)}"
    )
    story = (
        f"A {_kind_words(a.kind)} finding is in both deliveries at this place; it {direction} "
        f"from {a.severity} (score {a.score:.3g}) to {b.severity} (score {b.score:.3g}). "
        f"After: {b.story}"
    )
    return Change(
        ChangeKind.FINDING_CHANGED,
        a.kind,
        severity,
        float(b.score),
        title,
        story,
        cells=tuple(dict.fromkeys(a.cells + b.cells)),
        evidence={
            "finding_kind": a.kind,
            "before_severity": a.severity,
            "after_severity": b.severity,
            "before_score": float(a.score),
            "after_score": float(b.score),
            "score_ratio": score_ratio if np.isfinite(score_ratio) else None,
            "before_finding": _summary(a),
            "after_finding": _summary(b),
        },
        period=b.period,
        regions=tuple(dict.fromkeys(a.regions + b.regions)),
    )


def _score_ratio(before: float, after: float) -> float:
    if before <= 0:
        return np.inf if after > 0 else 1.0
    return max(after, 0.0) / before


def finding_changes(
    before: Sequence[Finding],
    after: Sequence[Finding],
    skipped_after: dict[str, str],
    config: CompareConfig,
) -> tuple[list[Change], list[Match]]:
    """Every finding change, and the matched pairs (for the story's "stayed the same").

    ``skipped_after`` maps the kinds of checks that could not run on the after delivery
    to their reasons.
    """
    matches, only_before, only_after = match_findings(before, after, config.match_coarser_steps)
    changes = [appeared(f) for f in only_after]
    changes += [vanished(f, skipped_after.get(f.kind)) for f in only_before]
    changes += [c for m in matches if (c := changed(m, config)) is not None]
    return changes, matches
