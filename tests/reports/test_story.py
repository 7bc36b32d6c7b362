"""The data story: 3–6 plain sentences that name the place, the planted problems (and no
absent ones), the checks that passed and what the data is fit for, on clean and biased
synthetic cities, data without ids, types or a whole day, and the real files."""

from __future__ import annotations

import dataclasses
import re
from functools import cache

import polars as pl
import pytest

from explorer.analysis import Analysis, analyze, analyze_summary, suggested_resolution_for
from explorer.findings import Finding
from explorer.reports import story_words
from explorer.reports.contract import render, report_dict
from explorer.reports.schema import validate_report
from explorer.reports.story import data_story, story_sentences
from explorer.reports.story_words import about, plural_about
from explorer.summary import summarise
from explorer.synth.pings import generate_metros, generate_pings
from tests.conftest import REAL_DATA

REAL = REAL_DATA
COLUMNS = {c: c for c in ("device_id", "timestamp", "lat", "lon", "device_type")}
PINGS = 40_000

#: How the story tells each planted kind as a problem (and nowhere else).
PROBLEM_WORDS = {
    "timezone_shift": "wrong time zone",
    "coordinate_pileup": "sit on a fallback coordinate",
    "null_island": "at (0, 0)",
    "duplicate_pings": "duplicate rows",
    "timestamp_heaping": "exact round times",
    "coordinate_precision": "cut to a grid",
    "hour_profile": "keeps hours unlike",
    "density_spike": "far denser than its neighbourhood",
    "panel_gap": "the feed has a hole",
    "panel_shift": "the panel changes from one day on",
    "partial_period": "is cut short, a delivery made before",
    "transient_devices": "seen too briefly to be followed",
}
#: How the story names each kind's check when it passed.
PASSED_WORDS = {
    "timezone_shift": "the time zone",
    "null_island": "null island",
    "duplicate_pings": "duplicates,",
}


def _analysis(frame: pl.DataFrame, columns: dict[str, str] = COLUMNS) -> Analysis:
    resolution = suggested_resolution_for(frame)
    summary = summarise(frame, resolution, per_ping="compact")
    return analyze_summary(
        summary, source="pings.csv", salt="s", columns=columns, suggested_resolution=resolution
    )


@cache
def _city(city: str, seed: int = 1, biases: tuple[str, ...] = ()) -> Analysis:
    return _analysis(generate_pings(PINGS, city=city, seed=seed, biases=biases).pings)


def assert_reads_well(story: str) -> list[str]:
    """3–6 whole sentences, no template blanks, no raw numbers of machines; the sentences."""
    sentences = re.split(r"(?<=\.) (?=[A-Z])", story)
    assert 3 <= len(sentences) <= 6, sentences
    for sentence in sentences:
        assert sentence[0].isupper() and sentence.endswith("."), sentence
    for blank in ("{", "}", "None", " 0 problems", "  ", " ,", " .", "..", "_"):
        assert blank not in story, (blank, story)
    assert not re.search(r"\bnan\b", story, re.IGNORECASE), story
    # Counts are rounded for people: no five-digit count is told exactly.
    assert not re.search(r"(?<!about )\b\d{2,3},\d{2}[1-9]\b", story), story
    return sentences


def _problems(story: str) -> str:
    sentences = [s for s in assert_reads_well(story) if "would change" in s]
    assert len(sentences) == 1, story
    return sentences[0]


@pytest.mark.parametrize(
    ("city", "seed", "place"),
    [
        ("new_york", 1, "around New York, United States"),
        ("sao_paulo", 2, "around Sao Paulo, Brazil"),
        ("london", 3, "around London, United Kingdom"),
        ("singapore", 4, "around Singapore"),
        ("taveuni", 5, "in Fiji"),
    ],
)
def test_clean_city_story_names_the_place_and_finds_nothing_serious(city, seed, place):
    analysis = _city(city, seed)
    story = data_story(analysis)
    sentences = assert_reads_well(story)
    assert re.match(r"The data holds about 40,000 pings from (about )?\d{3} devices ", story)
    assert place in sentences[0] and "over 14 days, from 3 to 16 June 2024" in sentences[0]
    assert re.search(r"the devices are \d+ % Android and \d+ % iOS\.", story)
    assert "No check found a problem serious enough to change a conclusion." in sentences
    assert f"All {len(analysis.checks_run)} checks that ran found nothing wrong" in story
    assert "not for" not in story and "It is fit for density maps" in story
    assert not any(words in story for words in PROBLEM_WORDS.values())


