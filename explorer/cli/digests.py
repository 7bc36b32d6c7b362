"""The sha256 of an input file, computed ahead on a thread.

Analysis reports name their input by sha256. Hashing a 750 MB CSV takes 0.6-1.2 s of one
core. ``analyze`` starts it before it imports the engines (about a second during which the
second core is idle), so reading and summarising no longer share the cores with it
(``profile`` prints no digest and hashes nothing).
It runs through :mod:`explorer.cli.ahead`; this module imports nothing heavy on purpose.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future

from explorer.cli import ahead

_KIND = "sha256"


def hash_ahead(path: str | os.PathLike) -> None:
    """Start hashing ``path`` on a thread (a no-op for anything but a regular file)."""
    ahead.start(_KIND, path, lambda: _file_sha256(path))


def hashed_ahead(path: str | os.PathLike) -> Future[str] | None:
    """The digest started for ``path`` if the file is unchanged since (taken once)."""
    return ahead.take(_KIND, path)


def _file_sha256(path: str | os.PathLike) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
