"""Detectors of the mix family: places whose device-type mix departs from their region.

People, not pings: every count here is devices, each device once per cell with its
main type. A cell is compared with its region (a coarser H3 parent, leaving the cell
itself out), so a mix that varies smoothly across a city is the expectation, not a
finding. Cell shares are shrunk towards the regional share by empirical Bayes
(beta-binomial), tested with a two-sided binomial tail, and controlled for the false
discovery rate across cells; neighbouring flagged cells become one area finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.binning.cells import (
    cells_to_str,
    connected_components,
)
from explorer.detectors.context import Context
from explorer.detectors.mix.place_types import PlaceTypes, overall_ping_mix
from explorer.detectors.mix.units import (
    discoveries,
    overall_mix,
    region_resolution,
    score_units,
    two_sided_binomial_p,
    unit_map,
    unit_type_table,
)
from explorer.detectors.needs import DEVICE_IDS, DEVICE_TYPES, check
from explorer.findings import Finding, rank
from explorer.stats import wilson_interval
from explorer.text import count, pct, plural

KIND = "device_type_skew"


@dataclass(frozen=True)
class _Near:
    """(cell, device, code, unit, parent) rows in the regions of candidate units (``code``
    is the device's type: ``names[code]``), split by region: an area's counts read only
    its own regions, not every candidate's."""

    by_parent: dict[int, pl.DataFrame]
    parent_of: dict[int, int]
    empty: pl.DataFrame
    names: list[str]

    @classmethod
    def of(cls, near: pl.DataFrame, parent_of: dict[int, int], names: list[str]) -> _Near:
        parts = near.partition_by("parent", as_dict=True)
        by_parent = {key[0]: part for key, part in parts.items()}
        return cls(by_parent, parent_of, near.head(0), names)

    def by_type(self, rows: pl.DataFrame) -> dict[str, int]:
        """Rows of ``rows`` per device type."""
        counts = rows.group_by("code").agg(n=pl.len())
        return {self.names[c]: int(n) for c, n in counts.iter_rows() if c is not None}

    def around(self, component: list[int]) -> pl.DataFrame:
        """Rows in the regions of the units of ``component``."""
        parents = sorted({self.parent_of[u] for u in component if u in self.parent_of})
        return pl.concat([self.by_parent[p] for p in parents]) if parents else self.empty


def _near_devices(
    ctx: Context, units: pl.DataFrame, table: pl.DataFrame, candidates: pl.Series
) -> _Near:
    """(cell, device, type code, unit, parent) in the regions of candidate units."""
    coded, names = ctx.type_codes
    parent_of = table.select("unit", "parent").unique()
    parents = parent_of.filter(pl.col("unit").is_in(candidates.implode()))["parent"]
    in_region = parent_of.filter(pl.col("parent").is_in(parents.implode()))
    region = in_region.join(units, on="unit")
    return _Near.of(coded.join(region, on="cell"), dict(in_region.iter_rows()), names)


def _area_counts(
    ctx: Context, near: _Near, component: list[int], mix: dict[str, float]
) -> tuple[dict[str, float], int, dict[str, float]]:
    """(area mix, distinct devices, reference mix) of a group of units.

    The reference is the rest of the area's regions, leaving out every device seen in
    the area: devices of a skewed place roam its surroundings, and counting them there
    would hide the skew behind a reference it has itself shifted.
    """
    around = near.around(component)
    inside = around.filter(pl.col("unit").is_in(component))
    present = inside.unique("device")
    devices = present.height
    area_mix = {t: n / devices for t, n in sorted(near.by_type(present).items())}
    parents = inside["parent"].unique().implode()
    outside = around.filter(
        pl.col("parent").is_in(parents)
        & ~pl.col("unit").is_in(component)
        & ~pl.col("device").is_in(present["device"].implode())
    )
    counts = near.by_type(outside)
    m = ctx.config.mix.region_prior_devices
    reference = {
        t: (counts.get(t, 0) + m * share) / (outside.height + m) for t, share in mix.items()
    }
    return area_mix, devices, reference


def _pooled_units(
    ctx: Context,
    screened: pl.DataFrame,
    m_tests: int,
    n_types: int,
    area_of: Callable[[list[int]], tuple[dict[str, float], float, dict[str, float]]],
) -> list[int]:
    """Units of groups of suggestive neighbouring units that are significant pooled.

    An area split over several units may be too weak in each; neighbours leaning the
    same way are pooled (``area_of``: their mix, devices or effective devices, and the
    region's mix without them) and retested, with a Bonferroni bound over all units
    tested, so pooling cannot add false alarms faster than single units do.
    """
    cfg = ctx.config.mix
    bound = ctx.config.severity.fdr / max(m_tests, 1)
    out: list[int] = []
    for focal, group in screened.group_by("focal_type"):
        for component in connected_components(group["unit"].to_list(), k=1):
            area, n, reference = area_of(component)
            ref = reference[focal[0]]
            k = round(area.get(focal[0], 0.0) * n)
            p = float(two_sided_binomial_p(k, round(n), ref)) * n_types
            # Pooled areas already clear a Bonferroni bound and min_area_devices-sized
            # counts, so their raw difference is judged (shrinking it again would count
            # the uncertainty twice).
            if p <= bound and k / max(round(n), 1) - ref >= cfg.min_share_difference:
                out.extend(component)
    return out


def _severity(ctx: Context, difference: float, low_ci: float, devices: float) -> str:
    """High/medium need a big, sure difference behind enough devices; else low."""
    cfg = ctx.config.mix
    big = abs(difference) >= cfg.min_share_difference and low_ci > 0
    if big and abs(difference) >= cfg.high_share_difference and devices >= cfg.high_min_devices:
        return "high"
    if big and devices >= cfg.min_area_devices:
        return "medium"
    return "low"


@dataclass(frozen=True)
class _Mixes:
    """An area's device mix by main type and by the type its devices' pings there report,
    its ping mix, the references of each and the devices and pings behind them."""

    devices: dict[str, float]
    local: dict[str, float]
    reference: dict[str, float]
    overall: dict[str, float]
    pings: dict[str, float]
    ping_reference: dict[str, float]
    n_devices: int
    n_pings: int

    def of(self, measure: str) -> dict[str, float]:
        """The area's device mix by ``main_type`` or by ``ping_type``."""
        return self.devices if measure == "main_type" else self.local


def _story(measure: str, where: str, focal: str, m: _Mixes, numbers: str) -> tuple[str, str]:
    """Title and story of an area finding told in its ``measure``."""
    share, ref, overall = m.of(measure).get(focal, 0.0), m.reference[focal], m.overall[focal]
    devices = plural(m.n_devices, "device")
    if measure == "main_type":
        title = (
            f"{pct(share)} of devices in {where} are {focal}, against {pct(ref)} around it "
            f"({devices})"
        )
        story = (
            f"Of the {devices} seen in {where}, {pct(share)} are {focal}, "
            f"against {pct(ref)} in the surrounding few kilometres and {pct(overall)} in the "
            f"whole data set ({numbers}). Device type often stands in for income "
            "or demographics, so counts and estimates here lean towards one group of users. "
            "Weight by device type, or check whether one app or SDK supplies this area."
        )
        return title, story
    main = pct(m.devices.get(focal, 0.0))
    title = (
        f"{pct(share)} of devices in {where} report {focal} there, against {pct(ref)} around "
        f"it, though {main} of them are {focal} elsewhere"
    )
    story = (
        f"Counted with the type their pings in {where} report, {pct(share)} of its {devices} "
        f"are {focal} ({pct(m.pings.get(focal, 0.0))} of its {count(m.n_pings)} pings), against "
        f"{pct(ref)} in the surrounding few kilometres ({numbers}); by the type most of their "
        f"pings report, {main} of them are {focal}. The type field changes with place, as when "
        "a second SDK or supplier covers this area: check which source supplies these pings "
        "before weighting or modelling by device type."
    )
    return title, story


def _area_finding(
    ctx: Context, measure: str, cells: list[int], m: _Mixes, p_value: float
) -> Finding:
    """One finding for a group of neighbouring flagged units (told by their data cells)."""
    area, reference, n = m.of(measure), m.reference, m.n_devices
    # Tell the story of the over-represented type (with two types, the other is the mirror).
    focal = max(reference, key=lambda t: area.get(t, 0.0) - reference[t])
    share, ref = area.get(focal, 0.0), reference[focal]
    low, high = wilson_interval(share * n, n)
    ci = [float(low) - ref, float(high) - ref]
    difference = share - ref
    # The interval's end nearest zero: positive when the whole interval is on one side.
    sure = ci[0] if difference > 0 else -ci[1]
    severity = _severity(ctx, difference, sure, n)
    where = "one cell" if len(cells) == 1 else f"an area of {len(cells)} neighbouring cells"
    numbers = (
        f"{difference * 100:+.0f} points, 95 % interval {ci[0] * 100:+.0f} to {ci[1] * 100:+.0f}"
    )
    title, story = _story(measure, where, focal, m, numbers)
    evidence = {
        "measure": measure,
        "device_type": focal,
        "area_mix": area,
        "regional_mix": reference,
        "overall_mix": m.overall,
        "area_main_type_mix": m.devices,
        "area_ping_type_mix": m.local,
        "area_ping_mix": m.pings,
        "regional_ping_mix": m.ping_reference,
        "devices": n,
        "pings": m.n_pings,
        "area_share": share,
        "reference_share": ref,
        "share_difference": difference,
        "difference_ci": ci,
        "p_value": p_value,
    }
    score = abs(difference) * float(np.sqrt(n))
    return Finding(KIND, severity, score, title, story, tuple(cells_to_str(cells)), evidence)


@check(KIND, DEVICE_IDS, DEVICE_TYPES)
def detect_device_type_skew(ctx: Context) -> list[Finding]:
    """Areas whose device-type mix departs from their region's, each device counted by its
    main type and, where types change, by the type its pings in the area report."""
    cfg = ctx.config.mix
    mix = overall_mix(ctx)
    tested = [t for t, share in mix.items() if share >= cfg.min_type_share]
    if len(mix) < 2 or not tested:
        return []
    units = unit_map(ctx)
    table = unit_type_table(ctx, units, tested, mix)
    coded, names = ctx.type_codes
    parent_res = region_resolution(min(ctx.resolution, cfg.unit_resolution), cfg.region_edge_km)
    places = PlaceTypes.of(ctx, units, coded, names, parent_res)
    tables = {"main_type": table}
    if places.any_changing:
        tables["ping_type"] = places.local_table(table, names, cfg.region_prior_devices)
    scored = discoveries(
        {m: score_units(t, ctx, len(tested)) for m, t in tables.items()}, ctx.config.severity.fdr
    )
    screened = {
        m: s.filter(
            ((pl.col("p_value") <= cfg.screen_p_value) | pl.col("discovery"))
            & (pl.col("difference") > 0)
        )
        for m, s in scored.items()
    }
    candidates = pl.concat([s["unit"] for s in screened.values()]).unique()
    near = _near_devices(ctx, units, table, candidates)
    ping_mix = overall_ping_mix(ctx)

    def mixes(component: list[int]) -> _Mixes:
        devices, n_devices, reference = _area_counts(ctx, near, component, mix)
        inside = near.around(component).filter(pl.col("unit").is_in(component))
        local, pings, n_pings = places.area(component, inside, names)
        ping_reference = places.regional_ping_mix(component) or ping_mix
        return _Mixes(devices, local, reference, mix, pings, ping_reference, n_devices, n_pings)

    area_of = {
        "main_type": lambda c: _area_counts(ctx, near, c, mix),
        "ping_type": lambda c: (lambda a: (a.local, a.n_devices, a.reference))(mixes(c)),
    }
    m_tests = sum(s.height for s in scored.values())
    flagged = {
        m: screened[m].filter(
            (pl.col("discovery") & (pl.col("difference") >= cfg.min_share_difference))
            | pl.col("unit").is_in(
                _pooled_units(ctx, screened[m], m_tests, len(tested), area_of[m])
            )
        )
        for m in scored
    }
    return _findings(ctx, near, flagged, mixes)


def _findings(
    ctx: Context,
    near: _Near,
    flagged: dict[str, pl.DataFrame],
    mixes: Callable[[list[int]], _Mixes],
) -> list[Finding]:
    """One finding per group of neighbouring units flagged in either measure, told in the
    measure that flagged it (the more severe, then the larger score, when both did)."""
    p_by = {m: dict(zip(f["unit"].to_list(), f["p_value"].to_list())) for m, f in flagged.items()}
    units = sorted(set().union(*p_by.values()))
    findings = []
    for component in connected_components(units, k=1):
        inside = near.around(component).filter(pl.col("unit").is_in(component))
        cells = sorted(inside["cell"].unique().to_list())
        area = mixes(component)
        told = [
            _area_finding(ctx, measure, cells, area, min(p[u] for u in component if u in p))
            for measure, p in p_by.items()
            if any(u in p for u in component)
        ]
        findings.append(rank(told)[0])
    findings.sort(key=lambda f: -f.score)
    return findings[: ctx.config.severity.max_findings_per_kind]
