"""What the app's Coverage page shows, computed here so the app only draws: the regions
coloured by sampling rate around the overall rate (GeoJSON features and a legend), the
funnel plot, the log-log fit, the table of regions, the coverage findings and the
weights to download.

Built on :mod:`explorer.detectors.coverage` (home devices per resident, intervals,
weights, the ``coverage_bias`` check); nothing here is a new statistic, only the
numbers re-shaped for a map, two charts and a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import shapely

from explorer.binning.cells import cell_boundary, cell_centres
from explorer.config import Config
from explorer.detectors.context import Context
from explorer.detectors.coverage import (
    CoverageTable,
    coverage_table,
    detect_coverage_bias,
    device_weights_by_id,
    region_weights_frame,
)
from explorer.detectors.coverage.bias import funnel_limits
from explorer.findings import Finding
from explorer.interactive.map_layers import LegendStop, view_for_bounds
from explorer.safe_csv import csv_bytes
from explorer.summary import Summary
from explorer.summary.homes import HomeRule, homes_per_cell
from explorer.text import count

#: Class edges of a region's rate over the overall rate: 1.25 times either way is "about
#: the overall rate"; twice and four times are the steps a reader can name.
RATIO_EDGES = (0.25, 0.5, 0.8, 1.25, 2.0, 4.0)
#: Diverging colours (ColorBrewer RdBu, 7 classes), far below the overall rate (red) to
#: far above it (blue), the middle class pale grey; RGB.
DIVERGING = (
    (178, 24, 43),
    (239, 138, 98),
    (253, 219, 199),
    (240, 240, 240),
    (209, 229, 240),
    (103, 169, 207),
    (33, 102, 172),
)
#: Regions with no rate (no residents) are drawn in this colour.
NO_RATE_COLOR = (190, 190, 190)
#: Simplification of region outlines sent to the browser (degrees, ~10 m) and the
#: decimals their vertices keep (~1 m): a census layer stays light on the page.
OUTLINE_TOLERANCE, OUTLINE_DECIMALS = 1e-4, 5
#: Zoom levels taken off the regions' tight view, so the outer regions are not cut off
#: on a map shorter than it is wide.
CAMERA_MARGIN_ZOOM = 0.5
#: Points on the drawn fit line.
FIT_POINTS = 50
#: Share of pings left out at each end of the data's box for the coarse default: a few
#: pings at (0, 0) must not stretch the box over an ocean.
BOX_TRIM = 0.005
#: Share of homes left out at each end of the homes' box: the coarse default covers
#: where the panel's devices live, not every town its travellers pass through (towns at
#: the edge of a box drawn around all pings hold most of its residents and no homes, and
#: would make every place with homes look over-sampled).
HOME_BOX_TRIM = 0.05


@dataclass(frozen=True)
class CoverageView:
    """Everything the Coverage page draws for one summary and reference.

    ``features``: GeoJSON FeatureCollection of the regions (cells, for a reference given
    as H3 cells), each with ``region_id``, ``name``, display texts and ``fill`` (RGBA);
    ``table``: one row per region for display; ``funnel_points``/``funnel_limits`` and
    ``fit_points``/``fit_line`` the two charts' series; ``findings`` the coverage_bias
    findings; ``camera`` a map view of the regions; ``reference`` the regions' record.
    """

    coverage: CoverageTable
    reference: Any
    source: str
    coarse: bool
    features: dict[str, Any]
    legend: list[LegendStop]
    camera: dict[str, float]
    table: pl.DataFrame
    funnel_points: pl.DataFrame
    funnel_limits: pl.DataFrame
    fit_points: pl.DataFrame
    fit_line: pl.DataFrame
    findings: list[Finding]


def coverage_view(
    summary: Summary, reference: Any, config: Config | None = None, salt: str = ""
) -> CoverageView:
    """The page's numbers for ``summary`` against ``reference`` (a Reference)."""
    config = config or Config()
    table = coverage_table(summary, reference, config)
    findings = detect_coverage_bias(Context(summary, config, salt, reference))
    flags = region_flags(findings)
    regions = table.regions.with_columns(
        flag=pl.col("region_id").replace_strict(flags, default=None, return_dtype=pl.String)
    )
    features = region_features(regions, reference, table.overall_rate)
    return CoverageView(
        coverage=table,
        reference=reference,
        source=reference.source,
        coarse=bool(reference.coarse),
        features=features,
        legend=ratio_legend(regions["ratio"], table.overall_rate),
        camera=camera_for(features),
        table=display_table(regions),
        funnel_points=regions.select(
            "region_id", "name", "residents", "rate", "home_devices", "flag"
        ).filter(pl.col("rate").is_not_null()),
        funnel_limits=_funnel_limits(regions, table),
        fit_points=regions.select("region_id", "name", "residents", "home_devices", "flag").filter(
            (pl.col("residents") > 0) & (pl.col("home_devices") > 0)
        ),
        fit_line=fit_line(table.fit, regions["residents"]),
        findings=findings,
    )


