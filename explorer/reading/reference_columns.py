"""Which columns of a reference population hold the population, the region id and its name.

The same precedence as the pings' columns (:mod:`explorer.reading.column_names`): an
explicit column always wins (matched exactly, then ignoring case); otherwise names are
matched against aliases, case and separators aside, the earlier alias winning and two
columns on one alias being an error that names both. A population column may also be
found by a name that starts with ``pop`` (``POP_EST``, ``pop2020``) when no alias matches.
:func:`regions_of_rows` then reads those columns' values into regions, leaving out the
rows that cannot be used and counting them by reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import polars as pl

from explorer.errors import PingFileError
from explorer.reading import column_choice as choice
from explorer.reading.column_aliases import compact

#: Names of a population column, best first.
POPULATION_ALIASES = (
    "population",
    "pop",
    "residents",
    "inhabitants",
    "total_population",
    "total_pop",
    "total_popu",  # "total_population" cut to a Shapefile's ten characters
    "pop_total",
    "tot_pop",
    "totpop",
    "pop_est",
    "persons",
    "people",
    "count",
)
#: Names of a region id column, best first (a name is an id when nothing better exists).
REGION_ID_ALIASES = (
    "region_id",
    "id",
    "code",
    "geoid",
    "geo_id",
    "geocode",
    "fid",
    "objectid",
    "gid",
    "zone_id",
    "area_id",
    "district_id",
    "name",
)
#: Names of a column holding a region's name to show, best first.
NAME_ALIASES = (
    "name",
    "region_name",
    "district",
    "district_name",
    "neighbourhood",
    "neighborhood",
    "area_name",
    "zone_name",
    "label",
)
#: Names of a column of H3 cell ids in a CSV of cells, best first (content decides too).
CELL_ALIASES = ("h3", "cell", "h3_index", "h3_cell", "hex_id", "hex", "h3id", "cell_id")
#: The command-line flag that names each role's column, for the messages.
FLAGS = {"population": "--population-col", "region_id": "--region-id-col"}


def explicit_column(names: Sequence[str], column: str, role: str) -> str:
    """The file's column named by the caller (exactly, else ignoring case)."""
    if column in names:
        return choice.explicit(column)
    folded = [n for n in names if n.strip().lower() == column.strip().lower()]
    if len(folded) == 1:
        return choice.explicit(folded[0])
    flag = FLAGS.get(role)
    hint = f"; check {flag}" if flag else ""
    raise PingFileError(
        f"Column {column!r} given for the {role.replace('_', ' ')} is not in the reference "
        f"file (columns found: {shown(names)}){hint}."
    )


def column_by_name(
    names: Sequence[str], aliases: Sequence[str], role: str, skip: Sequence[str] = ()
) -> str | None:
    """The column whose name matches the earliest alias of ``role`` (None when none does);
    two columns on one alias is an error that names both."""
    free = [n for n in names if n not in skip]
    for alias in aliases:
        hits = [n for n in free if compact(n) == compact(alias)]
        if len(hits) > 1:
            flag = FLAGS.get(role)
            raise PingFileError(
                f"Both {hits[0]!r} and {hits[1]!r} look like the {role.replace('_', ' ')} "
                f"column of the reference file; name one"
                + (f" with {flag}." if flag else " of them in the file.")
            )
        if hits:
            return choice.by_name(hits[0], alias)
    return None


def population_by_prefix(names: Sequence[str], numeric: Sequence[str]) -> str | None:
    """A numeric column whose name starts with ``pop`` (``POP_EST``, ``pop2020``), when
    exactly one does; two such columns is an error that names both."""
    hits = [n for n in names if n in numeric and compact(n).startswith("pop")]
    if len(hits) > 1:
        raise PingFileError(
            f"Both {hits[0]!r} and {hits[1]!r} look like the population column of the "
            "reference file; name one with --population-col."
        )
    return choice.by_name(hits[0], "pop*") if hits else None


def choose_columns(
    names: Sequence[str],
    numeric: Sequence[str],
    *,
    population_col: str | None,
    region_id_col: str | None,
    skip: Sequence[str] = (),
) -> dict[str, str | None]:
    """Role -> column for ``population``, ``region_id`` and ``name`` (None where absent).

    ``numeric`` lists the columns holding numbers (for the ``pop*`` fallback); ``skip``
    lists columns that play another part (a CSV's cell column), never taken by name.
    A missing population column is an error naming the columns there are.
    """
    pool = [n for n in names if n not in skip]
    if population_col:
        population = explicit_column(names, population_col, "population")
    else:
        population = column_by_name(pool, POPULATION_ALIASES, "population")
        population = population or population_by_prefix(pool, numeric)
    if population is None:
        raise PingFileError(
            "No population column found in the reference file (columns found: "
            f"{shown(names)}); name it with --population-col."
        )
    if region_id_col:
        region_id = explicit_column(names, region_id_col, "region_id")
    else:
        region_id = column_by_name(pool, REGION_ID_ALIASES, "region_id", skip=[population])
    name = column_by_name(pool, NAME_ALIASES, "name", skip=[population])
    return {"population": population, "region_id": region_id, "name": name or region_id}


