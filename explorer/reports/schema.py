"""The JSON Schema of the whole report, composed with the per-kind evidence fragments.

``explorer/reports/schemas/report.json`` describes the report; each detector family documents
the ``evidence`` of its kinds in ``schemas/evidence_<family>.json`` as
``{kind: JSON Schema}``. :func:`report_schema` embeds every family file as its own
schema resource (so references inside a fragment resolve within its file) and adds one
``if kind == K then evidence is $ref K`` rule per kind.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_DIR = Path(__file__).parent / "schemas"
_FAMILY_ID = "urn:explorer:schema:evidence:{family}"


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def evidence_fragments(schema_dir: Path = SCHEMA_DIR) -> dict[str, dict[str, Any]]:
    """Family name -> its ``{kind: schema}`` fragment file, for every evidence_*.json."""
    return {
        path.stem.removeprefix("evidence_"): _load(path)
        for path in sorted(schema_dir.glob("evidence_*.json"))
    }


def compose(report: dict[str, Any], fragments: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The report schema with each family embedded and one evidence rule per kind.

    Keys of a family file that start with ``$`` (``$defs``, ``$comment``) are shared
    definitions of that file, not kinds.
    """
    schema = copy.deepcopy(report)
    defs = schema.setdefault("$defs", {})
    rules = defs["finding"].setdefault("allOf", [])
    for family, kinds in fragments.items():
        uri = _FAMILY_ID.format(family=family)
        defs[f"evidence_{family}"] = {"$id": uri, **copy.deepcopy(kinds)}
        for kind in sorted(k for k in kinds if not k.startswith("$")):
            rules.append(
                {
                    "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                    "then": {"properties": {"evidence": {"$ref": f"{uri}#/{kind}"}}},
                }
            )
    return schema


@cache
def _cached_schema(schema_dir: str) -> str:
    directory = Path(schema_dir)
    schema = compose(_load(directory / "report.json"), evidence_fragments(directory))
    return json.dumps(schema)


def report_schema(schema_dir: Path | str = SCHEMA_DIR) -> dict[str, Any]:
    """The composed JSON Schema (draft 2020-12) of the whole report (a fresh copy)."""
    return json.loads(_cached_schema(str(schema_dir)))


def validate_report(data: dict[str, Any], schema_dir: Path | str = SCHEMA_DIR) -> None:
    """Raise :class:`jsonschema.ValidationError` (the most relevant error) if ``data``
    is not a valid report."""
    schema = report_schema(schema_dir)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise error
