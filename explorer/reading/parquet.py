"""Which columns of a Parquet file polars decodes, and that decode started ahead.

The command line starts polars' decode of a local Parquet file on a thread as soon as
polars is imported (:func:`read_ahead`), while h3, the engines and the rest import on
the main thread; the reader takes the result (:func:`decoded`) when the file and the
columns are unchanged (10 M pings, ``profile``, ten alternating runs: median pairwise
-0.16 s). This module imports only polars and pyarrow, and the decode imports nothing
(a test checks it): two threads importing the same extension modules at once can
deadlock.

A reader that wants device hashes rather than ids (``read_pings(device_ids=False)``)
has polars hash the id column as it decodes it (:func:`decode`): the ids' strings are
never made (10 M pings: read and hash 0.58-0.64 s instead of 0.76-0.79 s; whole
``profile`` runs peak 0.1 GB lower).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from explorer.cli import ahead
from explorer.errors import PingFileError
from explorer.reading.column_names import detect_columns
from explorer.reading.decode import Buffer
from explorer.reading.device_hash import device_hash

_AHEAD_KIND = "parquet"
_MAGIC = b"PAR1"
#: The name :func:`decode` gives the hashed device-id column (no file's own, in practice).
HASHED = "__explorer_device"


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


def hashed_column(mapping: Mapping[str, str], hash_ids: bool) -> str | None:
    """The device-id column to decode as hashes (with ``hash_ids``), unless another role
    reads the same column."""
    column = mapping.get("device_id")
    if not hash_ids or column is None or list(mapping.values()).count(column) > 1:
        return None
    return column


def decoded_roles(mapping: Mapping[str, str], hashed: str | None) -> dict[str, str]:
    """Each role's column in :func:`decode`'s result: hashed ids are the column
    :data:`HASHED` and take the role ``device`` (the pings' hash column)."""
    roles = dict(mapping)
    if hashed is not None:
        del roles["device_id"]
        roles["device"] = HASHED
    return roles


def decode(
    source: str | os.PathLike | Buffer, columns: list[str], hashed: str | None
) -> pl.DataFrame:
    """``columns`` of the Parquet ``source`` decoded by polars; the column ``hashed`` (if
    any) comes back as its device hashes (:func:`~explorer.reading.device_hash.device_hash`),
    named :data:`HASHED`."""
    if hashed is None:
        return pl.read_parquet(source, columns=columns)
    wanted = [device_hash(pl.col(c)).alias(HASHED) if c == hashed else pl.col(c) for c in columns]
    if isinstance(source, str | os.PathLike):
        return pl.scan_parquet(source).select(wanted).collect()
    return pl.read_parquet(source, columns=columns).select(wanted)


def read_ahead(
    path: str | os.PathLike, explicit: Mapping[str, str] | None, *, hash_ids: bool
) -> None:
    """Start polars' decode of the mapped columns of ``path`` on a thread, when it is a
    plain (not compressed) Parquet file whose columns map; otherwise do nothing (the
    reader then says what is wrong). ``hash_ids``: the reader will want the device ids
    as hashes (:func:`decode`)."""
    try:
        with open(path, "rb") as file:
            if file.read(len(_MAGIC)) != _MAGIC:
                return
        schema = pq.read_schema(path)
        mapping = detect_columns(list(schema.names), explicit)
    except (OSError, pa.ArrowException, PingFileError):
        return
    columns = polars_columns(mapping, dictionary_types(schema, mapping))
    hashed = hashed_column(mapping, hash_ids)
    ahead.start(
        _AHEAD_KIND,
        path,
        lambda: decode(path, columns, hashed),
        arguments=(tuple(columns), hashed),
    )


def decoded(
    source: str | os.PathLike | Buffer, columns: list[str], hashed: str | None
) -> pl.DataFrame:
    """:func:`decode` of ``source`` (a path or the file's bytes): the decode
    :func:`read_ahead` started for the same path and arguments if any."""
    started = None
    if isinstance(source, str | os.PathLike):
        started = ahead.take(_AHEAD_KIND, source, arguments=(tuple(columns), hashed))
    if started is not None:
        return started.result()
    return decode(source, columns, hashed)
