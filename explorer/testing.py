"""Domain helpers for tests of findings (public, like geopandas' ``testing``)."""

from __future__ import annotations

from collections.abc import Iterable

from explorer.binning.cells import cell_centre, haversine_km, str_to_cell
from explorer.findings import Finding


def serious(findings: Iterable[Finding], kind: str | None = None) -> list[Finding]:
    """Findings of severity medium or high (of one kind, when given)."""
    return [
        f for f in findings if f.severity in ("medium", "high") and (kind is None or f.kind == kind)
    ]


def km_to_nearest_cell(finding: Finding, lat: float, lon: float) -> float | None:
    """Distance in km from (lat, lon) to the nearest centre of the finding's cells."""
    if not finding.cells:
        return None
    return min(haversine_km(*cell_centre(str_to_cell(c)), lat, lon) for c in finding.cells)
