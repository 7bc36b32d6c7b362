"""Transient devices: panels whose devices are seen within a single day only.

Planted as ids that rotate every day (several shares, cities and period lengths) and as
one-day visitors mixed with residents; found with severity rising with the share.
Clean generated panels (devices active on about half the days), small panels, data
without ids and a two-day file give no medium or high finding; brief devices on the
period's edges are censored; the rule quoted matches the survival table; the finding
is the same from a merged summary; the real files are told as measured.
"""

from __future__ import annotations

import datetime as dt

import jsonschema
import numpy as np
import polars as pl
import pytest

from explorer.analysis import lacking_inputs
from explorer.config import Config
from explorer.config.panel import PanelDevicesConfig
from explorer.detectors import plan_checks
from explorer.detectors.context import Context
from explorer.detectors.panel.transient import brief_devices, detect_transient_devices
from explorer.findings import FindingKind
from explorer.reading.pings import read_pings
from explorer.summary import merge, summarise
from explorer.summary.panel_rule import PanelRule, kept_devices, survival_table
from explorer.synth.panel_biases import churn_ids, local_midnight
from explorer.synth.pings import generate_pings
from explorer.testing import serious
from tests.conftest import REAL_DATA
from tests.detectors.conftest import evidence_schema

RES = 8
N = 120_000
SEVERITY_ORDER = {None: 0, "low": 1, "medium": 2, "high": 3}
SCHEMA = evidence_schema("panel_devices")["transient_devices"]


def detect(pings: pl.DataFrame, config: Config | None = None) -> list:
    return detect_transient_devices(Context(summarise(pings, RES), config))


def only(findings: list):
    assert len(findings) <= 1
    return findings[0] if findings else None


def one_day_visitors(
    pings: pl.DataFrame, n_devices: int, zone: str, seed: int, prefix: str = "visitor"
) -> pl.DataFrame:
    """``n_devices`` of ``pings``' devices, each kept on one interior local day (never
    the first or last) and renamed: visitors seen once, as tourists are."""
    local = pings.with_columns(day=pl.col("timestamp").dt.convert_time_zone(zone).dt.date())
    days = local["day"].unique().sort()
    interior = local.filter(pl.col("day").is_between(days[1], days[-2]))
    picked = (
        interior.select("device_id", "day")
        .unique()
        .sample(fraction=1.0, shuffle=True, seed=seed)
        .unique("device_id", keep="first", maintain_order=True)
        .head(n_devices)
    )
    assert picked.height == n_devices, "not enough devices to make visitors of"
    return (
        local.join(picked, on=["device_id", "day"])
        .with_columns(device_id=pl.lit(f"{prefix}-") + pl.col("device_id"))
        .select(pings.columns)
    )


def rounded(value, digits: int = 9):
    """A copy with every float rounded (sums in another order differ in the last bits)."""
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return round(value, digits) if isinstance(value, float) else value


def test_clean_generated_panels_are_quiet(clean):
    for (city, seed), pings in clean.items():
        ctx = Context(summarise(pings, RES))
        per_device = brief_devices(ctx)
        share = per_device["brief"].mean()
        assert share < 0.15, (city, seed, share)
        assert detect_transient_devices(ctx) == [], (city, seed)


@pytest.mark.parametrize(("city", "days"), [("london", 28), ("singapore", 7), ("new_york", 3)])
def test_clean_panels_of_other_lengths_are_quiet(city, days):
    pings = generate_pings(N, city=city, seed=4, days=days).pings
    assert serious(detect(pings)) == []


@pytest.mark.parametrize(("city", "days"), [("new_york", 14), ("singapore", 14), ("london", 7)])
def test_rotating_ids_are_found_with_severity_rising_with_the_share(city, days):
    pings = generate_pings(N, city=city, seed=7, days=days).pings
    found = [only(detect(churn_ids(pings, share, seed=1))) for share in (0.1, 0.5, 0.7, 0.9)]
    severities = [SEVERITY_ORDER[f.severity if f else None] for f in found]
    assert severities == sorted(severities), severities
    assert all(f is not None for f in found[1:])
    assert found[1].severity in ("medium", "high") and found[3].severity == "high"
    shares = [f.evidence["share"] for f in found[1:]]
    assert shares == sorted(shares) and shares[0] < shares[-1]
    for churned, f in zip((0.5, 0.7, 0.9), found[1:], strict=True):
        # On a typical day the rotating devices are about their share of the panel.
        assert abs(f.evidence["daily_share"] - churned) < 0.12, (churned, f.evidence)
        assert f.kind == FindingKind.TRANSIENT_DEVICES
        assert "seen within a single day" in f.story and "A rule of at least 3 days" in f.story
        jsonschema.validate(f.evidence, SCHEMA)


