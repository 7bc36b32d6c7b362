"""Work started ahead on an input (explorer.cli.ahead) and the CSV parse started ahead
(explorer.reading.csv_text.read_ahead): used only when it matches, and reading with it gives
exactly what reading without it gives, errors included. The command line's use of it
and of the Parquet decode started ahead (tests/test_parquet_ahead.py) is tested here."""

import gzip
import importlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from explorer.cli import ahead
from explorer.errors import PingFileError
from explorer.reading import csv_text as csvio
from explorer.reading.pings import ReadResult, read_pings

CSV = (
    b"device_id,timestamp,lat,lon,os\n"
    b"a,1700000000,40.71,-74.01,iOS\n"
    b"b,1700000060,40.72,-74.02,Android\n"
    b"c,1700000120,95.0,-74.03,android\n"  # latitude out of range
    b"d,1700000180,40.74\n"  # malformed: a field short
    b"a,1700000240,40.75,-74.05,ios\n"
)


@pytest.fixture(autouse=True)
def _nothing_left_ahead():
    ahead._STARTED.clear()  # work other tests' commands started and never took
    yield
    ahead._STARTED.clear()


def _finished(kind: str, path: Path):
    """Wait for the work of ``kind`` started for ``path`` (without taking it)."""
    return ahead._STARTED[(kind, os.path.realpath(path))][2].result(timeout=60)


def test_work_is_taken_once_with_equal_arguments(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"x")
    ahead.start("k", path, lambda: 42, arguments=("a",))
    assert ahead.take("k", path, arguments=("a",)).result(timeout=30) == 42
    assert ahead.take("k", path, arguments=("a",)) is None


def test_other_arguments_drop_the_work(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"x")
    ahead.start("k", path, lambda: 42, arguments=("a",))
    assert ahead.take("k", path, arguments=("b",)) is None
    assert ahead._STARTED == {}  # dropped, not kept for ever


def test_a_changed_file_drops_the_work(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"x")
    ahead.start("k", path, lambda: 42)
    path.write_bytes(b"xy")
    assert ahead.take("k", path) is None
    assert ahead._STARTED == {}


def test_work_starts_once_per_file_and_kind(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"x")
    release = threading.Event()
    ahead.start("k", path, lambda: release.wait(30) and 1)
    ahead.start("k", path, lambda: 2)  # already waiting: ignored
    ahead.start("other", path, lambda: 3)
    release.set()
    assert ahead.take("k", path).result(timeout=30) == 1
    assert ahead.take("other", path).result(timeout=30) == 3


def test_only_regular_files_get_work(tmp_path):
    for path in (tmp_path, tmp_path / "missing.csv", "https://example.org/p.csv"):
        ahead.start("k", path, lambda: 1)
    assert ahead._STARTED == {}


def test_the_takers_get_the_works_exception(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"x")

    def fail() -> int:
        raise PingFileError("f.csv is broken; fix it.")

    ahead.start("k", path, fail)
    with pytest.raises(PingFileError, match="broken"):
        ahead.take("k", path).result(timeout=30)


def _inputs(tmp_path: Path) -> dict[str, Path]:
    files = {
        "plain.csv": CSV,
        "plain.csv.gz": gzip.compress(CSV),
        "latin1.csv": CSV.replace(b"Android", "Andr\u00f6id".encode("latin-1")),
        "semicolons.csv": b"device_id;timestamp;lat;lon\na;1700000000;40,71;-74,01\n",
        "utf16.csv": CSV.decode().encode("utf-16"),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    paths["pings.parquet"] = tmp_path / "pings.parquet"
    read_pings(paths["plain.csv"]).pings.write_parquet(paths["pings.parquet"])
    return paths


def _refuse(*_args, **_kwargs):
    raise AssertionError("done again: the work started ahead was not taken")


def read_taking_work_ahead(
    monkeypatch, path: Path, expected: ReadResult, refused: list, **options
) -> ReadResult:
    """``read_pings(path, **options)`` with ``refused`` ((object, attribute) pairs: the
    reader's own ways of doing the work) failing, checked equal to ``expected`` (a read
    without work started ahead), with nothing left ahead."""
    with monkeypatch.context() as patched:
        for target in refused:
            patched.setattr(*target, _refuse)
        got = read_pings(path, **options)
    assert_frame_equal(got.pings, expected.pings, categorical_as_str=True)
    assert (got.rows_read, got.rejected_by_reason) == (
        expected.rows_read,
        expected.rejected_by_reason,
    ), path.name
    assert ahead._STARTED == {}, path.name
    return got


def test_reading_takes_the_parse_started_ahead_and_reads_the_same(tmp_path, monkeypatch):
    for path in _inputs(tmp_path).values():
        expected = read_pings(path)
        csvio.read_ahead(path, None)
        _finished("parse", path)
        got = read_taking_work_ahead(monkeypatch, path, expected, [(csvio, "parse_input")])
        assert got.input_sha256 == expected.input_sha256, path.name


def test_a_parse_started_with_other_columns_is_not_used(tmp_path):
    path = tmp_path / "two.csv"
    path.write_bytes(b"id,timestamp,lat,lon,lat2,lon2\na,1700000000,1.5,2.5,3.5,4.5\n")
    csvio.read_ahead(path, {"lat": "lat", "lon": "lon"})
    got = read_pings(path, columns={"lat": "lat2", "lon": "lon2"})
    assert got.pings["lat"].to_list() == [3.5] and got.pings["lon"].to_list() == [4.5]
    assert ahead._STARTED == {}


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n", b"device_id,timestamp,lat,lon\n", b"\x00\x01\x02\x03" * 100, b"PK\x03\x04zip"],
)
def test_errors_of_a_parse_started_ahead_are_the_readers_errors(tmp_path, data):
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(PingFileError) as plain:
        read_pings(path)
    csvio.read_ahead(path, None)
    with pytest.raises(PingFileError) as started_ahead:
        read_pings(path)
    assert str(started_ahead.value) == str(plain.value)


