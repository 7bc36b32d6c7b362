"""timezone_shift draws its power from devices and their days (issue #20).

The miss: eleven GPS loggers around Beijing, a ping every few seconds for weeks, their
naive timestamps written in UTC and read as Beijing time. The panels here are built the
same way (trips from home to work and back, evening outings, weekend trips, one ping
every 1–5 s, nothing logged at night), in three zones and at three panel sizes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import numpy as np
import polars as pl
import pytest

from explorer.config import Config
from explorer.config.time import TimeConfig
from explorer.detectors.context import Context
from explorer.detectors.time import detect_timezone_shift
from explorer.detectors.time.shift import phase_shift
from explorer.reading.pings import read_pings
from explorer.summary import merge, summarise
from explorer.synth.pings import generate_pings
from tests.conftest import REAL_DATA
from tests.detectors.conftest import evidence_schema

RESOLUTION = 8
SCHEMA = evidence_schema("time")["timezone_shift"]
REAL = REAL_DATA
BEIJING, NEW_YORK, MOSCOW, LONDON = (39.9, 116.4), (40.75, -73.98), (55.75, 37.62), (51.51, -0.13)
#: place, its UTC offset in winter (none of them keeps summer time then), first day.
ZONES = {
    "beijing": (BEIJING, 8, datetime(2008, 10, 6, tzinfo=UTC)),
    "new_york": (NEW_YORK, -5, datetime(2024, 1, 8, tzinfo=UTC)),
    "moscow": (MOSCOW, 3, datetime(2024, 1, 8, tzinfo=UTC)),
}


def _trips(rng: np.random.Generator, weekday: int) -> list[tuple[float, float]]:
    """(start, duration) in local hours of one day's logged trips."""
    if weekday >= 5:
        return [(rng.normal(14, 3), rng.uniform(0.5, 2.5)) for _ in range(rng.integers(1, 4))]
    trips = [(rng.normal(7.9, 0.5), rng.uniform(0.4, 1.0)), (rng.normal(18, 0.7), 0.7)]
    if rng.random() < 0.3:
        trips.append((rng.normal(12.3, 0.4), rng.uniform(0.2, 0.6)))
    if rng.random() < 0.4:
        trips.append((rng.normal(20.3, 1.0), rng.uniform(0.5, 2.0)))
    return trips


def panel(
    devices: int,
    zone: str = "beijing",
    *,
    written_in: float = 0.0,
    days: int = 21,
    seed: int = 0,
    lag_hours: float = 0.0,
) -> tuple[pl.DataFrame, bool]:
    """Dense trajectories of a human day at ``zone``, written as clock times of UTC
    ``written_in`` and read back as local ones; ``lag_hours`` moves each person's whole
    day (night workers). Returns the pings and whether their timestamps were naive.
    """
    (lat0, lon0), offset, start = ZONES[zone] if zone in ZONES else (LONDON, 0, ZONES["moscow"][2])
    rng = np.random.default_rng(seed)
    t0, parts = int(start.timestamp()), []
    for device in range(devices):
        home = np.array([lat0, lon0]) + rng.normal(0, 0.06, 2)
        work = home + rng.normal(0, 0.05, 2)
        for day in range(days):
            if rng.random() > 0.8:
                continue  # the logger stayed off that day
            for hour, hours in _trips(rng, (start.weekday() + day) % 7):
                steps = rng.uniform(1, 5, int(hours * 3600 / 3))
                local = t0 + day * 86_400 + (hour + lag_hours) * 3600 + np.cumsum(steps)
                a, b = (home, work) if rng.random() < 0.5 else (work, home)
                along = np.linspace(0, 1, steps.size)[:, None]
                where = a + (b - a) * along + rng.normal(0, 3e-4, (steps.size, 2))
                # The clock of UTC+written_in, read as the local clock of UTC+offset.
                read = local - offset * 3600 + (written_in - offset) * 3600
                parts.append(
                    pl.DataFrame(
                        {"device_id": f"logger-{device}", "t": (read * 1e6).astype(np.int64)}
                    ).with_columns(lat=pl.Series(where[:, 0]), lon=pl.Series(where[:, 1]))
                )
    frame = pl.concat(parts).select(
        "device_id",
        pl.col("t").cast(pl.Datetime("us", "UTC")).alias("timestamp"),
        "lat",
        "lon",
        pl.lit("android").alias("device_type"),
    )
    return frame, written_in != offset


