"""How much memory an input needs when analysed in memory (imports nothing heavy).

The engines choose ``memory`` or ``chunked`` from it, and the command line sizes the
heap it faults in ahead (:func:`explorer.cli.allocator.warm_heap`) from it.
"""

from __future__ import annotations

import os

from explorer.reading.sources import InputFile

#: Bytes of working memory per byte of input while analysing in memory, by format, with
#: a margin (measured at 10 M pings: Parquet 0.22 GB on disk, 2.4 GB at peak, 11x; CSV
#: 0.75 GB, 2.6 GB, 3.5x; gzip assumes CSV compressed about four times).
EXPANSION = {"parquet": 14, "csv": 4, "gzip": 16}
#: Values the hot path's chains of elementwise steps work at a time (coordinate decimals,
#: the clock fields, time-zone offsets, the H3 grid's squares): 65,536 64-bit values are
#: 512 KB, so a chain's scratch stays in a core's cache, where whole columns made an
#: 80 MB temporary per step and ten million pings, each costing more to map than to
#: compute on the reference machine (see the README's "where the time goes").
CACHE_BLOCK = 1 << 16
#: Share of the machine's memory the memory engine may plan to use.
MEMORY_SHARE = 0.5
#: Share of that need worth faulting in ahead, by format. From Parquet, numpy's heap
#: peaks at 0.93-0.98 GB of the 3.0 GB planned for 10 M pings (0.22 GB on disk), after
#: the read: faulting in a quarter ahead adds nothing to the peak (0.3, 0.9 GB, added
#: 0.1 GB to it and no speed in eight alternating pairs). A CSV's peak comes while
#: it is parsed, before numpy's heap grows (the file and Arrow's table are held then):
#: memory faulted in ahead would add to it (3.1-3.3 GB instead of 2.5-2.6 GB measured).
WARM_SHARE = {"parquet": 0.25, "csv": 0.0, "gzip": 0.0}


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


def heap_to_warm(files: list[InputFile]) -> int:
    """Bytes of heap worth faulting in ahead for analysing these files in memory."""
    shares = ((f.size, input_format(f.path)) for f in files)
    return int(sum(size * EXPANSION[kind] * WARM_SHARE[kind] for size, kind in shares))
