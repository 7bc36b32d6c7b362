"""panel_shift: a day from which the panel works differently, found on the day.

Planted with the panel faults (denser or sparser tracking per device, devices dropped,
one OS's devices dropped) early, mid and late in 3- and 4-week files of four cities and
several metros; found with the change day within one day, the metric that moved and a
severity that rises with the strength. Clean files of 1 to 4 weeks, a stronger weekly
rhythm, a holiday-sized dip, holes and cut days, steady or bending growth and the real
public files give no medium or high shift; merged halves give the same finding.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from jsonschema import Draft202012Validator

from explorer.detectors.context import Context
from explorer.detectors.panel.shift import detect_panel_shift, scan_panel
from explorer.detectors.panel.steps import best_step, weekday_adjusted, whole_days
from explorer.reading.pings import read_pings
from explorer.summary import merge, summarise
from explorer.summary.panel import iso_hour
from explorer.synth import panel_biases as pb
from explorer.synth.pings import generate_metros, generate_pings
from explorer.testing import serious
from tests.conftest import REAL_DATA
from tests.detectors.conftest import evidence_schema

RES = 7
N = 100_000
FIRST = dt.date(2024, 6, 3)
ZONES = {
    "new_york": "America/New_York",
    "sao_paulo": "America/Sao_Paulo",
    "london": "Europe/London",
    "singapore": "Asia/Singapore",
}
#: The family's schema file pointed at its kind, so its shared definitions resolve.
SCHEMA = Draft202012Validator(
    {**evidence_schema("panel_shift"), "$ref": "#/panel_shift"},
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)


def shifts(pings: pl.DataFrame) -> list:
    return detect_panel_shift(Context(summarise(pings, RES)))


def midnight(city: str, day: dt.date) -> dt.datetime:
    return pb.local_midnight(day, ZONES[city])


def planted(pings: pl.DataFrame, city: str, day: dt.date, fault: str, strength: float):
    instant = midnight(city, day)
    if fault == "densify":
        return pb.densify_after(pings, instant, strength, seed=3)
    if fault == "drop":
        return pb.drop_devices_after(pings, instant, strength, seed=3)
    return pb.drop_devices_after(pings, instant, strength, seed=3, device_type="android")


def the_shift(found: list, day: dt.date):
    """The one finding, its change day within one day of ``day``."""
    assert len(found) == 1, [f.title for f in found]
    hit = found[0]
    SCHEMA.validate(hit.evidence)
    told = dt.date.fromisoformat(hit.evidence["change_day"])
    assert abs((told - day).days) <= 1
    return hit


@pytest.mark.parametrize(
    ("city", "days", "offset", "fault", "strength", "metric", "severity"),
    [
        ("new_york", 28, 5, "densify", 1.5, "pings_per_device", "medium"),
        ("sao_paulo", 21, 10, "densify", 2.0, "pings_per_device", "high"),
        ("london", 28, 23, "densify", 3.0, "pings_per_device", "high"),
        ("singapore", 21, 15, "densify", 0.5, "pings_per_device", "high"),
        ("new_york", 21, 4, "drop", 0.3, "devices", "medium"),
        ("sao_paulo", 28, 14, "drop", 0.5, "devices", "high"),
        ("london", 21, 16, "drop", 0.3, "devices", "medium"),
        ("singapore", 28, 9, "android", 0.6, "type_share", "medium"),
        ("new_york", 28, 20, "android", 0.6, "type_share", "medium"),
    ],
)
def test_planted_steps_are_found_on_their_day(
    city, days, offset, fault, strength, metric, severity
):
    pings = generate_pings(N, city=city, seed=offset, days=days).pings
    day = FIRST + dt.timedelta(days=offset)
    shifted = planted(pings, city, day, fault, strength)
    hit = the_shift(shifts(shifted), day)
    assert hit.severity == severity
    ev = hit.evidence
    moved = {m["metric"]: m for m in ev["metrics"]}
    assert metric in moved and ev["weekday_adjusted"] is True
    assert ev["days"][0] == FIRST.isoformat()
    # Denser copies a few minutes after the last pings spill into a next local day: a
    # stray edge day, left out.
    assert ev["days"][days:] == [d for d in ev["days_left_out"] if d >= ev["days"][days - 1]]
    if metric == "type_share":
        android = next(m for m in ev["metrics"] if m["type"] == "android")
        # 60 % of the android half of the panel gone: about 22 points off its share.
        assert -0.27 < android["change"] < -0.17
        assert android["change_low"] <= android["change"] <= android["change_high"]
        assert moved["devices"]["change"] == pytest.approx(0.68, abs=0.05)
    elif fault == "drop":
        assert moved["devices"]["change"] == pytest.approx(1 - strength, abs=0.04)
        assert "pings_per_device" not in moved
    elif strength > 1:
        assert moved[metric]["change"] == pytest.approx(strength, rel=0.04)
        assert moved[metric]["change_low"] < strength * 1.04 and "devices" not in moved
    else:
        # Sparser tracking also hides the lightest devices on some days: both fall,
        # and the pings a day halve in all.
        assert ev["pings_change"] == pytest.approx(strength, rel=0.05)
    # The period starts at the change day's local midnight and runs to the last ping.
    told = dt.date.fromisoformat(ev["change_day"])
    assert hit.period["start"] == midnight(city, told).strftime("%Y-%m-%dT%H:%M:%SZ")
    last = shifted["timestamp"].max()
    end = dt.datetime.fromisoformat(hit.period["end"])
    assert last < end <= last + dt.timedelta(hours=1)


def test_severity_rises_with_the_strength():
    pings = generate_pings(N, city="london", seed=7, days=28).pings
    day = FIRST + dt.timedelta(days=13)
    found = {f: shifts(planted(pings, "london", day, "densify", f)) for f in (1.2, 1.5, 2, 3)}
    severities = [the_shift(found[f], day).severity for f in (1.2, 1.5, 2, 3)]
    assert severities == ["low", "medium", "high", "high"]
    scores = [found[f][0].score for f in (1.2, 1.5, 2, 3)]
    assert scores == sorted(scores)
    dropped = {s: shifts(planted(pings, "london", day, "drop", s)) for s in (0.15, 0.3, 0.5)}
    assert [the_shift(dropped[s], day).severity for s in (0.15, 0.3, 0.5)] == [
        "low",
        "medium",
        "high",
    ]


def test_denser_tracking_while_devices_fall_is_one_finding():
    """The World Bank's case: points up by about 170 % while users fall by 30 %."""
    pings = generate_pings(N, city="new_york", seed=8, days=28).pings
    day = FIRST + dt.timedelta(days=12)
    both = pb.densify_after(
        pb.drop_devices_after(pings, midnight("new_york", day), 0.3, seed=1),
        midnight("new_york", day),
        3.9,
        seed=2,
    )
    hit = the_shift(shifts(both), day)
    moved = {m["metric"]: m for m in hit.evidence["metrics"]}
    assert set(moved) == {"devices", "pings_per_device"} and hit.severity == "high"
    assert moved["devices"]["change"] == pytest.approx(0.7, abs=0.04)
    assert hit.evidence["pings_change"] == pytest.approx(2.7, rel=0.08)
    assert "fewer devices" in hit.story.lower() and "times the pings" in hit.story
    assert 2 <= hit.story.count(". ") + 1 <= 4