def test_the_parse_ahead_imports_nothing(tmp_path):
    """Two threads importing the same extension modules at once can deadlock: the module
    imports no polars (the command line imports it meanwhile; pyarrow brings numpy), and
    the work it starts imports nothing at all (text codecs aside)."""
    for name, data in (("p.csv", CSV), ("p.csv.gz", gzip.compress(CSV))):
        (tmp_path / name).write_bytes(data)
    script = textwrap.dedent(
        f"""
        import os, sys
        import explorer.reading.csv_text as csvio
        from explorer.cli import ahead
        heavy = sorted(m for m in ("polars", "pandas") if m in sys.modules)
        before = set(sys.modules)
        for name in ("p.csv", "p.csv.gz"):
            path = os.path.join({str(tmp_path)!r}, name)
            csvio.read_ahead(path, None)
            ahead._STARTED[("parse", os.path.realpath(path))][2].result(timeout=60)
        new = sorted(m for m in set(sys.modules) - before if not m.startswith("encodings"))
        print(heavy, new)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout.strip() == "[] []", run.stderr


def _pings_file(tmp_path: Path, suffix: str) -> Path:
    """A small ping file: five CSV lines (one malformed, one out of range) or the same
    pings read and written as Parquet (three rows)."""
    path = tmp_path / f"p{suffix}"
    if suffix == ".csv":
        path.write_bytes(CSV)
    else:
        source = tmp_path / "source.csv"
        source.write_bytes(CSV)
        read_pings(source).pings.write_parquet(path)
    return path


#: The module whose read_ahead the command line calls, and the rows read, per input.
AHEAD = {".csv": ("reading.csv_text", 5), ".parquet": ("reading.parquet", 3)}
#: The keywords the command line gives each read_ahead: the memory engine wants device
#: hashes, which polars makes as it decodes Parquet.
AHEAD_OPTIONS = {".csv": {}, ".parquet": {"hash_ids": True}}


@pytest.mark.parametrize("suffix", list(AHEAD))
def test_the_commands_start_a_single_files_read_ahead(tmp_path, monkeypatch, capsys, suffix):
    from explorer.cli import main as cli

    module = importlib.import_module(f"explorer.{AHEAD[suffix][0]}")
    path = _pings_file(tmp_path, suffix)
    (tmp_path / "folder").mkdir()
    _pings_file(tmp_path / "folder", suffix)
    started: list[tuple[str, dict, dict]] = []
    monkeypatch.setattr(module, "read_ahead", lambda p, cols, **kw: started.append((p, cols, kw)))
    assert cli.main(["profile", str(path), "--lat-col", "lat", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]["used"] == 3
    assert started == [(str(path), {"lat": "lat"}, AHEAD_OPTIONS[suffix])]
    started.clear()
    for argv in (
        ["profile", str(path), "--engine", "chunked"],
        ["profile", str(tmp_path / "folder")],
        ["profile", str(tmp_path / f"missing{suffix}")],
    ):
        cli.main([*argv, "--format", "json"])
    capsys.readouterr()
    assert started == []


@pytest.mark.parametrize("suffix", list(AHEAD))
def test_the_command_line_reads_the_same_with_and_without_the_read_ahead(tmp_path, suffix):
    module, rows_read = AHEAD[suffix]
    path = _pings_file(tmp_path, suffix)
    outputs = []
    for switch in ("on", "off"):
        code = (
            f"import sys; from explorer import cli, {module}\n"
            + (f"{module}.read_ahead = lambda *a, **kw: None\n" if switch == "off" else "")
            + f"sys.exit(cli.main(['profile', {str(path)!r}, '--format', 'json']))"
        )
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
        assert run.returncode == 0, run.stderr
        outputs.append(json.loads(run.stdout))
    assert outputs[0] == outputs[1]
    assert outputs[0]["rows"]["read"] == rows_read and outputs[0]["rows"]["used"] == 3
