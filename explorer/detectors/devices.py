"""Detectors of the devices family: a few devices drowning out the rest.

A device is suspicious only as an outlier among devices — its pings per active day far
beyond the busy tail of the device distribution — not because it is the only phone on
a quiet street. Realistic data is heavy-tailed, so the reference is a high quantile of
devices' pings per day, and the typical (median) device is quoted for scale.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from explorer.binning.cells import cells_to_str
from explorer.detectors.context import Context
from explorer.detectors.needs import DEVICE_IDS, check
from explorer.findings import Finding
from explorer.text import count, pct, plural, ratio

KIND = "device_concentration"


def concentration_curve(pings: np.ndarray, device_shares: tuple[float, ...]) -> list[dict]:
    """Share of all pings sent by the top ``x`` share of devices, for each ``x``.

    ``pings`` are per-device counts (any order). The top share is rounded up to whole
    devices, so the top 1 % of 50 devices is one device.
    """
    ordered = np.sort(np.asarray(pings, dtype=float))[::-1]
    total = ordered.sum()
    if ordered.size == 0 or total <= 0:
        return []
    cumulative = np.cumsum(ordered) / total
    top = np.clip(np.ceil(np.asarray(device_shares) * ordered.size).astype(int), 1, ordered.size)
    return [
        {"devices": float(x), "pings": float(cumulative[k - 1])} for x, k in zip(device_shares, top)
    ]


def _reference(ctx: Context) -> tuple[float, float] | None:
    """(typical, tail) pings per active day over devices, or None when too few devices."""
    ppd = ctx.devices["pings_per_day"].drop_nulls().to_numpy()
    if ppd.size < ctx.config.devices.min_devices_for_tail:
        return None
    return float(np.median(ppd)), float(np.quantile(ppd, ctx.config.devices.tail_quantile))


def _flagged_cells(ctx: Context, tail: float) -> pl.DataFrame:
    """Cells where outlier devices send most pings: cell, main device, their share."""
    cfg = ctx.config.devices
    outliers = ctx.devices.filter(pl.col("pings_per_day") >= cfg.medium_tail_ratio * tail).select(
        "device", "pings_per_day"
    )
    rows = (
        ctx.summary.tables["cell_devices"]
        .join(outliers, on="device", how="inner")
        .filter(pl.col("pings") >= cfg.min_device_pings)
    )
    per_cell = (
        rows.sort("pings", descending=True)
        .group_by("cell")
        .agg(
            outlier_pings=pl.col("pings").sum(),
            outlier_devices=pl.len(),
            main_device=pl.col("device").first(),
            main_pings=pl.col("pings").first(),
        )
    )
    cells = ctx.cells.select("cell", pl.col("pings").alias("cell_pings"), "devices")
    return (
        per_cell.join(cells, on="cell", how="inner")
        .with_columns(cell_share=pl.col("outlier_pings") / pl.col("cell_pings"))
        .filter(pl.col("cell_share") >= cfg.min_cell_share)
    )


def _cell_finding(
    ctx: Context, group: pl.DataFrame, reference: tuple[float, float], curve: list[dict]
) -> Finding:
    """One finding for one outlier device and the cells it dominates."""
    cfg = ctx.config.devices
    typical, tail = reference
    device = int(group["main_device"][0])
    row = ctx.devices.filter(pl.col("device") == device).row(0, named=True)
    ppd = float(row["pings_per_day"])
    tail_ratio = ppd / tail
    severity = "high" if tail_ratio >= cfg.high_tail_ratio else "medium"
    label = ctx.device_label(device)
    main_pings = int(group["main_pings"].sum())
    cell_pings = int(group["cell_pings"].sum())
    share = float(group["outlier_pings"].sum()) / cell_pings
    where = "one cell" if group.height == 1 else f"{group.height} neighbouring cells"
    title = (
        f"One device ({label}) sends {pct(share)} of the pings in {where}: "
        f"{ratio(ppd / typical)} the typical device's rate"
    )
    story = (
        f"{label} sent {count(main_pings)} pings from {where} ({pct(share)} of "
        f"{count(cell_pings)}), about {count(ppd)} a day — {ratio(ppd / typical)} the typical "
        f"device's {typical:.1f} and {ratio(tail_ratio)} the rate only "
        f"{pct(1 - cfg.tail_quantile)} of devices exceed. "
        "Counts, densities and hour profiles here describe one phone, not the people at the "
        "place, so footfall or density models will see a hotspot that is not there. "
        "Check whether it is a test device, a fixed sensor or an SDK loop, and drop its "
        "pings before modelling: a cleaned copy of the file leaves them out."
    )
    evidence = {
        "scope": "cell",
        "device": label,
        "device_pings": main_pings,
        "device_total_pings": int(row["pings"]),
        "cell_pings": cell_pings,
        "cell_share": share,
        "pings_per_day": ppd,
        "typical_pings_per_day": typical,
        "ratio": ppd / typical,
        "tail_pings_per_day": tail,
        "tail_ratio": tail_ratio,
        "outlier_devices": int(group["outlier_devices"].max()),
        "devices": int(group["devices"].max()),
        "curve": curve,
    }
    return Finding(
        KIND,
        severity,
        float(tail_ratio * share),
        title,
        story,
        tuple(cells_to_str(group["cell"].to_list())),
        evidence,
    )


def _dataset_finding(ctx: Context, curve: list[dict], n_devices: int) -> Finding | None:
    """The top devices' share of all pings, reported only when it is extreme."""
    cfg = ctx.config.devices
    if n_devices < cfg.min_devices_for_curve:
        return None
    top = concentration_curve(ctx.devices["pings"].to_numpy(), (cfg.top_device_share,))[0]
    share = top["pings"]
    if share < cfg.dataset_low_share:
        return None
    severity = (
        "high"
        if share >= cfg.dataset_high_share
        else "medium"
        if share >= cfg.dataset_medium_share
        else "low"
    )
    n_top = max(1, int(np.ceil(cfg.top_device_share * n_devices)))
    title = f"The busiest {pct(cfg.top_device_share)} of devices send {pct(share)} of all pings"
    story = (
        f"{plural(n_top, 'device')} out of {count(n_devices)} send {pct(share)} of the pings. "
        "Some concentration is normal (a few phones ping hundreds of times a day), but at this "
        "level per-place counts mostly measure those devices rather than people. "
        "Count devices rather than pings, or cap each device's pings per day, before modelling."
    )
    evidence = {
        "scope": "dataset",
        "devices": n_devices,
        "top_devices": n_top,
        "top_device_share": cfg.top_device_share,
        "top_ping_share": share,
        "curve": curve,
    }
    return Finding(KIND, severity, float(share), title, story, (), evidence)


@check(KIND, DEVICE_IDS)
def detect_device_concentration(ctx: Context) -> list[Finding]:
    """Outlier devices that produce most of a cell's pings, and extreme data-set-wide skew."""
    cfg = ctx.config.devices
    devices = ctx.devices
    curve = concentration_curve(devices["pings"].to_numpy(), cfg.curve_device_shares)
    findings: list[Finding] = []
    reference = _reference(ctx)
    if reference is not None and reference[1] > 0:
        flagged = _flagged_cells(ctx, reference[1])
        for _, group in flagged.sort("cell").group_by("main_device", maintain_order=True):
            findings.append(_cell_finding(ctx, group, reference, curve))
    dataset = _dataset_finding(ctx, curve, devices.height)
    if dataset is not None:
        findings.append(dataset)
    findings.sort(key=lambda f: -f.score)
    return findings[: ctx.config.severity.max_findings_per_kind]


DETECTORS = [detect_device_concentration]