@pytest.mark.parametrize(("city", "seed"), [("new_york", 1), ("sao_paulo", 2), ("london", 3)])
@pytest.mark.parametrize("days", [7, 14, 21, 28])
def test_clean_files_have_no_shift(city, seed, days):
    assert shifts(generate_pings(N, city=city, seed=seed, days=days).pings) == []


def weekends_thinned(pings: pl.DataFrame, city: str, keep: float) -> pl.DataFrame:
    """Every Saturday and Sunday keeps only ``keep`` of its pings: a stronger weekly rhythm."""
    for offset in range(28):
        day = FIRST + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            end = midnight(city, day + dt.timedelta(days=1))
            pings = pb.thin_period(pings, midnight(city, day), end, keep, seed=offset)
    return pings


def test_a_strong_weekly_rhythm_and_a_holiday_are_no_shift():
    pings = generate_pings(N, city="sao_paulo", seed=4, days=28).pings
    assert serious(shifts(weekends_thinned(pings, "sao_paulo", 0.7))) == []
    holiday = FIRST + dt.timedelta(days=17)
    dip = pb.thin_period(
        pings, midnight("sao_paulo", holiday), midnight("sao_paulo", holiday.replace(day=21)), 0.6
    )
    assert shifts(dip) == []


def test_holes_and_cut_days_are_left_out_not_told():
    pings = generate_pings(N, city="new_york", seed=5, days=21).pings
    hole = FIRST + dt.timedelta(days=9)
    holed = pb.drop_period(
        pings, midnight("new_york", hole), midnight("new_york", hole + dt.timedelta(days=2))
    )
    last = FIRST + dt.timedelta(days=20)
    cut = pb.cut_after(holed, midnight("new_york", last) + dt.timedelta(hours=13))
    ctx = Context(summarise(cut, RES))
    scan = scan_panel(ctx)
    left_out = [d for d, kept in zip(scan.days, scan.kept, strict=True) if not kept]
    assert left_out == [hole, hole + dt.timedelta(days=1), last]
    assert detect_panel_shift(ctx) == []


