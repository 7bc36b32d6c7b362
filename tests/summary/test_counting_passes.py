"""The fast summary paths against a plain, obviously-correct polars reference.

``prepare`` derives clock fields with integer arithmetic and ``summary_devices`` counts
the per-device tables on dense codes; here both are compared, table by table, with the
straightforward calendar functions and hash group-bys they replace.
"""

import datetime as dt
import threading

import numpy as np
import polars as pl
import polars_h3 as plh3
import pytest

from explorer._speed import blocks
from explorer.binning import prepare as summary_prepare
from explorer.binning.decimals import DECIMALS_TOLERANCE, MAX_DECIMALS, coordinate_decimals
from explorer.binning.prepare import prepare
from explorer.reading.device_hash import HASH_SEED
from explorer.summary import TABLES, summarise
from tests.summary.test_summary import POOL, frame

UTC = dt.UTC


def reference_clock(pings: pl.DataFrame, resolution: int) -> pl.DataFrame:
    """Local clock fields from polars' calendar functions on the local datetime."""
    prepared = prepare(pings, resolution)
    from explorer.binning.cells import latlng_to_cells
    from explorer.geography.timezones import local_offsets_by_cell

    offset = local_offsets_by_cell(
        pings["timestamp"], latlng_to_cells(pings["lat"], pings["lon"], resolution)
    )
    local = (pings["timestamp"].dt.epoch("us") + offset.cast(pl.Int64) * 1_000_000).cast(
        pl.Datetime("us")
    )
    ts = pl.col("timestamp")
    return prepared.with_columns(local=local).select(
        hour=pl.col("local").dt.hour().cast(pl.Int8),
        weekday=(pl.col("local").dt.weekday() - 1).cast(pl.Int8),
        day=pl.col("local").dt.date(),
        second_local=(
            pl.col("local").dt.hour().cast(pl.Int32) * 3600
            + pl.col("local").dt.minute().cast(pl.Int32) * 60
            + pl.col("local").dt.second().cast(pl.Int32)
        ),
        second_utc=ts.dt.hour().cast(pl.Int32) * 3600
        + ts.dt.minute().cast(pl.Int32) * 60
        + ts.dt.second().cast(pl.Int32),
    )


def reference_device_tables(prepared: pl.DataFrame) -> dict[str, pl.DataFrame]:
    with_device = prepared.filter(pl.col("device").is_not_null())
    count = pl.len().cast(pl.Int64).alias("pings")
    return {
        "cell_devices": with_device.group_by("cell", "device").agg(
            count,
            hour_mask=pl.lit(2, pl.UInt32).pow(pl.col("hour").cast(pl.UInt32)).bitwise_or(),
        ),
        "devices": with_device.group_by("device", "device_type").agg(
            count,
            coarse_pings=pl.col("coarse").sum().cast(pl.Int64),
            first_seen=pl.col("timestamp").min(),
            last_seen=pl.col("timestamp").max(),
        ),
        "device_days": with_device.group_by("device", "day").agg(
            count,
            hour_mask=pl.lit(2, pl.UInt32).pow(pl.col("hour").cast(pl.UInt32)).bitwise_or(),
        ),
        "device_nights": with_device.filter((pl.col("hour") >= 22) | (pl.col("hour") < 6))
        .group_by(
            "device",
            "cell",
            night=pl.when(pl.col("hour") < 6)
            .then(pl.col("day") - pl.duration(days=1))
            .otherwise(pl.col("day")),
        )
        .agg(count),
        "device_moments": with_device.with_columns(second=pl.col("timestamp").dt.epoch("s"))
        .group_by(
            "device",
            hour=(pl.col("second") // 3_600).cast(pl.Int32),
            place=plh3.cell_to_parent("cell", min(5, resolution_of(prepared))),
        )
        .agg(count, first_seen=pl.col("second").min(), last_seen=pl.col("second").max()),
    }


def resolution_of(prepared: pl.DataFrame) -> int:
    """The H3 resolution of the prepared pings' cells (by polars-h3, not our wrapper)."""
    return int(prepared.select(plh3.get_resolution("cell")).to_series().max() or 0)


def hard_pings() -> pl.DataFrame:
    """Nulls, several types per device, instants before 1970, fractions of seconds."""
    rows = [
        ("a", dt.datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC), 40.71, -74.0, "ios"),
        ("a", dt.datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC), 40.71, -74.0, "android"),
        ("a", dt.datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC), 40.71, -74.0, "ios"),
        ("b", dt.datetime(1965, 3, 1, 12, 0, 0, tzinfo=UTC), -33.87, 151.21, "unknown"),
        (None, dt.datetime(2024, 7, 1, 23, 30, tzinfo=UTC), 40.71, -74.0, "ios"),
        ("c", dt.datetime(2024, 3, 10, 6, 59, 59, 999_999, tzinfo=UTC), 40.71, -74.0, "ios"),
        ("c", dt.datetime(2024, 3, 10, 7, 0, 0, tzinfo=UTC), 40.71, -74.0, "ios"),
        ("d", dt.datetime(2030, 1, 1, 0, 0, tzinfo=UTC), 0.0, 0.0, "windows phone"),
    ]
    return frame(rows)


