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

from explorer.config.time import TimeConfig
from explorer.detectors.context import Context
from explorer.detectors.needs import DEVICE_IDS, WHOLE_DAY, check
from explorer.detectors.time.device_hours import DeviceDays, device_day_profiles
from explorer.findings import Finding
from explorer.stats import binomial_sf, total_variation, wilson_interval
from explorer.summary.views import seconds_histogram
from explorer.text import count, pct, plural

HOURS = 24
#: Bins of the clock comparison: 15 minutes resolves every real UTC offset (±hh:15 steps).
_QUARTERS = 96
#: One turn of the 24-hour rhythm per hour of the day, for its phase.
_TURN = np.exp(-2j * np.pi * np.arange(HOURS) / HOURS)


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
    """A bootstrap over devices (past ``shift_bootstrap_groups``, over fixed groups of them)."""

    draws: np.ndarray  # (B, G) how often each group is drawn in each resample
    group: np.ndarray  # (n,) each device's group
    shifts: np.ndarray  # (B,) phase shift (hours) of each resampled profile
    curves: np.ndarray  # (B, 24) TV distance by circular shift of each resampled profile

    def shares(self, weights: np.ndarray, chosen: np.ndarray, among: np.ndarray) -> np.ndarray:
        """Per resample, the ``weights`` of ``chosen`` devices over those of ``among`` ones."""
        size = self.draws.shape[1]
        top = np.bincount(self.group, weights=weights * chosen, minlength=size)
        bottom = np.bincount(self.group, weights=weights * among, minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.draws @ top) / (self.draws @ bottom)


