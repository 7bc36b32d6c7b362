"""The report as Markdown, from the JSON-contract dict of ``report_dict``.

Written for a reader who is not a data scientist: plain headings, whole sentences,
numbers with thousands separators. Every string from the data is escaped so that a
source name or a device type cannot inject Markdown or HTML.
"""

from __future__ import annotations

import re
from typing import Any

from explorer.reports.coverage_render import coverage_sentences, regions_table, table_caption
from explorer.reports.evidence import format_value, humanise, key_numbers, records
from explorer.reports.panel_render import (
    daily_table,
    distribution_table,
    panel_sentences,
    survival_pivot,
)

SEVERITY_ORDER = ("high", "medium", "low")
SEVERITY_BADGES = {"high": "🔴 HIGH", "medium": "🟠 MEDIUM", "low": "🟡 LOW"}
#: Cell ids listed by name under a finding before "and N more".
FIRST_CELLS = 5
#: Evidence scalars listed under a finding.
MAX_KEY_NUMBERS = 10
#: The command-line flag that names the column a need reads.
COLUMN_FLAGS = {"device_ids": "--device-col", "device_types": "--type-col"}
#: Kinds whose rows ``python -m explorer clean --drop KIND`` leaves out
#: (explorer.cleaning.DROPPABLE).
CLEANED_KINDS = ("null_island", "duplicate_pings", "device_concentration")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md(text: Any) -> str:
    """Text from the data, safe inside Markdown: specials backslash-escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def severity_counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    """Findings per severity, in the order high, medium, low."""
    return {s: sum(f.get("severity") == s for f in findings) for s in SEVERITY_ORDER}


def summary_line(data: dict[str, Any]) -> str:
    """ "3 high, 2 medium, 1 low findings in 172,079 pings", and how many checks could not
    run when some could not (plain text)."""
    findings = data.get("findings") or []
    pings = f"{int((data.get('rows') or {}).get('used') or 0):,} pings"
    not_run = f" {not_run_sentence(data)}" if data.get("skipped") else ""
    if not findings:
        return f"No findings in {pings}.{not_run}"
    counts = severity_counts(findings)
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    noun = "finding" if len(findings) == 1 else "findings"
    return f"{parts} {noun} in {pings}.{not_run}"


def check_name(kind: Any) -> str:
    """``device_concentration`` -> ``device concentration`` (plain text)."""
    return str(kind).replace("_", " ")


def not_run_sentence(data: dict[str, Any]) -> str:
    """ "7 of 13 checks could not run." (plain text)."""
    skipped = len(data.get("skipped") or [])
    total = skipped + len(data.get("checks_run") or [])
    noun = "check" if total == 1 else "checks"
    return f"{skipped} of {total} {noun} could not run."


def skipped_groups(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(reason, the checks it stopped) of the skipped checks, one per reason in the
    report's order, e.g. ("the file has no device id column", "Density spike, hour
    profile") (plain text)."""
    groups: dict[str, list[str]] = {}
    for item in data.get("skipped") or []:
        groups.setdefault(str(item.get("reason", "")), []).append(check_name(item.get("check")))
    return [(reason, humanise(", ".join(names))) for reason, names in groups.items()]


def checks_run_sentence(data: dict[str, Any]) -> str:
    """ "The 6 checks that ran: null island, distant points, …." (plain text)."""
    ran = [check_name(kind) for kind in data.get("checks_run") or []]
    if not ran:
        return "No check could run."
    noun = "check that ran" if len(ran) == 1 else f"{len(ran)} checks that ran"
    return f"The {noun}: {', '.join(ran)}."


def column_hint(data: dict[str, Any]) -> str | None:
    """How to name a column the reader did not recognise, when a check was skipped for
    want of one (plain text)."""
    flags = {
        COLUMN_FLAGS[need]
        for item in data.get("skipped") or []
        if "column" in str(item.get("reason", ""))
        for need in item.get("missing") or ()
        if need in COLUMN_FLAGS
    }
    if not flags:
        return None
    return (
        "If the file has such a column under a name that was not recognised, name it "
        f"({', '.join(sorted(flags))}, or the column form in the app) and run again."
    )


#: How to give the coverage check its reference population (the reports' words).
REFERENCE_HINT = (
    "To check who the panel represents, give a population layer (regions with their "
    "residents: GeoJSON, GeoPackage, zipped Shapefile, GeoParquet, or a CSV of H3 cells) "
    "with --reference FILE, or upload it on the app's Coverage page."
)


def needs_reference(data: dict[str, Any]) -> bool:
    """Whether a check was skipped for want of a reference population."""
    return any("reference" in (item.get("missing") or ()) for item in data.get("skipped") or [])


def lacks_device_ids(data: dict[str, Any]) -> bool:
    """Whether checks were skipped for want of device ids (every device count reads 0)."""
    return any("device_ids" in (s.get("missing") or ()) for s in data.get("skipped") or [])


