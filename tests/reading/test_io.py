"""read_pings and preview_table: formats, timestamps, rejection reasons, unusable files.

Expected instants are worked out by hand (epoch arithmetic and known UTC offsets).
"""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from explorer.errors import ColumnMappingError, PingFileError
from explorer.reading.pings import REJECT_REASONS, ReadResult, preview_table, read_pings
from tests.conftest import DATA_DIR

T0 = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # = 1_700_000_000 s since the epoch

SIMPLE = (
    "device_id,timestamp,lat,lon,os\n"
    "a,1700000000000,48.85,2.35,iOS\n"
    "b,1700000060000,-33.9,151.2,Android\n"
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def zero_counts(**nonzero: int) -> dict[str, int]:
    return {reason: nonzero.get(reason, 0) for reason in REJECT_REASONS}


def test_schema_and_result_fields(write_file) -> None:
    result = read_pings(write_file("pings.csv", SIMPLE))
    assert isinstance(result, ReadResult)
    assert result.pings.schema == pl.Schema(
        {
            "device_id": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "lat": pl.Float64,
            "lon": pl.Float64,
            "device_type": pl.Categorical(),
        }
    )
    assert result.source == "pings.csv"
    assert result.rows_read == 2 and result.rows_used == 2 and result.rows_rejected == 0
    assert list(result.rejected_by_reason) == list(REJECT_REASONS)
    assert result.rejected_by_reason == zero_counts()
    assert result.time_interpretation == "epoch milliseconds, UTC"
    assert result.naive_timestamps is False
    assert result.columns == {
        "lat": "lat",
        "lon": "lon",
        "timestamp": "timestamp",
        "device_id": "device_id",
        "device_type": "os",
    }
    assert result.input_sha256 == hashlib.sha256(SIMPLE.encode()).hexdigest()
    assert result.pings.rows() == [
        ("a", T0, 48.85, 2.35, "ios"),
        ("b", utc(2023, 11, 14, 22, 14, 20), -33.9, 151.2, "android"),
    ]


def test_source_label_for_bytes_and_name() -> None:
    assert read_pings(SIMPLE.encode()).source == "<bytes>"
    assert read_pings(SIMPLE.encode(), name="upload.csv").source == "upload.csv"


def test_one_row_per_reason_counted_exactly() -> None:
    result = read_pings(DATA_DIR / "reasons.csv")
    assert result.rows_read == 15
    assert result.rejected_by_reason == zero_counts(
        malformed_line=1,
        latitude_missing=2,  # one row also has a bad longitude and time: counted once
        latitude_unparsable=1,
        latitude_out_of_range=1,
        longitude_missing=1,
        longitude_unparsable=1,
        longitude_out_of_range=1,
        timestamp_missing=1,
        timestamp_unparsable=1,
    )
    assert result.rows_rejected == 10 and result.rows_used == 5
    assert result.pings.rows() == [
        ("k1", utc(2023, 11, 14, 22, 13, 20), 40.1, -73.9, "ios"),
        ("k2", utc(2023, 11, 14, 21, 13, 21), -33.9, 151.2, "android"),
        ("k3", utc(2023, 11, 14, 22, 13, 29), 0.0, 0.0, "unknown"),  # duplicates stay
        ("k3", utc(2023, 11, 14, 22, 13, 29), 0.0, 0.0, "unknown"),
        (None, utc(2023, 11, 14, 22, 13, 30), -90.0, 180.0, "pixel"),
    ]


def test_bad_value_after_the_sniffed_head_falls_back_to_strings() -> None:
    clean = "".join(f"d{i},{1_700_000_000 + i},10.5,20.5\n" for i in range(2000))
    text = "device_id,ts,lat,lon\n" + clean + "x,1700009999,1O.5,20.5\nz,nan,1,2\n"
    result = read_pings(text.encode())
    assert result.rows_read == 2002
    assert result.rejected_by_reason == zero_counts(latitude_unparsable=1, timestamp_missing=1)
    assert result.pings["timestamp"].max() == utc(2023, 11, 14, 22, 46, 39)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter(delimiter: str) -> None:
    text = SIMPLE.replace(",", delimiter)
    result = read_pings(text.encode())
    assert result.pings.rows() == read_pings(SIMPLE.encode()).pings.rows()


def test_decimal_comma_with_semicolons() -> None:
    text = "lat;lon;ts;device\n48,85;2,35;1700000000;x\n-33,9;151,2;1700000001;y\n"
    result = read_pings(text.encode())
    assert result.pings["lat"].to_list() == [48.85, -33.9]
    assert result.pings["lon"].to_list() == [2.35, 151.2]
    assert result.pings["device_id"].to_list() == ["x", "y"]
    assert result.time_interpretation == "epoch seconds, UTC"


def test_quoted_fields_crlf_and_leading_blank_lines() -> None:
    text = '\r\n\r\nlat,lon,ts,os\r\n"1.5","2.5",1700000000,"Android, 10"\r\n3,4,1700000001,iOS\r\n'
    result = read_pings(text.encode())
    assert result.pings.select("lat", "lon", "device_type").rows() == [
        (1.5, 2.5, "android"),
        (3.0, 4.0, "ios"),
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_line_ending_ends_the_header(newline: str) -> None:
    lines = ["device_id,ts,lat,lon", "a,1700000000,1.5,2.5", "b,1700000001,3,4"]
    for text in (newline.join(lines) + newline, newline.join(lines)):
        result = read_pings(text.encode())
        assert result.rows_read == 2 and result.rows_used == 2
        assert result.pings["device_id"].to_list() == ["a", "b"]
        assert result.pings["lat"].to_list() == [1.5, 3.0]


def test_stray_quote_does_not_swallow_following_lines() -> None:
    rows = "".join(f"d{i},1700000000,1.0,2.0\n" for i in range(3000))
    text = "device_id,ts,lat,lon\n" + rows + '"odd,1700000000,1.0,2.0\n' + rows
    result = read_pings(text.encode())
    assert result.rows_read == 6001 and result.rows_used == 6001
    assert result.pings["device_id"][3000] == '"odd'


def test_gzip_path_and_bytes(write_file) -> None:
    packed = gzip.compress(SIMPLE.encode())
    path = write_file("pings.csv.gz", packed)
    expected = read_pings(SIMPLE.encode()).pings.rows()
    from_path = read_pings(path)
    assert from_path.pings.rows() == expected
    assert from_path.input_sha256 == hashlib.sha256(packed).hexdigest()
    assert read_pings(packed).pings.rows() == expected


@pytest.mark.parametrize(
    "encoded",
    [
        ("\ufeff" + SIMPLE.replace("iOS", "iOS-é")).encode("utf-8"),
        SIMPLE.replace("iOS", "iOS-é").encode("utf-16"),  # with BOM
        SIMPLE.replace("iOS", "iOS-é").encode("utf-16-le"),  # no BOM
        SIMPLE.replace("a,", "é,").encode("latin-1"),
    ],
    ids=["utf8-bom", "utf16-bom", "utf16le", "latin1"],
)
def test_encodings(encoded: bytes) -> None:
    result = read_pings(encoded)
    assert result.columns["lat"] == "lat"  # a BOM does not stick to the first name
    assert result.rows_used == 2
    assert result.pings["timestamp"].to_list()[0] == T0


def test_latin1_beyond_the_sniffed_head() -> None:
    rows = "".join(f"dev{i},1700000000,1.0,2.0\n" for i in range(5000))
    text = ("device_id,ts,lat,lon\n" + rows + "Zoë,1700000000,1.0,2.0\n").encode("latin-1")
    result = read_pings(text)
    assert result.rows_used == 5001
    assert result.pings["device_id"][-1] == "Zoë"


@pytest.mark.parametrize(
    ("stamps", "unit"),
    [
        ("1700000000", "seconds"),
        ("1700000000000", "milliseconds"),
        ("1700000000000000", "microseconds"),
        ("1700000000000000000", "nanoseconds"),
        ("1700000000.0", "seconds"),
    ],
)
def test_epoch_units(stamps: str, unit: str) -> None:
    result = read_pings(f"lat,lon,ts\n1,2,{stamps}\n".encode())
    assert result.pings["timestamp"].to_list() == [T0]
    assert result.time_interpretation == f"epoch {unit}, UTC"
    assert result.naive_timestamps is False


def test_epoch_beyond_year_9999_is_unparsable_not_wrapped() -> None:
    result = read_pings(b"lat,lon,ts\n1,2,4611686018427387904\n1,2,1700000000\n1,2,-1\n")
    assert result.rejected_by_reason == zero_counts(timestamp_unparsable=1)
    assert result.pings["timestamp"].to_list() == [T0, utc(1969, 12, 31, 23, 59, 59)]


def test_integer_epoch_limits_are_exact() -> None:
    """The last accepted instant is 9999-12-31T23:59:59Z, in either direction of time."""
    last_ms = 253_402_300_799_000
    rows = [1_700_000_000_000] * 5 + [last_ms, last_ms + 1, -last_ms, -last_ms - 1]
    text = "lat,lon,ts\n" + "".join(f"1,2,{ms}\n" for ms in rows)
    result = read_pings(text.encode())
    assert result.time_interpretation == "epoch milliseconds, UTC"
    assert result.rejected_by_reason == zero_counts(timestamp_unparsable=2)
    stamps = result.pings["timestamp"].dt.epoch("ms").to_list()
    assert stamps == [1_700_000_000_000] * 5 + [last_ms, -last_ms]


def test_fractional_epoch_seconds_keep_microseconds() -> None:
    result = read_pings(b"lat,lon,ts\n1,2,1700000000.25\n")
    assert result.pings["timestamp"][0] == datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    "stamp",
    [
        "2023-11-14T22:13:20Z",
        "2023-11-14T22:13:20.000Z",
        "2023-11-14 22:13:20Z",
        "2023-11-14T23:13:20+01:00",
        "2023-11-14T17:13:20-05:00",
        "2023-11-15T03:43:20+0530",
    ],
)
def test_aware_timestamp_forms(stamp: str) -> None:
    result = read_pings(f"lat,lon,timestamp\n40.7,-74.0,{stamp}\n".encode())
    assert result.pings["timestamp"].to_list() == [T0]
    assert result.time_interpretation == "ISO 8601 instants with zone"
    assert result.naive_timestamps is False


@pytest.mark.parametrize(
    "stamp",
    [
        "2024-07-01 12:00:00",
        "2024-07-01T12:00:00",
        "2024-07-01T12:00:00.000",
        "2024/07/01 12:00:00",
        "01/07/2024 12:00",
        "07/31/2024 12:00:00",
        "01.07.2024 12:00:00",
    ],
)
def test_naive_forms_read_in_given_zone(stamp: str) -> None:
    result = read_pings(f"lat,lon,time\n0,0,{stamp}\n".encode(), tz="UTC")
    expected_day = 31 if stamp.startswith("07/31") else 1
    assert result.pings["timestamp"].to_list() == [utc(2024, 7, expected_day, 12)]
    assert result.naive_timestamps is True
    assert result.time_interpretation.startswith("naive local time in UTC (as given)")


def test_naive_times_are_local_at_each_pings_place() -> None:
    text = (
        "lat,lon,timestamp\n"
        "48.8566,2.3522,2024-07-01 12:00:00\n"  # Paris, CEST (+2)
        "40.7128,-74.0060,2024-01-15 12:00:00\n"  # New York, EST (-5)
        "35.6762,139.6503,2024-01-15 12:00:00\n"  # Tokyo (+9)
    )
    result = read_pings(text.encode())
    assert result.pings["timestamp"].to_list() == [
        utc(2024, 7, 1, 10),
        utc(2024, 1, 15, 17),
        utc(2024, 1, 15, 3),
    ]
    assert result.naive_timestamps is True
    assert result.time_interpretation == (
        "naive local time at each ping's place (zone looked up from coordinates)"
    )


def test_tz_override_and_daylight_saving_rules() -> None:
    text = (
        "lat,lon,timestamp\n"
        "0,0,2024-01-15 12:00:00\n"  # CET +1
        "0,0,2024-03-31 02:30:00\n"  # in the spring gap: moves forward to 03:30 CEST
        "0,0,2024-10-27 02:30:00\n"  # in the autumn overlap: the earlier instant (CEST)
    )
    result = read_pings(text.encode(), tz="Europe/Paris")
    assert result.pings["timestamp"].to_list() == [
        utc(2024, 1, 15, 11),
        utc(2024, 3, 31, 1, 30),
        utc(2024, 10, 27, 0, 30),
    ]
    assert result.time_interpretation == "naive local time in Europe/Paris (as given)"


def test_invalid_zone_is_a_ping_file_error() -> None:
    with pytest.raises(PingFileError, match="Mars/Olympus"):
        read_pings(SIMPLE.encode(), tz="Mars/Olympus")


def test_ambiguous_day_month_is_said() -> None:
    result = read_pings(b"lat,lon,time\n0,0,01/02/2024 10:00\n", tz="UTC")
    assert result.pings["timestamp"].to_list() == [utc(2024, 2, 1, 10)]
    assert "ambiguous" in result.time_interpretation


def test_split_date_and_time_columns() -> None:
    text = "lat,lon,date,time\n0,0,2024-07-01,12:00:00\n0,0,2024-07-02,\n0,0,,08:00\n"
    result = read_pings(text.encode(), tz="UTC")
    assert result.columns["date"] == "date" and result.columns["time"] == "time"
    assert result.pings["timestamp"].to_list() == [utc(2024, 7, 1, 12)]
    assert result.rejected_by_reason["timestamp_missing"] == 2


def test_explicit_date_and_time_columns() -> None:
    text = "lat,lon,day,clock\n0,0,15/01/2024,13:45\n"
    result = read_pings(text.encode(), columns={"date": "day", "time": "clock"}, tz="UTC")
    assert result.pings["timestamp"].to_list() == [utc(2024, 1, 15, 13, 45)]


def test_lone_time_with_full_timestamps_wins_over_pair() -> None:
    text = "lat,lon,date,time\n0,0,2024-07-01,2024-07-01T12:00:00Z\n"
    result = read_pings(text.encode())
    assert result.columns == {"lat": "lat", "lon": "lon", "timestamp": "time"}
    assert result.pings["timestamp"].to_list() == [utc(2024, 7, 1, 12)]


def test_explicit_mapping_overrides_aliases() -> None:
    text = "lat,lon,timestamp,north,east,when,phone\n99,999,x,1,2,1700000000,p\n"
    mapping = {"lat": "north", "lon": "east", "timestamp": "when", "device_id": "phone"}
    result = read_pings(text.encode(), columns=mapping)
    assert result.pings.rows() == [("p", T0, 1.0, 2.0, "unknown")]
    assert result.columns == mapping


def test_alias_tie_is_an_error_naming_both() -> None:
    with pytest.raises(PingFileError, match="'Lat' and 'lat'"):
        read_pings(b"Lat,lat,lon,ts\n1,1,2,1700000000\n")
    with pytest.raises(PingFileError, match="'lat' and 'lat'"):
        read_pings(b"lat,lat,lon,ts\n1,1,2,1700000000\n")


def test_missing_ids_keep_the_row_and_missing_types_are_unknown() -> None:
    result = read_pings(b"device_id,lat,lon,ts,platform\n,1,2,1700000000,\nq,1,2,1700000000,X\n")
    assert result.pings["device_id"].to_list() == [None, "q"]
    assert result.pings["device_type"].to_list() == ["unknown", "x"]


def test_parquet_typed_columns(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "maid": ["a", "b", None, "d"],
            "event_time": [T0, T0, T0, None],
            "latitude": [48.85, None, 1.0, 1.0],
            "lng": [2.35, 2.0, float("nan"), 1.0],
            "platform": ["iPhone", "Android", "iOS", None],
        },
        schema_overrides={"event_time": pl.Datetime("ms", "Europe/Paris")},
    )
    path = tmp_path / "pings.parquet"
    frame.write_parquet(path)
    result = read_pings(path)
    assert result.pings.rows() == [("a", T0, 48.85, 2.35, "ios")]
    assert result.rejected_by_reason == zero_counts(
        latitude_missing=1, longitude_missing=1, timestamp_missing=1
    )
    assert result.naive_timestamps is False
    assert result.time_interpretation == "timestamps with zone, converted to UTC"
    assert result.columns == {
        "lat": "latitude",
        "lon": "lng",
        "timestamp": "event_time",
        "device_id": "maid",
        "device_type": "platform",
    }


