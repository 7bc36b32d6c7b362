"""Synthetic panels against known residents, for the coverage tests.

A city's synthetic devices are its census: every device with a confident home in the
full data is a resident, and a region's residents are its census homes times
:data:`RESIDENTS_PER_HOME`. A panel is a sample of those devices (the same devices'
pings, so the same homes), drawn uniformly or with a region sampled at another rate.
Sampling is done on the summary's per-device tables (homes read only those), so a
grid of cities, layouts and seeds runs in seconds; one test goes through the pings.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import polars as pl
import shapely

from explorer.config import Config
from explorer.detectors.context import Context
from explorer.detectors.coverage.bias import detect_coverage_bias
from explorer.detectors.coverage.rates import device_homes
from explorer.reading.reference import Reference
from explorer.summary import Summary, summarise
from explorer.synth.pings import generate_pings

#: Residents each census home stands for.
RESIDENTS_PER_HOME = 250.0
#: Pings of a synthetic city (14 days: most devices seen at night have a home).
CITY_PINGS = 400_000
#: Per-device tables a panel sample filters (the others are left whole: homes and the
#: coverage check read only these).
DEVICE_TABLES = ("device_nights", "devices")


@cache
def city_pings(city: str, seed: int) -> pl.DataFrame:
    return generate_pings(CITY_PINGS, city=city, seed=seed, days=14).pings


@cache
def city_summary(city: str, seed: int) -> Summary:
    return summarise(city_pings(city, seed), 8)


def city_box(pings: pl.DataFrame) -> tuple[float, float, float, float]:
    """(lon_min, lat_min, lon_max, lat_max) holding the middle 96 % of the pings."""
    lat, lon = pings["lat"], pings["lon"]
    return (lon.quantile(0.02), lat.quantile(0.02), lon.quantile(0.98), lat.quantile(0.98))


def grid_regions(pings: pl.DataFrame, n: int) -> tuple[list[str], list]:
    """``n`` x ``n`` boxes over the city: ids and polygons."""
    x0, y0, x1, y1 = city_box(pings)
    ids, polygons = [], []
    for i in range(n):
        for j in range(n):
            ids.append(f"g{i}-{j}")
            polygons.append(
                shapely.box(
                    x0 + (x1 - x0) * j / n,
                    y0 + (y1 - y0) * i / n,
                    x0 + (x1 - x0) * (j + 1) / n,
                    y0 + (y1 - y0) * (i + 1) / n,
                )
            )
    return ids, polygons


def voronoi_regions(pings: pl.DataFrame, n: int, seed: int) -> tuple[list[str], list]:
    """Voronoi cells of ``n`` random points over the city, clipped to its box."""
    x0, y0, x1, y1 = city_box(pings)
    rng = np.random.default_rng(seed)
    points = shapely.multipoints(np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]))
    box = shapely.box(x0, y0, x1, y1)
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=box))
    polygons = [shapely.intersection(c, box) for c in cells]
    return [f"v{i}" for i in range(len(polygons))], polygons


def census_reference(
    summary: Summary,
    ids: list[str],
    polygons: list,
    noise: float = 0.0,
    seed: int = 0,
    coarse: bool = False,
) -> Reference:
    """Regions whose residents are their census homes times RESIDENTS_PER_HOME (times a
    lognormal error of sd ``noise``: a census of another year)."""
    regions = pl.DataFrame(
        {"region_id": ids, "name": [f"Region {i}" for i in ids], "population": 0.0}
    )
    shapes = Reference("census", regions, tuple(polygons))
    homes = device_homes(summary, shapes, Config())
    census = homes.group_by("region_id").agg(homes=pl.len())
    factor = np.exp(np.random.default_rng(seed).normal(0, noise, len(ids))) if noise else 1.0
    counted = regions.join(census, on="region_id", how="left").with_columns(
        population=pl.col("homes").fill_null(0) * RESIDENTS_PER_HOME * factor
    )
    return Reference("census", counted.drop("homes"), tuple(polygons), coarse=coarse)


def sample_panel(
    summary: Summary,
    reference: Reference,
    rate: float,
    seed: int,
    planted: dict[str, float] | None = None,
    gradient: float = 0.0,
) -> Summary:
    """The summary of a panel keeping each device with probability ``rate`` (times
    ``planted[region]`` for devices with a home in that region; times 1 ± ``gradient``
    from west to east for all), judged on the per-device tables."""
    homes = device_homes(summary, reference, Config())
    devices = summary.tables["devices"].select("device")
    chance = devices.join(homes.select("device", "region_id"), on="device", how="left")
    factor = np.ones(chance.height)
    for region, strength in (planted or {}).items():
        factor[(chance["region_id"] == region).fill_null(False).to_numpy()] = strength
    if gradient:
        factor *= 1 + gradient * _east_west(summary, chance["device"])
    rng = np.random.default_rng(seed)
    kept = chance.filter(pl.Series(rng.random(chance.height) < np.clip(rate * factor, 0, 1)))
    tables = dict(summary.tables)
    for name in DEVICE_TABLES:
        tables[name] = tables[name].filter(pl.col("device").is_in(kept["device"].implode()))
    return replace(summary, tables=tables)


def _east_west(summary: Summary, devices: pl.Series) -> np.ndarray:
    """-1 (west) to 1 (east) by the longitude of each device's first night cell."""
    from explorer.binning.cells import cell_centres

    first = summary.tables["device_nights"].group_by("device").agg(pl.col("cell").first())
    placed = devices.to_frame().join(first, on="device", how="left")
    cells = placed["cell"].fill_null(strategy="forward").fill_null(strategy="backward")
    _, lon = cell_centres(cells)
    span = max(float(lon.max() - lon.min()), 1e-9)
    return 2 * (lon - lon.min()) / span - 1


def coverage_findings(summary: Summary, reference: Reference, config: Config | None = None):
    """Every coverage_bias finding of a panel against a reference."""
    return detect_coverage_bias(Context(summary, config or Config(), "test", reference))
