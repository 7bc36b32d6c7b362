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
"""

from __future__ import annotations

import ctypes
import os

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
