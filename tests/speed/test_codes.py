"""Dense codes: the same codes whether values come in runs (sorted exports) or not."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer._speed import codes as summary_codes
from explorer._speed.codes import factorize


def _by_hand(values: list[int]) -> tuple[list[int], list[int]]:
    """Codes in order of first appearance, computed the obvious way."""
    seen: dict[int, int] = {}
    codes = [seen.setdefault(v, len(seen)) for v in values]
    return codes, list(seen)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(1, 5)), max_size=40))
def test_codes_in_order_of_first_appearance_with_and_without_runs(pieces):
    values = [v for v, repeat in pieces for _ in range(repeat)]
    series = pl.Series(values, dtype=pl.UInt64)
    codes, distinct = _by_hand(values)
    coded = factorize(series)
    assert coded.codes.tolist() == codes
    assert coded.codes.dtype == np.int32
    assert coded.values.tolist() == distinct


@pytest.mark.parametrize("sorted_by_value", [True, False])
def test_run_and_plain_encodings_agree(sorted_by_value, monkeypatch):
    rng = np.random.default_rng(3)
    values = rng.integers(0, 2**64, 2_000, dtype=np.uint64)[rng.integers(0, 2_000, 50_000)]
    if sorted_by_value:
        values = np.repeat(values[:5_000], 10)  # runs of ten: encoded run by run
    series = pl.Series(values)
    runs = factorize(series)
    monkeypatch.setattr(summary_codes, "RUN_SHARE", 0.0)  # never by runs
    plain = factorize(series)
    assert runs.codes.tolist() == plain.codes.tolist()
    assert runs.values.tolist() == plain.values.tolist()


def test_runs_are_encoded_once_each(monkeypatch):
    encoded_sizes = []
    encode = summary_codes._encode
    monkeypatch.setattr(
        summary_codes, "_encode", lambda keys: encoded_sizes.append(keys.size) or encode(keys)
    )
    factorize(pl.Series(np.repeat(np.arange(100, dtype=np.uint64), 7)))
    assert encoded_sizes == [100]
    factorize(pl.Series(np.arange(700, dtype=np.uint64)))  # no runs: every value
    assert encoded_sizes == [100, 700]


def test_empty_and_single_values():
    assert factorize(pl.Series([], dtype=pl.UInt64)).codes.size == 0
    single = factorize(pl.Series([9], dtype=pl.UInt64))
    assert single.codes.tolist() == [0] and single.values.tolist() == [9]


def test_keys_made_of_codes_pass_32_bits_without_overflow():
    """Codes are int32; each key made of a code times a key space is 64-bit. Here each
    last key is about 3e9, past 2**31, so 32-bit arithmetic would give wrong rows."""
    import datetime as dt

    from explorer._speed.codes import Coded, DeviceCodes
    from explorer.summary.cell_tables import _by_cell
    from explorer.summary.device_tables import _device_days, _devices

    two = np.array([0, 1], dtype=np.int64)
    devices = DeviceCodes(
        Coded(np.array([0, 69_999], dtype=np.int32), np.arange(70_000, dtype=np.uint64)), None
    )
    days = _device_days(
        devices, np.array([0, 39_999], dtype=np.int32), np.array([0, 23], dtype=np.int8)
    )
    last_day = dt.date(1970, 1, 1) + dt.timedelta(days=39_999)
    assert sorted(days.select("device", "day").rows()) == [
        (0, dt.date(1970, 1, 1)),
        (69_999, last_day),
    ]
    types = Coded(
        np.array([0, 39_999], dtype=np.int32), pl.Series([f"t{i}" for i in range(40_000)])
    )
    table = _devices(devices, types, two > 0, two, pl.Datetime("us", "UTC"))
    assert sorted(table.select("device", "device_type").rows()) == [(0, "t0"), (69_999, "t39999")]
    cells = Coded(np.array([0, 99_999], dtype=np.int32), np.arange(100_000, dtype=np.uint64))
    by_cell = _by_cell(cells, np.array([0, 29_999], dtype=np.int32), 30_000, "inner", pl.Int64)
    assert sorted(by_cell.select("cell", "inner").rows()) == [(0, 0), (99_999, 29_999)]


@pytest.mark.parametrize(
    ("keys", "starts", "lengths"),
    [
        ([], [], []),
        ([7], [0], [1]),
        ([1, 1, 1], [0], [3]),
        ([1, 2, 2, 5, 5, 5, 9], [0, 1, 3, 6], [1, 2, 3, 1]),
    ],
)
def test_runs_of_sorted_keys(keys, starts, lengths):
    from explorer._speed.codes import runs

    got_starts, got_lengths = runs(np.array(keys, dtype=np.int64))
    assert got_starts.tolist() == starts
    assert got_lengths.tolist() == lengths
