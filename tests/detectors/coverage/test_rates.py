"""Coverage rates: intervals, shrinkage, the fit, placing homes in regions, and weights
that recover the true population shares."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import shapely

from explorer.binning.cells import cell_centres, cells_to_parent
from explorer.config import Config
from explorer.detectors.coverage.rates import (
    coverage_table,
    device_homes,
    gamma_poisson_shrink,
    garwood,
    loglog_fit,
    region_of_cells,
    region_weights,
    robust_dispersion,
    typical_rate,
)
from explorer.detectors.coverage.weights import device_weights
from explorer.reading.reference import Reference
from tests.detectors.coverage.conftest import (
    census_reference,
    city_pings,
    city_summary,
    grid_regions,
    sample_panel,
    voronoi_regions,
)


def test_garwood_known_answers():
    low, high = garwood(np.array([0, 1, 10]))
    assert low[0] == 0 and high[0] == pytest.approx(3.689, abs=1e-3)
    assert (low[1], high[1]) == pytest.approx((0.0253, 5.572), abs=1e-3)
    assert (low[2], high[2]) == pytest.approx((4.795, 18.390), abs=1e-3)


def test_robust_dispersion_ignores_a_few_outlying_regions():
    rng = np.random.default_rng(3)
    expected = np.full(40, 50.0)
    poisson = rng.poisson(expected).astype(float)
    assert robust_dispersion(poisson, expected, 8) < 0.01
    planted = poisson.copy()
    planted[:4] = [5, 8, 150, 200]  # four regions far off
    assert robust_dispersion(planted, expected, 8) < 0.02
    spread = rng.poisson(expected * rng.gamma(1 / 0.1, 0.1, 40)).astype(float)
    assert 0.03 < robust_dispersion(spread, expected, 8) < 0.3
    assert robust_dispersion(spread[:5], expected[:5], 8) == 0.0


def test_gamma_poisson_shrinkage_moves_small_regions_most():
    k = np.array([0.0, 2.0, 200.0, 100.0, 300.0])
    exposure = np.array([1.0, 1.0, 100.0, 100.0, 100.0])
    shrunk, a, b = gamma_poisson_shrink(k, exposure)
    pooled = k.sum() / exposure.sum()
    assert a > 0 and b > 0 and a / b == pytest.approx(pooled)
    assert abs(shrunk[0] - pooled) < abs(0 - pooled)
    assert abs(shrunk[2] - 2.0) < 0.1  # a large region keeps its own rate
    flat, _, _ = gamma_poisson_shrink(np.array([10.0, 10.0, 10.0]), np.ones(3))
    assert flat == pytest.approx([10.0, 10.0, 10.0], rel=1e-3)


def test_loglog_fit_recovers_a_known_slope():
    residents = np.geomspace(1_000, 100_000, 20)
    homes = np.round(0.5 * residents**0.8)
    fit = loglog_fit(homes, residents)
    assert fit["slope"] == pytest.approx(0.8, abs=0.01)
    assert fit["slope_low"] < 0.8 < fit["slope_high"] and fit["r2"] > 0.99
    assert fit["n"] == 20
    assert loglog_fit(homes[:2], residents[:2])["slope"] is None


def test_typical_rate_is_not_dragged_by_one_large_region():
    # The last region holds 40 % of the residents and is sampled 4 times less.
    k = np.array([100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0])
    exposure = np.array([100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 400.0])
    pooled = k.sum() / exposure.sum()
    assert typical_rate(k, exposure, pooled, 5.0) == pytest.approx(1.0)
    assert typical_rate(k[:2], exposure[:2], pooled, 5.0) == pooled


def test_weights_are_residents_per_home_capped_and_mean_one():
    k = np.array([100.0, 50.0, 1.0, 0.0, 10.0])
    residents = np.array([10_000.0, 10_000.0, 10_000.0, 5_000.0, 0.0])
    weights, capped = region_weights(k, residents, 5.0)
    assert np.isnan(weights[3]) and np.isnan(weights[4])
    # Raw 100, 200 and 10,000 per device; the median device's is 100: the cap is 500.
    assert capped.tolist() == [False, False, True, False, False]
    assert weights[1] / weights[0] == pytest.approx(2.0)
    assert weights[2] / weights[0] == pytest.approx(5.0)
    used = ~np.isnan(weights)
    assert (weights[used] * k[used]).sum() / k[used].sum() == pytest.approx(1.0)


def test_cell_references_place_homes_by_parent_or_by_centre():
    summary = city_summary("london", 0)
    homes = device_homes(summary, _boxes("london"), Config())
    cells = homes["home"].unique().sort()
    # A coarser reference (resolution 6): each home cell's parent names its region.
    parents = cells_to_parent(cells, 6).unique()
    coarse_map = pl.DataFrame(
        {"cell": parents, "region_id": [f"p{i}" for i in range(parents.len())]}
    )
    coarse = Reference("cells", _regions(coarse_map["region_id"]), (), coarse_map)
    placed = region_of_cells(cells, coarse)
    expected = pl.DataFrame({"cell": cells_to_parent(cells, 6)}).join(
        coarse_map, on="cell", how="left"
    )
    assert placed.to_list() == expected["region_id"].to_list()
    # A finer reference (resolution 9): the cell holding the home cell's centre.
    from explorer.binning.cells import latlng_to_cells

    lat, lon = cell_centres(cells[:50])
    fine_cells = latlng_to_cells(lat, lon, 9)
    fine_map = pl.DataFrame({"cell": fine_cells, "region_id": [f"f{i}" for i in range(50)]})
    fine = Reference("cells", _regions(fine_map["region_id"]), (), fine_map)
    placed = region_of_cells(cells, fine)
    assert placed[:50].to_list() == fine_map["region_id"].to_list()
    assert placed[50:].null_count() == cells.len() - 50


def _regions(ids: pl.Series) -> pl.DataFrame:
    return pl.DataFrame({"region_id": ids, "name": ids, "population": 1_000.0})


def _boxes(city: str) -> Reference:
    ids, polygons = grid_regions(city_pings(city, 0), 3)
    return Reference("boxes", _regions(pl.Series(ids)), tuple(polygons))


def test_polygon_regions_place_homes_by_cell_centre():
    summary = city_summary("new_york", 0)
    reference = _boxes("new_york")
    homes = device_homes(summary, reference, Config())
    sample = homes.filter(pl.col("region_id").is_not_null()).head(200)
    lat, lon = cell_centres(sample["home"])
    for la, lo, region in zip(lat, lon, sample["region_id"], strict=True):
        index = reference.regions["region_id"].to_list().index(region)
        assert reference.geometry[index].covers(shapely.Point(lo, la))


@pytest.mark.parametrize("city", ["london", "new_york", "sao_paulo"])
@pytest.mark.parametrize("layout", ["grid", "voronoi"])
def test_weights_recover_the_true_population_shares(city, layout):
    """One region's devices thinned to a fifth: unweighted home counts misstate the
    population shares, weighted ones recover them. Region by region exactly (no cap
    binds), and on a partition the weights never saw (east and west halves of the
    city) within sampling error."""
    summary = city_summary(city, 0)
    pings = city_pings(city, 0)
    ids, polygons = grid_regions(pings, 4) if layout == "grid" else voronoi_regions(pings, 16, 0)
    reference = census_reference(summary, ids, polygons)
    region = reference.regions.sort("population")["region_id"][-2]
    panel = sample_panel(summary, reference, 0.5, 3, planted={region: 0.2})
    weights = device_weights(panel, reference, Config())
    truth = reference.regions.select(
        "region_id", share=pl.col("population") / pl.col("population").sum()
    )
    per_region = weights.group_by("region_id").agg(
        devices=pl.len(), weighted=pl.col("weight").sum()
    )
    shares = truth.join(per_region, on="region_id", how="left").fill_null(0)
    raw = shares["devices"] / shares["devices"].sum()
    weighted = shares["weighted"] / shares["weighted"].sum()
    assert not coverage_table(panel, reference, Config()).regions["weight_capped"].any()
    assert (weighted - shares["share"]).abs().max() < 1e-9
    planted = shares["region_id"] == region
    assert float(raw.filter(planted)[0]) < 0.5 * float(shares["share"].filter(planted)[0])
    # East/west halves: the census homes are the truth; the panel's homes weighted.
    census = device_homes(summary, reference, Config()).filter(pl.col("region_id").is_not_null())
    split = float(np.median(cell_centres(census["home"])[1]))
    east_truth = _east_share(census["home"], None, split)
    panel_homes = device_homes(panel, reference, Config()).join(weights, on=["device", "region_id"])
    east_raw = _east_share(panel_homes["home"], None, split)
    east_weighted = _east_share(panel_homes["home"], panel_homes["weight"], split)
    # Sampling error of a share from ~half the census homes: sd ~ sqrt(p(1-p)/n) < 0.02;
    # 0.04 is two of them.
    assert abs(east_weighted - east_truth) < 0.04
    assert abs(east_weighted - east_truth) <= abs(east_raw - east_truth) + 0.01
    assert weights["device"].is_unique().all()


def _east_share(cells: pl.Series, weights: pl.Series | None, split: float) -> float:
    """Share (weighted, if weights are given) of homes east of longitude ``split``."""
    _, lon = cell_centres(cells)
    w = np.ones(len(lon)) if weights is None else weights.to_numpy()
    return float(w[lon > split].sum() / w.sum())
