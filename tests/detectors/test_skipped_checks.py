"""Checks a file cannot support are skipped and said so, in every report format.

Files without device ids, without device types, or covering a single day (whole or
part of one), at several sizes: the report lists each skipped check with its reason
(JSON, Markdown, HTML), no story or title counts devices the file does not have, and a
report without findings says which checks ran.
"""

from __future__ import annotations

import io
import json
import re

import polars as pl
import pytest
import shapely

import explorer.detectors as registry
from explorer.analysis import NO_REFERENCE, Analysis, analyze, spans_several_days
from explorer.detectors.needs import DEVICE_IDS, NEEDS, REFERENCE, SEVERAL_DAYS, WHOLE_DAY
from explorer.findings import FindingKind
from explorer.reading.reference import Reference
from explorer.reports.contract import render, report_dict
from explorer.reports.schema import validate_report
from explorer.synth.pings import generate_pings
from tests.conftest import REAL_DATA

SIZES = (2_000, 20_000, 100_000)
BIASES = ("null_island", "coordinate_precision", "duplicate_pings", "device_concentration")
#: The checks that count devices, and the ones that read pings alone.
DEVICE_CHECKS = [
    "coordinate_pileup",
    "density_spike",
    "device_concentration",
    "hour_profile",
    "timezone_shift",
    "device_type_skew",
    "device_type_changes",
    "venue_snapped",
    "impossible_speed",
    "transient_devices",
]
PING_CHECKS = [
    "null_island",
    "distant_points",
    "swapped_coordinates",
    "sign_flipped",
    "at_sea",
    "timestamp_heaping",
    "coordinate_precision",
    "duplicate_pings",
    "panel_gap",
    "partial_period",
    "panel_shift",
]
#: The checks that compare days (the panel over time).
DAY_CHECKS = ["panel_gap", "partial_period", "panel_shift", "transient_devices"]
SINGLE_DAY = "the data covers a single day"
NO_ID_COLUMN = "the file has no device id column"
NO_TYPE_COLUMN = "the file has no device type column"
#: The check that compares the panel's homes with a reference population: skipped
#: whenever none is given (these files come without one).
COVERAGE = "coverage_bias"


def coverage_skipped(*needs: str, reasons: tuple[str, ...] = ()) -> dict:
    """The skipped coverage check, lacking ``needs`` (with ``reasons``) and a reference."""
    return {
        "check": COVERAGE,
        "missing": [*needs, REFERENCE],
        "reason": "; ".join([*reasons, NO_REFERENCE]),
    }


#: The checks that read the hour of the day.
HOUR_CHECKS = ["hour_profile", "timezone_shift"]
#: A real file of 3.6 hours of GPS tracks (see its README), when present.
REAL_TRACKS = REAL_DATA / "gps_accuracy_devices_tracks.csv"
#: A number of devices or a share of them: what a file without ids cannot tell.
DEVICE_COUNT = re.compile(r"\d[\d,.]*\s*%?\s+(of\s+)?devices?\b", re.IGNORECASE)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.with_columns(pl.col("timestamp").dt.epoch("ms")).write_csv(out)
    return out.getvalue()


def pings(n: int, *, days: int = 14, biases: tuple[str, ...] = BIASES) -> pl.DataFrame:
    return generate_pings(n, seed=n % 7, days=days, biases=biases).pings


def six_hours(frame: pl.DataFrame) -> pl.DataFrame:
    """The pings from 16:00 to 22:00 UTC of the first day."""
    hour = pl.col("timestamp").dt.hour()
    return frame.filter((pl.col("timestamp").dt.day() == 3) & (hour >= 16) & (hour < 22))


_ANALYSES: dict[tuple[str, int], Analysis] = {}