def test_parquet_typed_coordinates_out_of_range_by_axis(tmp_path: Path) -> None:
    """Typed numbers take the range test directly: ±90 / ±180 are kept, beyond is rejected,
    and infinities are unparsable, not out of range."""
    lat = [90.0, -90.0, 90.000001, -91.0, 10.0, 10.0, float("inf"), 0.0]
    lon = [180.0, -180.0, 0.0, 0.0, 180.5, -1e9, 0.0, 0.0]
    frame = pl.DataFrame({"device_id": list("abcdefgh"), "ts": [1_700_000_000] * 8})
    frame = frame.with_columns(lat=pl.Series(lat), lon=pl.Series(lon))
    frame.write_parquet(tmp_path / "p.parquet")
    result = read_pings(tmp_path / "p.parquet")
    assert result.rejected_by_reason == zero_counts(
        latitude_out_of_range=2, longitude_out_of_range=2, latitude_unparsable=1
    )
    assert result.pings["lat"].to_list() == [90.0, -90.0, 0.0]
    assert result.pings["lon"].to_list() == [180.0, -180.0, 0.0]
    frame.head(2).write_parquet(tmp_path / "clean.parquet")
    assert read_pings(tmp_path / "clean.parquet").rejected_by_reason == zero_counts()


def test_parquet_epoch_naive_and_string_columns(tmp_path: Path) -> None:
    epochs = pl.DataFrame({"lat": [1.0], "lon": [2.0], "ts": [1_700_000_000_000_000]})
    epochs.write_parquet(tmp_path / "e.parquet")
    assert read_pings(tmp_path / "e.parquet").pings["timestamp"].to_list() == [T0]
    naive = pl.DataFrame({"lat": [1.0], "lon": [2.0], "ts": [datetime(2024, 7, 1, 12)]})
    naive.write_parquet(tmp_path / "n.parquet")
    result = read_pings((tmp_path / "n.parquet").read_bytes(), tz="Asia/Tokyo")
    assert result.pings["timestamp"].to_list() == [utc(2024, 7, 1, 3)]
    assert result.naive_timestamps is True
    strings = pl.DataFrame(
        {"lat": ["1.5", "2"], "lon": ["x", "3"], "ts": ["2023-11-14T22:13:20Z"] * 2}
    )
    strings.write_parquet(tmp_path / "s.parquet")
    result = read_pings(tmp_path / "s.parquet")
    assert result.rejected_by_reason == zero_counts(longitude_unparsable=1)
    assert result.pings.select("lat", "lon", "timestamp").rows() == [(2.0, 3.0, T0)]


