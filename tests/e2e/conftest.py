"""Browser-test fixtures: a real Streamlit server subprocess and Debian's Chromium.

The server runs `streamlit run app/streamlit_app.py` on a free port with its own dataset
store (``PBE_DATA_DIR``) and no basemap (``PBE_BASEMAP=off``: tests make no outside
requests). It is shared by the whole session; the restart test stops and starts it on the
same port and store. Pages wait on Streamlit's script state and on ``expect``'s
auto-waits, never on sleeps; the machine is slow and shared, hence the 60 s timeouts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from explorer.synth.pings import generate_pings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMINGS = ARTIFACTS / "timings.txt"
TIMEOUT_MS = 60_000
HEALTH_DEADLINE_S = 60.0
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
FINDING = "[class*='st-key-finding-']"
SEVERE_BADGE = re.compile(r"^\s*(HIGH|MEDIUM)\s*$")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

expect.set_options(timeout=TIMEOUT_MS)


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StreamlitServer:
    """`streamlit run` in its own process group, on one port and one dataset store."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.pages_served = 0  # navigations since the last start: the first one is "cold"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait (bounded) until its health endpoint answers."""
        env = {**os.environ, "PBE_DATA_DIR": str(self.data_dir), "PBE_BASEMAP": "off"}
        command = [
            sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py",
            "--server.headless", "true",
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {datetime.now(UTC).isoformat()} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.pages_served = 0
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)  # poll interval of a bounded loop, not a wait for the UI
        code = None if self.process is None else self.process.poll()
        self.stop()
        pytest.fail(
            f"Streamlit did not become healthy within {HEALTH_DEADLINE_S:.0f} s "
            f"(exit code {code}). Server log:\n{self.log()}",
            pytrace=False,
        )

    def stop(self) -> None:
        """Terminate the process group; kill it if it does not exit within 15 s."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        pgid = os.getpgid(self.process.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=15)
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port and dataset store."""
        self.stop()
        self.start()

    def log(self, tail_chars: int = 20_000) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return text[-tail_chars:]