def analysis_of(case: str, n: int) -> Analysis:
    """The analysis of a synthetic file of ``n`` pings missing what ``case`` names."""
    if (case, n) not in _ANALYSES:
        frame = {
            "no_ids": lambda: pings(n).drop("device_id"),
            "no_types": lambda: pings(n).drop("device_type"),
            "neither": lambda: pings(n).drop("device_id", "device_type"),
            "one_day": lambda: pings(n, days=1),
            "six_hours": lambda: six_hours(pings(n, days=1)),
        }[case]()
        _ANALYSES[case, n] = analyze(csv_bytes(frame), name=f"{case}.csv")
    return _ANALYSES[case, n]


def reports(analysis: Analysis) -> tuple[dict, str, str]:
    """(JSON as parsed, Markdown, HTML) of an analysis; the JSON is validated."""
    data = json.loads(render(analysis, "json"))
    validate_report(data)
    return data, render(analysis, "markdown"), render(analysis, "html")


def assert_listed(skipped: list[dict], markdown: str, html: str) -> None:
    """Every skipped check and its reason is in the Markdown and HTML reports."""
    assert "Checks that could not run" in markdown and "Checks that could not run" in html
    for item in skipped:
        name = item["check"].replace("_", " ")
        for text in (markdown.lower(), html.lower()):
            assert name in text, (name, item)
            assert item["reason"].split("; ")[0].lower() in text, item
    assert f"{len(skipped)} of {len(registry.DETECTORS)} checks could not run" in markdown


@pytest.mark.parametrize("n", SIZES)
def test_without_device_ids_the_device_checks_are_skipped_and_said(n):
    data, markdown, html = reports(analysis_of("no_ids", n))
    assert data["skipped"] == [
        {"check": kind, "missing": ["device_ids"], "reason": NO_ID_COLUMN} for kind in DEVICE_CHECKS
    ] + [coverage_skipped("device_ids", reasons=(NO_ID_COLUMN,))]
    assert data["checks_run"] == PING_CHECKS
    assert_listed(data["skipped"], markdown, html)
    assert "--device-col" in markdown and "--device-col" in html


@pytest.mark.parametrize("n", SIZES)
def test_without_device_ids_no_title_or_story_counts_devices(n):
    data, markdown, html = reports(analysis_of("no_ids", n))
    kinds = {f["kind"] for f in data["findings"]}
    assert kinds <= set(PING_CHECKS)
    assert {"null_island", "coordinate_precision"} <= kinds
    for finding in data["findings"]:
        for text in (finding["title"], finding["story"]):
            assert not DEVICE_COUNT.search(text), text
    # Device counts (all 0) stay out of the key numbers and the busiest cells.
    assert "| Devices |" not in markdown and "<th>Devices</th>" not in html
    assert "Coarse devices" not in markdown and "Device share" not in html


@pytest.mark.parametrize("n", SIZES)
def test_without_device_types_only_the_mix_check_is_skipped(n):
    data, markdown, html = reports(analysis_of("no_types", n))
    mix_checks = ["device_type_skew", "device_type_changes"]
    assert data["skipped"] == [
        {"check": kind, "missing": ["device_types"], "reason": NO_TYPE_COLUMN}
        for kind in mix_checks
    ] + [coverage_skipped()]
    assert data["checks_run"] == [k for k in registry_kinds() if k not in [*mix_checks, COVERAGE]]
    assert_listed(data["skipped"], markdown, html)
    assert "--type-col" in markdown and "--device-col" not in markdown


def test_without_either_column_the_mix_check_gives_both_reasons():
    data, markdown, html = reports(analysis_of("neither", SIZES[0]))
    mix = next(s for s in data["skipped"] if s["check"] == "device_type_skew")
    assert mix == {
        "check": "device_type_skew",
        "missing": ["device_ids", "device_types"],
        "reason": f"{NO_ID_COLUMN}; {NO_TYPE_COLUMN}",
    }
    both = f"Device type skew, device type changes: {NO_ID_COLUMN}; {NO_TYPE_COLUMN}."
    assert both in markdown
    assert_listed(data["skipped"], markdown, html)


