"""What a local path names, and why it cannot be read, in one sentence.

A ``file://`` URL is a local path. Regular files and folders are read as usual; a pipe
(a FIFO, or ``/dev/stdin`` fed by one) can be read only once, so whoever reads it reads
it whole, once; a device (``/dev/zero``, a terminal) or a socket is refused. The
system's errors (missing, name too long, permission denied, link loops, a file where a
folder was expected) become a :class:`PingFileError` that names the path and the cause.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from urllib.parse import unquote

from explorer.errors import PingFileError

#: Longest name shown whole in a message; a longer one is cut (its length is stated).
SHOWN_CHARACTERS = 60
_FILE_URL = "file://"


def local_path(source: str) -> str:
    """``source`` with a ``file://`` URL turned into its path, as fsspec reads it:
    ``file:///data/p.csv`` is ``/data/p.csv``, ``file://p.csv`` the relative ``p.csv``;
    percent escapes (``%20``) are decoded."""
    if not source.startswith(_FILE_URL):
        return source
    rest = source[len(_FILE_URL) :]
    if rest.startswith("localhost/"):
        rest = rest[len("localhost") :]
    return unquote(rest)


def shown(name: str) -> str:
    """``name`` for a message: its start and end, with its length, when it would swamp
    the line."""
    if len(name) <= SHOWN_CHARACTERS:
        return name
    half = SHOWN_CHARACTERS // 2
    return f"{name[:half]}…{name[-half:]} ({len(name)} characters)"


def _too_long(path: str) -> str:
    longest = max((os.fsencode(part) for part in path.split(os.sep)), key=len, default=b"")
    if len(longest) > 255:  # NAME_MAX on Linux, macOS and Windows alike
        return f"a name in its path is {len(longest)} bytes long, more than the 255 allowed"
    return "the path is longer than the system allows"


def _file_on_the_way(path: str) -> str:
    """The first part of ``path`` that is a file where a folder should be."""
    for part in reversed(Path(path).parents):
        if os.path.exists(part) and not os.path.isdir(part):
            return shown(part.name)
    return "a part of its path"


def cause(path: str | os.PathLike, exc: OSError) -> tuple[str, str]:
    """What went wrong on ``path`` and how to fix it, as two clauses."""
    text = os.fspath(path)
    if exc.errno == errno.ENOENT and os.path.islink(text):
        target = shown(os.readlink(text))
        return f"it is a link to {target}, which does not exist", "fix the link"
    if exc.errno == errno.ENAMETOOLONG:
        return _too_long(text), "rename it or shorten the path"
    if exc.errno == errno.ELOOP:
        return "its path goes round a loop of symbolic links", "fix the links"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied", "make it readable or copy it somewhere you can read"
    if exc.errno == errno.ENOTDIR:
        return f"{_file_on_the_way(text)} is a file, not a folder", "check the path"
    if exc.errno == errno.EISDIR:
        return "it is a folder", "give a file"
    return (exc.strerror or type(exc).__name__).lower(), "check the path"


def os_problem(path: str | os.PathLike, label: str, exc: OSError) -> PingFileError:
    """The error for a system error met while reading ``path`` (``label`` in messages)."""
    if exc.errno == errno.ENOENT and not os.path.islink(os.fspath(path)):
        return PingFileError(f"File {shown(label)} does not exist; check the path.")
    what, fix = cause(path, exc)
    return PingFileError(f"{shown(label)} cannot be read: {what}; {fix}.")


def system_error(exc: OSError) -> str:
    """One sentence for a system error that no reader turned into a PingFileError."""
    if not exc.filename:
        return f"{exc.strerror or exc}; check the files and flags given."
    name = os.fspath(exc.filename)
    what, fix = cause(name, exc)
    return f"{shown(name)} cannot be used: {what}; {fix}."


def _is_terminal(info: os.stat_result) -> bool:
    """True when ``info`` is this process's terminal (``/dev/stdin`` typed at)."""
    for fd in (0, 1, 2):
        try:
            if os.path.samestat(info, os.fstat(fd)) and os.isatty(fd):
                return True
        except OSError:
            continue
    return False


def checked_stat(path: str | os.PathLike, label: str) -> os.stat_result:
    """``os.stat(path)`` for a file, a folder or a pipe; a one-sentence
    :class:`PingFileError` for anything else (a device, a socket, a system error)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise os_problem(path, label, exc) from exc
    except ValueError as exc:  # a NUL character: no file can have that name
        raise PingFileError(f"{shown(label)} is not a valid path; check it.") from exc
    mode = info.st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISFIFO(mode):
        return info
    # Named by the path as given: "zero is a device" would not say which.
    name = shown(os.fspath(path))
    if stat.S_ISCHR(mode) and _is_terminal(info):
        raise PingFileError(
            f"{name} is a terminal, not a file; pipe the pings in "
            "(... /dev/stdin < pings.csv) or give the file's path."
        )
    what = "a socket" if stat.S_ISSOCK(mode) else "a device"
    raise PingFileError(
        f"{name} is {what}, not a file; give a CSV or Parquet file, a folder or a glob."
    )


def is_pipe(path: str | os.PathLike) -> bool:
    """True when ``path`` is a pipe (FIFO), which can be read only once."""
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_pipe(path: str | os.PathLike, label: str) -> bytes:
    """A pipe's bytes, read whole and once (waiting for its writer, as ``cat`` does)."""
    try:
        with open(path, "rb", buffering=0) as handle:
            return handle.readall()
    except OSError as exc:
        raise os_problem(path, label, exc) from exc
