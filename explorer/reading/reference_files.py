"""Read a reference population from a file: regions as polygons, or a CSV of H3 cells.

Polygons come from GeoJSON, GeoPackage, a zipped Shapefile or GeoParquet (geopandas with
the pyogrio engine) and are reprojected to WGS 84; a CSV (or plain Parquet) of H3 cell ids
with a population column gives regions made of cells. Columns are found as
:mod:`explorer.reading.reference_columns` says. Rows that cannot be used are left out and
counted by reason; a file with no usable region raises one
:class:`~explorer.errors.PingFileError` sentence. The built-in coarse default (cities from
GeoNames) is :func:`explorer.reading.reference_cities.coarse_reference`, re-exported here.
"""

from __future__ import annotations

import gzip
import io
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import shapely

from explorer.errors import PingFileError
from explorer.reading.reference import Reference
from explorer.reading.reference_cities import coarse_reference
from explorer.reading.reference_columns import (
    CELL_ALIASES,
    choose_columns,
    column_by_name,
    found,
    region_ids,
    regions_of_rows,
    shown,
)

__all__ = ["coarse_reference", "read_reference"]

#: File kind of each name ending.
SUFFIXES = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "zip",
    ".shp": "shp",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".gz": "csv",
}
#: What each kind is called in messages.
KIND_NAMES = {
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
    "zip": "zipped Shapefile",
    "shp": "Shapefile",
    "parquet": "GeoParquet",
    "csv": "CSV of H3 cells",
}
#: A zip unpacking to more than this many bytes is refused: a census layer is far smaller.
MAX_UNPACKED_BYTES = 4 * 2**30
#: Share of a column's sampled values that must be valid H3 cell ids for it to be the cells
#: by content alone (a column named like cells, ``h3`` or ``cell``, needs half).
CELL_SHARE = 0.9
#: The formats, for messages.
FORMATS = (
    "GeoJSON, GeoPackage, zipped Shapefile or GeoParquet polygons, or a CSV of H3 cell ids, "
    "each with a population column"
)
_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon
_COLLECTION = 7


def read_reference(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    population_col: str | None = None,
    region_id_col: str | None = None,
) -> Reference:
    """The reference population in ``source`` (a path, or the bytes of an upload).

    ``name`` labels it in messages and reports (default: the file's name);
    ``population_col`` and ``region_id_col`` name columns instead of detecting them.
    """
    label = name or ("uploaded reference" if isinstance(source, bytes) else Path(source).name)
    with _local_file(source, label) as (path, kind):
        if kind == "csv":
            return _cell_reference(_read_csv(path, label), label, population_col, region_id_col)
        if kind == "parquet" and not _is_geoparquet(path):
            table = pl.read_parquet(path)
            return _cell_reference(table, label, population_col, region_id_col)
        frame, crs_note = _read_layer(path, kind, label)
        return _polygon_reference(frame, label, crs_note, population_col, region_id_col)


@contextmanager
def _local_file(source: str | Path | bytes, label: str) -> Iterator[tuple[str, str]]:
    """A path to read and its kind; bytes go to a temporary file, deleted afterwards."""
    if isinstance(source, bytes):
        kind = _sniff(source[:64])
        with tempfile.TemporaryDirectory(prefix="reference-") as folder:
            path = Path(folder) / f"reference{_ending(kind)}"
            path.write_bytes(source)
            yield str(path), kind
        return
    path = Path(source)
    if not path.is_file():
        raise PingFileError(f"No reference file at {label}; check the path given to --reference.")
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(64)
    yield str(path), SUFFIXES.get(suffix) or _sniff(head)


def _sniff(head: bytes) -> str:
    """The kind of a file from its first bytes."""
    if not head:
        raise PingFileError("The reference file is empty; give regions with a population.")
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "geojson"
    return "csv"


def _ending(kind: str) -> str:
    return {"geojson": ".geojson", "gpkg": ".gpkg", "zip": ".zip", "parquet": ".parquet"}.get(
        kind, ".csv"
    )


def _is_geoparquet(path: str) -> bool:
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception as exc:  # any failure to parse the user's bytes is the file's fault
        raise PingFileError(f"{Path(path).name} is not a readable Parquet file.") from exc
    return b"geo" in metadata


# Polygon layers -------------------------------------------------------------------------


