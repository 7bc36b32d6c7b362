"""The summary stage: canonical pings in, mergeable count tables out.

A :class:`Summary` holds keyed tables (per cell, per device, per exact coordinate,
per second of the day …) and reading's counts; ``merge`` combines summaries of disjoint
pings exactly, so one frame, a stream of chunks and a Dask cluster give the same
summary. Detectors read summaries only (through :mod:`explorer.summary.views`).
"""

from explorer.summary.build import PerPing, summarise, summarise_prepared
from explorer.summary.tables import (
    REJECTION_REASONS,
    ROW_COLUMNS,
    TABLES,
    Summary,
    merge,
    merge_table,
    row_hash,
)

__all__ = [
    "REJECTION_REASONS",
    "ROW_COLUMNS",
    "TABLES",
    "PerPing",
    "Summary",
    "merge",
    "merge_table",
    "row_hash",
    "summarise",
    "summarise_prepared",
]