def spread_over_years(n: int, seed: int) -> pl.DataFrame:
    """Many devices over ten years: the key spaces are sparse, so the sort paths run."""
    rng = np.random.default_rng(seed)
    stamps = rng.integers(1_300_000_000, 1_620_000_000, n) * 1_000_000
    return pl.DataFrame(
        {
            "device_id": [f"p{i}" for i in rng.integers(0, n // 2, n)],
            "timestamp": pl.Series(stamps).cast(pl.Datetime("us", "UTC")),
            "lat": rng.uniform(-60, 70, n),
            "lon": rng.uniform(-180, 180, n),
            "device_type": rng.choice(["ios", "android", "unknown"], n),
        }
    )


CASES = {
    "pool": (POOL, 7),
    "hard": (hard_pings(), 8),
    "years": (spread_over_years(20_000, 3), 9),
    "empty": (POOL.head(0), 8),
}


@pytest.mark.parametrize("block", [3, None])
@pytest.mark.parametrize("name", list(CASES))
def test_clock_fields_match_calendar_functions(monkeypatch, name, block):
    """Worked out a block of pings at a time: small blocks (ends included) too."""
    if block is not None:
        monkeypatch.setattr(blocks, "CACHE_BLOCK", block)
    pings, res = CASES[name]
    ours = prepare(pings, res).select("hour", "weekday", "day", "second_local", "second_utc")
    assert ours.equals(reference_clock(pings, res))


def reference_cell_tables(prepared: pl.DataFrame) -> dict[str, pl.DataFrame]:
    count = pl.len().cast(pl.Int64).alias("pings")
    return {
        "cells": prepared.group_by("cell").agg(
            count,
            no_device_pings=pl.col("device").is_null().sum().cast(pl.Int64),
            first_seen=pl.col("timestamp").min(),
            last_seen=pl.col("timestamp").max(),
        ),
        "cell_hours": prepared.group_by("cell", "hour").agg(count),
        "cell_weekdays": prepared.group_by("cell", "weekday").agg(count),
        "cell_types": prepared.group_by("cell", "device_type").agg(count),
        "seconds_utc": prepared.group_by(pl.col("second_utc").alias("second")).agg(count),
        "seconds_local": prepared.group_by(pl.col("second_local").alias("second")).agg(count),
        "decimals": prepared.group_by("lat_decimals", "lon_decimals").agg(count),
        # Floor division: the hour of half a second before 1970 is -1, not 0.
        "period_hours": prepared.group_by(
            hour=(pl.col("timestamp").dt.epoch("s") // 3_600).cast(pl.Int32), day="day"
        ).agg(count),
    }


@pytest.mark.parametrize("name", list(CASES))
def test_counted_tables_match_group_bys(name):
    """Every table counted on codes equals its plain polars group-by."""
    pings, res = CASES[name]
    prepared = prepare(pings, res)
    ours = summarise(pings, res).tables
    ref = {**reference_cell_tables(prepared), **reference_device_tables(prepared)}
    for table, reference in ref.items():
        keys = list(TABLES[table][0])
        a, b = ours[table].sort(keys), reference.sort(keys).select(ours[table].columns)
        assert a.schema == b.schema, table
        assert a.equals(b), table


@pytest.mark.parametrize("name", ["pool", "hard", "years"])
def test_sparse_key_paths_match_group_bys(name, monkeypatch):
    """With every key space counted as sparse, the sort and factorize paths run."""
    from explorer.summary import device_tables as summary_devices

    monkeypatch.setattr(summary_devices, "_DENSE_FACTOR", 0)
    monkeypatch.setattr(summary_devices, "_DENSE_SLACK", 0)
    pings, res = CASES[name]
    prepared = prepare(pings, res)
    ours, ref = summarise(pings, res).tables, reference_device_tables(prepared)
    for table, reference in ref.items():
        keys = list(TABLES[table][0])
        a, b = ours[table].sort(keys), reference.sort(keys).select(ours[table].columns)
        assert a.equals(b), table


@pytest.mark.parametrize("name", ["pool", "hard", "years"])
def test_moments_too_wide_to_sort_are_grouped_alike(name, monkeypatch):
    """Key spaces too wide to carry the seconds take the hash group-by: same table."""
    from explorer.summary import device_tables as summary_devices

    monkeypatch.setattr(summary_devices, "_KEY_LIMIT", 1)
    pings, res = CASES[name]
    ours = summarise(pings, res).tables["device_moments"]
    reference = reference_device_tables(prepare(pings, res))["device_moments"]
    keys = list(TABLES["device_moments"][0])
    assert ours.sort(keys).equals(reference.sort(keys).select(ours.columns))


def test_hard_case_values_by_hand():
    s = summarise(hard_pings(), 8)
    devices = s.tables["devices"]
    a = devices.filter(pl.col("device") == pl.lit("a").hash(HASH_SEED))
    # One phone reported as two types: two rows, 2 + 1 pings.
    assert sorted(zip(a["device_type"], a["pings"])) == [("android", 1), ("ios", 2)]
    # Half a second before the epoch is 1969-12-31 18:59:59 in New York (EST).
    days = s.tables["device_days"].filter(pl.col("device") == pl.lit("a").hash(HASH_SEED))
    assert sorted(days["day"].to_list()) == [dt.date(1969, 12, 31)]
    hours = s.tables["cell_devices"].filter(pl.col("device") == pl.lit("a").hash(HASH_SEED))
    assert hours["hour_mask"].to_list() == [1 << 18 | 1 << 19]
    assert days["hour_mask"].to_list() == [1 << 18 | 1 << 19]
    # The two pings half a second before 1970 lie in the UTC hour -1.
    period = s.tables["period_hours"]
    assert period.filter(pl.col("hour") == -1)["pings"].sum() == 2
    assert period["pings"].sum() == s.rows_used


@pytest.mark.parametrize("block", [7, None])
@pytest.mark.parametrize("name", ["pool", "hard", "years"])
def test_compacting_equals_compact_of_full_summary(monkeypatch, name, block):
    """Coordinate keys are mixed a block at a time: small blocks (ends included) too."""
    from explorer.summary.compact import compact

    if block is not None:
        monkeypatch.setattr(blocks, "CACHE_BLOCK", block)

    pings, res = CASES[name]
    # Shared coordinates, exact duplicate rows, and -0.0 beside 0.0.
    extra = pings.head(50).with_columns(device_id=pl.lit("shared"))
    zeros = pings.head(2).with_columns(lat=pl.Series([0.0, -0.0]), lon=pl.lit(12.5))
    # Pings alone on their coordinate that the keep rule keeps: far away, near null island.
    alone = pings.head(3).with_columns(
        lat=pl.Series([-45.0, -45.5, 0.001]), lon=pl.Series([170.0, 170.5, 0.002])
    )
    pings = pl.concat([pings, extra, zeros, pings.head(3), alone])
    fast = summarise(pings, res, per_ping="compact").canonical()
    full = compact(summarise(pings, res)).canonical()
    for table in ("coords", "rows"):
        assert fast.tables[table].height > 0, table
        assert fast.tables[table].equals(full.tables[table]), table
    kept = full.tables["coords"].filter(pl.col("lat").is_in([-45.0, -45.5, 0.001]))
    assert kept["pings"].to_list() == ([1, 1, 1] if name == "pool" else [1])  # far: pool only


def reference_device_frame(summary) -> pl.DataFrame:
    """The per-device view by plain hash group-bys and joins."""
    from explorer.summary.views import device_types

    t = summary.tables
    devices = (
        t["devices"]
        .group_by("device")
        .agg(
            pl.col("pings").sum(),
            pl.col("coarse_pings").sum(),
            pl.col("first_seen").min(),
            pl.col("last_seen").max(),
        )
    )
    cells = t["cell_devices"].group_by("device").agg(cells=pl.len().cast(pl.Int64))
    days = t["device_days"].group_by("device").agg(active_days=pl.len().cast(pl.Int64))
    return (
        devices.join(device_types(summary).select("device", "device_type"), on="device")
        .join(cells, on="device", how="left")
        .join(days, on="device", how="left")
        .with_columns(pings_per_day=pl.col("pings") / pl.col("active_days").clip(1))
        .sort("device")
    )


def reference_cell_views(summary) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Devices per hour and per main type of each cell, by joins and group-bys."""
    from explorer.summary.views import device_types

    cd = summary.tables["cell_devices"]
    hours = cd.with_columns(hour=pl.int_ranges(0, 24)).explode("hour")
    bit = pl.lit(2, pl.UInt32).pow(pl.col("hour").cast(pl.UInt32))
    seen = hours.filter((pl.col("hour_mask") & bit) > 0)
    by_hour = seen.group_by("cell", "hour").agg(n=pl.len())
    typed = cd.join(device_types(summary).select("device", "device_type"), on="device")
    by_type = typed.group_by("cell", "device_type").agg(n=pl.len())
    return by_hour, by_type


@pytest.mark.parametrize("name", ["pool", "hard", "years"])
def test_device_and_cell_views_match_plain_group_bys(name):
    from explorer.summary import views as derived

    pings, res = CASES[name]
    s = summarise(pings, res)
    ours = derived.device_frame(s)
    assert ours.equals(reference_device_frame(s).select(ours.columns))
    cells = derived.cell_frame(s)
    by_hour, by_type = reference_cell_views(s)
    hours = (
        cells.select("cell", n="hour_devices", hour=pl.int_ranges(0, 24))
        .explode("n", "hour")
        .filter(pl.col("n") > 0)
    )
    joined = by_hour.join(hours, on=["cell", "hour"], how="full", coalesce=True)
    assert joined.height == by_hour.height and (joined["n"] == joined["n_right"]).all()
    types = cells.select("cell", "type_devices").explode("type_devices").unnest("type_devices")
    types = types.filter(pl.col("device_type").is_not_null())  # cells without device ids
    joined = by_type.join(types, on=["cell", "device_type"], how="full", coalesce=True)
    assert joined.height == by_type.height and (joined["n"] == joined["n_right"]).all()


@pytest.mark.parametrize("parts", [1, 3, 7])
def test_reduce_compact_equals_compact_of_reduced_pieces(parts):
    from explorer.summary.compact import (
        CoordsKeep,
        compact_table,
        reduce_compact,
        reduce_table,
    )

    pings, res = CASES["pool"]
    # Exact duplicates inside one piece and across pieces, a far point, null island.
    pings = pl.concat([pings, pings.head(30), pings.head(5)])
    pieces = [summarise(pings[i::parts], res) for i in range(parts)]
    keep = CoordsKeep(0.5, 40.75, -73.9, 5.0)
    for name in ("coords", "rows"):
        frames = [p.tables[name] for p in pieces]
        slow = compact_table(name, reduce_table(name, frames), keep)
        fast = reduce_compact(name, frames, keep)
        keys = list(slow.columns[:-1])
        assert fast.height > 0 and fast.sort(keys).equals(slow.sort(keys)), name


def reference_decimals(values: np.ndarray) -> np.ndarray:
    """Decimals as the number of places (0..7) whose rounding moves the value too far."""
    x = pl.col("x")
    return (
        pl.DataFrame({"x": values})
        .select(
            pl.sum_horizontal(
                [
                    ((x - x.round(d)).abs() > DECIMALS_TOLERANCE).cast(pl.UInt8)
                    for d in range(MAX_DECIMALS)
                ]
            ).cast(pl.UInt8)
        )
        .to_series()
        .to_numpy()
    )


def test_coordinate_decimals_match_counting_every_rounding():
    rng = np.random.default_rng(12)
    raw = rng.uniform(-180, 180, 60_000)
    values = np.concatenate(
        [
            raw,  # full precision
            *(np.round(raw[:5_000], d) for d in range(10)),  # every precision
            np.round(raw[:5_000], 6) + rng.choice([-1, 1], 5_000) * 1e-9,  # at the tolerance
            [40.790000000000006, 40.79, -0.0, 0.0, 180.0, -180.0, 90.0, 1e-9, 40.713198299],
        ]
    )
    ours = coordinate_decimals(values)
    assert np.array_equal(ours, reference_decimals(values))
    assert ours[-9:].tolist() == [2, 2, 0, 0, 0, 0, 0, 0, 8]  # 1e-9 is within tolerance of 0
    assert set(ours.tolist()) == set(range(MAX_DECIMALS + 1))


@pytest.mark.parametrize("block", [1, 7, 4096])
def test_coordinate_decimals_are_the_same_whatever_the_rounding_block(monkeypatch, block):
    """Values are rounded a block at a time: blocks of any size, ends included, agree with
    rounding every value by itself."""

    monkeypatch.setattr(blocks, "CACHE_BLOCK", block)
    rng = np.random.default_rng(block)
    raw = rng.uniform(-90, 90, 10_001)
    places = rng.integers(0, 10, raw.size)  # 9 keeps the value at full precision
    values = np.array([round(v, p) if p < 9 else v for v, p in zip(raw, places)])
    assert np.array_equal(coordinate_decimals(values), reference_decimals(values))
    assert coordinate_decimals(np.zeros(0)).size == 0


@pytest.mark.parametrize(
    "module, failing",
    [("build", "place_tables"), ("build", "clock_tables"), ("prepare", "_clock")],
)
def test_a_failing_table_raises_instead_of_hanging(monkeypatch, module, failing):
    """The compacted per-ping tables wait for the place tables; if those or the others
    fail, the error comes out."""
    from explorer.summary import build

    def broken(*_args):
        raise RuntimeError("cell tables failed")

    monkeypatch.setattr(build if module == "build" else summary_prepare, failing, broken)
    outcome = []

    def run():
        try:
            summarise(POOL, 8, per_ping="compact")
        except RuntimeError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "summarise hung"
    assert outcome == ["cell tables failed"]


def _recorded(events, name, work, delay=0.0):
    """``work`` that sleeps ``delay`` seconds first and records ``name`` when done."""
    import time

    def run(*args):
        time.sleep(delay)
        out = work(*args)
        events.append(name)
        return out

    return run


def test_the_place_tables_and_repeats_are_counted_while_the_time_zones_are_looked_up(
    monkeypatch,
):
    """Neither needs a local clock: both are done before slow time zones are, and the
    summary is the same as without the delay."""
    from explorer.summary import build

    expected = summarise(POOL, 8, per_ping="compact").canonical()
    events = []
    offsets = _recorded(events, "offsets", summary_prepare.local_offsets_by_cell, delay=0.5)
    monkeypatch.setattr(summary_prepare, "local_offsets_by_cell", offsets)
    monkeypatch.setattr(build, "place_tables", _recorded(events, "place", build.place_tables))
    monkeypatch.setattr(build, "repeats_of", _recorded(events, "repeats", build.repeats_of))
    result = summarise(POOL, 8, per_ping="compact").canonical()
    assert sorted(events[:2]) == ["place", "repeats"] and events[2:] == ["offsets"]
    for name in TABLES:
        assert result.tables[name].equals(expected.tables[name]), name


def test_the_devices_table_is_counted_while_h3_runs(monkeypatch):
    """It needs no cell: it is done before slow H3 is."""
    from explorer.summary import build

    events = []
    cells = _recorded(events, "cells", summary_prepare.latlng_to_cells, delay=0.5)
    monkeypatch.setattr(summary_prepare, "latlng_to_cells", cells)
    monkeypatch.setattr(build, "devices_table", _recorded(events, "devices", build.devices_table))
    result = summarise(POOL, 8)
    assert events == ["devices", "cells"]
    assert result.tables["rows"]["pings"].sum() == POOL.height


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_repeated_marks_exactly_the_keys_seen_twice(seed):
    from collections import Counter

    from explorer.summary.compact import repeated

    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 2**64, size=50_000, dtype=np.uint64)
    # repeats, some far apart, and keys sharing their top bits with a repeated key
    # (they pass the table and must be told apart exactly)
    keys[rng.integers(0, keys.size, 5_000)] = keys[rng.integers(0, keys.size, 5_000)]
    near = keys[:100] ^ np.uint64(1)  # same top bits as keys[:100], different keys
    keys = np.concatenate([keys, near, keys[:100]])
    seen = Counter(keys.tolist())
    expected = [seen[k] > 1 for k in keys.tolist()]
    assert repeated(keys).to_list() == expected
    assert repeated(keys.view(np.int64)).to_list() == expected  # signed keys too


def test_repeated_without_repeats_and_empty():
    from explorer.summary.compact import repeated

    assert not repeated(np.arange(1000, dtype=np.uint64)).any()
    assert repeated(np.zeros(0, dtype=np.uint64)).len() == 0
    assert repeated(np.array([7, 7], dtype=np.uint64)).to_list() == [True, True]


@pytest.mark.parametrize(
    ("lat0", "lon0", "km"),
    [(40.75, -73.9, 5.0), (-33.9, 179.9, 40.0), (64.1, -21.9, 2_000.0), (1.0, 0.9, 0.3)],
)
def test_keep_mask_equals_the_keep_expression(lat0, lon0, km):
    """The numpy keep rule used on a row per ping marks exactly what the expression marks,
    across the antimeridian, at the null-island box's edges and at the disk's box edges."""
    from explorer.summary.compact import CoordsKeep

    rng = np.random.default_rng(7)
    keep = CoordsKeep(0.5, lat0, lon0, km)
    dlat = 0.9 * km / np.sqrt(2) / 111.2
    lat = np.concatenate(
        [
            rng.uniform(-90, 90, 20_000),
            lat0 + rng.normal(0, dlat, 20_000),
            [0.5, -0.5, 0.5000001, lat0 + dlat, lat0 - dlat, 90.0, -90.0],
        ]
    )
    lon = np.concatenate(
        [
            rng.uniform(-180, 180, 20_000),
            (lon0 + rng.normal(0, 2 * dlat, 20_000) + 180) % 360 - 180,
            [-0.5, 0.5, 0.0, lon0, lon0, 180.0, -180.0],
        ]
    )
    expected = pl.DataFrame({"lat": lat, "lon": lon}).select(keep.expr()).to_series()
    got = keep.mask(lat, lon)
    assert got.dtype == np.bool_
    assert got.tolist() == expected.to_list()
    assert 0 < got.sum() < got.size
    near_only = CoordsKeep(0.5)
    assert near_only.mask(lat, lon).tolist() == (
        pl.DataFrame({"lat": lat, "lon": lon}).select(near_only.expr()).to_series().to_list()
    )


@pytest.mark.parametrize(
    ("name", "keys"),
    [("coords", None), ("rows", None), ("devices", ("device",)), ("coords", ("lat", "device"))],
)
def test_partitions_split_every_row_once_by_key_and_spread_round_coordinates(name, keys):
    """A key always lands in the same partition (whatever frame it comes in), every row
    lands once, and whole-degree coordinates (zero low bits) still spread out."""
    from explorer.summary.compact import partition

    rng = np.random.default_rng(3)
    n = 20_000
    frame = pl.DataFrame(
        {
            "lat": rng.integers(-60, 60, n).astype(float),  # whole degrees
            "lon": rng.integers(-170, 170, n).astype(float),
            "device": pl.Series(rng.integers(0, 2**64, n, dtype=np.uint64), dtype=pl.UInt64),
            "row_hash": pl.Series(rng.integers(0, 2**64, n, dtype=np.uint64), dtype=pl.UInt64),
            "pings": np.ones(n, dtype=np.int64),
        }
    )
    key_columns = list(keys or {"coords": ("lat", "lon"), "rows": ("row_hash",)}[name])
    whole = partition(frame, name, 8, keys)
    assert sum(p.height for p in whole.values()) == n
    assert len(whole) >= 6  # spread, not piled on one partition
    halves = [
        partition(frame.head(n // 2), name, 8, keys),
        partition(frame.tail(n // 2), name, 8, keys),
    ]
    for index, piece in whole.items():
        seen = {tuple(r) for r in piece.select(key_columns).rows()}
        for half in halves:
            for other, part in half.items():
                overlap = seen & {tuple(r) for r in part.select(key_columns).rows()}
                assert not overlap or other == index
    assert partition(frame, name, 1, keys) == {0: frame}


@pytest.mark.parametrize("name", ["pool", "hard", "years"])
def test_period_hours_counted_in_small_blocks(name, monkeypatch):
    """The period table is counted a block at a time: blocks of 7 pings (last one short)
    give the plain group-by's table."""
    from explorer._speed import blocks

    monkeypatch.setattr(blocks, "CACHE_BLOCK", 7)
    pings, res = CASES[name]
    ours = summarise(pings, res).tables["period_hours"]
    reference = reference_cell_tables(prepare(pings, res))["period_hours"]
    keys = list(TABLES["period_hours"][0])
    assert ours.height > 1
    assert ours.sort(keys).equals(reference.sort(keys).select(ours.columns))
