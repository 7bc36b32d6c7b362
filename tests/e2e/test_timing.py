"""Upload of a 1,000,000-ping CSV: the time to findings is recorded, not asserted."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def test_million_ping_upload_reaches_findings(app, new_page, million_csv) -> None:
    page = new_page()
    server_state = "fresh server" if app.server.pages_served == 0 else "server in use"
    app.open_uploader(page)
    megabytes = million_csv.stat().st_size / 1e6
    seconds = app.upload(page, million_csv)
    app.record_timing(
        f"upload -> findings, 1,000,000 pings ({megabytes:.0f} MB CSV, {server_state})", seconds
    )
    # generate_pings meets its count within a few percent (plus planted extras).
    counted = int(re.search(r"([\d,]+) pings", app.summary(page)).group(1).replace(",", ""))
    assert 900_000 <= counted <= 1_100_000
    app.screenshot(page, "million_upload")