def test_real_excerpt_reads_with_mapping() -> None:
    mapping = {"device_id": "device", "timestamp": "time", "device_type": "device_class"}
    result = read_pings(DATA_DIR / "gps_accuracy_excerpt.csv", columns=mapping)
    assert result.rows_read == 1500 and result.rows_used == 1500
    assert result.time_interpretation == "ISO 8601 instants with zone"
    first, last = result.pings.row(0), result.pings.row(-1)
    assert first == (
        "Garmin-Edge-605",
        utc(2019, 11, 29, 11, 53, 49),
        51.057894,
        -1.320601,
        "dedicated_gps_cycle_computer",
    )
    assert last[1:4] == (utc(2019, 11, 29, 12, 18, 54), 51.081578, -1.281636)
    assert result.columns == {"lat": "latitude", "lon": "longitude", **mapping}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n\n ", "is empty"),
        (b"device_id,ts,lat,lon\n", "no data rows"),
        (b"device_id,ts,lat,lon\n\n\n", "no data rows"),
        (b"1,1700000000,48.1,2.3\n2,1700000001,48.2,2.4\n", "looks like data"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a text file"),
        (b"PK\x03\x04rest-of-zip", "zip archive"),
        (b"\x1f\x8b\x08\x00broken", "damaged gzip"),
        (b"lat,lon,ts\nx,y,z\nq,r,s\n", "Every one of the 2 rows"),
        (b"lat,lon,ts\n1,2\n3,4\n", "malformed_line"),
        (
            b"latitude,longitude,ts\n-122.4,37.7,1700000000\n-100.1,51.5,1700000000\n"
            b"151.2,-33.9,1700000000\n",
            "--lat-col longitude --lon-col latitude",
        ),
    ],
)
def test_unusable_files_raise_one_clear_error(content: bytes, message: str) -> None:
    with pytest.raises(PingFileError, match=message):
        read_pings(content)


