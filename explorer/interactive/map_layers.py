"""What a map layer needs: one row per cell with its metrics, colours, legend and view.

Everything here is computed from a :class:`~explorer.summary.Summary` (never from raw
pings), so a map of ten million pings costs what its cells cost. When a summary has
more than :data:`MAX_MAP_CELLS` cells, cells are aggregated to the finest coarser
resolution that fits, with devices counted exactly (each device once per cell).
Cell ids leave as lower-case hex strings, the only form JavaScript keeps exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.binning.cells import cell_centres, cell_resolution, cells_to_parent, str_to_cell
from explorer.findings import Finding
from explorer.summary import Summary
from explorer.summary.views import device_types
from explorer.text import count, pct

#: Metrics a map can be coloured by; counts are pings unless the name says devices.
METRICS = ("pings", "devices", "pings_per_device", "type_share", "night_share", "finding_score")
#: Most cells sent to a browser map: beyond this pydeck's payload makes reruns sluggish.
MAX_MAP_CELLS = 100_000
#: Local hours counted as night for ``night_share`` (start inclusive, end exclusive).
NIGHT_HOURS = (0, 6)
#: Sequential palette (viridis, 6 classes) from low to high, RGB (the layer sets opacity).
PALETTE = (
    (68, 1, 84),
    (65, 68, 135),
    (42, 120, 142),
    (34, 168, 132),
    (122, 209, 81),
    (253, 231, 37),
)
#: Colour of cells with no value of the metric (e.g. no finding), RGB.
NO_VALUE_COLOR = (200, 200, 200)


def map_resolution(summary: Summary, max_cells: int = MAX_MAP_CELLS) -> int:
    """The finest resolution (at most the summary's) whose cells number ``max_cells`` or fewer."""
    cells = summary.tables["cells"]["cell"]
    res = summary.resolution
    count = cells.len()
    while res > 0 and count > max_cells:
        res -= 1
        count = cells_to_parent(cells, res).n_unique()
    return res


def _to_res(cells: pl.Series, summary_res: int, res: int) -> pl.Series:
    return cells if res == summary_res else cells_to_parent(cells, res)


def main_type(summary: Summary) -> str | None:
    """The device type of most devices (ties: alphabetical), ``None`` without devices."""
    types = device_types(summary)
    if types.is_empty():
        return None
    counts = types.group_by("device_type").agg(pl.len().alias("n"))
    top = counts.sort(["n", "device_type"], descending=[True, False])
    return str(top["device_type"][0])


def cell_metrics(
    summary: Summary,
    findings: Iterable[Finding] = (),
    *,
    resolution: int | None = None,
    share_type: str | None = None,
) -> pl.DataFrame:
    """One row per cell at ``resolution`` (default: the summary's) with every map metric.

    Columns: cell (UInt64), hex, pings, devices (distinct devices), pings_per_device,
    type_share (share of the cell's devices whose main type is ``share_type``, default
    the commonest type), night_share (share of pings at local hours 0–6),
    finding_score (highest score of a finding covering the cell, 0 without one), lat,
    lon (cell centre).
    """
    res = summary.resolution if resolution is None else int(resolution)
    t = summary.tables
    share_type = share_type if share_type is not None else main_type(summary)
    base = t["cells"].select(
        _to_res(t["cells"]["cell"], summary.resolution, res).alias("cell"), "pings"
    )
    out = base.group_by("cell").agg(pl.col("pings").sum())
    cd = t["cell_devices"].select(
        _to_res(t["cell_devices"]["cell"], summary.resolution, res).alias("cell"), "device"
    )
    types = device_types(summary).select("device", "device_type")
    per_cell = (
        cd.unique()
        .join(types, on="device", how="left")
        .group_by("cell")
        .agg(
            devices=pl.len().cast(pl.Int64),
            typed=_is_type(share_type).sum().cast(pl.Int64),
        )
    )
    hours = t["cell_hours"]
    night = (
        hours.select(
            _to_res(hours["cell"], summary.resolution, res).alias("cell"),
            ((pl.col("hour") >= NIGHT_HOURS[0]) & (pl.col("hour") < NIGHT_HOURS[1])).alias("n"),
            "pings",
        )
        .group_by("cell")
        .agg(night=(pl.col("pings") * pl.col("n").cast(pl.Int64)).sum())
    )
    out = (
        out.join(per_cell, on="cell", how="left")
        .join(night, on="cell", how="left")
        .with_columns(pl.col("devices", "typed", "night").fill_null(0))
        .with_columns(
            pings_per_device=pl.when(pl.col("devices") > 0)
            .then(pl.col("pings") / pl.col("devices"))
            .otherwise(None),
            type_share=pl.when(pl.col("devices") > 0)
            .then(pl.col("typed") / pl.col("devices"))
            .otherwise(None),
            night_share=pl.col("night") / pl.col("pings"),
        )
        .drop("typed", "night")
        .sort("cell")
    )
    scores = _finding_scores(out["cell"], res, list(findings))
    lat, lon = cell_centres(out["cell"])
    return out.with_columns(
        hex=pl.col("cell").map_batches(_hex, return_dtype=pl.String),
        finding_score=scores,
        lat=pl.Series(lat),
        lon=pl.Series(lon),
    )


def _hex(cells: pl.Series) -> pl.Series:
    """Lower-case hex ids, vectorised (``%x`` of the 64-bit integer)."""
    return pl.Series(np.char.mod("%x", cells.to_numpy().astype(np.uint64)), dtype=pl.String)


def area_mask(cells: pl.Series, resolution: int, hex_ids: Iterable[str]) -> pl.Series:
    """True for every cell (UInt64 at ``resolution``) inside the area the hex ids cover.

    Ids may be at any resolution: a coarser id covers all its descendants, a finer id
    marks the cell that contains it. Invalid ids are ignored.
    """
    by_res: dict[int, set[int]] = {}
    for text in hex_ids:
        try:
            value = str_to_cell(str(text))
        except (ValueError, TypeError):
            continue
        by_res.setdefault(cell_resolution(value), set()).add(value)
    mask = pl.Series("area", [False] * cells.len(), dtype=pl.Boolean)
    for res, values in by_res.items():
        if res > resolution:
            parents = cells_to_parent(pl.Series(sorted(values), dtype=pl.UInt64), resolution)
            mask = mask | cells.is_in(parents.implode(), nulls_equal=False)
        else:
            mine = cells if res == resolution else cells_to_parent(cells, res)
            wanted = pl.Series(sorted(values), dtype=pl.UInt64)
            mask = mask | mine.is_in(wanted.implode(), nulls_equal=False).fill_null(False)
    return mask.alias("area")


def _finding_scores(cells: pl.Series, res: int, findings: Sequence[Finding]) -> pl.Series:
    score = np.zeros(cells.len(), dtype=np.float64)
    for finding in findings:
        if not finding.cells:
            continue
        inside = area_mask(cells, res, finding.cells).to_numpy()
        value = float(finding.score) if math.isfinite(finding.score) else 0.0
        score = np.where(inside, np.maximum(score, value), score)
    return pl.Series("finding_score", score)


@dataclass(frozen=True)
class LegendStop:
    """One legend entry: values from ``low`` up to ``high`` are drawn in ``color`` (RGB).

    ``label`` says it in words with rounded numbers ("13–35 · next 29 % of cells");
    ``cells`` is how many cells hold such values.
    """

    low: float
    high: float
    color: tuple[int, int, int]
    label: str = ""
    cells: int = 0


#: Colour classes of counts and scores, as quantiles of the cells that have a value (the
#: inner ones are the breaks): the top class is the top 1 % of cells, so a cell far
#: denser than the rest stands out in its own colour.
CLASS_QUANTILES = (0.0, 0.4, 0.7, 0.9, 0.97, 0.99, 1.0)
#: Metrics that are shares of 0..1 (equal-width classes) and counts (whole numbers).
SHARE_METRICS = ("type_share", "night_share")
COUNT_METRICS = ("pings", "devices")


def color_ramp(values: pl.Series, metric: str) -> tuple[np.ndarray, list[LegendStop]]:
    """A colour per value (an ``(n, 3)`` array of RGB) and the legend that explains it.

    Shares (0..1) get equal-width classes. Counts and scores are heavy-tailed: their
    classes break at :data:`CLASS_QUANTILES` of the cells with a value, so the densest
    1 % get the top colour (tied values share a class). Missing values, and finding
    scores of 0 (no finding), get :data:`NO_VALUE_COLOR`.
    """
    raw = values.cast(pl.Float64).to_numpy()
    valid = np.isfinite(raw) & ((raw > 0) if metric == "finding_score" else True)
    if metric in SHARE_METRICS:
        breaks = np.linspace(0.0, 1.0, len(PALETTE) + 1)[1:-1]
    elif valid.any():
        breaks = _quantile_breaks(np.sort(raw[valid]), CLASS_QUANTILES[1:-1])
    else:
        breaks = np.array([])
    classes = np.searchsorted(breaks, raw, side="right")
    palette = _stretch(breaks.size + 1)
    table = np.array(palette + [NO_VALUE_COLOR], dtype=np.int64)
    colours = table[np.where(valid, classes, len(palette))]
    return colours, _legend(raw[valid], classes[valid], breaks, palette, metric)


def _quantile_breaks(ordered: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Class breaks (values some cell has) so that at most ``1 - q`` of the cells lie at
    or above the break of quantile ``q``: ties move a break up, never the class down, so
    the top class stays small in a city of many equal counts."""
    n = ordered.size
    found = []
    for q in quantiles:
        at = min(math.ceil(q * n), n - 1)
        value = ordered[at]
        if n - np.searchsorted(ordered, value, side="left") > (1 - q) * n + 1e-9:
            above = np.searchsorted(ordered, value, side="right")
            if above >= n:
                continue
            value = ordered[above]
        found.append(value)
    breaks = np.unique(np.asarray(found, dtype=np.float64))
    return breaks[breaks > ordered[0]]  # a break at the minimum leaves the first class empty


def _legend(
    values: np.ndarray,
    classes: np.ndarray,
    breaks: np.ndarray,
    palette: list[tuple[int, int, int]],
    metric: str,
) -> list[LegendStop]:
    """One stop per class: its value range (the members' own, for quantile classes)."""
    bounds = np.concatenate([[0.0], breaks, [1.0]]) if metric in SHARE_METRICS else None
    stops = []
    for i, colour in enumerate(palette):
        members = values[classes == i]
        if bounds is not None:
            low, high = float(bounds[i]), float(bounds[i + 1])
        elif members.size == 0:
            low = high = 0.0
        else:
            low, high = float(members.min()), float(members.max())
        share = members.size / values.size if values.size else 0.0
        if metric in SHARE_METRICS or members.size == 0:
            where = ""
        elif len(palette) == 1:
            where = " · every cell"
        elif i == len(palette) - 1:
            where = f" · top {pct(share)} of cells"
        elif i == 0:
            where = f" · lowest {pct(share)} of cells"
        else:
            where = f" · next {pct(share)}"
        label = f"{_range_text(low, high, metric)}{where}"
        stops.append(LegendStop(low, high, colour, label, int(members.size)))
    return stops


def _range_text(low: float, high: float, metric: str) -> str:
    """A class's value range in rounded numbers ("13–35", "0–17 %", "3.2–5.1")."""
    if metric in SHARE_METRICS:
        return f"{low * 100:.0f}–{high * 100:.0f} %"
    fmt = count if metric in COUNT_METRICS else _rounded
    text = (fmt(low), fmt(high))
    return text[0] if text[0] == text[1] else f"{text[0]}–{text[1]}"


def _rounded(value: float) -> str:
    """Two significant figures below 100, whole numbers above: 0.034, 3.2, 47, 1,234."""
    if value == 0:
        return "0"
    digits = max(0, 1 - int(math.floor(math.log10(abs(value)))))
    return f"{round(value, digits):,.{digits}f}"


def _stretch(n: int) -> list[tuple[int, int, int]]:
    """``n`` palette colours spread over the whole palette (first and last kept)."""
    if n <= 1:
        return [PALETTE[-1]]
    picks = np.round(np.linspace(0, len(PALETTE) - 1, n)).astype(int)
    return [PALETTE[i] for i in picks]


def view_for_bounds(
    lat_min: float, lat_max: float, lon_min: float, lon_max: float
) -> dict[str, float]:
    """A map view (latitude, longitude, zoom) that shows the box, for a ~800 px wide map.

    The box runs east from ``lon_min`` to ``lon_max``: when ``lon_max`` is the smaller
    the box crosses ±180° (179.9 to −179.9 is 0.2° wide, not 359.8°). Longitudes past
    ±180 (unwrapped) are fine; the view's longitude is in [−180, 180).
    """
    lat_span = max(lat_max - lat_min, 1e-4)
    lon_span = lon_max - lon_min
    if lon_span < 0:
        lon_span += 360.0
    centre = _wrapped(lon_min + lon_span / 2)
    lon_span = max(lon_span, 1e-4)
    # Web Mercator: 360° of longitude span 256 px at zoom 0; allow 800x500 px.
    zoom_lon = math.log2(800 * 360 / (256 * lon_span))
    zoom_lat = math.log2(500 * 170 / (256 * lat_span))
    zoom = max(0.0, min(zoom_lon, zoom_lat, 15.0))
    return {
        "latitude": round(float(lat_min + lat_max) / 2, 6),
        "longitude": round(centre, 6),
        "zoom": round(float(zoom), 2),
    }


def _wrapped(lon: float) -> float:
    """A longitude in [−180, 180)."""
    return float((lon + 180.0) % 360.0 - 180.0)


def unwrap_longitudes(lon: np.ndarray) -> np.ndarray:
    """Longitudes moved by whole turns so that the widest empty arc between them is
    the seam: data at 179.9 and −179.9 becomes 179.9 and 180.1, a 0.2° wide range.

    Longitudes whose widest empty arc already spans ±180 come back unchanged.
    """
    lon = np.asarray(lon, dtype=np.float64)
    if lon.size < 2:
        return lon
    ordered = np.unique(lon)
    gaps = np.diff(ordered)
    wrap_gap = ordered[0] + 360.0 - ordered[-1]
    if gaps.size == 0 or wrap_gap >= gaps.max():
        return lon
    cut = ordered[int(np.argmax(gaps))]
    return np.where(lon <= cut, lon + 360.0, lon)


def view_for_cells(hex_ids: Iterable[str]) -> dict[str, float] | None:
    """A view that shows all the (valid) cells, ``None`` when there is none."""
    values = []
    for text in hex_ids:
        try:
            values.append(str_to_cell(str(text)))
        except (ValueError, TypeError):
            continue
    if not values:
        return None
    lat, lon = cell_centres(pl.Series(values, dtype=pl.UInt64))
    lon = unwrap_longitudes(lon)
    # ~2 km of margin: the cells and their surroundings, for context.
    pad = 0.02
    return view_for_bounds(lat.min() - pad, lat.max() + pad, lon.min() - pad, lon.max() + pad)


def view_for_summary(summary: Summary) -> dict[str, float]:
    """A view of the data's cells (their centres' box), robust to a few far-away cells."""
    cells = summary.tables["cells"]
    if cells.is_empty():
        return {"latitude": 0.0, "longitude": 0.0, "zoom": 1.0}
    lat, lon = cell_centres(cells["cell"])
    weights = cells["pings"].to_numpy().astype(np.float64)
    # The box holding 98 % of pings: one null-island cell must not zoom out to the globe.
    lo, hi = _weighted_quantiles(lat, weights), _weighted_quantiles(unwrap_longitudes(lon), weights)
    return view_for_bounds(lo[0], lo[1], hi[0], hi[1])


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    order = np.argsort(values)
    cum = np.cumsum(weights[order]) / weights.sum()
    low = values[order][np.searchsorted(cum, 0.01)]
    high = values[order][min(np.searchsorted(cum, 0.99), len(values) - 1)]
    return float(low), float(high)


def _is_type(device_type: str | None) -> pl.Expr:
    """Whether a row's device type is ``device_type`` (never, when there is none to share)."""
    return pl.lit(False) if device_type is None else pl.col("device_type") == device_type
