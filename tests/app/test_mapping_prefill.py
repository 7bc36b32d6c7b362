"""The mapping form opens with the reader's best guesses; the Data page says how each
column was chosen (AppTest)."""

from __future__ import annotations

from explorer.analysis import analyze
from tests.app.conftest import finding_ids, keyed_blocks
from tests.ping_shapes import make_csv

#: Coordinates around Cairo: within ±90° and on land whichever is the latitude, with
#: spreads too alike to tell them apart, so the reader is unsure and asks.
UNSURE = [("a", "lat"), ("b", "lon"), ("c", "epoch_ms"), ("d", "device"), ("e", "os")]


def _upload(page_app, name: str, data: bytes):
    at = page_app("findings").run()
    at.file_uploader(key="upload").set_value((name, data, "text/csv")).run()
    assert not at.exception
    return at


def test_an_unsure_upload_opens_the_form_with_the_best_guesses(store, page_app) -> None:
    data = make_csv("cairo", UNSURE)
    at = _upload(page_app, "cairo.csv", data)
    assert at.warning and "Not sure" in at.warning[0].value
    assert not finding_ids(at)
    chosen = {role: at.selectbox(key=f"map_{role}").value for role in ("lat", "lon", "timestamp")}
    assert chosen == {"lat": "a", "lon": "b", "timestamp": "c"}
    assert at.selectbox(key="map_device_id").value == "d"
    assert at.selectbox(key="map_device_type").value == "e"
    assert at.selectbox(key="map_date").value == "—"

    at.button[0].click()  # accept the guesses as they are
    at.run()
    assert not at.exception
    mapping = {"lat": "a", "lon": "b", "timestamp": "c", "device_id": "d", "device_type": "e"}
    assert finding_ids(at) == [f.id for f in analyze(data, columns=mapping).findings]


def test_a_guess_can_be_changed_before_reading(store, page_app) -> None:
    data = make_csv("cairo", UNSURE)
    at = _upload(page_app, "cairo.csv", data)
    at.selectbox(key="map_lat").set_value("b")
    at.selectbox(key="map_lon").set_value("a")
    at.button[0].click()
    at.run()
    assert not at.exception
    mapping = {"lat": "b", "lon": "a", "timestamp": "c", "device_id": "d", "device_type": "e"}
    assert finding_ids(at) == [f.id for f in analyze(data, columns=mapping).findings]


def test_a_sure_upload_is_read_and_the_data_page_says_why(store, page_app) -> None:
    data = make_csv("sao_paulo", [("a", "lon"), ("b", "lat"), ("c", "epoch_ms"), ("d", "device")])
    at = _upload(page_app, "unnamed.csv", data)
    assert finding_ids(at) == [f.id for f in analyze(data).findings]
    assert not [w for w in at.warning if "Not sure" in w.value]

    data_page = page_app("data", ds=at.query_params["ds"]).run()
    assert not data_page.exception
    table = next(d for d in data_page.dataframe if "how" in d.value.columns).value
    assert table[["role", "column", "how"]].values.tolist() == [
        ["lat", "b", "content"],
        ["lon", "a", "content"],
        ["timestamp", "c", "content"],
        ["device_id", "d", "content"],
    ]
    assert table["why"].str.len().min() > 10
    assert "dataset-name" in keyed_blocks(data_page, "dataset-name")