def _read_layer(path: str, kind: str, label: str) -> tuple[Any, str]:
    """The layer's GeoDataFrame in WGS 84, and a note on the CRS it came in."""
    import geopandas
    import pyogrio

    try:
        if kind == "parquet":
            frame = geopandas.read_parquet(path)
        else:
            target = _zip_member(path, label) if kind == "zip" else path
            layers = pyogrio.list_layers(target)
            polygonal = [row[0] for row in layers if "polygon" in str(row[1]).lower()]
            layer = polygonal[0] if polygonal else layers[0][0]
            frame = geopandas.read_file(target, engine="pyogrio", layer=layer)
    except PingFileError:
        raise
    except Exception as exc:  # any failure of GDAL on the user's bytes is the file's fault
        raise PingFileError(
            f"{label} could not be read as a {KIND_NAMES[kind]}; give {FORMATS}."
        ) from exc
    return _in_wgs84(frame, label)


def _zip_member(path: str, label: str) -> str:
    """GDAL's path to the layer inside a zip (a .shp, else a .gpkg or .geojson)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise PingFileError(f"{label} is not a readable zip file.") from exc
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        raise PingFileError(f"{label} unpacks to more than 4 GiB; give a smaller layer.")
    names = [info.filename for info in infos if not info.is_dir()]
    for ending in (".shp", ".gpkg", ".geojson", ".json"):
        members = [n for n in names if n.lower().endswith(ending) and "__macosx" not in n.lower()]
        if members:
            return f"/vsizip/{path}/{members[0]}"
    raise PingFileError(
        f"{label} holds no .shp (nor .gpkg or .geojson) file; zip the Shapefile's "
        ".shp, .shx, .dbf and .prj together."
    )


def _in_wgs84(frame: Any, label: str) -> tuple[Any, str]:
    """The frame reprojected to WGS 84; a layer without a CRS is taken as WGS 84 only when
    its coordinates are longitudes and latitudes."""
    if frame.crs is None:
        if not _lon_lat_bounds(frame):
            raise PingFileError(
                f"{label} has no coordinate reference system and its coordinates are not "
                "longitudes and latitudes; save it with its CRS (the .prj of a Shapefile)."
            )
        return frame.set_crs(4326), "none given; coordinates read as WGS 84"
    note = frame.crs.to_string()
    try:
        frame = frame.to_crs(4326)
    except Exception as exc:  # pyproj cannot transform this CRS
        raise PingFileError(f"{label}'s CRS ({note}) cannot be converted to WGS 84.") from exc
    if not _lon_lat_bounds(frame):
        raise PingFileError(
            f"{label}'s coordinates are not longitudes and latitudes although its CRS says "
            f"{note}; save it with its true CRS."
        )
    return frame, note


def _lon_lat_bounds(frame: Any) -> bool:
    geoms = np.asarray(frame.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return True  # nothing to place: the rows are rejected later
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms[present])
    return bool(xmin >= -180.0 and xmax <= 180.0 and ymin >= -90.0 and ymax <= 90.0)


def _polygon_reference(
    frame: Any, label: str, crs_note: str, population_col: str | None, region_id_col: str | None
) -> Reference:
    """A Reference of the layer's usable polygons."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    names = [str(c) for c in attributes.columns]
    attributes.columns = names
    numeric = [c for c in names if pd.api.types.is_numeric_dtype(attributes[c])]
    columns = choose_columns(
        names, numeric, population_col=population_col, region_id_col=region_id_col
    )
    geoms, reasons = _areas(geoms, label)
    ids = region_ids(attributes, columns["region_id"])
    kept, regions, rejected = regions_of_rows(attributes, columns, ids, reasons, label)
    columns = {**found(columns), "crs": crs_note}
    columns.setdefault("region_id", "(row number: no id column found)")
    return Reference(
        source=label,
        regions=regions,
        geometry=tuple(geoms[kept]),
        rejected=rejected,
        columns=columns,
    )


