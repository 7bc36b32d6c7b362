"""``analyze --reference F --format csv`` writes the weights per region;
``--weights-per-device FILE`` writes each device's weight under the file's own ids."""

from __future__ import annotations

import geopandas as gpd
import polars as pl
import pytest

from explorer.cli.main import EXIT_OK, EXIT_UNUSABLE, main
from explorer.detectors.coverage.weights import REGION_COLUMNS
from tests.cli.conftest import run_explorer
from tests.detectors.coverage.conftest import (
    census_reference,
    city_pings,
    city_summary,
    grid_regions,
)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A fifth of London's synthetic pings (by device) as CSV, and its 3 x 3 census
    boxes as GeoJSON with a population column."""
    folder = tmp_path_factory.mktemp("weights")
    pings = city_pings("london", 0)
    ids, polygons = grid_regions(pings, 3)
    reference = census_reference(city_summary("london", 0), ids, polygons)
    frame = gpd.GeoDataFrame(
        {"code": ids, "population": reference.regions["population"].to_list()},
        geometry=polygons,
        crs=4326,
    )
    geojson = folder / "boxes.geojson"
    frame.to_file(geojson, driver="GeoJSON")
    devices = pings["device_id"].unique().sort()
    kept = devices.gather_every(5)
    panel = pings.filter(pl.col("device_id").is_in(kept.implode()))
    csv = folder / "pings.csv"
    panel.with_columns(pl.col("timestamp").dt.epoch("ms")).write_csv(csv)
    return csv, geojson, panel


def test_format_csv_writes_the_weights_per_region(files, tmp_path):
    csv, geojson, _ = files
    out = tmp_path / "weights.csv"
    code = main(["analyze", str(csv), "--reference", str(geojson), "--format", "csv",
                 "--output", str(out)])  # fmt: skip
    assert code == EXIT_OK
    table = pl.read_csv(out)
    assert tuple(table.columns) == REGION_COLUMNS
    assert table.height == 9 and table["id"].to_list()[0] == "g0-0"
    weighted = (table["weight"] * table["home_devices"]).sum()
    assert weighted / table["home_devices"].sum() == pytest.approx(1.0, rel=1e-6)
    assert ((table["rate_low"] <= table["rate"]) & (table["rate"] <= table["rate_high"])).all()


def test_weights_per_device_keep_the_files_own_ids(files, tmp_path):
    csv, geojson, panel = files
    regions, devices = tmp_path / "regions.csv", tmp_path / "devices.csv"
    code = main(["analyze", str(csv), "--reference", str(geojson), "--format", "csv",
                 "--output", str(regions), "--weights-per-device", str(devices)])  # fmt: skip
    assert code == EXIT_OK
    per_region = pl.read_csv(regions)
    per_device = pl.read_csv(devices, schema_overrides={"device_id": pl.String})
    assert per_device.columns == ["device_id", "region_id", "weight"]
    assert per_device["device_id"].is_unique().all()
    assert set(per_device["device_id"]) <= set(panel["device_id"])
    counted = per_device.group_by("region_id").len()
    joined = per_region.join(counted, left_on="id", right_on="region_id", how="left")
    assert joined["len"].fill_null(0).to_list() == joined["home_devices"].to_list()
    same = per_device.join(per_region, left_on="region_id", right_on="id")
    assert (same["weight"] - same["weight_right"]).abs().max() < 1e-9


def test_weights_need_a_reference_and_say_so():
    for flags in (["--format", "csv"], ["--weights-per-device", "w.csv"]):
        done = run_explorer("analyze", "missing.csv", *flags)
        assert done.returncode == EXIT_UNUSABLE
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "--reference FILE" in lines[0] and flags[0] in lines[0]


def test_weights_per_device_cannot_overwrite_the_input(files, capsys):
    csv, geojson, _ = files
    code = main(["analyze", str(csv), "--reference", str(geojson),
                 "--weights-per-device", str(csv)])  # fmt: skip
    assert code == EXIT_UNUSABLE
    assert "--weights-per-device" in capsys.readouterr().err
    assert pl.read_csv(csv).height > 0
