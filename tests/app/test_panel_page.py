"""The Panel page (AppTest): the rule in the URL and the share link, what it keeps in
words, a bad rule in a link, and data with no panel to follow."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from app.state import ViewState
from explorer.analysis import analyze
from explorer.summary.panel_rule import PanelRule, survival_table
from explorer.synth.pings import generate_pings
from explorer.text import count, pct
from tests.app.conftest import TIMEOUT, keyed_blocks, run_page, text_of

PANEL = "app.views.panel:panel_page"


def panel_app(**query: str) -> AppTest:
    at = AppTest.from_function(run_page, args=(PANEL,), default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at


def keeps_line(at: AppTest) -> str:
    return text_of(keyed_blocks(at, "panel-keeps")["panel-keeps"]).replace("*", "")


def share_query(at: AppTest) -> dict[str, str]:
    text = text_of(keyed_blocks(at, "share")["share"])
    url = next(part for part in text.split() if part.startswith("http"))
    assert urlsplit(url).path == "/panel", url
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture(scope="module")
def expected(small_sample: Path) -> Callable[[int, int], str]:
    """The "Keeps …" sentence of a rule, from the panel rules' own survival table."""
    table = survival_table(analyze(small_sample).summary, days_grid=(1, 2, 3, 5, 7))

    def sentence(days: int, hours: int) -> str:
        row = table.filter((pl.col("min_days") == days) & (pl.col("min_hours") == hours))
        kept = row.row(0, named=True)
        total = round(kept["devices"] / kept["device_share"])
        return (
            f"Keeps {count(kept['devices'])} of {count(total)} devices "
            f"({pct(kept['device_share'])}) and {pct(kept['ping_share'])} of the pings"
        )

    return sentence


def test_default_rule_keeps_what_the_survival_table_says(expected) -> None:
    at = panel_app().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    line = keeps_line(at)
    assert line.startswith(expected(3, 4)), line
    assert "at least 3 days with 4 or more hours seen (3,4)" in line
    assert at.slider(key="rule_days").value == 3 and at.slider(key="rule_hours").value == 4
    assert "rule" not in share_query(at)  # the default stays out of the link
    # Daily devices, pings, pings per device; four histograms; the survival curve.
    titles = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert len(titles) == 8
    for title in ("Devices per local day", "Pings per device per local day", "active days"):
        assert any(title in spec for spec in titles), title
    assert len(at.get("deck_gl_json_chart")) == 1
    legend = text_of(keyed_blocks(at, "map-legend")["map-legend"])
    assert "% lost" in legend and "fewer than 5 devices" in legend


def test_a_rule_in_the_link_sets_the_sliders_and_the_share_link(expected) -> None:
    at = panel_app(rule="5,2").run()
    assert not at.exception
    assert (at.slider(key="rule_days").value, at.slider(key="rule_hours").value) == (5, 2)
    assert keeps_line(at).startswith(expected(5, 2))
    assert share_query(at)["rule"] == "5,2"


def test_moving_the_sliders_writes_the_rule_and_the_default_leaves_the_link(expected) -> None:
    at = panel_app().run()
    at.slider(key="rule_hours").set_value(2).run()
    at.slider(key="rule_days").set_value(7).run()
    assert not at.exception
    assert at.query_params["rule"] == "7,2"
    assert share_query(at)["rule"] == "7,2"
    assert keeps_line(at).startswith(expected(7, 2))
    at.slider(key="rule_days").set_value(3).run()
    at.slider(key="rule_hours").set_value(4).run()
    assert "rule" not in at.query_params
    assert keeps_line(at).startswith(expected(3, 4))


@pytest.mark.parametrize("bad", ["x,9", "0,4", "3,25", "3", "3,4,5", "9" * 40 + ",4"])
def test_a_bad_rule_in_a_link_falls_back_to_the_default_with_a_note(bad, expected) -> None:
    assert ViewState.from_query({"rule": bad}).rule is None
    at = panel_app(rule=bad).run()
    assert not at.exception, [e.value for e in at.exception]
    note = text_of(keyed_blocks(at, "rule-note")["rule-note"])
    assert "panel rule" in note and "default rule 3,4 is shown" in note, note
    assert len(note) < 300
    assert keeps_line(at).startswith(expected(3, 4))
    assert "rule" not in at.query_params
    # The note is said once: the next run has nothing to say.
    at.slider(key="rule_hours").set_value(2).run()
    assert "rule-note" not in keyed_blocks(at, "rule-note")


def test_the_rule_round_trips_through_the_query() -> None:
    view = ViewState(rule=PanelRule(14, 8), h0=6)
    assert view.to_query() == {"h0": "6", "rule": "14,8"}
    assert ViewState.from_query(view.to_query()) == view


@pytest.fixture
def sample_without_ids(monkeypatch, synthetic_file) -> None:
    pings = generate_pings(6_000, seed=8, days=5).pings.with_columns(
        device_id=pl.lit(None, pl.String)
    )
    monkeypatch.setenv("PBE_SAMPLE_PATH", str(synthetic_file(pings, folder="no_ids")))


def test_without_device_ids_the_page_says_why_and_shows_pings_per_day(sample_without_ids) -> None:
    at = panel_app(rule="5,2").run()
    assert not at.exception, [e.value for e in at.exception]
    reason = text_of(keyed_blocks(at, "not-drawn")["not-drawn"])
    assert reason.startswith("No panel to follow:") and "device id" in reason, reason
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1 and "Pings per local day" in charts[0].proto.spec
    assert not keyed_blocks(at, "panel-keeps")
    assert share_query(at)["rule"] == "5,2"  # the link keeps the rule for other data


@pytest.fixture
def one_day_sample(monkeypatch, synthetic_file) -> None:
    pings = generate_pings(6_000, city="london", seed=9, days=1).pings
    monkeypatch.setenv("PBE_SAMPLE_PATH", str(synthetic_file(pings, folder="one_day")))


def test_a_single_day_says_why_and_shows_pings_per_hour(one_day_sample) -> None:
    at = panel_app().run()
    assert not at.exception, [e.value for e in at.exception]
    reason = text_of(keyed_blocks(at, "not-drawn")["not-drawn"])
    assert "single day" in reason, reason
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert any("Pings per UTC hour" in s for s in specs), specs
    assert not at.get("deck_gl_json_chart")
