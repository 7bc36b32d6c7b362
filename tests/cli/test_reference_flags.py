"""``analyze --reference FILE [--population-col C] [--region-id-col C]``: the reference
reaches the analysis; a bad one is one line and exit 2."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
import shapely

import explorer.cli.main as cli
from explorer.binning.cells import cells_to_str, latlng_to_cells
from explorer.cli.main import EXIT_OK, EXIT_UNUSABLE, main
from explorer.synth.pings import generate_pings
from tests.cli.conftest import run_explorer


@pytest.fixture(scope="module")
def pings_csv(synthetic_file):
    return synthetic_file(generate_pings(6_000, city="new_york", seed=3), "pings.csv", folder="ref")


@pytest.fixture(scope="module")
def districts_gpkg(tmp_path_factory):
    """Two districts (west and east halves of New York) in a projected CRS."""
    west = shapely.box(-74.3, 40.4, -73.95, 41.1)
    east = shapely.box(-73.95, 40.4, -73.5, 41.1)
    frame = gpd.GeoDataFrame(
        {"tract": ["W", "E"], "Label": ["West", "East"], "residents": [900_000, 1_100_000]},
        geometry=[west, east],
        crs=4326,
    ).to_crs(32618)
    path = tmp_path_factory.mktemp("reference") / "districts.gpkg"
    frame.to_file(path)
    return path


@pytest.fixture
def analyses(monkeypatch):
    """The Analysis objects the command makes, kept for the test to look at."""
    made = []
    real = cli.analyze_source

    def keep(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(cli, "analyze_source", keep)
    return made


def test_the_reference_reaches_the_analysis(pings_csv, districts_gpkg, analyses, tmp_path):
    out = tmp_path / "report.json"
    argv = ["analyze", str(pings_csv), "--format", "json", "--output", str(out)]
    code = main([*argv, "--reference", str(districts_gpkg), "--region-id-col", "TRACT"])
    assert code == EXIT_OK and out.exists()
    reference = analyses[-1].reference
    assert reference.source == "districts.gpkg"
    assert reference.regions["region_id"].to_list() == ["W", "E"]
    assert reference.regions["name"].to_list() == ["West", "East"]
    assert reference.residents == 2_000_000
    assert reference.columns["crs"] == "EPSG:32618"
    # Without the flag there is no reference.
    assert main(argv) == EXIT_OK
    assert analyses[-1].reference is None


def test_an_explicit_population_column_is_used(pings_csv, tmp_path, analyses):
    cells = cells_to_str(latlng_to_cells([40.70, 40.80], [-74.0, -73.9], 8).to_list())
    path = tmp_path / "cells.csv"
    path.write_text(f"h3,adults,children\n{cells[0]},70,30\n{cells[1]},50,10\n")
    argv = ["analyze", str(pings_csv), "--format", "json", "--output", str(tmp_path / "r.json")]
    assert main([*argv, "--reference", str(path), "--population-col", "children"]) == EXIT_OK
    reference = analyses[-1].reference
    assert reference.columns["population"] == "children"
    assert reference.regions["population"].to_list() == [30.0, 10.0]
    assert reference.cells is not None and reference.cells.height == 2


@pytest.mark.parametrize(
    ("make", "flags", "message"),
    [
        (lambda p: p.write_bytes(b"name,value\nfoo,\x00\x01\n"), [], "no column of H3 cell ids"),
        (lambda p: p.write_text("h3,population\n"), [], "no rows"),
        (None, ["--population-col", "adults"], "'adults'.*'tract', 'Label', 'residents'"),
        (lambda p: None, [], "No reference file"),
    ],
    ids=["garbage", "header_only", "missing_column", "no_file"],
)
def test_a_bad_reference_is_one_line_and_exit_2(
    pings_csv, districts_gpkg, tmp_path, make, flags, message
):
    path = districts_gpkg if make is None else tmp_path / "reference.csv"
    if make is not None:
        make(path)
    result = run_explorer("analyze", str(pings_csv), "--reference", str(path), *flags)
    assert result.returncode == EXIT_UNUSABLE
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    assert re.search(message, lines[0])


def test_column_flags_need_a_reference(pings_csv, capsys):
    assert main(["analyze", str(pings_csv), "--population-col", "pop"]) == EXIT_UNUSABLE
    assert "need --reference" in capsys.readouterr().err
