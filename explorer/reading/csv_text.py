"""CSV layout sniffing (delimiter, header, typed columns) and the multi-threaded pyarrow read.

Coordinates and integer epochs that look clean in the sniffed head are converted by
pyarrow while it parses (in parallel, no string round trip); if any later value does
not convert, the whole read is redone with every column as a string, so one bad
value never fails a file.
"""

from __future__ import annotations

import csv
import mmap
import re
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from explorer.errors import PingFileError
from explorer.reading import long_lines
from explorer.reading.column_aliases import is_known_name
from explorer.reading.column_names import detect_columns
from explorer.reading.decode import (
    SNIFF_BYTES,
    Buffer,
    FileMap,
    decompress,
    empty,
    first_text,
    has_text,
    header_only,
    text_encoding,
    to_utf8,
)

DELIMITERS = (",", ";", "\t", "|")
#: Data lines of the head used to decide whether a column can be read as numbers.
TYPE_SAMPLE_LINES = 500
_DATA_LIKE = re.compile(r"^[\s\d.,:;/+\-TZeE]*\d[\s\d.,:;/+\-TZeE]*$")
_QUOTED = re.compile(r'"[^"\n]*"')
_NEWLINE = re.compile(r"\r\n|\n|\r")
_FLOAT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_INT = re.compile(r"^[+-]?\d{1,18}$")
DICTIONARY = pa.dictionary(pa.int32(), pa.string())
_LINE_FEED = ord("\n")
_BOM = "\ufeff".encode()


@dataclass(frozen=True)
class CsvLayout:
    """Where the data starts and how its lines split."""

    written: list[str]  # header fields as written (stripped, blanks named)
    names: list[str]  # the same, made unique for the parser
    delimiter: str
    body_offset: int
    sample_rows: list[list[str]]  # data rows of the sniffed head
    quoted: bool  # the head uses double quotes; if not, a stray quote later is plain text


def _sniff_delimiter(lines: list[str]) -> str:
    """Delimiter whose count per line is most consistent with the header's, then most frequent."""
    sample = [_QUOTED.sub("", line) for line in lines[:30]]
    best, best_key = ",", (0.0, 0)
    for delim in DELIMITERS:
        counts = [line.count(delim) for line in sample]
        if counts[0] == 0:
            continue
        key = (sum(c == counts[0] for c in counts) / len(counts), counts[0])
        if key > best_key:
            best, best_key = delim, key
    return best


def _header_names(fields: list[str]) -> tuple[list[str], list[str]]:
    """Header fields as written (blanks named) and made unique for the CSV parser."""
    written = [field.strip() or f"column_{i + 1}" for i, field in enumerate(fields)]
    names: list[str] = []
    for i, clean in enumerate(written):
        while clean in names:  # later duplicates get a suffix, the first keeps its name
            clean = f"{clean}.{i + 1}"
        names.append(clean)
    return written, names


def _check_header(fields: list[str], explicit: Mapping[str, str] | None, label: str) -> None:
    """Raise when the first line looks like data rather than column names."""
    wanted = {str(c).strip().lower() for c in (explicit or {}).values()}
    lowered = [f.strip().lower() for f in fields if f.strip()]
    if any(f in wanted or is_known_name(f) for f in lowered):
        return
    data_like = sum(bool(_DATA_LIKE.match(f)) for f in lowered)
    if data_like and data_like * 2 >= len(lowered):
        raise PingFileError(
            f"{label} has no header: its first line looks like data, not column names; add "
            "one such as device_id,timestamp,lat,lon,os."
        )


