"""Device labels and finding ids: the same for one file in every process and engine,
different for different files, keyed so that a label does not give its id away."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from explorer.analysis import analyze_read
from explorer.engines.choose import analyze_source, summarise_source
from explorer.reading.device_hash import device_hashes
from explorer.reading.pings import read_pings
from explorer.summary import summarise
from explorer.summary.views import LABEL_KEY_ENV, device_label, label_key, label_key_of_pings

ROOT = Path(__file__).resolve().parents[2]
#: The bundled sample: one of its devices is named in a device_concentration finding.
SAMPLE = ROOT / "data" / "samples" / "pings.csv"
LABEL = re.compile(r"device-[0-9a-f]{8}")
#: A device id and its 64-bit hash (polars' seeded hash: the same on every machine).
ID, ID_HASH = "3f2a9c1e-0000-4000-8000-000000000001", 11513359235695273189


@pytest.fixture(autouse=True)
def _no_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LABEL_KEY_ENV, raising=False)


def _labels(findings: list[dict]) -> set[str]:
    return set(LABEL.findall(json.dumps(findings)))


def _cli_findings(path: Path, hash_seed: str) -> list[dict]:
    """The findings of ``analyze --format json`` in a new Python process."""
    env = {k: v for k, v in os.environ.items() if k != LABEL_KEY_ENV}
    env["PYTHONHASHSEED"] = hash_seed  # Python's own str hashes differ between the runs
    done = subprocess.run(
        [sys.executable, "-m", "explorer", "analyze", str(path), "--format", "json"],
        capture_output=True,
        check=True,
        env=env,
        cwd=ROOT,
    )
    return json.loads(done.stdout)["findings"]


def test_two_processes_give_the_same_labels_and_ids() -> None:
    first, second = _cli_findings(SAMPLE, "1"), _cli_findings(SAMPLE, "2")
    assert _labels(first), "the sample should name a device"
    assert first == second


def test_memory_and_chunked_engines_give_the_same_labels() -> None:
    memory = analyze_source(SAMPLE, engine="memory")
    chunked = analyze_source(SAMPLE, engine="chunked", chunk_rows=40_000)
    assert memory.salt == chunked.salt
    by_kind = [(f.id, f.title) for f in memory.findings if f.kind == "device_concentration"]
    assert by_kind and by_kind == [
        (f.id, f.title) for f in chunked.findings if f.kind == "device_concentration"
    ]


def test_the_key_of_the_pings_is_the_key_of_their_summary() -> None:
    read = read_pings(SAMPLE)
    summary, _ = summarise_source(SAMPLE, engine="memory")
    assert label_key_of_pings(read.pings) == label_key(summary)
    assert label_key_of_pings(read_pings(SAMPLE, device_ids=False).pings) == label_key(summary)


def test_a_subset_keeps_the_labels_of_the_whole_read() -> None:
    read = read_pings(SAMPLE)
    whole = analyze_read(read)
    part = analyze_read(read, pings=read.pings.head(read.pings.height // 2))
    assert part.salt == whole.salt


def test_different_files_give_different_labels() -> None:
    read = read_pings(SAMPLE)
    fewer = read.pings.slice(1)
    key, other = label_key(summarise(read.pings, 8)), label_key(summarise(fewer, 8))
    assert key != other
    assert device_label(ID_HASH, key) != device_label(ID_HASH, other)


def test_a_label_is_a_keyed_hash_not_the_id() -> None:
    assert device_hashes(pl.Series([ID]))[0] == ID_HASH
    label = device_label(ID_HASH, "a configured secret")
    # HMAC-SHA256 of the hash's 8 bytes (little-endian), first 32 bits: pinned.
    assert label == "device-7334ed89"
    assert ID[:8] not in label and f"{ID_HASH:x}"[:8] not in label
    assert device_label(ID_HASH, "another secret") != label


def test_a_configured_key_overrides_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    read = read_pings(SAMPLE)
    monkeypatch.setenv(LABEL_KEY_ENV, "a configured secret")
    assert label_key(summarise(read.pings, 8)) == "a configured secret"
    assert label_key_of_pings(read.pings.slice(1)) == "a configured secret"
    assert analyze_read(read).salt == "a configured secret"
