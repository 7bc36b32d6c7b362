"""The three real public data sets read completely with the README's mapping and row counts.

The data live next to the repository (``../shared/data/real``); where that folder is
absent the parameter list is empty, so no test is collected rather than one skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from explorer.reading.pings import read_pings
from tests.conftest import REAL_DATA

REAL = REAL_DATA

#: file, mapping (from the data README), rows in the README, first and last instant (UTC).
CASES = [
    (
        "gowalla_nyc_checkins.csv",
        {"device_id": "user_id", "timestamp": "checkin_time"},
        138_957,
        (datetime(2009, 4, 23, tzinfo=UTC), datetime(2010, 10, 24, tzinfo=UTC)),
    ),
    (
        "gotrack_points.csv",
        {"device_id": "id_android", "timestamp": "time"},
        18_107,
        (datetime(2014, 9, 13, tzinfo=UTC), datetime(2016, 1, 20, tzinfo=UTC)),
    ),
    (
        "gps_accuracy_devices_tracks.csv",
        {"device_id": "device", "timestamp": "time", "device_type": "device_class"},
        30_910,
        (datetime(2019, 11, 29, 11, 53, tzinfo=UTC), datetime(2019, 11, 29, 15, 32, tzinfo=UTC)),
    ),
]
PRESENT = [pytest.param(*case, id=case[0]) for case in CASES if (REAL / case[0]).exists()]


def _present(file_name: str) -> list[Path]:
    return [REAL / file_name] if (REAL / file_name).exists() else []


@pytest.mark.realdata
@pytest.mark.parametrize(("file_name", "mapping", "rows", "span"), PRESENT)
def test_real_file_reads_every_row(
    file_name: str, mapping: dict[str, str], rows: int, span: tuple[datetime, datetime]
) -> None:
    result = read_pings(REAL / file_name, columns=mapping)
    assert result.rows_read == rows
    assert result.rows_used == rows and result.rows_rejected == 0
    assert result.columns["lat"] == "latitude" and result.columns["lon"] == "longitude"
    assert span[0] <= result.pings["timestamp"].min() <= result.pings["timestamp"].max() <= span[1]


@pytest.mark.realdata
@pytest.mark.parametrize("path", _present("gotrack_points.csv"))
def test_gotrack_naive_times_are_local_brazil_time(path: Path) -> None:
    """Go!Track times carry no zone: read at the place (Aracaju is UTC-3, no DST then)."""
    result = read_pings(path, columns={"timestamp": "time"})
    assert result.naive_timestamps is True
    # First row: 2014-09-13 07:24:32 local at (-10.94, -37.06) -> 10:24:32 UTC.
    assert result.pings["timestamp"][0] == datetime(2014, 9, 13, 10, 24, 32, tzinfo=UTC)


@pytest.mark.realdata
@pytest.mark.parametrize("path", _present("gps_accuracy_devices_tracks.csv"))
def test_gps_accuracy_device_types_are_normalised(path: Path) -> None:
    result = read_pings(path, columns={"timestamp": "time"})
    counts = dict(result.pings["device_type"].value_counts().iter_rows())
    # README, points per device: phones MotoG3 + xiaomi + Ruggex; loggers adafruit + openlog.
    assert counts["android"] == 2_363 + 1_869 + 4_062 + 2_943 + 28
    assert counts["home_built_logger"] == 1_267 + 641 + 462
    assert counts["dedicated_gps_handheld"] == 1_043 + 681
    assert counts["dedicated_gps_cycle_computer"] == 6_398 + 4_743 + 2_577 + 1_833
