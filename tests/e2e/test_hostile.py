"""A file with hostile names and values is shown as text in a real browser.

The upload's file name, its column names and one area's device types each hold a
Markdown image pointing at a listener of this test, LaTeX, bold, HTML tags and a code
span. Through the mapping form, the Findings page, the Device types page and the Data
page: no request reaches the listener, no image, bold, code or KaTeX element comes
from the data, and the literal text is on the page.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from app.store import DatasetStore
from explorer.analysis import analyze
from explorer.reading.decode import shown_name
from tests.hostile import hostile_file_name, hostile_pings

pytestmark = pytest.mark.e2e

#: Streamlit puts this invisible joiner inside URL-like data text (no autolink crosses it).
WORD_JOINER = "\u2060"
#: Elements that would mean the data was rendered as Markdown, LaTeX or HTML.
FORMATTED = {
    "image": "img",
    "KaTeX": ".katex, .katex-display",
    "bold": ":is(b, strong):text-matches('^(bold|x)$')",
    "code span": "code:text-matches('^tick$')",
    "link to the data's URLs": "a[href*='.png'], a[href^='mailto:'], a[href*='x.com']",
}


class Listener:
    """An HTTP server on a free local port that records every request it gets."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                paths.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args: object) -> None:  # quiet test output
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


def shown(page: Page, selector: str = "body") -> str:
    """The text of the page (or an element) as a reader sees it."""
    return page.locator(selector).first.inner_text().replace(WORD_JOINER, "")


def assert_nothing_formatted(page: Page, where: str) -> None:
    for what, selector in FORMATTED.items():
        count = page.locator(selector).count()
        assert count == 0, f"{where}: {count} {what} element(s) from the data"


def choose(page: Page, role: str, column: str) -> None:
    """Pick ``column`` in the mapping form's select box for ``role``."""
    box = page.locator(f".st-key-map_{role} input")
    box.click()
    box.press("ArrowDown")  # opens the list when the click only focused the box
    page.get_by_role("option").filter(has_text=column).click()
    expect(box).to_have_value(column)


def open_page(app, page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    app.wait_idle(page)


def upload_and_map(app, page: Page, path: Path, columns: dict[str, str], data_dir: Path) -> str:
    """Upload ``path``, check the mapping form, map the columns; returns the stored name."""
    app.open_uploader(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    expect(page.locator(".st-key-map_lat")).to_be_visible()
    app.wait_idle(page)
    assert_nothing_formatted(page, "mapping form")
    # The warning names the columns, shortened so that it stays one line.
    assert shown_name(columns["lat"]) in shown(page, "[data-testid='stAlert']")
    # The name as the server received it (multipart parsing may fold the backslashes).
    ds = parse_qs(urlsplit(page.url).query)["ds"][-1]
    stored = DatasetStore(data_dir).info(ds)
    assert stored is not None and stored.name in shown(page, ".st-key-dataset-name")
    for role, column in columns.items():
        choose(page, role, column)
    page.get_by_role("button", name="Read the file with these columns").click()
    return stored.name


def check_findings(app, page: Page, skew, name: str) -> None:
    """The skew finding's title and story as text; then select it."""
    card = page.locator(f".st-key-finding-{skew.id}")
    expect(card).to_be_visible()
    app.wait_idle(page)
    assert_nothing_formatted(page, "findings")
    assert skew.title in shown(page, f".st-key-finding-{skew.id}")
    assert skew.story in shown(page, f".st-key-finding-{skew.id}")
    assert name in shown(page, ".st-key-dataset-name")
    card.locator(f".st-key-select-{skew.id}").get_by_role("button").click()
    expect(page).to_have_url(re.compile(rf"[?&]finding={skew.id}\b"))
    app.wait_idle(page)


def check_devices_and_data(app, page: Page, skew, columns: dict[str, str]) -> None:
    """The area label (Device types), the columns used and the rows' label (Data)."""
    open_page(app, page, "Device types")
    label = page.get_by_test_id("stMarkdownContainer").filter(has_text="devices; rest of the data")
    expect(label).to_be_visible()
    assert_nothing_formatted(page, "device types")
    assert skew.title in label.inner_text().replace(WORD_JOINER, "")
    open_page(app, page, "Data")
    used = page.get_by_test_id("stMarkdownContainer").filter(has_text="Columns used:")
    rows = page.get_by_test_id("stDownloadButton").filter(has_text="Rows behind")
    expect(used).to_be_visible()
    expect(rows).to_be_visible()
    assert_nothing_formatted(page, "data")
    assert all(column in used.inner_text().replace(WORD_JOINER, "") for column in columns.values())
    assert rows.inner_text().replace(WORD_JOINER, "") == f"Rows behind “{skew.title}” (CSV)"


def test_hostile_upload_is_shown_as_text(
    app, new_page, listener, data_dir: Path, tmp_path: Path
) -> None:
    data, columns, device_type = hostile_pings(listener.root)
    # A file name holds no "/": its image URL has backslashes (Markdown would encode them
    # and fetch it from the app's own server, so requests are checked by name too).
    path = tmp_path / hostile_file_name(listener.root.replace("//", "\\\\") + "\\hostile-f.png")
    path.write_bytes(data)
    found = analyze(data, columns=columns, name=path.name).findings
    skew = next(f for f in found if f.kind == "device_type_skew")
    assert device_type in skew.title
    page = new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    name = upload_and_map(app, page, path, columns, data_dir)
    check_findings(app, page, skew, name)
    check_devices_and_data(app, page, skew, columns)

    from_data = [url for url in requested if listener.root in url or "hostile-" in url]
    assert from_data == [] and listener.paths == [], (from_data, listener.paths)
    app.screenshot(page, "hostile_data_page")
