"""Turn input bytes into a frame of the mapped columns: compression, encoding, CSV, Parquet.

The frame's columns are named by role. Coordinates and timestamps keep whatever type
the reader gave them (strings or numbers; validation parses both); device types come
back already normalised.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from explorer.errors import PingFileError
from explorer.reading import csv_text as csvio
from explorer.reading.column_names import detect_columns
from explorer.reading.decode import (
    SNIFF_BYTES,
    Buffer,
    FileMap,
    decompress,
    empty,
    has_text,
    header_only,
    no_rows,
    text_encoding,
    to_utf8,
)
from explorer.reading.detection import normalise_device_type
from explorer.reading.parquet import (
    check_flat,
    decode,
    decoded_roles,
    dictionary_types,
    hashed_column,
    head_sample,
    polars_columns,
)

#: What the readers' libraries raise on input they cannot decode: Arrow and polars errors,
#: text that is not UTF-8 where a library expected it (damaged Parquet strings), and a
#: polars panic (a BaseException), so that damaged input is one sentence, never a crash.
DECODE_ERRORS = (
    pa.ArrowException,
    pl.exceptions.PolarsError,
    pl.exceptions.PanicException,
    UnicodeError,
)


@dataclass(frozen=True)
class RawTable:
    """Mapped columns (named by role), the mapping used, and malformed lines skipped."""

    frame: pl.DataFrame
    mapping: dict[str, str]
    malformed: int
    decimal_comma: bool


def device_types(column: pa.ChunkedArray | pa.Array) -> pl.Series:
    """Normalised device types as a Categorical (the canonical pings' type: one small code
    per ping instead of a string, and the codes are the summary's type codes).

    Normalised once per distinct value: CSV reads its types dictionary-encoded and so
    does Parquet's text column; other columns are encoded here first.
    """
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column], type=column.type)
    if len(column) == 0:
        return pl.Series("device_type", [], dtype=pl.Categorical)
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    column = column.unify_dictionaries()
    distinct = pl.Series(column.chunk(0).dictionary).cast(pl.String)
    mapped = pl.Series(normalise_device_type(distinct)).cast(pl.Categorical)
    indices = pa.chunked_array([c.indices for c in column.chunks], type=column.type.index_type)
    codes = pl.Series(indices)
    if codes.null_count():  # a missing type is "unknown": one more value to gather
        codes = codes.fill_null(len(mapped))
        mapped = mapped.append(pl.Series(["unknown"], dtype=pl.Categorical))
    return mapped.gather(codes).rename("device_type")


def _to_frame(table: pa.Table, mapping: Mapping[str, str]) -> pl.DataFrame:
    """The mapped columns, named by role: numbers in one chunk, text in the parser's.

    The plain columns cross to polars as one table, which is cheaper than column by
    column. Text crosses as Arrow string views, which polars takes without copying the
    characters, and stays in the parser's chunks (as Parquet's text does: only polars
    reads it); the numbers are put in one chunk each, all at once on polars' threads,
    because later steps hand them to numpy. Device types are normalised on the way.
    """
    plain = {role: source for role, source in mapping.items() if role != "device_type"}
    with ThreadPoolExecutor(1) as pool:  # the types are normalised on one core meanwhile
        types = None
        if "device_type" in mapping:
            types = pool.submit(device_types, table.column(mapping["device_type"]))
        columns = table.select(list(dict.fromkeys(plain.values())))
        for index, field in enumerate(columns.schema):
            if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
                views = pc.cast(columns.column(index), pa.string_view())
                columns = columns.set_column(index, field.name, views)
        frame = pl.from_arrow(columns, rechunk=False)
        assert isinstance(frame, pl.DataFrame)
        numbers = [name for name, kind in frame.schema.items() if kind.is_numeric()]
        frame = frame.with_columns(frame.select(numbers).rechunk())
        frame = frame.select(pl.col(source).alias(role) for role, source in plain.items())
        if types is not None:
            frame = frame.with_columns(types.result())
    return frame.select(list(mapping))


def _csv_table(csv: csvio.ParsedCsv, label: str) -> RawTable:
    try:
        frame = _to_frame(csv.table, csv.mapping)
        decimal_comma = csv.delimiter == ";" and _has_comma(frame)
    except DECODE_ERRORS as exc:
        raise csvio.unparsable(label) from exc
    return RawTable(frame, csv.mapping, csv.malformed, decimal_comma)


def _has_comma(frame: pl.DataFrame) -> bool:
    sample = frame.select("lat", "lon").head(1000).select(pl.all().cast(pl.String))
    found = sample.select(pl.any_horizontal(pl.all().str.contains(",", literal=True)).any())
    return bool(found.item())


def _read_parquet(
    payload: Buffer,
    explicit: Mapping[str, str] | None,
    label: str,
    parsed: Callable[[], None],
    hash_ids: bool,
) -> RawTable:
    try:
        parquet = pq.ParquetFile(pa.BufferReader(payload))
        names = list(parquet.schema_arrow.names)
        mapping = detect_columns(names, explicit, lambda: head_sample(parquet))
        check_flat(parquet.schema_arrow, mapping, label)
        if parquet.metadata.num_rows == 0:
            raise no_rows(label)
        source = payload.path if isinstance(payload, FileMap) else payload
        # Polars decodes Parquet faster than pyarrow's reader here, but only pyarrow
        # keeps a text column's dictionary: the device types come from it, so each
        # distinct type is normalised once instead of every ping's string.
        coded = dictionary_types(parquet.schema_arrow, mapping)
        wanted = polars_columns(mapping, coded)
        hashed = hashed_column(mapping, hash_ids)
        with ThreadPoolExecutor(1) as pool:
            # One thread reads and normalises the types while polars decodes the rest:
            # alone it would run on one core after polars' multi-threaded decode.
            types = pool.submit(_parquet_types, payload, coded) if coded else None
            table = decode(source, wanted, hashed)
            types = None if types is None else types.result()
        parsed()
    except (*DECODE_ERRORS, OSError) as exc:
        raise PingFileError(f"{label} is a damaged Parquet file; write it again.") from exc
    # Numbers in one contiguous chunk per column now (row groups arrive as chunks): later
    # steps hand them to numpy, which would copy them each time. Strings stay in chunks:
    # only polars reads them, chunk by chunk, so copying them would buy nothing.
    roles = decoded_roles(mapping, hashed)
    frame = pl.DataFrame(
        [
            (
                _contiguous(table[column]) if role in ("lat", "lon", "timestamp") else table[column]
            ).alias(role)
            for role, column in roles.items()
            if column not in coded
        ]
    )
    if types is not None:
        frame = frame.with_columns(types)
    elif "device_type" in frame.columns:
        frame = frame.with_columns(device_types(frame["device_type"].to_arrow()))
    return RawTable(frame.select(list(roles)), mapping, 0, False)


def _parquet_types(payload: Buffer, coded: list[str]) -> pl.Series:
    dictionary = pq.ParquetFile(pa.BufferReader(payload), read_dictionary=coded)
    column = dictionary.read(columns=coded).column(0)
    # A damaged page can decode into offsets or indices that point outside their
    # buffers; polars trusts Arrow arrays and would read past them (a crash, seen once in
    # the damaged-bytes test), so the column is checked in full first (an Arrow error).
    column.validate(full=True)
    return device_types(column)


def _contiguous(column: pl.Series) -> pl.Series:
    """A numeric column in one chunk, concatenated by numpy (which reuses freed heap
    where polars' rechunk maps fresh pages); polars takes the array without a copy.
    Other columns are left in their chunks."""
    if not column.dtype.is_numeric():
        return column  # text (timestamps as strings) is parsed chunk by chunk anyway
    if column.n_chunks() == 1 or column.null_count():
        return column.rechunk()
    parts = [chunk.to_numpy() for chunk in column.get_chunks()]
    return pl.Series(column.name, np.concatenate(parts), dtype=column.dtype)


def _nothing() -> None:
    return None


def read_table(
    raw: Buffer,
    explicit: Mapping[str, str] | None,
    label: str,
    parsed: Callable[[], None] = _nothing,
    *,
    hash_ids: bool = False,
    max_unpacked: int | None = None,
) -> RawTable:
    """The mapped columns of a CSV (plain or gzip) or Parquet input.

    ``parsed`` is called once the multi-threaded parse is done (the steps after it run
    on one core). With ``hash_ids`` a Parquet file's device ids may arrive already
    hashed, as a ``device`` column instead of ``device_id``. A compressed input unpacks to
    at most ``max_unpacked`` bytes (see :func:`~explorer.reading.decode.decompress`).
    """
    parsed_input = csvio.parse_input(raw, explicit, label, max_unpacked)
    if not isinstance(parsed_input, csvio.ParsedCsv):
        return _read_parquet(parsed_input, explicit, label, parsed, hash_ids)
    parsed()
    return _csv_table(parsed_input, label)


def _preview_parquet(payload: Buffer, n: int, label: str) -> tuple[list[str], pl.DataFrame]:
    try:
        frame = pl.read_parquet(io.BytesIO(payload[:]), n_rows=max(n, 1))
    except (*DECODE_ERRORS, OSError) as exc:
        raise PingFileError(f"{label} is a damaged Parquet file; write it again.") from exc
    if frame.is_empty():
        raise no_rows(label)
    return frame.columns, frame.head(n).select(_as_text(frame[name]) for name in frame.columns)


def _as_text(column: pl.Series) -> pl.Series:
    """A preview column as text; nested values (lists, structs) as Python writes them."""
    if column.dtype.is_nested():
        return pl.Series(column.name, [str(v) for v in column.to_list()], dtype=pl.String)
    return column.cast(pl.String)


def preview(raw: Buffer, n: int, label: str) -> tuple[list[str], pl.DataFrame]:
    """Header and first ``n`` rows as strings, for a column-mapping form."""
    if not has_text(raw):
        raise empty(label)
    payload = decompress(raw, label)
    if payload[:4] == b"PAR1":
        return _preview_parquet(payload, n, label)
    text = to_utf8(payload, text_encoding(payload, label), label)
    layout = csvio.sniff_layout(text, {}, label)
    limit = layout.body_offset + 4 * SNIFF_BYTES
    body = bytes(text[layout.body_offset : limit])
    if len(text) > limit:
        body = body[: body.rfind(b"\n") + 1]  # whole lines only
    if not has_text(body):
        raise header_only(label)
    types = {name: pa.string() for name in layout.names}
    try:
        table, _ = csvio.read_body(pa.py_buffer(body), layout, types)
    except pa.ArrowException as exc:
        raise csvio.unparsable(label) from exc
    return layout.names, pl.from_arrow(table.slice(0, n))
