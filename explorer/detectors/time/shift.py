"""``timezone_shift``: the data set's day fits a human day only after a shift of hours.

The local-clock hour profile (pings per local hour) is compared with a reference human
day under every circular shift; a best shift of 3 hours or more that fits clearly
better than no shift means the timestamps were most likely read in the wrong zone.
"""

from __future__ import annotations

import numpy as np

from explorer.detectors.context import Context
from explorer.detectors.needs import DEVICE_IDS, WHOLE_DAY, check
from explorer.findings import Finding
from explorer.stats import total_variation
from explorer.summary.views import seconds_histogram
from explorer.text import count, pct

HOURS = 24
#: Bins of the clock comparison: 15 minutes resolves every real UTC offset (±hh:15 steps).
_QUARTERS = 96


def shift_curve(hours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """TV distance between the observed profile and the reference shifted by s = 0..23 hours.

    Entry s compares ``hours[h]`` with ``reference[h - s]``: a positive s means the clock
    reads s hours later than the human day it records.
    """
    shifted = np.stack([np.roll(reference, s) for s in range(HOURS)])
    return total_variation(np.broadcast_to(hours, shifted.shape), shifted)


def signed_shift(s: int) -> int:
    """A circular shift 0..23 as the nearest signed shift in -11..12 hours."""
    return s - HOURS if s > HOURS // 2 else s


def clock_offset_hours(ctx: Context) -> float | None:
    """Dominant offset (hours) of the local clock from UTC, from the two seconds histograms."""
    local = seconds_histogram(ctx.summary, "local").reshape(_QUARTERS, -1).sum(axis=1)
    utc = seconds_histogram(ctx.summary, "utc").reshape(_QUARTERS, -1).sum(axis=1)
    if local.sum() == 0:
        return None
    # Circular cross-correlation: local[q] ≈ utc[q - lag] for a zone lag quarters ahead.
    spectrum = np.fft.rfft(local) * np.conj(np.fft.rfft(utc))
    lag = int(np.argmax(np.fft.irfft(spectrum, _QUARTERS)))
    lag = lag - _QUARTERS if lag > _QUARTERS // 2 else lag
    return lag / 4.0


def zone_name(offset_hours: float) -> str:
    """A --tz value for a fixed offset: 'UTC', 'Etc/GMT-3' (= UTC+3), or '+05:30'."""
    if offset_hours == 0:
        return "UTC"
    if offset_hours == int(offset_hours) and -12 <= offset_hours <= 14:
        # POSIX sign convention: Etc/GMT-3 is three hours ahead of UTC.
        return f"Etc/GMT{-int(offset_hours):+d}"
    sign = "+" if offset_hours > 0 else "-"
    minutes = int(round(abs(offset_hours) * 60))
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@check("timezone_shift", DEVICE_IDS, WHOLE_DAY)
def detect_timezone_shift(ctx: Context) -> list[Finding]:
    """One data-set-wide finding when the day only looks human after shifting by ≥ 3 h."""
    cfg = ctx.config.time
    totals = np.asarray(ctx.hour_totals, dtype=float)
    devices = int(ctx.devices.height)
    if totals.sum() == 0 or devices < cfg.shift_min_devices:
        return []
    reference = np.asarray(cfg.reference_day, dtype=float)
    curve = shift_curve(totals, reference)
    best = int(np.argmin(curve))
    shift = signed_shift(best)
    tv0, tv_best = float(curve[0]), float(curve[best])
    gain = tv0 - tv_best
    if abs(shift) < cfg.min_shift_hours or tv_best > cfg.shift_fit_tv:
        return []
    if gain < cfg.shift_medium_gain:
        return []
    severity = "high" if gain >= cfg.shift_high_gain else "medium"
    offset = clock_offset_hours(ctx)
    source = None if offset is None else offset + shift
    evidence = {
        "hours": [float(x) for x in totals / totals.sum()],
        "reference": [float(x) for x in reference / reference.sum()],
        "best_shift_hours": shift,
        "tv_at_0": tv0,
        "tv_at_best": tv_best,
        "tv_by_shift": [float(x) for x in curve],
        "local_offset_hours": offset,
        "likely_source_offset_hours": source,
        "suggested_tz": None if source is None else zone_name(source),
        "naive_timestamps": bool(ctx.summary.naive_timestamps),
        "devices": devices,
        "pings": int(totals.sum()),
    }
    title = (
        f"The day looks human only after moving the clock {abs(shift)} hours "
        f"{'back' if shift > 0 else 'forward'}: timestamps likely in the wrong zone"
    )
    return [
        Finding(
            "timezone_shift",
            severity,
            round(gain * 10 * abs(shift), 4),
            title,
            _story(evidence),
            (),
            evidence,
        )
    ]


def _story(ev: dict) -> str:
    """Story of a timezone_shift finding, with the fix when the timestamps were naive."""
    shift = ev["best_shift_hours"]
    story = (
        f"On the local clock the quietest hours of these {count(ev['pings'])} pings from "
        f"{count(ev['devices'])} devices are not the small hours; moved by {shift:+d} h the "
        f"profile matches a human day (mismatch {pct(ev['tv_at_best'])} instead of "
        f"{pct(ev['tv_at_0'])}). Every hour-of-day result (night homes, rush hours, opening "
        f"times) would be {abs(shift)} hours off."
    )
    tz = ev["suggested_tz"]
    if tz is None:
        return story + " Check which zone the timestamps were written in."
    where = "UTC" if tz == "UTC" else f"UTC{ev['likely_source_offset_hours']:+g}"
    if ev["naive_timestamps"]:
        return story + (
            f" The timestamps have no zone and look like {where} clock times: "
            f"re-read with --tz {tz}."
        )
    return story + (
        f" They look like {where} clock times stored as local times; if the file's "
        f"timestamps have no zone, re-read with --tz {tz}, otherwise ask the "
        f"provider which clock they used."
    )
