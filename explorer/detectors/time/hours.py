"""``hour_profile``: areas whose device-hour profile departs from the rest of the data.

People are counted, not pings: an area's profile is its *device-hours* (each device
once per local hour it was seen in the area), so one phone sleeping in a quiet cell
weighs one device, however many pings it sends. Commuting is normal: only activity in
the hours when the rest of the data is quiet (the small hours) makes a finding medium
or high; a business district busy 9–17 stays low at most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.binning.cells import cells_to_parent, cells_to_str, connected_components
from explorer.config.time import TimeConfig
from explorer.detectors.context import Context
from explorer.detectors.needs import DEVICE_IDS, WHOLE_DAY, check
from explorer.findings import Finding
from explorer.stats import benjamini_hochberg, chi2_sf
from explorer.text import count, hour_span, pct, plural

HOURS = 24


@dataclass(frozen=True)
class Units:
    """Areas compared (cells, or their parents at the area resolution), as arrays."""

    unit: np.ndarray  # uint64 H3 ids, one per area
    hour_devices: np.ndarray  # (n, 24) devices seen at each local hour
    devices: np.ndarray  # (n,) distinct devices
    hour_pings: np.ndarray  # (n, 24) pings at each local hour
    cell_unit: pl.DataFrame  # cell -> unit, for every cell of the summary


def area_units(ctx: Context) -> Units:
    """Per-area hour matrices at ``min(summary resolution, area_resolution)``.

    Finer cells are pooled into their parent by summing (a device seen in two child
    cells in one hour counts twice here); this only screens areas, and each flagged area
    is recounted exactly, device by device, before it is judged.
    """
    cells = ctx.cells
    area_res = ctx.config.time.area_resolution
    parent = (
        cells["cell"] if ctx.resolution <= area_res else cells_to_parent(cells["cell"], area_res)
    )
    unit, inverse = np.unique(parent.to_numpy().astype(np.uint64), return_inverse=True)

    def pool(values: np.ndarray) -> np.ndarray:
        out = np.zeros((unit.size, values.shape[1]))
        np.add.at(out, inverse, values)
        return out

    return Units(
        unit=unit,
        hour_devices=pool(_matrix(cells["hour_devices"])),
        devices=pool(cells["devices"].to_numpy().astype(float)[:, None])[:, 0],
        hour_pings=pool(_matrix(cells["hour_pings"])),
        cell_unit=pl.DataFrame({"cell": cells["cell"], "unit": pl.Series(unit[inverse])}),
    )


def exact_device_hours(ctx: Context, groups: pl.DataFrame) -> dict[int, tuple[np.ndarray, int]]:
    """Device-hours (24) and distinct devices of groups of cells, each device once per hour.

    ``groups`` maps cell -> group (an integer); one pass over the cell-device table.
    """
    per_device = (
        ctx.summary.tables["cell_devices"]
        .join(groups, on="cell")
        .group_by("group", "device")
        .agg(pl.col("hour_mask").bitwise_or())
    )
    counted = _hour_bits(per_device.lazy(), "group").collect()
    return {
        int(g): (np.asarray(h, dtype=float), int(n))
        for g, n, h in counted.select("group", "devices", "hour_devices").iter_rows()
    }


def _hour_bits(frame: pl.LazyFrame, key: str) -> pl.LazyFrame:
    """(key, hour_mask) rows -> key, devices, hour_devices[24] (devices seen each hour)."""
    bits = [
        ((pl.col("hour_mask") & (1 << h)) > 0).cast(pl.Int64).sum().alias(f"h{h}")
        for h in range(HOURS)
    ]
    out = frame.group_by(key).agg(pl.len().cast(pl.Int64).alias("devices"), *bits)
    return out.select(
        key, "devices", pl.concat_list([f"h{h}" for h in range(HOURS)]).alias("hour_devices")
    )


def _matrix(column: pl.Series) -> np.ndarray:
    """List column of 24 counts (nulls for none) -> (n, 24) float array."""
    filled = column.fill_null(pl.lit([0] * HOURS, dtype=pl.List(pl.Int64)))
    return np.asarray(filled.list.to_array(HOURS).to_numpy(), dtype=float).reshape(-1, HOURS)


def quiet_hours(total: np.ndarray, ratio: float) -> np.ndarray:
    """Boolean mask of the hours whose share of ``total`` is below ``ratio`` / 24."""
    share = total / max(float(total.sum()), 1.0)
    return share < ratio / HOURS


def profile_stats(
    hd: np.ndarray, devices: np.ndarray, total: np.ndarray, prior: float, quiet: np.ndarray
) -> dict[str, np.ndarray]:
    """Test and effect sizes of each row of device-hours against the rest of the data.

    Counts are rescaled to the number of devices (a device seen at six hours weighs one,
    not six) before a chi-square homogeneity test; the profile is shrunk towards the
    rest with ``prior`` pseudo-devices (a Dirichlet prior) before distances are taken.
    """
    hd = np.atleast_2d(hd)
    rest = np.clip(total[None, :] - hd, 0, None)
    rest_share = rest / np.clip(rest.sum(axis=1, keepdims=True), 1e-12, None)
    n = hd.sum(axis=1)
    effective = hd * (devices / np.clip(n, 1e-12, None))[:, None]
    expected = rest_share * devices[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (effective - expected) ** 2 / expected, 0.0)
    dof = np.clip((rest_share > 0).sum(axis=1) - 1, 1, None)
    p_value = chi2_sf(terms.sum(axis=1), dof)
    shrunk = (effective + prior * rest_share) / (devices + prior)[:, None]
    tv = 0.5 * np.abs(shrunk - rest_share).sum(axis=1)
    return {
        "p": p_value,
        "tv": tv,
        "area_share": shrunk,
        "rest_share": rest_share,
        "night": shrunk[:, quiet].sum(axis=1),
        "rest_night": rest_share[:, quiet].sum(axis=1),
    }


@check("hour_profile", DEVICE_IDS, WHOLE_DAY)
def detect_hour_profile(ctx: Context) -> list[Finding]:
    """Areas of many devices active when the rest of the data is quiet (or otherwise odd)."""
    cfg, sev = ctx.config.time, ctx.config.severity
    units = area_units(ctx)
    if units.unit.size == 0:
        return []
    total = units.hour_devices.sum(axis=0)
    quiet = quiet_hours(total, cfg.quiet_hour_ratio)
    stats = profile_stats(units.hour_devices, units.devices, total, cfg.prior_devices, quiet)
    tested = units.devices >= sev.min_devices
    significant = np.zeros(units.unit.size, dtype=bool)
    significant[tested] = benjamini_hochberg(stats["p"][tested], sev.fdr)
    flagged = significant & (stats["tv"] >= cfg.hour_min_tv)
    components = connected_components(units.unit[flagged].tolist(), k=1)
    groups = pl.DataFrame(
        {
            "unit": pl.Series([u for c in components for u in c], dtype=pl.UInt64),
            "group": pl.Series([i for i, c in enumerate(components) for _ in c], dtype=pl.Int64),
        }
    )
    cell_groups = units.cell_unit.join(groups, on="unit").select("cell", "group")
    exact = exact_device_hours(ctx, cell_groups)
    findings = [
        _component_finding(ctx, units, comp, exact.get(i), total, quiet)
        for i, comp in enumerate(components)
    ]
    kept = sorted((f for f in findings if f is not None), key=lambda f: -f.score)
    return kept[: sev.max_findings_per_kind]


def _component_finding(
    ctx: Context,
    units: Units,
    comp: list[int],
    exact: tuple[np.ndarray, int] | None,
    total: np.ndarray,
    quiet: np.ndarray,
) -> Finding | None:
    """One finding for neighbouring flagged areas, judged on their exact pooled profile."""
    cfg, sev = ctx.config.time, ctx.config.severity
    if exact is None or exact[1] < sev.min_devices:
        return None
    hd, devices = exact
    rows = np.isin(units.unit, np.asarray(comp, dtype=np.uint64))
    cells = units.cell_unit.filter(pl.col("unit").is_in(comp))["cell"]
    stats = profile_stats(hd, np.array([float(devices)]), total, cfg.prior_devices, quiet)
    tv, night, rest_night = (float(stats[k][0]) for k in ("tv", "night", "rest_night"))
    # The exact recount (each device once per hour) must still differ, and clearly.
    if tv < cfg.hour_min_tv or stats["p"][0] > sev.fdr:
        return None
    pings = units.hour_pings[rows].sum(axis=0)
    ping_night, rest_ping_night = _ping_night(pings, units.hour_pings.sum(axis=0), quiet)
    # Both people and pings must lean to the night: saturated home phones raise only the
    # first, one busy phone only the second.
    excess = min(night - rest_night, ping_night - rest_ping_night)
    evidence = {
        "area_hours": [float(x) for x in stats["area_share"][0]],
        "rest_hours": [float(x) for x in stats["rest_share"][0]],
        "area_ping_hours": [int(x) for x in pings],
        "tv": tv,
        "night_share": night,
        "rest_night_share": rest_night,
        "ping_night_share": ping_night,
        "rest_ping_night_share": rest_ping_night,
        "quiet_hours": [int(h) for h in np.flatnonzero(quiet)],
        "devices": devices,
        "pings": int(pings.sum()),
        "p_value": float(stats["p"][0]),
        "areas": len(comp),
    }
    severity = _severity(cfg, excess, devices)
    title, story = _words(evidence, severity)
    score = tv * float(np.log2(1 + devices)) * (1 + max(excess, 0.0))
    return Finding(
        "hour_profile",
        severity,
        round(score, 4),
        title,
        story,
        tuple(cells_to_str(cells.sort().to_list())),
        evidence,
    )


def _ping_night(
    pings: np.ndarray, ping_total: np.ndarray, quiet: np.ndarray
) -> tuple[float, float]:
    """Share of the area's pings, and of the rest's, in the quiet hours."""
    rest = ping_total - pings
    area_share = float(pings[quiet].sum() / max(pings.sum(), 1))
    return area_share, float(rest[quiet].sum() / max(rest.sum(), 1))


def _severity(cfg: TimeConfig, excess: float, devices: int) -> str:
    """High/medium only for activity in the quiet hours; other departures are low."""
    if excess >= cfg.hour_high_night and devices >= cfg.hour_high_devices:
        return "high"
    return "medium" if excess >= cfg.hour_medium_night else "low"


def _span(hours: list[int]) -> str:
    """'01:00–05:00' for a contiguous run (wrapping midnight), else a list of hours."""
    if not hours:
        return "none"
    start = next((h for h in hours if (h - 1) % HOURS not in hours), hours[0])
    run = len(hours)
    if all((start + i) % HOURS in hours for i in range(run)):
        return hour_span(start, (start + run) % HOURS)
    return ", ".join(f"{h:02d}:00" for h in hours)


def _words(ev: dict, severity: str) -> tuple[str, str]:
    """Title and story of an hour_profile finding."""
    span = _span(ev["quiet_hours"])
    who = f"{plural(ev['devices'], 'device')} and {plural(ev['pings'], 'ping')}"
    if severity != "low":
        title = (
            f"{pct(ev['night_share'])} of this area's activity falls in the quiet hours "
            f"{span}, against {pct(ev['rest_night_share'])} elsewhere"
        )
        story = (
            f"In this area ({who}), {pct(ev['night_share'])} of device-hours "
            f"({pct(ev['ping_night_share'])} of pings) fall between "
            f"{span} local time, when the rest of the data is quiet "
            f"({pct(ev['rest_night_share'])}). Anyone modelling presence or footfall by hour "
            "would count these as people out at night. Check for a venue open all night, "
            "a batch upload re-timed to the small hours, or one source whose clock is wrong here."
        )
        return title, story
    peak = int(np.argmax(ev["area_hours"]))
    title = (
        f"Hour profile differs from the rest by {pct(ev['tv'])} "
        f"(busiest hour {peak:02d}:00), {plural(ev['devices'], 'device')}"
    )
    story = (
        f"This area's devices are active at different hours than the rest of the data: "
        f"{pct(ev['tv'])} of its device-hours would have to move to match (total-variation "
        f"distance), with {count(ev['devices'])} devices behind it. Daytime or evening "
        f"patterns are usually commuting (offices, homes) and need no action; check it only "
        f"if your model assumes the same daily rhythm everywhere."
    )
    return title, story
