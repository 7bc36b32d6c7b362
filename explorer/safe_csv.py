"""The one CSV writer: every CSV the product writes is safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets read a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula, so a value from a user's file such as
``=HYPERLINK(...)`` would run when a colleague opens the download. Following OWASP's
advice on CSV injection, such a text cell (and such a column name) gets a leading
apostrophe, which spreadsheets show as text. Only text is touched: numeric, temporal
and boolean columns are written as they are, so a negative longitude stays ``-73.9``.

A leaf module (polars only), so that every stage that writes a CSV can use it: the
cleaning actions, the per-cell export of ``reports`` and the app's downloads.
"""

from __future__ import annotations

import os
import re
from typing import BinaryIO

import polars as pl

#: Leading characters that make a spreadsheet read a text cell as a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = "^[" + "".join(re.escape(ch) for ch in FORMULA_PREFIXES) + "]"


def _is_formula(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def _is_text(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)


def formula_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with formula-like text cells and column names prefixed by ``'``.

    Categorical and enum columns become plain text first (they hold text, and a CSV
    has no dictionary type); numbers, times and booleans stay as they are.
    """
    fixes = []
    for name, dtype in frame.schema.items():
        if _is_text(dtype):
            text = pl.col(name).cast(pl.String)
            fixes.append(
                pl.when(text.str.contains(_FORMULA_START))
                .then(pl.lit("'") + text)
                .otherwise(text)
                .alias(name)
            )
    safe = frame.with_columns(fixes) if fixes else frame
    renames = {name: "'" + name for name in safe.columns if _is_formula(name)}
    return safe.rename(renames) if renames else safe


def write_csv(frame: pl.DataFrame, target: str | os.PathLike | BinaryIO) -> None:
    """Write ``frame`` as formula-safe UTF-8 CSV to a path or a binary file object."""
    formula_safe(frame).write_csv(target)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """``frame`` as formula-safe UTF-8 CSV bytes (for a download button)."""
    return formula_safe(frame).write_csv().encode("utf-8")
