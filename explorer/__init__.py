"""Ping Bias Explorer: find the biases in mobile-device location pings.

The pipeline, one subpackage per stage::

    reading/   files -> canonical pings + rejected-row counts
    binning/   each ping's H3 cell and local clock
    summary/   mergeable count tables (per cell, device, coordinate, second ...)
    detectors/ one family per module: summaries in, findings out
    findings   kinds, the Finding record, ranking
    reports/   JSON, Markdown, HTML, GeoJSON
    engines/   memory, chunked, Dask;  cli/  the command line

The public API is re-exported here. It is loaded on first use (PEP 562): importing
``explorer`` alone stays light, so that ``python -m explorer`` can set its process
options (:mod:`explorer.cli.process`) before numpy is imported.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_PUBLIC = {
    "analyze": "explorer.analysis",
    "Analysis": "explorer.analysis",
    "read_pings": "explorer.reading.pings",
    "ReadResult": "explorer.reading.pings",
    "Finding": "explorer.findings",
    "FindingKind": "explorer.findings",
    "Config": "explorer.config",
    "PingFileError": "explorer.errors",
    "Summary": "explorer.summary",
    "summarise": "explorer.summary",
}

__all__ = [
    "Analysis",
    "Config",
    "Finding",
    "FindingKind",
    "PingFileError",
    "ReadResult",
    "Summary",
    "analyze",
    "read_pings",
    "summarise",
]

if TYPE_CHECKING:
    from explorer.analysis import Analysis, analyze
    from explorer.config import Config
    from explorer.errors import PingFileError
    from explorer.findings import Finding, FindingKind
    from explorer.reading.pings import ReadResult, read_pings
    from explorer.summary import Summary, summarise


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'explorer' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
