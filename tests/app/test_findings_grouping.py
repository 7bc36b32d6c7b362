"""The Findings page: the story on top, findings grouped by kind, filters, folding, the
selection and its clearing (AppTest)."""

from __future__ import annotations

import json
import re

import pytest

from app.store import DatasetStore
from explorer.analysis import analyze
from explorer.interactive.grouping import group_findings
from explorer.reports.story import data_story
from tests.app.conftest import finding_ids, keyed_blocks, text_of
from tests.conftest import REAL_DATA

GOWALLA = REAL_DATA / "gowalla_nyc_checkins.csv"


def expanders(at) -> dict[str, object]:
    """The group expanders, by the kind of the group container they hold (other
    expanders, such as the reading's status, hold none)."""
    found = {}
    for expander in at.main.expander:
        groups = keyed_blocks_in(expander, "group-")
        assert len(groups) <= 1, expander.label
        if groups:
            found[next(iter(groups)).removeprefix("group-")] = expander
    return found


def keyed_blocks_in(block: object, prefix: str) -> dict[str, object]:
    found = {}

    def walk(node: object) -> None:
        for child in getattr(node, "children", {}).values():
            key = getattr(child, "key", None)
            if isinstance(key, str) and key.startswith(prefix):
                found[key] = child
            walk(child)

    walk(block)
    return found


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def block_order(at) -> list[str]:
    """Keys of the main area's keyed containers, depth-first (the page's reading order)."""
    return list(keyed_blocks_in(at.main, ""))


@pytest.fixture(scope="module")
def gowalla_bytes() -> bytes:
    return GOWALLA.read_bytes()


@pytest.fixture
def gowalla(store: DatasetStore, page_app, gowalla_bytes: bytes):
    """The check-ins uploaded (their columns are found by name) and the page opened."""
    dataset_id = store.put(gowalla_bytes, "gowalla_nyc_checkins.csv")
    at = page_app("findings", ds=dataset_id).run()
    assert not at.exception
    return at, analyze(gowalla_bytes, name="gowalla_nyc_checkins.csv")


def test_check_ins_are_listed_in_a_few_groups_with_counts(gowalla) -> None:
    at, analysis = gowalla
    groups = group_findings(analysis.findings)
    assert len(analysis.findings) >= 15 and len(groups) <= 7
    shown = expanders(at)
    assert list(shown) == [g.kind for g in groups]
    for group in groups:
        expander = shown[group.kind]
        assert expander.label == group.heading
        cards = keyed_blocks_in(expander, "finding-")
        assert set(cards) == {f"finding-{i}" for i in group.finding_ids}
    # Every finding is on the page once, whether as a card or folded into one.
    assert sorted(finding_ids(at)) == sorted(f.id for f in analysis.findings)
    # The medium venue finding opens; the ten low density spikes wait behind their heading.
    assert shown["venue_snapped"].proto.expanded
    assert not shown["density_spike"].proto.expanded
    assert "Density spike: 10 findings, worst low" in shown["density_spike"].label


def test_a_repeat_is_told_inside_the_card_it_repeats(page_app, small_sample) -> None:
    """The small sample's low hour profile on null island's cell sits in the island's card."""
    analysis = analyze(small_sample)
    hosts = [c for g in group_findings(analysis.findings) for c in g.cards if c.also]
    assert [c.finding.kind for c in hosts] == ["null_island"]
    at = page_app("findings").run()
    for host in hosts:
        card = keyed_blocks(at, f"finding-{host.finding.id}")[f"finding-{host.finding.id}"]
        inner = keyed_blocks_in(card, "finding-")
        assert set(inner) == {f"finding-{f.id}" for f in host.also}
        for folded in host.also:
            assert f"Also ({folded.severity}): {folded.title}" in text_of(card)
            assert at.button(key=f"select-{folded.id}").label == "Show on map"
    assert "hour_profile" not in expanders(at)


def test_area_cards_name_their_place_and_whole_data_cards_have_no_map_button(gowalla) -> None:
    at, analysis = gowalla
    for card in (c for g in group_findings(analysis.findings) for c in g.cards):
        finding = card.finding
        block = keyed_blocks(at, f"finding-{finding.id}")[f"finding-{finding.id}"]
        label = at.button(key=f"select-{finding.id}").label
        if finding.cells:
            assert label == "Show on map"
            assert card.place and card.place.startswith("at 40.")
            assert [unescape(c.value) for c in block.caption] == [card.place]
        else:
            assert label == "Show evidence"
            # A whole-data card says when, if it is about a span of time, never where.
            assert [unescape(c.value) for c in block.caption] == (
                [card.place] if finding.period else []
            )
            assert (card.place or "").startswith("from ") == bool(finding.period)
    whole_data = {f.kind for f in analysis.findings if not f.cells}
    # Venue snapping, duplicates, the feed's thinning at its end and one-day users.
    assert whole_data == {"venue_snapped", "duplicate_pings", "panel_gap", "transient_devices"}