def test_all_rejected_names_the_top_reason() -> None:
    with pytest.raises(PingFileError, match="latitude_unparsable"):
        read_pings(b"lat,lon,ts\nx,1,1700000000\ny,1,1700000000\n,1,1700000000\n")


def test_no_recognisable_columns_names_columns_and_flags() -> None:
    with pytest.raises(ColumnMappingError) as info:
        read_pings(b"north,east,when\n1,2,3\n")
    assert info.value.available == ["north", "east", "when"]
    assert info.value.missing == ["lat", "lon", "timestamp"]
    assert "north, east, when" in str(info.value) and "--lat-col" in str(info.value)


def test_missing_path_folder_and_empty_parquet(tmp_path: Path) -> None:
    with pytest.raises(PingFileError, match="does not exist"):
        read_pings(tmp_path / "nope.csv")
    with pytest.raises(PingFileError, match="folder"):
        read_pings(tmp_path)
    empty = pl.DataFrame(schema={"lat": pl.Float64, "lon": pl.Float64, "ts": pl.Int64})
    empty.write_parquet(tmp_path / "e.parquet")
    with pytest.raises(PingFileError, match="no rows"):
        read_pings(tmp_path / "e.parquet")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(PingFileError, match="is empty"):
        read_pings(tmp_path / "empty.csv")


