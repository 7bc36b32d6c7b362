"""Column detection, device-type normalisation, epoch units and timestamp formats."""

from __future__ import annotations

import polars as pl
import pytest

from explorer.errors import ColumnMappingError, PingFileError
from explorer.reading.column_names import ALIASES, detect_columns
from explorer.reading.detection import (
    detect_epoch_unit,
    detect_timestamp_format,
    normalise_device_type,
)

BASE = {"lat": "lat", "lon": "lon", "timestamp": "timestamp"}


def test_alias_tables_are_the_designs_lists_in_order() -> None:
    assert ALIASES["lat"] == ("lat", "latitude", "y", "lat_deg", "location_lat")
    assert ALIASES["lon"] == (
        *("lon", "lng", "long", "longitude", "x", "lon_deg", "location_lon", "location_lng"),
    )
    assert ALIASES["timestamp"] == (
        *("timestamp", "ts", "time", "datetime", "event_time", "utc_timestamp"),
        *("created_at", "checkin_time"),
    )
    assert ALIASES["device_id"] == (
        *("device_id", "maid", "ad_id", "advertising_id", "idfa", "gaid", "user_id", "uid"),
        *("id_android", "device"),
    )
    assert ALIASES["device_type"] == (
        *("os", "platform", "device_type", "device_os", "os_name", "device_class"),
    )


@pytest.mark.parametrize(
    ("role", "alias"),
    [(role, alias) for role in ("lat", "lon", "timestamp") for alias in ALIASES[role]],
)
def test_every_required_alias_is_found_case_insensitively(role: str, alias: str) -> None:
    others = {r: n for r, n in {"lat": "lat", "lon": "lon", "timestamp": "ts"}.items() if r != role}
    if role == "timestamp":
        others = {"lat": "lat", "lon": "lon"}
    names = [*others.values(), alias.upper()]
    found = detect_columns(names)
    assert found[role] == alias.upper()


@pytest.mark.parametrize(
    ("role", "alias"),
    [(role, alias) for role in ("device_id", "device_type") for alias in ALIASES[role]],
)
def test_every_optional_alias_is_found(role: str, alias: str) -> None:
    found = detect_columns(["lat", "lon", "timestamp", f" {alias.title()} "])
    assert found[role] == f" {alias.title()} "


def test_earlier_alias_wins_and_result_order_is_canonical() -> None:
    found = detect_columns(["Longitude", "lng", "latitude", "LAT", "created_at", "ts", "uid", "os"])
    assert found == {
        "lat": "LAT",
        "lon": "lng",
        "timestamp": "ts",
        "device_id": "uid",
        "device_type": "os",
    }


def test_optional_roles_absent_are_omitted() -> None:
    assert detect_columns(["lat", "lon", "timestamp", "speed"]) == BASE


def test_two_columns_on_one_alias_is_an_error_naming_both() -> None:
    with pytest.raises(PingFileError, match="'Lat' and 'LAT'"):
        detect_columns(["Lat", "LAT", "lon", "timestamp"])


def test_missing_required_roles_raise_with_available_and_flags() -> None:
    with pytest.raises(ColumnMappingError) as info:
        detect_columns(["a", "b", "when"])
    assert info.value.available == ["a", "b", "when"]
    assert info.value.missing == ["lat", "lon", "timestamp"]
    message = str(info.value)
    assert "a, b, when" in message
    assert "--lat-col" in message and "--lon-col" in message and "--time-col" in message


def test_explicit_mapping_wins_over_aliases() -> None:
    names = ["lat", "lon", "timestamp", "northing", "easting", "when", "phone"]
    found = detect_columns(
        names, {"lat": "northing", "lon": "easting", "timestamp": "when", "device_id": "phone"}
    )
    assert found == {"lat": "northing", "lon": "easting", "timestamp": "when", "device_id": "phone"}


def test_explicit_mapping_to_missing_column_is_an_error() -> None:
    with pytest.raises(ColumnMappingError, match="'nope'") as info:
        detect_columns(["lat", "lon", "timestamp"], {"lat": "nope"})
    assert info.value.missing == ["lat"]


def test_unknown_role_is_an_error() -> None:
    with pytest.raises(PingFileError, match="Unknown column role"):
        detect_columns(["lat", "lon", "timestamp"], {"latitude": "lat"})


def test_date_and_time_pair_wins_over_lone_time() -> None:
    found = detect_columns(["lat", "lon", "Date", "Time"])
    assert found == {"lat": "lat", "lon": "lon", "date": "Date", "time": "Time"}


def test_timestamp_alias_wins_over_date_time_pair() -> None:
    found = detect_columns(["lat", "lon", "date", "time", "timestamp"])
    assert found == BASE


def test_explicit_date_with_timestamp_becomes_a_pair() -> None:
    found = detect_columns(["lat", "lon", "day", "clock"], {"date": "day", "timestamp": "clock"})
    assert found == {"lat": "lat", "lon": "lon", "date": "day", "time": "clock"}