@pytest.mark.parametrize(
    ("city", "zone", "visitors_per_resident"),
    [("new_york", "America/New_York", 1.6), ("sao_paulo", "America/Sao_Paulo", 1.9)],
)
def test_one_day_visitors_among_residents_are_found(city, zone, visitors_per_resident):
    residents = generate_pings(N, city=city, seed=2, days=14).pings
    others = generate_pings(2 * N, city=city, seed=3, days=14).pings
    n_residents = residents["device_id"].n_unique()
    n_visitors = int(visitors_per_resident * n_residents)
    visitors = one_day_visitors(others, n_visitors, zone, seed=5)
    finding = only(detect(pl.concat([residents, visitors])))
    assert finding is not None and finding.severity in ("medium", "high")
    ev = finding.evidence
    expected = n_visitors / (n_visitors + n_residents)
    assert abs(ev["share"] - expected) < 0.05, (ev["share"], expected)
    assert ev["censored"] < 0.02 * ev["devices"]
    # Visitors are many ids but few of the devices on any one day: unlike rotating ids.
    assert ev["daily_share"] < 0.5 * ev["share"]
    jsonschema.validate(ev, SCHEMA)


def test_small_panels():
    pings = generate_pings(20_000, city="london", seed=9, days=14).pings
    local_days = pings.group_by("device_id").agg(
        days=pl.col("timestamp").dt.convert_time_zone("Europe/London").dt.date().n_unique()
    )
    ids = local_days.filter(pl.col("days") >= 5)["device_id"].sort()
    assert ids.len() >= 30
    residents = pings.filter(pl.col("device_id").is_in(ids.head(30).implode()))
    assert detect(residents) == []
    visitors = one_day_visitors(pings, 25, "Europe/London", seed=1)
    few = residents.filter(pl.col("device_id").is_in(ids.head(5).implode()))
    finding = only(detect(pl.concat([few, visitors])))
    assert finding is not None and finding.severity in ("medium", "high")
    assert finding.evidence["transient"] == 25 and finding.evidence["devices"] == 30
    # Under min_devices judged devices the share is not told, however brief they are.
    tiny = pl.concat([few, one_day_visitors(pings, 12, "Europe/London", seed=2)])
    assert detect(tiny) == []


def test_data_without_ids_skips_the_check():
    pings = generate_pings(20_000, city="new_york", seed=1, days=7).pings
    summary = summarise(pings.with_columns(device_id=pl.lit(None, pl.String)), RES)
    _, skipped = plan_checks(lacking_inputs(summary, {"device_id": "device_id"}))
    reasons = {s.check: s.missing for s in skipped}
    assert reasons["transient_devices"] == ("device_ids",)
    assert detect_transient_devices(Context(summary)) == []


def test_two_days_are_too_few_to_follow_anyone():
    pings = generate_pings(20_000, city="new_york", seed=1, days=2).pings
    churned = churn_ids(pings, 0.9, seed=1)
    assert Context(summarise(churned, RES)).daily.height < Config().panel_devices.min_days
    assert detect(churned) == []


def test_brief_devices_on_the_edges_are_censored():
    pings = generate_pings(N, city="new_york", seed=6, days=7).pings
    zone = "America/New_York"
    first = local_midnight(dt.date(2024, 6, 3), zone)
    last = local_midnight(dt.date(2024, 6, 9), zone)
    on_edges = pl.concat(
        [
            pings.filter(pl.col("timestamp") < first + dt.timedelta(days=1)),
            pings.filter(pl.col("timestamp") >= last),
        ]
    ).with_columns(device_id=pl.lit("edge-") + pl.col("device_id"))
    # Each edge device keeps one day only: its first-day or last-day pings.
    edge_once = on_edges.filter(
        pl.col("timestamp").dt.convert_time_zone(zone).dt.date()
        == pl.col("timestamp").dt.convert_time_zone(zone).dt.date().first().over("device_id")
    )
    baseline = brief_devices(Context(summarise(pings, RES)))
    ctx = Context(summarise(pl.concat([pings, edge_once]), RES))
    per_device = brief_devices(ctx)
    added = edge_once["device_id"].n_unique()
    assert int(per_device["censored"].sum()) >= int(baseline["censored"].sum()) + added - 5
    assert int((per_device["brief"] & ~per_device["censored"]).sum()) == int(
        (baseline["brief"] & ~baseline["censored"]).sum()
    )


