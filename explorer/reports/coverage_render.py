"""The words and the table of the report's "Coverage" section, as plain text (Markdown
and HTML escape and lay them out): what the reference is, what home inference made of
the devices, the overall rate, the log-log fit, and the table of regions.
"""

from __future__ import annotations

from typing import Any

from explorer.reports.story_words import share_words

#: Regions listed in the table; the rest are counted (the JSON holds them all).
MAX_TABLE_REGIONS = 50
#: Column headers of the table of regions.
HEADERS = (
    "Region",
    "Id",
    "Residents",
    "Home devices",
    "Per 1,000 residents",
    "Interval",
    "Ratio",
    "Weight",
)

Table = tuple[tuple[str, ...], list[tuple[str, ...]]]


def _rate(value: Any) -> str:
    if value is None:
        return "n/a"
    value = float(value)
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2g}" if value < 1 else f"{value:.1f}"


def _multiple(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.2f}"


def coverage_sentences(coverage: dict[str, Any]) -> list[str]:
    """The reference, the homes, the overall rate and the fit, in plain sentences."""
    homes = coverage.get("homes") or {}
    rule = coverage.get("home_rule") or {}
    regions = coverage.get("regions") or []
    out = [
        f"Reference population: {coverage.get('source', '')}, {len(regions):,} regions with "
        f"{float(coverage.get('residents') or 0):,.0f} residents"
        + (
            " (coarse: cities from a gazetteer, a rough guide only)."
            if coverage.get("coarse")
            else "."
        )
    ]
    rejected = sum(int(v) for v in (coverage.get("rejected") or {}).values())
    if rejected:
        out.append(f"{rejected:,} rows of the reference were left out.")
    if coverage.get("reason"):
        out.append(str(coverage["reason"]))
    devices = int(homes.get("devices") or 0)
    with_home = int(homes.get("with_home") or 0)
    share = share_words(with_home / devices) if devices else "0 %"
    out.append(
        f"{with_home:,} of {devices:,} devices ({share}) have a confident home (the most-slept "
        f"H3 cell at resolution {rule.get('resolution')}, on at least "
        f"{rule.get('min_nights')} nights holding {share_words(float(rule.get('min_share') or 0))}"
        f" of them); {int(homes.get('outside') or 0):,} of those homes lie outside every "
        "region and are left out."
    )
    if coverage.get("overall_rate") is not None:
        out.append(
            f"Overall, the panel has {_rate(coverage['overall_rate'])} devices with a home per "
            "1,000 residents."
        )
    out.append(fit_sentence(coverage.get("fit") or {}))
    out.append(str(coverage.get("weight_rule") or ""))
    return [s for s in out if s]


def fit_sentence(fit: dict[str, Any]) -> str:
    """The log-log fit of home devices on residents, or why there is none."""
    if fit.get("slope") is None:
        return f"Too few regions with homes ({int(fit.get('n') or 0)}) for a log-log fit."
    return (
        f"Home devices grow with residents at a log-log slope of {fit['slope']:.2f} "
        f"(interval {fit['slope_low']:.2f} to {fit['slope_high']:.2f}; 1 is proportional "
        f"coverage), r² {fit['r2']:.2f}, over {int(fit['n']):,} regions with homes."
    )


def regions_table(coverage: dict[str, Any]) -> Table:
    """The regions furthest from the overall rate first (at most
    :data:`MAX_TABLE_REGIONS`), one row each."""
    regions = list(coverage.get("regions") or [])

    def distance(region: dict[str, Any]) -> float:
        ratio = region.get("ratio")
        if ratio is None:
            return -1.0
        return 1e9 if ratio == 0 else max(float(ratio), 1 / float(ratio))

    regions.sort(key=lambda r: (-distance(r), str(r.get("id"))))
    rows = [
        (
            str(r.get("name", "")),
            str(r.get("id", "")),
            f"{float(r.get('residents') or 0):,.0f}",
            f"{int(r.get('home_devices') or 0):,}",
            _rate(r.get("rate")),
            f"{_rate(r.get('rate_low'))} to {_rate(r.get('rate_high'))}",
            _multiple(r.get("ratio")),
            _multiple(r.get("weight")) + (" (capped)" if r.get("weight_capped") else ""),
        )
        for r in regions[:MAX_TABLE_REGIONS]
    ]
    return HEADERS, rows


def table_caption(coverage: dict[str, Any]) -> str:
    """What the table shows, and how many regions it leaves out."""
    total = len(coverage.get("regions") or [])
    more = total - MAX_TABLE_REGIONS
    caption = "Regions, furthest from the overall rate first"
    if more > 0:
        caption += f" ({MAX_TABLE_REGIONS} of {total:,}; the JSON report holds them all)"
    return caption
