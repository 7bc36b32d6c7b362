"""Test units of the mix family: cells pooled into units, each unit's devices by type
against its region's, scored with shrunk shares, binomial tails and one false-discovery
pass over both ways of typing a device."""

from __future__ import annotations

import numpy as np
import polars as pl

from explorer.binning.cells import cell_edge_km, cells_to_parent
from explorer.detectors.context import Context
from explorer.stats import benjamini_hochberg, beta_binomial_shrink, binomial_sf
from explorer.summary.views import named_codes


def two_sided_binomial_p(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Two-sided tail p-value of k successes in n trials at share p (doubled smaller tail)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    upper = binomial_sf(k, n, p)
    lower = binomial_sf(n - k, n, 1 - p)
    return np.clip(2 * np.minimum(upper, lower), 0.0, 1.0)


def region_resolution(resolution: int, edge_km: float) -> int:
    """Finest resolution not finer than ``resolution`` whose cell edge is >= ``edge_km``."""
    for res in range(resolution, -1, -1):
        if cell_edge_km(res) >= edge_km:
            return res
    return 0


def overall_mix(ctx: Context) -> dict[str, float]:
    """Share of devices by main type over the whole data set (each device once)."""
    types = ctx.devices.group_by("device_type").agg(n=pl.len())
    total = float(types["n"].sum() or 0)
    if total == 0:
        return {}
    return {str(t): n / total for t, n in sorted(zip(types["device_type"], types["n"]))}


def unit_map(ctx: Context) -> pl.DataFrame:
    """(cell, unit): each data cell and the test unit it pools into.

    Units are cells no finer than ``unit_resolution``: finer cells are pooled into their
    parent so that a neighbourhood's skew has enough devices behind each test.
    """
    cells = ctx.summary.tables["cells"].select("cell").unique()
    unit_res = min(ctx.resolution, ctx.config.mix.unit_resolution)
    if unit_res == ctx.resolution:
        return cells.with_columns(unit=pl.col("cell"))
    return cells.with_columns(unit=cells_to_parent(cells["cell"], unit_res))


def unit_type_table(
    ctx: Context, units: pl.DataFrame, tested: list[str], mix: dict[str, float]
) -> pl.DataFrame:
    """(unit, device_type, k, n, region_share): distinct devices of each type per unit."""
    cfg = ctx.config.mix
    coded, names = ctx.type_codes
    present = coded.join(units, on="cell")
    if ctx.resolution > min(ctx.resolution, cfg.unit_resolution):
        present = present.select("unit", "device", "code").unique()
    counts = named_codes(present.group_by("unit", "code").agg(k=pl.len().cast(pl.Int64)), names)
    totals = counts.group_by("unit").agg(n=pl.col("k").sum())
    table = (
        totals.join(pl.DataFrame({"device_type": tested}), how="cross")
        .join(counts, on=["unit", "device_type"], how="left")
        .with_columns(pl.col("k").fill_null(0))
    )
    parent_res = region_resolution(min(ctx.resolution, cfg.unit_resolution), cfg.region_edge_km)
    table = table.with_columns(parent=cells_to_parent(table["unit"], parent_res))
    prior = pl.col("device_type").replace_strict(mix, default=0.0, return_dtype=pl.Float64)
    m = cfg.region_prior_devices
    return table.with_columns(
        region_k=pl.col("k").sum().over("parent", "device_type") - pl.col("k"),
        region_n=pl.col("n").sum().over("parent", "device_type") - pl.col("n"),
    ).with_columns(
        region_share=(pl.col("region_k") + m * prior) / (pl.col("region_n") + m),
    )


def score_units(table: pl.DataFrame, ctx: Context, n_types: int) -> pl.DataFrame:
    """Shrunk shares, differences and BH-controlled discoveries, one row per unit."""
    min_devices = ctx.config.severity.min_devices
    cap = ctx.config.mix.max_prior_devices
    table = table.filter(pl.col("n") >= min_devices).sort("device_type", "unit")
    k, n = table["k"].to_numpy(), table["n"].to_numpy()
    region = table["region_share"].to_numpy()
    shrunk = np.empty(len(table))
    kinds = table["device_type"].to_numpy()
    for kind in np.unique(kinds):
        rows = kinds == kind
        _, a, b = beta_binomial_shrink(k[rows], n[rows])
        # The fitted prior strength (capped), but centred on the region's share.
        strength = min(a + b, cap)
        shrunk[rows] = (k[rows] + strength * region[rows]) / (n[rows] + strength)
    p = np.minimum(two_sided_binomial_p(k, n, region) * n_types, 1.0)
    scored = table.with_columns(
        shrunk=pl.Series(shrunk), difference=pl.Series(shrunk - region), p_value=pl.Series(p)
    )
    # Per unit, the over-represented type: with two types the other is its mirror.
    per_unit = (
        scored.sort("difference", descending=True)
        .group_by("unit")
        .agg(
            pl.col("p_value").min(),
            pl.col("difference").first(),
            pl.col("device_type").first().alias("focal_type"),
            pl.col("n").first(),
        )
        .sort("unit")
    )
    return per_unit


def discoveries(scored: dict[str, pl.DataFrame], fdr: float) -> dict[str, pl.DataFrame]:
    """Each measure's units with a ``discovery`` column: one Benjamini–Hochberg pass over
    the units of both measures, so testing pings as well as devices adds no false alarms."""
    found = benjamini_hochberg(
        np.concatenate([frame["p_value"].to_numpy() for frame in scored.values()]), fdr
    )
    out, start = {}, 0
    for measure, frame in scored.items():
        out[measure] = frame.with_columns(discovery=pl.Series(found[start : start + frame.height]))
        start += frame.height
    return out
