"""The comparison as Markdown and as one offline HTML page, from its JSON-contract dict.

Every string from the data (sources, titles, stories, evidence) is escaped: Markdown
specials backslashed, HTML through :func:`explorer.reports.charts.escape`. The page
reuses the analysis report's style, charts and evidence readers.
"""

from __future__ import annotations

from typing import Any

from explorer.reports.charts import (
    SEVERITY_COLOURS,
    cell_map,
    escape,
    hour_bars,
    mix_bars,
    split_far_cells,
    value_bars,
)
from explorer.reports.evidence import evidence_charts, humanise, key_numbers
from explorer.reports.html import PAGE_CSS
from explorer.reports.markdown import SEVERITY_BADGES, cells_text, md, severity_counts

#: Most key numbers listed under a change.
MAX_NUMBERS = 12
_PANEL_ROWS = (
    ("devices_per_day", "Devices per day"),
    ("pings_per_device", "Pings per device a day"),
)


def _figure(figures: dict[str, Any] | None, side: str) -> str:
    if not figures:
        return "n/a"
    return f"{figures[side]:,.1f} ({figures[side + '_low']:,.1f} to {figures[side + '_high']:,.1f})"


def side_rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, before, after) rows of the two deliveries (plain text)."""
    before, after = data["before"], data["after"]

    def both(read) -> tuple[str, str]:
        return read(before), read(after)

    rows = [
        ("Source", *both(lambda s: str(s["source"]))),
        ("Pings used", *both(lambda s: f"{int(s['rows']['used']):,}")),
        ("Devices", *both(lambda s: f"{int(s['devices']):,}")),
        ("Period (UTC)", *both(lambda s: f"{s['time']['start']} to {s['time']['end']}")),
    ]
    for key, name in _PANEL_ROWS:
        figures = (data.get("panel") or {}).get(key)
        rows.append((name, _figure(figures, "before"), _figure(figures, "after")))
    counts = both(lambda s: ", ".join(f"{n} {k}" for k, n in s["findings"].items()))
    rows.append(("Findings", *counts))
    return rows


def _counts_line(changes: list[dict[str, Any]]) -> str:
    counts = severity_counts(changes)
    if not changes:
        return "No changes passed the thresholds."
    return "Changes: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + "."


def _numbers(change: dict[str, Any]) -> list[tuple[str, str]]:
    return key_numbers(change.get("evidence") or {})[:MAX_NUMBERS]


def _inner_finding(change: dict[str, Any]) -> dict[str, Any] | None:
    evidence = change.get("evidence") or {}
    return evidence.get("after_finding") or evidence.get("before_finding")


def comparison_markdown(data: dict[str, Any]) -> str:
    """The comparison as Markdown."""
    changes = data.get("changes") or []
    lines = [
        f"# What changed: {md(data['before']['source'])} → {md(data['after']['source'])}",
        "",
        md(data["story"]),
        "",
        f"**{_counts_line(changes)}**",
        "",
        "## The two deliveries",
        "",
        "| | Before | After |",
        "|---|---:|---:|",
    ]
    lines += [f"| {md(a)} | {md(b)} | {md(c)} |" for a, b, c in side_rows(data)]
    lines += [
        "",
        f"Both analysed at H3 resolution {data['resolution']}; areas compared at resolution "
        f"{data['area_resolution']}.",
        "",
        "## Changes, most serious first",
        "",
    ]
    if not changes:
        lines += ["Nothing changed beyond chance and the thresholds.", ""]
    for rank, change in enumerate(changes, start=1):
        badge = SEVERITY_BADGES.get(change["severity"], change["severity"])
        lines += [
            f"### {rank}. {badge} · {md(humanise(change['kind']))} · {md(change['title'])}",
            "",
            md(change["story"]),
            "",
            f"- Where: {md(cells_text(change.get('cells') or []))}",
        ]
        if change.get("period"):
            lines.append(f"- When: {change['period']['start']} to {change['period']['end']}")
        lines += [f"- {md(name)}: {md(value)}" for name, value in _numbers(change)]
        lines += [f"- id `{change['id']}`", ""]
    unchanged = data.get("unchanged") or []
    if unchanged:
        lines += [
            "## Findings in both deliveries",
            "",
            "| Kind | Before | After |",
            "|---|---|---|",
        ]
        lines += [
            f"| {md(humanise(u['kind']))} | {u['before_severity']} | {u['after_severity']} |"
            for u in unchanged
        ]
        lines.append("")
    return "\n".join(lines)


def _table(rows: list[tuple[str, ...]], head: tuple[str, ...]) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        f"<tr><th>{escape(r[0])}</th>" + "".join(f'<td class="n">{escape(v)}</td>' for v in r[1:])
        for r in rows
    )
    return f"<table><tr>{header}</tr>{body}</table>"


def _charts(change: dict[str, Any]) -> str:
    """Before and after side by side (mixes, hours), or the finding's own charts."""
    evidence = change.get("evidence") or {}
    names = ("Before", "After")
    if evidence.get("before_mix") and evidence.get("after_mix"):
        return mix_bars(evidence["before_mix"], evidence["after_mix"], names, "Devices by type")
    if evidence.get("before_hours") and evidence.get("after_hours"):
        return hour_bars(
            evidence["before_hours"], evidence["after_hours"], names, "Devices' hours", "share"
        )
    inner = _inner_finding(change)
    return "".join(evidence_charts(inner.get("evidence") or {})) if inner else ""


