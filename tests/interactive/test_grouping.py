"""Findings grouped by kind, repeats folded, places named: on real check-ins and made cases."""

from __future__ import annotations

import re

import h3
import pytest

from explorer.analysis import analyze
from explorer.findings import Finding, rank
from explorer.interactive.grouping import (
    NEAR_PLACE_KM,
    filter_findings,
    group_findings,
    kind_label,
    period_label,
    place_label,
)
from explorer.synth.pings import generate_pings
from tests.conftest import REAL_DATA

GOWALLA = REAL_DATA / "gowalla_nyc_checkins.csv"
#: The mapping of the data folder's README.
GOWALLA_COLUMNS = {
    "device_id": "user_id",
    "timestamp": "checkin_time",
    "lat": "latitude",
    "lon": "longitude",
}
COORDINATES = re.compile(r"^at (\d+\.\d\d)° ([NS]), (\d+\.\d\d)° ([EW])$")
RES = 9


def cell(lat: float, lon: float, res: int = RES) -> str:
    return h3.latlng_to_cell(lat, lon, res)


def made(kind: str, severity: str, score: float, cells: tuple[str, ...] = ()) -> Finding:
    return Finding(kind, severity, score, f"{kind} {score}", "A story.", cells)


def every_id(groups) -> list[str]:
    return [i for g in groups for i in g.finding_ids]


@pytest.fixture(scope="module")
def gowalla():
    return analyze(GOWALLA, columns=GOWALLA_COLUMNS)


def test_gowalla_cards_become_a_few_groups(gowalla) -> None:
    findings = gowalla.findings
    groups = group_findings(findings)
    assert len(findings) >= 15, "the check-ins give many near-identical cards"
    assert len(groups) <= 7
    # One group per kind, each finding shown exactly once (as a card or folded in one).
    assert len({g.kind for g in groups}) == len(groups)
    assert sorted(every_id(groups)) == sorted(f.id for f in findings)
    for group in groups:
        assert {c.finding.kind for c in group.cards} == {group.kind}
        assert group.heading.startswith(f"{kind_label(group.kind)}: {len(group.cards)} finding")
    # The density spikes and hour profiles that made the noise are two groups of many.
    sizes = {g.kind: len(g.cards) for g in groups}
    assert sizes["density_spike"] >= 5 and sizes["hour_profile"] >= 5


def test_gowalla_folds_exactly_the_findings_an_earlier_one_holds(gowalla) -> None:
    """On real data the folding matches a plain reading of the rule: a finding with cells
    is folded into the first earlier finding whose cells hold all of its own."""
    findings = gowalla.findings
    expected = {}
    for i, inner in enumerate(findings):
        host = next(
            (
                h
                for h in findings[:i]
                if inner.cells and h.cells and set(inner.cells) <= set(h.cells)
            ),
            None,
        )
        if host is not None:
            expected[inner.id] = host.id
    groups = group_findings(findings)
    folded = {inner.id: c.finding.id for g in groups for c in g.cards for inner in c.also}
    assert folded == expected
    assert sum(g.folded for g in groups) == len(expected)
    # Overlapping but not contained (an hour profile sharing one cell with a spike): kept.
    partly = [
        f
        for f in findings
        if f.kind == "hour_profile"
        and any(set(f.cells) & set(h.cells) for h in findings if h.kind == "density_spike")
    ]
    cards = {c.finding.id for g in groups for c in g.cards}
    assert all(f.id in cards for f in partly if f.id not in expected)


def test_gowalla_places_are_coordinates_in_new_york(gowalla) -> None:
    """No known place (capitals, centroids) lies within 30 km of these venues: every
    area card names its coordinates, inside the data's bounding box."""
    for group in group_findings(gowalla.findings):
        for card in group.cards:
            if not card.finding.cells:
                # Cards about the whole data say when (a period), never where.
                assert (card.place is None) == (card.finding.period is None)
                continue
            match = COORDINATES.match(card.place or "")
            assert match, card.place
            lat, ns, lon, ew = match.groups()
            assert (ns, ew) == ("N", "W")
            assert 40.47 <= float(lat) <= 40.92 and 73.70 <= float(lon) <= 74.26


