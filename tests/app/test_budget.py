"""One upload never takes the server down: uploads planned against a memory budget, a few
analysis slots, results cached by size, refusals remembered, and a tidy store."""

from __future__ import annotations

import os
import threading
import time

import polars as pl
import pytest

from app import budget
from app.budget import BudgetCache, analysis_slot
from app.components import inert
from app.store import DatasetStore, is_valid_id
from tests.app.conftest import csv_bytes, finding_ids


def test_the_cache_evicts_the_least_recently_used_by_size():
    frame = pl.DataFrame({"x": range(1_000)})  # 8,000 bytes
    cache = BudgetCache(lambda: 20_000)
    for key in ("a", "b"):
        cache.get(key, lambda: frame.clone())
    cache.get("a", lambda: pytest.fail("a is cached"))  # a is now the most recent
    cache.get("c", lambda: frame.clone())  # 24,000 bytes: b, the oldest, goes
    assert cache.held() == 16_000
    computed = []
    cache.get("b", lambda: computed.append("b") or frame.clone())
    assert computed == ["b"]


def test_a_value_larger_than_the_budget_is_still_kept_alone():
    cache = BudgetCache(lambda: 10)
    cache.get("big", lambda: pl.DataFrame({"x": range(1_000)}))
    assert cache.held() == 8_000
    cache.get("big", lambda: pytest.fail("the newest value is kept"))


def test_concurrent_requests_for_one_key_compute_it_once():
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return pl.DataFrame({"x": [1]})

    cache = BudgetCache(lambda: 1 << 30)
    threads = [threading.Thread(target=cache.get, args=("k", slow)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]


def test_analysis_slots_bound_the_work_at_once_and_nest(monkeypatch):
    monkeypatch.setattr(budget, "_SLOTS", threading.BoundedSemaphore(2))
    running, most = [0], [0]
    lock = threading.Lock()

    def work():
        with analysis_slot(), analysis_slot():  # a stage calling another: one slot
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.1)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert most[0] == 2


def test_an_upload_too_large_for_the_budget_is_refused_with_one_sentence(
    store: DatasetStore, page_app, monkeypatch
):
    sample_ids = finding_ids(page_app("findings").run())
    monkeypatch.setenv(budget.BUDGET_ENV, "0.5")  # 0.5 MB: a 300 KB CSV needs ~1.2 MB
    data = csv_bytes(6_000, (), seed=41)
    assert len(data) > 200_000
    at = page_app("findings").run()
    at.file_uploader(key="upload").set_value(("big.csv", data, "text/csv")).run()
    assert not at.exception
    assert len(at.error) == 1 and "too large to analyse on this server" in at.error[0].value
    assert "\n" not in at.error[0].value
    assert finding_ids(at) == sample_ids
    # Its data is dropped, but a link to it says the refusal again, without reading.
    (refused_id,) = [p.stem for p in store.root.glob("*.json")]
    assert not list(store.root.glob("*.data"))
    again = page_app("findings", ds=refused_id).run()
    assert not again.exception
    assert [e.value for e in again.error] == [at.error[0].value]


def test_a_refused_upload_is_never_read_again(store: DatasetStore, page_app, monkeypatch):
    import app.cache as cache_module

    dataset_id = store.put(csv_bytes(3_000, (), seed=42), "huge.csv.gz")
    reason = "huge.csv.gz unpacks to more than 768 MB, more than this server analyses at once."
    assert store.set_refused(dataset_id, reason)
    real = cache_module.read_pings
    reads = []

    def watched(source, **kwargs):
        reads.append(str(source))
        return real(source, **kwargs)

    monkeypatch.setattr(cache_module, "read_pings", watched)
    at = page_app("findings", ds=dataset_id).run()
    assert not at.exception
    assert [e.value for e in at.error] == [inert(reason)]  # it names the file: shown as text
    assert not [r for r in reads if r.endswith(".data")]  # only the sample was read


def test_store_ids_match_in_full(store: DatasetStore):
    dataset_id = store.put(b"lat,lon,timestamp\n1,2,3\n", "p.csv")
    assert is_valid_id(dataset_id)
    for bad in (dataset_id + "\n", "\n" + dataset_id, dataset_id + "x", dataset_id[:-1]):
        assert not is_valid_id(bad)
        assert store.info(bad) is None


def test_writes_cut_by_a_killed_process_are_removed_at_start_up(store: DatasetStore):
    store.put(b"lat,lon,timestamp\n1,2,3\n", "p.csv")
    stale, fresh = store.root / ".tmp-dead.data", store.root / ".tmp-live.data"
    for path in (stale, fresh):
        path.write_bytes(b"partial")
    os.utime(stale, (time.time() - 3_600, time.time() - 3_600))
    assert store.remove_interrupted_writes() == 1
    assert not stale.exists() and fresh.exists()
    assert len(list(store.root.glob("*.json"))) == 1


def test_room_is_made_for_a_read_before_it_starts():
    frame = pl.DataFrame({"x": range(1_000)})  # 8,000 bytes
    cache = BudgetCache(lambda: 100_000)
    for key in ("a", "b", "c"):
        cache.get(key, lambda: frame.clone())
    cache.make_room(needed=85_000, total=100_000)  # 15,000 bytes may stay: one frame
    assert cache.held() == 8_000
    cache.get("c", lambda: pytest.fail("the most recent frame stays"))
    cache.make_room(needed=100_000, total=100_000)
    assert cache.held() == 0