def record_timing(label: str, seconds: float) -> None:
    """Print a timing (shown with ``-s``) and append it to the artifacts' timings.txt."""
    line = f"{datetime.now(UTC).isoformat(timespec='seconds')}  {label}: {seconds:.2f} s"
    print(f"\n[timing] {line}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with TIMINGS.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def screenshot(page: Page, name: str) -> None:
    """Save a screenshot as an artifact for people to look at; never asserted on."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


class DeckSpy:
    """Collects the pydeck specs the server sends over the websocket.

    Streamlit ships ``pydeck_obj.to_json()`` as a string field of a protobuf frame
    (uncompressed by default), so the deck's JSON can be cut out of the raw frames.
    """

    def __init__(self, page: Page) -> None:
        self.frames: list[bytes] = []
        page.on("websocket", self._watch)

    def _watch(self, ws: Any) -> None:
        ws.on("framereceived", self._keep)

    def _keep(self, payload: bytes | str) -> None:
        self.frames.append(payload.encode() if isinstance(payload, str) else payload)

    def specs(self) -> list[dict[str, Any]]:
        """Every deck spec (parsed JSON with a ``layers`` list) received so far, in order."""
        decoder = json.JSONDecoder()
        found: list[dict[str, Any]] = []
        for frame in self.frames:
            text = frame.decode("utf-8", errors="replace")
            for marker in re.finditer(r'"layers":\s*\[', text):
                spec = _enclosing_object(decoder, text, marker.start())
                if spec is not None:
                    found.append(spec)
        return found

    def describe(self) -> str:
        """Counts for assertion messages: frames, bytes, frames that mention a layer."""
        with_layers = sum(b'"layers"' in frame for frame in self.frames)
        size = sum(len(frame) for frame in self.frames)
        return f"{len(self.frames)} frames, {size:,} bytes, {with_layers} with a layers key"

    def layer_ids(self) -> list[set[str]]:
        """The layer ids of each received deck spec."""
        return [{layer.get("id") for layer in spec["layers"]} for spec in self.specs()]


def _enclosing_object(decoder: json.JSONDecoder, text: str, at: int) -> dict | None:
    """The JSON object holding the key at ``at``: try the nearest opening braces before it."""
    start = at
    for _ in range(200):
        start = text.rfind("{", 0, start)
        if start < 0:
            return None
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict) and "layers" in value and end > at:
            return value
    return None


class AppDriver:
    """Page helpers written against the UI contract (notes/ui_contract.md)."""

    def __init__(self, server: StreamlitServer) -> None:
        self.server = server

    # Module-level helpers as methods, so test modules need not import conftest.
    record_timing = staticmethod(record_timing)
    screenshot = staticmethod(screenshot)
    spy = staticmethod(DeckSpy)

    def wait_idle(self, page: Page) -> None:
        expect(page.locator(IDLE)).to_have_count(1)

    def goto(self, page: Page, path_and_query: str = "/") -> float:
        """Open a URL of the app; return seconds until a HIGH/MEDIUM finding is visible."""
        started = time.perf_counter()
        page.goto(self.server.url + path_and_query)
        self.wait_idle(page)
        expect(self.severe_findings(page).first).to_be_visible()
        elapsed = time.perf_counter() - started
        self.server.pages_served += 1
        return elapsed

    def open_uploader(self, page: Page) -> None:
        """Open the Findings page; wait until its upload input exists and the run ends."""
        page.goto(self.server.url + "/")
        expect(page.get_by_test_id("stFileUploaderDropzoneInput")).to_be_attached()
        self.wait_idle(page)  # the uploader is drawn by the run, so this state is that run's
        self.server.pages_served += 1

    def findings(self, page: Page):
        return page.locator(FINDING)

    def severe_findings(self, page: Page):
        """Finding containers holding a HIGH or MEDIUM badge (an element with just that text)."""
        return self.findings(page).filter(has=page.get_by_text(SEVERE_BADGE))

    def finding_ids(self, page: Page) -> list[str]:
        """Ids of the rendered findings, from their ``st-key-finding-<id>`` classes."""
        classes = self.findings(page).evaluate_all("els => els.map(e => e.className)")
        ids = [m.group(1) for c in classes for m in re.finditer(r"st-key-finding-(\S+)", c)]
        return list(dict.fromkeys(ids))

    def dataset_name(self, page: Page) -> str:
        box = page.locator(".st-key-dataset-name")
        expect(box).to_contain_text("Dataset:")
        return box.inner_text().strip()

    def summary(self, page: Page) -> str:
        box = page.locator(".st-key-findings-summary")
        expect(box).to_contain_text("pings")
        return box.inner_text().strip()

    def upload(self, page: Page, path: Path) -> float:
        """Upload a file on the Findings page; return seconds until its findings show."""
        stem = path.name.split(".")[0]
        started = time.perf_counter()
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
        expect(page.locator(".st-key-dataset-name")).to_contain_text(stem)
        expect(page).to_have_url(re.compile(r"[?&]ds=[^&]+"))
        self.wait_idle(page)
        expect(self.findings(page).first).to_be_visible()
        return time.perf_counter() - started

    def share_url(self, page: Page) -> str:
        """The full URL held by the share control (code block or text input)."""
        box = page.locator(".st-key-share")
        expect(box).to_be_visible()
        fields = box.locator("input, textarea")
        if fields.count():
            expect(fields.first).to_have_value(re.compile(r"https?://"))
            text = fields.first.input_value()
        else:
            expect(box).to_contain_text("http")
            text = box.inner_text()
        match = re.search(r"https?://\S+", text)
        assert match, f"no URL in the share control: {text!r}"
        return match.group(0)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        pytest.fail("Chromium is missing: run `apt-get install chromium`", pytrace=False)
    return path


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("datasets")


@pytest.fixture(scope="session")
def server(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    instance = StreamlitServer(data_dir, tmp_path_factory.mktemp("server") / "streamlit.log")
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def app(server: StreamlitServer) -> AppDriver:
    return AppDriver(server)


def _pages(browser: Browser) -> Iterator[Callable[[], Page]]:
    """A factory of pages, each in a fresh browser context; the contexts close after."""
    contexts: list[BrowserContext] = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    """Pages in fresh browser contexts (own cookies and storage), closed after the test."""
    yield from _pages(browser)


@pytest.fixture(scope="module")
def module_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    """Like ``new_page``, for module-scoped fixtures that share one browsing session."""
    yield from _pages(browser)


@pytest.fixture(scope="session")
def small_csv(synthetic_file: Callable[..., Path]) -> Path:
    """30,000 synthetic pings with pings planted at Null Island."""
    pings = generate_pings(30_000, biases=("null_island",), seed=3)
    return synthetic_file(pings, "null_island_pings.csv", folder="uploads")


@pytest.fixture(scope="session")
def other_csv(synthetic_file: Callable[..., Path]) -> Path:
    """A second, different synthetic file (other size, bias and seed)."""
    pings = generate_pings(20_000, biases=("coordinate_pileup",), seed=11)
    return synthetic_file(pings, "pileup_pings.csv", folder="uploads")


@pytest.fixture(scope="session")
def million_csv(synthetic_file: Callable[..., Path]) -> Path:
    """1,000,000 synthetic pings for the upload timing."""
    pings = generate_pings(1_000_000, biases=("null_island",), seed=5)
    return synthetic_file(pings, "million_pings.csv", folder="uploads")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """On a failing browser test, attach the tail of the server log to the report."""
    report = yield
    driver = getattr(item, "funcargs", {}).get("app")
    if report.failed and isinstance(driver, AppDriver):
        report.sections.append(("streamlit server log", driver.server.log(8_000)))
    return report
