"""Turn input bytes into a frame of the mapped columns: compression, encoding, CSV, Parquet.

CSV columns come back as strings (so one bad value never fails a read), Parquet
columns with their own types; the frame's columns are named by role.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from explorer.columns import ALIASES, detect_columns
from explorer.errors import PingFileError

#: Bytes looked at to sniff encoding, delimiter and header.
SNIFF_BYTES = 65_536
DELIMITERS = (",", ";", "\t", "|")
_OTHER_ARCHIVES = {
    b"PK\x03\x04": "a zip archive",
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"\x28\xb5\x2f\xfd": "zstd-compressed",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
_DATA_LIKE = re.compile(r"^[\s\d.,:;/+\-TZeE]*\d[\s\d.,:;/+\-TZeE]*$")
_QUOTED = re.compile(r'"[^"\n]*"')
_NEWLINE = re.compile(r"\r\n|\n|\r")


@dataclass(frozen=True)
class RawTable:
    """Mapped columns (named by role), the mapping used, and malformed lines skipped."""

    frame: pl.DataFrame
    mapping: dict[str, str]
    malformed: int
    decimal_comma: bool


def load_bytes(source: str | os.PathLike | bytes, name: str | None) -> tuple[bytes, str]:
    """Raw input bytes and the label outputs use for them."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), name or "<bytes>"
    path = Path(source)
    label = name or path.name
    try:
        return path.read_bytes(), label
    except FileNotFoundError as exc:
        raise PingFileError(f"File {label} does not exist; check the path.") from exc
    except IsADirectoryError as exc:
        raise PingFileError(f"{label} is a folder; pass one CSV or Parquet file.") from exc
    except OSError as exc:
        raise PingFileError(f"File {label} cannot be opened ({exc.strerror}); check it.") from exc


def _decompress(raw: bytes, label: str) -> bytes:
    if raw[:2] != b"\x1f\x8b":
        for magic, what in _OTHER_ARCHIVES.items():
            if raw.startswith(magic):
                raise PingFileError(f"{label} is {what}; extract the CSV or Parquet file first.")
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise PingFileError(f"{label} is a damaged gzip file; compress it again.") from exc