def test_explicit_time_without_date_is_the_timestamp() -> None:
    found = detect_columns(["lat", "lon", "when"], {"time": "when"})
    assert found == {"lat": "lat", "lon": "lon", "timestamp": "when"}


def test_device_type_normalisation_series() -> None:
    raw = pl.Series(
        "os",
        [
            *("iOS 17.2", "iPhone14,2", "ipados", " IOS ", "apple_ios", "Android 14"),
            *("android_phone", " Windows Phone ", "KaiOS", "kiosk", "", "   ", None),
        ],
    )
    assert normalise_device_type(raw).to_list() == [
        *("ios", "ios", "ios", "ios", "ios", "android", "android", "windows phone"),
        *("kaios", "kiosk", "unknown", "unknown", "unknown"),
    ]


def test_device_type_normalisation_expression_matches_series() -> None:
    raw = ["iPhone", "Android", "BlackBerry ", None, ""]
    frame = pl.DataFrame({"t": raw})
    by_expr = frame.select(normalise_device_type(pl.col("t"))).to_series().to_list()
    assert by_expr == ["ios", "android", "blackberry", "unknown", "unknown"]


def test_device_type_normalisation_many_distinct_values_uses_join() -> None:
    raw = pl.Series("os", [f"Model {i}" for i in range(100)] + ["iOS"])
    out = normalise_device_type(raw).to_list()
    assert out[:2] == ["model 0", "model 1"] and out[-1] == "ios" and len(out) == 101


@pytest.mark.parametrize(
    ("values", "unit"),
    [
        ([1_700_000_000, 1_600_000_000, 1], "s"),
        ([1_700_000_000_000, 1_600_000_000_000], "ms"),
        ([1_700_000_000_000_000, 1_600_000_000_000_000], "us"),
        ([1_700_000_000_000_000_000], "ns"),
        ([0, 5], "s"),
    ],
)
def test_epoch_unit_from_median_magnitude(values: list[int], unit: str) -> None:
    assert detect_epoch_unit(pl.Series(values, dtype=pl.Float64)) == unit


@pytest.mark.parametrize(
    ("values", "fmt", "aware"),
    [
        (["2024-03-01T10:00:00Z", "2024-03-01T10:00:01.250Z"], "%Y-%m-%dT%H:%M:%S%.f%#z", True),
        (["2024-03-01 10:00:00+02:00"], "%Y-%m-%d %H:%M:%S%.f%#z", True),
        (["2024-03-01T10:00:00+0530"], "%Y-%m-%dT%H:%M:%S%.f%#z", True),
        (["2024-03-01T10:00:00", "2024-03-01T10:00:00.5"], "%Y-%m-%dT%H:%M:%S%.f", False),
        (["2024-03-01 10:00:00"], "%Y-%m-%d %H:%M:%S%.f", False),
        (["2024/03/01 10:00:00"], "%Y/%m/%d %H:%M:%S%.f", False),
        (["25/03/2024 10:00", "01/04/2024 11:00"], "%d/%m/%Y %H:%M", False),
        (["03/25/2024 10:00:00", "04/01/2024 11:00:00"], "%m/%d/%Y %H:%M:%S%.f", False),
        (["03/25/2024 10:00:00 PM"], "%m/%d/%Y %I:%M:%S %p", False),
        (["25.03.2024 10:00:00"], "%d.%m.%Y %H:%M:%S%.f", False),
        (["2024-03-25"], "%Y-%m-%d", False),
    ],
)
def test_timestamp_format_detection(values: list[str], fmt: str, aware: bool) -> None:
    found = detect_timestamp_format(pl.Series(values))
    assert found is not None
    assert (found.format, found.aware) == (fmt, aware)


def test_day_month_ambiguity_is_noted_and_read_day_first() -> None:
    found = detect_timestamp_format(pl.Series(["01/02/2024 10:00", "03/04/2024 11:00"]))
    assert found is not None
    assert found.format == "%d/%m/%Y %H:%M" and found.ambiguous_day_month


def test_day_first_evidence_removes_ambiguity() -> None:
    found = detect_timestamp_format(pl.Series(["01/02/2024 10:00", "13/04/2024 11:00"]))
    assert found is not None and not found.ambiguous_day_month


def test_format_that_parses_most_of_the_sample_wins() -> None:
    sample = pl.Series(["2024-03-01 10:00:00"] * 3 + ["01/03/2024 10:00"])
    found = detect_timestamp_format(sample)
    assert found is not None and found.format == "%Y-%m-%d %H:%M:%S%.f"


def test_no_format_for_garbage_or_clock_times() -> None:
    assert detect_timestamp_format(pl.Series(["soon", "later"])) is None
    assert detect_timestamp_format(pl.Series(["08:15:00", "09:00:00"])) is None
    assert detect_timestamp_format(pl.Series([None, " "], dtype=pl.String)) is None
