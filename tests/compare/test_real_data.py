"""Two halves of a real file compared: Gowalla's New York check-ins split by device
(the same delivery twice) and by time (a panel that grew)."""

from __future__ import annotations

import pytest

from explorer.compare import compare_sources, comparison_dict, validate_comparison
from explorer.reading.pings import read_pings
from explorer.synth.pings import write_pings
from tests.compare.planting import device_halves, week_halves
from tests.conftest import REAL_DATA

GOWALLA = REAL_DATA / "gowalla_nyc_checkins.csv"


@pytest.fixture(scope="module")
def gowalla():
    return read_pings(GOWALLA).pings


@pytest.mark.parametrize("seed", [1, 2])
def test_random_device_halves_of_gowalla_have_no_high_change(gowalla, tmp_path, seed):
    first, second = device_halves(gowalla, seed)
    write_pings(first, tmp_path / "a.csv")
    write_pings(second, tmp_path / "b.csv")
    comparison = compare_sources(tmp_path / "a.csv", tmp_path / "b.csv")
    data = comparison_dict(comparison)
    validate_comparison(data)
    assert [c["title"] for c in data["changes"] if c["severity"] == "high"] == []
    # No area's share of devices moves beyond chance between random halves.
    assert not [c for c in data["changes"] if c["kind"] == "area_share_changed"]
    # The file's findings are found in both halves, matched by place (a dozen of its
    # two dozen; the low ones of small cells come and go with the devices drawn).
    assert len(data["unchanged"]) >= 5


def test_gowalla_split_in_time_tells_the_panels_growth(gowalla, tmp_path):
    first, second = week_halves(gowalla)
    write_pings(first, tmp_path / "early.csv")
    write_pings(second, tmp_path / "late.csv")
    data = comparison_dict(compare_sources(tmp_path / "early.csv", tmp_path / "late.csv"))
    grown = [
        c
        for c in data["changes"]
        if c["kind"] == "panel_changed" and c["evidence"]["metric"] == "devices_per_day"
    ]
    assert grown and grown[0]["severity"] == "high"
    assert grown[0]["evidence"]["change_ratio_low"] > 2
