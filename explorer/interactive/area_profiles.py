"""An area (a finding's cells, or one clicked cell) against the rest of the data.

Hour profiles and device-type mixes count devices where the question is about
people: a device counts once per hour it was seen in the area, and once in the type
mix, however many pings it sent. Ping counts are given alongside.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.interactive.map_layers import area_mask
from explorer.summary import Summary
from explorer.summary.views import HOURS, device_types


@dataclass(frozen=True)
class Profile:
    """Hour-of-day profile and type mix of a set of cells (counts, and shares of them).

    ``hour_pings``/``hour_devices``: 24 counts by local hour (devices: distinct devices
    seen at that hour). ``type_devices``: distinct devices by main type.
    """

    pings: int
    devices: int
    cells: int
    hour_pings: list[int]
    hour_devices: list[int]
    type_devices: dict[str, int]

    @property
    def hour_shares(self) -> list[float]:
        """Share of the device-hours at each local hour (sums to 1 when not empty)."""
        return _shares(self.hour_devices)

    @property
    def hour_ping_shares(self) -> list[float]:
        return _shares(self.hour_pings)

    @property
    def type_shares(self) -> dict[str, float]:
        """Share of devices by main type."""
        total = sum(self.type_devices.values())
        return {k: (v / total if total else 0.0) for k, v in sorted(self.type_devices.items())}


def _shares(counts: list[int]) -> list[float]:
    total = float(sum(counts))
    return [c / total if total else 0.0 for c in counts]


def _profile(summary: Summary, mask_cells: pl.Series) -> Profile:
    """Profile of the cells listed in ``mask_cells`` (UInt64 at the summary's resolution)."""
    t = summary.tables
    wanted = mask_cells.implode()
    cells = t["cells"].filter(pl.col("cell").is_in(wanted))
    hours = t["cell_hours"].filter(pl.col("cell").is_in(wanted))
    hour_pings = np.zeros(HOURS, dtype=np.int64)
    if hours.height:
        by_hour = hours.group_by("hour").agg(pl.col("pings").sum())
        hour_pings[by_hour["hour"].to_numpy().astype(int)] = by_hour["pings"].to_numpy()
    cd = t["cell_devices"].filter(pl.col("cell").is_in(wanted))
    # A device seen at hour h in any of the area's cells counts once at h.
    masks = cd.group_by("device").agg(pl.col("hour_mask").bitwise_or())
    bits = masks["hour_mask"].to_numpy().astype(np.int64)
    hour_devices = ((bits[:, None] >> np.arange(HOURS)) & 1).sum(axis=0)
    types = device_types(summary).select("device", "device_type")
    mix = (
        masks.select("device")
        .join(types, on="device", how="left")
        .group_by("device_type")
        .agg(pl.len().alias("n"))
    )
    return Profile(
        pings=int(cells["pings"].sum() or 0),
        devices=int(masks.height),
        cells=int(cells.height),
        hour_pings=[int(x) for x in hour_pings],
        hour_devices=[int(x) for x in hour_devices],
        type_devices={
            str(k): int(v) for k, v in zip(mix["device_type"].to_list(), mix["n"].to_list())
        },
    )


@dataclass(frozen=True)
class Comparison:
    """An area's profile beside the rest of the data's (every cell outside the area)."""

    area: Profile
    rest: Profile


def compare_area(summary: Summary, hex_ids: Iterable[str]) -> Comparison:
    """Profiles of the area the hex ids cover (any resolution) and of everything else."""
    cells = summary.tables["cells"]["cell"]
    inside = area_mask(cells, summary.resolution, list(hex_ids))
    return Comparison(
        area=_profile(summary, cells.filter(inside)),
        rest=_profile(summary, cells.filter(~inside)),
    )


def dataset_profile(summary: Summary) -> Profile:
    """The whole data set's hour profile and type mix."""
    return _profile(summary, summary.tables["cells"]["cell"])


def cell_profile(summary: Summary, hex_id: str) -> Profile | None:
    """Profile of one cell (any resolution; a coarse cell covers its children).

    ``None`` when the id is not a valid cell or holds no pings.
    """
    cells = summary.tables["cells"]["cell"]
    inside = area_mask(cells, summary.resolution, [hex_id])
    if not bool(inside.any()):
        return None
    return _profile(summary, cells.filter(inside))
