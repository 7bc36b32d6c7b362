"""``timezone_shift``: the devices' days fit a human day only after a shift of hours.

The evidence is device-days, not pings. Each device's hour profile is weighted by the
days it was seen on (up to four weeks), so a handful of devices followed for weeks
weighs as much as thousands seen once, and a phone sending a ping a second counts no
more than one sending a ping an hour. The shift is the phase of the weighted profile's
24-hour rhythm against a reference human day (a cosinor fit, robust to the profile's
shape); each device then votes for that shift or for none on the strength of its own
days, and the votes (a sign test over devices) and a bootstrap over devices decide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.config.time import TimeConfig
from explorer.detectors.context import Context
from explorer.detectors.needs import DEVICE_IDS, WHOLE_DAY, check
from explorer.findings import Finding
from explorer.stats import binomial_sf, total_variation, wilson_interval
from explorer.summary.views import seconds_histogram
from explorer.text import count, pct, plural

HOURS = 24
#: Bins of the clock comparison: 15 minutes resolves every real UTC offset (±hh:15 steps).
_QUARTERS = 96
#: One turn of the 24-hour rhythm per hour of the day, for its phase.
_TURN = np.exp(-2j * np.pi * np.arange(HOURS) / HOURS)


@dataclass(frozen=True)
class DeviceDays:
    """Each device's hour profile and the local days behind it, devices sorted by hash."""

    profiles: np.ndarray  # (n, 24) share of the device's pings at each local hour
    days: np.ndarray  # (n,) local days the device was seen on
    pings: int


def device_day_profiles(ctx: Context, chunk: int = 1 << 17) -> DeviceDays:
    """Per-device hour profiles from ``cell_devices`` and days from ``device_days``.

    A (cell, device) row knows its pings and the set of local hours they fell in, not
    how they split between those hours: they are split as the cell's own pings split
    between those hours (``cell_hours``), which is exact for a cell of one device.
    Rows are taken ``chunk`` at a time, so memory stays flat for any number of rows.
    """
    tables = ctx.summary.tables
    rows = tables["cell_devices"].filter(pl.col("device").is_not_null())
    cell_ids, cell_hours = _cell_hour_matrix(tables["cell_hours"])
    devices, device_code = np.unique(rows["device"].to_numpy(), return_inverse=True)
    cell_code = np.searchsorted(cell_ids, rows["cell"].to_numpy())
    masks = rows["hour_mask"].to_numpy().astype(np.int64)
    pings = rows["pings"].to_numpy().astype(float)
    hours = np.zeros((devices.size, HOURS))
    bit = np.int64(1) << np.arange(HOURS, dtype=np.int64)
    for start in range(0, masks.size, chunk):
        part = slice(start, start + chunk)
        seen = (masks[part, None] & bit) > 0
        split = np.where(seen, cell_hours[cell_code[part]], 0.0)
        total = split.sum(axis=1, keepdims=True)
        split = np.where(
            total > 0,
            split / np.where(total > 0, total, 1.0),
            seen / np.clip(seen.sum(axis=1, keepdims=True), 1, None),
        )
        split *= pings[part, None]
        for h in range(HOURS):
            hours[:, h] += np.bincount(
                device_code[part], weights=split[:, h], minlength=devices.size
            )
    days = _days_per_device(tables["device_days"], devices)
    totals = hours.sum(axis=1)
    keep = (totals > 0) & (days > 0)
    return DeviceDays(
        profiles=hours[keep] / totals[keep, None], days=days[keep], pings=int(round(totals.sum()))
    )


