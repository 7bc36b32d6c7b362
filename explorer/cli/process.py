"""Process-level tuning of the command line (and nothing else imports it).

Three settings made when a command starts or ends, each for one measured reason
(figures in docs/performance.md):

- :func:`keep_freed_memory`: glibc keeps freed large blocks for reuse, so the hot path's
  large numpy temporaries are not faulted in and zeroed afresh each time;
- :func:`no_blas_threads`: numpy's OpenBLAS starts no spinning worker threads (nothing
  here calls BLAS);
- :func:`exit_without_teardown`: the process ends once its output is flushed, without
  freeing every object one by one.

``EXPLORER_KEEP_FREED_MEMORY=0`` in the environment turns the first off; other C
libraries (macOS, musl) are left as they are.
"""

from __future__ import annotations

import ctypes
import os
import sys
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


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (ValueError, OSError, AttributeError):
        return False


def no_blas_threads() -> None:
    """Ask numpy's OpenBLAS for no worker threads, unless the environment chose a number
    (only takes effect before numpy is imported)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


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