def _areas(geoms: np.ndarray, label: str) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """The polygonal part of each geometry (repaired where invalid) and why rows have none."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.where(missing, -1, shapely.get_type_id(np.where(missing, None, geoms)))
    polygonal = np.isin(types, _POLYGONAL)
    if not missing.all() and not (polygonal | (types == _COLLECTION)).any():
        raise PingFileError(
            f"{label} holds points or lines, not areas; give regions as polygons "
            "(or a CSV of H3 cells with a population column)."
        )
    areas = np.where(polygonal | (types == _COLLECTION), geoms, None)
    repair = ~missing & ((types == _COLLECTION) | (polygonal & ~shapely.is_valid(areas)))
    for i in np.flatnonzero(repair):
        areas[i] = _polygonal_part(shapely.make_valid(areas[i]))
    usable = ~shapely.is_missing(areas) & ~shapely.is_empty(areas)
    reasons = [
        ("empty_geometry", missing),
        ("not_an_area", ~polygonal & (types != _COLLECTION)),
        ("invalid_geometry", ~usable),
    ]
    return areas, reasons


def _polygonal_part(geom: Any) -> Any:
    """The polygons of a (repaired) geometry as one (multi)polygon; None when there are none."""
    parts = shapely.get_parts(geom)
    polygons = [p for p in parts if shapely.get_type_id(p) in _POLYGONAL and not p.is_empty]
    if not polygons:
        return None
    merged = shapely.union_all(polygons)
    return merged if shapely.get_type_id(merged) in _POLYGONAL else None


# CSV of H3 cells ------------------------------------------------------------------------


def _read_csv(path: str, label: str) -> pl.DataFrame:
    """A CSV (optionally gzip-compressed) as text columns, its delimiter sniffed."""
    data = Path(path).read_bytes()
    if data.startswith(b"\x1f\x8b"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise PingFileError(f"{label} is a damaged gzip file.") from exc
    data = data.removeprefix(b"\xef\xbb\xbf")
    first = data.split(b"\n", 1)[0]
    separator = max(",;\t|", key=lambda s: first.count(s.encode()))
    try:
        table = pl.read_csv(
            io.BytesIO(data), separator=separator, infer_schema=False, encoding="utf8-lossy"
        )
    except (pl.exceptions.PolarsError, UnicodeError) as exc:
        raise PingFileError(f"{label} could not be read as a CSV; give {FORMATS}.") from exc
    if table.height == 0:
        raise PingFileError(f"{label} has no rows; give regions with a population.")
    return table


def _cell_column(table: pl.DataFrame, label: str) -> str:
    """The column of H3 cell ids: by name (holding mostly cells), else by content."""
    # Reading comes before binning: only a CSV of cells needs h3, through binning's helper.
    from explorer.binning.cells import cells_from_str

    shares = {}
    for column in table.columns:
        sample = table[column].drop_nulls().head(500)
        valid = cells_from_str(sample)["cell"].is_not_null().mean() if sample.len() else 0.0
        shares[column] = float(valid or 0.0)
    named = column_by_name([c for c, s in shares.items() if s >= 0.5], CELL_ALIASES, "H3 cell")
    if named:
        return named
    holding = [c for c, share in shares.items() if share >= CELL_SHARE]
    if len(holding) > 1:
        raise PingFileError(
            f"Both {holding[0]!r} and {holding[1]!r} of {label} hold H3 cell ids; keep one."
        )
    if not holding:
        raise PingFileError(
            f"{label} has no column of H3 cell ids (columns found: {shown(table.columns)}); "
            f"give {FORMATS}."
        )
    return holding[0]


def _cell_reference(
    table: pl.DataFrame, label: str, population_col: str | None, region_id_col: str | None
) -> Reference:
    """A Reference whose regions are cells (or groups of cells sharing a region id)."""
    from explorer.binning.cells import cells_from_str  # as in _cell_column

    cell_col = _cell_column(table, label)
    numeric = [c for c in table.columns if table[c].dtype.is_numeric()]
    columns = choose_columns(
        table.columns,
        numeric,
        population_col=population_col,
        region_id_col=region_id_col,
        skip=[cell_col],
    )
    parsed = cells_from_str(table[cell_col])
    resolutions = parsed["resolution"].drop_nulls()
    resolution = int(resolutions.mode().min()) if resolutions.len() else -1
    text = table[cell_col].cast(pl.String).str.strip_chars()
    reasons = [
        ("cell_missing", (text.is_null() | (text == "")).to_numpy()),
        ("cell_invalid", parsed["cell"].is_null().to_numpy()),
        ("cell_other_resolution", (parsed["resolution"] != resolution).to_numpy()),
    ]
    attributes = table.to_pandas()
    cell_ids = text.str.to_lowercase().to_numpy()
    if columns["region_id"] is None:  # each cell is a region named by its id
        columns = {**columns, "region_id": cell_col, "name": columns["name"] or cell_col}
        ids = cell_ids
    else:
        ids = region_ids(attributes, columns["region_id"])
    kept, regions, rejected = regions_of_rows(
        attributes, columns, ids, reasons, label, unique=cell_ids, unique_reason="cell_duplicate"
    )
    cells = pl.DataFrame(
        {"cell": parsed["cell"].filter(pl.Series(kept)), "region_id": ids[kept].astype(str)},
        schema={"cell": pl.UInt64, "region_id": pl.String},
    )
    columns = {**found(columns), "cell": str(cell_col)}
    return Reference(source=label, regions=regions, cells=cells, rejected=rejected, columns=columns)
