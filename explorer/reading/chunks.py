"""Reading one file in bounded chunks: Parquet record batches, CSV blocks cut at line ends.

Each chunk goes through the same validation as a whole file (same parsing, same
rejection reasons); the caller sums the counts. CSV blocks are split at newlines, so
a quoted field holding a line break that straddles a block edge counts as malformed
lines (the in-memory reader would have kept it). CSV files in UTF-16 are read whole.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from explorer.errors import PingFileError
from explorer.reading import csv_text as csvio
from explorer.reading import mapped_columns as src
from explorer.reading import parse
from explorer.reading.column_names import detect_columns
from explorer.reading.decode import (
    SNIFF_BYTES,
    UnpackedTooLarge,
    decompress,
    empty,
    has_text,
    header_only,
    max_unpacked_bytes,
    no_rows,
    text_encoding,
)
from explorer.reading.one_file import unreadable, validate
from explorer.reading.parquet import check_flat, dictionary_types, head_sample
from explorer.reading.sources import InputFile

#: Bytes per CSV line assumed before the head has been measured.
_LINE_BYTES_GUESS = 64
_HASH_BLOCK = 8 << 20


@dataclass(frozen=True)
class Chunk:
    """Validated pings of one chunk and what reading them took."""

    pings: pl.DataFrame
    rows_read: int
    rejected: dict[str, int]
    timing: parse.Timing
    columns: dict[str, str]


def file_sha256(file: InputFile) -> str:
    """The sha256 of a file's bytes, read in blocks (bounded memory)."""
    digest = hashlib.sha256()
    with file.open() as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _chunk(table: src.RawTable, tz: str | None, label: str) -> Chunk:
    mapping = dict(table.mapping)
    table = src.RawTable(table.frame, mapping, table.malformed, table.decimal_comma)
    pings, counts, timing = validate(table, tz, label, strict=False)
    return Chunk(pings, table.frame.height + table.malformed, counts, timing, mapping)


def _parquet_chunks(
    handle: IO[bytes],
    explicit: Mapping[str, str] | None,
    label: str,
    chunk_rows: int,
    row_groups: tuple[int, ...] | None = None,
) -> Iterator[src.RawTable]:
    try:
        parquet = pq.ParquetFile(handle)
    except (pa.ArrowException, OSError) as exc:
        raise PingFileError(f"{label} is a damaged Parquet file; write it again.") from exc
    names = list(parquet.schema_arrow.names)
    mapping = detect_columns(names, explicit, lambda: head_sample(parquet))
    check_flat(parquet.schema_arrow, mapping, label)
    if parquet.metadata.num_rows == 0:
        raise no_rows(label)
    wanted = list(dict.fromkeys(mapping.values()))
    coded = dictionary_types(parquet.schema_arrow, mapping)
    try:
        if coded:  # device types read with their dictionary (see _io_source._read_parquet)
            handle.seek(0)
            parquet = pq.ParquetFile(handle, read_dictionary=coded)
        batches = parquet.iter_batches(batch_size=chunk_rows, columns=wanted, row_groups=row_groups)
        plain = [c for c in wanted if c not in coded]
        roles = [pl.col(c).alias(role) for role, c in mapping.items() if c not in coded]
        for batch in batches:
            table = pa.Table.from_batches([batch])
            frame = pl.from_arrow(table.select(plain))
            assert isinstance(frame, pl.DataFrame)
            frame = frame.select(roles)
            if "device_type" in mapping:
                types = table.column(mapping["device_type"])
                frame = frame.with_columns(src.device_types(types))
            yield src.RawTable(frame.select(list(mapping)), mapping, 0, False)
    except (*src.DECODE_ERRORS, OSError) as exc:
        raise PingFileError(f"{label} is a damaged Parquet file; write it again.") from exc


def _csv_block(block: bytes, layout: csvio.CsvLayout, types: dict) -> tuple[pa.Table, int]:
    try:
        return csvio.read_typed_or_strings(pa.py_buffer(block), layout, types)
    except pa.ArrowInvalid as exc:
        if "utf8" not in str(exc).lower().replace("-", ""):
            raise
        # Invalid UTF-8 in this block: like the whole-file reader, read it as Latin-1.
        text = block.decode("latin-1").encode("utf-8")
        return csvio.read_typed_or_strings(pa.py_buffer(text), layout, types)


#: A line longer than this holds no row of pings: it is skipped to its end (never held
#: whole in memory) and counted as one malformed line.
MAX_LINE_BYTES = 16 << 20
_READ_STEP = 1 << 20


