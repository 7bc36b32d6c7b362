"""The Compare page's numbers: a diverging scale centred on no change, a dropped
district red on the diff map (several cities and strengths), both daily series in one
frame, change cards by kind with their evidence, and a file against itself quiet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from explorer.analysis import Analysis, analyze
from explorer.binning.cells import cells_to_parent, cells_to_str
from explorer.compare import Change, compare_analyses, comparison_dict
from explorer.interactive.compare_view import (
    DIVERGING,
    MATTERS,
    card_evidence,
    compare_view,
    counts_line,
    diverging_ramp,
    group_changes,
    nothing_sentence,
)
from explorer.reports.evidence import evidence_view
from explorer.synth.pings import generate_pings, write_pings
from tests.compare.planting import busy_area, drop_area_devices

#: Resolution at which the district is planted; the comparison's areas are as coarse.
AREA_RES = 6
MIDDLE = DIVERGING[len(DIVERGING) // 2]
LOST = set(DIVERGING[: len(DIVERGING) // 2])


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Analysis]:
    folder = tmp_path_factory.mktemp("compare_view")
    written = iter(range(1_000))

    def analyse(frame: pl.DataFrame, resolution: int | None = 8) -> Analysis:
        path = folder / f"pings_{next(written)}.csv"
        write_pings(frame, path)
        return analyze(Path(path), resolution=resolution)

    return analyse


def test_the_scale_is_symmetric_about_no_change() -> None:
    points = np.array([-4.0, -2.0, -0.1, 0.0, 0.1, 2.0, 4.0])
    colours, stops = diverging_ramp(points)
    rgb = [tuple(int(v) for v in c) for c in colours]
    assert rgb[0] == DIVERGING[0] and rgb[-1] == DIVERGING[-1]
    assert rgb[3] == MIDDLE and rgb[2] == MIDDLE and rgb[4] == MIDDLE
    # A loss and a gain of one size sit in mirrored classes.
    index = {c: i for i, c in enumerate(DIVERGING)}
    for i in range(len(points)):
        assert index[rgb[i]] + index[rgb[-1 - i]] == len(DIVERGING) - 1
    assert len(stops) == len(DIVERGING)
    assert "about no change" in stops[len(DIVERGING) // 2].label
    assert stops[0].label.startswith("lost") and stops[-1].label.startswith("gained")
    assert sum(s.cells for s in stops) == points.size
    assert stops[0].low == -4.0 and stops[-1].high == 4.0


def test_no_change_anywhere_is_one_neutral_class() -> None:
    colours, stops = diverging_ramp(np.zeros(5))
    assert {tuple(int(v) for v in c) for c in colours} == {MIDDLE}
    assert [(s.label, s.cells) for s in stops] == [("no change", 5)]


@pytest.mark.parametrize(
    ("city", "seed", "share"), [("new_york", 11, 0.9), ("london", 5, 0.9), ("sao_paulo", 2, 0.7)]
)
def test_a_dropped_district_is_red_outlined_and_a_card(analysed, city, seed, share) -> None:
    pings = generate_pings(40_000, city=city, seed=seed, days=7).pings
    area = busy_area(pings, AREA_RES, rank=3)
    before = analysed(pings)
    after = analysed(drop_area_devices(pings, area, AREA_RES, share))
    comparison = compare_analyses(before, after)
    view = compare_view(comparison)
    rows = view.diff.rows
    # The planted district (at the areas' resolution) lost the most share, in red.
    planted = cells_to_str(
        cells_to_parent(pl.Series([area], dtype=pl.UInt64), view.diff.resolution).to_list()
    )[0]
    worst = rows.sort("change").row(0, named=True)
    assert worst["hex"] == planted
    assert worst["change"] < 0 and tuple(worst["color"]) in LOST
    assert worst["value"].startswith("lost")
    # Most areas did not move: they are drawn as no change.
    neutral = rows.filter(pl.col("color").list.get(0) == MIDDLE[0]).height
    assert neutral > rows.height / 2
    assert planted in view.diff.outlined
    assert view.matters
    groups = {g.kind: g for g in view.groups}
    card = groups["area_share_changed"].cards[0]
    assert card.change.severity in MATTERS and "fell" in card.change.title
    assert card.place is not None
    assert groups["area_share_changed"].heading.startswith("Area share changed: ")
    # Both daily series, as the comparison's own JSON has them.
    data = comparison_dict(comparison)
    for side in ("before", "after"):
        series = view.daily.filter(pl.col("side") == side)
        assert series["devices"].to_list() == [d["devices"] for d in data[side]["daily"]]
        assert series.height == 7 or series.height == 8
    assert view.daily["day"].dtype == pl.Date


def test_a_file_against_itself_says_nothing_changed(analysed) -> None:
    pings = generate_pings(30_000, city="singapore", seed=3, days=7).pings
    once = analysed(pings)
    view = compare_view(compare_analyses(once, once))
    assert not view.matters
    assert view.diff.rows["change"].abs().max() == 0
    assert {tuple(c) for c in view.diff.rows["color"].to_list()} == {MIDDLE}
    assert view.diff.outlined == ()
    assert nothing_sentence(view).startswith("Nothing changed that matters")
    before = view.daily.filter(pl.col("side") == "before").drop("side")
    assert before.equals(view.daily.filter(pl.col("side") == "after").drop("side"))


def _change(kind: str, severity: str, evidence: dict) -> Change:
    return Change(kind, "s", severity, 1.0, f"{kind} {severity}", "story.", evidence=evidence)


def test_cards_group_by_kind_and_draw_the_evidence_that_tells_them() -> None:
    finding = {"id": "0" * 16, "kind": "density_spike", "evidence": {"neighbour_pings": [1, 2]}}
    mix = {"before_mix": {"ios": 0.5, "android": 0.5}, "after_mix": {"ios": 0.9, "android": 0.1}}
    hours = {"before_hours": [1 / 24] * 24, "after_hours": [0.5, 0.5] + [0.0] * 22}
    changes = [
        _change("finding_appeared", "high", {"after_finding": finding}),
        _change("area_mix_changed", "medium", mix),
        _change("area_mix_changed", "low", hours),
        _change("panel_changed", "low", {"metric": "period"}),
    ]
    groups = group_changes(changes)
    assert [g.kind for g in groups] == ["finding_appeared", "area_mix_changed", "panel_changed"]
    assert [g.worst for g in groups] == ["high", "medium", "low"]
    assert groups[1].heading == "Area mix changed: 2 changes, worst medium"
    assert card_evidence(changes[0]) == finding["evidence"]
    assert card_evidence(changes[1]) is changes[1].evidence
    charts = evidence_view(card_evidence(changes[1])).charts
    assert [c.names for c in charts] == [("Before", "After")] and charts[0].kind == "mix"
    charts = evidence_view(card_evidence(changes[2])).charts
    assert [c.names for c in charts] == [("Before", "After")] and charts[0].kind == "hours"
    assert counts_line(changes) == "1 high · 1 medium · 2 low changes"
    assert counts_line([]) == "No change passed the thresholds"
