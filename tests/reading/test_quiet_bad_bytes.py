"""Bad bytes stay quiet and counted: whatever the input, reading writes nothing to stdout
or stderr (no warning, no "Exception ignored" traceback), a malformed line with bytes
that are not UTF-8 is one ``malformed_line``, and an unreadable header is refused in
one short line that names the likely cause."""

from __future__ import annotations

import gzip
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.engines.choose import summarise_source
from explorer.errors import PingFileError
from explorer.reading.decode import SNIFF_BYTES
from explorer.reading.pings import read_pings

#: Headers, each with a row that reads cleanly under it.
LAYOUTS = [
    (b"device_id timestamp lat lon os", b"d1 1700000000 48.85 2.35 iOS"),
    (b"maid latitude longitude created_at", b"d2 48.85 2.35 2024-01-01T00:00:00Z"),
    (b"y x time platform", b"48.85 2.35 1700000000000 Android"),
    (b"lat lng ts", b"48.85 2.35 1700000000"),
    (b"a b c", b"1 2 3"),
]
FIELDS = st.sampled_from(
    [
        b"48.85", b"2.35", b"-3.25", b"1700000000", b"1700000000000", b"2024-01-01T00:00:00Z",
        b"iOS", b"Android", b"d1", b"", b"nan", b"91", b'"', b'"q,1"', b"\xc3\xa9",
        b"2024-02-30 10:00", b"31/12/2024 23:59", b"2024-03-31 02:30", b"1e20", b"-1e400",
        b"99999999999999999999", b"2024-01-01T00:00:00+25:00", b"Mon Jan  1 2024", b"48,85",
    ]
)  # fmt: skip
#: Bytes that are not UTF-8 (or end a line, or are NUL): invalid starts, a lone lead byte,
#: a surrogate, a code point past U+10FFFF, a cut sequence.
BAD = st.sampled_from(
    [b"\xff", b"\xfe", b"\x80", b"\xc3", b"\xc3(", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
     b"\xe2\x82", b"\x00", b"\x00\x00", b"\r", b"\n", b'"', b"\x1a", b"\x85"]
)  # fmt: skip
BOMS = st.one_of(
    st.just(b""),
    st.sampled_from(
        [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"]
    ),
)
#: A valid line repeated past the 64 KiB the reader sniffs, so that bad bytes after it
#: are met by the parser, not by the encoding sniffer.
LONG_HEAD = b"d0,1700000000,48.85,2.35,iOS\n" * 2_400
#: Examples of the slow variant (``EXPLORER_FUZZ_EXAMPLES`` overrides it).
SLOW_EXAMPLES = int(os.environ.get("EXPLORER_FUZZ_EXAMPLES", "2000"))


@st.composite
def csv_with_bad_bytes(draw: st.DrawFn) -> bytes:
    """CSV-ish text (a header, rows of plausible and hostile fields, some ragged) with
    bytes that are not UTF-8 put anywhere, sometimes behind a BOM, a long clean head,
    UTF-16, gzip or a cut end."""
    delimiter = draw(st.sampled_from([b",", b";", b"\t", b"|"]))
    header, good = (line.split() for line in draw(st.sampled_from(LAYOUTS)))
    row = st.one_of(
        st.just(good),
        st.just(good),
        st.lists(FIELDS, min_size=len(good), max_size=len(good)),
        st.lists(FIELDS, max_size=7),  # ragged
    )
    rows = draw(st.lists(row, max_size=12))
    lines = [delimiter.join(fields) for fields in [header, *rows]]
    if draw(st.integers(0, 7)) == 0:  # past the head the reader sniffs
        lines[1:1] = [delimiter.join(good)] * (SNIFF_BYTES // len(delimiter.join(good)) + 1)
    text = b"\n".join(lines) + draw(st.sampled_from([b"", b"\n", b"\r\n"]))
    if draw(st.integers(0, 7)) == 0:
        text = text.decode("utf-8", errors="replace").encode(draw(st.sampled_from(UTF16)))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(BAD) + text[at:]
    text = draw(BOMS) + text
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    if draw(st.integers(0, 9)) == 0:
        text = gzip.compress(text)
    return text


UTF16 = ["utf-16", "utf-16-le", "utf-16-be"]
ANY_INPUT = st.one_of(
    csv_with_bad_bytes(),
    csv_with_bad_bytes(),
    csv_with_bad_bytes(),
    csv_with_bad_bytes(),
    st.binary(max_size=600),
    st.tuples(BOMS, st.binary(max_size=300)).map(b"".join),
)


@contextmanager
def nothing_escapes() -> Iterator[None]:
    """Fail on a warning or an unraisable exception ("Exception ignored in …"): pytest
    would otherwise catch them before they reached stderr."""
    unraisable: list = []
    previous = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        sys.unraisablehook = previous
    assert not unraisable, [str(u.exc_value) for u in unraisable]
    assert not caught, [str(w.message) for w in caught]


def read_quietly(data: bytes, capfd: pytest.CaptureFixture[str]) -> None:
    """Read ``data``: a result or one short PingFileError, and not a byte on fd 1 or 2."""
    capfd.readouterr()
    with nothing_escapes():
        try:
            result = read_pings(data, name="pings.csv")
        except PingFileError as error:
            message = str(error)
            assert message and len(message.splitlines()) == 1, message
        else:
            assert result.rows_used + result.rows_rejected == result.rows_read
    out, err = capfd.readouterr()
    assert out == "" and err == "", err


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ANY_INPUT)
def test_reading_any_bytes_is_quiet(capfd, data: bytes) -> None:
    read_quietly(data, capfd)


@pytest.mark.slow
@settings(
    max_examples=SLOW_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ANY_INPUT)
def test_reading_any_bytes_is_quiet_at_length(capfd, data: bytes) -> None:
    read_quietly(data, capfd)


HEADER = b"device_id,timestamp,lat,lon,os\n"
GOOD = b"d1,1700000000,48.85,2.35,iOS\n"
#: A ragged line whose extra field is not UTF-8.
RAGGED = b"d2,1700000060,48.86,2.36,iOS,\xff\xfe\n"


@pytest.mark.parametrize(
    "data",
    [
        HEADER + GOOD + RAGGED + GOOD,
        b"\xef\xbb\xbf" + HEADER + GOOD + RAGGED + GOOD,  # declared UTF-8
        HEADER + LONG_HEAD + RAGGED + GOOD,  # the bad byte beyond the sniffed head
        gzip.compress(b"\xef\xbb\xbf" + HEADER + LONG_HEAD + RAGGED),
    ],
    ids=["short", "bom", "past-the-head", "gzip"],
)
def test_a_ragged_line_with_bad_bytes_is_one_malformed_line(capfd, data: bytes) -> None:
    read_quietly(data, capfd)
    result = read_pings(data)
    assert result.rejected_by_reason["malformed_line"] == 1
    assert result.rows_read == result.rows_used + 1


@pytest.mark.parametrize("engine", ["memory", "chunked"])
def test_every_engine_counts_it(tmp_path, capfd, engine: str) -> None:
    path = tmp_path / "pings.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER + LONG_HEAD + RAGGED + GOOD * 3)
    capfd.readouterr()
    with nothing_escapes():
        summary, _ = summarise_source(path, resolution=7, engine=engine, chunk_rows=500)
    assert summary.rejected_by_reason["malformed_line"] == 1
    assert summary.rows_read == 2_400 + 1 + 3
    assert capfd.readouterr() == ("", "")


ROWS = "device_id,timestamp,latitude,longitude,os\n" + "".join(
    f"d{i},{1_700_000_000 + i},48.85,2.35,iOS\n" for i in range(5)
)


@pytest.mark.parametrize(
    ("data", "cause"),
    [
        (b"\xff\xfe" + ROWS.encode("latin-1"), "encoding"),  # a UTF-16 mark on 8-bit text
        (b"\xfe\xff" + ROWS.encode("utf-16-le"), "encoding"),  # the wrong byte order
        (ROWS.encode("cp500"), "encoding"),  # EBCDIC
        (ROWS.encode("utf-32"), "UTF-32"),
        (bytes(range(256)) * 8, "not a text file"),
        (ROWS.split("\n", 1)[1].encode(), "looks like data"),
        (
            ",".join(f"column_name_{i}" for i in range(60)).encode() + b"\n" + b"1," * 59 + b"1\n",
            "No lat, lon",
        ),
    ],  # fmt: skip
    ids=["bom-latin1", "utf16-wrong-order", "ebcdic", "utf32", "binary", "no-header", "wide"],
)
def test_an_unreadable_header_is_one_short_line_naming_the_cause(data: bytes, cause: str):
    with pytest.raises(PingFileError) as refused:
        read_pings(data, name="pings.csv")
    message = str(refused.value)
    assert cause in message
    assert len(message) < 200 and len(message.splitlines()) == 1, message
