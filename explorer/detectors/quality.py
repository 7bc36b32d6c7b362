"""Detectors of the quality family: truncated coordinates and duplicate rows.

Both are data-set-wide faults of the export rather than of places, so each is one
finding with empty ``cells``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from explorer.binning.decimals import COARSE_DECIMALS, MAX_DECIMALS
from explorer.detectors.context import Context
from explorer.detectors.needs import check
from explorer.findings import Finding
from explorer.text import count, pct, plural

#: Metres per degree of latitude (mean), to turn decimals into a grid size.
METRES_PER_DEGREE = 111_320.0


def grid_metres(decimals: int) -> float:
    """North-south size of the grid of coordinates rounded to ``decimals`` (metres)."""
    return METRES_PER_DEGREE * 10.0 ** (-int(decimals))


def decimals_histogram(ctx: Context) -> np.ndarray:
    """Pings by the decimals of their less precise axis (0..MAX_DECIMALS), (0, 0) left out.

    Exact (0, 0) is a missing location, told by ``null_island``, not a precision fault.
    """
    frame = ctx.summary.tables["decimals"].with_columns(
        decimals=pl.max_horizontal("lat_decimals", "lon_decimals").cast(pl.Int64)
    )
    hist = np.zeros(MAX_DECIMALS + 1, dtype=np.int64)
    np.add.at(hist, frame["decimals"].to_numpy(), frame["pings"].to_numpy())
    coords = ctx.summary.tables["coords"]
    zeros = int(coords.filter((pl.col("lat") == 0) & (pl.col("lon") == 0))["pings"].sum() or 0)
    hist[0] -= min(zeros, int(hist[0]))
    return hist


def _small_pct(share: float) -> str:
    """A percentage that never rounds a non-zero share down to '0.00 %'."""
    return "under 0.01 %" if 0 < share < 1e-4 else pct(share)


def _severity(share: float, low: float, medium: float, high: float) -> str | None:
    if share >= high:
        return "high"
    if share >= medium:
        return "medium"
    return "low" if share > low else None


@check("coordinate_precision")
def detect_coordinate_precision(ctx: Context) -> list[Finding]:
    """Coordinates truncated to at most 3 decimals (a ~100 m grid or coarser)."""
    cfg = ctx.config.quality
    hist = decimals_histogram(ctx)
    total = int(hist.sum())
    coarse_pings = int(hist[: COARSE_DECIMALS + 1].sum())
    devices = ctx.devices
    coarse = devices["coarse_pings"]
    coarse_devices = int(
        ((coarse > 0) & (coarse >= cfg.device_coarse_share * devices["pings"])).sum()
    )
    n_devices = devices.height
    ping_share = coarse_pings / total if total else 0.0
    device_share = coarse_devices / n_devices if n_devices else 0.0
    share = max(ping_share, device_share)
    severity = _severity(
        share, cfg.precision_low_share, cfg.precision_medium_share, cfg.precision_high_share
    )
    if severity is None or coarse_pings == 0:
        return []
    typical = int(np.argmax(hist[: COARSE_DECIMALS + 1]))
    metres = grid_metres(typical)
    evidence = {
        "decimals_histogram": [int(x) for x in hist],
        "coarse_decimals": COARSE_DECIMALS,
        "coarse_pings": coarse_pings,
        "ping_share": ping_share,
        "coarse_devices": coarse_devices,
        "device_share": device_share,
        "devices": n_devices,
        "typical_decimals": typical,
        "grid_metres": metres,
    }
    title, story = _precision_words(evidence)
    return [Finding("coordinate_precision", severity, float(share), title, story, (), evidence)]


def _precision_words(ev: dict) -> tuple[str, str]:
    """Title and story of a coordinate_precision finding; in pings alone when the data
    has no device ids."""
    metres, typical = count(ev["grid_metres"]), plural(ev["typical_decimals"], "decimal")
    ping_share, pings = pct(ev["ping_share"]), f"{count(ev['coarse_pings'])} pings"
    if ev["devices"]:
        title = (
            f"{pct(ev['device_share'])} of devices and {ping_share} of pings report "
            f"coordinates on a ~{metres} m grid ({typical})"
        )
        who = (
            f"{plural(ev['coarse_devices'], 'device')} of {count(ev['devices'])} send most of "
            f"their pings with at most {COARSE_DECIMALS} decimals, and {pings} in all"
        )
        leave_out = "those devices"
    else:
        title = f"{ping_share} of pings report coordinates on a ~{metres} m grid ({typical})"
        who, leave_out = pings, "those pings"
    story = (
        f"{who} ({ping_share}) sit on a grid of about "
        f"{metres} m, mostly {typical}. Truncated positions pile up on grid points, so visits, "
        f"dwell times and anything finer than ~{metres} m are wrong for these pings. "
        "Check which app or SDK version sends them, and analyse them only at a coarser "
        f"resolution or leave {leave_out} out."
    )
    return title, story


@check("duplicate_pings")
def detect_duplicate_pings(ctx: Context) -> list[Finding]:
    """Exact duplicate rows (same device, instant, place and type)."""
    cfg = ctx.config.quality
    # Every used row, not the rows table's sum: a compacted summary keeps only the
    # hashes seen more than once.
    total = ctx.total_pings
    copies = ctx.summary.tables["rows"].filter(pl.col("pings") > 1)
    if total == 0 or copies.is_empty():
        return []
    extra = int((copies["pings"] - 1).sum())
    share = extra / total
    severity = _severity(
        share, cfg.duplicate_low_share, cfg.duplicate_medium_share, cfg.duplicate_high_share
    )
    if severity is None:
        return []
    max_copies = int(copies["pings"].max())
    by_copies = copies.group_by("pings").agg(rows=pl.len()).sort("pings")
    title = (
        f"{_small_pct(share)} of rows are extra copies of other rows ({plural(extra, 'duplicate')})"
    )
    story = (
        f"{plural(copies.height, 'row')} appear more than once (up to {max_copies} copies of "
        f"one row), adding {plural(extra, 'extra row')}, {_small_pct(share)} of the data. "
        "Duplicates inflate ping counts, densities and dwell times wherever they fall, "
        "usually from a retried upload or an export joined twice. "
        "Drop the duplicate rows before modelling: a cleaned copy of the file keeps one of "
        "each."
    )
    evidence = {
        "duplicate_rows": copies.height,
        "extra_copies": extra,
        "rows": total,
        "share": share,
        "max_copies": max_copies,
        "copies_histogram": {str(k): int(v) for k, v in by_copies.iter_rows()},
    }
    return [Finding("duplicate_pings", severity, float(share), title, story, (), evidence)]


DETECTORS = [detect_coordinate_precision, detect_duplicate_pings]
