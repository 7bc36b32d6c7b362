"""``read_pings``: ping files (CSV, gzip, Parquet; paths or bytes; a folder or a glob
of them) into canonical, validated pings, and a preview of a file's first rows."""

from __future__ import annotations

import os
from collections.abc import Mapping

import polars as pl

from explorer.reading import decode as _io_bytes
from explorer.reading import mapped_columns as src
from explorer.reading import sources
from explorer.reading.many_files import read_many
from explorer.reading.one_file import (
    HASHED_PINGS_SCHEMA,
    PINGS_SCHEMA,
    REJECT_REASONS,
    ReadResult,
    check_zone,
    read_raw,
)

__all__ = [
    "HASHED_PINGS_SCHEMA",
    "PINGS_SCHEMA",
    "REJECT_REASONS",
    "ReadResult",
    "preview_table",
    "read_pings",
]


def read_pings(
    source: str | os.PathLike | bytes,
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    name: str | None = None,
    digest: bool = True,
    device_ids: bool = True,
    max_unpacked: int | None = None,
) -> ReadResult:
    """Read a ping file (path or bytes), a folder or a glob of them, into canonical pings.

    ``columns`` maps roles (lat, lon, timestamp, date, time, device_id, device_type) to
    column names and always wins over detection; ``tz`` is the IANA zone of naive
    timestamps (default: the zone at each ping's place). Several files are read one by
    one and concatenated in memory (see :mod:`explorer.engines.choose` for larger inputs).
    ``digest=False`` skips the input's sha256 (``input_sha256`` is then ""): hashing a
    large file takes a core's time, wasted where no output names the input.
    ``device_ids=False`` gives each ping's ``device`` hash instead of its id
    (:data:`HASHED_PINGS_SCHEMA`), all a summary needs: Parquet ids are then hashed as
    they are decoded and never become strings, which saves their memory and time.
    ``max_unpacked`` caps what a compressed file may unpack to, in bytes (default
    ``$EXPLORER_MAX_UNPACKED_MB``): past it the read stops with
    :class:`~explorer.reading.decode.UnpackedTooLarge`, before memory fills up.
    """
    check_zone(tz)
    if not isinstance(source, bytes | bytearray | memoryview) and sources.is_multi(source):
        files = sources.expand_source(source)
        label = name or os.fspath(source)
        options = {"digest": digest, "device_ids": device_ids, "max_unpacked": max_unpacked}
        return read_many(files, columns, tz, label, **options)
    raw, label = _io_bytes.load_bytes(source, name)
    return read_raw(
        raw, label, columns, tz, digest=digest, device_ids=device_ids, max_unpacked=max_unpacked
    )


def preview_table(source: str | os.PathLike | bytes, n: int = 5) -> tuple[list[str], pl.DataFrame]:
    """The header and the first ``n`` rows as strings, for a column-mapping form.

    Raises :class:`PingFileError` when the file cannot be used at all (empty, not
    text, no header, no rows); unknown column names are fine here.
    """
    raw, label = _io_bytes.load_bytes(source, None)
    return src.preview(raw, n, label)