def sniff_layout(text: bytes, explicit: Mapping[str, str] | None, label: str) -> CsvLayout:
    """Find the header line, its column names, the delimiter and where the data starts."""
    skip = len(_BOM) if text[: len(_BOM)] == _BOM else 0  # a byte-order mark before the header
    head = text[skip:SNIFF_BYTES].decode("utf-8", errors="replace")
    lines = [line for line in _NEWLINE.split(head) if line.strip()]
    if not lines:
        raise PingFileError(f"{label} is empty; export the file again with a header and rows.")
    if len(text) > SNIFF_BYTES and len(lines) > 1:
        lines.pop()  # the last line of a cut head is partial
    delimiter = _sniff_delimiter(lines)
    fields = next(csv.reader([lines[0]], delimiter=delimiter), [])
    _check_header(fields, explicit, label)
    start = first_text(text, skip)
    newline = text.find(b"\n", start)
    # A carriage return ends the header only before the first newline: look no further,
    # or a file without one would be searched to its end.
    end = text.find(b"\r", start, len(text) if newline < 0 else newline)
    end = newline if end < 0 else end
    end = len(text) if end < 0 else end
    if text[end : end + 2] == b"\r\n":
        end += 1
    rows = list(csv.reader(lines[1 : TYPE_SAMPLE_LINES + 1], delimiter=delimiter))
    return CsvLayout(*_header_names(fields), delimiter, end + 1, rows, '"' in head)


def head_sample(layout: CsvLayout) -> dict[str, pl.Series]:
    """The sniffed head's values per column (named as written; the first of two equal
    names), for finding columns by their content."""
    width = len(layout.written)
    rows = [row for row in layout.sample_rows if len(row) == width]
    sample: dict[str, pl.Series] = {}
    for index, name in enumerate(layout.written):
        if name not in sample:
            sample[name] = pl.Series(name, [row[index] for row in rows], dtype=pl.String)
    return sample


def _all_match(layout: CsvLayout, column: str, pattern: re.Pattern[str]) -> bool:
    index = layout.names.index(column)
    values = [r[index].strip() for r in layout.sample_rows if len(r) == len(layout.names)]
    values = [v for v in values if v]
    return bool(values) and all(pattern.match(v) for v in values)


def column_types(layout: CsvLayout, mapping: Mapping[str, str]) -> dict[str, pa.DataType]:
    """Types for the fast path: numbers where the head is clean, dictionary device types."""
    types: dict[str, pa.DataType] = {c: pa.string() for c in mapping.values()}
    for role in ("lat", "lon"):
        if layout.delimiter != ";" and _all_match(layout, mapping[role], _FLOAT):
            types[mapping[role]] = pa.float64()
    if "timestamp" in mapping and _all_match(layout, mapping["timestamp"], _INT):
        types[mapping["timestamp"]] = pa.int64()
    if "device_type" in mapping:
        types[mapping["device_type"]] = DICTIONARY
    return types


#: pyarrow's CSV parser splits its input into blocks of this many bytes and parses them
#: on its threads. Larger than its default (1 MB), whose block buffers are handed back
#: and faulted in afresh block after block; the parse is the same at any block size.
BLOCK_BYTES = 16 << 20
#: ...but small inputs keep at least this many blocks per core, so both cores parse.
BLOCKS_PER_CORE = 2
_MIN_BLOCK_BYTES = 1 << 20
#: A line longer than the smallest block may be more than the parser can hold (it fails
#: the whole read then), so every line longer than this is a malformed line, whatever
#: the file's size or the engine.
MAX_LINE_BYTES = _MIN_BLOCK_BYTES


def block_bytes(size: int) -> int:
    """The parser's block size for an input of ``size`` bytes."""
    per_block = size // (BLOCKS_PER_CORE * pa.cpu_count())
    return max(_MIN_BLOCK_BYTES, min(BLOCK_BYTES, per_block))


class _MalformedCounter:
    """Counts (never stores, never reads) lines with the wrong number of fields.

    pyarrow decodes a line's text as strict UTF-8 before it calls this handler; on bytes
    that do not decode it would print the error to stderr and fail the read instead.
    So :func:`read_body` parses valid UTF-8 only (see :func:`as_valid_utf8`).
    """

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, _row: object) -> str:
        with self._lock:
            self.count += 1
        return "skip"


