"""Two browser sessions uploading different files each see only their own data."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def dataset_id(url: str) -> str:
    return parse_qs(urlsplit(url).query)["ds"][-1]


def test_two_sessions_see_only_their_own_upload(app, new_page, small_csv, other_csv) -> None:
    first, second = new_page(), new_page()
    app.open_uploader(first)
    app.open_uploader(second)
    app.upload(first, small_csv)
    app.upload(second, other_csv)

    first_stem, second_stem = small_csv.name.split(".")[0], other_csv.name.split(".")[0]
    # The first session, after the second one uploaded, and after a reload.
    first.reload()
    app.wait_idle(first)
    for page, own, other in ((first, first_stem, second_stem), (second, second_stem, first_stem)):
        expect(page.locator(".st-key-dataset-name")).to_contain_text(own)
        expect(app.findings(page).first).to_be_visible()
        assert other not in page.locator("body").inner_text()

    assert dataset_id(first.url) != dataset_id(second.url)
    assert app.summary(first) != app.summary(second)
    assert set(app.finding_ids(first)) != set(app.finding_ids(second))
    app.screenshot(first, "isolation_first")
    app.screenshot(second, "isolation_second")
