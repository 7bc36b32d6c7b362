"""The ``coverage`` section of the report as data: the panel's homes per resident in
each region of the user's reference population, the overall rate, the log-log fit,
what home inference made of the devices, and each region's post-stratification
weight. Null when no reference population was given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from explorer.detectors.coverage.rates import PER_RESIDENTS, coverage_table, home_rule

if TYPE_CHECKING:  # pragma: no cover - typing only
    from explorer.analysis import Analysis

__all__ = ["WEIGHT_RULE", "coverage_section", "region_records"]

#: Significant digits kept of rates, ratios and weights: a table reads them to two or
#: three digits, and fewer keep the JSON of thousands of tracts small.
DIGITS = 6
#: The weights in words (the rule of :func:`explorer.detectors.coverage.rates.region_weights`).
WEIGHT_RULE = (
    "Each device with a home in a region weighs the region's residents per home device, "
    "capped at {cap:g} times the median device's weight (regions with one or two homes "
    "for many residents), then scaled to a mean of 1 over devices; regions without "
    "homes or residents have no weight, and devices without a confident home or with a "
    "home outside every region have none either."
)


def coverage_section(analysis: Analysis) -> dict[str, Any] | None:
    """The report's ``coverage`` block of ``analysis`` (None without a reference)."""
    reference = analysis.reference
    if reference is None:
        return None
    config = analysis.config
    reason = analysis.lacking.get("device_ids")
    table = coverage_table(analysis.summary, reference, config)
    rule = home_rule(config)
    return {
        "source": reference.source,
        "coarse": bool(reference.coarse),
        "columns": dict(reference.columns),
        "rejected": {str(k): int(v) for k, v in reference.rejected.items()},
        "reason": None if reason is None else f"No homes can be inferred: {reason}.",
        "per_residents": int(PER_RESIDENTS),
        "home_rule": {
            "resolution": min(rule.resolution, analysis.summary.resolution),
            "min_nights": rule.min_nights,
            "min_share": rule.min_share,
        },
        "homes": dict(table.homes),
        "residents": _number(float(table.regions["residents"].sum())),
        "overall_rate": _number(table.overall_rate),
        "dispersion": _number(table.dispersion),
        "fit": {k: _number(v) for k, v in table.fit.items()},
        "weight_rule": WEIGHT_RULE.format(cap=config.coverage.max_weight_to_median),
        "regions": region_records(table.regions),
    }


def region_records(regions: Any) -> list[dict[str, Any]]:
    """One record per region: id, name, residents, home devices, rate with its
    interval, shrunk rate, ratio to the overall rate and weight (null where undefined)."""
    names = {"region_id": "id"}
    keep = (
        "region_id",
        "name",
        "residents",
        "home_devices",
        "rate",
        "rate_low",
        "rate_high",
        "shrunk_rate",
        "ratio",
        "weight",
        "weight_capped",
    )
    return [
        {names.get(k, k): _number(row[k]) for k in keep}
        for row in regions.select(keep).iter_rows(named=True)
    ]


def _number(value: Any) -> Any:
    """Floats to :data:`DIGITS` significant digits (None for NaN); others as they are."""
    if isinstance(value, float):
        return float(f"{value:.{DIGITS}g}") if value == value else None
    return value
