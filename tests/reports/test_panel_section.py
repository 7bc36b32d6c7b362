"""The report's panel section: valid JSON, values equal to plain computations on the
rows (local days per city), empty device parts without ids, the daily chart with
findings' periods shaded, the Markdown section, its size, and the story's panel words.

Size bound: a fixed part (four distributions, at most 48 survival rules) and one small
record per local day; about 20 kB for 28 days, no per-device rows, no hourly series."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from functools import cache

import numpy as np
import polars as pl
import pytest

from explorer.analysis import Analysis, analyze_summary, suggested_resolution_for
from explorer.findings import Finding
from explorer.reports import story_words
from explorer.reports.contract import render, report_dict
from explorer.reports.panel import HISTOGRAM_BINS, panel_section
from explorer.reports.panel_chart import PANEL_HEIGHT, WIDTH
from explorer.reports.panel_render import WEEKLY_AFTER_DAYS
from explorer.reports.schema import validate_report
from explorer.reports.story import data_story
from explorer.summary import summarise
from explorer.synth.cities import CITIES
from explorer.synth.pings import generate_pings

COLUMNS = {c: c for c in ("device_id", "timestamp", "lat", "lon", "device_type")}
PANEL_KINDS = ("panel_gap", "panel_shift", "partial_period", "transient_devices")


def _analysis(frame: pl.DataFrame, columns: dict[str, str] = COLUMNS) -> Analysis:
    resolution = suggested_resolution_for(frame)
    summary = summarise(frame, resolution, per_ping="compact")
    return analyze_summary(
        summary, source="pings.csv", salt="s", columns=columns, suggested_resolution=resolution
    )


@cache
def _pings(city: str, days: int = 28, n: int = 30_000, seed: int = 1) -> pl.DataFrame:
    return generate_pings(n, city=city, seed=seed, days=days).pings


@cache
def _city(city: str, days: int = 28) -> Analysis:
    return _analysis(_pings(city, days))


def _with_findings(analysis: Analysis, *findings: Finding) -> Analysis:
    return dataclasses.replace(analysis, findings=[*findings, *analysis.findings])


def _gap(start: str, end: str, severity: str = "high") -> Finding:
    period = {"start": start, "end": end}
    return Finding("panel_gap", severity, 3.0, "A hole in the feed", "s", (), {}, period=period)


def _local_days(frame: pl.DataFrame, zone: str) -> pl.DataFrame:
    return frame.with_columns(day=pl.col("timestamp").dt.convert_time_zone(zone).dt.date())


@pytest.mark.parametrize("city", ["new_york", "singapore", "taveuni"])
def test_days_equal_plain_counts_on_local_days(city):
    frame = _local_days(_pings(city), CITIES[city].zone)
    expected = (
        frame.group_by("day")
        .agg(pings=pl.len(), devices=pl.col("device_id").n_unique())
        .sort("day")
    )
    first_day = frame.group_by("device_id").agg(first=pl.col("day").min())
    new = first_day.group_by("first").agg(new=pl.len())
    days = panel_section(_city(city))["days"]
    assert [d["day"] for d in days] == [d.isoformat() for d in expected["day"]]
    assert [d["pings"] for d in days] == expected["pings"].to_list()
    assert [d["devices"] for d in days] == expected["devices"].to_list()
    new_by_day = dict(zip(new["first"], new["new"], strict=True))
    for record, day in zip(days, expected["day"], strict=True):
        assert record["new_devices"] == new_by_day.get(day, 0)
        assert record["returning_devices"] == record["devices"] - record["new_devices"]
        assert record["pings_per_device"] == pytest.approx(
            record["pings"] / record["devices"], abs=1e-4
        )
        assert sum(record["devices_by_type"].values()) == record["devices"]


def test_device_distributions_and_rule_equal_plain_counts():
    city = "london"
    frame = _local_days(_pings(city), CITIES[city].zone).with_columns(
        hour=pl.col("timestamp").dt.convert_time_zone(CITIES[city].zone).dt.hour()
    )
    per_day = frame.group_by("device_id", "day").agg(
        hours=pl.col("hour").n_unique(), pings=pl.len()
    )
    per_device = per_day.group_by("device_id").agg(
        active_days=pl.len(), pings=pl.col("pings").sum(), good_days=(pl.col("hours") >= 4).sum()
    )
    section = panel_section(_city(city))
    devices = section["devices"]
    assert devices["count"] == per_device.height
    active = per_device["active_days"].to_numpy()
    for name, prob in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9)):
        assert devices["active_days"]["quantiles"][name] == pytest.approx(np.quantile(active, prob))
    histogram = devices["active_days"]["histogram"]
    assert [b["from"] for b in histogram] == list(HISTOGRAM_BINS["active_days"])
    assert [b["devices"] for b in histogram[:2]] == [
        int((active == 1).sum()),
        int((active == 2).sum()),
    ]
    for figure in HISTOGRAM_BINS:
        assert sum(b["devices"] for b in devices[figure]["histogram"]) == devices[figure]["devices"]
    kept = per_device.filter(pl.col("good_days") >= 3)
    rule = section["rule"]
    assert (rule["min_days"], rule["min_hours"], rule["text"]) == (3, 4, "3,4")
    assert rule["devices"] == kept.height
    assert rule["pings"] == int(kept["pings"].sum())
    assert rule["device_share"] == pytest.approx(kept.height / per_device.height, abs=1e-4)
    row = next(r for r in section["survival"] if (r["min_days"], r["min_hours"]) == (3, 4))
    assert row["devices"] == rule["devices"]


@pytest.mark.parametrize(
    ("city", "offset"),
    [("new_york", -4), ("london", 1), ("sao_paulo", -3), ("singapore", 8), ("taveuni", 12)],
)
def test_the_days_convention_names_the_main_utc_offset(city, offset):
    convention = panel_section(_city(city))["day_convention"]
    assert convention["utc_offset_hours"] == offset
    assert "local calendar days at each ping's place" in convention["text"]


@pytest.mark.parametrize(("city", "offset"), [("london", 1), ("new_york", -4), ("singapore", 8)])
def test_the_offset_holds_for_data_of_daytime_hours_only(city, offset):
    # Pings from 09:00 to 17:00 local fit many offsets by their days alone.
    zone = CITIES[city].zone
    local_hour = pl.col("timestamp").dt.convert_time_zone(zone).dt.hour()
    daytime = _pings(city).filter(local_hour.is_between(9, 16))
    assert panel_section(_analysis(daytime))["day_convention"]["utc_offset_hours"] == offset


def test_report_json_with_a_period_validates_and_stays_small():
    analysis = _with_findings(
        _city("new_york"), _gap("2024-06-10T04:00:00Z", "2024-06-11T10:00:00Z")
    )
    data = json.loads(render(analysis, "json"))
    # The hand-made finding has no evidence of its kind; the panel block stands alone.
    validate_report({**data, "findings": data["findings"][1:]})
    panel = data["panel"]
    assert len(panel["days"]) == 28 and panel["device_ids"] and panel["reason"] is None
    assert panel["periods"] == [
        {
            "finding": analysis.findings[0].id,
            "kind": "panel_gap",
            "severity": "high",
            "start": "2024-06-10T04:00:00Z",
            "end": "2024-06-11T10:00:00Z",
            "first_day": "2024-06-10",
            "last_day": "2024-06-11",
        }
    ]
    size = len(json.dumps(panel, indent=2))
    assert size < 30_000, size  # 28 days, 4 distributions, 48 survival rules: about 20 kB


def test_without_device_ids_the_device_parts_are_empty_and_say_why():
    frame = _pings("new_york").with_columns(device_id=pl.lit(None, pl.String))
    analysis = _analysis(frame)
    data = report_dict(analysis)
    validate_report(data)
    panel = data["panel"]
    assert panel["device_ids"] is False and "no row has a device id" in panel["reason"]
    assert panel["devices"] is None and panel["survival"] == []
    assert panel["rule"]["devices"] is None and panel["rule"]["words"]
    assert sum(d["pings"] for d in panel["days"]) == frame.height
    assert all(d["devices"] is None and d["devices_by_type"] == {} for d in panel["days"])
    markdown = render(analysis, "markdown")
    section = markdown.split("## Panel over time")[1]
    assert "| Day | Pings |" in section and "Devices |" not in section.split("\n\n")[2]
    assert "needs device ids" in section
    html = render(analysis, "html")
    assert "Pings per day" in html and "Devices per day" not in html


def test_a_rule_that_keeps_nothing_says_0_percent():
    frame = _pings("london")
    day = _local_days(frame, CITIES["london"].zone).filter(pl.col("day") == dt.date(2024, 6, 5))
    section = render(_analysis(day.drop("day")), "markdown").split("## Panel over time")[1]
    assert re.search(r"keeps 0 of [\d,]+ devices \(0 %\) and 0 % of their pings", section)


def test_a_single_day_file_has_one_day():
    frame = _pings("london")
    day = _local_days(frame, CITIES["london"].zone).filter(pl.col("day") == dt.date(2024, 6, 5))
    data = report_dict(_analysis(day.drop("day")))
    validate_report(data)
    assert [d["day"] for d in data["panel"]["days"]] == ["2024-06-05"]
    assert {r["min_days"] for r in data["panel"]["survival"]} == {1}


def _period_rects(html: str) -> list[tuple[float, float]]:
    return [
        (float(x), float(w))
        for x, w in re.findall(
            r'<rect class="period" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', html
        )
    ]


@pytest.mark.parametrize(("city", "midnight_utc"), [("new_york", "04"), ("singapore", "16")])
def test_the_html_chart_shades_a_period_on_its_local_days(city, midnight_utc):
    # A hole over local days 8 and 9 (10 and 11 June; Singapore's start the evening before in UTC).
    day = "09" if midnight_utc == "16" else "10"
    end_day = "11" if midnight_utc == "16" else "12"
    gap = _gap(f"2024-06-{day}T{midnight_utc}:00:00Z", f"2024-06-{end_day}T{midnight_utc}:00:00Z")
    html = render(_with_findings(_city(city), gap), "html")
    section = html.split("<h2>Panel over time</h2>")[1]
    assert section.count("<svg") >= 5  # the daily chart and four histograms
    assert "Devices per day" in section and "Pings per device per day" in section
    ((x, width),) = _period_rects(section)
    left, plot_w = 52, WIDTH - 52 - 10
    assert x == pytest.approx(left + plot_w * 7 / 28, abs=0.2)
    assert width == pytest.approx(plot_w * 2 / 28, abs=0.2)
    assert "panel gap: 2024-06-" in section
    assert 'class="survival"' in section and "outline:2px" in section  # the default rule


def test_no_period_no_shading_and_periods_outside_the_days_are_clipped():
    html = render(_city("new_york"), "html")
    assert _period_rects(html) == [] and "Pings per device per day" in html
    late = _gap("2024-06-30T20:00:00Z", "2024-07-05T00:00:00Z", "medium")
    ((x, width),) = _period_rects(render(_with_findings(_city("new_york"), late), "html"))
    assert x + width <= WIDTH - 10 + 0.1 and width > 2
    assert PANEL_HEIGHT > 0


def test_markdown_has_the_daily_table_rule_and_survival_table():
    gap = _gap("2024-06-10T04:00:00Z", "2024-06-11T04:00:00Z")
    markdown = render(_with_findings(_city("new_york"), gap), "markdown")
    section = markdown.split("## Panel over time")[1].split("\n## ")[0]
    assert "local calendar days at each ping's place" in section
    assert re.search(r"keeps [\d,]+ of [\d,]+ devices \(\d+ %\) and \d+ % of their pings", section)
    rows = [line for line in section.splitlines() if re.match(r"\| 2024-06-\d\d \|", line)]
    assert len(rows) == 28
    assert rows[7].startswith("| 2024-06-10 |") and rows[7].endswith("| panel gap |")
    assert "| Active days |" in section and "| Median gap between pings |" in section
    assert "| Hours a day | 1+ days |" in section and "| 4+ |" in section


def test_more_than_a_month_rolls_the_markdown_table_up_by_week():
    analysis = _analysis(_pings("sao_paulo", days=45, n=20_000))
    section = render(analysis, "markdown").split("## Panel over time")[1].split("\n## ")[0]
    assert len(panel_section(analysis)["days"]) == 45 > WEEKLY_AFTER_DAYS
    weeks = [line for line in section.splitlines() if re.match(r"\| 20\d\d-\d\d-\d\d \|", line)]
    assert len(weeks) == 7  # 45 days from Monday 3 June: six whole weeks and three days
    assert sum(int(line.split("|")[2]) for line in weeks) == 45
    total = sum(int(line.split("|")[3].replace(",", "")) for line in weeks)
    assert total == sum(d["pings"] for d in panel_section(analysis)["days"])


@pytest.mark.parametrize("kind", PANEL_KINDS)
def test_every_panel_kind_has_story_words(kind):
    finding = Finding(kind, "medium", 1.0, "t", "s", (), {})
    assert story_words.PROBLEMS[kind](finding)
    assert story_words.PASSED[kind] and story_words.NOT_FIT[kind]
    ruled_out = {k for _, _, everywhere, _ in story_words.USES for k in everywhere}
    assert kind in ruled_out


def test_the_story_tells_a_panel_finding_and_what_it_rules_out():
    base = _city("new_york")
    clean = data_story(base)
    assert "daily series and trends" in clean and "following devices over days" in clean
    gap = _gap("2024-06-10T04:00:00Z", "2024-06-11T10:00:00Z", "medium")
    story = data_story(_with_findings(base, gap))
    assert "One problem would change a conclusion: the feed has a hole of about 30 hours" in story
    assert "daily series and trends" not in story.split("but not for")[0]
    assert "not for daily series or trends across the hole in the feed" in story
    transient = Finding("transient_devices", "high", 2.0, "t", "s", (), {})
    story = data_story(_with_findings(base, transient))
    assert "seen too briefly to be followed over days" in story
    assert "following devices over days" not in story.split("but not for")[0]


def test_single_day_or_id_less_data_is_not_fit_to_follow_devices_over_days():
    frame = _pings("london")
    one_day = _local_days(frame, CITIES["london"].zone).filter(pl.col("day") == dt.date(2024, 6, 5))
    story = data_story(_analysis(one_day.drop("day")))
    assert "following devices over days" not in story and "daily series and trends" not in story
    assert "not for trends over days, as it covers a single day" in story
    no_ids = data_story(_analysis(frame.with_columns(device_id=pl.lit(None, pl.String))))
    assert "following devices over days" not in no_ids and "daily series and trends" in no_ids
