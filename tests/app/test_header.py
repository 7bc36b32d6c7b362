"""The dataset header says whose data it is: the sample, the viewer's own upload, or an
upload someone shared by link."""

from __future__ import annotations

from app.store import DatasetStore
from tests.app.conftest import csv_bytes, keyed_blocks, text_of


def header(at) -> str:
    return text_of(keyed_blocks(at, "dataset-name")["dataset-name"])


def test_the_uploader_reads_your_upload_and_a_link_reads_shared(store: DatasetStore, page_app):
    owner = page_app("findings").run()
    assert "bundled sample" in header(owner)
    owner.file_uploader(key="upload").set_value(
        ("mine.csv", csv_bytes(4_000, (), seed=51), "text/csv")
    ).run()
    assert not owner.exception
    assert "your upload" in header(owner)
    stranger = page_app("findings", ds=owner.query_params["ds"]).run()
    assert not stranger.exception
    text = header(stranger)
    assert "mine.csv" in text and "shared by link" in text and "your upload" not in text
