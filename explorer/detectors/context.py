"""What every detector receives: the summary, the config and cached derived views."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import polars as pl

from explorer.config import Config
from explorer.summary import Summary, panel_rule
from explorer.summary import panel as panel_views
from explorer.summary import views as derived

#: The device type of a ping whose file gives none.
UNKNOWN_TYPE = "unknown"

T = TypeVar("T")


class Context:
    """Summaries in, findings out: detectors read only this.

    ``salt`` keys the short device labels shown in stories (never the ids);
    ``reference`` is the reference population the user gave
    (:class:`explorer.reading.reference.Reference`), or None.
    """

    def __init__(
        self,
        summary: Summary,
        config: Config | None = None,
        salt: str = "",
        reference: Any = None,
    ) -> None:
        self.summary = summary
        self.config = config or Config()
        self.salt = salt
        self.reference = reference
        self._shared: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def shared(self, name: str, build: Callable[[Context], T]) -> T:
        """``build(self)`` once per context, under ``name``: a view several detectors
        share. Detectors run on threads, so the first to ask builds it, the others wait."""
        with self._locks_lock:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._shared:
                self._shared[name] = build(self)
            return self._shared[name]

    @property
    def cells(self) -> pl.DataFrame:
        """Per-cell view (see :func:`explorer.summary.views.cell_frame`)."""
        return self.shared(
            "cells", lambda ctx: derived.cell_frame(ctx.summary, coded=ctx.type_codes)
        )

    @property
    def devices(self) -> pl.DataFrame:
        """Per-device view (see :func:`explorer.summary.views.device_frame`)."""
        return self.shared("devices", lambda ctx: derived.device_frame(ctx.summary))

    @property
    def daily(self) -> pl.DataFrame:
        """Per local day of the period (see :func:`explorer.summary.panel.daily_series`)."""
        return self.shared("daily", lambda ctx: panel_views.daily_series(ctx.summary))

    @property
    def hourly(self) -> pl.DataFrame:
        """Pings per UTC hour of the period (see :func:`explorer.summary.panel.hourly_pings`)."""
        return self.shared("hourly", lambda ctx: panel_views.hourly_pings(ctx.summary))

    @property
    def panel_devices(self) -> pl.DataFrame:
        """Per device over time (see :func:`explorer.summary.panel.panel_devices`)."""
        return self.shared("panel_devices", lambda ctx: panel_views.panel_devices(ctx.summary))

    @property
    def daily_types(self) -> pl.DataFrame:
        """Devices per local day and main type (see
        :func:`explorer.summary.panel.daily_types`)."""
        return self.shared("daily_types", lambda ctx: panel_views.daily_types(ctx.summary))

    @property
    def qualifying_days(self) -> pl.DataFrame:
        """Per device, its days with M or more hours seen for each M of the survival grid
        and of the configured panel rule (see
        :func:`explorer.summary.panel_rule.qualifying_days`)."""
        hours = tuple(sorted({*panel_rule.HOURS_GRID, self.config.panel_devices.rule_hours}))
        return self.shared(
            "qualifying_days", lambda ctx: panel_rule.qualifying_days(ctx.summary, hours)
        )

    @property
    def survival(self) -> pl.DataFrame:
        """What each rule of the survival grid keeps (see
        :func:`explorer.summary.panel_rule.survival_table`)."""
        return self.shared(
            "survival",
            lambda ctx: panel_rule.survival_table(ctx.summary, per_device=ctx.qualifying_days),
        )

    @property
    def type_codes(self) -> tuple[pl.DataFrame, list[str]]:
        """(cell, device, code) for every (cell, device) row and the main type each code
        names (see :func:`explorer.summary.views.coded_cell_devices`)."""
        return self.shared(
            "type_codes",
            lambda ctx: derived.coded_cell_devices(
                ctx.summary.tables["cell_devices"], ctx.devices.select("device", "device_type")
            ),
        )

    @property
    def hour_totals(self) -> np.ndarray:
        return self.shared("hour_totals", lambda ctx: derived.hour_totals(ctx.summary))

    @property
    def type_totals(self) -> dict[str, int]:
        return self.shared("type_totals", lambda ctx: derived.type_totals(ctx.summary))

    @property
    def has_devices(self) -> bool:
        """Whether any ping carries a device id (without, every device count reads 0)."""
        return self.summary.tables["devices"].height > 0

    @property
    def has_device_types(self) -> bool:
        """Whether any ping carries a device type (``unknown`` is none)."""
        return any(name != UNKNOWN_TYPE for name in self.type_totals)

    @property
    def resolution(self) -> int:
        return self.summary.resolution

    @property
    def total_pings(self) -> int:
        return self.summary.rows_used

    def device_label(self, device_hash: int) -> str:
        return derived.device_label(device_hash, self.salt)
