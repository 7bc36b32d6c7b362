"""Process-level tuning of the command line (and nothing else imports it).

Five settings made when a command starts or ends, each for one measured reason
(figures in docs/performance.md):

- :func:`keep_freed_memory`: glibc keeps freed large blocks for reuse, so the hot path's
  large numpy temporaries are not faulted in and zeroed afresh each time;
- :func:`warm_heap`: with freed blocks kept, part of the heap a Parquet input will need is
  faulted in on the idle core while the command imports its modules;
- :func:`no_blas_threads`: numpy's OpenBLAS starts no spinning worker threads (nothing
  here calls BLAS);
- :func:`no_huge_page_advice`: numpy does not ask the kernel for transparent huge pages
  for its large arrays, which on a virtual machine that hands free memory back to its
  host made every fresh 2 MB page cost a host fault;
- :func:`exit_without_teardown`: the process ends once its output is flushed, without
  freeing every object one by one.

``EXPLORER_KEEP_FREED_MEMORY=0`` in the environment turns the first off; other C
libraries (macOS, musl) are left as they are.
"""

from __future__ import annotations

import argparse
import ctypes
import mmap
import os
import sys
import threading
from typing import NoReturn

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
    return all(mallopt(param, value) == 1 for param, value in settings)


#: Heap faulted in ahead, at most: about what the idle core faults in while the command
#: imports its modules.
WARM_MAX = 768 << 20
#: Share of a Parquet input's planned memory (``explorer.engines.sizing.EXPANSION``, 14
#: bytes per byte of file) worth faulting in ahead: numpy's heap peaks after the read at
#: about a third of the plan, so a quarter is reused, never added to the peak. A CSV's
#: peak comes while it is parsed, before numpy's heap grows: nothing is warmed for it.
PARQUET_WARM_BYTES_PER_BYTE = 14 * 0.25
#: ``madvise`` advice (Linux 5.14+): fault in a range's pages, writable, in one call.
MADV_POPULATE_WRITE = 23
#: Bytes populated per call: a call holds the process's memory-map lock, which the
#: importing thread needs too.
POPULATE_STEP = 8 << 20


def heap_to_warm(args: argparse.Namespace) -> int:
    """Bytes of heap worth faulting in ahead for a command: a quarter of the plan for one
    local Parquet file analysed or profiled in memory, nothing otherwise."""
    if args.command not in ("analyze", "profile") or args.engine not in ("auto", "memory"):
        return 0
    path = str(args.path)
    if not path.lower().endswith((".parquet", ".pq")) or not os.path.isfile(path):
        return 0
    return min(int(os.path.getsize(path) * PARQUET_WARM_BYTES_PER_BYTE), WARM_MAX)


def warm_heap(size: int) -> threading.Thread | None:
    """Fault in ``size`` bytes of heap on a thread, then free them for reuse (only useful,
    and only done, once :func:`keep_freed_memory` applied); the thread, or None."""
    if size <= 0:
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


def populate(block: int, size: int, madvise) -> None:
    """Fault in the pages of ``size`` bytes at address ``block``: the kernel fills whole
    ranges at once rather than a fault per page; a kernel that refuses the advice gets the
    rest written instead."""
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


def no_blas_threads() -> None:
    """Ask numpy's OpenBLAS for no worker threads, unless the environment chose a number
    (only takes effect before numpy is imported)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def no_huge_page_advice() -> None:
    """Ask numpy not to advise transparent huge pages for its arrays (its documented
    ``NUMPY_MADVISE_HUGEPAGE`` switch), so the system's own policy applies; a value the
    user set is kept. Only takes effect before numpy is imported."""
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


#: Exit code when stdout or stderr cannot be flushed at the end (Python's own).
EXIT_FLUSH_FAILED = 120


def exit_without_teardown(code: int) -> NoReturn:
    """End the process with ``code`` once stdout and stderr are flushed, skipping Python's
    teardown (the system reclaims the memory at once; every file a command writes, and
    any Dask cluster, is closed before the command returns)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # a closed pipe or stream, or none
            code = code or EXIT_FLUSH_FAILED
    os._exit(code)
