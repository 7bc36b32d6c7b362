"""The command line never hangs or traces back: pipes are read once, special files and
link loops are refused, system errors are one line naming the cause (exit 2), an
existing path wins over glob reading, and ``file://`` URLs are paths."""

from __future__ import annotations

import errno
import io
import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from explorer.cli.main import main
from explorer.reading import paths
from explorer.reading.pings import preview_table, read_pings
from tests.cli.conftest import run_explorer

HEADER = "device_id,timestamp,lat,lon,os\n"
ROWS = 120
TEXT = HEADER + "".join(
    f"d{i % 7},{1_717_387_249_000 + i * 60_000},{40.7 + i * 1e-4:.6f},{-73.9 - i * 1e-4:.6f},ios\n"
    for i in range(ROWS)
)
#: Seconds a child process may take before the test calls it a hang.
DEADLINE = 60


def one_error(result: subprocess.CompletedProcess[str], *named: str) -> str:
    """The one stderr line of a refused input (exit 2, nothing on stdout), checked to name
    each of ``named``."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in named:
        assert word in lines[0], lines[0]
    return lines[0]


def cli_error(capsys: pytest.CaptureFixture[str], args: list[str], *named: str) -> str:
    """``main(args)`` in this process, checked as :func:`one_error` does."""
    code = main(args)
    out, err = capsys.readouterr()
    return one_error(subprocess.CompletedProcess(args, code, out, err), *named)


def profile_rows(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


@pytest.fixture
def pings(tmp_path: Path) -> Path:
    path = tmp_path / "pings.csv"
    path.write_text(TEXT)
    return path


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO that a thread fills with :data:`TEXT` once a reader opens it; the test
    fails if the reader never opens it or opens it a second time."""
    path = tmp_path / "pings.fifo"
    os.mkfifo(path)
    opened = []

    def write() -> None:
        with open(path, "w") as handle:  # waits for the reader
            opened.append(True)
            handle.write(TEXT)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    yield path
    writer.join(timeout=DEADLINE)
    if writer.is_alive():  # release the writer: nobody read the FIFO
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    assert opened == [True], "the FIFO was never read"


@pytest.mark.parametrize("engine", ["auto", "chunked"])
def test_a_fifo_is_read_once_by_every_engine(fifo: Path, engine: str) -> None:
    result = run_explorer("profile", str(fifo), "--engine", engine, "--format", "json")
    data = profile_rows(result)
    assert data["source"] == "pings.fifo"
    assert data["rows"]["read"] == ROWS and data["rows"]["used"] == ROWS


def test_read_pings_reads_a_fifo_once_in_memory(fifo: Path) -> None:
    result = read_pings(fifo)
    assert result.rows_read == ROWS and result.source == "pings.fifo"


@pytest.mark.parametrize("engine", ["auto", "chunked"])
def test_dev_stdin_from_a_pipe_is_read(engine: str) -> None:
    command = [sys.executable, "-m", "explorer", "profile", "/dev/stdin", "--engine", engine]
    result = subprocess.run(
        [*command, "--format", "json"], input=TEXT, capture_output=True, text=True, timeout=DEADLINE
    )
    data = profile_rows(result)
    assert data["source"] == "stdin" and data["rows"]["used"] == ROWS


def test_dev_stdin_from_a_terminal_is_refused() -> None:
    leader, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "explorer", "profile", "/dev/stdin"],
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )
    finally:
        os.close(terminal)
        os.close(leader)
    one_error(result, "/dev/stdin is a terminal", "pipe the pings in")


def test_a_device_is_refused_not_read_for_ever() -> None:
    one_error(run_explorer("profile", "/dev/zero", timeout=DEADLINE), "/dev/zero is a device")


