"""The report as ONE self-contained HTML file that opens offline.

Inline CSS and inline SVG only: no scripts, no fonts, no links, not a single URL.
Every string that came from the data (source, column names, titles, stories, evidence)
passes through :func:`html.escape` (via :func:`explorer.reports.charts.escape`, which also
breaks up ``scheme://``), so a device type like ``<script>`` shows as text.
"""

from __future__ import annotations

from typing import Any

from explorer.reports.charts import (
    SEVERITY_COLOURS,
    cell_map,
    escape,
    split_far_cells,
    value_bars,
)
from explorer.reports.coverage_render import coverage_sentences, regions_table, table_caption
from explorer.reports.evidence import (
    evidence_charts,
    format_value,
    humanise,
    key_numbers,
    records,
)
from explorer.reports.markdown import (
    MAX_KEY_NUMBERS,
    REFERENCE_HINT,
    cells_text,
    checks_run_sentence,
    column_choice_rows,
    column_hint,
    lacks_device_ids,
    needs_reference,
    not_run_sentence,
    rejection_lines,
    severity_counts,
    shown_evidence,
    skipped_groups,
    summary_line,
    time_sentences,
)
from explorer.reports.panel_chart import daily_chart, survival_heat_table
from explorer.reports.panel_render import (
    daily_table,
    distribution_table,
    histograms,
    panel_sentences,
)

_CSS = """
body{margin:0;background:#f6f7f9;color:#1d2939;
 font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:880px;margin:0 auto;padding:32px 20px 64px}
h1{font-size:26px;margin:0 0 6px;font-weight:650;word-break:break-word}
h2{font-size:18px;margin:36px 0 10px;font-weight:650}
.summary{font-size:17px;margin:0 0 24px;color:#344054}
.story{font-size:17px;margin:8px 0 16px}
.counts span{display:inline-block;margin-right:8px}
.card{background:#fff;border:1px solid #e4e7ec;border-radius:10px;padding:18px 20px;margin:14px 0}
.finding{border-left:6px solid var(--sev)}
.finding h3{font-size:17px;margin:6px 0 8px;font-weight:620}
.badge{display:inline-block;color:#fff;background:var(--sev);border-radius:999px;
 padding:1px 10px;font-size:12px;font-weight:700;letter-spacing:.04em;text-transform:uppercase}
.meta{color:#667085;font-size:13px}
.note{background:#fffaeb;border:1px solid #fedf89;border-radius:8px;padding:10px 14px}
table{border-collapse:collapse;margin:8px 0;font-size:14px}
td,th{padding:4px 12px 4px 0;text-align:left;vertical-align:top;border-bottom:1px solid #f2f4f7}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:13px;background:#f2f4f7;padding:1px 4px;border-radius:4px}
.charts svg{display:block;max-width:100%;height:auto;margin:12px 0}
.map svg{max-width:100%;height:auto}
"""
#: The page style, shared with the comparison's HTML (explorer.compare.render).
PAGE_CSS = _CSS


def _e(value: Any) -> str:
    return escape(value)


