"""Findings are matched by kind and place, never by id; changes follow the config."""

from __future__ import annotations

import numpy as np

from explorer.binning.cells import cell_to_parent, cell_to_str, grid_disk, latlng_to_cells
from explorer.compare.matching import Match, changed, finding_changes, match_findings
from explorer.config.compare import CompareConfig
from explorer.findings import Finding

CELL = int(latlng_to_cells(np.array([40.75]), np.array([-73.98]), 9)[0])
#: A neighbouring cell in the same parent cell (one level coarser).
NEIGHBOUR = next(
    c for c in grid_disk(CELL, 1) if c != CELL and cell_to_parent(c, 8) == cell_to_parent(CELL, 8)
)
FAR = int(latlng_to_cells(np.array([40.60]), np.array([-73.80]), 9)[0])


def _finding(kind="density_spike", cells=(CELL,), severity="medium", score=5.0, period=None):
    return Finding(
        kind,
        severity,
        score,
        "title",
        "story.",
        tuple(cell_to_str(c) for c in cells),
        period=period,
    )


def test_the_same_place_matches_and_another_place_does_not():
    matches, only_before, only_after = match_findings(
        [_finding(cells=(CELL,)), _finding(cells=(FAR,))],
        [_finding(cells=(NEIGHBOUR,)), _finding(kind="hour_profile", cells=(FAR,))],
        steps=1,
    )
    # A neighbouring cell in the same parent is the same place (the ids differ).
    assert len(matches) == 1 and matches[0].before.id != matches[0].after.id
    assert [f.cells for f in only_before] == [(cell_to_str(FAR),)]
    assert [f.kind for f in only_after] == ["hour_profile"]


def test_cell_less_findings_match_by_kind_and_period_overlap():
    week1 = {"start": "2024-06-03T00:00:00Z", "end": "2024-06-04T00:00:00Z"}
    week2 = {"start": "2024-06-10T00:00:00Z", "end": "2024-06-11T00:00:00Z"}
    overlapping = {"start": "2024-06-03T12:00:00Z", "end": "2024-06-05T00:00:00Z"}
    gap = _finding(kind="panel_gap", cells=(), period=week1)
    matches, only_before, only_after = match_findings(
        [gap, _finding(kind="duplicate_pings", cells=())],
        [
            _finding(kind="panel_gap", cells=(), period=week2),
            _finding(kind="panel_gap", cells=(), period=overlapping),
            _finding(kind="duplicate_pings", cells=(), score=5.5),
        ],
        steps=1,
    )
    assert sorted(m.before.kind for m in matches) == ["duplicate_pings", "panel_gap"]
    assert next(m for m in matches if m.before.kind == "panel_gap").after.period == overlapping
    assert only_before == [] and [f.period for f in only_after] == [week2]


def test_a_severity_flip_on_a_threshold_is_not_a_change_but_a_big_move_is():
    config = CompareConfig()
    flip = Match(_finding(severity="medium", score=5.0), _finding(severity="high", score=5.2))
    assert changed(flip, config) is None
    grew = changed(Match(_finding(score=5.0), _finding(severity="high", score=9.0)), config)
    assert grew is not None and grew.severity == "high" and "grew" in grew.title
    doubled = changed(Match(_finding(score=5.0), _finding(score=11.0)), config)
    assert doubled is not None and doubled.severity == "medium"
    shrank = changed(Match(_finding(severity="high", score=9.0), _finding(score=3.0)), config)
    assert shrank is not None and shrank.severity == "low" and "shrank" in shrank.title


def test_a_vanished_finding_is_low_unless_its_check_could_not_run():
    before = [_finding(kind="device_concentration"), _finding(kind="density_spike", cells=(FAR,))]
    changes, _ = finding_changes(
        before, [], {"device_concentration": "the file has no device id column"}, CompareConfig()
    )
    by_kind = {c.subject: c for c in changes}
    assert by_kind["device_concentration"].severity == "medium"
    assert "no device id column" in by_kind["device_concentration"].story
    assert by_kind["density_spike"].severity == "low"
    assert all(c.kind == "finding_vanished" for c in changes)


def test_an_appeared_finding_keeps_its_severity_place_and_period():
    period = {"start": "2024-06-03T00:00:00Z", "end": "2024-06-04T00:00:00Z"}
    after = _finding(kind="panel_gap", cells=(), severity="high", period=period)
    changes, _ = finding_changes([], [after], {}, CompareConfig())
    assert [(c.kind, c.severity, c.period) for c in changes] == [
        ("finding_appeared", "high", period)
    ]
    assert changes[0].evidence["after_finding"]["id"] == after.id
