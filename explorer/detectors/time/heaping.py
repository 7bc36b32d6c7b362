"""``timestamp_heaping``: excess pings at exact round times (default or truncated stamps).

Each hour mark hh:00:00 is compared, on the local and the UTC clock, with the same
second-of-minute in the minutes around it (so timestamps truncated to minutes compare
like with like); a Poisson tail with Benjamini–Hochberg across the 48 marks decides
what is real, and the excess share of all pings decides how much it matters. Data whose
seconds are (almost) always :00 is told as truncated, a loss of precision, never as a heap.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from explorer.detectors.context import Context
from explorer.detectors.needs import check
from explorer.findings import Finding
from explorer.stats import benjamini_hochberg, poisson_sf
from explorer.summary.views import seconds_histogram
from explorer.text import count, pct

DAY_S, HOUR_S, MINUTE_S = 86_400, 3_600, 60
#: Minutes each side of a heap shown in the evidence's minute series (a chart's window).
_SERIES_MINUTES = 30


def _clock(second: int) -> str:
    return f"{second // HOUR_S:02d}:{second % HOUR_S // MINUTE_S:02d}:{second % MINUTE_S:02d}"


def hour_mark_tests(hist: np.ndarray, neighbour_minutes: int) -> dict[str, np.ndarray]:
    """Observed and expected pings at each hour mark (24), with Poisson p-values.

    Expected = mean count at the same second-of-minute in ``neighbour_minutes`` minutes
    on either side (circular over the day).
    """
    marks = np.arange(24) * HOUR_S
    steps = np.concatenate([np.arange(-neighbour_minutes, 0), np.arange(1, neighbour_minutes + 1)])
    around = hist[(marks[:, None] + steps[None, :] * MINUTE_S) % DAY_S]
    expected = around.mean(axis=1)
    observed = hist[marks].astype(float)
    return {
        "second": marks,
        "observed": observed,
        "expected": expected,
        "p": poisson_sf(observed, np.clip(expected, 1e-9, None)),
    }


def minute_series(hist: np.ndarray, second: int) -> dict[str, object]:
    """Pings per minute of the day in a window around ``second`` (for a chart)."""
    per_minute = hist.reshape(-1, MINUTE_S).sum(axis=1)
    centre = second // MINUTE_S
    idx = (np.arange(centre - _SERIES_MINUTES, centre + _SERIES_MINUTES + 1)) % per_minute.size
    return {
        "start": _clock(int(idx[0]) * MINUTE_S)[:5],
        "minute_pings": [int(x) for x in per_minute[idx]],
    }


@check("timestamp_heaping")
def detect_timestamp_heaping(ctx: Context) -> list[Finding]:
    """Round-hour heaps (one finding, on the clock where they are sharper) and truncation."""
    cfg, sev = ctx.config.time, ctx.config.severity
    hists = {clock: seconds_histogram(ctx.summary, clock) for clock in ("local", "utc")}
    total = int(hists["local"].sum())
    if total == 0:
        return []
    coarse = _coarse_truncation(hists, total, cfg.truncated_share)
    if coarse is not None:
        return [coarse]
    minutes = _minute_finding(ctx, hists["local"])
    tests = {clock: hour_mark_tests(h, cfg.heap_neighbour_minutes) for clock, h in hists.items()}
    p_all = np.concatenate([tests["local"]["p"], tests["utc"]["p"]])
    found = benjamini_hochberg(p_all, sev.fdr)
    keeps = {}
    for i, clock in enumerate(("local", "utc")):
        t = tests[clock]
        excess = t["observed"] - t["expected"]
        keeps[clock] = found[i * 24 : (i + 1) * 24] & (excess >= cfg.heap_min_excess)
    clock = _heap_clock(tests, keeps, cfg.heap_clock_tie)
    if clock is None:
        return [minutes] if minutes is not None else []
    heap = _heap_finding(ctx, tests[clock], keeps[clock], clock, hists[clock], total)
    # A data-set-wide finding's id is its kind: one finding, telling minutes as an aside.
    return [heap if minutes is None else _with_minutes(heap, minutes)]


def _with_minutes(heap: Finding, minutes: Finding) -> Finding:
    """The heap finding, also saying that (part of) the timestamps are cut to minutes."""
    ev = minutes.evidence
    evidence = {**heap.evidence, "minutes": {"pattern": ev["pattern"], "share": ev["share"]}}
    story = heap.story + (
        f" Separately, {pct(ev['share'])} of timestamps are truncated to whole minutes."
    )
    return replace(heap, story=story, evidence=evidence)


def _heap_clock(tests: dict, keeps: dict[str, np.ndarray], tie: float) -> str | None:
    """The clock the heaps were written in: the same rows heap on both clocks.

    The writer's clock holds the sharpest single heap (other clocks split it across
    zones and daylight saving); on a tie (one zone, one offset) the clock on which the
    heap falls at midnight wins, then the local clock.
    """
    tops = {}
    for clock, keep in keeps.items():
        if keep.any():
            excess = tests[clock]["observed"] - tests[clock]["expected"]
            tops[clock] = float(excess[keep].max())
    if not tops:
        return None
    sharpest = max(tops.values())
    near = [c for c in ("local", "utc") if tops.get(c, 0.0) >= tie * sharpest]
    at_midnight = [c for c in near if keeps[c][0]]
    return (at_midnight or near)[0]


def _heap_finding(
    ctx: Context,
    t: dict[str, np.ndarray],
    keep: np.ndarray,
    clock: str,
    hist: np.ndarray,
    total: int,
) -> Finding:
    """One finding for every heaped hour mark of one clock."""
    cfg = ctx.config.time
    excess = t["observed"] - t["expected"]
    order = np.flatnonzero(keep)[np.argsort(-excess[keep])]
    heaps = [
        {
            "time": _clock(int(t["second"][i])),
            "pings": int(t["observed"][i]),
            "expected": float(t["expected"][i]),
            "excess": float(excess[i]),
            "p_value": float(t["p"][i]),
        }
        for i in order
    ]
    extra = float(excess[keep].sum())
    share = extra / total
    severity = (
        "high"
        if share >= cfg.heap_high_share
        else "medium"
        if share >= cfg.heap_medium_share
        else "low"
    )
    top = heaps[0]
    evidence = {
        "pattern": "round_hours",
        "clock": clock,
        "heaps": heaps,
        "excess_pings": int(round(extra)),
        "share": share,
        "expected": float(t["expected"][keep].sum()),
        "pings": total,
        "series": minute_series(hist, int(t["second"][order[0]])),
    }
    where = "local time" if clock == "local" else "UTC"
    times = ", ".join(h["time"] for h in heaps[:4]) + (" …" if len(heaps) > 4 else "")
    title = f"{pct(share)} of pings stamped exactly {times} {where}"
    cause = (
        "part of the data cut to the hour, or a job that writes on the hour"
        if len(heaps) > 3
        else "a default written when the real time was missing, or dates without a time of day"
    )
    story = (
        f"{count(extra)} more pings than the neighbouring seconds predict sit exactly on "
        f"{times} {where} ({count(top['pings'])} at {top['time']} against about "
        f"{top['expected']:.1f} expected). Round times like these are usually {cause}; they "
        f"put a false spike into hourly profiles, dwell times and night-time counts. Check "
        f"whether these rows come from one source or one day, and drop them before modelling "
        f"by hour."
    )
    return Finding(
        "timestamp_heaping", severity, round(share * 1000, 4), title, story, (), evidence
    )


def _minute_finding(ctx: Context, hist: np.ndarray) -> Finding | None:
    """Low finding when timestamps are truncated to minutes, wholly or in part."""
    cfg, sev = ctx.config.time, ctx.config.severity
    grid = hist.reshape(-1, MINUTE_S).astype(float)
    # Hour marks are tested on their own: keep their heaps out of the minute test.
    grid = np.delete(grid, np.arange(0, grid.shape[0], 60), axis=0)
    by_second = grid.sum(axis=0)
    total = float(by_second.sum())
    if total == 0:
        return None
    share0 = by_second[0] / total
    if share0 >= cfg.truncated_share:
        return _truncated(hist, "minutes", share0)
    expected = by_second[1:].mean()
    extra = by_second[0] - expected
    p_value = float(poisson_sf(by_second[0], max(expected, 1e-9)))
    if extra / total < cfg.minute_heap_share or p_value > sev.fdr:
        return None
    evidence = {
        "pattern": "minute_marks",
        "share": float(extra / total),
        "excess_pings": int(extra),
        "expected": float(expected),
        "pings": int(total),
        "p_value": p_value,
        "second_of_minute": [int(x) for x in by_second],
    }
    title = (
        f"{pct(extra / total)} of pings carry seconds :00 beyond chance: "
        "part of the data is truncated to minutes"
    )
    story = (
        f"{count(by_second[0])} pings have seconds exactly :00 where about {count(expected)} "
        f"would be expected, so roughly {pct(extra / total)} of timestamps were cut to the "
        f"minute. Sub-minute speeds and dwell times from those rows are not real; check which "
        f"source {'or device type ' if ctx.has_device_types else ''}writes them."
    )
    return Finding(
        "timestamp_heaping", "low", round(extra / total * 100, 4), title, story, (), evidence
    )


def _coarse_truncation(hists: dict[str, np.ndarray], total: int, limit: float) -> Finding | None:
    """A finding when (almost) every timestamp is a whole hour, or a bare date at midnight."""
    midnight = {clock: h[0] / total for clock, h in hists.items()}
    clock = max(midnight, key=midnight.get)
    if midnight[clock] >= limit:
        return _truncated(hists[clock], "days", midnight[clock])
    marks_share = hists["local"][::HOUR_S].sum() / total
    if marks_share >= limit:
        return _truncated(hists["local"], "hours", marks_share)
    return None


def _truncated(hist: np.ndarray, unit: str, share: float) -> Finding:
    """Every timestamp truncated to whole minutes or hours (low), or to bare dates (high)."""
    total = int(hist.sum())
    by_second = hist.reshape(-1, MINUTE_S).sum(axis=0)
    evidence = {
        "pattern": f"truncated_{unit}",
        "share": float(share),
        "pings": total,
        "second_of_minute": [int(x) for x in by_second],
    }
    if unit == "days":
        title = f"Timestamps are bare dates: {pct(share)} of pings fall exactly at midnight"
        story = (
            f"{pct(share)} of the {count(total)} timestamps are 00:00:00: the file holds dates, "
            f"not times. Every hour-of-day result (night homes, rush hours, hour profiles, time "
            f"zones) would be an artefact of midnight; use this data by day only, or, if "
            f"another column holds the time of day, name it together with the date column."
        )
        return Finding("timestamp_heaping", "high", round(share, 4), title, story, (), evidence)
    title = f"Timestamps are truncated to whole {unit}: {pct(share)} of pings"
    story = (
        f"{pct(share)} of the {count(total)} timestamps fall on whole {unit}, so times are only "
        f"known to the {unit[:-1]}. That is a precision limit, not a heap: hourly profiles are "
        f"fine, but speeds, sub-{unit[:-1]} dwell times and ordering within a {unit[:-1]} are not."
    )
    return Finding("timestamp_heaping", "low", round(share, 4), title, story, (), evidence)
