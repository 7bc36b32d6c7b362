"""AppTest fixtures: a private dataset store, a small synthetic sample, clean caches.

AppTest runs the script in this process, so the environment set here is what the app
sees. Streamlit's caches are process-wide and leak between AppTest instances: they are
cleared before every test.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.store import DatasetStore
from explorer.synth.pings import generate_pings

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app" / "streamlit_app.py"
SAMPLE = ROOT / "data" / "samples" / "pings.csv"
TIMEOUT = 60
PAGES = {
    "findings": "app.views.findings:findings_page",
    "map": "app.views.map_view:map_page",
    "time": "app.views.time_of_day:time_page",
    "devices": "app.views.device_types:devices_page",
    "panel": "app.views.panel:panel_page",
    "coverage": "app.views.coverage:coverage_page",
    "compare": "app.views.compare:compare_page",
    "data": "app.views.data:data_page",
}


def run_page(target: str) -> None:
    """AppTest script: draw one page function (st.navigation pages are callables).

    ``session_state["test_page"]`` (a "module:function" target) switches the page
    within one session, as the navigation would.
    """
    import importlib

    import streamlit as st

    module, func = st.session_state.get("test_page", target).split(":")
    getattr(importlib.import_module(module), func)()


def csv_bytes(n_pings: int, biases: tuple[str, ...], seed: int) -> bytes:
    """Synthetic pings as CSV bytes (epoch milliseconds)."""
    path = io.BytesIO()
    frame = generate_pings(n_pings, biases=biases, seed=seed).pings
    out = frame.with_columns(frame["timestamp"].dt.epoch("ms").alias("timestamp"))
    out.write_csv(path)
    return path.getvalue()


@pytest.fixture(scope="session")
def small_sample(synthetic_file: Callable[..., Path]) -> Path:
    """A 12,000-ping sample with null-island and duplicate pings planted."""
    sample = generate_pings(12_000, biases=("null_island", "duplicate_pings"), seed=4)
    return synthetic_file(sample, folder="sample")


@pytest.fixture(autouse=True)
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, small_sample: Path) -> Iterator[Path]:
    """Own store directory, the small sample, no basemap; caches cleared around the test."""
    store_dir = tmp_path / "datasets"
    monkeypatch.setenv("PBE_DATA_DIR", str(store_dir))
    monkeypatch.setenv("PBE_SAMPLE_PATH", str(small_sample))
    monkeypatch.setenv("PBE_BASEMAP", "off")
    monkeypatch.delenv("PBE_RETENTION_DAYS", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield store_dir
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def store(app_env: Path) -> DatasetStore:
    return DatasetStore(app_env)


@pytest.fixture
def page_app() -> Callable[..., AppTest]:
    """Factory: an AppTest that draws one page, with optional query parameters."""

    def make(name: str, **query: str) -> AppTest:
        at = AppTest.from_function(run_page, args=(PAGES[name],), default_timeout=TIMEOUT)
        at.query_params.update(query)
        return at

    return make


@pytest.fixture
def full_app() -> Callable[..., AppTest]:
    """Factory: the real entry point (navigation, default page), with query parameters."""

    def make(**query: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.query_params.update(query)
        return at

    return make


def keyed_blocks(at: AppTest, prefix: str) -> dict[str, object]:
    """Every container whose key starts with ``prefix`` (depth-first), by key."""
    found: dict[str, object] = {}

    def walk(node: object) -> None:
        for child in getattr(node, "children", {}).values():
            key = getattr(child, "key", None)
            if isinstance(key, str) and key.startswith(prefix):
                found[key] = child
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return found


def finding_ids(at: AppTest) -> list[str]:
    """Ids of the findings drawn (from their ``finding-<id>`` containers), in order."""
    return [k.removeprefix("finding-") for k in keyed_blocks(at, "finding-")]


def text_of(block: object) -> str:
    """All markdown/text values inside a block."""
    parts: list[str] = []

    def walk(node: object) -> None:
        value = getattr(node, "value", None)
        if isinstance(value, str):
            parts.append(value)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(block)
    # Undo markdown escapes (user-supplied names are escaped before drawing).
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


def uploads_held(at: AppTest) -> list[str]:
    """Session-state keys that still hold an uploaded file (its bytes) after a run."""
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    state = at.session_state
    return [key for key in state if isinstance(state[key], UploadedFile)]