@pytest.mark.parametrize(
    ("change", "reason", "missing"),
    [
        (pl.lit(None, pl.String).alias("device_id"), "no row has a device id", "device_ids"),
        (pl.lit(None, pl.String).alias("device_type"), "no row has a device type", "device_types"),
        (
            pl.lit("android").alias("device_type"),
            "the file names only one device type",
            "device_types",
        ),
    ],
)
def test_an_empty_or_uniform_column_is_told_apart_from_a_missing_one(change, reason, missing):
    analysis = analyze(csv_bytes(pings(3_000).with_columns(change)), name="x.csv")
    assert analysis.lacking == {missing: reason, REFERENCE: NO_REFERENCE}
    assert {s.reason for s in analysis.skipped if s.check != COVERAGE} == {reason}


@pytest.mark.parametrize("n", SIZES)
def test_a_whole_single_day_runs_every_check_but_those_comparing_days(n):
    analysis = analysis_of("one_day", n)
    assert analysis.lacking == {SEVERAL_DAYS: SINGLE_DAY, REFERENCE: NO_REFERENCE}
    data, markdown, html = reports(analysis)
    # Every other detector works from one whole day (each was checked on one-day data);
    # the panel checks compare days.
    assert data["skipped"] == [
        {"check": kind, "missing": ["several_days"], "reason": SINGLE_DAY} for kind in DAY_CHECKS
    ] + [coverage_skipped("several_days", reasons=(SINGLE_DAY,))]
    assert data["checks_run"] == [k for k in registry_kinds() if k not in [*DAY_CHECKS, COVERAGE]]
    assert_listed(data["skipped"], markdown, html)


@pytest.mark.parametrize("n", SIZES)
def test_part_of_a_day_skips_the_hour_checks(n):
    analysis = analysis_of("six_hours", n)
    assert set(analysis.lacking) == {WHOLE_DAY, SEVERAL_DAYS, REFERENCE}
    assert re.fullmatch(
        r"the data spans (5\.\d|6\.0) hours, not a whole day", analysis.lacking[WHOLE_DAY]
    )
    data, markdown, html = reports(analysis)
    reason = analysis.lacking[WHOLE_DAY]
    assert data["skipped"] == [
        {"check": kind, "missing": ["whole_day"], "reason": reason} for kind in HOUR_CHECKS
    ] + [
        {"check": kind, "missing": ["several_days"], "reason": SINGLE_DAY} for kind in DAY_CHECKS
    ] + [coverage_skipped("several_days", reasons=(SINGLE_DAY,))]
    assert_listed(data["skipped"], markdown, html)
    assert f"Hour profile, timezone shift: {reason}." in markdown


@pytest.mark.skipif(not REAL_TRACKS.exists(), reason="the real data sets are not present")
def test_real_tracks_of_a_few_hours_skip_the_hour_checks():
    mapping = {"device_id": "device", "timestamp": "time", "device_type": "device_class"}
    analysis = analyze(REAL_TRACKS, columns=mapping)
    assert [s.check for s in analysis.skipped] == HOUR_CHECKS + DAY_CHECKS + [COVERAGE]
    assert {s.reason for s in analysis.skipped} == {
        "the data spans 3.6 hours, not a whole day",
        SINGLE_DAY,
        f"{SINGLE_DAY}; {NO_REFERENCE}",
    }
    assert not any(f.kind in HOUR_CHECKS for f in analysis.findings)


@pytest.mark.parametrize("n", SIZES)
def test_the_checks_that_compare_days_run_from_two_days_on(n):
    several = analyze(csv_bytes(pings(n, days=2)), name="two_days.csv")
    assert [s.check for s in several.skipped] == [COVERAGE]
    assert set(DAY_CHECKS) <= set(several.checks_run)


def several_days(frame: pl.DataFrame) -> bool:
    return spans_several_days(analyze(csv_bytes(frame)).summary)


