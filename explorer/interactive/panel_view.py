"""What the app's Panel page shows, computed here so the app only draws: the daily
series with findings' periods as spans, per-device distributions as histograms, the
survival curve of a usable-panel rule, what a rule keeps, and where it loses devices.

Built on :mod:`explorer.summary.panel` and :mod:`explorer.summary.panel_rule`. The
rule-independent part (:class:`PanelView`) is computed once per analysis; everything
that depends on the rule the user picks is cheap work on its per-device table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from explorer.binning.cells import cells_to_parent
from explorer.detectors.needs import DEVICE_IDS, SEVERAL_DAYS
from explorer.findings import Finding
from explorer.interactive.map_layers import NO_VALUE_COLOR, PALETTE, LegendStop, map_resolution
from explorer.summary import Summary
from explorer.summary.panel import daily_series, hourly_pings, panel_devices
from explorer.summary.panel_rule import PanelRule, qualifying_days
from explorer.text import count, pct

#: Fewest devices a cell needs before its share of devices lost is coloured: below it
#: one device more or less swings the share by 20 points or more.
MIN_CELL_DEVICES = 5
#: Hours a rule can ask for each day (local hours of a day).
HOURS_A_DAY = 24
#: Bin edges of pings per active day (heavy-tailed: a few devices send hundreds).
PINGS_PER_DAY_EDGES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
#: Bin edges of the median gap between a device's pings, in seconds, and their labels.
GAP_EDGES = (0, 60, 300, 900, 3_600, 10_800, 21_600, 43_200, 86_400, 259_200)
GAP_LABELS = (
    "under 1 min",
    "1–5 min",
    "5–15 min",
    "15–60 min",
    "1–3 h",
    "3–6 h",
    "6–12 h",
    "12–24 h",
    "1–3 days",
    "3 days or more",
)
#: Measures of the daily chart, by column of the daily series.
DAILY_MEASURES = {"devices": "devices", "pings": "pings", "pings_per_device": "pings per device"}


@dataclass(frozen=True)
class Histogram:
    """Devices per bin of one per-device figure; ``bins`` has label, devices, share (in
    display order); ``without`` devices have no value (e.g. one ping: no gap)."""

    key: str
    title: str
    bins: pl.DataFrame
    median: float | None
    without: int = 0


@dataclass(frozen=True)
class PanelView:
    """The rule-independent part of the page for one analysis.

    ``reason`` says why there is no panel to follow (no device ids, a single day): then
    only pings over time are shown (``daily``, and ``hourly`` for a single day).
    ``devices`` has per device: pings, active_days, pings_per_day, hours_per_day,
    median_gap_s and ``days_h1`` … ``days_h24`` (days with at least M local hours seen).
    """

    daily: pl.DataFrame
    hourly: pl.DataFrame | None
    devices: pl.DataFrame
    periods: pl.DataFrame
    reason: str | None
    default_rule: PanelRule

    @property
    def n_days(self) -> int:
        """Local days in the period, from the first to the last (empty days included)."""
        return self.daily.height


@dataclass(frozen=True)
class RuleOutcome:
    """What a rule keeps: devices and pings (pings with a device id)."""

    rule: PanelRule
    devices: int
    devices_kept: int
    pings: int
    pings_kept: int
    pings_without_id: int = 0

    @property
    def device_share(self) -> float:
        return self.devices_kept / self.devices if self.devices else 0.0

    @property
    def ping_share(self) -> float:
        return self.pings_kept / self.pings if self.pings else 0.0

    def sentence(self) -> str:
        """ "Keeps 1,204 of 6,700 devices (18 %) and 71 % of the pings"."""
        pings = "the pings with a device id" if self.pings_without_id else "the pings"
        return (
            f"Keeps {count(self.devices_kept)} of {count(self.devices)} devices "
            f"({pct(self.device_share)}) and {pct(self.ping_share)} of {pings}"
        )


def no_panel_reason(lacking: Mapping[str, str]) -> str | None:
    """Why the data has no panel to follow (the analysis' ``lacking`` reasons), or None."""
    if DEVICE_IDS in lacking:
        return f"a panel follows devices, and {lacking[DEVICE_IDS]}"
    if SEVERAL_DAYS in lacking:
        return f"a panel follows devices across days, and {lacking[SEVERAL_DAYS]}"
    return None


def panel_view(
    summary: Summary,
    findings: Iterable[Finding],
    lacking: Mapping[str, str],
    default_rule: PanelRule,
) -> PanelView:
    """The page's rule-independent numbers for one analysis (see :class:`PanelView`)."""
    daily = daily_series(summary)
    reason = no_panel_reason(lacking)
    hourly = hourly_pings(summary) if SEVERAL_DAYS in lacking else None
    devices = _device_table(summary) if reason is None else _device_table_schema()
    return PanelView(daily, hourly, devices, shaded_periods(findings), reason, default_rule)


def _device_table(summary: Summary) -> pl.DataFrame:
    figures = panel_devices(summary).select(
        "device", "active_days", "pings_per_day", "hours_per_day", "median_gap_s"
    )
    days = qualifying_days(summary, tuple(range(1, HOURS_A_DAY + 1)))
    return figures.join(
        days.with_columns(pl.col(f"days_h{m}").cast(pl.UInt16) for m in _hours()),
        on="device",
        how="left",
    ).sort("device")


def _device_table_schema() -> pl.DataFrame:
    schema = {"device": pl.UInt64, "active_days": pl.Int64, "pings_per_day": pl.Float64}
    schema |= {"hours_per_day": pl.Float64, "median_gap_s": pl.Float64, "pings": pl.Int64}
    return pl.DataFrame(schema=schema | {f"days_h{m}": pl.UInt16 for m in _hours()})


def _hours() -> range:
    return range(1, HOURS_A_DAY + 1)


def shaded_periods(findings: Iterable[Finding]) -> pl.DataFrame:
    """Findings with a ``period`` as spans to shade: kind, severity, title, start and end
    (naive UTC datetimes, as a chart's time axis takes them), in the findings' order."""
    rows = [
        {
            "kind": str(f.kind),
            "severity": f.severity,
            "title": f.title,
            "start": _instant(f.period["start"]),
            "end": _instant(f.period["end"]),
        }
        for f in findings
        if f.period is not None
    ]
    schema = {"kind": pl.String, "severity": pl.String, "title": pl.String}
    return pl.DataFrame(
        rows, schema=schema | {"start": pl.Datetime("us"), "end": pl.Datetime("us")}
    )


def periods_on_chart(view: PanelView) -> pl.DataFrame:
    """The shaded periods cut to the chart's days (first day's start to the last day's
    end, naive); periods wholly outside are left out."""
    if view.daily.is_empty() or view.periods.is_empty():
        return view.periods.clear()
    first = dt.datetime.combine(view.daily["day"].min(), dt.time())
    last = dt.datetime.combine(view.daily["day"].max(), dt.time()) + dt.timedelta(days=1)
    return view.periods.filter((pl.col("end") > first) & (pl.col("start") < last)).with_columns(
        start=pl.col("start").clip(first, last), end=pl.col("end").clip(first, last)
    )


def _instant(text: str) -> dt.datetime:
    """An ISO 8601 UTC instant ("…Z") as a naive UTC datetime."""
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def daily_chart(view: PanelView) -> pl.DataFrame:
    """The daily series in long form for a chart: day (ISO date), at (the day's midday,
    naive, so a shaded span over the day covers its point), measure, value. Without a
    panel only pings are drawn."""
    measures = {"pings": DAILY_MEASURES["pings"]} if view.reason else DAILY_MEASURES
    frame = view.daily.with_columns(
        at=pl.col("day").cast(pl.Datetime("us")) + pl.duration(hours=12),
        day=pl.col("day").cast(pl.String),
    )
    return pl.concat(
        [
            frame.select("day", "at", measure=pl.lit(label), value=pl.col(column).cast(pl.Float64))
            for column, label in measures.items()
        ]
    )


def hourly_chart(view: PanelView) -> pl.DataFrame | None:
    """Pings per UTC hour (at: naive UTC start, pings) when the data covers one day."""
    if view.hourly is None:
        return None
    return view.hourly.select(at=pl.col("start").dt.replace_time_zone(None), pings="pings")


def distributions(view: PanelView) -> list[Histogram]:
    """Histograms of the per-device figures: days seen, hours seen per active day, pings
    per active day and the median gap between pings (devices counted once each)."""
    devices = view.devices
    days = np.arange(1, max(view.n_days, 1) + 1, dtype=np.float64)
    hours = np.arange(1, HOURS_A_DAY + 1, dtype=np.float64)
    ppd = [
        f"{a:,}–{b:,}" for a, b in zip(PINGS_PER_DAY_EDGES, PINGS_PER_DAY_EDGES[1:], strict=False)
    ]
    return [
        _histogram(devices, "active_days", "active days", days, [f"{int(d)}" for d in days]),
        _histogram(
            devices, "hours_per_day", "local hours seen per active day (average)", hours,
            [f"{int(h)}" if h == HOURS_A_DAY else f"{int(h)}–{int(h) + 1}" for h in hours],
        ),
        _histogram(
            devices, "pings_per_day", "pings per active day",
            np.asarray(PINGS_PER_DAY_EDGES, dtype=np.float64),
            [*ppd, f"{PINGS_PER_DAY_EDGES[-1]:,} or more"],
        ),
        _histogram(
            devices, "median_gap_s", "median gap between a device's pings",
            np.asarray(GAP_EDGES, dtype=np.float64), list(GAP_LABELS),
        ),
    ]  # fmt: skip


def _histogram(
    devices: pl.DataFrame, column: str, title: str, edges: np.ndarray, labels: list[str]
) -> Histogram:
    """Devices per bin ``[edges[i], edges[i+1])``, the last bin open-ended."""
    values = devices[column].cast(pl.Float64)
    known = values.drop_nulls().drop_nans().to_numpy()
    where = np.clip(np.searchsorted(edges, known, side="right") - 1, 0, edges.size - 1)
    counts = np.bincount(where, minlength=edges.size)
    total = int(counts.sum())
    bins = pl.DataFrame(
        {
            "label": labels,
            "devices": counts.astype(np.int64),
            "share": counts / total if total else np.zeros(edges.size),
        }
    )
    median = float(np.median(known)) if known.size else None
    return Histogram(column, title, bins, median, devices.height - known.size)


def survival_curve(view: PanelView, min_hours: int) -> pl.DataFrame:
    """Devices and pings kept by "N active days with ``min_hours`` hours each" for every
    N from 1 to the period's days: min_days, devices, device_share, pings, ping_share."""
    n_days = max(view.n_days, 1)
    days = view.devices[f"days_h{min_hours}"].cast(pl.Int64).to_numpy()
    pings = view.devices["pings"].cast(pl.Int64).to_numpy()
    # Devices (and their pings) with exactly d qualifying days; kept for N: d >= N.
    at = np.minimum(days, n_days)
    devices_by_days = np.bincount(at, minlength=n_days + 1)
    pings_by_days = np.bincount(at, weights=pings, minlength=n_days + 1)
    kept_devices = np.cumsum(devices_by_days[::-1])[::-1][1:]
    kept_pings = np.cumsum(pings_by_days[::-1])[::-1][1:]
    total_devices, total_pings = days.size, float(pings.sum())
    return pl.DataFrame(
        {
            "min_days": np.arange(1, n_days + 1, dtype=np.int64),
            "devices": kept_devices.astype(np.int64),
            "device_share": kept_devices / total_devices if total_devices else 0.0,
            "pings": kept_pings.astype(np.int64),
            "ping_share": kept_pings / total_pings if total_pings else 0.0,
        }
    )


def kept_mask(view: PanelView, rule: PanelRule) -> pl.Series:
    """True for each device of ``view.devices`` that meets ``rule``."""
    return view.devices[f"days_h{rule.min_hours}"].cast(pl.Int64) >= rule.min_days


def rule_outcome(view: PanelView, rule: PanelRule, pings_without_id: int = 0) -> RuleOutcome:
    """What ``rule`` keeps of the devices and of their pings."""
    kept = kept_mask(view, rule)
    pings = view.devices["pings"].cast(pl.Int64)
    return RuleOutcome(
        rule,
        devices=view.devices.height,
        devices_kept=int(kept.sum()),
        pings=int(pings.sum()),
        pings_kept=int(pings.filter(kept).sum()),
        pings_without_id=pings_without_id,
    )


def pings_without_id(view: PanelView) -> int:
    """Pings of the period without a device id (they belong to no device to keep)."""
    return int(view.daily["pings"].sum() - view.daily["device_pings"].sum())


@dataclass(frozen=True)
class LossLayer:
    """A map layer of the share of each cell's devices a rule loses.

    ``rows``: hex, devices, devices_kept, share_lost (null below ``min_devices``),
    value (in words), color (RGB); ``legend`` explains the colours; ``resolution`` is
    the cells' (coarser than the analysis' when there are too many to draw).
    """

    rows: pl.DataFrame
    legend: list[LegendStop]
    resolution: int
    min_devices: int
    cells_shown: int


def loss_layer(
    summary: Summary, view: PanelView, rule: PanelRule, min_devices: int = MIN_CELL_DEVICES
) -> LossLayer:
    """Per cell: devices seen there, those ``rule`` keeps, the share lost, coloured in six
    equal classes of 0–100 %; cells with fewer than ``min_devices`` devices are grey."""
    res = map_resolution(summary)
    pairs = summary.tables["cell_devices"].select("cell", "device")
    if res != summary.resolution:
        pairs = pairs.with_columns(cell=cells_to_parent(pairs["cell"], res)).unique()
    kept = view.devices.filter(kept_mask(view, rule)).select("device", kept=pl.lit(True))
    cells = (
        pairs.join(kept, on="device", how="left")
        .group_by("cell")
        .agg(
            devices=pl.len().cast(pl.Int64),
            devices_kept=pl.col("kept").fill_null(False).sum().cast(pl.Int64),
        )
        .with_columns(
            share_lost=pl.when(pl.col("devices") >= min_devices).then(
                1.0 - pl.col("devices_kept") / pl.col("devices")
            )
        )
        .sort("cell")
    )
    colours, legend = _share_colours(cells["share_lost"], min_devices)
    rows = cells.select(
        hex=pl.col("cell").map_batches(_hex_ids, return_dtype=pl.String),
        devices="devices",
        devices_kept="devices_kept",
        share_lost="share_lost",
        value=pl.when(pl.col("share_lost").is_null())
        .then(pl.lit(f"fewer than {min_devices} devices"))
        .otherwise(
            (pl.col("share_lost") * 100).round(0).cast(pl.Int64).cast(pl.String) + " % lost"
        ),
        color=pl.Series(colours.astype(np.uint8)),
    )
    shown = int(cells["share_lost"].is_not_null().sum())
    return LossLayer(rows, legend, res, min_devices, shown)


def _hex_ids(cells: pl.Series) -> pl.Series:
    return pl.Series(np.char.mod("%x", cells.to_numpy().astype(np.uint64)), dtype=pl.String)


def _share_colours(shares: pl.Series, min_devices: int) -> tuple[np.ndarray, list[LegendStop]]:
    """A colour per cell (six equal classes of 0–100 % lost, grey without a share) and
    the legend, each stop with its cells."""
    raw = shares.cast(pl.Float64).fill_null(np.nan).to_numpy()
    valid = np.isfinite(raw)
    edges = np.linspace(0.0, 1.0, len(PALETTE) + 1)
    classes = np.clip(np.searchsorted(edges[1:-1], raw, side="right"), 0, len(PALETTE) - 1)
    table = np.array([*PALETTE, NO_VALUE_COLOR], dtype=np.int64)
    colours = table[np.where(valid, classes, len(PALETTE))]
    stops = [
        LegendStop(
            float(edges[i]),
            float(edges[i + 1]),
            colour,
            f"{edges[i] * 100:.0f}–{edges[i + 1] * 100:.0f} % lost",
            int((valid & (classes == i)).sum()),
        )
        for i, colour in enumerate(PALETTE)
    ]
    grey = int((~valid).sum())
    stops.append(LegendStop(0.0, 0.0, NO_VALUE_COLOR, f"fewer than {min_devices} devices", grey))
    return colours, stops