def as_valid_utf8(body: pa.Buffer) -> pa.Buffer:
    """``body`` itself when it is valid UTF-8 (checked by Arrow, without a copy), else its
    bytes read as Latin-1, which decodes any byte: text with a byte that is not UTF-8
    is Latin-1 after all, as a head with one is (:func:`text_encoding`)."""
    offsets = pa.py_buffer(struct.pack("<qq", 0, body.size))
    try:
        pa.LargeStringArray.from_buffers(1, offsets, body).validate(full=True)
    except pa.ArrowInvalid:
        return pa.py_buffer(body.to_pybytes().decode("latin-1").encode("utf-8"))
    return body


def read_body(
    body: pa.Buffer, layout: CsvLayout, types: Mapping[str, pa.DataType]
) -> tuple[pa.Table, int]:
    """Parse the data lines with pyarrow; returns the table and the malformed-line count."""
    return _parse(as_valid_utf8(body), layout, types)


def _parse(
    body: pa.Buffer, layout: CsvLayout, types: Mapping[str, pa.DataType]
) -> tuple[pa.Table, int]:
    """:func:`read_body` of a body known to be valid UTF-8."""
    counter = _MalformedCounter()
    table = pacsv.read_csv(
        pa.BufferReader(body),
        read_options=pacsv.ReadOptions(
            column_names=layout.names, use_threads=True, block_size=block_bytes(body.size)
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=layout.delimiter,
            # Without quotes in the head, one stray quote must not swallow the lines after it.
            quote_char='"' if layout.quoted else False,
            invalid_row_handler=counter,
        ),
        convert_options=pacsv.ConvertOptions(
            include_columns=list(types), column_types=dict(types), strings_can_be_null=False
        ),
    )
    return table, counter.count


#: The body is parsed this many bytes at a time, cut at line ends, and the mapped file's
#: pages under each part are let go once it is parsed: a large file never counts whole
#: towards the process's memory beside its parsed table.
PART_BYTES = 256 << 20

LetGo = Callable[[pa.Buffer], None]


def _keep(_part: pa.Buffer) -> None:
    return None


def page_release(text: Buffer) -> LetGo:
    """A function that lets go of the mapped file pages under a slice of ``text``'s buffer
    (they stay valid: touching them again reads the file); nothing for text in memory or
    for a slice that is a copy (text transcoded, long lines cut)."""
    if not isinstance(text, FileMap) or not hasattr(mmap, "MADV_DONTNEED"):
        return _keep
    base, size = pa.py_buffer(text).address, len(text)

    def let_go(part: pa.Buffer) -> None:
        start = part.address - base
        if start >= 0 and start + part.size <= size and part.size and not text.closed:
            first = start - start % mmap.PAGESIZE
            text.madvise(mmap.MADV_DONTNEED, first, start + part.size - first)

    return let_go


def line_parts(body: pa.Buffer, quoted: bool, size: int) -> list[pa.Buffer]:
    """``body`` cut into slices of about ``size`` bytes, each ending at a line end (or the
    body's end). A quoted file stays whole: its fields may hold line breaks. No part
    starts with a byte-order mark: the parser drops one at the start of its input, while
    inside a body it is data (files concatenated from exports that each begin with one)."""
    if quoted or body.size <= size:
        return [body]
    data = np.frombuffer(body, dtype=np.uint8)
    parts, start = [], 0
    while start < body.size:
        end = _line_end(data, start + size)
        while bytes(data[end : end + len(_BOM)]) == _BOM:
            end = _line_end(data, end)
        parts.append(body.slice(start, end - start))
        start = end
    return parts


def _line_end(data: np.ndarray, at: int) -> int:
    """The position just past the first line feed at or after ``at`` (the data's length
    if there is none), looked for a window at a time."""
    window = MAX_LINE_BYTES
    while at < data.size:
        found = np.flatnonzero(data[at : at + window] == _LINE_FEED)
        if found.size:
            return at + int(found[0]) + 1
        at += window
    return data.size


