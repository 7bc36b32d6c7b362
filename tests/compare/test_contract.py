"""The comparison's JSON contract, story and renderings."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from explorer.compare import (
    ChangeKind,
    compare_analyses,
    comparison_dict,
    render_comparison,
    validate_comparison,
)
from explorer.compare.contract import comparison_schema
from tests.compare.conftest import AREA_RESOLUTION
from tests.compare.planting import busy_area, drop_area_devices, switch_area_type


@pytest.fixture(scope="module")
def planted(weeks, analysed, before_week):
    """A comparison with an area dropped and another area's devices switched to iOS."""
    week = weeks("london", 3)[1]
    dropped = busy_area(week, AREA_RESOLUTION, 3)
    switched = busy_area(week, AREA_RESOLUTION, 6)
    after = drop_area_devices(week, dropped, AREA_RESOLUTION, 1.0)
    after = switch_area_type(after, switched, AREA_RESOLUTION, 1.0)
    return compare_analyses(before_week("london", 3), analysed(after))


def test_the_json_is_valid_and_shaped_like_findings(planted):
    data = comparison_dict(planted)
    validate_comparison(data)
    assert {"area_share_changed", "area_mix_changed"} <= {c["kind"] for c in data["changes"]}
    for change in data["changes"]:
        assert set(change) == {
            "id", "kind", "severity", "score", "title", "story", "cells", "period", "regions",
            "evidence",
        }  # fmt: skip
    assert data["before"]["daily"] and data["after"]["daily"]
    assert sum(a["before_devices"] for a in data["areas"]) == data["before"]["devices"]
    # The text is exactly one JSON document, NaN written as null.
    assert json.loads(render_comparison(planted, "json")) == json.loads(json.dumps(data))


def test_the_schema_names_every_change_kind_and_rejects_strangers(planted):
    schema = comparison_schema()
    assert schema["$defs"]["change"]["properties"]["kind"]["enum"] == [k.value for k in ChangeKind]
    data = comparison_dict(planted)
    data["changes"][0]["kind"] = "something_else"
    with pytest.raises(jsonschema.ValidationError):
        validate_comparison(data)
    data = comparison_dict(planted)
    del data["changes"][0]["evidence"][next(iter(data["changes"][0]["evidence"]))]
    with pytest.raises(jsonschema.ValidationError):
        validate_comparison(data)


def test_the_story_says_what_was_compared_what_changed_and_what_stayed(planted):
    story = comparison_dict(planted)["story"]
    sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", story) if s]
    assert 3 <= len(sentences) <= 5, sentences
    assert story.startswith("Compared ") and "What changed that matters" in story
    assert "Stayed the same" in story and "pings per device" in story


def test_markdown_and_html_tell_every_change_and_escape_the_data(planted):
    data_source = "<script>alert(1)</script>|*x*"
    object.__setattr__(planted.after, "source", data_source)
    markdown = render_comparison(planted, "markdown")
    html = render_comparison(planted, "html")
    for change in planted.changes:
        assert change.id in markdown and change.id in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>" not in markdown and "\\<script\\>" in markdown
    assert "http" not in html.replace("&#47;", "")
    assert html.count("<svg") >= 3  # daily series, maps and the before/after mixes


def test_the_story_counts_serious_changes_in_plain_words():
    from explorer.compare.story import _serious

    def change(severity: str, title: str) -> dict:
        return {"severity": severity, "title": title, "kind": "panel_changed", "evidence": {}}

    two = _serious([change("high", "A rose."), change("medium", "B fell."), change("low", "C")])
    assert two == "What changed that matters (1 high and 1 medium changes): A rose; B fell."
    one = _serious([change("medium", "B fell.")])
    assert one == "What changed that matters (1 medium change): B fell."
    quiet = _serious([change("low", "C")])
    assert quiet.startswith("Nothing changed that matters") and "1 low change is listed" in quiet
