"""Expand an input (file, folder, glob; local path or fsspec URL) into the ping files it names.

A folder is searched recursively, so hive-style partition folders (``day=2024-06-03/``)
are included; hidden files and names starting with ``_`` (``_SUCCESS``, ``_metadata``)
are left out, as Spark and Hive write them. URLs such as ``s3://bucket/pings/`` are read
through fsspec (``pip install 'ping-bias-explorer[s3]'`` for S3).
"""

from __future__ import annotations

import glob as globlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.errors import PingFileError

#: File name endings read as pings when a folder or glob is expanded.
PING_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz", ".parquet", ".pq")
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class InputFile:
    """One file of an input: where it is (path or URL), its label in messages, its size."""

    path: str
    label: str
    size: int
    url: bool = False

    def read_bytes(self) -> bytes:
        """The whole file (for inputs read in memory)."""
        if not self.url:
            return Path(self.path).read_bytes()
        fs, path = _filesystem(self.path)
        return fs.cat_file(path)

    def open(self) -> Any:
        """A binary file object (local file or fsspec file), for streaming reads."""
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


def _expand_local(source: str) -> list[InputFile]:
    if any(c in _GLOB_CHARS for c in source):
        paths = sorted(p for p in globlib.glob(source, recursive=True) if os.path.isfile(p))
        return [
            InputFile(p, Path(p).name, os.path.getsize(p)) for p in paths if _wanted(Path(p).name)
        ]
    root = Path(source)
    if root.is_dir():
        found = sorted(p for p in root.rglob("*") if p.is_file())
        relative = [p.relative_to(root).as_posix() for p in found]
        return [
            InputFile(str(p), rel, p.stat().st_size)
            for p, rel in zip(found, relative)
            if _wanted(rel)
        ]
    if not root.exists():
        raise PingFileError(f"File {root.name} does not exist; check the path.")
    return [InputFile(str(root), root.name, root.stat().st_size)]


def _expand_url(source: str) -> list[InputFile]:
    fs, path = _filesystem(source)
    protocol = source.split("://", 1)[0]
    if any(c in _GLOB_CHARS for c in path):
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
    text = os.fspath(source)
    files = _expand_url(text) if is_url(text) else _expand_local(text)
    if not files:
        what = "is a folder with" if not is_url(text) and Path(text).is_dir() else "matches"
        raise PingFileError(
            f"{text} {what} no ping files; give a CSV (.csv, .csv.gz) or Parquet (.parquet) "
            "file, a folder of them or a glob such as 'pings/*.parquet'."
        )
    return files


def is_input_file(source: object, path: str | os.PathLike) -> bool:
    """True when ``path`` is an existing file that ``source`` (a path, folder or glob) reads:
    writing there would destroy the input."""
    if isinstance(source, bytes | bytearray | memoryview) or not Path(path).is_file():
        return False
    text = os.fspath(source)  # type: ignore[arg-type]
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
    text = os.fspath(source)  # type: ignore[arg-type]
    if is_url(text):
        return True
    return any(c in _GLOB_CHARS for c in text) or Path(text).is_dir()


def combined_sha256(digests: list[str]) -> str:
    """One digest for a set of files: the sha256 of their sorted sha256 digests."""
    return hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()


def total_bytes(files: list[InputFile]) -> int:
    return sum(f.size for f in files)