def read_typed_or_strings(
    body: pa.Buffer, layout: CsvLayout, types: Mapping[str, pa.DataType], let_go: LetGo = _keep
) -> tuple[pa.Table, int]:
    """Read with numeric types; redo with strings when some value does not convert.

    Lines longer than :data:`MAX_LINE_BYTES` are cut out first and counted with the
    malformed ones: the parser could not hold them, and would fail the whole read. The
    body is checked as UTF-8 whole, then parsed a part at a time (:func:`line_parts`),
    ``let_go`` called on each part once parsed and on the given body before the first
    (when lines were cut or the text transcoded, a copy is parsed: the given body's pages
    go before it).
    """
    given = body
    body, cut = long_lines.without_long_lines(body, MAX_LINE_BYTES)
    body = as_valid_utf8(body)
    let_go(given)
    parts = line_parts(body, layout.quoted, PART_BYTES)
    table, malformed = _typed_or_strings(parts, layout, types, let_go)
    return table, malformed + cut


def _typed_or_strings(
    parts: list[pa.Buffer], layout: CsvLayout, types: Mapping[str, pa.DataType], let_go: LetGo
) -> tuple[pa.Table, int]:
    try:
        return _parse_parts(parts, layout, types, let_go)
    except pa.ArrowInvalid as exc:
        message = str(exc).lower()
        if "conversion error" not in message or "utf8" in message:
            raise
    strings = {c: (t if t == DICTIONARY else pa.string()) for c, t in types.items()}
    return _parse_parts(parts, layout, strings, let_go)


def _parse_parts(
    parts: list[pa.Buffer], layout: CsvLayout, types: Mapping[str, pa.DataType], let_go: LetGo
) -> tuple[pa.Table, int]:
    tables, malformed = [], 0
    for part in parts:
        table, bad = _parse(part, layout, types)
        let_go(part)
        tables.append(table)
        malformed += bad
    return (tables[0] if len(tables) == 1 else pa.concat_tables(tables)), malformed


def unparsable(label: str) -> PingFileError:
    """The error for a text input that is not CSV (the parser's message stays chained)."""
    return PingFileError(f"{label} cannot be parsed as CSV; check its format.")


@dataclass(frozen=True)
class ParsedCsv:
    """A CSV input parsed by pyarrow: the table of its mapped columns (named as in the
    file), the role -> column mapping, the malformed lines skipped and the delimiter."""

    table: pa.Table
    mapping: dict[str, str]
    malformed: int
    delimiter: str


def parse_input(
    raw: Buffer,
    explicit: Mapping[str, str] | None,
    label: str,
    max_unpacked: int | None = None,
) -> ParsedCsv | Buffer:
    """A CSV input (plain or gzip) parsed, or the decompressed payload when it is Parquet.

    Raises :class:`PingFileError` for input that is empty, not text or not CSV, and
    :class:`~explorer.reading.decode.UnpackedTooLarge` past ``max_unpacked`` bytes.
    """
    if not has_text(raw):
        raise empty(label)
    payload = decompress(raw, label, max_unpacked)
    if payload[:4] == b"PAR1":
        return payload
    if not has_text(payload):
        raise empty(label)
    try:
        return _parse_csv(payload, explicit, label)
    except pa.ArrowException as exc:
        raise unparsable(label) from exc


def _parse_csv(payload: Buffer, explicit: Mapping[str, str] | None, label: str) -> ParsedCsv:
    encoding = text_encoding(payload, label)
    text = to_utf8(payload, encoding, label)
    layout = sniff_layout(text, explicit, label)
    # Detect on the names as written, so two identical alias columns are reported as a tie.
    mapping = detect_columns(layout.written, explicit, lambda: head_sample(layout))
    if not has_text(text, layout.body_offset):
        raise header_only(label)
    types = column_types(layout, mapping)
    # Invalid UTF-8 beyond the sniffed head is read as Latin-1 (see as_valid_utf8).
    table, malformed = read_typed_or_strings(
        pa.py_buffer(text).slice(layout.body_offset), layout, types, page_release(text)
    )
    return ParsedCsv(table, mapping, malformed, layout.delimiter)
