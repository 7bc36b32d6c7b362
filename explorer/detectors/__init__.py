"""One module per bias family; each exposes ``DETECTORS``: summaries in, findings out.

Every detector declares the finding kind it looks for and what it needs
(:func:`explorer.detectors.needs.check`); :func:`plan_checks` splits the registry into
the detectors the data allows and the checks skipped, with their reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from explorer._speed.schedule import map_on_threads
from explorer.detectors import (
    coverage,
    devices,
    mix,
    panel,
    places,
    quality,
    snapping,
    time,
    travel,
)
from explorer.detectors.context import Context
from explorer.detectors.needs import SkippedCheck, skipped_check
from explorer.findings import Finding, rank, severity_at_least

Detector = Callable[[Context], list[Finding]]
#: Detectors run at a time (the reference machine has two cores).
THREADS = 2

DETECTORS: list[Detector] = [
    *places.DETECTORS,
    *devices.DETECTORS,
    *time.DETECTORS,
    *mix.DETECTORS,
    *quality.DETECTORS,
    *snapping.DETECTORS,
    *travel.DETECTORS,
    *panel.DETECTORS,
    *coverage.DETECTORS,
]


#: A finding of the key kind in a cell already explains a finding of these kinds there:
#: a pile-up or one hyperactive phone makes its cell look dense, so the density spike
#: is the same cause told twice (and a pile-up of fallback fixes keeps its own hours);
#: mirrored rows or a pile-up that land on water, or that devices jump to, are told
#: as what they are, not again as sea pings or impossible speeds.
EXPLAINS: dict[str, tuple[str, ...]] = {
    "coordinate_pileup": ("density_spike", "hour_profile", "at_sea", "impossible_speed"),
    "device_concentration": ("density_spike",),
    "null_island": ("density_spike", "distant_points", "at_sea"),
    "swapped_coordinates": ("at_sea", "density_spike"),
    "sign_flipped": ("at_sea", "density_spike"),
}


def drop_explained(findings: list[Finding]) -> list[Finding]:
    """Remove findings whose cells all lie in cells of a finding that explains them."""
    explained: dict[str, set[str]] = {}
    for finding in findings:
        for kind in EXPLAINS.get(finding.kind, ()):
            explained.setdefault(kind, set()).update(finding.cells)
    return [f for f in findings if not (f.cells and set(f.cells) <= explained.get(f.kind, set()))]


def cap_in_snapped_data(findings: list[Finding], cap: str) -> list[Finding]:
    """In venue-snapped data every popular venue is a density spike by construction:
    such spikes are told, but at most at severity ``cap``."""
    if not any(f.kind == "venue_snapped" for f in findings):
        return findings
    return [
        replace(f, severity=cap)
        if f.kind == "density_spike" and severity_at_least(f.severity, cap) and f.severity != cap
        else f
        for f in findings
    ]


#: A finding of the key kind makes the day edges of the data unreliable: with the clock
#: hours off, every day starts and ends at the wrong hour, so a "cut" first or last day
#: is the clock's error told again, and is kept only as a low note.
UNSETTLES_DAYS = ("timezone_shift",)


def cap_with_clock_off(findings: list[Finding]) -> list[Finding]:
    """Cut-short days are capped at low when the timestamps are in the wrong zone."""
    if not any(f.kind in UNSETTLES_DAYS for f in findings):
        return findings
    return [
        replace(f, severity="low") if f.kind == "partial_period" and f.severity != "low" else f
        for f in findings
    ]


def plan_checks(lacking: Mapping[str, str]) -> tuple[list[Detector], list[SkippedCheck]]:
    """The detectors whose needs the data meets, and the checks skipped for the others.

    ``lacking`` maps each need the data does not meet (see :data:`needs.NEEDS`) to the
    reason in words.
    """
    runnable: list[Detector] = []
    skipped: list[SkippedCheck] = []
    for detector in DETECTORS:
        if any(need in lacking for need in detector.needs):
            skipped.append(skipped_check(detector.kind, detector.needs, lacking))
        else:
            runnable.append(detector)
    return runnable, skipped


def detect_all(context: Context, detectors: Sequence[Detector] | None = None) -> list[Finding]:
    """Run the detectors (every one by default), drop findings another one explains,
    and rank the rest."""
    chosen = list(DETECTORS if detectors is None else detectors)
    # Two at a time: most detectors spend their time in numpy and polars, which release
    # the GIL, and the views they share are built once (Context.shared).
    found = [f for batch in map_on_threads(lambda d: d(context), chosen, THREADS) for f in batch]
    found = cap_in_snapped_data(found, context.config.snapping.cap_density_spikes)
    found = cap_with_clock_off(found)
    return rank(drop_explained(found))