def test_days_are_local_days_of_the_bulk_of_the_data():
    two = pings(3_000, days=2)
    assert several_days(two)
    # One local day, with null island's pings on another date in their own zone.
    day = pings(3_000, days=1)
    assert not several_days(day)
    # One UTC day in New York touches two local dates, but is one day of data.
    assert not several_days(two.filter(pl.col("timestamp").dt.date() == pl.date(2024, 6, 4)))
    # A stray row days later is not a second day; the same weekday a week on is.
    stray = day.head(1).with_columns(pl.col("timestamp") + pl.duration(days=3))
    assert not several_days(pl.concat([day, stray]))
    week_on = day.with_columns(pl.col("timestamp") + pl.duration(days=7))
    assert several_days(pl.concat([day, week_on]))


@pytest.mark.parametrize("case", ["no_ids", "with_ids"])
def test_a_report_without_findings_says_which_checks_ran(case):
    frame = generate_pings(4_000, seed=3).pings
    if case == "no_ids":
        frame = frame.drop("device_id")
    analysis = analyze(csv_bytes(frame), name="clean.csv")
    assert analysis.findings == []
    data, markdown, html = reports(analysis)
    ran = data["checks_run"]
    assert ran == (PING_CHECKS if case == "no_ids" else registry_kinds()[:-1])
    assert registry_kinds()[-1] == COVERAGE
    sentence = f"The {len(ran)} checks that ran: {', '.join(k.replace('_', ' ') for k in ran)}."
    assert sentence in markdown.replace("\\_", "_") and sentence in html
    summary = f"No findings in {analysis.summary.rows_used:,} pings."
    assert summary in markdown and summary in html
    if case == "no_ids":
        total = len(registry.DETECTORS)
        assert f"{len(DEVICE_CHECKS) + 1} of {total} checks could not run" in markdown


def test_every_detector_declares_its_kind_and_needs():
    kinds = registry_kinds()
    assert len(set(kinds)) == len(kinds) == len(registry.DETECTORS)
    assert set(kinds) <= {k.value for k in FindingKind}
    for detector in registry.DETECTORS:
        assert set(detector.needs) <= set(NEEDS), detector.__name__
    needing_ids = [d.kind for d in registry.DETECTORS if DEVICE_IDS in d.needs]
    assert needing_ids == [*DEVICE_CHECKS, COVERAGE]
    assert [d.kind for d in registry.DETECTORS if WHOLE_DAY in d.needs] == HOUR_CHECKS
    assert [d.kind for d in registry.DETECTORS if SEVERAL_DAYS in d.needs] == [
        *DAY_CHECKS,
        COVERAGE,
    ]
    assert [d.kind for d in registry.DETECTORS if REFERENCE in d.needs] == [COVERAGE]


def test_a_file_with_everything_skips_only_the_coverage_check(synthetic_file):
    analysis = analyze(synthetic_file(pings(5_000), folder="complete"))
    data = report_dict(analysis)
    assert analysis.lacking == {REFERENCE: NO_REFERENCE}
    assert data["skipped"] == [coverage_skipped()]
    assert data["checks_run"] == registry_kinds()[:-1]


def test_a_file_with_everything_and_a_reference_skips_nothing(synthetic_file):
    frame = pings(5_000)
    box = shapely.box(
        frame["lon"].min(), frame["lat"].min(), frame["lon"].max(), frame["lat"].max()
    )
    regions = pl.DataFrame({"region_id": ["all"], "name": ["All"], "population": [1e5]})
    reference = Reference("one box", regions, (box,))
    analysis = analyze(synthetic_file(frame, folder="complete"), reference=reference)
    data = report_dict(analysis)
    assert analysis.lacking == {} and data["skipped"] == []
    assert data["checks_run"] == registry_kinds()
    assert data["coverage"]["regions"][0]["id"] == "all"


def registry_kinds() -> list[str]:
    return [detector.kind for detector in registry.DETECTORS]
