"""How much memory an input needs when analysed in memory: the engines choose
``memory`` or ``chunked`` from it."""

from __future__ import annotations

import os

from explorer.reading.sources import InputFile

#: Bytes of working memory per byte of input while analysing in memory, by format: the
#: measured peak per input byte with a margin (docs/performance.md); gzip assumes CSV
#: compressed about four times.
EXPANSION = {"parquet": 14, "csv": 4, "gzip": 16}
#: Share of the machine's memory the memory engine may plan to use.
MEMORY_SHARE = 0.5


def total_memory() -> int:
    """Physical memory of the machine in bytes (0 when unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def input_format(path: str) -> str:
    """``parquet``, ``gzip`` or ``csv``, from the file name."""
    name = path.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    return "gzip" if name.endswith(".gz") else "csv"


def memory_needed(files: list[InputFile]) -> int:
    """Bytes the memory engine plans for these files."""
    return sum(f.size * EXPANSION[input_format(f.path)] for f in files)


def fits_in_memory(files: list[InputFile], memory: int | None = None) -> bool:
    """True when the files comfortably fit in ``memory`` (default: this machine's)."""
    budget = (total_memory() if memory is None else memory) * MEMORY_SHARE
    return bool(budget) and memory_needed(files) < budget


def unpacked_budget(memory: int | None = None) -> int:
    """The most CSV bytes the memory engine unpacks from a compressed input: what fits in
    its share of ``memory`` (default: this machine's) at the CSV expansion."""
    budget = (total_memory() if memory is None else memory) * MEMORY_SHARE
    return int(budget // EXPANSION["csv"])
