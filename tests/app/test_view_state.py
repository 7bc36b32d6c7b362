"""The view is the one truth: the basemap travels in it, the session keeps only what a
link can carry, and a finding it names that the analysis no longer has (e.g. after a
resolution change) leaves it with a one-line note."""

from __future__ import annotations

import pytest

from app.pipeline import STALE_FINDING_ELSEWHERE
from app.state import ViewState
from tests.app.conftest import finding_ids, keyed_blocks, text_of

NOTE = "flash-info"


@pytest.mark.parametrize(("query", "basemap"), [("on", True), ("off", False), ("yes", None)])
def test_the_basemap_travels_in_the_link(query: str, basemap: bool | None) -> None:
    view = ViewState.from_query({"basemap": query})
    assert view.basemap is basemap
    assert ViewState.from_query(view.to_query()) == view
    assert ViewState().to_query() == {}


def test_the_basemap_toggle_shows_the_view_on_every_page(page_app) -> None:
    for name in ("findings", "time", "data"):
        at = page_app(name, basemap="on").run()
        assert not at.exception
        assert at.toggle(key="basemap").value is True, name
    at = page_app("time").run()
    assert at.toggle(key="basemap").value is False  # the tests' server default is off
    at.toggle(key="basemap").set_value(True).run()
    assert at.query_params["basemap"] == "on"
    assert at.toggle(key="basemap").value is True


def test_an_empty_hour_range_is_not_kept_in_the_url(page_app) -> None:
    at = page_app("time").run()
    at.slider(key="f_hours").set_range(5, 5).run()
    assert not at.exception
    # The URL said 5-5 while the analysis and the slider used 0-24: now all say 0-24.
    assert "h0" not in at.query_params and "h1" not in at.query_params
    assert at.slider(key="f_hours").value == (0, 24)


def _note(at) -> str | None:
    block = keyed_blocks(at, NOTE).get(NOTE)
    return None if block is None else text_of(block)


@pytest.fixture
def moved_finding(page_app) -> tuple[str, int, int]:
    """A finding id at the suggested resolution that a coarser one does not have."""
    at = page_app("findings").run()
    suggested = at.select_slider(key="f_res").value
    here = finding_ids(at)
    coarser = suggested - 1
    there = set(finding_ids(page_app("findings", res=str(coarser)).run()))
    gone = [f for f in here if f not in there]
    assert gone, "a finding with cells changes id with the resolution"
    return gone[0], suggested, coarser


@pytest.mark.parametrize("name", ["findings", "map", "time", "devices", "data"])
def test_a_link_to_a_finding_missing_at_its_resolution_says_so(
    page_app, moved_finding, name: str
) -> None:
    finding, suggested, coarser = moved_finding
    at = page_app(name, finding=finding, res=str(coarser)).run()
    assert not at.exception
    assert _note(at) == STALE_FINDING_ELSEWHERE.format(res=coarser, other=suggested)
    assert "finding" not in at.query_params
    assert at.query_params["res"] == str(coarser)
    share = text_of(keyed_blocks(at, "share")["share"])
    assert "finding=" not in share and f"res={coarser}" in share


def test_a_finding_that_exists_stays_selected_without_a_note(page_app, moved_finding) -> None:
    finding, suggested, _ = moved_finding
    at = page_app("findings", finding=finding).run()
    assert _note(at) is None
    assert at.query_params["finding"] == finding
    assert at.button(key=f"select-{finding}").proto.type == "primary"


def test_changing_the_resolution_drops_the_selected_finding_with_a_note(
    page_app, moved_finding
) -> None:
    finding, suggested, coarser = moved_finding
    at = page_app("findings").run()
    at.button(key=f"select-{finding}").click().run()
    assert at.query_params["finding"] == finding
    at.select_slider(key="f_res").set_value(coarser).run()
    assert not at.exception
    assert _note(at) == STALE_FINDING_ELSEWHERE.format(res=coarser, other=suggested)
    assert "finding" not in at.query_params
    assert at.select_slider(key="f_res").value == coarser
    # Said once: the next run has nothing to say.
    at.run()
    assert _note(at) is None
