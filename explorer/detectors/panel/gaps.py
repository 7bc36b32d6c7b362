"""``panel_gap``: hours inside the covered period with no pings or far too few.

Each UTC hour is compared with what its day's level and hour of the day lead to expect
(:mod:`explorer.detectors.panel.expected`); consecutive low hours form one hole, and
each hole is tested for a shortfall under the quasi-Poisson law of hourly counts, with
Benjamini–Hochberg control across holes. Quiet hours of a small panel expect almost
nothing, so their empty hours are no evidence. The first and last day's cut edges are
``partial_period``'s: a hole lies between hours where the feed ran.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explorer.detectors.context import Context
from explorer.detectors.needs import SEVERAL_DAYS, check
from explorer.detectors.panel.expected import (
    HourlyModel,
    expected_range,
    hourly_model,
    shortfall_p,
)
from explorer.findings import Finding
from explorer.stats import benjamini_hochberg
from explorer.summary.panel import hour_start, iso_hour
from explorer.text import count, pct

#: Hours shown either side of a hole in its evidence's chart window.
_WINDOW_PAD_HOURS = 24


@check("panel_gap", SEVERAL_DAYS)
def detect_panel_gaps(ctx: Context) -> list[Finding]:
    """Holes in the feed: runs of hours far below their expectation, inside the period."""
    settings = ctx.config.panel_gaps
    model = hourly_model(ctx.hourly, ctx.summary.tables["period_hours"], settings)
    if model is None:
        return []
    runs = low_runs(
        model, settings.low_hour_ratio, settings.normal_hour_ratio, settings.bridge_hours
    )
    if not runs:
        return []
    seen = np.array([model.observed[a:b].sum() for a, b in runs])
    due = np.array([model.expected[a:b].sum() for a, b in runs])
    p_values = shortfall_p(seen, due, model.dispersion)
    # Every hour of the period could have started a hole: the family tested is all of
    # them, not only the runs that looked low (those were picked by their low counts),
    # so the hours outside any run enter Benjamini-Hochberg with p = 1.
    family = np.ones(max(model.observed.size, len(runs)))
    family[: len(runs)] = p_values
    found = benjamini_hochberg(family, ctx.config.severity.fdr)[: len(runs)]
    findings = [
        _finding(model, run, float(p), settings)
        for run, p, keep in zip(runs, p_values, found, strict=True)
        if keep
    ]
    findings.sort(key=lambda f: -f.score)
    return findings[: ctx.config.severity.max_findings_per_kind]


def low_runs(
    model: HourlyModel, low_ratio: float, normal_ratio: float, bridge_hours: int
) -> list[tuple[int, int]]:
    """Index ranges [a, b) of consecutive low hours lying between the first and the
    last hour where the feed ran normally (the edges before are cut days, not holes)."""
    observed, expected = model.observed, model.expected
    low = (observed < low_ratio * expected) | (observed == 0)
    normal = np.flatnonzero((observed >= normal_ratio * expected) & (observed > 0))
    if normal.size < 2:
        return []
    inside = np.zeros(low.size, dtype=bool)
    inside[normal[0] : normal[-1] + 1] = True
    flagged = np.concatenate([[0], (low & inside).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(flagged))
    runs = list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
    return _bridged(runs, observed < normal_ratio * expected, bridge_hours)


def _bridged(runs: list[tuple[int, int]], weak: np.ndarray, bridge_hours: int):
    """Runs joined across short breaks of ``bridge_hours`` or fewer weak hours (under
    the normal ratio): a thinned feed whose count crept over the low line for an hour
    is one hole, not two."""
    joined: list[tuple[int, int]] = []
    for a, b in runs:
        if joined and a - joined[-1][1] <= bridge_hours and weak[joined[-1][1] : a].all():
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    return joined


def _finding(model: HourlyModel, run: tuple[int, int], p_value: float, settings) -> Finding:
    a, b = run
    evidence = _evidence(model, run, p_value)
    lost = evidence["lost_share"]
    if lost >= settings.high_lost_share:
        severity = "high"
    elif lost >= settings.medium_lost_share:
        severity = "medium"
    else:
        severity = "low"
    period = {"start": iso_hour(int(model.hours[a])), "end": iso_hour(int(model.hours[b - 1]) + 1)}
    title, story = _words(evidence, int(model.hours[a]))
    score = round(100.0 * lost, 4)
    return Finding("panel_gap", severity, score, title, story, (), evidence, period)


def _evidence(model: HourlyModel, run: tuple[int, int], p_value: float) -> dict[str, Any]:
    a, b = run
    seen = float(model.observed[a:b].sum())
    due = float(model.expected[a:b].sum())
    low, high = expected_range(due, model.dispersion)
    lo, hi = max(0, a - _WINDOW_PAD_HOURS), min(model.hours.size, b + _WINDOW_PAD_HOURS)
    return {
        "hours": b - a,
        "hours_empty": int(np.count_nonzero(model.observed[a:b] == 0)),
        "pings_seen": int(seen),
        "pings_expected": round(due, 1),
        "pings_expected_low": round(low, 1),
        "pings_expected_high": round(high, 1),
        "seen_share": round(seen / due, 4) if due > 0 else 0.0,
        "lost_share": round(max(0.0, due - seen) / max(model.total_expected, 1e-9), 5),
        "dispersion": round(model.dispersion, 3),
        "p_value": float(p_value),
        "window": {
            "hours": [iso_hour(int(h)) for h in model.hours[lo:hi]],
            "observed": [int(v) for v in model.observed[lo:hi]],
            "expected": [round(float(v), 1) for v in model.expected[lo:hi]],
        },
    }


def _duration(hours: int) -> str:
    if hours >= 48 and hours % 24 == 0:
        return f"{hours // 24} days"
    return f"{hours} hours" if hours != 1 else "1 hour"


def _when(hour: int) -> str:
    instant = hour_start(hour)
    return f"{instant.day} {instant:%B %H:%M} UTC"


def _words(evidence: dict[str, Any], first_hour: int) -> tuple[str, str]:
    span, when = _duration(evidence["hours"]), _when(first_hour)
    due = count(evidence["pings_expected"])
    if evidence["pings_seen"] == 0:
        title = f"No pings for {span} from {when}"
        opening = f"No pings for {span} from {when}, where about {due} were expected."
    else:
        share = pct(evidence["seen_share"])
        title = f"Pings fell to {share} of normal for {span} from {when}"
        opening = (
            f"Only {count(evidence['pings_seen'])} pings in {span} from {when}, where "
            f"about {due} were expected ({share})."
        )
    story = (
        f"{opening} That is {pct(evidence['lost_share'])} of the period's pings lost: daily "
        "counts, trends and visit or dwell figures over those hours are wrong, not quiet. "
        "Ask the supplier whether the feed was interrupted, and leave these hours out of "
        "any comparison over time."
    )
    return title, story
