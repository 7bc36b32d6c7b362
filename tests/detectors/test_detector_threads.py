"""Detectors run two at a time: the same findings as one at a time, shared views built once."""

from __future__ import annotations

import threading
import time

import pytest

import explorer.detectors as detectors
from explorer.config import Config
from explorer.detectors import Context, detect_all
from explorer.summary import summarise
from explorer.synth.pings import generate_pings


@pytest.mark.parametrize(
    ("city", "biases"),
    [
        ("london", ("coordinate_pileup", "null_island", "device_type_skew", "timezone_shift")),
        ("singapore", ("duplicate_pings", "hour_profile", "device_concentration")),
    ],
)
def test_threads_give_the_same_findings_in_the_same_order(monkeypatch, city, biases):
    pings = generate_pings(60_000, city=city, seed=7, biases=biases)
    summary = summarise(pings.pings, 8)
    monkeypatch.setattr(detectors, "THREADS", 1)
    one = detect_all(Context(summary, Config(), "salt"))
    monkeypatch.setattr(detectors, "THREADS", 2)
    two = detect_all(Context(summary, Config(), "salt"))
    assert [f.id for f in one] == [f.id for f in two]
    assert [f.evidence for f in one] == [f.evidence for f in two]
    assert len(one) >= 2  # the planted biases were found: the comparison is not empty


def test_a_shared_view_is_built_once_while_others_wait():
    ctx = Context(summarise(generate_pings(2_000, seed=1).pings, 8))
    builds = []

    def slow(context: Context) -> int:
        builds.append(threading.get_ident())
        time.sleep(0.05)
        return 41 + len(builds)

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(ctx.shared("slow", slow))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert results == [42, 42, 42, 42]


def test_the_detectors_and_the_report_derive_each_shared_view_once(monkeypatch):
    """Views that several detectors and the report's panel section read (devices by day
    and type, days qualifying per device, cell rows coded by main type) are derived
    once per analysis, not once per reader."""
    from explorer.analysis import analyze_summary
    from explorer.reports.contract import render
    from explorer.summary import panel, panel_rule, views

    calls: dict[str, int] = {}

    def counted(module, name):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    counted(panel, "daily_types")
    counted(panel_rule, "qualifying_days")
    counted(views, "coded_cell_devices")
    pings = generate_pings(30_000, seed=3, days=7, biases=("device_type_skew",))
    summary = summarise(pings.pings, 8)
    analysis = analyze_summary(summary, source="generated")
    report = render(analysis, "json")
    assert '"survival"' in report and '"devices_by_type"' in report
    assert calls == {"daily_types": 1, "qualifying_days": 1, "coded_cell_devices": 1}
