"""The command line: ``python -m explorer analyze|profile|clean`` (see :mod:`.main`).

In: a path and flags. Out: a report on stdout or in a file, progress on stderr, and an
exit code. The process-level settings (:mod:`.process`) are made here, before anything
imports numpy, which is why :func:`entry` imports the commands inside the function.
"""

from __future__ import annotations

from typing import NoReturn

from explorer.cli.arguments import build_parser
from explorer.cli.process import (
    exit_without_teardown,
    heap_to_warm,
    keep_freed_memory,
    no_blas_threads,
    no_huge_page_advice,
    warm_heap,
)


def run() -> int:
    """The commands' work and exit code, with the process tuned first: the heap a Parquet
    input will need is faulted in on the idle core while the commands import."""
    kept = keep_freed_memory()
    no_blas_threads()
    no_huge_page_advice()
    args = build_parser().parse_args()
    if kept:
        warm_heap(heap_to_warm(args))
    from explorer.cli.main import run_command  # after the two above: it imports numpy

    return run_command(args)


def entry() -> NoReturn:
    """The program's entry point (``python -m explorer``, ``ping-explorer``)."""
    exit_without_teardown(run())
