"""Which columns of a Parquet file polars decodes, and that decode started ahead.

The command line starts polars' decode of a local Parquet file on a thread as soon as
polars is imported (:func:`read_ahead`), while h3, the engines and the rest import on
the main thread; the reader takes the result (:func:`decoded`) when the file and the
columns are unchanged (10 M pings, ``profile``, ten alternating runs: median pairwise
-0.16 s). This module imports only polars and pyarrow, and the decode imports nothing
(a test checks it): two threads importing the same extension modules at once can
deadlock.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from explorer import ahead
from explorer._io_bytes import Buffer
from explorer.column_names import detect_columns
from explorer.errors import PingFileError

_AHEAD_KIND = "parquet"
_MAGIC = b"PAR1"


def dictionary_types(schema: pa.Schema, mapping: Mapping[str, str]) -> list[str]:
    """The device-type column to read dictionary-encoded from Parquet (none if it is not
    text, or if another role reads the same column)."""
    column = mapping.get("device_type")
    if column is None or list(mapping.values()).count(column) > 1:
        return []
    kind = schema.field(column).type
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    return [column] if text or pa.types.is_string_view(kind) else []


def polars_columns(mapping: Mapping[str, str], coded: list[str]) -> list[str]:
    """The mapped columns polars decodes: all but ``coded``, the device types read with
    their dictionary (:func:`dictionary_types`)."""
    return [c for c in dict.fromkeys(mapping.values()) if c not in coded]


def read_ahead(path: str | os.PathLike, explicit: Mapping[str, str] | None) -> None:
    """Start polars' decode of the mapped columns of ``path`` on a thread, when it is a
    plain (not compressed) Parquet file whose columns map; otherwise do nothing (the
    reader then says what is wrong)."""
    try:
        with open(path, "rb") as file:
            if file.read(len(_MAGIC)) != _MAGIC:
                return
        schema = pq.read_schema(path)
        mapping = detect_columns(list(schema.names), explicit)
    except (OSError, pa.ArrowException, PingFileError):
        return
    columns = polars_columns(mapping, dictionary_types(schema, mapping))
    ahead.start(
        _AHEAD_KIND,
        path,
        lambda: pl.read_parquet(path, columns=columns),
        arguments=tuple(columns),
    )


def decoded(source: str | os.PathLike | Buffer, columns: list[str]) -> pl.DataFrame:
    """``columns`` of the Parquet ``source`` (a path or the file's bytes) decoded by
    polars: the decode :func:`read_ahead` started for the same path and columns if any."""
    started = None
    if isinstance(source, str | os.PathLike):
        started = ahead.take(_AHEAD_KIND, source, arguments=tuple(columns))
    if started is not None:
        return started.result()
    return pl.read_parquet(source, columns=columns)
