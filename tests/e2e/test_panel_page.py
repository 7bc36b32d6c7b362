"""Panel page in a real browser: choose a rule with the sliders, read what it keeps,
share the link, reopen it in a fresh context and see the same rule and the same line."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
from playwright.sync_api import Page, expect

from explorer.analysis import analyze
from explorer.summary.panel_rule import survival_table
from explorer.synth.panel_biases import drop_period, local_midnight
from explorer.synth.pings import generate_pings
from explorer.text import count, pct
from tests.app.conftest import SAMPLE
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

KEEPS = ".st-key-panel-keeps"


def query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture(scope="module")
def sentences() -> dict[tuple[int, int], str]:
    """The "Keeps …" line of each rule of the survival table, on the bundled sample."""
    table = survival_table(analyze(SAMPLE).summary)
    total = table.filter(pl.col("min_days") == 1).row(0, named=True)
    devices = round(total["devices"] / total["device_share"])
    return {
        (row["min_days"], row["min_hours"]): (
            f"Keeps {count(row['devices'])} of {count(devices)} devices "
            f"({pct(row['device_share'])}) and {pct(row['ping_share'])} of the pings"
        )
        for row in table.iter_rows(named=True)
    }


def slider(page: Page, key: str):
    return page.locator(f".st-key-{key} input[type=range]")


def nudge(app, page: Page, key: str, keypress: str, rules: list[str]) -> None:
    """Move a slider one step per key press; each step's rule reaches the URL."""
    for rule in rules:
        slider(page, key).focus()
        slider(page, key).press(keypress)
        days, hours = rule.split(",")
        expect(page).to_have_url(re.compile(rf"[?&]rule={days}(,|%2C){hours}\b"))
        app.wait_idle(page)


def open_panel(app, page: Page, query_text: str = "") -> None:
    page.goto(f"{app.server.url}/panel{query_text}")
    app.wait_idle(page)
    expect(page.locator(KEEPS)).to_contain_text("Keeps")


def test_a_chosen_rule_travels_in_the_share_link(app, new_page, sentences) -> None:
    page = new_page()
    open_panel(app, page)
    expect(page.locator(KEEPS)).to_contain_text(sentences[(3, 4)])
    assert "rule" not in query(page.url)
    for title in ("Devices per local day", "Pings per local day", "active days"):
        expect(page.locator("svg").filter(has_text=title).first).to_be_visible()
    expect(page.get_by_test_id("stDeckGlJsonChart").first).to_be_visible()
    expect(page.locator(".st-key-map-legend")).to_contain_text("% lost")

    nudge(app, page, "rule_days", "ArrowRight", ["4,4", "5,4"])
    nudge(app, page, "rule_hours", "ArrowLeft", ["5,3", "5,2"])
    expect(page.locator(KEEPS)).to_contain_text(sentences[(5, 2)])
    expect(page.locator(KEEPS)).to_contain_text("at least 5 days with 2 or more hours seen")
    app.screenshot(page, "panel_rule_chosen")

    share = app.share_url(page)
    assert urlsplit(share).path == "/panel"
    assert query(share)["rule"] == "5,2"
    fresh = new_page()
    fresh.goto(share)
    app.wait_idle(fresh)
    expect(fresh.locator(KEEPS)).to_contain_text(sentences[(5, 2)])
    expect(slider(fresh, "rule_days")).to_have_attribute("aria-valuetext", "5")
    expect(slider(fresh, "rule_hours")).to_have_attribute("aria-valuetext", "2")
    expect(fresh.get_by_text("Page not found")).to_have_count(0)
    assert query(fresh.url)["rule"] == "5,2"
    app.screenshot(fresh, "panel_shared_link")


def test_a_bad_rule_in_a_link_says_so_and_shows_the_default(app, new_page, sentences) -> None:
    page = new_page()
    open_panel(app, page, "?rule=banana")
    expect(page.locator(".st-key-rule-note")).to_contain_text("default rule 3,4 is shown")
    expect(page.locator(KEEPS)).to_contain_text(sentences[(3, 4)])
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "rule" not in query(page.url)


@pytest.fixture(scope="module")
def holed_csv(synthetic_file: Callable[..., Path]) -> Path:
    """Two weeks of pings in New York with one local day missing (10 June)."""
    pings = generate_pings(30_000, seed=12, days=14).pings
    day = dt.date(2024, 6, 10)
    start = local_midnight(day, "America/New_York")
    holed = drop_period(pings, start, start + dt.timedelta(days=1))
    return synthetic_file(holed, "holed_pings.csv", folder="holed")


def test_a_missing_day_is_shaded_on_the_daily_charts(app, new_page, holed_csv) -> None:
    gaps = [f for f in analyze(holed_csv).findings if f.kind == "panel_gap" and f.period]
    assert gaps, "the missing day is a panel_gap finding with a period"
    page = new_page()
    app.open_uploader(page)
    app.upload(page, holed_csv)
    open_panel(app, page, f"?ds={query(page.url)['ds']}")
    for title in ("Devices per local day", "Pings per local day", "Pings per device per local day"):
        chart = page.locator(".st-key-panel-daily svg").filter(has_text=title).first
        expect(chart).to_be_visible()
        # The band (a rect mark) is drawn beneath the line, with the periods' legend.
        expect(chart.locator("g.mark-rect path").first).to_be_attached()
        expect(chart).to_contain_text("finding's period")
    expect(page.locator(".st-key-panel-daily")).to_contain_text("Shaded: the periods")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "panel_missing_day.png"), full_page=True)