def test_config_and_baseline_devices_and_folders_are_refused(
    pings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_explorer("analyze", str(pings), "--config", "/dev/zero", timeout=DEADLINE)
    one_error(result, "--config /dev/zero is a device")
    cli_error(capsys, ["analyze", str(pings), "--baseline", str(pings.parent)], "is a folder")


def test_a_symlink_loop_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.csv").symlink_to(tmp_path / "b.csv")
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    cli_error(capsys, ["profile", str(tmp_path / "a.csv")], "a.csv", "loop of symbolic links")
    cli_error(capsys, ["profile", str(tmp_path)], "a.csv", "loop of symbolic links")


def test_a_folder_loop_is_refused_by_folders_and_recursive_globs(
    pings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two links back up: glob alone would follow 2**depth paths.
    (pings.parent / "x").mkdir()
    (pings.parent / "x" / "up").symlink_to("..")
    (pings.parent / "x" / "again").symlink_to("..")
    cli_error(capsys, ["profile", str(pings.parent)], "leads back to a folder above it")
    pattern = str(pings.parent / "**" / "*.csv")
    result = run_explorer("profile", pattern, timeout=DEADLINE)
    one_error(result, "x/again leads back to a folder above it")


def test_a_link_to_a_folder_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.csv").write_text(TEXT)
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "linked").symlink_to(tmp_path / "real")
    assert read_pings(tmp_path / "top").rows_used == ROWS


def test_a_name_too_long_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = "p" * 300 + ".csv"
    line = cli_error(capsys, ["profile", str(tmp_path / name)], "304 characters", "255")
    assert name not in line, "the name is cut, not printed whole"
    out = str(tmp_path / (name + ".json"))
    cli_error(capsys, ["analyze", str(tmp_path / "x.csv"), "--output", out], "Cannot write")
    cli_error(capsys, ["analyze", str(tmp_path / "x.csv"), "--baseline", out], "--baseline")


def test_a_file_in_the_path_is_named(pings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli_error(capsys, ["profile", str(pings / "x.csv")], "pings.csv is a file, not a folder")


def test_system_errors_say_their_cause() -> None:
    denied = paths.os_problem("x.csv", "x.csv", PermissionError(errno.EACCES, "Permission denied"))
    assert str(denied) == (
        "x.csv cannot be read: permission denied; make it readable or copy it somewhere you "
        "can read."
    )


def test_an_unreadable_file_is_one_line(
    pings: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pings.chmod(0)
    if os.geteuid() == 0:  # root reads any file: refuse it as the system refuses others
        real_open = io.open

        def denied(path, *args, **kwargs):
            if isinstance(path, str | os.PathLike) and os.fspath(path) == str(pings):
                raise PermissionError(errno.EACCES, "Permission denied", str(pings))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(io, "open", denied)
        monkeypatch.setattr("builtins.open", denied)
    cli_error(capsys, ["profile", str(pings)], "pings.csv", "permission denied")


def test_an_existing_file_wins_over_glob_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pings1.csv").write_text(TEXT)
    (tmp_path / "pings[1].csv").write_text(HEADER + TEXT.splitlines(keepends=True)[1])
    assert main(["profile", str(tmp_path / "pings[1].csv"), "--format", "json"]) == 0
    literal = json.loads(capsys.readouterr().out)
    assert literal["source"] == "pings[1].csv" and literal["rows"]["read"] == 1
    assert main(["profile", str(tmp_path / "pings[0-9].csv"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]["read"] == ROWS  # no such file: a glob


def test_a_file_url_is_a_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "my pings.csv"
    path.write_text(TEXT)
    url = "file://" + str(path).replace(" ", "%20")
    assert main(["profile", url, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == "my pings.csv" and data["rows"]["used"] == ROWS
    assert main(["profile", f"file://{tmp_path}", "--format", "json"]) == 0  # a folder
    assert json.loads(capsys.readouterr().out)["rows"]["used"] == ROWS
    cli_error(capsys, ["profile", f"file://{tmp_path}/missing.csv"], "missing.csv does not exist")


def _parquet(path: Path, column: str, values: pa.Array) -> Path:
    table = pa.table(
        {
            "device_id": ["a", "b"],
            "timestamp": [1_717_387_249_000, 1_717_387_309_000],
            "lat": [40.7, 40.8],
            "lon": [-73.9, -73.8],
        }
    )
    index = table.schema.get_field_index(column)
    table = (
        table.set_column(index, column, values)
        if index >= 0
        else table.append_column(column, values)
    )
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize("engine", ["memory", "chunked"])
def test_a_nested_parquet_column_is_named(
    tmp_path: Path, engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lists = _parquet(tmp_path / "lists.parquet", "lat", pa.array([[40.7], [40.8]]))
    args = ["--engine", engine]
    cli_error(capsys, ["profile", str(lists), *args], "Column lat of lists.parquet holds lists")
    structs = _parquet(tmp_path / "structs.parquet", "device_id", pa.array([{"id": "a"}] * 2))
    cli_error(capsys, ["profile", str(structs), *args], "Column device_id", "holds structs")
    extra = _parquet(tmp_path / "extra.parquet", "tags", pa.array([[1, 2], [3]]))
    assert main(["profile", str(extra), *args, "--format", "json"]) == 0  # not mapped: fine
    assert json.loads(capsys.readouterr().out)["rows"]["used"] == 2
    names, rows = preview_table(extra)
    assert names[-1] == "tags" and rows["tags"].to_list() == ["[1, 2]", "[3]"]