def _encoding(payload: bytes, label: str) -> str:
    """The payload's text encoding: utf-8(-sig), utf-16 (BOM or NUL pattern) or latin-1."""
    head = payload[:SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
            return "utf-16-be"
        raise PingFileError(f"{label} is not a text file; give a CSV (optionally gzipped) or Parquet.")
    controls = sum(head.count(bytes([c])) for c in (*range(1, 9), *range(14, 27), *range(28, 32)))
    if controls > 0.01 * len(head):
        raise PingFileError(f"{label} is not a text file; give a CSV (optionally gzipped) or Parquet.")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sniff boundary is still UTF-8.
        if exc.start < len(head) - 3 or len(head) < SNIFF_BYTES:
            return "latin-1"
    return "utf-8"


def _to_utf8(payload: bytes, encoding: str) -> bytes:
    if encoding == "utf-8":
        return payload
    if encoding == "utf-8-sig":
        return payload[3:]
    return payload.decode(encoding, errors="replace").encode("utf-8")


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
    known = {a for aliases in ALIASES.values() for a in aliases}
    wanted = {str(c).lower() for c in (explicit or {}).values()}
    lowered = [f.strip().lower() for f in fields]
    if any(f in known or f in wanted for f in lowered):
        return
    data_like = sum(bool(_DATA_LIKE.match(f)) for f in lowered if f)
    if data_like and data_like * 2 >= len([f for f in lowered if f]):
        raise PingFileError(
            f"The first line of {label} looks like data, not column names; add a header line "
            "such as device_id,timestamp,lat,lon,os."
        )


@dataclass(frozen=True)
class _CsvLayout:
    written: list[str]
    names: list[str]
    delimiter: str
    body_offset: int


def _layout(text_bytes: bytes, explicit: Mapping[str, str] | None, label: str) -> _CsvLayout:
    """Find the header line, its column names, the delimiter and where data starts."""
    head = text_bytes[:SNIFF_BYTES].decode("utf-8", errors="replace")
    lines = [line for line in _NEWLINE.split(head) if line.strip()]
    if not lines:
        raise PingFileError(f"{label} is empty; export the file again with a header and rows.")
    delimiter = _sniff_delimiter(lines)
    fields = next(csv.reader([lines[0]], delimiter=delimiter), [])
    _check_header(fields, explicit, label)
    start = len(text_bytes) - len(text_bytes.lstrip())
    ends = [i for i in (text_bytes.find(b"\n", start), text_bytes.find(b"\r", start)) if i >= 0]
    end = min(ends) if ends else len(text_bytes)
    if text_bytes[end : end + 2] == b"\r\n":
        end += 1
    return _CsvLayout(*_header_names(fields), delimiter, end + 1)


class _MalformedCounter:
    """Counts (never stores) lines with the wrong number of fields."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, _row: object) -> str:
        with self._lock:
            self.count += 1
        return "skip"


def _pyarrow_read(body: pa.Buffer, layout: _CsvLayout, needed: list[str]) -> tuple[pa.Table, int]:
    counter = _MalformedCounter()
    table = pacsv.read_csv(
        pa.BufferReader(body),
        read_options=pacsv.ReadOptions(column_names=layout.names, use_threads=True),
        parse_options=pacsv.ParseOptions(
            delimiter=layout.delimiter, invalid_row_handler=counter
        ),
        convert_options=pacsv.ConvertOptions(
            include_columns=needed,
            column_types={c: pa.string() for c in needed},
            strings_can_be_null=False,
        ),
    )
    return table, counter.count


def _read_csv(payload: bytes, explicit: Mapping[str, str] | None, label: str) -> RawTable:
    encoding = _encoding(payload, label)
    text_bytes = _to_utf8(payload, encoding)
    layout = _layout(text_bytes, explicit, label)
    # Detect on the names as written, so two identical alias columns are reported as a tie.
    mapping = detect_columns(layout.written, explicit)
    if not text_bytes[layout.body_offset :].strip():
        raise PingFileError(f"{label} has a header but no data rows; export it again with rows.")
    needed = list(dict.fromkeys(mapping.values()))
    body = pa.py_buffer(text_bytes).slice(layout.body_offset)
    try:
        table, malformed = _pyarrow_read(body, layout, needed)
    except pa.ArrowInvalid as exc:
        if encoding != "utf-8" or "UTF8" not in str(exc).upper().replace("-", ""):
            raise PingFileError(f"{label} cannot be parsed as CSV; check its format.") from exc
        # Invalid UTF-8 beyond the sniffed head: the file is Latin-1 after all.
        text_bytes = payload.decode("latin-1").encode("utf-8")
        body = pa.py_buffer(text_bytes).slice(layout.body_offset)
        table, malformed = _pyarrow_read(body, layout, needed)
    frame = pl.from_arrow(table)
    frame = frame.select([pl.col(column).alias(role) for role, column in mapping.items()])
    decimal_comma = layout.delimiter == ";" and _has_comma(frame)
    return RawTable(frame, mapping, malformed, decimal_comma)


def _has_comma(frame: pl.DataFrame) -> bool:
    sample = frame.select("lat", "lon").head(1000)
    return bool(
        sample.select(pl.any_horizontal(pl.all().str.contains(",", literal=True)).any()).item()
    )


def _read_parquet(payload: bytes, explicit: Mapping[str, str] | None, label: str) -> RawTable:
    try:
        parquet = pq.ParquetFile(pa.BufferReader(payload))
        names = list(parquet.schema_arrow.names)
    except (pa.ArrowException, OSError) as exc:
        raise PingFileError(f"{label} is a damaged Parquet file; write it again.") from exc
    mapping = detect_columns(names, explicit)
    if parquet.metadata.num_rows == 0:
        raise PingFileError(f"{label} has columns but no rows; write it again with its rows.")
    try:
        table = parquet.read(columns=list(dict.fromkeys(mapping.values())), use_threads=True)
    except (pa.ArrowException, OSError) as exc:
        raise PingFileError(f"{label} is a damaged Parquet file; write it again.") from exc
    frame = pl.from_arrow(table)
    frame = frame.select([pl.col(column).alias(role) for role, column in mapping.items()])
    return RawTable(frame, mapping, 0, False)


def read_table(raw: bytes, explicit: Mapping[str, str] | None, label: str) -> RawTable:
    """The mapped columns of a CSV (plain or gzip) or Parquet input."""
    if not raw.strip():
        raise PingFileError(f"{label} is empty; export the file again with a header and rows.")
    payload = _decompress(raw, label)
    if payload[:4] == b"PAR1":
        return _read_parquet(payload, explicit, label)
    if not payload.strip():
        raise PingFileError(f"{label} is empty; export the file again with a header and rows.")
    try:
        return _read_csv(payload, explicit, label)
    except (pa.ArrowException, pl.exceptions.PolarsError) as exc:
        raise PingFileError(f"{label} cannot be parsed as CSV; check its format.") from exc


def preview(raw: bytes, n: int, label: str) -> tuple[list[str], pl.DataFrame]:
    """Header and first ``n`` rows as strings, for a column-mapping form."""
    if not raw.strip():
        raise PingFileError(f"{label} is empty; export the file again with a header and rows.")
    payload = _decompress(raw, label)
    if payload[:4] == b"PAR1":
        try:
            frame = pl.read_parquet(io.BytesIO(payload), n_rows=max(n, 1))
        except (pa.ArrowException, OSError, pl.exceptions.PolarsError) as exc:
            raise PingFileError(f"{label} is a damaged Parquet file; write it again.") from exc
        if frame.is_empty():
            raise PingFileError(f"{label} has columns but no rows; write it again with its rows.")
        return frame.columns, frame.head(n).cast(pl.String)
    text_bytes = _to_utf8(payload, _encoding(payload, label))
    layout = _layout(text_bytes, {}, label)
    body = text_bytes[layout.body_offset : layout.body_offset + 4 * SNIFF_BYTES]
    cut = body.rfind(b"\n")
    body = body[: cut + 1] if cut >= 0 and len(body) == 4 * SNIFF_BYTES else body
    if not body.strip():
        raise PingFileError(f"{label} has a header but no data rows; export it again with rows.")
    try:
        table, _ = _pyarrow_read(pa.py_buffer(body), layout, layout.names)
    except pa.ArrowException as exc:
        raise PingFileError(f"{label} cannot be parsed as CSV; check its format.") from exc
    return layout.names, pl.from_arrow(table.slice(0, n))