def _blocks(handle: IO[bytes], first: bytes, size: int) -> Iterator[tuple[bytes, int]]:
    """Blocks of about ``size`` bytes, each ending at a newline (the last one at EOF), with
    the number of over-long lines skipped since the block before."""
    pending, skipped = first, 0
    while True:
        more = handle.read(max(size - len(pending), 1 << 16))
        pending += more
        if not more:
            if has_text(pending) or skipped:
                yield pending, skipped
            return
        cut = pending.rfind(b"\n") + 1
        if cut and len(pending) >= size:
            yield pending[:cut], skipped
            pending, skipped = pending[cut:], 0
        elif not cut and len(pending) > MAX_LINE_BYTES:
            pending, skipped = _after_line(handle), skipped + 1


def _after_line(handle: IO[bytes]) -> bytes:
    """Read past the end of the current line; what follows it (empty at EOF)."""
    while piece := handle.read(_READ_STEP):
        end = piece.find(b"\n")
        if end >= 0:
            return piece[end + 1 :]
    return b""


def _csv_chunks(
    handle: IO[bytes], explicit: Mapping[str, str] | None, label: str, chunk_rows: int
) -> Iterator[src.RawTable]:
    head = handle.read(4 * SNIFF_BYTES)
    encoding = text_encoding(head, label)
    if encoding.startswith("utf-16") or encoding == "latin-1":
        # Whole-file decoding keeps multi-byte and odd encodings exact (up to the limit).
        limit = max_unpacked_bytes()
        rest = handle.read(limit + 1 - len(head))
        if len(head) + len(rest) > limit:
            raise UnpackedTooLarge(
                f"{label} holds more than {limit / (1 << 20):,.0f} MB of text that is not "
                "UTF-8 (UTF-16, Latin-1 or binary), which is read whole; convert it to UTF-8 "
                "CSV, which is read in chunks."
            )
        yield src.read_table(head + rest, explicit, label)
        return
    layout = csvio.sniff_layout(head, explicit, label)  # it reads past a byte-order mark
    mapping = detect_columns(layout.written, explicit, lambda: csvio.head_sample(layout))
    types = csvio.column_types(layout, mapping)
    body = head[layout.body_offset :]
    lines = max(head.count(b"\n") - 1, 1)
    line_bytes = max(len(head) // lines, 1) if len(head) > layout.body_offset else _LINE_BYTES_GUESS
    decimal_comma: bool | None = None
    frame = None
    for block, skipped in _blocks(handle, body, chunk_rows * line_bytes):
        if not has_text(block) and frame is not None:  # only over-long lines at the end
            yield src.RawTable(frame.clear(), mapping, skipped, bool(decimal_comma))
            continue
        table, malformed = _csv_block(block, layout, types)
        frame = src._to_frame(table, mapping)
        if decimal_comma is None:
            decimal_comma = layout.delimiter == ";" and src._has_comma(frame)
        yield src.RawTable(frame, mapping, malformed + skipped, decimal_comma)
    if frame is None:
        raise header_only(label)


def _open_payload(handle: IO[bytes], label: str) -> IO[bytes]:
    """The decompressed stream (gzip), after refusing other archives."""
    magic = handle.read(8)
    handle.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=handle, mode="rb")
    decompress(magic, label)  # raises for zip, bzip2, xz, zstd, 7-Zip
    return handle


def iter_chunks(
    file: InputFile,
    columns: Mapping[str, str] | None,
    tz: str | None,
    chunk_rows: int,
    row_groups: tuple[int, ...] | None = None,
) -> Iterator[Chunk]:
    """Validated chunks of about ``chunk_rows`` rows of one file (of some row groups).

    Raises :class:`~explorer.reading.decode.EmptyInputError` for a file without data rows
    and :class:`PingFileError` (naming the file) for one that cannot be read.
    """
    label = file.label
    with file.open() as raw:
        payload = _open_payload(raw, label)
        try:
            head = payload.read(SNIFF_BYTES)
            payload.seek(0)
            if not has_text(head):
                raise empty(label)
            if head[:4] == b"PAR1":
                tables = _parquet_chunks(payload, columns, label, chunk_rows, row_groups)
            else:
                tables = _csv_chunks(payload, columns, label, chunk_rows)
            for table in tables:
                if table.frame.height or table.malformed:
                    yield _chunk(table, tz, label)
        except (OSError, EOFError) as exc:
            raise PingFileError(f"{label} is damaged or truncated ({exc}); check it.") from exc
        except src.DECODE_ERRORS as exc:
            raise unreadable(label, exc) from exc
