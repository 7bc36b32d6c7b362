"""The input's sha256: computed when a report names its input by it, and only then."""

import hashlib
import json

import pytest

from explorer.reading.pings import read_pings

CSV = b"device_id,ts,lat,lon\na,1700000000,1.5,2.5\nb,1700000001,3,4\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_analysis_command_names_its_input_by_sha256(tmp_path, capsys):
    from explorer.cli import main as cli

    path = tmp_path / "p.csv"
    path.write_bytes(CSV)
    assert cli.main(["analyze", str(path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["provenance"]["input_sha256"] == _sha(CSV)


def test_the_profile_command_never_hashes_its_input(tmp_path, monkeypatch, capsys):
    """The profile names no input by sha256: hashing would only take a core from the read."""
    from explorer.cli import main as cli
    from explorer.reading import one_file as explorer_io

    path = tmp_path / "p.csv"
    path.write_bytes(CSV)
    monkeypatch.setattr(explorer_io, "_Digest", _refuse)
    for engine in ("memory", "chunked"):
        assert cli.main(["profile", str(path), "--engine", engine, "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["rows"]["used"] == 2


def test_the_clean_command_never_hashes_its_input(tmp_path, monkeypatch, capsys):
    from explorer.cli import main as cli
    from explorer.reading import one_file as explorer_io

    path = tmp_path / "p.csv"
    path.write_bytes(CSV + b"b,1700000001,3,4\n")
    monkeypatch.setattr(explorer_io, "_Digest", _refuse)
    out = tmp_path / "clean.csv"
    assert cli.main(["clean", str(path), "--drop", "duplicate_pings", "--output", str(out)]) == 0
    assert out.read_text().count("\n") == 3  # header and the two distinct rows


def _refuse(*_args, **_kwargs):
    raise AssertionError("the input was hashed")


@pytest.mark.parametrize("engine", ["memory", "chunked"])
def test_summarise_source_hashes_only_when_asked(tmp_path, monkeypatch, engine):
    from explorer.engines import chunked as engines_chunked
    from explorer.engines.choose import summarise_source
    from explorer.reading import chunks as _io_stream
    from explorer.reading import one_file as explorer_io

    path = tmp_path / "p.csv"
    path.write_bytes(CSV)
    _, meta = summarise_source(path, engine=engine, resolution=8)
    assert meta["input_sha256"] == (
        _sha(CSV) if engine == "memory" else hashlib.sha256(_sha(CSV).encode()).hexdigest()
    )
    monkeypatch.setattr(explorer_io, "_Digest", _refuse)
    monkeypatch.setattr(engines_chunked, "file_sha256", _refuse)
    monkeypatch.setattr(_io_stream.hashlib, "sha256", _refuse)
    summary, meta = summarise_source(path, engine=engine, resolution=8, digest=False)
    assert meta["input_sha256"] == ""
    assert summary.rows_read == 2


def test_reading_a_folder_hashes_only_when_asked(tmp_path, monkeypatch):
    from explorer.reading import one_file as explorer_io

    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_bytes(CSV)
    assert len(read_pings(tmp_path).input_sha256) == 64
    monkeypatch.setattr(explorer_io, "_Digest", _refuse)
    read = read_pings(tmp_path, digest=False)
    assert read.input_sha256 == ""
    assert read.rows_read == 4


def test_released_pages_stay_readable_and_the_digest_is_the_files(tmp_path):
    """The reader lets the system take the parsed file's pages back; the map still reads
    the file, and the sha256 (hashed from the file) is the bytes' own."""
    from explorer.reading.decode import load_bytes, release_pages

    path = tmp_path / "p.csv"
    path.write_bytes(CSV * 1000)
    raw, _ = load_bytes(path, None)
    assert bytes(raw[:64]) == (CSV * 1000)[:64]
    release_pages(raw)
    assert bytes(raw) == CSV * 1000
    assert read_pings(path).input_sha256 == _sha(CSV * 1000)