def shown_evidence(data: dict[str, Any], finding: dict[str, Any]) -> dict[str, Any]:
    """A finding's evidence as a report shows it: without device counts when the data
    has no device ids."""
    evidence = finding.get("evidence") or {}
    if not lacks_device_ids(data):
        return evidence
    # Imported here: rendering needs the detectors' package only for data without ids.
    from explorer.detectors.needs import without_device_counts

    return without_device_counts(evidence)


def time_sentences(time: dict[str, Any]) -> list[str]:
    """What the timestamps mean, with a clear warning when they had no zone (plain text)."""
    interpretation = str(time.get("interpretation") or "unknown")
    out = [f"Timestamps were read as: {interpretation}."]
    start, end = time.get("start"), time.get("end")
    if start and end:
        out.append(f"The data runs from {start} to {end} (shown in UTC).")
    if is_naive(time):
        out.append(
            "Note: the timestamps carry no time zone, so they were read as local clock time "
            "(at each ping's place unless a zone was given). If the file is really in UTC or "
            "another zone, every hour in this report is shifted; re-run with --tz ZONE."
        )
    return out


def is_naive(time: dict[str, Any]) -> bool:
    """True when the timestamps had no zone and were read as local time."""
    if "naive" in time:
        return bool(time["naive"])
    return "naive" in str(time.get("interpretation", "")).lower()


def rejection_lines(rows: dict[str, Any]) -> list[tuple[str, int]]:
    """(reason in words, rows) of every reason that rejected at least one row."""
    reasons = rows.get("rejected_by_reason") or {}
    return [(humanise(k), int(v)) for k, v in reasons.items() if v]


