"""Uploads, links to datasets, the mapping form and unusable files (AppTest)."""

from __future__ import annotations

import polars as pl

from app import pipeline
from app.store import DatasetStore
from explorer.analysis import analyze
from tests.app.conftest import PAGES, csv_bytes, finding_ids, keyed_blocks, text_of, uploads_held


def test_stored_upload_via_link_shows_its_own_findings(store: DatasetStore, page_app) -> None:
    data = csv_bytes(15_000, ("coordinate_pileup",), seed=21)
    dataset_id = store.put(data, "pileup.csv")
    at = page_app("findings", ds=dataset_id).run()
    assert not at.exception
    assert "pileup.csv" in text_of(keyed_blocks(at, "dataset-name")["dataset-name"])
    expected = [f.id for f in analyze(data, name="pileup.csv").findings]
    assert finding_ids(at) == expected
    assert at.query_params["ds"] == dataset_id


def test_upload_widget_stores_the_file_and_links_to_it(store: DatasetStore, page_app) -> None:
    data = csv_bytes(10_000, ("null_island",), seed=22)
    at = page_app("findings").run()
    sample_ids = finding_ids(at)
    at.file_uploader(key="upload").set_value(("island.csv", data, "text/csv")).run()
    assert not at.exception
    dataset_id = at.query_params["ds"]
    stored = store.get(dataset_id)
    assert stored is not None and stored.data == data and stored.name == "island.csv"
    assert "island.csv" in text_of(keyed_blocks(at, "dataset-name")["dataset-name"])
    ids = finding_ids(at)
    assert ids == [f.id for f in analyze(data).findings]
    assert ids != sample_ids


def test_unknown_column_names_get_a_mapping_form_that_works(store: DatasetStore, page_app) -> None:
    frame = pl.read_csv(csv_bytes(8_000, ("null_island",), seed=23))
    odd = frame.rename(
        {"lat": "north_south", "lon": "east_west", "timestamp": "moment", "device_id": "who"}
    ).with_columns(logged=pl.col("moment") + 1_000)  # two columns of instants: unsure
    data = odd.write_csv().encode()
    at = page_app("findings").run()
    at.file_uploader(key="upload").set_value(("odd.csv", data, "text/csv")).run()
    assert not at.exception
    assert at.warning, "the mapping problem is explained"
    assert not finding_ids(at)
    preview = at.dataframe[0].value
    assert list(preview.columns) == odd.columns
    at.selectbox(key="map_lat").set_value("north_south")
    at.selectbox(key="map_lon").set_value("east_west")
    at.selectbox(key="map_timestamp").set_value("moment")
    at.selectbox(key="map_device_id").set_value("who")
    at.selectbox(key="map_device_type").set_value("device_type")
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception
    expected = analyze(
        data,
        columns={
            "lat": "north_south",
            "lon": "east_west",
            "timestamp": "moment",
            "device_id": "who",
            "device_type": "device_type",
        },
    )
    assert finding_ids(at) == [f.id for f in expected.findings]
    # The mapping is kept with the dataset: a fresh session opening the link reads it too.
    fresh = page_app("findings", ds=at.query_params["ds"]).run()
    assert finding_ids(fresh) == finding_ids(at)


def test_unusable_upload_gives_one_message_and_the_sample(store: DatasetStore, page_app) -> None:
    at = page_app("findings").run()
    sample_ids = finding_ids(at)
    at.file_uploader(key="upload").set_value(("empty.csv", b"", "text/csv")).run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value and not at.error[0].value.startswith("This dataset link")
    assert finding_ids(at) == sample_ids
    assert "ds" not in at.query_params
    assert list(store.root.glob("*.data")) == []  # the unusable upload was not kept


def test_bad_dataset_links_say_so_and_show_the_sample(store: DatasetStore, page_app) -> None:
    other = store.put(csv_bytes(5_000, (), seed=24), "someone-else.csv")
    sample_ids = finding_ids(page_app("findings").run())
    expired = DatasetStore(store.root, retention=1e-9)
    expired_id = expired.put(b"lat,lon,timestamp\n1,2,3\n", "old.csv", now=0.0)
    for bad in ("../../etc/passwd", "A" * 22, other[:-1] + "!", expired_id, "x" * 500):
        at = page_app("findings", ds=bad).run()
        assert not at.exception
        assert [e.value for e in at.error][0].startswith("This dataset link"), bad
        assert finding_ids(at) == sample_ids, bad
        assert "someone-else.csv" not in text_of(keyed_blocks(at, "dataset-name")["dataset-name"])


def test_owner_can_delete_its_upload_and_others_cannot(store: DatasetStore, page_app) -> None:
    data = csv_bytes(6_000, ("null_island",), seed=25)
    owner = page_app("findings").run()
    owner.file_uploader(key="upload").set_value(("mine.csv", data, "text/csv")).run()
    dataset_id = owner.query_params["ds"]
    stranger = page_app("data", ds=dataset_id).run()
    assert not stranger.exception
    assert not [b for b in stranger.button if b.key == "delete-upload"]
    owner.session_state["test_page"] = PAGES["data"]
    owner.run()
    assert not owner.exception
    owner.button(key="delete-upload").click().run()
    assert not owner.exception
    assert store.get(dataset_id) is None
    assert "ds" not in owner.query_params
    assert any("deleted" in e.value for e in owner.error)
    gone = page_app("findings", ds=dataset_id).run()
    assert gone.error[0].value.startswith("This dataset link")


def test_naive_timestamps_can_be_read_again_in_a_chosen_zone(
    store: DatasetStore, page_app, synthetic_file
) -> None:
    from explorer.synth.pings import generate_pings

    path = synthetic_file(generate_pings(6_000, seed=26), "naive.csv", time_format="naive_local")
    dataset_id = store.put(path.read_bytes(), "naive.csv")
    at = page_app("data", ds=dataset_id).run()
    assert not at.exception
    before = at.selectbox(key="f_zone").value
    assert before.startswith("At each ping's place")
    at.selectbox(key="f_zone").set_value("Asia/Tokyo").run()
    assert not at.exception
    assert at.selectbox(key="f_zone").value == "Asia/Tokyo"
    captions = " ".join(c.value for c in at.caption)
    assert "Asia/Tokyo" in captions, captions


def test_an_unexpected_reading_failure_of_an_upload_keeps_the_app_usable(
    store: DatasetStore, page_app, monkeypatch
) -> None:
    import app.cache as cache_module

    real = cache_module.read_pings

    def fragile(source, **kwargs):
        if str(source).endswith(".data"):  # an upload in the store, not the sample
            raise RuntimeError("parser bug")
        return real(source, **kwargs)

    monkeypatch.setattr(cache_module, "read_pings", fragile)
    sample_ids = finding_ids(page_app("findings").run())
    dataset_id = store.put(csv_bytes(3_000, (), seed=27), "fine.csv")
    at = page_app("findings", ds=dataset_id).run()
    assert not at.exception
    assert [e.value for e in at.error] == [pipeline.UNREADABLE]
    assert finding_ids(at) == sample_ids


def test_a_stored_upload_leaves_no_copy_of_its_bytes_in_the_session(
    store: DatasetStore, page_app
) -> None:
    """Once the upload is in the store, the session holds no uploaded file: Streamlit
    keeps a closed session for minutes, so each held upload was a copy of its size."""
    data = csv_bytes(10_000, ("null_island",), seed=22)
    at = page_app("findings").run()
    at.file_uploader(key="upload").set_value(("island.csv", data, "text/csv")).run()
    assert not at.exception
    assert store.get(at.query_params["ds"]).data == data
    assert uploads_held(at) == []