def test_groups_follow_each_kinds_best_finding_and_take_the_worst_severity() -> None:
    a, b = cell(48.0, 10.0), cell(48.5, 10.5)
    findings = rank(
        [
            made("hour_profile", "low", 3.0, (a,)),
            made("density_spike", "medium", 2.0, (b,)),
            made("hour_profile", "high", 1.0, (cell(47.0, 9.0),)),
            made("duplicate_pings", "low", 9.0),
        ]
    )
    groups = group_findings(findings)
    assert [g.kind for g in groups] == ["hour_profile", "density_spike", "duplicate_pings"]
    assert [g.worst for g in groups] == ["high", "medium", "low"]
    assert [c.finding.score for c in groups[0].cards] == [1.0, 3.0]
    assert groups[0].heading == "Hour profile: 2 findings, worst high"


def test_a_repeat_folds_into_the_first_finding_holding_all_its_cells() -> None:
    big = tuple(h3.grid_disk(cell(52.0, 13.0), 1))  # 7 cells
    inside = big[:2]
    half_out = (big[0], cell(53.0, 14.0))
    findings = [
        made("density_spike", "high", 5.0, big),
        made("coordinate_pileup", "medium", 4.0, inside[:1]),  # inside, but ranked lower
        made("hour_profile", "low", 3.0, inside),
        made("device_type_skew", "low", 2.0, half_out),  # one cell outside: its own card
        made("coordinate_precision", "low", 1.0),  # the whole data: never folded
    ]
    groups = group_findings(findings)
    host = groups[0].cards[0]
    assert host.finding.kind == "density_spike"
    # The pile-up sits inside the spike too; the hour profile goes to the spike, the first
    # finding holding all its cells, not to the pile-up, which holds only one of them.
    assert [f.kind for f in host.also] == ["coordinate_pileup", "hour_profile"]
    assert [g.kind for g in groups] == ["density_spike", "device_type_skew", "coordinate_precision"]
    assert groups[1].cards[0].also == ()
    assert sorted(every_id(groups)) == sorted(f.id for f in findings)
    assert [g.folded for g in groups] == [0, 0, 0]


def test_a_higher_ranked_finding_is_never_folded_into_a_lower_one() -> None:
    big = tuple(h3.grid_disk(cell(-33.9, 18.4), 1))
    findings = [
        made("null_island", "high", 9.0, big[:1]),
        made("density_spike", "low", 1.0, big),
    ]
    groups = group_findings(findings)
    assert [len(g.cards) for g in groups] == [1, 1]
    assert all(c.also == () for g in groups for c in g.cards)


def test_a_fine_cell_inside_a_coarse_one_is_folded() -> None:
    coarse = cell(35.68, 139.76, 6)
    fine = h3.cell_to_children(coarse, 9)[5]
    elsewhere = cell(34.69, 135.50, 9)
    findings = [
        made("coordinate_pileup", "high", 3.0, (coarse,)),
        made("hour_profile", "low", 2.0, (fine,)),
        made("hour_profile", "low", 1.0, (fine, elsewhere)),
    ]
    groups = group_findings(findings)
    assert [f.score for f in groups[0].cards[0].also] == [2.0]
    assert [c.finding.score for c in groups[1].cards] == [1.0]
    assert groups[1].folded == 1
    assert groups[1].heading == "Hour profile: 1 finding, worst low (1 more told in another card)"


def test_folding_follows_what_the_filters_show() -> None:
    big = tuple(h3.grid_disk(cell(41.4, 2.17), 1))
    findings = [
        made("density_spike", "high", 5.0, big),
        made("hour_profile", "low", 3.0, big[:1]),
    ]
    assert len(group_findings(findings)) == 1
    shown = filter_findings(findings, kinds=["hour_profile"])
    groups = group_findings(shown)
    assert [g.kind for g in groups] == ["hour_profile"] and groups[0].cards[0].also == ()


