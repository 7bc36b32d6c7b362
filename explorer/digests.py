"""The sha256 of an input file, computed ahead on a thread.

Analysis reports name their input by sha256. Hashing a 750 MB CSV takes 0.6-1.2 s of one
core. ``analyze`` starts it before it imports the engines (about a second during which the
second core is idle), so reading and summarising no longer share the cores with it
(``profile`` prints no digest and hashes nothing).
This module imports nothing heavy on purpose.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from concurrent.futures import Future

_AHEAD: dict[tuple[str, int, int], Future[str]] = {}
_LOCK = threading.Lock()


def _key(path: str | os.PathLike) -> tuple[str, int, int] | None:
    """The file's identity now (real path, size, modification time), or None if no file."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return os.path.realpath(path), info.st_size, info.st_mtime_ns


def hash_ahead(path: str | os.PathLike) -> None:
    """Start hashing ``path`` on a thread (a no-op for anything but a regular file)."""
    key = _key(path)
    if key is None:
        return
    future: Future[str] = Future()
    with _LOCK:
        if key in _AHEAD:
            return
        _AHEAD[key] = future

    def work() -> None:
        try:
            with open(path, "rb") as handle:
                future.set_result(hashlib.file_digest(handle, "sha256").hexdigest())
        except OSError as exc:
            future.set_exception(exc)

    threading.Thread(target=work, name="explorer-sha256", daemon=True).start()


def hashed_ahead(path: str | os.PathLike) -> Future[str] | None:
    """The digest started for ``path`` if the file is unchanged since (taken once)."""
    key = _key(path)
    if key is None:
        return None
    with _LOCK:
        return _AHEAD.pop(key, None)
