"""Columns found by name and, failing that, by content: many header sets, the precedence
rules, the careful cases (unsure, ties, things that are not coordinates) and the real
files in ``../shared/data/real``.

The files are made by :mod:`tests.ping_shapes`, not by ``explorer.synth``, with the
header, value formats, delimiter and column order of each case.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.errors import ColumnMappingError
from explorer.reading.column_choice import ColumnName, column_choices
from explorer.reading.column_names import detect_columns
from explorer.reading.pings import read_pings
from tests.conftest import REAL_DATA
from tests.ping_shapes import CITIES, make_csv, pings

REAL = REAL_DATA

N, C = "name", "content"

#: id, city, (header, kind) per column in file order, expected role -> (header, how).
HEADER_SETS = [
    (
        "ad-tech vendor",
        "new_york",
        [("advertiser_id", "device"), ("location_at", "iso_z"), ("latitude", "lat"),
         ("longitude", "lon"), ("os_name", "os")],
        {"lat": ("latitude", N), "lon": ("longitude", N), "timestamp": ("location_at", N),
         "device_id": ("advertiser_id", N), "device_type": ("os_name", N)},
    ),
    (
        "hashed maid, epoch seconds",
        "new_york",
        [("hashed_maid", "hex"), ("event_ts", "epoch_s"), ("lat", "lat"), ("lng", "lon"),
         ("platform", "os_word")],
        {"lat": ("lat", N), "lon": ("lng", N), "timestamp": ("event_ts", N),
         "device_id": ("hashed_maid", N), "device_type": ("platform", N)},
    ),
    (
        "Spanish",
        "madrid",
        [("id_dispositivo", "device"), ("fecha_hora", "day_first"), ("latitud", "lat"),
         ("longitud", "lon"), ("sistema", "os")],
        {"lat": ("latitud", N), "lon": ("longitud", N), "timestamp": ("fecha_hora", N),
         "device_id": ("id_dispositivo", N), "device_type": ("sistema", N)},
    ),
    (
        "Spanish, date and hour apart",
        "madrid",
        [("usuario", "device"), ("fecha", "date"), ("hora", "clock"), ("Latitud", "lat"),
         ("Longitud", "lon"), ("sistema_operativo", "os_word")],
        {"lat": ("Latitud", N), "lon": ("Longitud", N), "date": ("fecha", N),
         "time": ("hora", N), "device_id": ("usuario", N),
         "device_type": ("sistema_operativo", N)},
    ),
    (
        "Portuguese",
        "sao_paulo",
        [("id_dispositivo", "hex"), ("data_hora", "naive"), ("latitude", "lat"),
         ("longitude", "lon"), ("plataforma", "os")],
        {"lat": ("latitude", N), "lon": ("longitude", N), "timestamp": ("data_hora", N),
         "device_id": ("id_dispositivo", N), "device_type": ("plataforma", N)},
    ),
    (
        "French",
        "paris",
        [("id_appareil", "device"), ("horodatage", "iso_offset"), ("latitude", "lat"),
         ("longitude", "lon"), ("système", "os")],
        {"lat": ("latitude", N), "lon": ("longitude", N), "timestamp": ("horodatage", N),
         "device_id": ("id_appareil", N), "device_type": ("système", N)},
    ),
    (
        "German, semicolons and decimal commas",
        "berlin",
        [("Geräte-ID", "device"), ("Zeitstempel", "dotted"), ("Breitengrad", "lat_comma"),
         ("Längengrad", "lon_comma"), ("Betriebssystem", "os")],
        {"lat": ("Breitengrad", N), "lon": ("Längengrad", N), "timestamp": ("Zeitstempel", N),
         "device_id": ("Geräte-ID", N), "device_type": ("Betriebssystem", N)},
    ),
    (
        "Italian",
        "rome",
        [("id_utente", "device"), ("data_ora", "naive"), ("latitudine", "lat"),
         ("longitudine", "lon"), ("piattaforma", "os_word")],
        {"lat": ("latitudine", N), "lon": ("longitudine", N), "timestamp": ("data_ora", N),
         "device_id": ("id_utente", N), "device_type": ("piattaforma", N)},
    ),
    (
        "Dutch",
        "amsterdam",
        [("apparaat_id", "device"), ("tijdstip", "iso_z"), ("breedtegraad", "lat"),
         ("lengtegraad", "lon"), ("besturingssysteem", "os")],
        {"lat": ("breedtegraad", N), "lon": ("lengtegraad", N), "timestamp": ("tijdstip", N),
         "device_id": ("apparaat_id", N), "device_type": ("besturingssysteem", N)},
    ),
    (
        "camelCase app export",
        "london",
        [("deviceId", "device"), ("eventTime", "iso_z"), ("gpsLatitude", "lat"),
         ("gpsLongitude", "lon"), ("osType", "os")],
        {"lat": ("gpsLatitude", N), "lon": ("gpsLongitude", N), "timestamp": ("eventTime", N),
         "device_id": ("deviceId", N), "device_type": ("osType", N)},
    ),
    (
        "upper-case warehouse",
        "new_york",
        [("MAID", "hex"), ("UTC_TS", "epoch_ms"), ("LAT_DD", "lat"), ("LON_DD", "lon"),
         ("OS", "os_word")],
        {"lat": ("LAT_DD", N), "lon": ("LON_DD", N), "timestamp": ("UTC_TS", N),
         "device_id": ("MAID", N), "device_type": ("OS", N)},
    ),
    (
        "Snowflake vendor share",
        "sao_paulo",
        [("IDFA", "device"), ("EVENT_TIMESTAMP", "iso_z"), ("LOCATION_LATITUDE", "lat"),
         ("LOCATION_LONGITUDE", "lon"), ("DEVICE_PLATFORM", "os")],
        {"lat": ("LOCATION_LATITUDE", N), "lon": ("LOCATION_LONGITUDE", N),
         "timestamp": ("EVENT_TIMESTAMP", N), "device_id": ("IDFA", N),
         "device_type": ("DEVICE_PLATFORM", N)},
    ),
    (
        "US dates with AM/PM, spaces in names",
        "new_york",
        [("Device ID", "device"), ("Date Time", "us_pm"), ("Latitude", "lat"),
         ("Longitude", "lon"), ("Operating System", "os")],
        {"lat": ("Latitude", N), "lon": ("Longitude", N), "timestamp": ("Date Time", N),
         "device_id": ("Device ID", N), "device_type": ("Operating System", N)},
    ),
    (
        "swapped order, design names",
        "tokyo",
        [("longitude", "lon"), ("latitude", "lat"), ("ts", "epoch_s"), ("uid", "hex")],
        {"lat": ("latitude", N), "lon": ("longitude", N), "timestamp": ("ts", N),
         "device_id": ("uid", N)},
    ),
    (
        "no names at all, longitude first",
        "sao_paulo",
        [("a", "lon"), ("b", "lat"), ("c", "epoch_ms"), ("d", "device"), ("e", "os")],
        {"lat": ("b", C), "lon": ("a", C), "timestamp": ("c", C), "device_id": ("d", C),
         "device_type": ("e", C)},
    ),
    (
        "blank coordinate headers",
        "new_york",
        [("device_id", "hex"), ("timestamp", "epoch_ms"), ("", "lat"), ("", "lon")],
        {"lat": ("column_3", C), "lon": ("column_4", C), "timestamp": ("timestamp", N),
         "device_id": ("device_id", N)},
    ),
    (
        "longitude beyond 90 decides",
        "tokyo",
        [("v1", "lat"), ("v2", "lon"), ("when", "epoch_ns")],
        {"lat": ("v1", C), "lon": ("v2", C), "timestamp": ("when", C)},
    ),
    (
        "southern hemisphere, swapped, unnamed",
        "sydney",
        [("col_a", "lon"), ("col_b", "lat"), ("col_c", "iso_z"), ("col_d", "device")],
        {"lat": ("col_b", C), "lon": ("col_a", C), "timestamp": ("col_c", C),
         "device_id": ("col_d", C)},
    ),
    (
        "both within 90: land decides (London)",
        "london",
        [("p", "lon"), ("q", "lat"), ("r", "naive")],
        {"lat": ("q", C), "lon": ("p", C), "timestamp": ("r", C)},
    ),
    (
        "both within 90 and on land: spread decides (Moscow)",
        "moscow",
        [("u", "lon"), ("v", "lat"), ("w", "epoch_s")],
        {"lat": ("v", C), "lon": ("u", C), "timestamp": ("w", C)},
    ),
    (
        "speed and accuracy next to unnamed coordinates",
        "lagos",
        [("x1", "lat"), ("x2", "lon"), ("accuracy", "accuracy"), ("speed", "speed"),
         ("x3", "iso_z"), ("x4", "hex")],
        {"lat": ("x1", C), "lon": ("x2", C), "timestamp": ("x3", C), "device_id": ("x4", C)},
    ),
    (
        "a row id is not a device id",
        "paris",
        [("event", "row_id"), ("lat", "lat"), ("lon", "lon"), ("time", "iso_z"),
         ("who", "device")],
        {"lat": ("lat", N), "lon": ("lon", N), "timestamp": ("time", N),
         "device_id": ("who", C)},
    ),
    (
        "one coordinate named, its partner not",
        "rome",
        [("latitude", "lat"), ("coord_2", "lon"), ("recorded", "iso_z")],
        {"lat": ("latitude", N), "lon": ("coord_2", C), "timestamp": ("recorded", C)},
    ),
    (
        "unnamed date and time of day",
        "paris",
        [("p", "lat"), ("q", "lon"), ("r", "date"), ("s", "clock"), ("w", "device")],
        {"lat": ("p", C), "lon": ("q", C), "date": ("r", C), "time": ("s", C),
         "device_id": ("w", C)},
    ),
    (
        "tab-separated, epoch named by a pattern",
        "amsterdam",
        [("ifa", "device"), ("unix_ms", "epoch_ms"), ("geo_lat", "lat"), ("geo_lng", "lon")],
        {"lat": ("geo_lat", N), "lon": ("geo_lng", N), "timestamp": ("unix_ms", N),
         "device_id": ("ifa", N)},
    ),
]  # fmt: skip


def _separator(case_id: str) -> str:
    return ";" if "semicolons" in case_id else "\t" if "tab" in case_id else ","


@pytest.mark.parametrize(
    ("city", "columns", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in HEADER_SETS],
)
def test_header_sets_are_read_with_the_right_columns(request, city, columns, expected) -> None:
    data = make_csv(city, columns, _separator(request.node.callspec.id))
    result = read_pings(data)
    found = {role: (str(name), name.how) for role, name in result.columns.items()}
    assert found == expected
    assert result.rows_rejected == 0
    lat0, lon0 = CITIES[city]
    assert abs(result.pings["lat"].median() - lat0) < 0.1
    assert abs(result.pings["lon"].median() - lon0) < 0.1


def test_there_are_at_least_twenty_header_sets_in_several_languages() -> None:
    assert len(HEADER_SETS) >= 20
    names = " ".join(h for case in HEADER_SETS for h, _ in case[2]).lower()
    for word in ("latitud", "latitudine", "breitengrad", "horodatage", "data_hora", "fecha"):
        assert word in names


def test_every_choice_says_how_and_why() -> None:
    data = make_csv("sao_paulo", HEADER_SETS[14][2])
    choices = read_pings(data).column_choices
    assert [c["role"] for c in choices] == ["lat", "lon", "timestamp", "device_id", "device_type"]
    assert all(c["how"] == "content" and c["why"] for c in choices)
    assert "epoch milliseconds" in choices[2]["why"]
    assert "on land" in choices[0]["why"] or "90" in choices[0]["why"]


def test_parquet_columns_are_found_by_content_from_the_first_rows(tmp_path: Path) -> None:
    frame = pings("sydney").select(
        pl.col("lon").alias("f0"),
        pl.col("lat").alias("f1"),
        pl.from_epoch("t", "s").dt.replace_time_zone("UTC").alias("f2"),
        pl.col("device").alias("f3"),
    )
    frame.write_parquet(tmp_path / "p.parquet")
    result = read_pings(tmp_path / "p.parquet")
    assert {r: (str(c), c.how) for r, c in result.columns.items()} == {
        "lat": ("f1", C), "lon": ("f0", C), "timestamp": ("f2", C), "device_id": ("f3", C),
    }  # fmt: skip


def test_chunked_reading_keeps_the_reasons(tmp_path: Path) -> None:
    from explorer.engines.choose import summarise_source

    path = tmp_path / "plain.csv"
    path.write_bytes(make_csv("berlin", [("a", "lat"), ("b", "lon"), ("c", "epoch_s")]))
    _, meta = summarise_source(path, resolution=7, engine="chunked", chunk_rows=300)
    assert [(c["role"], c["column"], c["how"]) for c in column_choices(meta["columns"])] == [
        ("lat", "a", C), ("lon", "b", C), ("timestamp", "c", C),
    ]  # fmt: skip


# Precedence ---------------------------------------------------------------------------


def test_an_explicit_mapping_wins_over_names_and_content() -> None:
    data = make_csv("paris", [("lat", "lat"), ("lon", "lon"), ("t1", "iso_z"), ("t2", "naive")])
    result = read_pings(data, columns={"timestamp": "t2", "lat": "lat", "lon": "lon"})
    assert result.columns == {"lat": "lat", "lon": "lon", "timestamp": "t2"}
    assert {c["how"] for c in result.column_choices} == {"explicit"}


def test_names_come_before_content() -> None:
    # "ts" holds instants by name; "other" holds them too, but content is not asked.
    data = make_csv(
        "paris", [("other", "iso_z"), ("lat", "lat"), ("lon", "lon"), ("ts", "epoch_s")]
    )
    assert read_pings(data).columns["timestamp"] == "ts"


def test_the_designs_aliases_come_before_the_added_ones() -> None:
    found = detect_columns(["latitud", "lat", "lon", "fecha_hora", "timestamp"])
    assert found == {"lat": "lat", "lon": "lon", "timestamp": "timestamp"}


def test_two_columns_on_one_added_name_still_tie() -> None:
    with pytest.raises(ColumnMappingError, match="'event_ts' and 'EVENT_TS'") as info:
        detect_columns(["lat", "lon", "event_ts", "EVENT_TS"])
    assert info.value.guesses["lat"] == "lat"


def test_a_broad_name_must_agree_with_the_values() -> None:
    # event_type matches the "event_*" pattern of timestamps, but holds words.
    data = make_csv(
        "madrid", [("event_type", "os_word"), ("event_time_local", "naive"), ("lat", "lat"),
                   ("lon", "lon")]
    )  # fmt: skip
    found = read_pings(data).columns
    assert found["timestamp"] == "event_time_local" and found["timestamp"].how == "name"
    assert found["device_type"] == "event_type" and found["device_type"].how == "content"


def test_a_latitude_named_column_with_longitudes_is_not_believed() -> None:
    # Names swapped in the export: "latitud" reaches 139°, so it is not the latitude;
    # the reader asks rather than read the file either way.
    data = make_csv("tokyo", [("latitud", "lon"), ("longitud", "lat"), ("ts", "epoch_s")])
    with pytest.raises(ColumnMappingError) as info:
        read_pings(data)
    assert info.value.missing == ["lat"]


# Careful: unsure, and what is not a coordinate --------------------------------------------


def test_small_integers_are_not_coordinates() -> None:
    data = make_csv("rome", [("a", "rating"), ("b", "rating"), ("c", "epoch_s")])
    with pytest.raises(ColumnMappingError, match="No lat, lon column") as info:
        read_pings(data)
    assert "lat" not in info.value.guesses and info.value.guesses["timestamp"] == "c"


def test_coordinates_on_land_either_way_with_like_spreads_are_asked() -> None:
    data = make_csv("cairo", [("a", "lat"), ("b", "lon"), ("c", "epoch_s")])
    with pytest.raises(ColumnMappingError, match="Not sure") as info:
        read_pings(data)
    assert info.value.guesses == {"lat": "a", "lon": "b", "timestamp": "c"}
    assert set(info.value.missing) == {"lat", "lon"}


def test_two_columns_of_instants_are_asked() -> None:
    data = make_csv("lagos", [("lat", "lat"), ("lon", "lon"), ("a", "iso_z"), ("b", "epoch_s")])
    with pytest.raises(ColumnMappingError, match="Not sure") as info:
        read_pings(data)
    assert info.value.guesses["timestamp"] == "a" and info.value.missing == ["timestamp"]


def test_two_latitude_names_tie_and_offer_both_ways() -> None:
    data = make_csv(
        "new_york", [("pickup_latitude", "lat"), ("pickup_longitude", "lon"),
                     ("dropoff_latitude", "lat"), ("dropoff_longitude", "lon"), ("ts", "epoch_s")]
    )  # fmt: skip
    with pytest.raises(ColumnMappingError, match="both look like the lat column") as info:
        read_pings(data)
    assert info.value.guesses["lat"] == "pickup_latitude"


def test_scaled_integer_coordinates_are_not_guessed() -> None:
    # Google Takeout's E7 integers: named like coordinates, but not degrees.
    frame = pings("london").select(
        (pl.col("t") * 1000).alias("timestampMs"),
        (pl.col("lat") * 1e7).cast(pl.Int64).alias("latitudeE7"),
        (pl.col("lon") * 1e7).cast(pl.Int64).alias("longitudeE7"),
    )
    with pytest.raises(ColumnMappingError, match="No lat, lon column"):
        read_pings(frame.write_csv().encode())


def test_a_column_named_as_something_else_is_not_a_coordinate() -> None:
    data = make_csv("paris", [("altitude", "lat"), ("b", "lon"), ("c", "epoch_s")])
    with pytest.raises(ColumnMappingError) as info:
        read_pings(data)
    assert info.value.guesses.get("lat") != "altitude"


def test_names_only_detection_is_unchanged_without_a_sample() -> None:
    assert detect_columns(["latitud", "longitud", "event_type"]) == {
        "lat": "latitud", "lon": "longitud", "timestamp": "event_type",
    }  # fmt: skip


def test_column_names_remember_why_through_pickling() -> None:
    import pickle

    name = pickle.loads(pickle.dumps(ColumnName("lat", "content", "numbers")))
    assert (name, name.how, name.why) == ("lat", "content", "numbers")


# The real files ----------------------------------------------------------------------------

REAL_COLUMNS = {
    "gowalla_nyc_checkins.csv": {
        "lat": "latitude", "lon": "longitude", "timestamp": "checkin_time", "device_id": "user_id",
    },
    "gotrack_points.csv": {
        "lat": "latitude", "lon": "longitude", "timestamp": "time", "device_id": "id_android",
    },
    "gps_accuracy_devices_tracks.csv": {
        "lat": "latitude", "lon": "longitude", "timestamp": "time", "device_id": "device",
        "device_type": "device_class",
    },
    "gps_accuracy_planned_routes.csv": {"lat": "latitude", "lon": "longitude", "timestamp": "time"},
}  # fmt: skip

needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/real is not here")


@needs_real
@pytest.mark.parametrize("name", sorted(REAL_COLUMNS))
def test_real_files_by_name(name: str) -> None:
    result = read_pings(REAL / name)
    assert result.columns == REAL_COLUMNS[name]
    assert {c["how"] for c in result.column_choices} == {"name"}


@needs_real
def test_a_real_file_without_coordinates_is_refused_not_guessed() -> None:
    # Per-track table: speeds and durations with many decimals, named as such.
    with pytest.raises(ColumnMappingError, match="No lat, lon column") as info:
        read_pings(REAL / "gotrack_tracks.csv")
    assert "lat" not in info.value.guesses


def _anonymised(path: Path, lines: int) -> tuple[bytes, list[str]]:
    """The file's first ``lines`` data lines under the header c1, c2, …; its names."""
    text = path.read_text().splitlines()
    names = text[0].split(",")
    header = ",".join(f"c{i + 1}" for i in range(len(names)))
    return "\n".join([header, *text[1 : lines + 1]]).encode(), names


