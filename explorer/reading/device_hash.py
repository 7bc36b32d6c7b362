"""Device ids to the 64-bit hashes every table counts devices by: one definition for the
readers, the engines and the actions that pick pings by device.

This module imports only polars: the Parquet decode thread of
:mod:`explorer.reading.parquet` evaluates :func:`device_hash` while other modules import.
"""

from __future__ import annotations

import polars as pl

#: Seed of the 64-bit hashes of device ids and rows; fixed so partial summaries made
#: in different processes merge.
HASH_SEED = 0x5EED_0F_B1A5


def device_hash(ids: pl.Expr) -> pl.Expr:
    """Each ping's ``device``: a 64-bit hash of its id as text, null where the id is
    missing or empty (the ping still counts, but as no device)."""
    text = ids.cast(pl.String)
    return pl.when(text != "").then(text.hash(HASH_SEED))


def device_hashes(ids: pl.Series) -> pl.Series:
    """:func:`device_hash` of a column of ids, named ``device``."""
    return ids.to_frame().select(device_hash(pl.first()).alias("device")).to_series()
