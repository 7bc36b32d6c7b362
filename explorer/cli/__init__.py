"""The command line: ``python -m explorer analyze|profile|clean`` (see :mod:`.main`).

In: a path and flags. Out: a report on stdout or in a file, progress on stderr, and an
exit code. The process-level settings (:mod:`.process`) are made here, before anything
imports numpy, which is why :func:`entry` imports the commands inside the function.
"""

from __future__ import annotations

from typing import NoReturn

from explorer.cli.process import exit_without_teardown, keep_freed_memory, no_blas_threads


def run() -> int:
    """The commands' work and exit code, with the process tuned first."""
    keep_freed_memory()
    no_blas_threads()
    from explorer.cli.main import main  # after no_blas_threads: it imports numpy

    return main()


def entry() -> NoReturn:
    """The program's entry point (``python -m explorer``, ``ping-explorer``)."""
    exit_without_teardown(run())
