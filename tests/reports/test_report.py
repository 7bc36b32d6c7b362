"""Markdown and HTML reports: content, order, offline self-containment and escaping."""

import re

import polars as pl
import pytest

from explorer.analysis import analyze
from explorer.reports import charts
from explorer.reports.contract import render, report_dict
from explorer.reports.html import render_html
from explorer.reports.markdown import md, render_markdown
from explorer.synth.pings import generate_pings, write_pings
from tests.conftest import REJECTION_REASONS as REASONS
from tests.reports.conftest import finding_dict

EVIL = "<script>alert(1)</script>"
CELLS = ["882a100d67fffff", "882a100d29fffff", "882a100d2dfffff"]


def _finding(severity: str, title: str, cells=(), evidence=None, kind="density_spike") -> dict:
    return finding_dict(
        kind=kind,
        severity=severity,
        score=1.0,
        title=title,
        story=f"Story of {title}.",
        cells=list(cells),
        evidence=evidence or {},
    )


def _report(findings, source="pings.csv", interpretation="epoch milliseconds, UTC") -> dict:
    reasons = dict.fromkeys(REASONS, 0)
    reasons["latitude_out_of_range"] = 2
    reasons["timestamp_unparsable"] = 3
    return {
        "schema": 1,
        "source": source,
        "resolution": 8,
        "suggested_resolution": 8,
        "provenance": {
            "version": "0.1.0",
            "input_sha256": "a" * 64,
            "config_sha256": "b" * 64,
            "generated": "2024-06-01T00:00:00Z",
        },
        "rows": {"read": 172084, "used": 172079, "rejected": 5, "rejected_by_reason": reasons},
        "time": {"interpretation": interpretation, "start": "2024-06-03T00:00:00Z", "end": None},
        "bbox": {"lat_min": 40.5, "lat_max": 40.9, "lon_min": -74.2, "lon_max": -73.7},
        "top_cells": [{"cell": CELLS[0], "pings": 839, "devices": 115}],
        "columns": {"lat": "latitude", "device_type": EVIL},
        "findings": findings,
    }


@pytest.fixture(scope="module")
def analysis(synthetic_file):
    biases = ("null_island", "duplicate_pings", "hour_profile", "timestamp_heaping")
    result = generate_pings(50_000, seed=5, biases=biases)
    return analyze(synthetic_file(result, folder="report"), salt="fixed")


def test_markdown_lists_every_finding_title_in_rank_order(analysis):
    titles = [f.title for f in analysis.findings]
    assert len(titles) >= 2
    # Titles are escaped for Markdown; without the backslashes they read as written.
    text = render(analysis, "markdown").replace("\\", "")
    positions = [text.find(t) for t in titles]
    assert -1 not in positions
    assert positions == sorted(positions)
    assert text.count("### ") == len(titles)


def test_markdown_has_rows_rejections_time_bbox_and_summary():
    findings = [_finding("high", "First"), _finding("low", "Second"), _finding("high", "Third")]
    text = render_markdown(_report(findings))
    assert "**2 high, 1 low findings in 172,079 pings.**" in text
    assert "Latitude out of range: 2" in text
    assert "Timestamp unparsable: 3" in text
    assert "Malformed line" not in text  # reasons with no rows stay out
    assert "epoch milliseconds, UTC" in text
    assert "Latitude 40.5000 to 40.9000, longitude -74.2000 to -73.7000." in text
    assert text.index("First") < text.index("Second") < text.index("Third")
    assert "🔴 HIGH" in text and "🟡 LOW" in text


def test_markdown_says_when_timestamps_were_naive():
    text = render_markdown(_report([], interpretation="naive local time at each ping's place"))
    assert "**Note:**" in text
    assert "no time zone" in text
    assert "No findings in 172,079 pings." in text
    aware = render_markdown(_report([]))
    assert "no time zone" not in aware


def test_markdown_lists_first_cells_and_key_numbers():
    cells = [f"{i:x}" for i in range(7)]
    finding = _finding("medium", "Many cells", evidence={"cell_share": 0.25, "devices": 1234})
    finding["cells"] = cells
    text = render_markdown(_report([finding]))
    assert "7 cells (0, 1, 2, 3, 4 and 2 more)" in text
    assert "| Cell share | 25.0% |" in text
    assert "| Devices | 1,234 |" in text


def test_markdown_escapes_data_strings():
    assert md("a|b") == "a\\|b"
    text = render_markdown(_report([_finding("high", EVIL)], source=EVIL))
    assert EVIL not in text
    # Every "<" is backslash-escaped, so no renderer reads it as HTML.
    assert "\\<script\\>alert(1)\\</script\\>" in text
    assert not re.search(r"(?<!\\)<", text)