def found(frame: pl.DataFrame, naive: bool = True, config: Config | None = None):
    summary = summarise(frame, RESOLUTION, naive_timestamps=naive)
    return detect_timezone_shift(Context(summary, config))


def serious(findings):
    return [f for f in findings if f.severity in ("medium", "high")]


def check_schema(finding) -> None:
    text = json.dumps(finding.to_dict(), allow_nan=False)
    jsonschema.validate(json.loads(text)["evidence"], SCHEMA)


# --- the miss and its kin: small dense panels in UTC, three zones, three sizes ---------


@pytest.mark.parametrize("devices", [5, 11, 30])
@pytest.mark.parametrize("zone", list(ZONES))
def test_a_dense_panel_written_in_utc_is_found(zone, devices):
    frame, naive = panel(devices, zone, seed=devices)
    findings = found(frame, naive)
    assert len(findings) == 1
    finding = findings[0]
    ev = finding.evidence
    offset = ZONES[zone][1]
    # UTC clock times read as local: the day shows `offset` hours early.
    assert ev["best_shift_hours"] == -offset
    low, high = ev["shift_interval"]
    assert low <= -offset <= high and high - low < 2.5
    # Every device with enough days votes, and for the shift.
    assert ev["devices_for"] >= 0.9 * devices and ev["devices_against"] == 0
    assert ev["suggested_tz"] == "UTC" and ev["offset_mixup"]
    assert "re-read the file with its timestamps in UTC" in finding.story
    # A handful could be a team working nights: medium, and the story says so. Thirty
    # are high, unless the shift is 3 hours: that moves about an eighth of a logger's
    # day, under the bar of high (shift_high_gain).
    if ev["devices_for"] < TimeConfig().shift_high_devices:
        assert finding.severity == "medium"
        assert "work nights" in finding.story and "offset from UTC" in finding.story
    else:
        assert finding.severity == ("medium" if abs(offset) == 3 else "high")
    check_schema(finding)


@pytest.mark.parametrize("zone", list(ZONES))
def test_the_same_panel_on_the_right_clock_gives_nothing(zone):
    frame, naive = panel(11, zone, written_in=ZONES[zone][1], seed=3)
    assert found(frame, naive) == []


# --- power from device-days, not pings -------------------------------------------------


def test_power_grows_with_the_days_each_device_is_seen():
    few_days, _ = panel(11, days=3, seed=7)
    assert found(few_days) == []
    weeks, _ = panel(11, days=21, seed=7)
    assert [f.severity for f in found(weeks)] == ["medium"]


def test_pings_are_not_observations():
    frame, _ = panel(11, seed=8)
    whole = found(frame)[0].evidence
    # One ping in twenty (about one a minute): the same device-days, the same verdict.
    thinned = found(frame.gather_every(20))[0].evidence
    for key in ("devices_for", "devices_against", "device_days", "best_shift_hours"):
        assert thinned[key] == whole[key]
    assert abs(thinned["gain"] - whole["gain"]) < 0.03
    # One device sending ten times as many pings weighs the same.
    busy = pl.concat([frame] + [frame.filter(pl.col("device_id") == "logger-0")] * 9)
    loud = found(busy)[0].evidence
    assert loud["device_days"] == whole["device_days"]
    assert abs(loud["gain"] - whole["gain"]) < 0.01


def test_four_devices_are_too_few_to_tell_a_clock_from_chance():
    frame, _ = panel(4, seed=9)
    assert found(frame) == []


def test_a_partial_day_is_not_a_shift():
    # Eight devices, one 3.6-hour daytime session (the shape of the UK GPS test data).
    rng = np.random.default_rng(10)
    start = datetime(2019, 11, 29, 11, 53, tzinfo=UTC).timestamp()
    seconds = np.sort(rng.uniform(0, 3.6 * 3600, 30_000))
    frame = pl.DataFrame(
        {
            "device_id": [f"unit-{i}" for i in rng.integers(0, 8, seconds.size)],
            "timestamp": pl.Series((start + seconds) * 1e6).cast(pl.Datetime("us", "UTC")),
            "lat": 51.23 + rng.normal(0, 0.01, seconds.size),
            "lon": -1.34 + rng.normal(0, 0.01, seconds.size),
            "device_type": "android",
        }
    )
    for moved in (0, -8, 8):
        assert found(frame.with_columns(pl.col("timestamp") + pl.duration(hours=moved))) == []


