"""The Panel page's numbers (explorer/interactive/panel_view.py): survival curves and rule
outcomes against the panel rules' own tables, the loss map against cells_kept, shaded
periods from findings built by hand, histograms, and data with no panel to follow."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from explorer.analysis import lacking_inputs
from explorer.findings import Finding
from explorer.interactive import panel_view as pv
from explorer.interactive.map_layers import NO_VALUE_COLOR, PALETTE
from explorer.summary import summarise
from explorer.summary.panel_rule import (
    PanelRule,
    cells_kept,
    kept_devices,
    qualifying_days,
    survival_table,
)
from explorer.synth.panel_biases import drop_period, local_midnight
from explorer.synth.pings import generate_pings

RES = 8
COLUMNS = {"device_id": "device_id", "device_type": "device_type"}
DEFAULT = PanelRule(3, 4)
#: (city, seed, days): cities in several zones, seeds and period lengths.
CASES = [("new_york", 1, 14), ("sao_paulo", 2, 9), ("singapore", 3, 21)]


def _view(pings: pl.DataFrame, findings=(), columns=COLUMNS):
    summary = summarise(pings, RES)
    lacking = lacking_inputs(summary, columns)
    return summary, pv.panel_view(summary, list(findings), lacking, DEFAULT)


@pytest.fixture(scope="module", params=CASES, ids=lambda c: c[0])
def panel(request):
    city, seed, days = request.param
    pings = generate_pings(20_000, city=city, seed=seed, days=days).pings
    summary, view = _view(pings)
    return summary, view, days


def test_a_clean_panel_has_a_view_with_the_period_days(panel) -> None:
    summary, view, days = panel
    assert view.reason is None
    # Local days at each ping's place: the generated days, give or take a boundary day.
    assert days <= view.n_days <= days + 1
    assert view.devices.height == summary.tables["devices"]["device"].n_unique()


@pytest.mark.parametrize("hours", [1, 2, 4, 8])
def test_survival_curve_agrees_with_the_survival_table(panel, hours) -> None:
    summary, view, _ = panel
    curve = pv.survival_curve(view, hours)
    assert curve["min_days"].to_list() == list(range(1, view.n_days + 1))
    table = survival_table(summary).filter(pl.col("min_hours") == hours)
    joined = table.join(curve, on="min_days", suffix="_curve")
    assert joined.height == table.height > 0
    for column in ("devices", "pings"):
        assert joined[column].to_list() == joined[f"{column}_curve"].to_list()
    np.testing.assert_allclose(joined["device_share"], joined["device_share_curve"])
    # Asking for more days never keeps more.
    assert (np.diff(curve["devices"].to_numpy()) <= 0).all()
    assert (np.diff(curve["pings"].to_numpy()) <= 0).all()


@pytest.mark.parametrize("rule", [PanelRule(1, 1), PanelRule(3, 4), PanelRule(7, 2)])
def test_rule_outcome_keeps_the_rules_devices_and_their_pings(panel, rule) -> None:
    summary, view, _ = panel
    outcome = pv.rule_outcome(view, rule)
    kept = kept_devices(summary, rule)
    per_device = qualifying_days(summary, (rule.min_hours,))
    assert outcome.devices_kept == kept.len()
    assert outcome.devices == per_device.height
    kept_pings = per_device.filter(pl.col("device").is_in(kept.implode()))["pings"].sum()
    assert outcome.pings_kept == kept_pings
    assert outcome.pings == per_device["pings"].sum()


def test_rule_outcome_sentence_in_words() -> None:
    outcome = pv.RuleOutcome(PanelRule(3, 4), 6_700, 1_204, 100_000, 71_000)
    assert outcome.sentence() == "Keeps 1,204 of 6,700 devices (18 %) and 71 % of the pings"
    partial = pv.RuleOutcome(PanelRule(3, 4), 10, 5, 100, 50, pings_without_id=7)
    assert partial.sentence().endswith("50 % of the pings with a device id")


def test_loss_layer_agrees_with_cells_kept(panel) -> None:
    summary, view, _ = panel
    rule = PanelRule(3, 4)
    layer = pv.loss_layer(summary, view, rule)
    assert layer.resolution == RES
    reference = cells_kept(summary, rule).with_columns(
        hex=pl.col("cell").map_elements(lambda c: f"{c:x}", return_dtype=pl.String)
    )
    rows = layer.rows.join(reference, on="hex", suffix="_ref")
    assert rows.height == reference.height == layer.rows.height
    assert rows["devices"].to_list() == rows["devices_ref"].to_list()
    assert rows["devices_kept"].to_list() == rows["devices_kept_ref"].to_list()
    enough = rows.filter(pl.col("devices") >= pv.MIN_CELL_DEVICES)
    assert enough.height == layer.cells_shown > 0
    np.testing.assert_allclose(enough["share_lost"], enough["share_lost_ref"])
    few = rows.filter(pl.col("devices") < pv.MIN_CELL_DEVICES)
    assert few["share_lost"].null_count() == few.height
    assert all(list(c) == list(NO_VALUE_COLOR) for c in few["color"].to_list())
    assert (few["value"] == f"fewer than {pv.MIN_CELL_DEVICES} devices").all()


def test_loss_colours_and_legend_follow_the_share_lost(panel) -> None:
    summary, view, _ = panel
    layer = pv.loss_layer(summary, view, PanelRule(5, 6))
    assert sum(stop.cells for stop in layer.legend) == layer.rows.height
    assert [s.color for s in layer.legend[:-1]] == list(PALETTE)
    for row in layer.rows.filter(pl.col("share_lost").is_not_null()).iter_rows(named=True):
        share = row["share_lost"]
        stop = next(s for s in layer.legend[:-1] if s.low <= share <= s.high)
        assert tuple(row["color"]) == stop.color or share == stop.high
        assert row["value"] == f"{round(share * 100)} % lost"


def test_stricter_rules_lose_more_in_every_cell(panel) -> None:
    summary, view, _ = panel
    loose = pv.loss_layer(summary, view, PanelRule(1, 1), min_devices=1).rows
    strict = pv.loss_layer(summary, view, PanelRule(7, 6), min_devices=1).rows
    both = loose.join(strict, on="hex", suffix="_strict")
    assert (both["share_lost_strict"] >= both["share_lost"]).all()
    assert (loose["share_lost"] == 0).all()  # every device is seen on a day with an hour


def _finding(start: str, end: str | None, severity: str = "high") -> Finding:
    period = None if end is None else {"start": start, "end": end}
    return Finding(
        kind="panel_gap",
        severity=severity,
        score=3.0,
        title="No pings for 24 hours",
        story="A day is missing.",
        cells=[],
        evidence={},
        period=period,
    )


def test_findings_with_a_period_become_shaded_spans_on_the_chart() -> None:
    pings = generate_pings(12_000, seed=5, days=10).pings
    day = dt.date(2024, 6, 7)
    start, end = (
        local_midnight(day, "America/New_York"),
        local_midnight(day + dt.timedelta(days=1), "America/New_York"),
    )
    holed = drop_period(pings, start, end)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    gap = _finding(start.strftime(iso), end.strftime(iso))
    outside = _finding("2023-01-01T00:00:00Z", "2023-01-02T00:00:00Z", "medium")
    spread = _finding("2024-05-20T00:00:00Z", "2024-06-04T06:00:00Z", "low")
    no_period = _finding("", None)
    _, view = _view(holed, [gap, outside, spread, no_period])
    assert view.periods.height == 3  # the finding without a period is not shaded
    spans = pv.periods_on_chart(view)
    assert spans["severity"].to_list() == ["high", "low"]  # one lies before the data
    hole = spans.row(0, named=True)
    assert hole["start"] == dt.datetime(2024, 6, 7, 4) and hole["end"] == dt.datetime(2024, 6, 8, 4)
    assert spans.row(1, named=True)["start"] == dt.datetime(2024, 6, 3)  # cut to the first day
    # The hole's day is in the series with no pings, and its point lies inside the band.
    daily = pv.daily_chart(view).filter(pl.col("day") == "2024-06-07")
    assert set(daily["measure"]) == {"devices", "pings", "pings per device"}
    assert daily.filter(pl.col("measure") == "pings")["value"].to_list() == [0.0]
    midday = daily["at"][0]
    assert hole["start"] <= midday <= hole["end"]


def test_histograms_count_every_device_once(panel) -> None:
    summary, view, _ = panel
    hists = {h.key: h for h in pv.distributions(view)}
    assert list(hists) == ["active_days", "hours_per_day", "pings_per_day", "median_gap_s"]
    for hist in hists.values():
        assert hist.bins["devices"].sum() + hist.without == view.devices.height
        assert hist.bins["share"].sum() == pytest.approx(1.0)
    days = hists["active_days"].bins
    assert days["label"].to_list() == [str(d) for d in range(1, view.n_days + 1)]
    by_days = view.devices["active_days"].value_counts()
    expected = dict(zip(by_days["active_days"], by_days["count"], strict=True))
    assert days["devices"].to_list() == [expected.get(d, 0) for d in range(1, view.n_days + 1)]
    one_ping = summary.tables["devices"].group_by("device").agg(pl.col("pings").sum())
    assert hists["median_gap_s"].without == int((one_ping["pings"] == 1).sum())
    assert hists["median_gap_s"].median == pytest.approx(view.devices["median_gap_s"].median())


def test_without_device_ids_only_pings_per_day_are_shown() -> None:
    pings = generate_pings(8_000, seed=6, days=7).pings.with_columns(
        device_id=pl.lit(None, pl.String)
    )
    _, view = _view(pings)
    assert view.reason is not None and "device id" in view.reason
    assert view.devices.is_empty()
    chart = pv.daily_chart(view)
    assert set(chart["measure"]) == {"pings"}
    assert chart["value"].sum() == pings.height
    assert pv.pings_without_id(view) == pings.height


def test_a_single_day_has_no_panel_but_pings_per_hour() -> None:
    pings = generate_pings(8_000, city="london", seed=7, days=1).pings
    _, view = _view(pings)
    assert view.reason is not None and "single day" in view.reason
    hourly = pv.hourly_chart(view)
    assert hourly is not None and hourly["pings"].sum() == pings.height
    assert 20 <= hourly.height <= 26