def column_choice_rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(role, column, how, why) of every column choice: given explicitly, found by its
    name or by its content (plain text: escape it where Markdown or HTML shows it)."""
    rows = []
    for choice in data.get("column_choices") or []:
        role, column, how, why = (str(choice.get(k, "")) for k in ("role", "column", "how", "why"))
        rows.append((role, column, how, why))
    return rows


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _about(data: dict[str, Any]) -> list[str]:
    prov = data.get("provenance") or {}
    lines = ["## About this data", ""]
    lines.append(f"- **Source:** {md(data.get('source', ''))}")
    lines.append(
        f"- **Map grid:** H3 resolution {data.get('resolution')} "
        f"(suggested for this data: {data.get('suggested_resolution')})"
    )
    columns = data.get("columns") or {}
    if columns:
        used = ", ".join(f"{md(role)} ← {md(col)}" for role, col in columns.items())
        lines.append(f"- **Columns used:** {used}")
        lines += [
            f"  - {md(role)} ← {md(column)} ({how}): {md(why)}"
            for role, column, how, why in column_choice_rows(data)
        ]
    lines.append(
        f"- **Made by:** explorer {md(prov.get('version', ''))} on {md(prov.get('generated', ''))}"
        f"; input SHA-256 {md(str(prov.get('input_sha256', ''))[:12])}…, "
        f"settings SHA-256 {md(str(prov.get('config_sha256', ''))[:12])}…"
    )
    return lines + [""]


def _rows_and_time(data: dict[str, Any]) -> list[str]:
    rows = data.get("rows") or {}
    lines = ["## Rows", ""]
    lines += _table(
        ("", "Rows"),
        [
            (name, f"{int(rows.get(key) or 0):,}")
            for name, key in (("Read", "read"), ("Used", "used"), ("Rejected", "rejected"))
        ],
    )
    rejected = rejection_lines(rows)
    lines.append("")
    if rejected:
        lines.append("Rejected rows by reason:")
        lines.append("")
        lines += [f"- {md(reason)}: {n:,}" for reason, n in rejected]
    else:
        lines.append("No rows were rejected.")
    lines += ["", "## Time", ""]
    for sentence in time_sentences(data.get("time") or {}):
        note = sentence.removeprefix("Note: ")
        lines += [f"> **Note:** {md(note)}" if note != sentence else md(sentence), ""]
    bbox = data.get("bbox") or {}
    if all(bbox.get(k) is not None for k in ("lat_min", "lat_max", "lon_min", "lon_max")):
        lines += [
            "## Area",
            "",
            f"Latitude {bbox['lat_min']:.4f} to {bbox['lat_max']:.4f}, "
            f"longitude {bbox['lon_min']:.4f} to {bbox['lon_max']:.4f}.",
        ]
    return lines + [""]


def cells_text(cells: list[str]) -> str:
    """ "3 cells (a, b, c)" or "12 cells (a, …, e and 7 more)" (plain text)."""
    if not cells:
        return "the whole data set"
    shown = ", ".join(str(c) for c in cells[:FIRST_CELLS])
    more = f" and {len(cells) - FIRST_CELLS} more" if len(cells) > FIRST_CELLS else ""
    noun = "cell" if len(cells) == 1 else "cells"
    return f"{len(cells)} {noun} ({shown}{more})"


def _checks(data: dict[str, Any]) -> list[str]:
    """The checks that could not run, with their reasons; which ran when nothing was found."""
    lines = []
    if data.get("skipped"):
        lines += ["## Checks that could not run", ""]
        lines += [
            f"{md(not_run_sentence(data))} What they look for is neither found nor ruled out:",
            "",
        ]
        lines += [f"- {md(names)}: {md(reason)}." for reason, names in skipped_groups(data)]
        lines.append("")
        hint = column_hint(data)
        lines += [md(hint), ""] if hint else []
        lines += [md(REFERENCE_HINT), ""] if needs_reference(data) else []
    return lines


def cli_remedy(kind: str, evidence: dict[str, Any]) -> str | None:
    """The command line that acts on a finding (the CLI's and this report's words for what
    the app offers as a button), or None."""
    if kind in CLEANED_KINDS:
        return f"python -m explorer clean PATH --drop {kind} --output FILE"
    tz = evidence.get("suggested_tz")
    if kind == "timezone_shift" and isinstance(tz, str) and re.fullmatch(r"[\w/+:-]+", tz):
        return f"python -m explorer analyze PATH --tz {tz}"
    if kind == "timestamp_heaping" and evidence.get("pattern") == "truncated_days":
        return "python -m explorer analyze PATH --date-col DATE --time-col TIME"
    return None


def _finding(rank: int, f: dict[str, Any], evidence: dict[str, Any]) -> list[str]:
    badge = SEVERITY_BADGES.get(f.get("severity"), md(f.get("severity", "")))
    lines = [f"### {rank}. {badge} — {md(f.get('title', ''))}", "", md(f.get("story", "")), ""]
    lines.append(f"- **Where:** {md(cells_text(list(f.get('cells') or [])))}")
    lines.append(
        f"- **Kind:** {md(humanise(f.get('kind', '')))} · "
        f"**Score:** {format_value('score', f.get('score'))} · **Id:** {md(f.get('id', ''))}"
    )
    if f.get("baseline"):
        lines.append("- Already accepted in the baseline file: not counted by --fail-on.")
    if remedy := cli_remedy(str(f.get("kind", "")), evidence):
        lines.append(f"- **Command line:** `{remedy}`")
    numbers = key_numbers(evidence)[:MAX_KEY_NUMBERS]
    if numbers:
        lines += ["", *_table(("Key number", "Value"), [(md(k), md(v)) for k, v in numbers])]
    for title, headers, rows in records(evidence):
        cells = [tuple(md(v) for v in row) for row in rows]
        lines += ["", f"{md(title)}:", "", *_table(tuple(md(h) for h in headers), cells)]
    return lines + [""]


def _top_cells(data: dict[str, Any]) -> list[str]:
    """The busiest cells, without a devices column when the data has no device ids."""
    top = data.get("top_cells") or []
    if not top:
        return []
    with_devices = not lacks_device_ids(data)
    header = ("Cell", "Pings", "Devices") if with_devices else ("Cell", "Pings")
    rows = [
        (md(c.get("cell", "")), f"{c.get('pings', 0):,}")
        + ((f"{c.get('devices', 0):,}",) if with_devices else ())
        for c in top
    ]
    return ["## Busiest cells", "", *_table(header, rows), ""]


def _panel(data: dict[str, Any]) -> list[str]:
    """The "Panel over time" section: how days count, the rule, the daily (or weekly)
    table, the per-device distributions and the survival table."""
    panel = data.get("panel")
    if not panel:
        return []
    lines = ["## Panel over time", "", md(" ".join(panel_sentences(panel))), ""]
    title, (header, rows) = daily_table(panel)
    lines += [f"{md(title)}:", "", *_table(header, [tuple(md(v) for v in r) for r in rows]), ""]
    for caption, table in (
        ("Per device", distribution_table(panel)),
        ("Share of devices a usable-panel rule keeps", survival_pivot(panel)),
    ):
        if table:
            cells = [tuple(md(v) for v in row) for row in table[1]]
            lines += [f"{caption}:", "", *_table(table[0], cells), ""]
    return lines


def _coverage(data: dict[str, Any]) -> list[str]:
    """The "Coverage" section: the reference, the homes, the overall rate, the fit and
    the table of regions (nothing without a reference population)."""
    coverage = data.get("coverage")
    if not coverage:
        return []
    header, rows = regions_table(coverage)
    cells = [tuple(md(v) for v in row) for row in rows]
    lines = ["## Coverage", "", md(" ".join(coverage_sentences(coverage))), ""]
    return lines + [f"{md(table_caption(coverage))}:", "", *_table(header, cells), ""]


def render_markdown(data: dict[str, Any]) -> str:
    """The whole report as Markdown text."""
    lines = [f"# Ping bias report: {md(data.get('source', ''))}", ""]
    lines += [md(data["story"]), ""] if data.get("story") else []
    lines += [f"**{summary_line(data)}**", ""]
    lines += _about(data) + _rows_and_time(data)
    findings = data.get("findings") or []
    lines += _checks(data)
    lines += ["## Findings, most serious first", ""]
    if not findings:
        lines += ["Nothing stood out: no bias or defect passed the thresholds.", ""]
        if "checks_run" in data:
            lines += [md(checks_run_sentence(data)), ""]
    for rank, finding in enumerate(findings, start=1):
        lines += _finding(rank, finding, shown_evidence(data, finding))
    return "\n".join(lines + _coverage(data) + _panel(data) + _top_cells(data))
