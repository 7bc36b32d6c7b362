"""Reading a reference population: every format, CRSs, columns, rejected rows, H3 cells, and
the coarse default of GeoNames cities."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import polars as pl
import pytest
import shapely

from explorer.binning.cells import cell_centre, cells_to_str, latlng_to_cells
from explorer.errors import PingFileError
from explorer.reading.reference_cities import SOURCE
from explorer.reading.reference_files import coarse_reference, read_reference

#: Four districts side by side around (40.7, -74.0), 0.05 degrees wide.
WEST, SOUTH, WIDTH = -74.0, 40.70, 0.05
POPULATIONS = [1200.0, 3400.0, 560.0, 7800.0]


def districts(**columns) -> gpd.GeoDataFrame:
    """The four districts with ``columns`` (default: GEOID, NAME, POP) in WGS 84."""
    polygons = [
        shapely.box(WEST + WIDTH * i, SOUTH, WEST + WIDTH * (i + 1), SOUTH + WIDTH)
        for i in range(4)
    ]
    data = columns or {"GEOID": ["a", "b", "c", "d"], "NAME": list("ABCD"), "POP": POPULATIONS}
    return gpd.GeoDataFrame(data, geometry=polygons, crs=4326)


def zipped_shapefile(frame: gpd.GeoDataFrame, folder: Path, name: str = "regions") -> Path:
    """``frame`` as a Shapefile zipped with its .shx, .dbf and .prj."""
    frame.to_file(folder / f"{name}.shp")
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for ending in ("shp", "shx", "dbf", "prj", "cpg"):
            part = folder / f"{name}.{ending}"
            if part.exists():
                out.write(part, f"{name}.{ending}")
    return archive


def written(frame: gpd.GeoDataFrame, folder: Path, kind: str) -> Path:
    if kind == "zip":
        return zipped_shapefile(frame, folder)
    path = folder / f"regions.{kind}"
    if kind == "parquet":
        frame.to_parquet(path)
    else:
        frame.to_file(path)
    return path


def assert_same_regions(reference, expected: gpd.GeoDataFrame) -> None:
    assert reference.regions["region_id"].to_list() == ["a", "b", "c", "d"]
    assert reference.regions["name"].to_list() == list("ABCD")
    assert reference.regions["population"].to_list() == POPULATIONS
    for got, want in zip(reference.geometry, expected.geometry):
        assert shapely.get_type_id(got) in (3, 6)
        assert got.symmetric_difference(want).area < 1e-9


@pytest.mark.parametrize("kind", ["geojson", "gpkg", "zip", "parquet"])
def test_every_format_gives_the_same_regions(tmp_path, kind):
    frame = districts()
    path = written(frame, tmp_path, kind)
    reference = read_reference(path)
    assert_same_regions(reference, frame)
    assert reference.source == path.name
    assert reference.columns["population"] == "POP"
    assert reference.columns["region_id"] == "GEOID"
    assert reference.columns["crs"] == "EPSG:4326"
    assert reference.cells is None and not reference.coarse and reference.rejected == {}
    # The app's upload: the same bytes without a name give the same regions.
    uploaded = read_reference(path.read_bytes(), name="upload")
    assert uploaded.source == "upload"
    assert uploaded.regions.equals(reference.regions)
    assert_same_regions(uploaded, frame)


@pytest.mark.parametrize("crs", ["EPSG:3857", "EPSG:32618"])
@pytest.mark.parametrize("kind", ["gpkg", "zip", "parquet"])
def test_projected_layers_come_back_in_wgs84(tmp_path, crs, kind):
    frame = districts()
    reference = read_reference(written(frame.to_crs(crs), tmp_path, kind))
    assert reference.columns["crs"] == crs
    assert reference.regions["population"].to_list() == POPULATIONS
    for got, want in zip(reference.geometry, frame.geometry):
        assert got.symmetric_difference(want).area < 1e-6 * want.area


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_a_layer_without_crs_in_degrees_is_read_as_wgs84(tmp_path):
    frame = districts().set_crs(None, allow_override=True)
    path = tmp_path / "no_crs.shp"
    frame.to_file(path)
    reference = read_reference(path)
    assert "WGS 84" in reference.columns["crs"]
    assert_same_regions(reference, districts())


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_a_layer_without_crs_in_metres_asks_for_it(tmp_path):
    frame = districts().to_crs(3857).set_crs(None, allow_override=True)
    path = zipped_shapefile(frame, tmp_path)
    with pytest.raises(PingFileError, match="no coordinate reference system"):
        read_reference(path)


@pytest.mark.parametrize(
    ("population", "region_id", "name"),
    [
        ("population", "id", "name"),
        ("Residents", "Region_ID", "District"),
        ("TOTAL POPULATION", "geoid", "label"),
        ("inhabitants", "code", "neighbourhood"),
        ("pop_est", "fid_1", "region_name"),
        ("pop2020", "objectid", "name"),
    ],
)
def test_columns_are_found_by_their_names(tmp_path, population, region_id, name):
    frame = districts(**{region_id: [11, 12, 13, 14], name: list("WXYZ"), population: POPULATIONS})
    reference = read_reference(written(frame, tmp_path, "gpkg"))
    assert reference.columns["population"] == population
    assert reference.regions["population"].to_list() == POPULATIONS
    assert reference.regions["name"].to_list() == list("WXYZ")
    if region_id == "fid_1":  # no id alias: the row numbers stand in, said so
        assert reference.regions["region_id"].to_list() == ["1", "2", "3", "4"]
        assert "row number" in reference.columns["region_id"]
    else:
        assert reference.columns["region_id"] == region_id
        assert reference.regions["region_id"].to_list() == ["11", "12", "13", "14"]


def test_a_name_column_alone_is_the_id_and_the_name(tmp_path):
    frame = districts(name=list("ABCD"), people=POPULATIONS)
    reference = read_reference(written(frame, tmp_path, "geojson"))
    assert reference.regions["region_id"].to_list() == list("ABCD")
    assert reference.regions["name"].to_list() == list("ABCD")


def test_explicit_columns_win(tmp_path):
    frame = districts(
        id=["a", "b", "c", "d"], code=["w", "x", "y", "z"], population=[1, 2, 3, 4], adults=[5] * 4
    )
    path = written(frame, tmp_path, "gpkg")
    reference = read_reference(path, population_col="ADULTS", region_id_col="code")
    assert reference.columns["population"] == "adults"
    assert reference.columns["region_id"] == "code"
    assert reference.regions["population"].to_list() == [5.0] * 4
    assert reference.regions["region_id"].to_list() == ["w", "x", "y", "z"]


def test_an_explicit_column_that_is_not_there_names_those_that_are(tmp_path):
    path = written(districts(), tmp_path, "geojson")
    with pytest.raises(PingFileError, match="'residents'.*'GEOID', 'NAME', 'POP'"):
        read_reference(path, population_col="residents")
    with pytest.raises(PingFileError, match="--region-id-col"):
        read_reference(path, region_id_col="tract")


def test_two_columns_on_one_name_is_a_tie_naming_both(tmp_path):
    frame = districts(id=["a", "b", "c", "d"], Pop=POPULATIONS, POP_=POPULATIONS)
    with pytest.raises(PingFileError, match="'Pop' and 'POP_'.*--population-col"):
        read_reference(written(frame, tmp_path, "geojson"))
    frame = districts(pop2010=POPULATIONS, pop2020=POPULATIONS)
    with pytest.raises(PingFileError, match="'pop2010' and 'pop2020'"):
        read_reference(written(frame, tmp_path, "gpkg"))


def test_no_population_column_is_one_error(tmp_path):
    frame = districts(id=["a", "b", "c", "d"], area=[1.0] * 4)
    with pytest.raises(PingFileError, match="No population column.*'id', 'area'"):
        read_reference(written(frame, tmp_path, "gpkg"))


def test_unusable_rows_are_left_out_and_counted_by_reason(tmp_path):
    bowtie = shapely.Polygon([(-74, 40.7), (-73.9, 40.8), (-73.9, 40.7), (-74, 40.8)])
    spike = shapely.Polygon([(-73.5, 40.7), (-73.4, 40.7), (-73.5, 40.7)])  # no area at all
    good = [shapely.box(-74.0 + 0.1 * i, 41.0, -73.95 + 0.1 * i, 41.05) for i in range(8)]
    geometry = [*good, bowtie, spike, None, shapely.Point(-74, 40)]
    frame = gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f", "a", "h", "i", "j", "k", "l"],
            "population": ["10", "", "many", "-5", "inf", "7", "8", " 12 ", "9", "9", "9", "9"],
        },
        geometry=geometry,
        crs=4326,
    )
    reference = read_reference(written(frame, tmp_path, "gpkg"))
    assert reference.rejected == {
        "population_missing": 1,
        "population_unparsable": 2,
        "population_negative": 1,
        "region_id_duplicate": 1,
        "invalid_geometry": 1,
        "empty_geometry": 1,
        "not_an_area": 1,
    }
    assert reference.regions["region_id"].to_list() == ["a", "f", "h", "i"]
    assert reference.regions["population"].to_list() == [10.0, 7.0, 12.0, 9.0]
    # The self-crossing bowtie was repaired into its two triangles, not dropped.
    repaired = reference.geometry[3]
    assert repaired.is_valid and repaired.area == pytest.approx(0.005)


def test_a_file_with_no_usable_region_is_one_error(tmp_path):
    frame = districts(id=["a", "b", "c", "d"], population=[-1.0, None, -3.0, np.nan])
    with pytest.raises(PingFileError, match="no usable region.*population negative"):
        read_reference(written(frame, tmp_path, "geojson"))


def test_points_are_not_regions(tmp_path):
    frame = gpd.GeoDataFrame(
        {"id": [1, 2], "population": [5, 6]},
        geometry=[shapely.Point(-74, 40.7), shapely.Point(-73.9, 40.7)],
        crs=4326,
    )
    with pytest.raises(PingFileError, match="points or lines, not areas"):
        read_reference(written(frame, tmp_path, "gpkg"))


@pytest.mark.parametrize("content", [b"", b"\x00\x01garbage", b"PK\x03\x04 broken zip"])
def test_files_that_are_not_layers_are_one_error(content):
    with pytest.raises(PingFileError):
        read_reference(content)


def test_a_missing_path_is_one_error(tmp_path):
    with pytest.raises(PingFileError, match="No reference file"):
        read_reference(tmp_path / "nowhere.gpkg")


def test_regions_of_points_on_a_read_layer(tmp_path):
    frame = districts().to_crs(32618)
    reference = read_reference(written(frame, tmp_path, "zip"))
    lat = np.array([40.72, 40.72, 40.72, 40.72, 10.0])
    lon = np.array([-73.99, -73.94, -73.88, -73.81, 10.0])
    assert reference.region_of_points(lat, lon).to_list() == ["a", "b", "c", "d", None]


def cell_table(resolution: int) -> tuple[pl.DataFrame, list[str]]:
    lat = np.array([40.70, 40.75, 40.80, 40.85])
    lon = np.array([-74.00, -73.95, -73.90, -73.85])
    cells = cells_to_str(latlng_to_cells(lat, lon, resolution).to_list())
    return pl.DataFrame({"h3_index": cells, "Population": POPULATIONS}), cells


@pytest.mark.parametrize("resolution", [7, 8])
def test_a_csv_of_h3_cells(tmp_path, resolution):
    table, cells = cell_table(resolution)
    path = tmp_path / "cells.csv"
    table.write_csv(path)
    reference = read_reference(path)
    assert reference.regions["region_id"].to_list() == cells
    assert reference.regions["population"].to_list() == POPULATIONS
    assert cells_to_str(reference.cells["cell"].to_list()) == cells
    assert reference.cells["region_id"].to_list() == cells
    assert reference.geometry == () and reference.columns["cell"] == "h3_index"
    assert read_reference(path.read_bytes()).regions.equals(reference.regions)
    with pytest.raises(ValueError, match="looked up by cell"):
        reference.region_of_points(np.array([40.7]), np.array([-74.0]))


def test_cells_are_found_by_content_and_grouped_by_a_region_column(tmp_path):
    table, cells = cell_table(8)
    table = table.rename({"h3_index": "where"}).with_columns(
        district=pl.Series(["north", "north", "south", "south"]),
        where=pl.Series([c.upper() for c in cells]),
    )
    path = tmp_path / "cells.csv"
    table.write_csv(path, separator=";")
    reference = read_reference(path, region_id_col="district")
    assert reference.regions.rows() == [("north", "north", 4600.0), ("south", "south", 8360.0)]
    assert reference.cells["region_id"].to_list() == ["north", "north", "south", "south"]
    assert reference.cells["cell"].dtype == pl.UInt64


def test_bad_cell_rows_are_counted_by_reason(tmp_path):
    cells7 = cell_table(7)[1]
    cells8 = cell_table(8)[1]
    rows = [
        (cells8[0], "10"),
        (cells8[1], "20"),
        (cells8[2], "x"),
        (cells8[1], "5"),
        (cells7[3], "5"),
        ("", "5"),
        ("not-a-cell", "5"),
        (cells8[3], "30"),
    ]
    path = tmp_path / "cells.csv"
    path.write_text("cell,pop\n" + "\n".join(f"{c},{p}" for c, p in rows) + "\n")
    reference = read_reference(path)
    assert reference.regions["region_id"].to_list() == [cells8[0], cells8[1], cells8[3]]
    assert reference.rejected == {
        "population_unparsable": 1,
        "cell_duplicate": 1,
        "cell_other_resolution": 1,
        "cell_missing": 1,
        "cell_invalid": 1,
    }


def test_a_csv_without_cells_is_one_error(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("lat,lon,population\n40.7,-74.0,100\n")
    with pytest.raises(PingFileError, match="no column of H3 cell ids"):
        read_reference(path)


NEW_YORK = (40.55, 40.95, -74.20, -73.70)
SAO_PAULO = (-23.75, -23.40, -46.85, -46.40)


@pytest.mark.parametrize("box", [NEW_YORK, SAO_PAULO], ids=["new_york", "sao_paulo"])
def test_the_coarse_default_covers_a_city(box):
    coarse_reference(*box)  # the gazetteer is loaded once per process
    started = time.perf_counter()
    reference = coarse_reference(*box)
    assert time.perf_counter() - started < 0.5
    assert reference.coarse and reference.source == SOURCE
    regions = reference.regions
    assert regions.height >= 20 and regions["region_id"].n_unique() == regions.height
    assert (regions["population"] > 0).all()
    assert len(reference.geometry) == regions.height
    assert all(g.is_valid and not g.is_empty for g in reference.geometry)
    # The centre of the box lies in a region; each city lies in its own region.
    lat0, lon0 = (box[0] + box[1]) / 2, (box[2] + box[3]) / 2
    assert reference.region_of_points(np.array([lat0]), np.array([lon0]))[0] is not None
    centres = np.array([shapely.centroid(g).coords[0] for g in reference.geometry])
    assert reference.region_of_points(centres[:, 1], centres[:, 0]).null_count() == 0
    # No region is absurdly dense: a city listed beside its districts counts once.
    km2 = np.array([g.area for g in reference.geometry]) * 111.2**2 * np.cos(np.radians(lat0))
    assert (regions["population"].to_numpy() / km2).max() < 60_000


def test_the_coarse_default_is_empty_at_sea():
    with pytest.raises(PingFileError, match="No city of 15,000 or more people.*--reference"):
        coarse_reference(-31.0, -30.0, -20.0, -19.0)


def test_the_coarse_default_keeps_remote_homes_outside():
    reference = coarse_reference(*NEW_YORK)
    # 60 km north of Manhattan, then the cell centre of a place in the box.
    far = reference.region_of_points(np.array([41.6]), np.array([-74.0]))
    assert far[0] is None
    lat, lon = cell_centre(int(latlng_to_cells(np.array([40.75]), np.array([-73.98]), 8)[0]))
    assert reference.region_of_points(np.array([lat]), np.array([lon]))[0] is not None