def test_partial_swaps_are_kept_not_an_error() -> None:
    rows = "".join("48.1,2.3,1700000000\n" for _ in range(9)) + "2.3,148.1,1700000000\n"
    result = read_pings(("lat,lon,ts\n" + rows).encode())
    assert result.rows_used == 10


def test_preview_table_csv_and_parquet(tmp_path: Path) -> None:
    header, rows = preview_table(b"North;East;When\n1,5;2;x\n3;4;y\n5;6;z\n", n=2)
    assert header == ["North", "East", "When"]
    assert rows.rows() == [("1,5", "2", "x"), ("3", "4", "y")]
    assert set(rows.dtypes) == {pl.String}
    pl.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5]}).write_parquet(tmp_path / "p.parquet")
    header, rows = preview_table(tmp_path / "p.parquet", n=5)
    assert header == ["a", "b"]
    assert rows.rows() == [("1", "0.5"), ("2", "1.5"), ("3", "2.5")]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"a,b\n", "no data rows"), (b"\x00\x01\x02\x03", "not a text file")],
)
def test_preview_table_rejects_unusable_files(content: bytes, message: str) -> None:
    with pytest.raises(PingFileError, match=message):
        preview_table(content)


def test_an_all_rejected_file_names_its_commonest_reasons_with_counts() -> None:
    """Three rows, each rejected for a different reason: no single reason is "most often"."""
    content = (
        b"device_id,timestamp,lat,lon\n"
        b"a,1700000000,95,10\n"  # latitude out of range
        b"b,notatime,40,10\n"  # timestamp unparsable
        b"c,1700000000,,10\n"  # latitude missing
        b"d,1700000000,,11\n"  # latitude missing
    )
    with pytest.raises(PingFileError) as caught:
        read_pings(content)
    message = str(caught.value)
    assert message.startswith(
        "Every one of the 4 rows of <bytes> was rejected (latitude_missing: 2, "
    )
    assert "latitude_out_of_range: 1" in message and "timestamp_unparsable: 1" in message