def region_flags(findings: list[Finding]) -> dict[str, str]:
    """The worst severity of a coverage finding on each region it names."""
    order = {"low": 0, "medium": 1, "high": 2}
    flags: dict[str, str] = {}
    for finding in findings:
        for region in finding.regions:
            if order[finding.severity] >= order.get(flags.get(region, "low"), 0):
                flags[region] = finding.severity
    return flags


def ratio_colours(ratio: pl.Series) -> np.ndarray:
    """RGB per region: its rate over the overall rate, in the classes of RATIO_EDGES."""
    values = ratio.cast(pl.Float64).fill_null(np.nan).to_numpy()
    classes = np.searchsorted(np.asarray(RATIO_EDGES), values, side="right")
    colours = np.asarray(DIVERGING, dtype=np.int64)[np.clip(classes, 0, len(DIVERGING) - 1)]
    colours[~np.isfinite(values)] = NO_RATE_COLOR
    return colours


def ratio_legend(ratio: pl.Series, overall: float | None) -> list[LegendStop]:
    """One legend entry per colour class: the rates it spans and how many regions."""
    values = ratio.cast(pl.Float64).fill_null(np.nan).to_numpy()
    edges = (0.0, *RATIO_EDGES, math.inf)
    out = []
    for i, colour in enumerate(DIVERGING):
        low, high = edges[i], edges[i + 1]
        n = int(np.count_nonzero((values >= low) & (values < high)))
        out.append(LegendStop(low, high, colour, _class_words(low, high, overall, n), n))
    return out


def _class_words(low: float, high: float, overall: float | None, regions: int) -> str:
    noun = "region" if regions == 1 else "regions"
    if low == 0.0:
        span = f"under {_times(high)}"
    elif math.isinf(high):
        span = f"{_times(low)} or more"
    else:
        span = f"{_times(low)}–{_times(high)}"
    rates = ""
    if overall:
        lo = f"{low * overall:.2g}" if low > 0 else "0"
        hi = "" if math.isinf(high) else f"{high * overall:.2g}"
        rates = f" ({lo}–{hi} per 1,000)" if hi else f" ({lo}+ per 1,000)"
    return f"{span} the overall rate{rates} · {regions} {noun}"


def _times(x: float) -> str:
    if x < 1:
        return f"1/{1 / x:g}" if (1 / x).is_integer() else f"{x:g}×"
    return f"{x:g}×"


def _rounded_outline(geometry: Any) -> dict[str, Any]:
    """GeoJSON geometry of a polygon, simplified and rounded for the browser."""
    light = shapely.set_precision(
        shapely.simplify(geometry, OUTLINE_TOLERANCE, preserve_topology=True),
        10.0**-OUTLINE_DECIMALS,
    )
    return shapely.geometry.mapping(light)


def _region_geometries(regions: pl.DataFrame, reference: Any) -> dict[str, list[dict]]:
    """Region id -> GeoJSON geometries (one per polygon, or per cell of a cell region)."""
    if reference.cells is not None:
        cells = reference.cells.filter(pl.col("region_id").is_in(regions["region_id"].implode()))
        out: dict[str, list[dict]] = {}
        for cell, region in cells.select("cell", "region_id").iter_rows():
            ring = [[lon, lat] for lat, lon in cell_boundary(cell)]
            out.setdefault(region, []).append({"type": "Polygon", "coordinates": [ring + ring[:1]]})
        return out
    ids = reference.regions["region_id"].to_list()
    return {rid: [_rounded_outline(g)] for rid, g in zip(ids, reference.geometry, strict=True)}


