"""Map colours keep a density spike visible: a small top class, labels in words."""

from __future__ import annotations

import h3
import numpy as np
import polars as pl
import pytest

from app.state import ViewState, metric_shown
from explorer.interactive.map_layers import NO_VALUE_COLOR, cell_metrics, color_ramp
from explorer.summary import summarise
from explorer.synth.pings import generate_pings

RES = 9


@pytest.mark.parametrize(
    ("city", "seed"), [("new_york", 1), ("london", 2), ("sao_paulo", 3), ("singapore", 4)]
)
def test_a_planted_spike_is_in_a_small_top_class(city: str, seed: int) -> None:
    result = generate_pings(60_000, city=city, seed=seed, biases=("density_spike",))
    metrics = cell_metrics(summarise(result.pings, RES))
    spike = next(b for b in result.planted if b.kind == "density_spike")
    spike_cell = h3.latlng_to_cell(spike.lat, spike.lon, RES)
    at = int(np.flatnonzero(metrics["hex"].to_numpy() == spike_cell)[0])
    colours, stops = color_ramp(metrics["pings"], "pings")
    top = stops[-1]
    assert colours[at].tolist() == list(top.color)
    # The top colour marks about 1 % of the cells, not a sixth of them.
    assert top.cells <= 0.015 * metrics.height
    assert (colours == top.color).all(axis=1).sum() == top.cells
    assert sum(s.cells for s in stops) == metrics.height
    assert len({s.color for s in stops}) == len(stops) == 6


def test_a_spike_in_a_flat_city_gets_the_top_colour_alone() -> None:
    rng = np.random.default_rng(7)
    values = np.r_[rng.integers(20, 60, 999), 8_188]
    colours, stops = color_ramp(pl.Series(values), "pings")
    assert colours[-1].tolist() == list(stops[-1].color)
    assert stops[-1].cells <= 10 and stops[-1].high == 8_188


def test_labels_say_the_range_and_share_of_cells_in_words() -> None:
    values = pl.Series(np.r_[np.arange(1, 1_000), 8_188])
    _, stops = color_ramp(values, "pings")
    assert stops[0].label.startswith("1–") and "lowest 40 % of cells" in stops[0].label
    assert stops[1].label.endswith("next 30 %")
    assert stops[-1].label.endswith("8,188 · top 1.0 % of cells")
    _, stops = color_ramp(pl.Series([0.1234, 0.5, 1.0, None]), "night_share")
    assert [s.label for s in stops[:2]] == ["0–17 %", "17–33 %"]
    _, stops = color_ramp(pl.Series([0.0, 3.14159, 47.25, 1234.5]), "finding_score")
    assert [s.label.split(" · ")[0] for s in stops] == ["3.1–47", "1,234"]


def test_ties_and_missing_values() -> None:
    colours, stops = color_ramp(pl.Series([7, 7, 7]), "devices")
    assert len(stops) == 1 and stops[0].label == "7 · every cell" and stops[0].cells == 3
    colours, stops = color_ramp(pl.Series([0.0, 0.0]), "finding_score")
    assert colours.tolist() == [list(NO_VALUE_COLOR)] * 2 and stops[0].cells == 0


def test_finding_score_is_the_default_colour_when_findings_are_on_the_map() -> None:
    assert metric_shown(ViewState(), has_findings=True) == "finding_score"
    assert metric_shown(ViewState(), has_findings=False) == "pings"
    assert metric_shown(ViewState(metric="devices"), has_findings=True) == "devices"
    assert ViewState.from_query({}).metric is None
