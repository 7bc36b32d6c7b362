"""The ``area_mix_changed`` check: an area whose devices' type mix or hour profile moved
beyond the panel's own move.

Devices are the unit: each device is one row in its main area (as for shares), with its
main type (one-hot) or the local hours it was seen there (each device weighs one).
Whether the area changed at all is a permutation test of the rows' before/after labels
(the tail from a gamma law matched to the permutations, so that p-values far below
1/permutations stay honest under false-discovery control); how much beyond the panel
it changed is the total variation between the area's change and the panel's, with a
basic bootstrap interval over the devices of each side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special

from explorer.binning.cells import (
    cell_area_km2,
    cells_to_parent,
    cells_to_str,
    connected_components,
)
from explorer.compare.changes import Change, ChangeKind
from explorer.config.compare import CompareConfig
from explorer.stats import benjamini_hochberg
from explorer.summary import Summary
from explorer.summary.views import device_types
from explorer.text import count, hour_span, pct, plural

HOURS = 24
OTHER = "other"
ASPECTS = ("device_type", "hours")


def residents(summary: Summary, resolution: int) -> pl.DataFrame:
    """(area, device, hour_mask): each device in its main area at ``resolution`` (the
    area holding most of its pings, as for shares), with the local hours seen there."""
    cells = summary.tables["cell_devices"]
    if cells.is_empty():
        return pl.DataFrame(schema={"area": pl.UInt64, "device": pl.UInt64, "hour_mask": pl.Int64})
    frame = cells.select("device", "pings", "hour_mask", area=pl.col("cell").cast(pl.UInt64))
    if resolution < summary.resolution:
        frame = frame.with_columns(area=cells_to_parent(frame["area"], resolution).cast(pl.UInt64))
    per_area = frame.group_by("area", "device").agg(
        pl.col("pings").sum(), pl.col("hour_mask").bitwise_or()
    )
    return (
        per_area.sort(["device", "pings", "area"], descending=[False, True, False])
        .group_by("device", maintain_order=True)
        .agg(pl.col("area").first(), pl.col("hour_mask").first())
        .select("area", "device", "hour_mask")
    )


def _type_names(before: Summary, after: Summary, config: CompareConfig) -> list[str]:
    """Types holding ``mix_min_type_share`` of the devices of both sides together."""
    types = pl.concat([device_types(s).select("device_type") for s in (before, after)])
    shares = (
        types.group_by("device_type")
        .agg(n=pl.len())
        .with_columns(share=pl.col("n") / max(types.height, 1))
    )
    kept = shares.filter(pl.col("share") >= config.mix_min_type_share)["device_type"]
    return sorted(str(t) for t in kept.to_list())


def _features(
    rows: pl.DataFrame, summary: Summary, aspect: str, names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(area of each row, feature matrix): one-hot main type, or hours over their count."""
    if aspect == "hours":
        masks = rows["hour_mask"].to_numpy().astype(np.int64)
        bits = ((masks[:, None] >> np.arange(HOURS)) & 1).astype(float)
        features = bits / np.clip(bits.sum(axis=1, keepdims=True), 1, None)
        return rows["area"].to_numpy(), features
    types = device_types(summary).select("device", "device_type")
    typed = rows.join(types, on="device", how="left")
    labels = typed["device_type"].fill_null(OTHER).to_list()
    columns = names + [OTHER]
    index = {name: i for i, name in enumerate(columns)}
    codes = np.array([index.get(str(t), len(names)) for t in labels], dtype=np.int64)
    return typed["area"].to_numpy(), np.eye(len(columns))[codes]


@dataclass(frozen=True)
class AreaTest:
    """One area's comparison of one aspect."""

    area: int
    before_devices: int
    after_devices: int
    before_mean: np.ndarray
    after_mean: np.ndarray
    distance: float
    p_value: float
    excess: float
    excess_low: float
    excess_high: float


def _tv(delta: np.ndarray) -> np.ndarray:
    return 0.5 * np.abs(delta).sum(axis=-1)


def _gamma_tail(observed: float, null: np.ndarray) -> float:
    """P(null >= observed) from a gamma law with the permutations' mean and variance."""
    mean, var = float(null.mean()), float(null.var())
    if var <= 0 or mean <= 0:
        return 1.0 if observed <= mean else 0.0
    shape, scale = mean**2 / var, var / mean
    return float(special.gammaincc(shape, observed / scale))


def _test_area(
    area: int, before: np.ndarray, after: np.ndarray, panel_delta: np.ndarray, n: int, rng
) -> AreaTest:
    m_b, m_a = before.mean(axis=0), after.mean(axis=0)
    pooled = np.vstack([before, after])
    labels = np.zeros(len(pooled), dtype=bool)
    labels[len(before) :] = True
    perm = rng.permuted(np.tile(labels, (n, 1)), axis=1).astype(float)
    null = _tv(perm @ pooled / len(after) - (1 - perm) @ pooled / len(before))
    observed = float(_tv(m_a - m_b))
    draws_b = rng.multinomial(len(before), np.full(len(before), 1 / len(before)), size=n)
    draws_a = rng.multinomial(len(after), np.full(len(after), 1 / len(after)), size=n)
    boot = _tv(draws_a @ after / len(after) - draws_b @ before / len(before) - panel_delta)
    excess = float(_tv(m_a - m_b - panel_delta))
    low = max(0.0, 2 * excess - float(np.quantile(boot, 0.975)))
    high = min(1.0, max(0.0, 2 * excess - float(np.quantile(boot, 0.025))))
    return AreaTest(
        area, len(before), len(after), m_b, m_a, observed, _gamma_tail(observed, null),
        excess, low, high,
    )  # fmt: skip


