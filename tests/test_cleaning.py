"""Acting on findings: the cleaned copy and the rows behind a finding, counted by hand."""

import dataclasses
import datetime as dt

import h3
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from explorer.analysis import analyze_read
from explorer.cleaning import CleanResult, affected_rows, clean, write_rows
from explorer.findings import Finding
from explorer.reading.device_hash import HASH_SEED
from explorer.reading.pings import read_pings
from explorer.summary.views import device_label
from explorer.synth.pings import generate_pings, write_pings

RADIUS = 0.01  # the null-island radius of the default config, in degrees


@pytest.fixture(scope="module")
def data(synthetic_file):
    biases = ("null_island", "duplicate_pings", "timestamp_heaping")
    result = generate_pings(50_000, seed=5, biases=biases)
    read = read_pings(synthetic_file(result, folder="cleaning"))
    return result, read, analyze_read(read, salt="salt")


def _by_hand(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(null-island mask, later-copy mask) of the generated frame, through pandas."""
    df = frame.to_pandas()
    null = ((df["lat"].abs() <= RADIUS) & (df["lon"].abs() <= RADIUS)).to_numpy()
    copies = df.duplicated(keep="first").to_numpy()
    return null, copies


def test_clean_removes_exactly_null_island_rows_and_duplicate_copies(data, tmp_path):
    result, read, analysis = data
    null, copies = _by_hand(result.pings)
    planted = {p.kind: p for p in result.planted}
    # The planted null-island rows, plus the duplicate copies planted after them.
    assert int((null & ~copies).sum()) == planted["null_island"].rows
    assert int((copies).sum()) == planted["duplicate_pings"].rows

    out = tmp_path / "clean.parquet"
    done = clean(read, ["null_island", "duplicate_pings"], out, analysis=analysis)
    assert isinstance(done, CleanResult)
    assert done.removed == {
        "null_island": int(null.sum()),
        "duplicate_pings": int((copies & ~null).sum()),
    }
    expected = result.pings.filter(pl.Series(~(null | copies)))
    assert done.kept == expected.height == result.pings.height - done.removed_total
    kept = pl.read_parquet(out)
    assert_frame_equal(kept, expected.select(kept.columns))


def test_clean_only_duplicates_keeps_first_copy(data, tmp_path):
    result, read, _ = data
    _, copies = _by_hand(result.pings)
    done = clean(read, ["duplicate_pings"], tmp_path / "d.csv")
    assert done.removed == {"duplicate_pings": int(copies.sum())}
    kept = pl.read_csv(tmp_path / "d.csv")
    assert kept.height == result.pings.unique().height
    assert kept["device_id"].to_list()[:5] == result.pings["device_id"].to_list()[:5]


def test_clean_drops_flagged_devices_by_salted_label(data, tmp_path):
    result, read, analysis = data
    busiest = result.pings["device_id"].value_counts(sort=True)["device_id"][0]
    device_hash = pl.Series([busiest]).hash(HASH_SEED)[0]
    finding = Finding(
        "device_concentration",
        "high",
        1.0,
        "t",
        "s",
        (),
        {"device": device_label(device_hash, "salt")},
    )
    flagged = dataclasses.replace(analysis, findings=[finding])
    done = clean(read, ["device_concentration"], tmp_path / "c.parquet", analysis=flagged)
    rows = int((result.pings["device_id"] == busiest).sum())
    assert rows > 0
    assert done.removed == {"device_concentration": rows}
    kept = pl.read_parquet(tmp_path / "c.parquet")
    assert busiest not in kept["device_id"].to_list()
    assert kept.height == result.pings.height - rows
    # The same rows are "behind" the finding, device ids in clear.
    assert set(affected_rows(read, finding, flagged)["device_id"].to_list()) == {busiest}


def test_clean_from_a_path_to_gzip_and_rejects_unknown_kinds(data, tmp_path):
    result, _, _ = data
    path = tmp_path / "p.csv"
    write_pings(result, path)
    null, _ = _by_hand(result.pings)
    done = clean(path, ["null_island"], tmp_path / "out.csv.gz")
    assert done.removed == {"null_island": int(null.sum())}
    assert pl.read_csv(tmp_path / "out.csv.gz").height == result.pings.height - int(null.sum())
    with pytest.raises(ValueError, match="density_spike"):
        clean(path, ["density_spike"], tmp_path / "x.csv")
    with pytest.raises(ValueError, match="format"):
        write_rows(result.pings, tmp_path / "x.xlsx")


def test_affected_rows_of_null_island_and_duplicates(data):
    result, read, analysis = data
    null, _ = _by_hand(result.pings)
    island = next(f for f in analysis.findings if f.kind == "null_island")
    assert affected_rows(read, island, analysis).height == int(null.sum())
    every_copy = result.pings.to_pandas().duplicated(keep=False)
    dup = {"kind": "duplicate_pings", "cells": [], "evidence": {}}
    assert affected_rows(read, dup, analysis).height == int(every_copy.sum())


def test_affected_rows_in_cells_match_h3(data):
    result, read, analysis = data
    frame = result.pings.head(2_000)
    by_h3 = [h3.latlng_to_cell(a, b, 8) for a, b in zip(frame["lat"], frame["lon"])]
    cell = max(set(by_h3), key=by_h3.count)
    finding = {"kind": "density_spike", "cells": [cell], "evidence": {}}
    every = [h3.latlng_to_cell(a, b, 8) for a, b in zip(result.pings["lat"], result.pings["lon"])]
    assert affected_rows(read, finding, analysis).height == every.count(cell)


def test_affected_rows_of_heaped_timestamps(data):
    result, read, analysis = data
    finding = {
        "kind": "timestamp_heaping",
        "cells": [],
        "evidence": {"clock": "utc", "heaps": [{"time": "04:00:00"}]},
    }
    at_four = sum(
        t.astimezone(dt.UTC).time() == dt.time(4, 0, 0) for t in result.pings["timestamp"].to_list()
    )
    assert at_four > 0
    assert affected_rows(read, finding, analysis).height == at_four


def test_affected_rows_of_dataset_wide_concentration_are_the_busiest_devices(data):
    result, read, analysis = data
    finding = {
        "kind": "device_concentration",
        "cells": [],
        "evidence": {"scope": "dataset", "top_devices": 3},
    }
    counts = sorted(result.pings["device_id"].value_counts()["count"].to_list(), reverse=True)
    rows = affected_rows(read, finding, analysis)
    assert rows.height == sum(counts[:3])
    assert rows["device_id"].n_unique() == 3


def test_clean_never_writes_over_its_input(tmp_path, write_file):
    """The Python API refuses it too: the cleaned copy would replace the pings it came from."""
    text = "device_id,timestamp,lat,lon\na,1700000000,48.85,2.35\na,1700000000,48.85,2.35\n"
    source = write_file("p.csv", text)
    with pytest.raises(ValueError, match="p.csv is one of the input files"):
        clean(str(source), drop=["duplicate_pings"], output=source)
    assert source.read_text() == text
    result = clean(str(source), drop=["duplicate_pings"], output=tmp_path / "c.csv")
    assert result.kept == 1 and source.read_text() == text
