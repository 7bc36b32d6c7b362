"""Work on an input file started ahead on a thread, taken once by the step that needs it.

The command line starts work on its input before it imports the engines: importing
numpy, polars and pyarrow keeps one core busy for about half a second while the other
is idle. Three kinds of work start so: the sha256 an analysis report names its input by
(:mod:`explorer.cli.digests`), the parse of a CSV (:func:`explorer.reading.csv_text.read_ahead`) and
polars' decode of a Parquet file (:func:`explorer.reading.parquet.read_ahead`).
The step that needs the result takes it when the file is unchanged since (same size and
modification time) and the work was started with the same arguments; otherwise it drops
it and does the work itself.

This module imports nothing heavy on purpose, and work started here must import nothing:
two threads importing the same extension modules at once can deadlock.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

#: (kind, real path) -> (size and modification time, arguments, the work's future)
_STARTED: dict[tuple[str, str], tuple[tuple[int, int], Hashable, Future[Any]]] = {}
_LOCK = threading.Lock()


def _identity(path: str | os.PathLike) -> tuple[str, tuple[int, int]] | None:
    """The file's real path and its (size, modification time) now; None if no regular file."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return os.path.realpath(path), (info.st_size, info.st_mtime_ns)


def start(
    kind: str, path: str | os.PathLike, work: Callable[[], T], *, arguments: Hashable = None
) -> None:
    """Run ``work`` on a thread for the regular file ``path`` (nothing for anything else,
    or when work of this ``kind`` is already waiting for that file)."""
    identity = _identity(path)
    if identity is None:
        return
    real, version = identity
    future: Future[T] = Future()
    with _LOCK:
        if (kind, real) in _STARTED:
            return
        _STARTED[(kind, real)] = (version, arguments, future)

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # the taker raises it, as if it had done the work
            future.set_exception(exc)

    threading.Thread(target=run, name=f"explorer-{kind}", daemon=True).start()


def take(kind: str, path: str | os.PathLike, *, arguments: Hashable = None) -> Future[Any] | None:
    """The work of ``kind`` started for ``path``, if the file is unchanged since and the
    arguments are equal; None otherwise. Taken once: a mismatch drops it."""
    identity = _identity(path)
    if identity is None:
        return None
    real, version = identity
    with _LOCK:
        started = _STARTED.pop((kind, real), None)
    if started is None or started[:2] != (version, arguments):
        return None
    return started[2]