def test_filter_findings_by_kind_and_severity_keeps_the_order() -> None:
    findings = [
        made("null_island", "high", 3.0, (cell(0.0, 0.0),)),
        made("hour_profile", "medium", 2.0, (cell(10.0, 10.0),)),
        made("hour_profile", "low", 1.0, (cell(11.0, 10.0),)),
    ]
    assert filter_findings(findings) == findings
    assert [f.score for f in filter_findings(findings, kinds=["hour_profile"])] == [2.0, 1.0]
    assert [f.score for f in filter_findings(findings, severities=["high", "low"])] == [3.0, 1.0]
    assert filter_findings(findings, kinds=["hour_profile"], severities=["high"]) == []
    assert filter_findings(findings, kinds=[]) == []


def test_place_label_names_a_known_place_within_reach() -> None:
    assert place_label([cell(48.86, 2.35)]) == "near Paris, the capital of France"
    # 15 km east of Paris is still near it; 100 km is not.
    assert place_label([cell(48.86, 2.55)]) == "near Paris, the capital of France"
    assert place_label([cell(48.86, 3.70)]) == "at 48.86° N, 3.70° E"
    assert place_label([cell(48.86, 2.55)], within_km=5) == "at 48.86° N, 2.55° E"
    assert NEAR_PLACE_KM == 30.0


def test_place_label_gives_signed_coordinates_and_the_centre_across_180() -> None:
    assert place_label([cell(-22.95, -43.70)]) == "at 22.95° S, 43.70° W"
    # Null island's cell centre rounds to zero, written without a minus sign.
    assert place_label([cell(0.0, 0.0, 8)]) == "at 0.00° N, 0.00° E"
    seam = place_label([cell(-16.5, 179.9), cell(-16.5, -179.9)])
    match = COORDINATES.match(seam or "")
    assert match and abs(float(match.group(3)) - 180.0) < 0.2, seam
    assert place_label([]) is None and place_label(["not-a-cell"]) is None


def test_null_island_repeats_fold_into_the_null_island_card() -> None:
    for seed in (1, 2):
        pings = generate_pings(30_000, biases=("null_island",), seed=seed).pings
        findings = analyze(pings.write_csv().encode()).findings
        island = next(f for f in findings if f.kind == "null_island")
        repeats = [f for f in findings if f is not island and set(f.cells) <= set(island.cells)]
        repeats = [f for f in repeats if f.cells]
        assert repeats, "the island's low hour profile repeats its cell"
        groups = group_findings(findings)
        card = next(c for g in groups for c in g.cards if c.finding.id == island.id)
        assert {f.id for f in card.also} == {f.id for f in repeats}
        assert card.place == "at 0.00° N, 0.00° E"
        assert sorted(every_id(groups)) == sorted(f.id for f in findings)


def test_period_label_says_when_in_utc_and_cards_carry_place_and_time() -> None:
    day = {"start": "2024-06-12T04:00:00Z", "end": "2024-06-12T16:00:00Z"}
    assert period_label(day) == "from 12 Jun 2024 04:00 to 16:00 UTC"
    days = {"start": "2024-06-12T04:00:00Z", "end": "2024-06-15T04:00:00Z"}
    assert period_label(days) == "from 12 Jun 2024 04:00 to 15 Jun 2024 04:00 UTC"
    assert period_label(None) is None
    gap = Finding("panel_gap", "high", 5.0, "No pings for 72 hours", "story", (), {}, days)
    placed = Finding("density_spike", "low", 1.0, "Dense", "story", (cell(48.86, 2.35),), {}, day)
    cards = [c for g in group_findings([gap, placed]) for c in g.cards]
    assert cards[0].place == "from 12 Jun 2024 04:00 to 15 Jun 2024 04:00 UTC"
    assert cards[1].place == (
        "near Paris, the capital of France, from 12 Jun 2024 04:00 to 16:00 UTC"
    )
