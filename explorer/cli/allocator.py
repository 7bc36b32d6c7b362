"""Keeping freed memory for reuse: a process-wide setting of glibc's ``malloc``.

Summarising ten million pings makes dozens of numpy temporaries of 40-80 MB. glibc
serves every allocation above 32 MB with a fresh ``mmap`` and unmaps it when freed, so
each temporary is faulted in and zeroed page by page again: on the 2-core reference
machine that cost ~1 ms per MB, 90 ms for an array that takes 15 ms to compute, and
about a third of the CPU time of a whole summary. With the settings below freed blocks
stay in the heap and the next temporary reuses them (measured on 10 M pings: end to
end 7.2-7.5 s → 6.3-6.6 s in-process, same session).

The cost: up to ``TRIM_THRESHOLD`` bytes of freed memory stay mapped to the process
(they are reused by the next analysis, the peak is unchanged). The command line, the
benchmark and the app call :func:`keep_freed_memory` at start; a notebook may too.
``EXPLORER_KEEP_FREED_MEMORY=0`` in the environment turns it off. Other C libraries
(macOS, musl) are left as they are.

With freed memory kept, heap can also be faulted in ahead (:func:`warm_heap`): the
command line does it on a thread while it imports the engines, when the second core is
otherwise idle, so that numpy's first large arrays find their pages already there.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import threading
from collections.abc import Callable

#: glibc's ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8
#: Freed memory at the top of the heap kept for reuse instead of returned to the system
#: (the largest value ``mallopt`` takes: its argument is a C int).
TRIM_THRESHOLD = 2**31 - 1
#: Environment variable that turns the setting off when set to ``0``.
ENV_SWITCH = "EXPLORER_KEEP_FREED_MEMORY"


def keep_freed_memory() -> bool:
    """Make glibc keep freed large blocks for reuse; True when the setting was applied.

    Three settings: no ``mmap`` for large blocks (they come from the heap, where freed
    blocks are reused), one arena (threads' blocks come from that same heap: another
    arena is at most 64 MB and maps larger blocks anyway), and a high trim threshold
    (freed memory is not handed back at once). Idempotent.
    """
    if os.environ.get(ENV_SWITCH, "1") == "0" or not _glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    settings = ((_M_ARENA_MAX, 1), (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    applied = all(mallopt(param, value) == 1 for param, value in settings)
    _KEPT[0] = _KEPT[0] or applied
    return applied


#: Whether :func:`keep_freed_memory` applied in this process (a list: set in place).
_KEPT = [False]
#: Most heap faulted in ahead: about what the idle core faults in while the engines are
#: imported (~0.6 s at ~1 ms per MB on the reference machine).
WARM_MAX = 768 << 20


def warm_heap(size: int) -> threading.Thread | None:
    """Fault in ``min(size, WARM_MAX)`` bytes of heap on a thread, then free them for reuse.

    Only where :func:`keep_freed_memory` applied (otherwise freeing would hand the pages
    straight back). Returns the thread, or None when there is nothing to do. Measured on
    10 M Parquet pings, ``profile`` in eight alternating runs: median 7.07 s without,
    6.55 s with 768 MB faulted in ahead; peak memory unchanged.
    """
    size = min(size, WARM_MAX)
    if not _KEPT[0] or size <= 0:
        return None
    thread = threading.Thread(target=_fault_in, args=(size,), name="explorer-warm", daemon=True)
    thread.start()
    return thread


def _fault_in(size: int) -> None:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    block = libc.malloc(size)
    if block:
        populate(block, size, libc.madvise)
        libc.free(block)


#: ``madvise`` advice (Linux 5.14+): fault in a range's pages, writable, in one call.
MADV_POPULATE_WRITE = 23
#: Bytes populated per call. One call for all 768 MB made the whole ``profile`` 0.28 s
#: slower in eight alternating pairs, 8 MB steps did not: likely because a call holds
#: the process's memory-map lock, which the other threads need to map memory.
POPULATE_STEP = 8 << 20


def populate(block: int, size: int, madvise: Callable[[int, int, int], int]) -> None:
    """Fault in the pages of ``size`` bytes at address ``block`` (ctypes drops the GIL
    during each call).

    The kernel fills whole ranges (``MADV_POPULATE_WRITE``) instead of taking a fault
    per 4 KiB page as writing them does: 768 MB of fresh heap in 0.40-0.61 s of system
    time against 0.65-0.86 s with ``memset`` (fresh processes, alternating), and 0.36
    CPU-s less per ten-million-ping ``profile``. A kernel that refuses the advice gets
    the rest written instead.
    """
    start = -(-block // mmap.PAGESIZE) * mmap.PAGESIZE  # the whole pages in the block
    end = (block + size) // mmap.PAGESIZE * mmap.PAGESIZE
    for at in range(start, end, POPULATE_STEP):
        if madvise(at, min(POPULATE_STEP, end - at), MADV_POPULATE_WRITE) != 0:
            ctypes.memset(at, 0, block + size - at)
            return


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (ValueError, OSError, AttributeError):
        return False
