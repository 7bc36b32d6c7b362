"""Compressed input unpacks as a bounded stream: a gzip bomb is refused with a sentence."""

import gzip

import pytest

from explorer.engines import choose
from explorer.engines.choose import summarise_source
from explorer.errors import PingFileError
from explorer.reading import chunks
from explorer.reading.decode import (
    UNPACKED_LIMIT_ENV,
    UnpackedTooLarge,
    decompress,
    max_unpacked_bytes,
)
from explorer.reading.pings import read_pings

HEADER = b"device_id,timestamp,lat,lon\n"


def rows(n: int, start: int = 0) -> bytes:
    return b"".join(
        b"d%d,%d,40.7%03d,-73.9%03d\n" % (i % 50, 1_700_000_000 + i, i % 997, i % 991)
        for i in range(start, start + n)
    )


@pytest.mark.parametrize(
    "data", [b"", b"x", HEADER + rows(5_000), bytes(range(256)) * 4_000], ids=str
)
def test_unpacks_what_the_standard_library_unpacks(data):
    packed = gzip.compress(data)
    assert decompress(packed, "f") == gzip.decompress(packed) == data


def test_every_member_is_unpacked():
    data = HEADER + rows(3_000)
    assert decompress(gzip.compress(data[:100]) + gzip.compress(data[100:]), "f") == data


@pytest.mark.parametrize(
    "damage",
    [lambda b: b[:-10], lambda b: b + b"junk", lambda b: b[:30]],
    ids=["truncated", "trailing junk", "cut in the stream"],
)
def test_damaged_gzip_is_one_sentence(damage):
    with pytest.raises(PingFileError, match="damaged gzip"):
        decompress(damage(gzip.compress(HEADER + rows(2_000))), "f.csv.gz")


def test_a_bomb_stops_at_the_limit_with_a_sentence_naming_it():
    bomb = gzip.compress(b"\0" * (64 << 20), 9)  # 64 MB from ~64 KB
    with pytest.raises(UnpackedTooLarge) as caught:
        decompress(bomb, "bomb.csv.gz", limit=8 << 20)
    message = str(caught.value)
    assert "bomb.csv.gz" in message and "8 MB" in message and UNPACKED_LIMIT_ENV in message
    assert "\n" not in message


def test_the_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(UNPACKED_LIMIT_ENV, "2")
    assert max_unpacked_bytes() == 2 << 20
    for bad in ("nope", "-1", "0"):
        monkeypatch.setenv(UNPACKED_LIMIT_ENV, bad)
        assert max_unpacked_bytes() == 4096 << 20


def test_the_reader_refuses_past_the_limit(tmp_path):
    path = tmp_path / "p.csv.gz"
    path.write_bytes(gzip.compress(HEADER + rows(20_000)))
    assert read_pings(path).rows_used == 20_000
    with pytest.raises(UnpackedTooLarge):
        read_pings(path, max_unpacked=100_000)


def test_auto_reads_in_chunks_what_unpacks_past_memory(tmp_path, monkeypatch):
    """Planned from the packed size, the memory engine is chosen; the input unpacks past
    what memory holds, so the same summary comes from the chunked engine."""
    path = tmp_path / "p.csv.gz"
    path.write_bytes(gzip.compress(HEADER + rows(20_000)))
    in_memory, meta = summarise_source(path, resolution=8)
    assert meta["engine"] == "memory"
    monkeypatch.setattr(choose, "unpacked_budget", lambda: 100_000)
    streamed, meta = summarise_source(path, resolution=8)
    assert meta["engine"] == "chunked"
    assert streamed.rows_used == in_memory.rows_used == 20_000
    with pytest.raises(UnpackedTooLarge, match="more than the memory engine holds"):
        summarise_source(path, resolution=8, engine="memory")


def test_the_chunked_reader_skips_a_line_with_no_end_and_counts_it(tmp_path, monkeypatch):
    """A run of bytes without a newline longer than a line may be is never held whole: it
    is one malformed line, and the rows around it are read."""
    monkeypatch.setattr(chunks, "MAX_LINE_BYTES", 1 << 20)
    path = tmp_path / "p.csv.gz"
    junk = b"x" * (5 << 20)
    path.write_bytes(gzip.compress(HEADER + rows(1_000) + junk + b"\n" + rows(1_000, 1_000)))
    summary, _ = summarise_source(path, resolution=8, engine="chunked", chunk_rows=500)
    assert summary.rejected_by_reason["malformed_line"] == 1
    assert summary.rows_used == 2_000  # the junk was a line of its own


def test_a_non_utf8_text_larger_than_the_limit_is_refused_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setenv(UNPACKED_LIMIT_ENV, "1")
    path = tmp_path / "p.csv.gz"
    path.write_bytes(gzip.compress((HEADER + rows(40_000)).decode().encode("utf-16")))
    with pytest.raises(PingFileError, match="not UTF-8"):
        summarise_source(path, resolution=8, engine="chunked")