def shown(names: Sequence[str], limit: int = 12) -> str:
    """Column names for a message, the first ``limit`` of them."""
    listed = ", ".join(repr(str(n)) for n in list(names)[:limit])
    more = len(names) - limit
    return listed + (f" and {more} more" if more > 0 else "") if names else "none"


# Rows -----------------------------------------------------------------------------------


def regions_of_rows(
    attributes: pd.DataFrame,
    columns: dict[str, str | None],
    ids: np.ndarray,
    reasons: list[tuple[str, np.ndarray]],
    label: str,
    *,
    unique: np.ndarray | None = None,
    unique_reason: str = "region_id_duplicate",
) -> tuple[np.ndarray, pl.DataFrame, dict[str, int]]:
    """The usable rows (a mask), the regions they make and the others counted by reason.

    Each row is counted under the first reason that applies: ``reasons`` (about the
    geometry or cell), then the population's, then a missing id, then a repeat of an
    earlier usable row's ``unique`` key (the region id by default). Rows sharing a
    region id with a distinct ``unique`` key (cells of one region) make one region whose
    population is their sum.
    """
    population, missing, unparsable = numbers(attributes[columns["population"]])
    ids = np.asarray(ids, dtype=object)
    id_missing = pd.isna(ids) | (ids == "")
    checks = [
        *reasons,
        ("population_missing", missing),
        ("population_unparsable", unparsable),
        ("population_negative", np.isfinite(population) & (population < 0)),
        ("region_id_missing", id_missing),
    ]
    reason = np.full(len(ids), "", dtype=object)
    for why, mask in checks:
        reason[(reason == "") & np.asarray(mask, dtype=bool)] = why
    key = ids if unique is None else np.asarray(unique, dtype=object)
    usable = np.flatnonzero(reason == "")
    repeated = pd.Series(key[usable]).duplicated().to_numpy()
    reason[usable[repeated]] = unique_reason
    kept = reason == ""
    rejected = {str(k): int(v) for k, v in pd.Series(reason[~kept]).value_counts().items()}
    if not kept.any():
        counts = ", ".join(f"{n:,} {why.replace('_', ' ')}" for why, n in rejected.items())
        raise PingFileError(
            f"{label} has no usable region ({counts or 'no rows'}); each region needs an "
            "area (or H3 cell), an id and a population of 0 or more."
        )
    names = region_ids(attributes, columns["name"]) if columns["name"] else ids
    names = np.where(names == "", ids, names)
    regions = pl.DataFrame(
        {
            "region_id": ids[kept].astype(str),
            "name": names[kept].astype(str),
            "population": population[kept],
        },
        schema={"region_id": pl.String, "name": pl.String, "population": pl.Float64},
    )
    regions = regions.group_by("region_id", maintain_order=True).agg(
        pl.col("name").first(), pl.col("population").sum()
    )
    return kept, regions, rejected


def numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each value as a float, and masks of missing and unparsable ones."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        missing = values.isna().to_numpy(dtype=bool)
    else:
        text = values.astype("string").str.strip()
        missing = (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
        parsed = pd.to_numeric(text, errors="coerce")
        numbers = pd.Series(parsed).to_numpy(dtype=float, na_value=np.nan)
    return numbers, missing, ~missing & ~np.isfinite(numbers)


def region_ids(attributes: pd.DataFrame, column: str | None) -> np.ndarray:
    """A column's values as trimmed text ("" where missing; whole floats without ".0");
    without a column, the row numbers from 1."""
    if column is None:
        return np.arange(1, len(attributes) + 1).astype(str).astype(object)
    values = attributes[column]
    if pd.api.types.is_float_dtype(values):
        present = values.dropna()
        if len(present) and bool((present == np.floor(present)).all()):
            values = values.astype("Int64")
    text = values.astype("string").str.strip().fillna("")
    return text.to_numpy(dtype=object)


def found(columns: dict[str, str | None]) -> dict[str, str]:
    return {role: column for role, column in columns.items() if column is not None}
