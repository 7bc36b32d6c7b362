"""The comparison as data (the JSON contract, checked by ``schemas/compare.json``) and
the dispatch to Markdown and HTML."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from explorer.compare.build import (
    Comparison,
    area_rows,
    side_dict,
    unchanged_rows,
)
from explorer.compare.changes import Change
from explorer.compare.story import comparison_story
from explorer.findings import severity_at_least
from explorer.reports.schema import SCHEMA_DIR

SCHEMA_VERSION = 1
FORMATS = ("json", "markdown", "html")
SCHEMA_PATH = Path(SCHEMA_DIR) / "compare.json"


def json_safe(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def comparison_dict(comparison: Comparison) -> dict[str, Any]:
    """The whole comparison as one JSON-serialisable dict, changes in rank order."""
    data = json_safe(
        {
            "schema": SCHEMA_VERSION,
            "resolution": comparison.resolution,
            "area_resolution": comparison.area_resolution,
            "before": side_dict(comparison.before),
            "after": side_dict(comparison.after),
            "story": "",
            "changes": [c.to_dict() for c in comparison.changes],
            "unchanged": unchanged_rows(comparison),
            "panel": comparison.panel,
            "areas": area_rows(comparison.areas),
        }
    )
    data["story"] = comparison_story(data)
    return data


def failing_changes(comparison: Comparison, level: str) -> list[Change]:
    """Changes at ``level`` or worse (for ``--fail-on``)."""
    return [c for c in comparison.changes if severity_at_least(c.severity, level)]


@cache
def _schema() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


def comparison_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a comparison (a fresh copy)."""
    return json.loads(_schema())


def validate_comparison(data: dict[str, Any]) -> None:
    """Raise :class:`jsonschema.ValidationError` (the most relevant error) if ``data`` is
    not a valid comparison."""
    validator = jsonschema.Draft202012Validator(
        comparison_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise error


def render_comparison(comparison: Comparison, fmt: str = "markdown") -> str:
    """The comparison as text in ``fmt`` (json, markdown or html)."""
    from explorer.compare.render import comparison_html, comparison_markdown

    data = comparison_dict(comparison)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    if fmt == "markdown":
        return comparison_markdown(data)
    if fmt == "html":
        return comparison_html(data)
    raise ValueError(f"Unknown comparison format {fmt!r}; use one of {', '.join(FORMATS)}.")
