"""Actions in the page, not command lines: a file with duplicates, naive timestamps
written in UTC and columns the reader cannot name shows no command line on any page,
and each finding offers the button that does what its story asks (AppTest)."""

from __future__ import annotations

import json
import re

import pandas as pd
import polars as pl
import pytest

from app.evidence import ZONE_BUTTON, vega_lite_spec
from app.mapping import in_form_words
from explorer.analysis import analyze
from explorer.findings import Finding
from explorer.reports.evidence import chart_models
from explorer.synth.pings import generate_pings
from tests.app.conftest import PAGES, finding_ids

#: A command line, or a flag of one (``--tz``, ``--lat-col NAME``).
COMMAND = re.compile(r"python -m|(?<![\w-])--[a-z]+(?:-[a-z]+)*")
COLUMNS = {"lat": "north_south", "lon": "east_west", "timestamp": "moment"}


def _all_text(at) -> str:
    """Every string a reader can see: values, labels, help, options and table cells."""
    parts: list[str] = []

    def walk(node: object) -> None:
        for name in ("value", "label", "help", "body", "placeholder"):
            value = getattr(node, name, None)
            if isinstance(value, str):
                parts.append(value)
            elif isinstance(value, pd.DataFrame):
                parts.append(value.to_csv())
        options = getattr(node, "options", None)
        if isinstance(options, list | tuple):
            parts.extend(str(o) for o in options)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


@pytest.fixture(scope="module")
def odd_file() -> bytes:
    """Duplicated rows, naive timestamps that are UTC clock times in New York, and
    latitude, longitude and time under names no reader knows."""
    pings = generate_pings(12_000, biases=("duplicate_pings",), seed=31).pings
    clock = pl.col("timestamp").dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S")
    frame = pings.with_columns(timestamp=clock).rename(COLUMNS)
    # Two columns of instants: the reader is unsure which is the time and asks.
    logged = pl.col("moment").str.to_datetime() + pl.duration(seconds=1)
    return frame.with_columns(logged=logged.dt.strftime("%Y-%m-%d %H:%M:%S")).write_csv().encode()


def _mapped(page_app, data: bytes):
    at = page_app("findings").run()
    at.file_uploader(key="upload").set_value(("odd.csv", data, "text/csv")).run()
    assert not at.exception
    warning = at.warning[0].value
    assert "in the form below" in warning and not COMMAND.search(_all_text(at)), warning
    for role, column in COLUMNS.items():
        at.selectbox(key=f"map_{role}").set_value(column)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception and finding_ids(at)
    return at


def _findings(data: bytes, tz: str | None = None) -> dict[str, Finding]:
    """The findings the app shows for the mapped file, by kind (explorer's analysis)."""
    return {f.kind: f for f in analyze(data, columns=COLUMNS, tz=tz).findings}


def _select(at, finding_id: str):
    at.button(key=f"select-{finding_id}").click().run()
    assert not at.exception
    return at


def test_no_page_shows_a_command_line_and_each_finding_offers_its_action(page_app, odd_file):
    at = _mapped(page_app, odd_file)
    kinds = _findings(odd_file)
    assert {"duplicate_pings", "timezone_shift"} <= set(kinds)
    for finding in kinds.values():
        if finding.id in finding_ids(at):
            _select(at, finding.id)
            text = _all_text(at)
            assert not COMMAND.search(text), (finding.kind, COMMAND.search(text))
    _select(at, kinds["duplicate_pings"].id)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download a cleaned copy (CSV)" in labels
    for name in ("map", "time", "devices", "data"):
        at.session_state["test_page"] = PAGES[name]
        at.run()
        assert not at.exception
        assert not COMMAND.search(_all_text(at)), (name, COMMAND.search(_all_text(at)))


def test_the_zone_button_re_reads_the_file_and_the_shift_is_gone(page_app, odd_file):
    at = _mapped(page_app, odd_file)
    shift = _findings(odd_file)["timezone_shift"]
    assert shift.evidence["naive_timestamps"] and shift.evidence["suggested_tz"] == "UTC"
    _select(at, shift.id)
    button = at.button(key=f"zone-{shift.id}")
    assert button.label == ZONE_BUTTON.format(zone="UTC")
    button.click().run()
    assert not at.exception
    at.session_state["test_page"] = PAGES["data"]
    at.run()
    assert at.selectbox(key="f_zone").value == "UTC"
    at.session_state["test_page"] = PAGES["findings"]
    at.run()
    on_utc = _findings(odd_file, tz="UTC")
    assert "timezone_shift" not in on_utc
    assert finding_ids(at) == [f.id for f in on_utc.values()]
    assert on_utc["duplicate_pings"].id in finding_ids(at)


def test_the_charts_of_a_selected_finding_are_the_models_with_labelled_axes(page_app, odd_file):
    at = _mapped(page_app, odd_file)
    shift = _findings(odd_file)["timezone_shift"]
    _select(at, shift.id)
    drawn = [json.loads(node.proto.spec) for node in at.get("vega_lite_chart")]
    models = chart_models(shift.evidence)
    assert models and len(drawn) == len(models)
    hours = next(spec for spec in drawn if spec["title"] == "Pings by local hour")
    assert hours["encoding"]["x"]["title"] == "local hour"
    assert hours["encoding"]["y"]["title"] == "share of pings"
    assert hours["encoding"]["y"]["axis"]["format"] == ".0%"
    spec = vega_lite_spec(models[0])
    assert {k: spec["encoding"][k] for k in "xy"} == {k: hours["encoding"][k] for k in "xy"}
    # Both series are shares of their day: no counts beside shares.
    for name in ("This data", "A human day"):
        rows = spec["datasets"]["evidence"]
        values = rows.loc[rows["series"] == name, "value"].tolist()
        assert len(values) == 24 and sum(values) == pytest.approx(1, abs=1e-6)


@pytest.mark.parametrize(
    ("message", "words"),
    [
        (
            "No lat column recognised (a, b); name them with --lat-col NAME.",
            "name them in the form",
        ),
        ("'a' and 'b' both look like lat; rename one or choose with --lat-col.", "choose in the"),
        ("Not sure (best guess: lat 'a'); confirm or change with --lat-col and --lon-col.", "in"),
        ("Column 'x' given for lat is not in the file; check --lat-col.", "check the form below"),
    ],
)
def test_the_mapping_warning_names_the_form_not_flags(message, words):
    said = in_form_words(message)
    assert words in said and not COMMAND.search(said), said