def region_features(regions: pl.DataFrame, reference: Any, overall: float | None) -> dict[str, Any]:
    """The regions as a GeoJSON FeatureCollection for a GeoJsonLayer: geometry,
    ``fill`` (RGBA) and the tooltip's texts in ``properties``."""
    geometries = _region_geometries(regions, reference)
    colours = ratio_colours(regions["ratio"])
    features = []
    for row, colour in zip(regions.iter_rows(named=True), colours, strict=True):
        properties = {
            "region_id": row["region_id"],
            "name": row["name"],
            "residents": count(row["residents"]),
            "home_devices": count(row["home_devices"]),
            "rate": _rate_text(row["rate"]),
            "ratio": _ratio_text(row["ratio"]),
            "flag": (row["flag"] or "").upper() or "none",
            "fill": [*map(int, colour), 190],
        }
        for geometry in geometries.get(row["region_id"], []):
            features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def _rate_text(rate: float | None) -> str:
    return "no residents" if rate is None else f"{rate:.3g} per 1,000 residents"


def _ratio_text(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f} × the overall rate"


def camera_for(features: dict[str, Any]) -> dict[str, float]:
    """A map view that shows every region."""
    if not features["features"]:
        return {"latitude": 0.0, "longitude": 0.0, "zoom": 1.0}
    shapes = [shapely.geometry.shape(f["geometry"]) for f in features["features"]]
    lon_min, lat_min, lon_max, lat_max = shapely.total_bounds(shapes)
    view = view_for_bounds(lat_min, lat_max, lon_min, lon_max)
    return {**view, "zoom": max(0.0, round(view["zoom"] - CAMERA_MARGIN_ZOOM, 2))}


def display_table(regions: pl.DataFrame) -> pl.DataFrame:
    """The table of regions: id, name, residents, home devices, rate with its 95 %
    interval, rate over the overall rate, weight and the finding's flag; lowest ratio
    first (the regions a reader should look at)."""
    return regions.sort(["ratio", "region_id"], nulls_last=True).select(
        pl.col("region_id").alias("id"),
        "name",
        pl.col("residents").round(0).cast(pl.Int64),
        "home_devices",
        pl.col("rate").round(3).alias("rate per 1,000"),
        pl.format("{}–{}", pl.col("rate_low").round(3), pl.col("rate_high").round(3)).alias(
            "95 % interval"
        ),
        pl.col("ratio").round(2).alias("× overall"),
        pl.col("weight").round(3),
        pl.col("flag").fill_null("").str.to_uppercase().alias("finding"),
    )


def _funnel_limits(regions: pl.DataFrame, table: CoverageTable) -> pl.DataFrame:
    with_rate = regions.filter(pl.col("rate").is_not_null())
    if table.overall_rate is None or with_rate.is_empty():
        return pl.DataFrame(schema={"residents": pl.Float64})
    return pl.DataFrame(funnel_limits(with_rate["residents"], table.overall_rate, table.dispersion))


def fit_line(fit: dict[str, Any], residents: pl.Series) -> pl.DataFrame:
    """Home devices the log-log fit predicts along the residents' range (empty without
    a fit)."""
    positive = residents.filter(residents > 0)
    if fit.get("slope") is None or positive.is_empty():
        return pl.DataFrame(schema={"residents": pl.Float64, "home_devices": pl.Float64})
    x = np.geomspace(float(positive.min()), float(positive.max()) * 1.0001, FIT_POINTS)
    y = np.exp(fit["intercept"] + fit["slope"] * np.log(x))
    return pl.DataFrame({"residents": x, "home_devices": y})