def bootstrap(weighted: np.ndarray, reference: np.ndarray, cfg: TimeConfig) -> Resampled:
    """Resample devices; ``weighted`` holds each device's profile times its weight."""
    n = weighted.shape[0]
    size = min(n, cfg.shift_bootstrap_groups)
    group = np.arange(n) % size  # devices come sorted by hash: groups are random sets
    sums = np.zeros((size, HOURS))
    np.add.at(sums, group, weighted)
    rng = np.random.default_rng(cfg.shift_bootstrap_seed)
    draws = rng.multinomial(size, np.full(size, 1.0 / size), size=cfg.shift_bootstrap_samples)
    profiles = draws @ sums
    return Resampled(
        draws=draws.astype(float),
        group=group,
        shifts=phase_shift(profiles, reference),
        curves=shift_curve(profiles, reference),
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
    shift_interval: list[float]  # bootstrap interval of shift_hours
    curve: np.ndarray  # (24,) TV distance to the reference by circular shift
    best: int  # the whole-hour shift tested, as a circular shift 0..23
    votes: np.ndarray  # (n,) +1 for the shift, -1 against, 0 undecided
    days: np.ndarray  # (n,) days each device was seen on
    resampled: Resampled


def shift_test(
    devices: DeviceDays, reference: np.ndarray, cfg: TimeConfig, mixup: int | None = None
) -> ShiftTest:
    """Shift of the device-day weighted profile, the devices' votes and the bootstrap.

    Clocks are wrong by whole zone offsets, most often by the local one (UTC read as
    local or the reverse): the whole-hour shift tested is ``mixup`` when the interval of
    the estimate, widened by half an hour of rounding, holds it, else the nearest hour.
    """
    weighted = devices.profiles * np.minimum(devices.days, cfg.shift_max_days)[:, None]
    profile = weighted.sum(axis=0) / weighted.sum()
    shift_hours = float(phase_shift(profile, reference))
    resampled = bootstrap(weighted, reference, cfg)
    low, high = _interval(_wrap(resampled.shifts - shift_hours), cfg)
    best = int(round(shift_hours))
    if mixup is not None and low - 0.5 <= float(_wrap(mixup - shift_hours)) <= high + 0.5:
        best = mixup
    llr = device_votes(devices, reference, best % HOURS, cfg)
    return ShiftTest(
        profile=profile,
        shift_hours=shift_hours,
        shift_interval=[shift_hours + low, shift_hours + high],
        curve=shift_curve(profile, reference),
        best=best % HOURS,
        votes=np.sign(llr) * (np.abs(llr) >= cfg.shift_vote_llr),
        days=devices.days,
        resampled=resampled,
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
    offset = clock_offset_hours(ctx)
    mixup = _mixup_shift(offset, ctx.summary.naive_timestamps)
    test = shift_test(devices, reference, cfg, mixup)
    evidence = _evidence(ctx, devices, test, reference, cfg) | {
        "local_offset_hours": offset,
        "offset_mixup": mixup is not None and test.best == mixup % HOURS,
    }
    evidence |= _source(offset, evidence["best_shift_hours"])
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


def _mixup_shift(offset: float | None, naive: bool) -> int | None:
    """The shift of the usual mix-up at a whole-hour zone: UTC clock times read as local
    ones (naive timestamps), or local clock times labelled as UTC (the others)."""
    if offset is None or offset == 0 or offset != int(offset):
        return None
    return int(-offset if naive else offset)


def _source(offset: float | None, shift: int) -> dict:
    """The zone the timestamps were most likely written in, and its --tz name."""
    if offset is None:
        return {"likely_source_offset_hours": None, "suggested_tz": None}
    source = float(_wrap(offset + shift - 1) + 1)  # within UTC-11 .. UTC+12
    return {"likely_source_offset_hours": source, "suggested_tz": zone_name(source)}


def _evidence(
    ctx: Context, devices: DeviceDays, test: ShiftTest, reference: np.ndarray, cfg: TimeConfig
) -> dict:
    """The numbers behind a timezone_shift finding, and behind its decision."""
    votes_for, votes_against = int((test.votes > 0).sum()), int((test.votes < 0).sum())
    share_low, share_high = wilson_interval(votes_for, votes_for + votes_against)
    days_for, days_voting = test.days[test.votes > 0].sum(), test.days[test.votes != 0].sum()
    boot = test.resampled
    return {
        "hours": [float(x) for x in test.profile],
        "reference": [float(x) for x in reference / reference.sum()],
        "best_shift_hours": signed_shift(test.best),
        "shift_hours": round(test.shift_hours, 2),
        "shift_interval": [round(x, 2) for x in test.shift_interval],
        "tv_at_0": float(test.curve[0]),
        "tv_at_best": float(test.curve[test.best]),
        "tv_by_shift": [float(x) for x in test.curve],
        "gain": float(test.curve[0] - test.curve[test.best]),
        "gain_interval": _interval(boot.curves[:, 0] - boot.curves[:, test.best], cfg),
        "devices_for": votes_for,
        "devices_against": votes_against,
        "device_share": votes_for / max(votes_for + votes_against, 1),
        "device_share_interval": [float(share_low), float(share_high)],
        "sign_test_p": float(binomial_sf(votes_for, votes_for + votes_against, 0.5)),
        "device_days_for": int(days_for),
        "device_day_share": float(days_for / max(days_voting, 1)),
        "device_day_share_interval": _interval(
            boot.shares(test.days, test.votes > 0, test.votes != 0), cfg
        ),
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
    return story + _fix(ev) + _caveat(ev, cfg)


def _fix(ev: dict) -> str:
    """What to do: re-read with a zone when the timestamps were naive, else ask."""
    tz = ev["suggested_tz"]
    if tz is None:
        return " Check which zone the timestamps were written in."
    where = "UTC" if tz == "UTC" else f"UTC{ev['likely_source_offset_hours']:+g}"
    if ev["naive_timestamps"]:
        return (
            f" The timestamps have no zone and look like {where} clock times: "
            f"re-read the file with its timestamps in {tz}."
        )
    return (
        f" They look like {where} clock times stored as local times; if the file's "
        f"timestamps have no zone, re-read the file with its timestamps in {tz}, otherwise "
        "ask the provider which clock they used."
    )


def _caveat(ev: dict, cfg: TimeConfig) -> str:
    """People who live at night look like a shifted clock: say so unless the data can't."""
    if ev["devices_for"] >= cfg.shift_high_devices:
        if ev["offset_mixup"]:
            return ""
        return (
            " Only a panel recruited among night workers would look the same; ask whoever "
            "collected the data if that could be so."
        )
    why = (
        "that the shift is exactly the local zone's offset from UTC points to a clock error"
        if ev["offset_mixup"]
        else "nothing in the data tells a clock error from night work"
    )
    return (
        f" With only {plural(ev['devices_for'], 'device')} behind it, a group who all work "
        f"nights would look the same; {why}, so ask whoever collected the data."
    )