def _kv_table(rows: list[tuple[str, str]], numeric: bool = True) -> str:
    cls = ' class="n"' if numeric else ""
    body = "".join(f"<tr><th>{_e(k)}</th><td{cls}>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _records(evidence: dict[str, Any]) -> str:
    out = []
    for title, headers, rows in records(evidence):
        head = "".join(f"<th>{_e(h)}</th>" for h in headers)
        body = "".join(
            "<tr>" + "".join(f'<td class="n">{_e(v)}</td>' for v in row) + "</tr>" for row in rows
        )
        out.append(f'<p class="meta">{_e(title)}</p><table><tr>{head}</tr>{body}</table>')
    return "".join(out)


def _header(data: dict[str, Any]) -> str:
    counts = severity_counts(data.get("findings") or [])
    chips = "".join(
        f'<span class="badge" style="--sev:{SEVERITY_COLOURS[s]}">{n} {s}</span>'
        for s, n in counts.items()
        if n
    )
    return (
        f"<h1>Ping bias report: {_e(data.get('source', ''))}</h1>"
        + (f'<p class="story">{_e(data["story"])}</p>' if data.get("story") else "")
        + f'<p class="summary">{_e(summary_line(data))}</p>'
        f'<p class="counts">{chips}</p>'
    )


def _about(data: dict[str, Any]) -> str:
    prov = data.get("provenance") or {}
    rows = data.get("rows") or {}
    counts = [
        (name, f"{int(rows.get(key) or 0):,}")
        for name, key in (
            ("Rows read", "read"),
            ("Rows used", "used"),
            ("Rows rejected", "rejected"),
        )
    ]
    rejected = rejection_lines(rows)
    reasons = (
        "<p>Rejected rows by reason:</p>" + _kv_table([(r, f"{n:,}") for r, n in rejected])
        if rejected
        else "<p>No rows were rejected.</p>"
    )
    columns = data.get("columns") or {}
    column_rows = [(humanise(role), col) for role, col in columns.items()]
    if data.get("column_choices"):
        column_rows = [
            (humanise(role), f"{column} ({how}: {why})")
            for role, column, how, why in column_choice_rows(data)
        ]
    res = (
        f"H3 resolution {_e(data.get('resolution'))} "
        f"(suggested for this data: {_e(data.get('suggested_resolution'))})"
    )
    made = (
        f"explorer {_e(prov.get('version', ''))}, {_e(prov.get('generated', ''))}; "
        f"input SHA-256 <code>{_e(str(prov.get('input_sha256', ''))[:12])}…</code>, "
        f"settings SHA-256 <code>{_e(str(prov.get('config_sha256', ''))[:12])}…</code>"
    )
    return (
        '<h2>About this data</h2><div class="card">'
        f"{_kv_table(counts)}{reasons}<p>Map grid: {res}.</p>"
        + (f"<p>Columns used:</p>{_kv_table(column_rows, False)}" if column_rows else "")
        + f'<p class="meta">Made by {made}.</p></div>'
    )


def _time_and_area(data: dict[str, Any]) -> str:
    parts = []
    for sentence in time_sentences(data.get("time") or {}):
        note = sentence.removeprefix("Note: ")
        if note != sentence:
            parts.append(f'<p class="note"><strong>Note:</strong> {_e(note)}</p>')
        else:
            parts.append(f"<p>{_e(sentence)}</p>")
    bbox = data.get("bbox") or {}
    if all(
        isinstance(bbox.get(k), int | float) for k in ("lat_min", "lat_max", "lon_min", "lon_max")
    ):
        parts.append(
            f"<p>Area covered: latitude {bbox['lat_min']:.4f} to {bbox['lat_max']:.4f}, "
            f"longitude {bbox['lon_min']:.4f} to {bbox['lon_max']:.4f}.</p>"
        )
    return '<h2>Time and place</h2><div class="card">' + "".join(parts) + "</div>"


def _far_note(far: list[tuple[str, str, float, float]]) -> str:
    if not far:
        return ""
    # Adding 0.0 turns a rounded -0.0 into 0.0.
    where = "; ".join(
        f"{round(lat, 2) + 0.0:.2f}, {round(lon, 2) + 0.0:.2f}" for _, _, lat, lon in far[:3]
    )
    more = f" and {len(far) - 3} more" if len(far) > 3 else ""
    noun = "cell lies" if len(far) == 1 else "cells lie"
    return (
        f'<p class="meta">{len(far)} flagged {noun} far from the others and '
        f"{'is' if len(far) == 1 else 'are'} not drawn: near {_e(where)}{more}.</p>"
    )


def _overview_map(findings: list[dict[str, Any]]) -> str:
    cells = [
        (str(c), str(f.get("severity", "low"))) for f in findings for c in f.get("cells") or []
    ]
    near, far = split_far_cells(list(dict.fromkeys(cells)))
    svg = cell_map(near, "Where the findings are", size=420)
    if not svg:
        return ""
    return (
        '<h2>Where the findings are</h2><div class="card map">'
        f'{svg}<p class="meta">Each outline is one flagged map cell, coloured by severity. '
        "Dots mark cells too small to see at this scale.</p>"
        f"{_far_note(far)}</div>"
    )


def _checks(data: dict[str, Any]) -> str:
    """The checks that could not run, with their reasons (a note above the findings)."""
    if not data.get("skipped"):
        return ""
    items = "".join(
        f"<li>{_e(names)}: {_e(reason)}.</li>" for reason, names in skipped_groups(data)
    )
    hints = [h for h in (column_hint(data), needs_reference(data) and REFERENCE_HINT) if h]
    return (
        '<div class="note skipped"><p><strong>Checks that could not run.</strong> '
        f"{_e(not_run_sentence(data))} What they look for is neither found nor ruled out:</p>"
        f"<ul>{items}</ul>" + "".join(f"<p>{_e(h)}</p>" for h in hints) + "</div>"
    )


def _finding(rank: int, f: dict[str, Any], evidence: dict[str, Any]) -> str:
    severity = str(f.get("severity", "low"))
    colour = SEVERITY_COLOURS.get(severity, SEVERITY_COLOURS["low"])
    cells = [str(c) for c in f.get("cells") or []]
    numbers = key_numbers(evidence)[:MAX_KEY_NUMBERS]
    charts = evidence_charts(evidence)
    near, far = split_far_cells([(c, severity) for c in cells])
    small_map = cell_map(near, "Flagged cells", size=220) + _far_note(far) if near else ""
    baseline = (
        '<p class="meta">Already accepted in the baseline file: not counted by --fail-on.</p>'
        if f.get("baseline")
        else ""
    )
    return (
        f'<section class="card finding" style="--sev:{colour}">'
        f'<span class="badge">{_e(severity)}</span> <span class="meta">#{rank} · '
        f"{_e(humanise(f.get('kind', '')))} · score {_e(format_value('score', f.get('score')))}"
        f"</span><h3>{_e(f.get('title', ''))}</h3><p>{_e(f.get('story', ''))}</p>"
        f'<p class="meta">Where: {_e(cells_text(cells))} · '
        f"id <code>{_e(f.get('id', ''))}</code></p>"
        f"{baseline}"
        + (_kv_table(numbers) if numbers else "")
        + _records(evidence)
        + f'<div class="charts">{"".join(charts)}</div>'
        + (f'<div class="map">{small_map}</div>' if small_map else "")
        + "</section>"
    )


def _top_cells(data: dict[str, Any]) -> str:
    """The busiest cells, without a devices column when the data has no device ids."""
    top = data.get("top_cells") or []
    if not top:
        return ""
    with_devices = not lacks_device_ids(data)
    rows = "".join(
        f"<tr><td><code>{_e(c.get('cell', ''))}</code></td>"
        f'<td class="n">{int(c.get("pings") or 0):,}</td>'
        + (f'<td class="n">{int(c.get("devices") or 0):,}</td>' if with_devices else "")
        + "</tr>"
        for c in top
    )
    devices = "<th>Devices</th>" if with_devices else ""
    return (
        '<h2>Busiest cells</h2><div class="card"><table>'
        f"<tr><th>Cell</th><th>Pings</th>{devices}</tr>{rows}</table></div>"
    )


def _table(table: tuple[tuple[str, ...], list[tuple[str, ...]]] | None) -> str:
    """A plain table: the first column as text, the others as numbers."""
    if not table:
        return ""
    head = "".join(f"<th>{_e(h)}</th>" for h in table[0])
    body = "".join(
        f"<tr><td>{_e(row[0])}</td>" + "".join(f'<td class="n">{_e(v)}</td>' for v in row[1:])
        for row in table[1]
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _panel(data: dict[str, Any]) -> str:
    """The "Panel over time" section: the daily chart with findings' periods shaded, the
    per-device distributions, the survival heat table and the daily (or weekly) table."""
    panel = data.get("panel")
    if not panel:
        return ""
    title, table = daily_table(panel)
    bars = "".join(
        value_bars(counts, name, ticks=ticks, y_label="devices")
        for name, counts, ticks in histograms(panel)
    )
    heat = survival_heat_table(panel)
    return (
        '<h2>Panel over time</h2><div class="card charts panel">'
        f"<p>{_e(' '.join(panel_sentences(panel)))}</p>{daily_chart(panel)}"
        + (f"{_table(distribution_table(panel))}{bars}" if bars else "")
        + (f'<p class="meta">Share of devices each rule keeps:</p>{heat}' if heat else "")
        + f'<p class="meta">{_e(title)}:</p>{_table(table)}</div>'
    )


def _coverage(data: dict[str, Any]) -> str:
    """The "Coverage" section: the reference, homes, overall rate, fit, table of regions."""
    coverage = data.get("coverage")
    if not coverage:
        return ""
    return (
        f'<h2>Coverage</h2><div class="card"><p>{_e(" ".join(coverage_sentences(coverage)))}'
        f'</p><p class="meta">{_e(table_caption(coverage))}:</p>'
        f"{_table(regions_table(coverage))}</div>"
    )


def render_html(data: dict[str, Any]) -> str:
    """The whole report as one offline HTML document."""
    findings = data.get("findings") or []
    body = [_header(data), _overview_map(findings), "<h2>Findings, most serious first</h2>"]
    body.append(_checks(data))
    if not findings:
        ran = f" {_e(checks_run_sentence(data))}" if "checks_run" in data else ""
        body.append(
            '<div class="card">Nothing stood out: no bias or defect passed the thresholds.'
            f"{ran}</div>"
        )
    body += [_finding(rank, f, shown_evidence(data, f)) for rank, f in enumerate(findings, start=1)]
    body += [_coverage(data), _panel(data), _about(data), _time_and_area(data), _top_cells(data)]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Ping bias report: {_e(data.get('source', ''))}</title>"
        f"<style>{_CSS}</style></head><body><main>{''.join(body)}</main></body></html>\n"
    )
