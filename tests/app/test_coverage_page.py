"""The Coverage page (AppTest): the bundled sample against its population layer, a
reference kept with an upload under its link (and invisible to other datasets), the
coarse default in the URL, a reference that cannot be read, and the store's side."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from app.state import ViewState
from app.store import DatasetStore
from explorer.synth.population import (
    district_residents,
    generator_homes,
    plant_under_sampled,
    to_geojson,
)
from tests.app.conftest import TIMEOUT, keyed_blocks, run_page, text_of, uploads_held

COVERAGE = "app.views.coverage:coverage_page"
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "samples" / "pings.csv"
DAY = 86_400


def coverage_app(**query: str) -> AppTest:
    at = AppTest.from_function(run_page, args=(COVERAGE,), default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def share_query(at: AppTest) -> dict[str, str]:
    text = text_of(keyed_blocks(at, "share")["share"])
    url = next(part for part in text.split() if part.startswith("http"))
    assert urlsplit(url).path == "/coverage", url
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def elements(block: object, kind: str) -> list:
    """Every element of ``kind`` (e.g. "dataframe") inside ``block``, depth-first."""
    found = []
    for child in getattr(block, "children", {}).values():
        if getattr(child, "type", None) == kind:
            found.append(child)
        found.extend(elements(child, kind))
    return found


def table_of(at: AppTest):
    return elements(keyed_blocks(at, "coverage-table")["coverage-table"], "dataframe")[0].value


@pytest.fixture
def bundled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real bundled sample, with its population layer beside it."""
    monkeypatch.setenv("PBE_SAMPLE_PATH", str(SAMPLE))


@pytest.fixture(scope="module")
def small_layer() -> bytes:
    """A population layer for the small AppTest sample (12,000 pings, seed 4)."""
    homes = generator_homes(12_000, city="new_york", seed=4)
    districts = plant_under_sampled(district_residents(homes, 1e6, draws=200_000), "inner-n", 4)
    return to_geojson(homes.city, districts).encode()


def test_the_sample_shows_its_layer_with_the_under_sampled_district_flagged(bundled) -> None:
    at = ok(coverage_app().run())
    reference = text_of(keyed_blocks(at, "coverage-reference")["coverage-reference"])
    assert "population.geojson" in reference and "Coarse" not in reference
    table = table_of(at)
    assert len(table) == 25
    first = table.iloc[0]
    assert first["id"] == "middle-se" and first["finding"] in ("MEDIUM", "HIGH")
    assert first["× overall"] < 0.4
    # Every other district is within a factor of about two of the overall rate.
    assert table["× overall"].iloc[1:].between(0.5, 2.2).all()
    flagged = text_of(keyed_blocks(at, "coverage-table")["coverage-table"])
    assert flagged.startswith("Regions flagged: Middle South-East (")
    findings = text_of(keyed_blocks(at, "coverage-findings")["coverage-findings"])
    assert "Middle South-East is under-sampled" in findings
    headline = text_of(keyed_blocks(at, "coverage-headline")["coverage-headline"])
    assert "25 regions" in headline and "per 1,000" in headline
    assert (
        len(elements(keyed_blocks(at, "coverage-map")["coverage-map"], "deck_gl_json_chart")) == 1
    )
    assert len(elements(at.main, "vega_lite_chart")) == 2
    assert not keyed_blocks(at, "no-reference")
    assert share_query(at) == {}


def test_the_sample_map_colours_regions_around_the_overall_rate(bundled) -> None:
    at = ok(coverage_app().run())
    chart = elements(at.main, "deck_gl_json_chart")[0]
    deck = json.loads(chart.proto.json)
    layers = {layer["id"]: layer for layer in deck["layers"]}
    regions = layers["coverage-regions"]["data"]["features"]
    assert len(regions) == 25
    planted = next(f for f in regions if f["properties"]["region_id"] == "middle-se")
    assert planted["properties"]["fill"][:3] == [239, 138, 98]  # 1/4 to 1/2 the overall rate
    outlined = layers["coverage-flagged"]["data"]["features"]
    assert "middle-se" in {f["properties"]["region_id"] for f in outlined}
    assert "{name}" in json.loads(chart.proto.tooltip)["text"]


def test_an_upload_without_reference_says_what_to_upload_and_offers_the_coarse_default(
    store: DatasetStore, small_sample: Path
) -> None:
    dataset_id = store.put(small_sample.read_bytes(), "mine.csv")
    at = ok(coverage_app(ds=dataset_id).run())
    note = text_of(keyed_blocks(at, "no-reference")["no-reference"])
    for word in ("GeoJSON", "GeoPackage", "zipped Shapefile", "GeoParquet", "H3 cells"):
        assert word in note
    assert "population" in note and "coarse default" in note
    assert not keyed_blocks(at, "coverage-table")
    ok(at.button(key="reference-coarse").click().run())
    assert at.query_params["ref"] in ("coarse", ["coarse"])
    assert share_query(at) == {"ds": dataset_id, "ref": "coarse"}
    reference = text_of(keyed_blocks(at, "coverage-reference")["coverage-reference"])
    assert reference.startswith("Coarse reference")
    names = set(table_of(at)["name"])
    assert "New York" in names or any("New York" in n for n in names)