def _cell_hour_matrix(cell_hours: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Sorted cell ids and their (cells, 24) pings per local hour."""
    ids, code = np.unique(cell_hours["cell"].to_numpy(), return_inverse=True)
    matrix = np.zeros((ids.size, HOURS))
    np.add.at(
        matrix, (code, cell_hours["hour"].to_numpy().astype(int)), cell_hours["pings"].to_numpy()
    )
    return ids, matrix


def _days_per_device(device_days: pl.DataFrame, devices: np.ndarray) -> np.ndarray:
    """Local days seen of each of the sorted ``devices`` (0 for one with none)."""
    seen, per_device = np.unique(device_days["device"].drop_nulls().to_numpy(), return_counts=True)
    out = np.zeros(devices.size)
    where = np.searchsorted(seen, devices)
    found = (where < seen.size) & (seen[np.minimum(where, seen.size - 1)] == devices)
    out[found] = per_device[where[found]]
    return out


def shift_curve(hours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """TV distance between the observed profile and the reference shifted by s = 0..23 hours.

    Entry s compares ``hours[h]`` with ``reference[h - s]``: a positive s means the clock
    reads s hours later than the human day it records. ``hours`` may hold one profile
    per row (then one curve per row).
    """
    shifted = np.stack([np.roll(reference, s) for s in range(HOURS)])
    return total_variation(np.asarray(hours, dtype=float)[..., None, :], shifted)


def signed_shift(s: int) -> int:
    """A circular shift 0..23 as the nearest signed shift in -11..12 hours."""
    return s - HOURS if s > HOURS // 2 else s


def _wrap(hours: np.ndarray | float) -> np.ndarray:
    """Hours as the nearest signed difference in [-12, 12)."""
    return (np.asarray(hours, dtype=float) + HOURS / 2) % HOURS - HOURS / 2


def phase_shift(profiles: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Hours by which each profile's 24-hour rhythm runs later than the reference's.

    The phase of the first harmonic (the cosinor acrophase) places the day by where its
    activity sits as a whole, so a logger that records only trips, peaking at commutes,
    is placed as well as a phone whose activity follows the smooth reference.
    """

    def centre(p: np.ndarray) -> np.ndarray:
        return -np.angle(np.asarray(p, dtype=float) @ _TURN) * HOURS / (2 * np.pi)

    return _wrap(centre(profiles) - centre(reference))


def device_votes(
    devices: DeviceDays, reference: np.ndarray, best: int, cfg: TimeConfig
) -> np.ndarray:
    """Each device's log-likelihood ratio (nats) of the shift ``best`` against none.

    Each of its days counts as one draw of an hour from its profile (conservative: a
    real day holds many active hours), so a device's say grows with its days, not its
    pings; the reference is mixed with an even day so that no hour is impossible.
    Positive: the device lives on the shifted clock.
    """
    share = reference / reference.sum()
    logs = np.log((1 - cfg.shift_even_mix) * share + cfg.shift_even_mix / HOURS)
    return np.minimum(devices.days, cfg.shift_max_days) * (
        devices.profiles @ (np.roll(logs, best) - logs)
    )


@dataclass(frozen=True)
class Resampled:
    """A bootstrap over devices: per resample, the shift, the gain and the day share."""

    shifts: np.ndarray  # (B,) phase shift (hours) of the resampled profile
    gains: np.ndarray  # (B,) TV(0) - TV(best) at the data's best shift
    day_shares: np.ndarray  # (B,) share of voting device-days voting for the shift


def bootstrap(
    weighted: np.ndarray,
    votes: np.ndarray,
    reference: np.ndarray,
    best: int,
    cfg: TimeConfig,
) -> Resampled:
    """Resample devices (past ``shift_bootstrap_groups`` of them, fixed groups of devices).

    ``weighted`` holds each device's profile times its weight (rows sum to the weights).
    """
    n = weighted.shape[0]
    size = min(n, cfg.shift_bootstrap_groups)
    group = np.arange(n) % size
    sums = np.zeros((size, HOURS))
    np.add.at(sums, group, weighted)
    weights = weighted.sum(axis=1)
    w_for = np.bincount(group, weights=weights * (votes > 0), minlength=size)
    w_voting = np.bincount(group, weights=weights * (votes != 0), minlength=size)
    rng = np.random.default_rng(cfg.shift_bootstrap_seed)
    draws = rng.multinomial(size, np.full(size, 1.0 / size), size=cfg.shift_bootstrap_samples)
    profiles = draws @ sums
    curves = shift_curve(profiles, reference)
    with np.errstate(invalid="ignore", divide="ignore"):
        day_shares = (draws @ w_for) / (draws @ w_voting)
    return Resampled(
        shifts=phase_shift(profiles, reference),
        gains=curves[:, 0] - curves[:, best],
        day_shares=day_shares,
    )


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


@dataclass(frozen=True)
class ShiftTest:
    """The statistics of a data set's shift, before any decision."""

    profile: np.ndarray  # (24,) device-day weighted share of activity per local hour
    shift_hours: float  # phase shift of that profile, hours
    curve: np.ndarray  # (24,) TV distance to the reference by circular shift
    best: int  # the phase shift rounded, as a circular shift 0..23
    votes: np.ndarray  # (n,) +1 for the shift, -1 against, 0 undecided
    days: np.ndarray  # (n,) days each device was seen on
    resampled: Resampled


def shift_test(devices: DeviceDays, reference: np.ndarray, cfg: TimeConfig) -> ShiftTest:
    """Shift of the device-day weighted profile, the devices' votes and the bootstrap."""
    weighted = devices.profiles * np.minimum(devices.days, cfg.shift_max_days)[:, None]
    profile = weighted.sum(axis=0) / weighted.sum()
    shift_hours = float(phase_shift(profile, reference))
    best = int(round(shift_hours)) % HOURS
    llr = device_votes(devices, reference, best, cfg)
    votes = np.sign(llr) * (np.abs(llr) >= cfg.shift_vote_llr)
    return ShiftTest(
        profile=profile,
        shift_hours=shift_hours,
        curve=shift_curve(profile, reference),
        best=best,
        votes=votes,
        days=devices.days,
        resampled=bootstrap(weighted, votes, reference, best, cfg),
    )


def _interval(values: np.ndarray, cfg: TimeConfig) -> list[float]:
    """Central ``shift_interval_share`` interval of bootstrap values (NaNs dropped)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [0.0, 1.0]
    tail = (1 - cfg.shift_interval_share) / 2
    return [float(x) for x in np.quantile(finite, [tail, 1 - tail])]


@check("timezone_shift", DEVICE_IDS, WHOLE_DAY)
def detect_timezone_shift(ctx: Context) -> list[Finding]:
    """One data-set-wide finding when the devices' days look human only after a ≥ 3 h shift."""
    cfg = ctx.config.time
    devices = device_day_profiles(ctx)
    if devices.days.size == 0:
        return []
    reference = np.asarray(cfg.reference_day, dtype=float)
    evidence = _evidence(ctx, devices, shift_test(devices, reference, cfg), reference, cfg)
    severity = _severity(evidence, cfg)
    if severity is None:
        return []
    shift, voting = evidence["best_shift_hours"], evidence["devices_for"]
    title = (
        f"{voting} of {voting + evidence['devices_against']} devices live a human day only "
        f"after moving the clock {abs(shift)} hours {'back' if shift > 0 else 'forward'}: "
        f"timestamps likely in the wrong zone"
    )
    score = round(evidence["gain"] * 10 * abs(shift), 4)
    return [Finding("timezone_shift", severity, score, title, _story(evidence, cfg), (), evidence)]


def _severity(ev: dict, cfg: TimeConfig) -> str | None:
    """Medium or high when the shift is big, fits, gains clearly and most devices agree."""
    if abs(ev["best_shift_hours"]) < cfg.min_shift_hours or ev["tv_at_best"] > cfg.shift_fit_tv:
        return None
    voting = ev["devices_for"]
    if (
        ev["gain_interval"][0] < cfg.shift_medium_gain
        or voting < cfg.shift_min_devices
        or ev["sign_test_p"] > cfg.shift_alpha
        or ev["device_share_interval"][0] <= cfg.shift_agreement_share
    ):
        return None
    high = ev["gain_interval"][0] >= cfg.shift_high_gain and voting >= cfg.shift_high_devices
    return "high" if high else "medium"


def _evidence(
    ctx: Context, devices: DeviceDays, test: ShiftTest, reference: np.ndarray, cfg: TimeConfig
) -> dict:
    """The numbers behind a timezone_shift finding, and behind its decision."""
    shift = signed_shift(test.best)
    offset = clock_offset_hours(ctx)
    source = None if offset is None else float(_wrap(offset + shift - 1) + 1)
    votes_for, votes_against = int((test.votes > 0).sum()), int((test.votes < 0).sum())
    share_low, share_high = wilson_interval(votes_for, votes_for + votes_against)
    around = _wrap(test.resampled.shifts - test.shift_hours)
    days_for, days_voting = test.days[test.votes > 0].sum(), test.days[test.votes != 0].sum()
    # The usual mix-up: UTC clock times read as local (naive), or local ones labelled UTC.
    mixup = (
        offset is not None
        and offset != 0
        and shift == round(-offset if ctx.summary.naive_timestamps else offset)
    )
    return {
        "hours": [float(x) for x in test.profile],
        "reference": [float(x) for x in reference / reference.sum()],
        "best_shift_hours": shift,
        "shift_hours": round(test.shift_hours, 2),
        "shift_interval": [round(test.shift_hours + x, 2) for x in _interval(around, cfg)],
        "tv_at_0": float(test.curve[0]),
        "tv_at_best": float(test.curve[test.best]),
        "tv_by_shift": [float(x) for x in test.curve],
        "gain": float(test.curve[0] - test.curve[test.best]),
        "gain_interval": _interval(test.resampled.gains, cfg),
        "devices_for": votes_for,
        "devices_against": votes_against,
        "device_share": votes_for / max(votes_for + votes_against, 1),
        "device_share_interval": [float(share_low), float(share_high)],
        "sign_test_p": float(binomial_sf(votes_for, votes_for + votes_against, 0.5)),
        "device_days_for": int(days_for),
        "device_day_share": float(days_for / max(days_voting, 1)),
        "device_day_share_interval": _interval(test.resampled.day_shares, cfg),
        "local_offset_hours": offset,
        "likely_source_offset_hours": source,
        "suggested_tz": None if source is None else zone_name(source),
        "offset_mixup": bool(mixup),
        "naive_timestamps": bool(ctx.summary.naive_timestamps),
        "devices": int(devices.days.size),
        "device_days": int(devices.days.sum()),
        "pings": devices.pings,
    }


def _story(ev: dict, cfg: TimeConfig) -> str:
    """Story of a timezone_shift finding: how big and how sure, the fix, the caveat."""
    shift, (low, high) = ev["best_shift_hours"], ev["shift_interval"]
    voting = ev["devices_for"] + ev["devices_against"]
    story = (
        f"Over {count(ev['device_days'])} device-days of {plural(ev['devices'], 'device')}, "
        f"the quiet hours on the local clock are not the small hours: moved by {shift:+d} h "
        f"({low:+.1f} to {high:+.1f} h, 90 % interval) the day matches a human one "
        f"(mismatch {pct(ev['tv_at_best'])} instead of {pct(ev['tv_at_0'])}), and "
        f"{count(ev['devices_for'])} of the {count(voting)} devices whose days decide live on "
        f"that clock. Every hour-of-day result (night homes, rush hours, opening times) "
        f"would be {abs(shift)} hours off."
    )
    story += _fix(ev)
    if ev["devices_for"] < cfg.shift_high_devices:
        story += _caveat(ev)
    return story


def _fix(ev: dict) -> str:
    """What to do: re-read with a zone when the timestamps were naive, else ask."""
    tz = ev["suggested_tz"]
    if tz is None:
        return " Check which zone the timestamps were written in."
    where = "UTC" if tz == "UTC" else f"UTC{ev['likely_source_offset_hours']:+g}"
    if ev["naive_timestamps"]:
        return (
            f" The timestamps have no zone and look like {where} clock times: "
            f"re-read with --tz {tz}."
        )
    return (
        f" They look like {where} clock times stored as local times; if the file's "
        f"timestamps have no zone, re-read with --tz {tz}, otherwise ask the "
        f"provider which clock they used."
    )


def _caveat(ev: dict) -> str:
    """With few devices, a group who all live at night would look the same."""
    why = (
        "that the shift is exactly the local zone's offset from UTC points to a clock error"
        if ev["offset_mixup"]
        else "nothing else in the data tells a clock error from night work"
    )
    return (
        f" With only {plural(ev['devices_for'], 'device')} behind it, a group who all work "
        f"nights would look the same; {why}, so ask whoever collected the data."
    )