@needs_real
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gowalla_nyc_checkins.csv", {"lat": "latitude", "lon": "longitude",
                                      "timestamp": "checkin_time"}),
        ("gotrack_points.csv", {"lat": "latitude", "lon": "longitude", "timestamp": "time"}),
        ("gps_accuracy_devices_tracks.csv", {"lat": "latitude", "lon": "longitude",
                                             "timestamp": "time"}),
    ],
)  # fmt: skip
def test_real_files_without_their_names_are_read_by_content(name: str, expected: dict) -> None:
    data, names = _anonymised(REAL / name, 5_000)
    result = read_pings(data)
    original = {role: names[int(str(c)[1:]) - 1] for role, c in result.columns.items()}
    assert {r: c for r, c in original.items() if r in expected} == expected
    assert all(c.how == "content" for c in result.columns.values())
    # Integer user ids and one device per head are not taken as device ids.
    assert original.get("device_id") in (None, "device")


@needs_real
def test_real_device_ids_are_found_by_content_when_they_repeat() -> None:
    frame = pl.read_csv(REAL / "gps_accuracy_devices_tracks.csv").sample(3_000, seed=1)
    columns = {
        "q1": pl.col("latitude"),
        "q2": pl.col("longitude"),
        "q3": pl.col("time"),
        "q4": pl.col("device"),  # eight model names: a category or a device? not told
        "q5": pl.col("ele"),
        "q6": pl.col("device").map_elements(_md5, return_dtype=pl.String),
    }
    buffer = io.BytesIO()
    frame.select(expr.alias(name) for name, expr in columns.items()).write_csv(buffer)
    result = read_pings(buffer.getvalue())
    assert {r: str(c) for r, c in result.columns.items()} == {
        "lat": "q1", "lon": "q2", "timestamp": "q3", "device_id": "q6",
    }  # fmt: skip


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()