def test_a_link_with_the_coarse_default_reopens_it(store: DatasetStore, small_sample: Path):
    dataset_id = store.put(small_sample.read_bytes(), "mine.csv")
    at = ok(coverage_app(ds=dataset_id, ref="coarse").run())
    assert "Coarse reference" in text_of(
        keyed_blocks(at, "coverage-reference")["coverage-reference"]
    )


def test_a_stored_reference_is_used_and_seen_through_the_link(
    store: DatasetStore, small_sample: Path, small_layer: bytes
) -> None:
    dataset_id = store.put(small_sample.read_bytes(), "mine.csv")
    assert store.put_reference(dataset_id, small_layer, "districts.geojson")
    # A colleague's session (it does not own the upload) opens the link.
    at = ok(coverage_app(ds=dataset_id).run())
    assert "districts.geojson" in text_of(
        keyed_blocks(at, "coverage-reference")["coverage-reference"]
    )
    assert len(table_of(at)) == 25
    assert "Only the session that uploaded" in text_of(at.main)
    # Another upload of the same bytes has no reference: it belongs to the dataset id.
    other = store.put(small_sample.read_bytes(), "mine.csv")
    at = ok(coverage_app(ds=other).run())
    assert keyed_blocks(at, "no-reference")


def test_the_owner_gets_the_uploader(store: DatasetStore, small_sample: Path) -> None:
    dataset_id = store.put(small_sample.read_bytes(), "mine.csv")
    at = coverage_app(ds=dataset_id)
    at.session_state["_pbe_owned"] = {dataset_id: True}
    ok(at.run())
    assert "Upload a reference population" in str(at.main)
    assert "Only the session that uploaded" not in text_of(at.main)


def test_an_uploaded_reference_is_kept_with_its_dataset_and_leaves_no_copy_in_the_session(
    store: DatasetStore, small_sample: Path, small_layer: bytes
) -> None:
    dataset_id = store.put(small_sample.read_bytes(), "mine.csv")
    at = coverage_app(ds=dataset_id)
    at.session_state["_pbe_owned"] = {dataset_id: True}
    ok(at.run())
    upload = ("districts.geojson", small_layer, "application/geo+json")
    ok(at.file_uploader(key="reference-upload").set_value(upload).run())
    assert store.reference_info(dataset_id) is not None
    assert uploads_held(at) == []


def test_a_reference_that_cannot_be_read_gives_one_sentence(
    store: DatasetStore, small_sample: Path
) -> None:
    dataset_id = store.put(small_sample.read_bytes(), "mine.csv")
    store.put_reference(dataset_id, b'{"type": "FeatureCollection", "features": [', "bad.geojson")
    at = ok(coverage_app(ds=dataset_id).run())
    message = text_of(keyed_blocks(at, "reference-error")["reference-error"])
    assert message.count(". ") <= 1 and "Traceback" not in message
    assert not keyed_blocks(at, "coverage-table")


def test_the_view_keeps_only_known_references() -> None:
    assert ViewState.from_query({"ref": "coarse"}).ref == "coarse"
    assert ViewState.from_query({"ref": "../etc"}).ref is None
    assert ViewState(ref="coarse").to_query() == {"ref": "coarse"}


def test_the_store_keeps_a_reference_with_its_dataset_only(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path, retention=1)
    mine = store.put(b"pings", "a.csv")
    theirs = store.put(b"pings", "b.csv")
    assert store.reference_info(mine) is None
    assert store.put_reference(mine, b"layer", "../../pop.geojson")
    found = store.get_reference(mine)
    assert found is not None and found.data == b"layer" and found.name == "pop.geojson"
    assert store.get_reference(theirs) is None
    assert not store.put_reference("A" * 22, b"x", "x.geojson")
    assert not store.put_reference("../etc", b"x", "x.geojson")
    # Replacing it keeps one file; deleting the dataset deletes its reference.
    assert store.put_reference(mine, b"layer 2", "pop2.geojson")
    assert store.get_reference(mine).data == b"layer 2"
    assert store.delete_reference(mine) and store.get_reference(mine) is None
    store.put_reference(mine, b"layer", "pop.geojson")
    store.delete(mine)
    assert not list(tmp_path.glob(f"{mine}.*"))
    # An expired dataset takes its reference with it.
    store.put_reference(theirs, b"layer", "pop.geojson")
    assert store.purge_expired(now=time.time() + 3 * DAY) >= 1
    assert not list(tmp_path.glob(f"{theirs}.*"))
