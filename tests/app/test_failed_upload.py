"""After an unusable upload the page shows the sample under the sample's name and link."""

from __future__ import annotations

from tests.app.conftest import finding_ids, keyed_blocks, text_of


def test_a_failed_upload_leaves_no_trace_in_the_header_or_the_share_link(
    page_app, small_sample
) -> None:
    at = page_app("findings").run()
    sample_ids = finding_ids(at)
    at.file_uploader(key="upload").set_value(("broken-upload.csv", b"", "text/csv")).run()
    assert not at.exception
    assert len(at.error) == 1  # the upload's own message
    header = text_of(keyed_blocks(at, "dataset-name")["dataset-name"])
    assert small_sample.name in header and "bundled sample" in header, header
    assert "broken-upload" not in header and "your upload" not in header
    share = text_of(keyed_blocks(at, "share")["share"])
    assert "ds=" not in share, share
    assert finding_ids(at) == sample_ids
