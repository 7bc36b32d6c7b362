"""The app says which checks could not run, and draws no empty device chart (AppTest).

Files without device ids or device types: the Findings page shows a caveat with the
skipped checks and their reasons above the findings (and, with no findings, which
checks ran); Time of day counts pings instead of devices; Device types says why it
draws no chart instead of drawing one of zeros.
"""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import explorer.detectors as registry
from app.store import DatasetStore
from explorer.analysis import analyze
from tests.app.conftest import PAGES, csv_bytes, finding_ids, keyed_blocks, text_of

DEVICE_CHECKS = (
    "Coordinate pileup, density spike, device concentration, hour profile, timezone shift, "
    "device type skew, device type changes, venue snapped, impossible speed, transient devices"
)
#: How many checks the registry holds.
ALL_CHECKS = len(registry.DETECTORS)
#: A number of devices or a share of them: what a file without ids cannot tell.
DEVICE_COUNT = re.compile(r"\d[\d,.]*\s*%?\s+(of\s+)?devices?\b", re.IGNORECASE)


def upload(store: DatasetStore, drop: tuple[str, ...], biases: tuple[str, ...], name: str) -> str:
    """Store a synthetic file without the ``drop`` columns; its dataset id."""
    frame = pl.read_csv(csv_bytes(6_000, biases, seed=31)).drop(*drop)
    out = io.BytesIO()
    frame.write_csv(out)
    return store.put(out.getvalue(), name)


def charts(at) -> list[tuple[dict, pd.DataFrame]]:
    """(Vega-Lite spec, data) of every chart drawn."""
    out = []
    for chart in at.get("vega_lite_chart"):
        data = [
            pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets
        ]
        out.append((json.loads(chart.proto.spec), pd.concat(data) if data else pd.DataFrame()))
    return out


def y_titles(spec: dict) -> set[str]:
    return {layer["encoding"]["y"].get("title") for layer in spec.get("layer", [spec])}


def assert_no_empty_chart(at) -> None:
    """Every chart has a value that is not zero (no flat line labelled 0.000000)."""
    for spec, data in charts(at):
        values = data.drop(columns=[c for c in data if c in ("local hour", "device type")])
        numbers = values.select_dtypes("number").to_numpy()
        assert numbers.size and (numbers != 0).any(), spec


@pytest.fixture
def without_ids(store: DatasetStore) -> str:
    return upload(store, ("device_id",), ("null_island", "coordinate_precision"), "noids.csv")


def test_every_page_runs_without_device_ids(page_app, without_ids) -> None:
    for name in PAGES:
        at = page_app(name, ds=without_ids).run()
        assert not at.exception, (name, [e.value for e in at.exception])
        assert_no_empty_chart(at)


def test_findings_page_lists_the_checks_that_could_not_run(page_app, without_ids) -> None:
    at = page_app("findings", ds=without_ids).run()
    assert not at.exception
    caveat = text_of(keyed_blocks(at, "skipped-checks")["skipped-checks"])
    # The ten device checks, and the coverage check (no ids and no reference population).
    assert f"11 of {ALL_CHECKS} checks could not run" in caveat
    assert f"{DEVICE_CHECKS}: the file has no device id column." in caveat
    ids = finding_ids(at)
    assert ids, "the planted null island and coarse coordinates are still found"
    for key, card in keyed_blocks(at, "finding-").items():
        assert not DEVICE_COUNT.search(text_of(card)), key
    # The caveat sits above the findings.
    order = list(keyed_blocks(at, ""))
    assert order.index("skipped-checks") < order.index(f"finding-{ids[0]}")


def test_selected_finding_shows_no_device_counts(page_app, without_ids) -> None:
    first = page_app("findings", ds=without_ids).run()
    tables = 0
    for finding_id in finding_ids(first):
        at = page_app("findings", ds=without_ids, finding=finding_id).run()
        assert not at.exception
        for table in at.dataframe:
            if "Key number" in table.value:
                tables += 1
                assert not any("device" in str(n).lower() for n in table.value["Key number"]), (
                    finding_id
                )
        assert_no_empty_chart(at)
    assert tables, "no evidence table was drawn"


