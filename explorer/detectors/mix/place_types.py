"""The ping side of the device-type mix: each device counted with the type its pings
in a place report, and the place's ping mix.

A device's main type is the type of most of its pings, so the device mix counts each
device once per place with one type; when the type field changes with place (a second
SDK or supplier in one area), only the pings sent from the place show it. The summary
keeps types per cell and per device, not per cell and device, but a device that never
changes type reports its one type everywhere; the rest of a place's pings by type are
those of its type-changing devices, and these devices are counted in the shares their
pings there give. Without type-changing devices the two mixes are one, and nothing
more is tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from explorer.binning.cells import cells_to_parent
from explorer.detectors.context import Context
from explorer.summary.views import named_codes


def overall_ping_mix(ctx: Context) -> dict[str, float]:
    """Share of pings by type over the whole data set."""
    totals = ctx.type_totals
    total = float(sum(totals.values()))
    if total == 0:
        return {}
    return {str(t): n / total for t, n in sorted(totals.items())}


def changing_devices(ctx: Context) -> pl.Series:
    """Devices (hashes) that report more than one type."""
    rows = ctx.summary.tables["devices"].group_by("device").agg(n=pl.len())
    return rows.filter(pl.col("n") > 1)["device"]


def _shares(by_type: dict[str, float]) -> dict[str, float]:
    total = float(sum(by_type.values()))
    return {str(t): n / total for t, n in sorted(by_type.items())} if total > 0 else {}


@dataclass(frozen=True)
class PlaceTypes:
    """Per unit: all pings by type, the changing devices' pings by type (what single-type
    devices do not explain) and which changing devices are there."""

    pings: pl.DataFrame
    changing_pings: pl.DataFrame
    changing: pl.DataFrame
    parent_res: int

    @classmethod
    def of(
        cls,
        ctx: Context,
        units: pl.DataFrame,
        coded: pl.DataFrame,
        names: list[str],
        parent_res: int,
    ) -> PlaceTypes:
        """``units``: (cell, unit); ``coded``: (cell, device, code) with main types."""
        multi = changing_devices(ctx).implode()
        pings = ctx.summary.tables["cell_types"].join(units, on="cell")
        pings = pings.group_by("unit", "device_type").agg(pl.col("pings").sum())
        with_pings = ctx.summary.tables["cell_devices"].select("cell", "device", "pings")
        # Only units a changing device was seen in: elsewhere both mixes are one.
        visited = with_pings.filter(pl.col("device").is_in(multi)).select("cell").unique()
        visited = visited.join(units, on="cell").select("unit").unique()
        units = units.join(visited, on="unit")
        rows = coded.join(units, on="cell").join(with_pings, on=["cell", "device"])
        single = rows.filter(~pl.col("device").is_in(multi))
        explained = named_codes(single.group_by("unit", "code").agg(pl.col("pings").sum()), names)
        rest = (
            pings.join(visited, on="unit")
            .join(explained, on=["unit", "device_type"], how="left", suffix="_single")
            .with_columns(pings=(pl.col("pings") - pl.col("pings_single").fill_null(0)).clip(0))
            .select("unit", "device_type", "pings")
        )
        changing = rows.filter(pl.col("device").is_in(multi)).select("unit", "device", "code")
        changing = changing.unique(["unit", "device"])
        return cls(pings, rest, changing, parent_res)

    @property
    def any_changing(self) -> bool:
        return self.changing.height > 0

    def local_table(self, table: pl.DataFrame, names: list[str], m: float) -> pl.DataFrame:
        """The device table (unit, device_type, k, n, parent, …) of units with changing
        devices, each changing device counted in its unit's changing pings' type shares
        instead of its main type; regions summed again from the new counts."""
        held = named_codes(self.changing.group_by("unit", "code").agg(main=pl.len()), names)
        n_changing = self.changing.group_by("unit").agg(n_changing=pl.len())
        rest = self.changing_pings.with_columns(
            share=pl.col("pings") / pl.col("pings").sum().over("unit").clip(1)
        ).select("unit", "device_type", "share")
        local = (
            table.join(held, on=["unit", "device_type"], how="left")
            .join(n_changing, on="unit", how="left")
            .join(rest, on=["unit", "device_type"], how="left")
            .with_columns(pl.col("main", "n_changing", "share").fill_null(0))
            .with_columns(k=pl.col("k") - pl.col("main") + pl.col("n_changing") * pl.col("share"))
        )
        # The region's prior pseudo-devices (see _unit_type_table) are kept as they were.
        prior = pl.col("region_share") * (pl.col("region_n") + m) - pl.col("region_k")
        local = (
            local.with_columns(prior=prior)
            .with_columns(region_k=pl.col("k").sum().over("parent", "device_type") - pl.col("k"))
            .with_columns(
                region_share=(pl.col("region_k") + pl.col("prior")) / (pl.col("region_n") + m)
            )
        )
        return local.filter(pl.col("n_changing") > 0).drop("main", "n_changing", "share", "prior")

    def area(
        self, component: list[int], inside: pl.DataFrame, names: list[str]
    ) -> tuple[dict[str, float], dict[str, float], int]:
        """(device mix by the type their pings there report, ping mix, pings) of a group of
        units; ``inside``: its (cell, device, code, …) rows."""
        in_area = pl.col("unit").is_in(component)
        by_type = dict(
            self.pings.filter(in_area)
            .group_by("device_type")
            .agg(pl.col("pings").sum())
            .iter_rows()
        )
        present = inside.unique("device")
        multi = self.changing.filter(in_area)["device"].unique()
        single = present.filter(~pl.col("device").is_in(multi.implode()))
        counts = {
            names[c]: float(n) for c, n in single.group_by("code").agg(n=pl.len()).iter_rows()
        }
        rest = dict(
            self.changing_pings.filter(in_area)
            .group_by("device_type")
            .agg(pl.col("pings").sum())
            .iter_rows()
        )
        for t, share in _shares(rest).items():
            counts[t] = counts.get(t, 0.0) + share * len(multi)
        return _shares(counts), _shares(by_type), int(sum(by_type.values()))

    def regional_ping_mix(self, component: list[int]) -> dict[str, float]:
        """Ping mix of the regions of a group of units, the units left out."""
        table = self.pings.with_columns(parent=cells_to_parent(self.pings["unit"], self.parent_res))
        parents = table.filter(pl.col("unit").is_in(component))["parent"].unique().implode()
        outside = table.filter(pl.col("parent").is_in(parents) & ~pl.col("unit").is_in(component))
        return _shares(dict(outside.group_by("device_type").agg(pl.col("pings").sum()).iter_rows()))
