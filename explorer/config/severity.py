"""Thresholds shared by every detector: error rates and the meaning of severity."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.config.base import setting


@dataclass(frozen=True)
class SeverityConfig:
    """How sure and how big a finding must be, whatever its kind."""

    fdr: float = setting(
        0.01,
        "False-discovery rate for Benjamini–Hochberg across the cells one detector tests: "
        "with thousands of cells, 1 % keeps false alarms to a handful of low findings.",
    )
    min_devices: int = setting(
        5,
        "A place-bound finding about people needs at least this many distinct devices behind "
        "it; fewer is one household, not a population.",
    )
    max_findings_per_kind: int = setting(
        10,
        "At most this many findings of one kind are listed (the strongest); a pattern in more "
        "places is better told as one data-set-wide finding.",
    )