def test_several_metros_are_told_as_places_on_continents():
    analysis = _analysis(generate_metros(80_000, seed=1).pings)
    sentences = assert_reads_well(data_story(analysis))
    assert sentences[1].startswith("They lie in 4 places on 4 continents: ")
    for name in ("New York, United States", "London, United Kingdom", "Sao Paulo, Brazil"):
        assert name in sentences[1]
    assert "Singapore (25 %)" in sentences[1]


def test_two_metros_on_one_continent_are_not_counted_as_continents():
    frame = generate_metros(40_000, cities=("new_york", "london"), seed=2).pings
    frame = frame.filter(pl.col("lon") < -30)  # New York alone: one place
    story = data_story(_analysis(frame))
    assert "around New York, United States" in story and "places" not in story


@pytest.mark.parametrize(
    ("city", "biases"),
    [
        ("new_york", ("timezone_shift",)),
        ("singapore", ("coordinate_pileup",)),
        ("london", ("duplicate_pings", "timestamp_heaping")),
        ("sao_paulo", ("coordinate_pileup", "timezone_shift", "null_island")),
        ("new_york", ("coordinate_precision", "density_spike", "duplicate_pings", "null_island")),
    ],
)
def test_planted_problems_are_told_and_absent_ones_are_not(city, biases):
    analysis = _city(city, 3, biases)
    story = data_story(analysis)
    problems = _problems(story)
    serious = list(dict.fromkeys(f.kind for f in analysis.findings if f.severity != "low"))
    assert set(biases) <= set(serious), serious  # the detectors found what was planted
    told = serious[:3]
    for kind in told:
        assert PROBLEM_WORDS[kind] in problems, (kind, problems)
    for kind, words in PROBLEM_WORDS.items():
        if kind not in told:
            assert words not in story, (kind, story)
    for kind, words in PASSED_WORDS.items():
        assert (words in story) == (kind not in serious), (kind, story)
    count = {1: "One problem would", 2: "Two problems", 3: "Three problems", 4: "Four problems"}
    assert problems.startswith(count[len(serious)])
    assert "but not for" in story or "Until these problems are fixed" in story


def test_timezone_shift_makes_the_data_unfit_for_time_of_day_analysis():
    story = data_story(_city("singapore", 2, ("timezone_shift",)))
    assert "One problem would change a conclusion: the clock looks about 8 hours off" in story
    assert "not for time-of-day analysis until the timestamps are re-read" in story
    assert "time-of-day profiles" not in story


def test_a_pileup_leaves_density_maps_fit_only_away_from_the_flagged_places():
    story = data_story(_city("singapore", 3, ("coordinate_pileup",)))
    assert "density maps on the analysed grid (H3 resolution 9) away from the flagged places" in (
        story
    )
    assert "not for footfall or visit counts at the piled-up coordinates" in story


def test_data_without_device_ids_counts_pings_only():
    frame = generate_pings(PINGS, city="london", seed=1).pings
    analysis = _analysis(frame.with_columns(device_id=pl.lit(None, pl.String)))
    story = data_story(analysis)
    sentences = assert_reads_well(story)
    assert "devices" not in sentences[0] and "device" not in sentences[0]
    assert "It has no device ids, so every count is of pings, not people" in story
    assert "the pings are" in story and "the devices are" not in story
    # The coverage check lacks a reference too: both lacks are told in words.
    assert (
        f"{len(analysis.skipped)} checks could not run because the data has no device ids "
        "and no reference population was given"
    ) in story
    assert "not for counting people" in story and "trip and dwell" not in story


def test_data_without_device_types_says_so_and_drops_type_comparisons():
    frame = generate_pings(PINGS, city="new_york", seed=1).pings
    columns = {k: v for k, v in COLUMNS.items() if k != "device_type"}
    story = data_story(_analysis(frame.with_columns(device_type=pl.lit(None, pl.String)), columns))
    assert_reads_well(story)
    assert "The file gives no device types." in story
    assert (
        "could not run because it names fewer than two device types and no reference "
        "population was given"
    ) in story
    assert "comparing device types" not in story


def test_part_of_a_day_is_told_in_hours_and_unfit_for_daily_profiles():
    frame = generate_pings(PINGS, city="london", seed=1).pings
    start = frame["timestamp"].min()
    part = frame.filter(pl.col("timestamp") < start + pl.duration(hours=5))
    story = data_story(_analysis(part))
    assert_reads_well(story)
    assert "over about 5 hours on 3 June 2024" in story
    assert "could not run because it covers less than a whole day" in story
    assert "no reference population was given" in story
    assert "not for daily time-of-day profiles" in story


