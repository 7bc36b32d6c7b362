"""Venue-snapped data: most pings sit on coordinates many devices share exactly."""

from __future__ import annotations

import polars as pl

from explorer.detectors.context import Context
from explorer.detectors.needs import DEVICE_IDS, check
from explorer.findings import Finding
from explorer.text import count, pct


def shared_coordinates(ctx: Context) -> pl.DataFrame:
    """Exact coordinates with their pings and distinct devices, most devices first."""
    coords = ctx.summary.tables["coords"]
    return (
        coords.group_by("lat", "lon")
        .agg(pings=pl.col("pings").sum(), devices=pl.col("device").drop_nulls().n_unique())
        .sort(["devices", "pings", "lat", "lon"], descending=[True, True, False, False])
    )


@check("venue_snapped", DEVICE_IDS)
def detect_venue_snapped(ctx: Context) -> list[Finding]:
    """Flag data whose coordinates are venue positions (check-ins), not device fixes."""
    cfg = ctx.config.snapping
    total = ctx.total_pings
    if total == 0:
        return []
    per = shared_coordinates(ctx)
    shared = per.filter(pl.col("devices") >= cfg.shared_devices)
    share = float(shared["pings"].sum() or 0) / total
    if share < cfg.low_share:
        return []
    severity = "medium" if share >= cfg.medium_share else "low"
    top = shared.head(cfg.top_coordinates)
    story = (
        f"{pct(share)} of all pings sit on {count(shared.height)} exact coordinates that "
        f"{cfg.shared_devices} or more devices report identically — positions of venues "
        "(check-ins snapped to places), not where each phone was. Density then measures how "
        "popular a venue is, and distances below a venue's size are meaningless. "
        "Treat the data as visits to places, and check the vendor's snapping rules "
        "before modelling movement from it."
    )
    evidence = {
        "share": share,
        "pings_on_shared": int(shared["pings"].sum() or 0),
        "shared_coordinates": shared.height,
        "min_devices": cfg.shared_devices,
        "median_devices": float(shared["devices"].median() or 0),
        "top": [
            {
                "lat": float(r["lat"]),
                "lon": float(r["lon"]),
                "devices": int(r["devices"]),
                "pings": int(r["pings"]),
            }
            for r in top.iter_rows(named=True)
        ],
    }
    return [
        Finding(
            kind="venue_snapped",
            severity=severity,
            score=round(share * 10, 3),
            title=f"{pct(share)} of pings sit on {count(shared.height)} shared venue coordinates",
            story=story,
            evidence=evidence,
        )
    ]


DETECTORS = [detect_venue_snapped]
