"""Every page runs on the bundled sample; the entry point opens on its findings."""

from __future__ import annotations

import re

import pytest

from tests.app.conftest import PAGES, SAMPLE, finding_ids, keyed_blocks, text_of


@pytest.fixture
def real_sample(monkeypatch: pytest.MonkeyPatch):
    """Use the bundled sample itself (data/samples/pings.csv)."""
    assert SAMPLE.is_file(), "the bundled sample data/samples/pings.csv is missing"
    monkeypatch.setenv("PBE_SAMPLE_PATH", str(SAMPLE))


def test_every_page_runs_on_the_bundled_sample(real_sample, page_app) -> None:
    for name in PAGES:
        at = page_app(name).run()
        assert not at.exception, (name, [e.value for e in at.exception])
        assert not at.error, (name, [e.value for e in at.error])
        header = keyed_blocks(at, "dataset-name")["dataset-name"]
        assert "Dataset:" in text_of(header) and "pings" in text_of(header)


def test_entry_point_opens_on_sample_findings_without_a_click(full_app) -> None:
    at = full_app().run()
    assert not at.exception
    summary = text_of(keyed_blocks(at, "findings-summary")["findings-summary"])
    assert re.search(r"\d+ (high|medium|low).* findings? in [\d,]+ pings", summary), summary
    ids = finding_ids(at)
    assert ids, "no finding drawn"
    card = text_of(keyed_blocks(at, f"finding-{ids[0]}")[f"finding-{ids[0]}"])
    assert re.search(r"badge\[(HIGH|MEDIUM|LOW)\]", card), card
    assert [b.label for b in at.button if b.key == f"select-{ids[0]}"] == ["Show on map"]
    assert "ds" not in at.query_params
    assert at.get("deck_gl_json_chart"), "the map is missing"


def test_page_with_a_finding_and_a_cell_selected_runs(page_app) -> None:
    first = page_app("findings").run()
    chosen = finding_ids(first)[0]
    for name in ("map", "time", "devices", "data"):
        at = page_app(name, finding=chosen).run()
        assert not at.exception, (name, [e.value for e in at.exception])
    # A cell selected from the URL (one the small sample holds) gets a profile on the map page.
    at = page_app("map", cell="8f2a1072b59a4e3").run()  # valid id, no pings there
    assert not at.exception


def test_clicked_cell_shows_its_hour_profile_and_type_mix(page_app, small_sample) -> None:
    from explorer.analysis import analyze

    busiest = analyze(small_sample).profile()["top_cells"][0]
    at = page_app("map", cell=busiest["cell"]).run()
    assert not at.exception
    assert at.subheader[0].value == f"Cell {busiest['cell']}"
    expected = f"{busiest['pings']:,} pings from {busiest['devices']:,} devices"
    assert any(expected in m.value for m in at.main.markdown)
    assert len(at.get("vega_lite_chart")) == 2  # hour profile and type mix


def test_time_and_device_pages_compare_the_selected_finding(page_app, small_sample) -> None:
    from explorer.analysis import analyze

    chosen = next(f.id for f in analyze(small_sample).findings if f.cells)
    for name in ("time", "devices"):
        at = page_app(name, finding=chosen).run()
        assert not at.exception
        assert any("selected area" in str(c.proto) for c in at.get("vega_lite_chart")), name
