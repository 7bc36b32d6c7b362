"""Helpers for the report tests.

Imported by the test modules: ``from tests.reports.conftest import finding_dict``.
"""

from __future__ import annotations

from typing import Any


def finding_dict(**fields: Any) -> dict[str, Any]:
    """A finding as a JSON report holds it: a valid null-island finding, ``fields`` replaced."""
    finding = {
        "id": "0123456789abcdef",
        "kind": "null_island",
        "severity": "high",
        "score": 2.5,
        "title": "t",
        "story": "s",
        "cells": ["88754e6499fffff"],
        "period": None,
        "regions": [],
        "evidence": {},
        "baseline": False,
    }
    return {**finding, **fields}