# Any names and values: an answer or one ColumnMappingError, never another error ----------

_VALUES = st.one_of(
    st.text(max_size=12),
    st.floats().map(str),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", "NA", "iOS", "Android", "2024-01-01", "10:00", "40,5", "-73.123456"]),
    st.sampled_from(["2024-01-01T10:00:00Z", "1711300000", "1711300000000", "0f3a9c1e22b4"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.tuples(st.text(max_size=10), st.lists(_VALUES, max_size=30)), min_size=1, max_size=6
    ),
    st.integers(0, 40),
)
def test_detection_on_any_sample_answers_or_asks(columns, rows) -> None:
    names = [name for name, _ in columns]
    sample = {n: pl.Series(n, (v * 40)[:rows], dtype=pl.String) for n, v in reversed(columns)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            found = detect_columns(names, None, sample)
        except ColumnMappingError as error:
            assert set(error.guesses.values()) <= set(names)
            assert len(str(error).splitlines()) == 1
        else:
            assert set(found.values()) <= set(names)
            assert all(isinstance(c, ColumnName) for c in found.values())


def test_a_coordinate_named_column_without_values_pairs_with_nothing() -> None:
    """Found by the property test above: a column named like a coordinate whose sampled
    values are all missing, beside one holding a number within ±90°, once crashed the
    pairing (the range of no numbers); it answers or asks instead."""
    sample = {
        "": pl.Series("", [".000"], dtype=pl.String),
        "X": pl.Series("X", [None], dtype=pl.String),
    }
    with pytest.raises(ColumnMappingError, match="No timestamp column recognised"):
        detect_columns(["X", ""], None, sample)
