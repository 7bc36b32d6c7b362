"""Expand an input (file, folder, glob; local path or fsspec URL) into the ping files it names.

A folder is searched recursively, so hive-style partition folders (``day=2024-06-03/``)
are included; hidden files and names starting with ``_`` (``_SUCCESS``, ``_metadata``)
are left out, as Spark and Hive write them; links to folders are followed, and a folder
that links back to one above it is refused (a loop would be read for ever). A path that
exists is read as it is, even when its name holds glob characters (``pings[1].csv``).
URLs such as ``s3://bucket/pings/`` are read through fsspec (``pip install
'ping-bias-explorer[s3]'`` for S3); ``file://`` URLs are local paths.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.errors import PingFileError
from explorer.reading import paths

#: File name endings read as pings when a folder or glob is expanded.
PING_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz", ".parquet", ".pq")
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class InputFile:
    """One file of an input: where it is (path or URL), its label in messages, its size.

    ``pipe`` marks a FIFO: it can be read once only, so it is read in memory (see
    :func:`explorer.reading.decode.load_bytes`) and never opened for a streaming read.
    """

    path: str
    label: str
    size: int
    url: bool = False
    pipe: bool = False

    def read_bytes(self) -> bytes:
        """The whole file (for inputs read in memory)."""
        if self.pipe:
            return paths.read_pipe(self.path, self.label)
        if not self.url:
            return Path(self.path).read_bytes()
        fs, path = _filesystem(self.path)
        return fs.cat_file(path)

    def open(self) -> Any:
        """A binary file object (local file or fsspec file), for streaming reads."""
        if self.pipe:
            raise PingFileError(
                f"{paths.shown(self.label)} is a pipe, which can be read only once, and the "
                "chunked and dask engines read a file more than once; use the memory engine "
                "or save it to a file first."
            )
        if not self.url:
            return open(self.path, "rb")  # noqa: SIM115 - the caller closes it
        fs, path = _filesystem(self.path)
        return fs.open(path, "rb")

    @property
    def is_parquet(self) -> bool:
        return self.path.lower().endswith((".parquet", ".pq"))


def is_url(source: str) -> bool:
    """True for fsspec URLs (``s3://``, ``gs://``, ``memory://`` …), not for local paths."""
    return "://" in source and not source.startswith("file://")


def _filesystem(url: str) -> tuple[Any, str]:
    try:
        import fsspec  # an optional extra, for URLs
    except ImportError as exc:
        raise PingFileError(
            "Reading URLs needs fsspec; install with pip install 'ping-bias-explorer[s3]'."
        ) from exc
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise PingFileError(
            f"Cannot open {url.split('://')[0]}:// URLs ({exc}); install the matching fsspec "
            "backend (for S3: pip install 'ping-bias-explorer[s3]')."
        ) from exc


def _wanted(relative: str) -> bool:
    """A ping file, not inside a hidden or ``_``-prefixed folder (Spark's ``_temporary``)."""
    parts = relative.replace("\\", "/").split("/")
    if any(part.startswith((".", "_")) for part in parts):
        return False
    return parts[-1].lower().endswith(PING_SUFFIXES)


def _relative(path: str, root: str) -> str:
    root = root.rstrip("/") + "/"
    return path[len(root) :] if path.startswith(root) else path.rsplit("/", 1)[-1]


def _is_glob(source: str) -> bool:
    """True when ``source`` holds glob characters and no file or folder has that name."""
    return any(c in _GLOB_CHARS for c in source) and not os.path.lexists(source)


def _input_file(path: str, label: str) -> InputFile | None:
    """A ping file found by a folder or a glob (None for a folder); a device, a link
    loop or an unreadable entry raises, naming it."""
    info = paths.checked_stat(path, label)
    if stat.S_ISDIR(info.st_mode):
        return None
    return InputFile(path, label, info.st_size, pipe=stat.S_ISFIFO(info.st_mode))


def _is_folder(entry: os.DirEntry) -> bool:
    """True for a folder or a link to one; False for anything else, a link loop included
    (reading it names the loop)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _entries(folder: str, label: str, strict: bool) -> list[os.DirEntry]:
    """The entries of ``folder`` by name; one that cannot be listed raises if ``strict``
    (its files would be missed), else counts as empty (as glob does)."""
    try:
        with os.scandir(folder) as found:
            return sorted(found, key=lambda entry: entry.name)
    except OSError as exc:
        if not strict:
            return []
        raise paths.os_problem(folder, label, exc) from exc


def _walk(
    root: str, label: str, descend: Callable[[str], bool], strict: bool = True
) -> Iterator[tuple[str, str]]:
    """(path, path relative to ``root``) of each entry below ``root`` that is not a
    folder, descending into the folders whose name ``descend`` accepts, links to folders
    included; a folder that leads back to one above it raises (a loop has no end)."""
    top = os.stat(root)
    stack = [(root, "", ((top.st_dev, top.st_ino),))]
    while stack:
        folder, prefix, above = stack.pop()
        for entry in _entries(folder, f"{label}/{prefix}".rstrip("/"), strict):
            relative = prefix + entry.name
            if not _is_folder(entry):
                yield entry.path, relative
                continue
            if not descend(entry.name):
                continue
            info = os.stat(entry.path)
            if (info.st_dev, info.st_ino) in above:
                raise PingFileError(
                    f"{paths.shown(label)}/{relative} leads back to a folder above it (a loop "
                    "of symbolic links); remove the link or give a folder without loops."
                )
            stack.append((entry.path, relative + "/", (*above, (info.st_dev, info.st_ino))))


def _refuse_loops(pattern: str) -> None:
    """Raise when a folder that the recursive glob ``pattern`` searches links back to one
    above it: glob would follow the loop until the path is too long, along two paths
    per level where two links lead back."""
    root = pattern[: min(pattern.index(c) for c in _GLOB_CHARS if c in pattern)]
    root = os.path.dirname(root) or "."
    if os.path.isdir(root):
        for _ in _walk(root, root, lambda name: not name.startswith("."), strict=False):
            pass


def _expand_glob(source: str) -> list[InputFile]:
    if "**" in source:
        _refuse_loops(source)
    found = sorted(globlib.glob(source, recursive=True))
    files = (_input_file(p, Path(p).name) for p in found if _wanted(Path(p).name))
    return [f for f in files if f is not None]


def _expand_local(source: str) -> list[InputFile]:
    if _is_glob(source):
        return _expand_glob(source)
    label = Path(source).name
    info = paths.checked_stat(source, label)
    if not stat.S_ISDIR(info.st_mode):
        return [InputFile(source, label, info.st_size, pipe=stat.S_ISFIFO(info.st_mode))]
    found = _walk(source, label, lambda name: not name.startswith((".", "_")))
    files = (_input_file(path, rel) for path, rel in found if _wanted(rel))
    return sorted((f for f in files if f is not None), key=lambda f: Path(f.path))


def _expand_url(source: str) -> list[InputFile]:
    fs, path = _filesystem(source)
    protocol = source.split("://", 1)[0]
    if any(c in _GLOB_CHARS for c in path) and not fs.exists(path):
        found = sorted(fs.glob(path))
    elif fs.isdir(path):
        found = sorted(fs.find(path))
    elif fs.exists(path):
        size = int(fs.size(path) or 0)
        return [InputFile(source, path.rsplit("/", 1)[-1], size, url=True)]
    else:
        raise PingFileError(f"{source} does not exist; check the URL.")
    files = []
    for item in found:
        if fs.isdir(item) or not _wanted(_relative(item, path)):
            continue
        files.append(
            InputFile(f"{protocol}://{item}", _relative(item, path), int(fs.size(item) or 0), True)
        )
    return files


def expand_source(source: str | os.PathLike) -> list[InputFile]:
    """The ping files of ``source`` (sorted by path), with their sizes in bytes.

    Raises :class:`PingFileError` when a folder or glob holds no ping files.
    """
    text = paths.local_path(os.fspath(source))
    files = _expand_url(text) if is_url(text) else _expand_local(text)
    if not files:
        what = "is a folder with" if not is_url(text) and os.path.isdir(text) else "matches"
        raise PingFileError(
            f"{text} {what} no ping files; give a CSV (.csv, .csv.gz) or Parquet (.parquet) "
            "file, a folder of them or a glob such as 'pings/*.parquet'."
        )
    return files


def is_input_file(source: object, path: str | os.PathLike) -> bool:
    """True when ``path`` is an existing file that ``source`` (a path, folder or glob) reads:
    writing there would destroy the input."""
    if isinstance(source, bytes | bytearray | memoryview) or not os.path.isfile(path):
        return False
    text = paths.local_path(os.fspath(source))  # type: ignore[arg-type]
    if is_url(text):
        return False
    try:
        return any(Path(path).samefile(f.path) for f in expand_source(text))
    except (PingFileError, OSError, ValueError):
        return False  # the reader says what is wrong with the input


def is_multi(source: object) -> bool:
    """True when ``source`` names several files (a folder, a glob or a URL prefix)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return False
    text = paths.local_path(os.fspath(source))  # type: ignore[arg-type]
    if is_url(text):
        return True
    return _is_glob(text) or os.path.isdir(text)


def combined_sha256(digests: list[str]) -> str:
    """One digest for a set of files: the sha256 of their sorted sha256 digests."""
    return hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()


def total_bytes(files: list[InputFile]) -> int:
    return sum(f.size for f in files)