def fit_words(fit: dict[str, Any]) -> str:
    """The fit in words: "slope 0.98 (95 % 0.9–1.1), r² 0.95 over 25 regions"."""
    if fit.get("slope") is None:
        return f"no fit: {fit.get('n', 0)} regions with both residents and home devices"
    return (
        f"slope {fit['slope']:.2f} (95 % {fit['slope_low']:.2f}–{fit['slope_high']:.2f}), "
        f"r² {fit['r2']:.2f} over {fit['n']} regions; a slope of 1 is coverage in "
        "proportion to residents"
    )


def headline(view: CoverageView) -> str:
    """What the page is about, in numbers: homes found, in regions, the overall rate."""
    homes = view.coverage.homes
    regions = view.coverage.regions
    rate = view.coverage.overall_rate
    overall = "no overall rate (no residents)" if rate is None else f"{rate:.3g} per 1,000"
    return (
        f"{count(homes.get('with_home', 0))} of {count(homes.get('devices', 0))} devices have "
        f"a confident home; {count(homes.get('in_regions', 0))} of them lie in the "
        f"{count(regions.height)} regions of {count(regions['residents'].sum())} residents "
        f"({count(view.coverage.outside)} outside every region). Overall: {overall}."
    )


def flagged_words(view: CoverageView) -> str:
    """The regions a coverage finding names, worst first: "Regions flagged: Middle
    South-East (medium, 0.26 × the overall rate)"; or that none is."""
    flagged = view.table.filter(pl.col("finding") != "")
    if flagged.is_empty():
        return "No region is flagged: none is covered far below or above the rest."
    order = {"HIGH": 0, "MEDIUM": 1, "LOW": 2}
    rows = sorted(flagged.iter_rows(named=True), key=lambda r: (order[r["finding"]], r["id"]))
    parts = [
        f"{r['name']} ({r['finding'].lower()}, {r['× overall']:.2f} × the overall rate)"
        for r in rows
    ]
    return "Regions flagged: " + "; ".join(parts) + "."


def weights_csv(table: CoverageTable) -> bytes:
    """Per region: id, name, residents, home devices, rate with interval and weight, as
    formula-safe CSV bytes."""
    return csv_bytes(region_weights_frame(table))


def device_weights_csv(
    summary: Summary, reference: Any, device_ids: pl.Series, config: Config | None = None
) -> bytes:
    """Per device with a home in a region, under the user's own ``device_ids`` (the
    pings' id column): id, region and weight, as formula-safe CSV bytes."""
    return csv_bytes(device_weights_by_id(summary, reference, config or Config(), device_ids))


def data_box(summary: Summary, config: Config | None = None) -> tuple[float, float, float, float]:
    """(lat_min, lat_max, lon_min, lon_max): the area a coarse default should cover.

    Where the panel's devices live: the box holding all but HOME_BOX_TRIM of the
    confident homes at each end; without homes, all but BOX_TRIM of the pings."""
    config = config or Config()
    rule = HomeRule(
        config.coverage.home_resolution, config.coverage.min_nights, config.coverage.min_home_share
    )
    homes = homes_per_cell(summary, rule)
    if homes.height:
        lat, lon = cell_centres(homes["cell"])
        weights, trim = homes["home_devices"].to_numpy().astype(np.float64), HOME_BOX_TRIM
    else:
        cells = summary.tables["cells"]
        if cells.is_empty():
            raise ValueError("no pings: no area to take a coarse reference for")
        lat, lon = cell_centres(cells["cell"])
        weights, trim = cells["pings"].to_numpy().astype(np.float64), BOX_TRIM
    return (*_trimmed(lat, weights, trim), *_trimmed(lon, weights, trim))


def _trimmed(values: np.ndarray, weights: np.ndarray, trim: float) -> tuple[float, float]:
    order = np.argsort(values)
    cum = np.cumsum(weights[order]) / weights.sum()
    low = values[order][np.searchsorted(cum, trim)]
    high = values[order][min(np.searchsorted(cum, 1 - trim), len(values) - 1)]
    return float(low), float(high)


__all__ = [
    "CoverageView",
    "coverage_view",
    "data_box",
    "device_weights_csv",
    "fit_words",
    "headline",
    "weights_csv",
]
