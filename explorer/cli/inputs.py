"""The pings' path as the command line receives it, made readable by every engine.

A pipe (a FIFO, ``/dev/stdin`` fed by another program, ``<(zcat pings.csv.gz)``) can be
read only once, while the chunked and dask engines read a file several times (a sample,
the sha256, the chunks). So the command line copies a pipe once, as it streams, to a
temporary file named like it, and reads that: memory stays bounded, the engine is
chosen from the real size, and the report names the input as the user did.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from explorer.errors import PingFileError
from explorer.reading import paths

#: Bytes copied per read from a pipe.
_COPY_BYTES = 1 << 20


def _copy_pipe(pipe: str, label: str, copy: str) -> None:
    try:
        source = open(pipe, "rb", buffering=0)  # noqa: SIM115 - closed below
    except OSError as exc:
        raise paths.os_problem(pipe, label, exc) from exc
    with source:
        try:
            with open(copy, "wb") as out:
                shutil.copyfileobj(source, out, _COPY_BYTES)
        except OSError as exc:
            raise PingFileError(
                f"Cannot copy {paths.shown(label)} to a temporary file ({exc.strerror}); save "
                "it to a file and pass its path, or set TMPDIR to a folder with room."
            ) from exc


@contextmanager
def readable_input(source: str, progress: Callable[[str], None]) -> Iterator[str]:
    """``source`` itself, or for a pipe a temporary copy of what it streamed (removed
    when the block ends)."""
    pipe = paths.local_path(source)
    if not paths.is_pipe(pipe):
        yield source
        return
    label = Path(pipe).name or "stdin"
    with tempfile.TemporaryDirectory(prefix="explorer-") as folder:
        copy = os.path.join(folder, label)
        progress(f"reading the pipe {paths.shown(label)} once, into a temporary file")
        _copy_pipe(pipe, label, copy)
        yield copy