def test_time_of_day_counts_pings_without_device_ids(store, page_app, without_ids) -> None:
    stored = store.get(without_ids)
    chosen = next(f.id for f in analyze(stored.data, name=stored.name).findings if f.cells)
    for query in ({}, {"finding": chosen}):
        at = page_app("time", ds=without_ids, **query).run()
        assert not at.exception
        drawn = charts(at)
        assert drawn, query
        for spec, _ in drawn:
            assert y_titles(spec) == {"share of pings"}, query
        assert_no_empty_chart(at)
        text = "\n".join(m.value for m in at.main.markdown) + "\n".join(c.value for c in at.caption)
        assert "device-hours" not in text and "0 devices" not in text
        assert "because the file has no device id column" in text.replace("\\", "")
        if query:
            assert "selected area" in drawn[0][1].to_string()


@pytest.mark.parametrize(
    ("drop", "reason"),
    [
        (("device_id",), "a mix counts each device once, and the file has no device id column"),
        (("device_type",), "the file has no device type column"),
    ],
    ids=["no device ids", "no device types"],
)
def test_device_types_page_says_why_there_is_no_chart(store, page_app, drop, reason) -> None:
    dataset = upload(store, drop, ("null_island",), "missing.csv")
    at = page_app("devices", ds=dataset).run()
    assert not at.exception
    note = text_of(keyed_blocks(at, "not-drawn")["not-drawn"])
    assert note == f"No device-type chart: {reason}."
    assert not at.get("vega_lite_chart")


def test_without_device_types_only_the_mix_check_is_skipped(store, page_app) -> None:
    dataset = upload(store, ("device_type",), ("null_island",), "notypes.csv")
    at = page_app("findings", ds=dataset).run()
    caveat = text_of(keyed_blocks(at, "skipped-checks")["skipped-checks"])
    # The two mix checks, and the coverage check (no reference population).
    assert f"3 of {ALL_CHECKS} checks could not run" in caveat
    assert "Device type skew, device type changes: the file has no device type column." in caveat
    time_page = page_app("time", ds=dataset).run()
    assert {t for spec, _ in charts(time_page) for t in y_titles(spec)} == {"share of device-hours"}
    assert_no_empty_chart(time_page)


def test_no_findings_says_which_checks_ran(store, page_app) -> None:
    dataset = upload(store, ("device_id",), (), "clean.csv")
    at = page_app("findings", ds=dataset).run()
    assert not at.exception and finding_ids(at) == []
    summary = text_of(keyed_blocks(at, "findings-summary")["findings-summary"])
    assert summary.startswith("No findings in")
    ran = text_of(keyed_blocks(at, "checks-run")["checks-run"])
    assert ran == (
        "The 11 checks that ran: null island, distant points, swapped coordinates, "
        "sign flipped, at sea, timestamp heaping, coordinate precision, duplicate pings, "
        "panel gap, partial period, panel shift."
    )
    assert "skipped-checks" in keyed_blocks(at, "skipped")


def test_a_complete_file_has_no_caveat_but_the_reference(page_app) -> None:
    at = page_app("findings").run()
    assert not at.exception and finding_ids(at)
    assert not keyed_blocks(at, "checks-run")
    # Only the coverage check may be skipped: it needs a reference population.
    caveat = keyed_blocks(at, "skipped-checks")
    if caveat:
        text = text_of(caveat["skipped-checks"])
        assert f"1 of {ALL_CHECKS} checks could not run" in text
        assert "Coverage bias: no reference population was given" in text
    for name in ("time", "devices"):
        page = page_app(name).run()
        assert not keyed_blocks(page, "not-drawn") and charts(page)
        assert_no_empty_chart(page)