def test_filters_by_kind_and_severity_go_to_the_url(gowalla) -> None:
    at, analysis = gowalla
    at.multiselect(key="f_kinds").set_value(["hour_profile"]).run()
    assert not at.exception
    assert at.query_params["kinds"] == "hour_profile"
    assert list(expanders(at)) == ["hour_profile"]
    hours = [f.id for f in analysis.findings if f.kind == "hour_profile"]
    # With the other kinds hidden, no hour profile can be folded into one of them.
    assert sorted(finding_ids(at)) == sorted(hours)
    at.multiselect(key="f_kinds").set_value([]).run()
    at.multiselect(key="f_severities").set_value(["medium"]).run()
    assert at.query_params["severities"] == "medium" and "kinds" not in at.query_params
    assert finding_ids(at) == [f.id for f in analysis.findings if f.severity == "medium"]


def test_a_link_with_filters_sets_them(store: DatasetStore, page_app, gowalla_bytes) -> None:
    dataset_id = store.put(gowalla_bytes, "gowalla_nyc_checkins.csv")
    at = page_app("findings", ds=dataset_id, kinds="density_spike,nonsense", severities="low")
    at.run()
    assert not at.exception
    assert at.multiselect(key="f_kinds").value == ["density_spike"]
    assert at.multiselect(key="f_severities").value == ["low"]
    assert list(expanders(at)) == ["density_spike"]


def test_the_story_comes_first_and_is_the_packages_own(page_app, small_sample) -> None:
    at = page_app("findings").run()
    assert not at.exception
    order = block_order(at)
    assert order[0] == "story"
    assert order.index("story") < order.index("upload") < order.index("findings-summary")
    expected = data_story(analyze(small_sample))
    assert text_of(keyed_blocks(at, "story")["story"]) == expected


def test_the_story_is_shown_as_text(page_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "app.views.findings.data_story", lambda analysis: "A *bold* [link](http://x.test) story."
    )
    at = page_app("findings").run()
    story = keyed_blocks(at, "story")["story"]
    assert "\\*bold\\*" in story.markdown[0].value
    assert text_of(story) == "A *bold* [link](http:\u2060//x.test) story."


def test_clear_selection_unselects_the_finding_and_the_cell(page_app) -> None:
    at = page_app("findings").run()
    assert "selection" not in keyed_blocks(at, "selection")
    chosen = next(i for i in finding_ids(at) if at.button(key=f"select-{i}").label == "Show on map")
    at.button(key=f"select-{chosen}").click().run()
    assert at.query_params["finding"] == chosen
    bar = keyed_blocks(at, "selection")["selection"]
    assert "Selected:" in text_of(bar)
    at.button(key="clear-selection").click().run()
    assert not at.exception
    assert "finding" not in at.query_params
    assert not keyed_blocks(at, "selection")
    assert at.button(key=f"select-{chosen}").proto.type == "secondary"


def test_a_linked_cell_can_be_cleared(page_app) -> None:
    at = page_app("findings").run()
    first = next(i for i in finding_ids(at) if at.button(key=f"select-{i}").label == "Show on map")
    cell = analyze_cells(at, first)
    at = page_app("findings", cell=cell).run()
    assert "Cell " + cell in text_of(keyed_blocks(at, "selection")["selection"])
    at.button(key="clear-selection").click().run()
    assert "cell" not in at.query_params and not keyed_blocks(at, "selection")


def analyze_cells(at, finding_id: str) -> str:
    """A cell of a drawn finding, from the selected layer the map is given."""
    at.button(key=f"select-{finding_id}").click().run()
    spec = at.get("deck_gl_json_chart")[0].proto.json
    layers = {layer["id"]: layer for layer in json.loads(spec)["layers"]}
    return layers["selected"]["data"][0]["hex"]


def test_selecting_a_finding_in_a_closed_group_opens_it(gowalla, page_app) -> None:
    at, analysis = gowalla
    spikes = next(g for g in group_findings(analysis.findings) if g.kind == "density_spike")
    assert not expanders(at)["density_spike"].proto.expanded
    chosen = spikes.cards[-1].finding.id
    at = page_app("findings", ds=at.query_params["ds"], finding=chosen).run()
    assert expanders(at)["density_spike"].proto.expanded
    assert not expanders(at)["hour_profile"].proto.expanded
    assert at.button(key=f"select-{chosen}").proto.type == "primary"