# --- night workers ----------------------------------------------------------------------


def test_a_handful_of_night_workers_is_medium_at_most_and_the_story_hedges():
    # Five people whose whole day runs ten hours late, on a correct clock (London, UTC).
    frame, _ = panel(5, "london", lag_hours=10, seed=11)
    findings = found(frame, naive=False)
    assert [f.severity for f in findings] == ["medium"]
    story = findings[0].story
    assert "work nights" in story and "nothing in the data tells" in story
    assert not findings[0].evidence["offset_mixup"]


def test_night_workers_among_day_workers_give_nothing():
    night, _ = panel(6, "london", lag_hours=10, seed=12)
    day, _ = panel(14, "london", seed=13)
    day = day.with_columns(pl.col("device_id") + "-day")
    assert serious(found(pl.concat([night, day]), naive=False)) == []


# --- calibration: clean synthetic and real data, planted shifts --------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("city", ["new_york", "sao_paulo", "london"])
def test_clean_synthetic_cities_give_no_shift(city, seed):
    result = generate_pings(150_000, city=city, seed=seed)
    assert serious(found(result.pings, naive=False)) == []


@pytest.mark.parametrize(
    ("city", "start", "shift"),
    [("new_york", "2024-06-03", 4), ("new_york", "2024-01-08", 5), ("sao_paulo", "2024-06-03", 3)],
)
def test_a_planted_shift_is_found_high(city, start, shift):
    result = generate_pings(150_000, city=city, seed=4, start=start, biases=("timezone_shift",))
    findings = found(result.pings)
    assert [f.severity for f in findings] == ["high"]
    ev = findings[0].evidence
    assert ev["best_shift_hours"] == shift and ev["suggested_tz"] == "UTC"
    assert ev["device_share_interval"][0] > 0.9
    check_schema(findings[0])


REAL_CASES = [
    ("gps_accuracy_devices_tracks.csv", {"device_id": "device", "timestamp": "time"}),
    ("gotrack_points.csv", {"device_id": "id_android", "timestamp": "time"}),
    ("gowalla_nyc_checkins.csv", {"device_id": "user_id", "timestamp": "checkin_time"}),
]


@pytest.mark.parametrize(
    ("name", "columns"),
    [pytest.param(*case, id=case[0]) for case in REAL_CASES if (REAL / case[0]).exists()],
)
def test_real_data_on_the_right_clock_gives_no_shift(name, columns):
    read = read_pings(REAL / name, columns=columns)
    assert serious(found(read.pings, naive=read.naive_timestamps)) == []


# --- the statistics themselves ----------------------------------------------------------


def test_phase_shift_reads_a_moved_reference_exactly():
    reference = np.asarray(TimeConfig().reference_day, dtype=float)
    moved = np.stack([np.roll(reference, s) for s in (0, 3, -5, 8, 12)])
    assert np.allclose(phase_shift(moved, reference), [0, 3, -5, 8, -12])


def test_merged_chunks_and_grouped_bootstrap_give_the_same_answer():
    frame, _ = panel(11, seed=14)
    whole = found(frame)[0]
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=1)
    bounds = [0, 1_000, shuffled.height // 2, shuffled.height]
    parts = [
        summarise(shuffled[a:b], RESOLUTION, naive_timestamps=True)
        for a, b in zip(bounds, bounds[1:])
    ]
    merged = detect_timezone_shift(Context(merge(parts)))[0].evidence
    for key, value in whole.evidence.items():
        # Sums over devices merged in another order may differ in their last bits.
        if isinstance(value, list | float):
            assert np.allclose(merged[key], value, rtol=1e-9, atol=1e-12), key
        else:
            assert merged[key] == value, key
    # Past shift_bootstrap_groups devices, whole groups of devices are resampled.
    grouped = Config(time=TimeConfig(shift_bootstrap_groups=4))
    ev = found(frame, config=grouped)[0].evidence
    assert ev["best_shift_hours"] == whole.evidence["best_shift_hours"]
    assert ev["shift_interval"][0] <= -8 <= ev["shift_interval"][1]