def test_evidence_matches_the_survival_table_and_the_rule():
    pings = churn_ids(generate_pings(N, city="singapore", seed=8, days=14).pings, 0.6, seed=2)
    summary = summarise(pings, RES)
    finding = only(detect_transient_devices(Context(summary)))
    ev = finding.evidence
    jsonschema.validate(ev, SCHEMA)
    assert sum(b["devices"] for b in ev["days_seen"]) == ev["devices"]
    assert ev["devices_judged"] == ev["devices"] - ev["censored"]
    assert ev["share"] == pytest.approx(ev["transient"] / ev["devices_judged"])
    assert ev["share_low"] <= ev["share"] <= ev["share_high"]
    assert ev["share_if_censored_followed"] <= ev["share_if_censored_transient"]
    kept = kept_devices(summary, PanelRule(3, 4))
    assert ev["rule"]["devices"] == kept.len() and ev["rule"]["text"] == "3,4"
    table = survival_table(summary)
    rows = {tuple(r.values()) for r in table.to_dicts()}
    assert {tuple(r.values()) for r in ev["survival"]} <= rows
    assert {r["min_hours"] for r in ev["survival"]} == {1, 4, 8}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**ev, "share": 1.2}, SCHEMA)


def test_a_stricter_config_changes_the_severity():
    pings = churn_ids(generate_pings(N, city="new_york", seed=3, days=14).pings, 0.5, seed=4)
    default = only(detect(pings))
    strict = Config(panel_devices=PanelDevicesConfig(high_share=0.99, medium_share=0.98))
    relaxed = only(detect(pings, strict))
    assert default.severity == "high" and relaxed.severity == "low"


def test_the_finding_is_the_same_from_a_merged_summary_of_two_halves():
    pings = churn_ids(generate_pings(N, city="sao_paulo", seed=5, days=14).pings, 0.4, seed=3)
    halves = pings.with_columns(half=pl.Series(np.random.default_rng(0).random(pings.height) < 0.5))
    parts = [summarise(h.drop("half"), RES) for _, h in halves.group_by("half")]
    whole = only(detect_transient_devices(Context(summarise(pings, RES))))
    merged = only(detect_transient_devices(Context(merge(parts))))
    assert whole is not None and merged is not None
    told = (merged.severity, merged.title, merged.story)
    assert told == (whole.severity, whole.title, whole.story)
    assert rounded(merged.evidence) == rounded(whole.evidence)


#: Real files, their mapping, and what the check says about them (measured).
REAL = [
    # Check-ins: a third of users check in on a single day over 18 months; they cannot be
    # followed, which is true of check-in data, so a low finding is fair.
    ("gowalla_nyc_checkins.csv", {"device_id": "user_id", "timestamp": "checkin_time"}, "low"),
    # 28 phones recording trips: 16 recorded on one day only (a wide interval: low).
    ("gotrack_points.csv", {"device_id": "id_android", "timestamp": "time"}, "low"),
    # One afternoon: too short to follow anyone.
    ("gps_accuracy_devices_tracks.csv", {"device_id": "device", "timestamp": "time"}, None),
]


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("file_name", "mapping", "severity"),
    [pytest.param(*case, id=case[0]) for case in REAL if (REAL_DATA / case[0]).exists()],
)
def test_real_files(file_name, mapping, severity):
    read = read_pings(REAL_DATA / file_name, columns=mapping)
    finding = only(detect(read.pings))
    assert (finding.severity if finding else None) == severity
    if finding:
        jsonschema.validate(finding.evidence, SCHEMA)
        assert finding.evidence["censored"] < 0.05 * finding.evidence["devices"]
