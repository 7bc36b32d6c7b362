"""The dataset store: ids, atomic writes, expiry, deletion, never another's data."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

import pytest

from app import store as store_module
from app.store import DatasetStore, is_valid_id

DAY = 86_400


def test_put_then_get_returns_the_same_bytes_under_a_128_bit_id(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "ds")
    first = store.put(b"lat,lon\n1,2\n", "a.csv")
    second = store.put(b"other", "b.csv")
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", first) and first != second
    got = store.get(first)
    assert got is not None and got.data == b"lat,lon\n1,2\n" and got.name == "a.csv"
    assert got.sha256 == hashlib.sha256(b"lat,lon\n1,2\n").hexdigest()
    assert store.get(second).data == b"other"


def test_names_are_reduced_to_a_file_name(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    found = store.get(store.put(b"x", "../../etc/passwd"))
    assert found is not None and found.name == "passwd"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".data") == [
        f"{found.dataset_id}.data"
    ]


@pytest.mark.parametrize(
    "bad", ["", "short", "../../etc/passwd", "A" * 21, "A" * 23, "A" * 21 + "/", None, 42]
)
def test_malformed_ids_are_rejected_without_touching_files(tmp_path: Path, bad) -> None:
    store = DatasetStore(tmp_path)
    assert not is_valid_id(bad)
    assert store.get(bad) is None and store.info(bad) is None
    assert store.delete(bad) is False


def test_unknown_well_formed_id_gives_nothing(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    store.put(b"somebody's data", "x.csv")
    assert store.get("A" * 22) is None


def test_expiry_by_retention(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path, retention=2)
    now = 1_000_000.0
    dataset_id = store.put(b"data", "x.csv", now=now)
    assert store.get(dataset_id, now=now + 2 * DAY - 1) is not None
    assert store.get(dataset_id, now=now + 2 * DAY + 1) is None
    assert not any(tmp_path.glob(f"{dataset_id}.*")), "an expired dataset is deleted"


def test_purge_removes_only_expired_datasets(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path, retention=1)
    old = store.put(b"old", "old.csv", now=0.0)
    new = store.put(b"new", "new.csv", now=5 * DAY)  # put() purges: the old one goes
    assert store.get(old, now=5 * DAY) is None
    assert store.get(new, now=5 * DAY).data == b"new"
    assert store.purge_expired(now=5 * DAY) == 0
    assert store.purge_expired(now=7 * DAY) == 1


def test_retention_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PBE_RETENTION_DAYS", "3")
    monkeypatch.setenv("PBE_DATA_DIR", str(tmp_path / "env"))
    store = DatasetStore()
    assert store.root == tmp_path / "env" and store.retention_s == 3 * DAY
    monkeypatch.setenv("PBE_RETENTION_DAYS", "soon")
    assert DatasetStore().retention_s == 30 * DAY


def test_delete_removes_the_dataset(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    dataset_id = store.put(b"data", "x.csv")
    keep = store.put(b"keep", "y.csv")
    assert store.delete(dataset_id) is True
    assert store.get(dataset_id) is None and store.delete(dataset_id) is False
    assert store.get(keep).data == b"keep"


def test_a_failed_write_leaves_no_dataset_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DatasetStore(tmp_path)
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if str(dst).endswith(".json"):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(store_module.os, "replace", failing_replace)
    with pytest.raises(OSError):
        store.put(b"data", "x.csv")
    assert not list(tmp_path.glob(".tmp-*")), "the temporary file is removed"
    assert not list(tmp_path.glob("*.json")), "no id became visible"
    # The data file without metadata is not a dataset.
    stem = Path(str(calls[0])).stem
    assert store.get(stem) is None


def test_writes_replace_whole_files(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    dataset_id = store.put(b"data", "x.csv")
    assert store.set_columns(dataset_id, {"lat": "y", "lon": "x"})
    assert store.get(dataset_id).columns == {"lat": "y", "lon": "x"}
    assert not store.set_columns("A" * 22, {"lat": "y"})
    assert not list(tmp_path.glob(".tmp-*"))


def test_survives_a_new_store_object_on_the_same_directory(tmp_path: Path) -> None:
    dataset_id = DatasetStore(tmp_path).put(b"persisted", "x.csv", now=time.time())
    assert DatasetStore(tmp_path).get(dataset_id).data == b"persisted"


def test_purge_removes_stale_leftovers_of_interrupted_writes(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    kept = store.put(b"kept", "k.csv")
    orphan = tmp_path / ("B" * 22 + ".data")
    orphan.write_bytes(b"half")
    temp = tmp_path / ".tmp-abc.data"
    temp.write_bytes(b"half")
    assert store.purge_expired() == 0
    assert orphan.exists() and temp.exists()  # fresh: a write may still be running
    store.purge_expired(now=time.time() + 2 * DAY)
    assert not orphan.exists() and not temp.exists()
    assert store.get(kept, now=time.time()) is not None
