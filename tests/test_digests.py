"""Input digests computed ahead (explorer.cli.digests) equal the digest of what is read."""

import hashlib
import json
import os

import pytest

from explorer.cli import ahead, digests
from explorer.reading.pings import read_pings

CSV = b"device_id,ts,lat,lon\na,1700000000,1.5,2.5\nb,1700000001,3,4\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hashed_ahead_then_marked(tmp_path, mark: str):
    """A CSV hashed ahead (checked), then "hashed" ahead again as ``mark``: a reader that
    returns ``mark`` took the digest started ahead instead of hashing."""
    path = tmp_path / "p.csv"
    path.write_bytes(CSV)
    digests.hash_ahead(path)
    assert digests.hashed_ahead(path).result(timeout=30) == _sha(CSV)
    ahead.start("sha256", path, lambda: mark)
    return path


def test_a_digest_started_ahead_is_used_once(tmp_path):
    path = _hashed_ahead_then_marked(tmp_path, "from-ahead")
    assert read_pings(path).input_sha256 == "from-ahead"
    assert digests.hashed_ahead(path) is None  # taken once
    assert read_pings(path).input_sha256 == _sha(CSV)  # then hashed as usual


def test_a_file_changed_after_hashing_is_hashed_again(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(CSV)
    digests.hash_ahead(path)
    changed = CSV + b"c,1700000002,5,6\n"
    path.write_bytes(changed)
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock's grain
    result = read_pings(path)
    assert result.input_sha256 == _sha(changed) and result.rows_used == 3
    assert digests.hashed_ahead(path) is None  # the stale digest was dropped


def test_only_regular_files_are_hashed_ahead(tmp_path):
    for path in (tmp_path, tmp_path / "missing.csv", "https://example.org/p.csv"):
        digests.hash_ahead(path)
        assert ("sha256", os.path.realpath(path)) not in ahead._STARTED


def test_the_analysis_command_hashes_its_input_ahead(tmp_path, monkeypatch, capsys):
    from explorer.cli import main as cli

    path = tmp_path / "p.csv"
    path.write_bytes(CSV)
    started = []
    monkeypatch.setattr(cli, "hash_ahead", lambda p: started.append(p))
    assert cli.main(["analyze", str(path), "--format", "json"]) == 0
    assert started == [str(path)]
    report = json.loads(capsys.readouterr().out)
    assert report["provenance"]["input_sha256"] == _sha(CSV)


def test_the_profile_command_never_hashes_its_input(tmp_path, monkeypatch, capsys):
    """The profile names no input by sha256: hashing would only take a core from the read."""
    from explorer.cli import main as cli
    from explorer.reading import pings as explorer_io

    path = tmp_path / "p.csv"
    path.write_bytes(CSV)
    started = []
    monkeypatch.setattr(cli, "hash_ahead", lambda p: started.append(p))
    monkeypatch.setattr(explorer_io, "_Digest", _refuse)
    for engine in ("memory", "chunked"):
        assert cli.main(["profile", str(path), "--engine", engine, "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["rows"]["used"] == 2
    assert started == []


def test_the_clean_command_never_hashes_its_input(tmp_path, monkeypatch, capsys):
    from explorer.cli import main as cli
    from explorer.reading import pings as explorer_io

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
    from explorer.reading import pings as explorer_io

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
    from explorer.reading import pings as explorer_io

    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_bytes(CSV)
    assert len(explorer_io.read_pings(tmp_path).input_sha256) == 64
    monkeypatch.setattr(explorer_io, "_Digest", _refuse)
    read = explorer_io.read_pings(tmp_path, digest=False)
    assert read.input_sha256 == ""
    assert read.rows_read == 4


def test_the_chunked_engine_takes_the_digest_started_ahead(tmp_path):
    from explorer.engines.choose import summarise_source

    path = _hashed_ahead_then_marked(tmp_path, "a" * 64)
    _, meta = summarise_source(path, engine="chunked", resolution=8)
    # one file: the input digest is the digest of its (taken, not recomputed) digest
    assert meta["input_sha256"] == hashlib.sha256(("a" * 64).encode()).hexdigest()
    assert digests.hashed_ahead(path) is None
    _, again = summarise_source(path, engine="chunked", resolution=8)
    assert again["input_sha256"] == hashlib.sha256(_sha(CSV).encode()).hexdigest()