def growing(pings: pl.DataFrame, rate: float, seed: int = 0) -> pl.DataFrame:
    """Each device is kept on a day with a probability growing by ``rate`` a day (all on
    the last day): a panel that recruits steadily."""
    rng = np.random.default_rng(seed)
    ids = pings["device_id"].unique().sort()
    draws = pl.DataFrame({"device_id": ids, "u": rng.random(ids.len())})
    day = (pl.col("timestamp") - pings["timestamp"].min()).dt.total_days()
    frame = pings.join(draws, on="device_id").with_columns(day=day)
    keep = (1 + rate) ** (pl.col("day") - frame["day"].max())
    return frame.filter(pl.col("u") < keep).drop("u", "day")


@pytest.mark.parametrize(("city", "rate"), [("new_york", 0.01), ("singapore", 0.02)])
def test_steady_growth_is_not_a_step(city, rate):
    pings = generate_pings(N, city=city, seed=6, days=28).pings
    grown = growing(pings, rate)
    daily = Context(summarise(grown, RES)).daily
    assert daily["devices"][-1] > 1.2 * daily["devices"][0]
    assert serious(shifts(grown)) == []


def test_several_metros_quiet_and_a_step_found_in_every_zone():
    pings = generate_metros(150_000, seed=3, days=28).pings
    assert shifts(pings) == []
    day = FIRST + dt.timedelta(days=14)
    utc = dt.datetime.combine(day, dt.time(0), dt.UTC)
    hit = the_shift(shifts(pb.densify_after(pings, utc, 2.0, seed=1)), day)
    assert hit.severity == "high"
    # The change day starts at its first local midnight, in the zone farthest east.
    ctx = Context(summarise(pings, RES))
    hours = ctx.summary.tables["period_hours"]
    first = hours.filter(pl.col("day") == day)["hour"].min()
    assert hit.period["start"] == iso_hour(first) < utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_without_device_ids_the_pings_a_day_are_tested():
    pings = generate_pings(N, city="london", seed=9, days=21).pings
    anonymous = pings.with_columns(device_id=pl.lit(None, pl.String))
    assert shifts(anonymous) == []
    day = FIRST + dt.timedelta(days=11)
    hit = the_shift(shifts(planted(anonymous, "london", day, "densify", 2.0)), day)
    assert [m["metric"] for m in hit.evidence["metrics"]] == ["pings"]
    assert "without device ids" in hit.story.lower()
    assert detect_panel_shift.needs == ("several_days",)


def test_merged_halves_give_the_same_finding():
    pings = generate_pings(N, city="sao_paulo", seed=10, days=21).pings
    day = FIRST + dt.timedelta(days=8)
    shifted = planted(pings, "sao_paulo", day, "drop", 0.5).sample(fraction=1.0, seed=2)
    half = shifted.height // 2
    whole = detect_panel_shift(Context(summarise(shifted, RES)))
    parts = merge([summarise(shifted[:half], RES), summarise(shifted[half:], RES)])
    merged = detect_panel_shift(Context(parts))
    assert len(whole) == 1
    assert [(f.id, f.severity, f.story, f.evidence) for f in merged] == [
        (f.id, f.severity, f.story, f.evidence) for f in whole
    ]


def test_steps_known_answers():
    """The statistics alone: a clean step's p-value is the smallest the shuffles can
    give, a ramp is no step, the weekly rhythm comes out and a hole is not whole."""
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.02, 28)
    days = np.arange(28)
    step = best_step(noise + 0.5 * (days >= 11), days, 3, 999, 500, seed=1)
    assert step.at == 11 and step.p_value == pytest.approx(1 / 1000) and step.beats_trend
    assert step.low < step.difference < step.high and abs(step.difference - 0.5) < 0.03
    ramp = best_step(noise + 0.02 * days, days, 3, 999, 500, seed=1)
    assert not ramp.beats_trend
    weekly = np.where(days % 7 >= 5, np.log(0.6), 0.0) + 0.4 * (days >= 15) + noise
    flat = weekday_adjusted(weekly, days % 7)
    assert np.std(flat[:15]) < 0.04 and np.std(flat[15:]) < 0.04
    pings = np.array([100, 100, 98, 40, 101, 99, 102, 0, 100, 55, 97, 99, 100, 70.0])
    assert list(np.flatnonzero(~whole_days(pings, 0.8, 0.5))) == [3, 7, 13]


REAL = [
    pytest.param(REAL_DATA / name, mapping, id=name)
    for name, mapping in [
        ("gowalla_nyc_checkins.csv", {"device_id": "user_id", "timestamp": "checkin_time"}),
        ("gotrack_points.csv", {"device_id": "id_android", "timestamp": "time"}),
    ]
    if (REAL_DATA / name).exists()
]


@pytest.mark.realdata
@pytest.mark.parametrize(("path", "mapping"), REAL)
def test_real_files_have_no_serious_shift(path, mapping):
    """Gowalla's panel grows from a few users a day to two hundred over 18 months: an
    app's adoption curve, which the broken line fits better than any one-day step."""
    pings = read_pings(path, columns=mapping).pings
    assert serious(shifts(pings)) == []