def _change_card(rank: int, change: dict[str, Any]) -> str:
    severity = str(change.get("severity", "low"))
    colour = SEVERITY_COLOURS.get(severity, SEVERITY_COLOURS["low"])
    cells = [str(c) for c in change.get("cells") or []]
    near, _ = split_far_cells([(c, severity) for c in cells])
    small_map = cell_map(near, "Where", size=220) if near else ""
    numbers = _numbers(change)
    when = change.get("period")
    return (
        f'<section class="card finding" style="--sev:{colour}">'
        f'<span class="badge">{escape(severity)}</span> <span class="meta">#{rank} · '
        f"{escape(humanise(change.get('kind', '')))}</span>"
        f"<h3>{escape(change.get('title', ''))}</h3><p>{escape(change.get('story', ''))}</p>"
        f'<p class="meta">Where: {escape(cells_text(cells))}'
        + (f" · when: {escape(when['start'])} to {escape(when['end'])}" if when else "")
        + f" · id <code>{escape(change.get('id', ''))}</code></p>"
        + (_table(numbers, ("", "")) if numbers else "")
        + f'<div class="charts">{_charts(change)}</div>'
        + (f'<div class="map">{small_map}</div>' if small_map else "")
        + "</section>"
    )


def _daily_charts(data: dict[str, Any]) -> str:
    out = []
    for side in ("before", "after"):
        days = data[side].get("daily") or []
        if len(days) >= 2:
            values = [float(d["devices"]) for d in days]
            ticks = [d["day"][5:] for d in days]
            title = f"Devices per day, {side}"
            out.append(value_bars(values, title, ticks=ticks, y_label="devices"))
    return "".join(out)


def comparison_html(data: dict[str, Any]) -> str:
    """The comparison as one offline HTML document (inline CSS and SVG only)."""
    changes = data.get("changes") or []
    title = f"What changed: {data['before']['source']} → {data['after']['source']}"
    cells = list(dict.fromkeys((c, ch["severity"]) for ch in changes for c in ch["cells"]))
    near, _ = split_far_cells(cells)
    overview = cell_map(near, "Where the changes are", size=420) if near else ""
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="story">{escape(data["story"])}</p>',
        f'<p class="summary">{escape(_counts_line(changes))}</p>',
        '<h2>The two deliveries</h2><div class="card">'
        + _table(side_rows(data), ("", "Before", "After"))
        + f'<p class="meta">Both analysed at H3 resolution {escape(data["resolution"])}; areas '
        f"compared at resolution {escape(data['area_resolution'])}.</p>"
        + f'<div class="charts">{_daily_charts(data)}</div></div>',
    ]
    if overview:
        body.append(f'<h2>Where the changes are</h2><div class="card map">{overview}</div>')
    body.append("<h2>Changes, most serious first</h2>")
    if not changes:
        body.append('<div class="card">Nothing changed beyond chance and the thresholds.</div>')
    body += [_change_card(rank, c) for rank, c in enumerate(changes, start=1)]
    unchanged = data.get("unchanged") or []
    if unchanged:
        rows = [(humanise(u["kind"]), u["before_severity"], u["after_severity"]) for u in unchanged]
        body.append(
            '<h2>Findings in both deliveries</h2><div class="card">'
            + _table(rows, ("Kind", "Before", "After"))
            + "</div>"
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{PAGE_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