def _without(analysis: Analysis, **fields) -> Analysis:
    return dataclasses.replace(analysis, **fields)


def test_every_combination_of_counts_reads_naturally():
    base = _city("new_york", 1)
    finding = Finding("timezone_shift", "high", 5.0, "t", "s", (), {"best_shift_hours": -5})
    one_check = _without(
        base,
        checks_run=("timezone_shift", "duplicate_pings"),
        findings=[finding],
        skipped=(),
        lacking={},
    )
    story = data_story(one_check)
    assert "One problem would change a conclusion: the clock looks about 5 hours off" in story
    assert "The other check of duplicates found nothing wrong." in story
    kinds = ["null_island", "at_sea", "sign_flipped", "impossible_speed", "device_type_changes"]
    many = [Finding(kind, "medium", 1.0, "A new kind of trouble", "s", (), {}) for kind in kinds]
    story = data_story(_without(base, checks_run=tuple(kinds), findings=many))
    sentences = assert_reads_well(story)
    assert "Five problems would change conclusions; the most serious: some pings sit" in story
    assert not any("found nothing wrong" in s for s in sentences)
    assert "density maps on the analysed grid (H3 resolution 8) away from the flagged" in story
    assert "trip and dwell modelling" not in story.split("but not for")[0]


def test_a_kind_without_words_is_told_by_its_title(monkeypatch):
    monkeypatch.delitem(story_words.PROBLEMS, "device_type_changes")
    monkeypatch.delitem(story_words.NOT_FIT, "device_type_changes")
    base = _city("new_york", 1)
    finding = Finding("device_type_changes", "high", 1.0, "Three ids change type", "s", (), {})
    story = data_story(_without(base, findings=[finding], checks_run=("device_type_changes",)))
    assert "One problem would change a conclusion: three ids change type." in story
    assert "not for what the device type changes finding touches." in story


def test_story_is_computed_once_per_analysis():
    analysis = _city("london", 3)
    assert data_story(analysis) is data_story(analysis)
    assert " ".join(story_sentences(analysis)) == data_story(analysis)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (7, "7"),
        (952, "about 950"),
        (12_400, "about 12,000"),
        (40_000, "40,000"),
        (138_957, "about 140,000"),
        (999_999, "about 1 million"),
        (3_210_000, "about 3.2 million"),
        (3_200_000, "3.2 million"),
    ],
)
def test_counts_are_rounded_for_people(n, text):
    assert about(n) == text


def test_one_is_singular():
    assert plural_about(1, "device") == "1 device" and plural_about(2, "device") == "2 devices"


def test_json_report_has_a_valid_story_at_the_top_of_markdown_and_html():
    analysis = _city("singapore", 3, ("coordinate_pileup",))
    data = report_dict(analysis)
    validate_report(data)
    assert data["story"] == data_story(analysis)
    markdown = render(analysis, "markdown").splitlines()
    assert markdown[0].startswith("# Ping bias report") and markdown[2] == data["story"]
    html = render(analysis, "html")
    head = html.split("</h1>", 1)[1]
    assert head.startswith(f'<p class="story">{data["story"]}</p>')


def test_schema_requires_a_story():
    data = report_dict(_city("london", 3))
    with pytest.raises(Exception, match="story"):
        validate_report({k: v for k, v in data.items() if k != "story"})
    with pytest.raises(Exception, match="story|short|empty"):
        validate_report({**data, "story": ""})


#: Real files (see their README): mapping, place, and words the story must hold.
REAL_CASES = [
    (
        "gowalla_nyc_checkins.csv",
        {"device_id": "user_id", "timestamp": "checkin_time"},
        ["around New York, United States", "from 23 April 2009", "snapped to venues"],
    ),
    (
        "gotrack_points.csv",
        {"device_id": "id_android", "timestamp": "time"},
        ["from 28 devices in Brazil", "duplicate rows", "The file gives no device types."],
    ),
    (
        "gps_accuracy_devices_tracks.csv",
        {"device_id": "device", "timestamp": "time", "device_type": "device_class"},
        ["from 8 devices in the United Kingdom", "over about 4 hours on 29 November 2019"],
    ),
]


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("file_name", "mapping", "words"),
    [pytest.param(*case, id=case[0]) for case in REAL_CASES if (REAL / case[0]).exists()],
)
def test_real_file_story(file_name, mapping, words):
    analysis = analyze(REAL / file_name, columns=mapping, salt="s")
    story = data_story(analysis)
    assert_reads_well(story)
    for expected in words:
        assert expected in story, (expected, story)
    validate_report(report_dict(analysis))
