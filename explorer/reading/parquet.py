"""Which columns of a Parquet file polars decodes, and the decode itself; a mapped column
of nested values (lists, structs, maps) is refused by name before any decoding.

A reader that wants device hashes rather than ids (``read_pings(device_ids=False)``)
has polars hash the id column as it decodes it (:func:`decode`), so the ids' strings are
never made.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from explorer.errors import PingFileError
from explorer.reading.decode import Buffer
from explorer.reading.device_hash import device_hash

#: The name :func:`decode` gives the hashed device-id column (no file's own, in practice).
HASHED = "__explorer_device"


#: The command-line flag that maps each role, named in messages.
_FLAGS = {
    "lat": "--lat-col",
    "lon": "--lon-col",
    "timestamp": "--time-col",
    "time": "--time-col",
    "date": "--date-col",
    "device_id": "--device-col",
    "device_type": "--type-col",
}


def _nested_name(kind: pa.DataType) -> str:
    if pa.types.is_struct(kind):
        return "structs"
    if pa.types.is_map(kind):
        return "maps"
    return "unions" if pa.types.is_union(kind) else "lists"


def check_flat(schema: pa.Schema, mapping: Mapping[str, str], label: str) -> None:
    """Raise, naming the column, when a mapped column holds nested values: no role
    reads them, and the decoders' own errors would not say which column is at fault."""
    for role, column in mapping.items():
        kind = schema.field(column).type
        if pa.types.is_nested(kind):
            shown = str(kind) if len(str(kind)) <= 60 else f"{str(kind)[:60]}…"
            raise PingFileError(
                f"Column {column} of {label} holds {_nested_name(kind)} ({shown}), not single "
                f"values; flatten it first, or map another column with {_FLAGS.get(role, role)}."
            )


#: Rows of a Parquet file whose values columns are found by, when their names say nothing.
SAMPLE_ROWS = 500


def head_sample(parquet: pq.ParquetFile, rows: int = SAMPLE_ROWS) -> dict[str, pl.Series]:
    """The first ``rows`` rows of the file's flat columns, for finding columns by content."""
    flat = [f.name for f in parquet.schema_arrow if not pa.types.is_nested(f.type)]
    batch = next(parquet.iter_batches(batch_size=rows, columns=flat), None)
    if batch is None:
        return {}
    frame = pl.from_arrow(pa.Table.from_batches([batch]))
    assert isinstance(frame, pl.DataFrame)
    # Bytes are no role's values (and need not be text): only columns that read as text.
    readable = [n for n, kind in frame.schema.items() if kind not in (pl.Binary, pl.Object)]
    return {name: frame[name] for name in readable}


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
