"""Detector of devices whose type changes between pings: two suppliers, SDKs or devices
under one id.

Types are compared by family (a version number dropped, ``windows 10`` and
``windows 11`` are one), so an OS update is no change; reading already folds every
iOS and Android version into ``ios`` and ``android``, and a missing type (``unknown``)
is no type. A device whose two types take turns over the same days is two sources
under one id; one whose first type ends before the other begins switched phones (or
platforms) under one account, which is told but weighs less. Where the other type
sits comes from the summary: per cell, the pings of each type beyond what every
device's main type accounts for (a lower bound, exact when the changes in a cell
run one way).
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from explorer.binning.cells import cell_centres, cells_to_str
from explorer.detectors.context import UNKNOWN_TYPE, Context
from explorer.detectors.needs import DEVICE_IDS, DEVICE_TYPES, check
from explorer.findings import Finding
from explorer.geography.distance import haversine_km
from explorer.stats import wilson_interval
from explorer.text import count, pct, plural

KIND = "device_type_changes"
#: A trailing version: digits with dots, dashes or letters after them ("10", "17.4.1",
#: "v2", "13-beta"), after an optional separator.
_VERSION = re.compile(r"[\s_\-/]*v?\d[\w.\-]*$")
#: Most cells listed in the evidence, and most type pairs.
_TOP = 10


def type_family(name: str) -> str:
    """A device type without its version: ``"iOS 17.4"`` -> ``"ios"``, ``"windows 10"``
    -> ``"windows"`` (missing or blank -> ``unknown``)."""
    family = _VERSION.sub("", str(name).strip().lower()).strip()
    return family or UNKNOWN_TYPE


def _families(names: pl.Series) -> pl.Expr:
    """An expression mapping each ``device_type`` of ``names`` to its family."""
    distinct = names.unique().drop_nulls().to_list()
    return pl.col("device_type").replace_strict(
        {n: type_family(n) for n in distinct}, default=UNKNOWN_TYPE, return_dtype=pl.String
    )


def _per_device(ctx: Context) -> tuple[pl.DataFrame, int]:
    """(device, family, pings, first_seen, last_seen, main) per device and known family,
    ``main`` the device's family with most pings; and devices whose types differ only
    in version."""
    devices = ctx.summary.tables["devices"]
    rows = devices.with_columns(family=_families(devices["device_type"]))
    version_only = (
        rows.filter(pl.col("family") != UNKNOWN_TYPE)
        .group_by("device")
        .agg(types=pl.col("device_type").n_unique(), families=pl.col("family").n_unique())
        .filter((pl.col("types") > 1) & (pl.col("families") == 1))
        .height
    )
    by_family = (
        rows.filter(pl.col("family") != UNKNOWN_TYPE)
        .group_by("device", "family")
        .agg(pl.col("pings").sum(), pl.col("first_seen").min(), pl.col("last_seen").max())
        .sort(["device", "pings", "family"], descending=[False, True, False])
    )
    main = by_family.group_by("device", maintain_order=True).agg(main=pl.col("family").first())
    return by_family.join(main, on="device"), version_only


def _changing(by_family: pl.DataFrame) -> pl.DataFrame:
    """One row per device with two or more families: main and second family, pings of
    its main and other families, and whether its types take turns (their time spans
    overlap) rather than follow one another."""
    multi = by_family.filter(pl.len().over("device") > 1)
    main = multi.filter(pl.col("family") == pl.col("main")).select(
        "device", main_pings="pings", main_first="first_seen", main_last="last_seen"
    )
    others = multi.filter(pl.col("family") != pl.col("main")).join(main, on="device")
    overlap = (pl.col("first_seen") <= pl.col("main_last")) & (
        pl.col("last_seen") >= pl.col("main_first")
    )
    return others.group_by("device").agg(
        pl.col("main").first(),
        second=pl.col("family").first(),
        main_pings=pl.col("main_pings").first(),
        other_pings=pl.col("pings").sum(),
        interleaved=overlap.any(),
    )


def other_type_pings(ctx: Context, by_family: pl.DataFrame, changing: pl.DataFrame) -> pl.DataFrame:
    """(cell, other_pings, pings): per cell where a changing device was seen, the pings
    whose family no device's main family there accounts for (net, so a lower bound),
    less the pings without a device id (whose type is anyone's)."""
    tables = ctx.summary.tables
    visited = tables["cell_devices"].filter(pl.col("device").is_in(changing["device"].implode()))
    cells = visited.select("cell").unique()
    mains = by_family.select("device", "main").unique()
    expected = (
        tables["cell_devices"]
        .join(cells, on="cell")
        .join(mains, on="device")
        .group_by("cell", family="main")
        .agg(expected=pl.col("pings").sum())
    )
    types = tables["cell_types"].join(cells, on="cell")
    observed = (
        types.with_columns(family=_families(types["device_type"]))
        .filter(pl.col("family") != UNKNOWN_TYPE)
        .group_by("cell", "family")
        .agg(observed=pl.col("pings").sum())
    )
    excess = (
        observed.join(expected, on=["cell", "family"], how="left")
        .with_columns(excess=(pl.col("observed") - pl.col("expected").fill_null(0)).clip(0))
        .group_by("cell")
        .agg(pl.col("excess").sum())
    )
    return (
        excess.join(tables["cells"].select("cell", "pings", "no_device_pings"), on="cell")
        .with_columns(other_pings=(pl.col("excess") - pl.col("no_device_pings")).clip(0))
        .filter(pl.col("other_pings") > 0)
        .select("cell", "other_pings", "pings")
        .sort(["other_pings", "cell"], descending=[True, False])
    )


def _area(ctx: Context, cells: pl.DataFrame) -> tuple[list[int], float]:
    """Cells within ``type_change_area_km`` of the cell with most other-type pings, and
    the share of all other-type pings they hold."""
    if cells.is_empty():
        return [], 0.0
    lat, lon = cell_centres(cells["cell"])
    reach = ctx.config.mix.type_change_area_km
    near = haversine_km(lat, lon, float(lat[0]), float(lon[0])) <= reach
    other = cells["other_pings"].to_numpy()
    share = float(other[near].sum() / max(other.sum(), 1))
    return sorted(cells["cell"].filter(pl.Series(near)).to_list()), share


def _severity(ctx: Context, low: float, interleaved: int, concentrated: bool) -> str:
    """High/medium from the share of devices taking turns between types, or many of them
    whose other type sits in one area; else low."""
    cfg = ctx.config.mix
    if low >= cfg.type_change_high_share:
        return "high"
    if low >= cfg.type_change_medium_share or (
        concentrated and interleaved >= cfg.type_change_area_devices
    ):
        return "medium"
    return "low"


def _pairs(changing: pl.DataFrame) -> list[dict]:
    """Type pairs (main first) by devices, most first."""
    counted = changing.group_by("main", "second").agg(devices=pl.len())
    counted = counted.sort(["devices", "main", "second"], descending=[True, False, False])
    return [{"types": [a, b], "devices": int(n)} for a, b, n in counted.head(_TOP).iter_rows()]


def _story(n: int, devices: int, ci: tuple[float, float], ev: dict) -> tuple[str, str]:
    """Title and story of the finding."""
    pair = ev["pairs"][0]["types"]
    title = (
        f"{pct(n / devices)} of devices report more than one device type "
        f"({plural(n, 'device')}, mostly {pair[0]} and {pair[1]})"
    )
    where = (
        f"Their other type's pings sit mostly in one area ({pct(ev['area_share'])} of them "
        f"within {ev['area_km']:g} km of one place): the type field changes with place, as "
        "when a second SDK or supplier covers that area. "
        if ev["area_share"] >= ev["area_share_threshold"]
        else "Their other type's pings are spread over the data, not in one area. "
    )
    story = (
        f"{count(n)} of {count(devices)} devices ({pct(n / devices)}, 95 % interval "
        f"{pct(ci[0])} to {pct(ci[1])}) report two device types under one id, "
        f"{pct(ev['other_type_share'])} of their pings in a type other than their main one; "
        f"{count(ev['interleaved_devices'])} take turns between the types over the same days "
        f"and {count(ev['sequential_devices'])} switch once. {where}"
        "Device counts and device-type mixes count these ids as one device of one type: "
        "check whether two sources share ids, and keep an OS update (already one type "
        "here) apart from a change of platform."
    )
    return title, story


@check(KIND, DEVICE_IDS, DEVICE_TYPES)
def detect_device_type_changes(ctx: Context) -> list[Finding]:
    """Devices that report more than one device type (family, versions aside)."""
    by_family, version_only = _per_device(ctx)
    changing = _changing(by_family)
    devices = by_family["device"].n_unique()
    n = changing.height
    if n == 0 or devices == 0:
        return []
    cfg = ctx.config.mix
    low, high = (float(x) for x in wilson_interval(n, devices))
    interleaved = int(changing["interleaved"].sum())
    low_interleaved = float(wilson_interval(interleaved, devices)[0])
    cells = other_type_pings(ctx, by_family, changing)
    area, area_share = _area(ctx, cells)
    concentrated = bool(area) and area_share >= cfg.type_change_area_share
    other = int(changing["other_pings"].sum())
    evidence = {
        "devices": devices,
        "changing_devices": n,
        "share": n / devices,
        "share_ci": [low, high],
        "interleaved_devices": interleaved,
        "sequential_devices": n - interleaved,
        "version_only_devices": version_only,
        "pairs": _pairs(changing),
        "other_type_pings": other,
        "other_type_share": other / max(other + int(changing["main_pings"].sum()), 1),
        "top_cells": [
            {"cell": cells_to_str([c])[0], "other_type_pings": int(o), "pings": int(p)}
            for c, o, p in cells.head(_TOP).iter_rows()
        ],
        "area_km": cfg.type_change_area_km,
        "area_share": area_share,
        "area_share_threshold": cfg.type_change_area_share,
    }
    title, story = _story(n, devices, (low, high), evidence)
    severity = _severity(ctx, low_interleaved, interleaved, concentrated)
    score = (n / devices) * float(np.sqrt(n))
    told = tuple(cells_to_str(area)) if concentrated else ()
    return [Finding(KIND, severity, score, title, story, told, evidence)]