def test_html_is_offline_and_escapes_malicious_strings():
    evidence = {
        "area_mix": {EVIL: 0.9, "ios": 0.1},
        "overall_mix": {EVIL: 0.3, "ios": 0.7},
        "note": '<img src=x onerror="alert(1)">',
    }
    report = _report([_finding("high", f"Title {EVIL}", CELLS, evidence)], source=EVIL)
    page = render_html(report)
    assert "http" not in page.lower()
    assert "<script" not in page.lower()
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<html") == 1 and "<svg" in page


def test_html_has_no_url_even_when_the_data_names_one():
    url = "https://example.com/pings.csv"
    finding = _finding("low", f"See {url}", evidence={"area_mix": {url: 1.0}, "link": url})
    page = render_html(_report([finding], source=url))
    assert "http://" not in page and "https://" not in page
    assert "https:&#47;&#47;example.com/pings.csv" in page


def test_html_summary_line_counts_severities():
    findings = [_finding(s, f"T{i}") for i, s in enumerate(["high"] * 3 + ["medium"] * 2 + ["low"])]
    page = render_html(_report(findings))
    assert "3 high, 2 medium, 1 low findings in 172,079 pings." in page
    # The line comes before the first finding.
    assert page.index("3 high, 2 medium") < page.index("T0")


def test_html_draws_hours_chart_and_map_of_flagged_cells():
    area = [0.0] * 24
    area[2] = 0.5
    area[3] = 0.5
    rest = [1 / 24] * 24
    finding = _finding("high", "Night area", CELLS, {"area_hours": area, "rest_hours": rest})
    page = render_html(_report([finding]))
    # One overview map and one small map, each with one outline per cell.
    assert page.count("<polygon") == 2 * len(CELLS)
    # 24 bars for each of the two series.
    hours_svg = next(s for s in re.findall(r"<svg.*?</svg>", page) if "by local hour" in s)
    assert hours_svg.count('fill="#2f6fb0"') >= 24 and hours_svg.count('fill="#b6c0ca"') >= 24


def test_html_of_real_analysis_with_malicious_device_type_and_source(tmp_path):
    result = generate_pings(20_000, seed=2, biases=("device_type_skew", "null_island"))
    frame = result.pings.with_columns(
        device_type=pl.when(pl.col("device_type") == "ios")
        .then(pl.lit(EVIL))
        .otherwise(pl.lit("android"))
    )
    path = tmp_path / "evil.csv"
    write_pings(frame, path)
    analysis = analyze(path, name=EVIL, salt="s")
    page = render(analysis, "html")
    assert "http" not in page.lower()
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page  # at least the source name, as text
    assert "<svg" in page
    assert report_dict(analysis)["source"] == EVIL


def test_hour_bars_heights_are_proportional_to_values():
    values = [float(i % 4) for i in range(24)]
    svg = charts.hour_bars(values)
    heights = [
        float(h)
        for h in re.findall(
            r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="#2f6fb0"', svg
        )
    ]
    heights = heights[:24]  # the legend swatch follows the bars
    assert len(heights) == 24
    # Value 3 is the tallest; value 1 is a third of it (to the 0.1 px the SVG keeps).
    assert heights[1] == pytest.approx(heights[3] / 3, abs=0.1)
    assert heights[0] == 0


def test_cell_map_keeps_every_vertex_inside_the_view():
    svg = charts.cell_map([(c, "high") for c in CELLS] + [("not-a-cell", "low")], size=200)
    coords = [
        float(v) for pts in re.findall(r'points="([^"]+)"', svg) for v in re.split("[ ,]", pts)
    ]
    assert svg.count("<polygon") == len(CELLS)
    assert min(coords) >= 0 and max(coords) <= 200


def test_evidence_records_id_lists_and_curves_are_read_for_people():
    evidence = {
        "quiet_hours": [1, 2, 3],
        "heaps": [{"time": "00:00:00", "pings": 4483}, {"time": "04:00:00", "pings": 29}],
        "curve": [{"devices": 0.01, "pings": 0.2}, {"devices": 0.1, "pings": 0.5}],
        "lat": 40.77211,
    }
    report = _report([_finding("high", "Heaps", evidence=evidence, kind="timestamp_heaping")])
    text = render_markdown(report)
    assert "| Quiet hours | 1, 2, 3 |" in text
    assert "| 00:00:00 | 4,483 |" in text and "| 04:00:00 | 29 |" in text
    assert "| Lat | 40.7721 |" in text
    page = render_html(report)
    # One chart (the curve); the quiet hours are text and the heaps a table.
    assert page.count("<svg") == 1 and "<polyline" in page
    assert '<td class="n">4,483</td>' in page
