"""The Compare page (AppTest): choosing the earlier dataset, the changes as cards, the
diff map and the daily chart, the share link that reopens the comparison, a bad
``before`` in a link, and the quiet state of a file compared with itself."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from app.store import DatasetStore
from explorer.synth.pings import generate_pings
from tests.app.conftest import TIMEOUT, keyed_blocks, run_page, text_of, uploads_held
from tests.compare.planting import busy_area, drop_area_devices

COMPARE = "app.views.compare:compare_page"
#: Resolution of the areas at which the district is dropped (the comparison's areas are
#: at this resolution or coarser).
AREA_RES = 6


def compare_app(**query: str) -> AppTest:
    at = AppTest.from_function(run_page, args=(COMPARE,), default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at


def csv_of(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.with_columns(pl.col("timestamp").dt.epoch("ms")).write_csv(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def deliveries() -> tuple[bytes, bytes]:
    """(before, after): a week of a clean panel, and the same with most devices of a busy
    district gone (a supplier dropped there)."""
    pings = generate_pings(40_000, seed=11, days=7).pings
    area = busy_area(pings, AREA_RES, rank=3)
    return csv_of(pings), csv_of(drop_area_devices(pings, area, AREA_RES, 0.9))


def share_query(at: AppTest) -> dict[str, str]:
    text = text_of(keyed_blocks(at, "share")["share"])
    url = next(part for part in text.split() if part.startswith("http"))
    assert urlsplit(url).path == "/compare", url
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def change_keys(at: AppTest) -> list[str]:
    """The change cards drawn (``change-<id>`` containers), sorted."""
    return sorted(k for k in keyed_blocks(at, "change-") if not k.startswith("change-group-"))


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_without_before_the_page_asks_for_one() -> None:
    at = ok(compare_app().run())
    assert "compare-empty" in keyed_blocks(at, "compare-")
    assert at.selectbox(key="compare-before").value == ""
    assert "before" not in share_query(at)


def test_a_dropped_district_shows_as_a_card_a_lost_area_and_two_series(
    store: DatasetStore, deliveries
) -> None:
    before = store.put(deliveries[0], "week1.csv")
    after = store.put(deliveries[1], "week2.csv")
    at = ok(compare_app(ds=after, before=before).run())
    blocks = keyed_blocks(at, "change")
    assert "change-group-area_share_changed" in blocks, list(blocks)
    cards = [text_of(blocks[k]) for k in change_keys(at)]
    fell = [c for c in cards if "share of devices fell" in c]
    assert fell and any(s in fell[0] for s in ("MEDIUM", "HIGH")), cards
    assert "compare-null" not in keyed_blocks(at, "compare-")
    story = text_of(keyed_blocks(at, "compare-story")["compare-story"])
    assert "week1.csv" in story and "week2.csv" in story
    # The diff map: one deck whose areas include a red (lost) one, and its legend.
    decks = at.get("deck_gl_json_chart")
    assert len(decks) == 1
    spec = decks[0].proto.json
    assert '"color":[178,24,43]' in spec.replace(" ", "")
    assert '"id":"changed"' in spec.replace(" ", "")  # the changed area outlined
    legend = text_of(keyed_blocks(at, "map-legend")["map-legend"])
    assert "lost" in legend and "about no change" in legend
    # Devices per day of both sides on one chart.
    daily = [c.proto.spec for c in at.get("vega_lite_chart") if "before and after" in c.proto.spec]
    assert len(daily) == 1
    assert share_query(at) == {"ds": after, "before": before}


def test_the_share_link_reopens_the_same_comparison(store: DatasetStore, deliveries) -> None:
    before = store.put(deliveries[0], "week1.csv")
    after = store.put(deliveries[1], "week2.csv")
    first = ok(compare_app(ds=after, before=before).run())
    again = ok(compare_app(**share_query(first)).run())
    assert change_keys(again) == change_keys(first) and change_keys(first)
    assert again.selectbox(key="compare-before").value == before


def test_choosing_the_sample_as_before_puts_it_in_the_link(store: DatasetStore, deliveries) -> None:
    after = store.put(deliveries[1], "week2.csv")
    at = ok(compare_app(ds=after).run())
    at.selectbox(key="compare-before").set_value("sample").run()
    ok(at)
    assert share_query(at)["before"] == "sample"
    assert "compare-story" in keyed_blocks(at, "compare-")


def test_a_pasted_share_link_names_its_dataset(store: DatasetStore, deliveries) -> None:
    before = store.put(deliveries[0], "week1.csv")
    after = store.put(deliveries[1], "week2.csv")
    at = ok(compare_app(ds=after).run())
    at.text_input(key="compare-link").input(f"http://x:8501/map?ds={before}&res=8").run()
    ok(at)
    assert share_query(at)["before"] == before
    assert at.selectbox(key="compare-before").value == before


@pytest.mark.parametrize("bad", ["nope", "A" * 22, "../../etc/passwd"])
def test_a_bad_before_in_a_link_gives_one_note(bad: str) -> None:
    at = ok(compare_app(before=bad).run())
    notes = [text_of(b) for k, b in keyed_blocks(at, "compare-note").items()]
    assert len(notes) == 1 and "not valid or has expired" in notes[0]
    assert not at.error
    assert "before" not in share_query(at)
    assert "compare-empty" in keyed_blocks(at, "compare-")


def test_a_file_compared_with_itself_says_nothing_changed_that_matters(
    store: DatasetStore, deliveries
) -> None:
    same = store.put(deliveries[0], "week1.csv")
    at = ok(compare_app(ds=same, before=same).run())
    null = keyed_blocks(at, "compare-null")
    assert "compare-null" in null
    assert "Nothing changed that matters" in text_of(null["compare-null"])
    summary = text_of(keyed_blocks(at, "compare-summary")["compare-summary"])
    assert "high" not in summary and "medium" not in summary
    assert len(at.get("deck_gl_json_chart")) == 1


def test_the_page_is_in_the_navigation() -> None:
    from app.streamlit_app import PAGES
    from app.views.compare import compare_page

    assert (compare_page, "Compare", "compare") in PAGES


def test_an_earlier_upload_is_stored_and_leaves_no_copy_in_the_session(
    store: DatasetStore, deliveries
) -> None:
    before, after = deliveries
    later = store.put(after, "after.csv")
    at = ok(compare_app(ds=later).run())
    at.file_uploader(key="compare-upload").set_value(("before.csv", before, "text/csv"))
    ok(at.run())
    assert store.get(at.query_params["before"]).data == before
    assert uploads_held(at) == []
