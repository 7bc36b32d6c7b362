"""The report as data (the JSON contract) and the dispatch to Markdown and HTML."""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from typing import Any

from explorer.analysis import Analysis
from explorer.findings import Finding, severity_at_least
from explorer.reading.column_choice import column_choices
from explorer.reports.coverage import coverage_section
from explorer.reports.html import render_html
from explorer.reports.markdown import render_markdown
from explorer.reports.panel import panel_section
from explorer.reports.story import data_story

SCHEMA_VERSION = 1
FORMATS = ("json", "markdown", "html")


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def finding_dict(finding: Finding, baseline: Collection[str] = ()) -> dict[str, Any]:
    data = finding.to_dict()
    data["baseline"] = finding.id in baseline
    return _clean(data)


def report_dict(analysis: Analysis, baseline: Collection[str] = ()) -> dict[str, Any]:
    """The whole report as one JSON-serialisable dict, findings in rank order."""
    profile = analysis.profile()
    return _clean(
        {
            "schema": SCHEMA_VERSION,
            "source": analysis.source,
            "story": data_story(analysis),
            "resolution": analysis.resolution,
            "suggested_resolution": analysis.suggested_resolution,
            "provenance": analysis.provenance(),
            "rows": profile["rows"],
            "time": profile["time"],
            "bbox": profile["bbox"],
            "top_cells": profile["top_cells"],
            "columns": analysis.columns,
            "column_choices": column_choices(analysis.columns),
            "findings": [finding_dict(f, baseline) for f in analysis.findings],
            **checks_sections(analysis),
            "panel": panel_section(analysis),
            "coverage": coverage_section(analysis),
        }
    )


def checks_sections(analysis: Analysis) -> dict[str, Any]:
    """The ``skipped`` checks (each with what the data lacks and why) and the kinds of
    the ``checks_run``."""
    return {
        "skipped": [s.to_dict() for s in analysis.skipped],
        "checks_run": list(analysis.checks_run),
    }


def failing_findings(
    analysis: Analysis, level: str, baseline: Collection[str] = ()
) -> list[Finding]:
    """Findings at ``level`` or worse that are not in the baseline (for ``--fail-on``)."""
    return [
        f
        for f in analysis.findings
        if severity_at_least(f.severity, level) and f.id not in baseline
    ]


def render(analysis: Analysis, fmt: str = "markdown", baseline: Collection[str] = ()) -> str:
    """The report as text in ``fmt`` (json, markdown or html)."""
    data = report_dict(analysis, baseline)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    if fmt == "markdown":
        return render_markdown(data)
    if fmt == "html":
        return render_html(data)
    raise ValueError(f"Unknown report format {fmt!r}; use one of {', '.join(FORMATS)}.")
