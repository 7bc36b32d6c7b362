"""Comparing two deliveries: two ping sources (or two analyses at one resolution) in,
the changes between them out, each shaped like a finding (id, kind, severity, score,
title, story, cells, period, regions, evidence), with a story and the JSON contract of
``python -m explorer compare BEFORE AFTER``.
"""

from explorer.compare.build import Comparison, compare_analyses, compare_sources
from explorer.compare.changes import Change, ChangeKind
from explorer.compare.contract import (
    comparison_dict,
    failing_changes,
    render_comparison,
    validate_comparison,
)

__all__ = [
    "Change",
    "ChangeKind",
    "Comparison",
    "compare_analyses",
    "compare_sources",
    "comparison_dict",
    "failing_changes",
    "render_comparison",
    "validate_comparison",
]