def area_tests(
    before: Summary, after: Summary, resolution: int, aspect: str, config: CompareConfig
) -> tuple[list[AreaTest], np.ndarray, np.ndarray, list[str]]:
    """Every area's test of one aspect, the panel's before and after means, and the
    feature names."""
    names = _type_names(before, after, config) if aspect == "device_type" else []
    sides = []
    for summary in (before, after):
        sides.append(_features(residents(summary, resolution), summary, aspect, names))
    (areas_b, f_b), (areas_a, f_a) = sides
    width = HOURS if aspect == "hours" else len(names) + 1
    panel = [f.mean(axis=0) if len(f) else np.zeros(width) for f in (f_b, f_a)]
    order_b, order_a = np.argsort(areas_b, kind="stable"), np.argsort(areas_a, kind="stable")
    areas_b, f_b, areas_a, f_a = areas_b[order_b], f_b[order_b], areas_a[order_a], f_a[order_a]
    common = np.intersect1d(areas_b, areas_a)
    rng = np.random.default_rng(config.seed)
    tests = []
    for area in common:
        rows_b = f_b[np.searchsorted(areas_b, area) : np.searchsorted(areas_b, area, "right")]
        rows_a = f_a[np.searchsorted(areas_a, area) : np.searchsorted(areas_a, area, "right")]
        if min(len(rows_b), len(rows_a)) < config.mix_min_devices:
            continue
        tests.append(
            _test_area(int(area), rows_b, rows_a, panel[1] - panel[0], config.permutations, rng)
        )
    labels = names + [OTHER] if aspect == "device_type" else [f"{h:02d}" for h in range(HOURS)]
    return tests, panel[0], panel[1], labels


def detect_area_mixes(
    before: Summary, after: Summary, resolution: int, config: CompareConfig, aspects=ASPECTS
) -> list[Change]:
    """``area_mix_changed`` changes of each aspect, neighbouring areas grouped."""
    changes = []
    for aspect in aspects:
        tests, panel_b, panel_a, labels = area_tests(before, after, resolution, aspect, config)
        if not tests:
            continue
        found = benjamini_hochberg(np.array([t.p_value for t in tests]), config.fdr)
        flagged = {
            t.area: t for t, hit in zip(tests, found) if hit and t.excess >= config.low_mix_distance
        }
        panel_distance = float(_tv(panel_a - panel_b))
        for members in connected_components(flagged):
            group = [flagged[m] for m in members]
            strongest = max(group, key=lambda t: (t.excess_low, t.excess))
            changes.append(
                _mix_change(aspect, members, strongest, resolution, panel_distance, labels, config)
            )
    return changes


def _severity(test: AreaTest, config: CompareConfig) -> str:
    if test.excess_low >= config.high_mix_distance:
        return "high"
    if test.excess_low >= config.medium_mix_distance:
        return "medium"
    return "low"


def _mix_change(aspect, members, test, resolution, panel_distance, labels, config) -> Change:
    cells = tuple(cells_to_str(sorted(members)))
    before = {k: float(v) for k, v in zip(labels, test.before_mean)}
    after = {k: float(v) for k, v in zip(labels, test.after_mean)}
    evidence = {
        "aspect": aspect,
        "area_resolution": resolution,
        "areas": len(cells),
        "before_devices": test.before_devices,
        "after_devices": test.after_devices,
        "distance": test.distance,
        "panel_distance": panel_distance,
        "excess_distance": test.excess,
        "excess_distance_low": test.excess_low,
        "excess_distance_high": test.excess_high,
        "p_value": test.p_value,
    }
    if aspect == "device_type":
        evidence |= {"before_mix": before, "after_mix": after}
    else:
        evidence |= {"before_hours": list(before.values()), "after_hours": list(after.values())}
    what = "device-type mix" if aspect == "device_type" else "hour profile"
    return Change(
        kind=ChangeKind.AREA_MIX_CHANGED,
        subject=aspect,
        severity=_severity(test, config),
        score=round(100 * test.excess, 4),
        title=f"An area's {what} of devices moved by {pct(test.distance)} "
        f"(the panel's by {pct(panel_distance)})",
        story=_story(aspect, what, cells, resolution, test, panel_distance, before, after),
        cells=cells,
        evidence=evidence,
    )


def _biggest_move(aspect: str, before: dict, after: dict) -> str:
    """The category (a type, or a three-hour window) whose share moved most, in words."""
    keys = list(before)
    delta = np.array([after[k] - before[k] for k in keys])
    if aspect == "device_type":
        i = int(np.argmax(np.abs(delta)))
        return f"{keys[i]} went from {pct(before[keys[i]])} to {pct(after[keys[i]])} of them"
    window = np.array([delta[(np.arange(3) + h) % HOURS].sum() for h in range(HOURS)])
    h = int(np.argmax(np.abs(window)))
    moved = "gained" if window[h] > 0 else "lost"
    return f"the hours {hour_span(h, (h + 3) % HOURS)} {moved} {pct(abs(window[h]))} of their hours"


def _story(aspect, what, cells, resolution, test, panel_distance, before, after) -> str:
    area_km2 = len(cells) * cell_area_km2(resolution)
    place = f"{plural(len(cells), 'area')} of about {count(area_km2)} km²"
    return (
        f"The {what} of the devices seen in {place} ({count(test.before_devices)} devices "
        f"before, {count(test.after_devices)} after) moved by {pct(test.distance)} of total "
        f"variation, against {pct(panel_distance)} for the whole panel: "
        f"{_biggest_move(aspect, before, after)}. Beyond the panel's own move that is "
        f"{pct(test.excess)} (interval {pct(test.excess_low)} to {pct(test.excess_high)}). "
        "A change of supplier, SDK or app in this area is likely; mixes and hours measured "
        "there do not compare between the deliveries."
    )
