"""Input bytes before any parser sees them: files mapped, archives refused, gzip
decompressed, the text encoding found and turned into UTF-8.

Compressed input is unpacked as a stream that stops at a limit
(:func:`max_unpacked_bytes`), so a small file that unpacks to gigabytes (a "zip bomb")
is refused with a sentence instead of filling memory.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
import zlib
from pathlib import Path

from explorer.errors import PingFileError
from explorer.reading import paths

#: Bytes looked at to sniff the encoding, the delimiter, the header and the column types.
SNIFF_BYTES = 65_536
_NOT_BLANK = re.compile(rb"\S")

Buffer = bytes | mmap.mmap


def has_text(data: bytes | memoryview, start: int = 0) -> bool:
    """True when ``data[start:]`` holds anything but whitespace (no copy)."""
    return _NOT_BLANK.search(data, start) is not None


def first_text(data: bytes | memoryview, start: int = 0) -> int:
    """Where the first character other than whitespace is, from ``start`` (the length if
    there is none)."""
    found = _NOT_BLANK.search(data, start)
    return found.start() if found else len(data)


class FileMap(mmap.mmap):
    """A read-only memory map of a file that remembers the file's path.

    Polars decodes Parquet faster from a path (its own parallel reader) than from a
    Python file object, so the reader hands it the path.
    """

    path: Path


_OTHER_ARCHIVES = {
    b"PK\x03\x04": "a zip archive",
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"\x28\xb5\x2f\xfd": "zstd-compressed",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
_CONTROL_BYTES = bytes([*range(1, 9), *range(14, 27), *range(28, 32)])
#: Share of control characters in the head above which a file is not text.
MAX_CONTROL_SHARE = 0.01


class EmptyInputError(PingFileError):
    """A file with no data rows (empty, blank, header only, Parquet without rows).

    In a folder of files such a file is counted, not fatal.
    """


def not_text(label: str) -> PingFileError:
    return PingFileError(
        f"{label} is not a text file (its bytes look binary); give a CSV (plain or "
        "gzip-compressed) or a Parquet file."
    )


def utf32(label: str) -> PingFileError:
    return PingFileError(f"{label} is UTF-32 text, which is not read; save it as UTF-8 CSV.")


def empty(label: str) -> PingFileError:
    return EmptyInputError(f"{label} is empty; export the file again with a header and rows.")


def header_only(label: str) -> PingFileError:
    return EmptyInputError(f"{label} has a header but no data rows; export it again with its rows.")


def no_rows(label: str) -> PingFileError:
    return EmptyInputError(f"{label} has columns but no rows; write it again with its rows.")


def load_bytes(source: str | os.PathLike | bytes, name: str | None) -> tuple[Buffer, str]:
    """Raw input bytes (a read-only memory map for files) and the label outputs use.

    A pipe (a FIFO, or ``/dev/stdin`` fed by one) cannot be mapped and can be read only
    once: its bytes are read whole, once. A folder, a device, a socket and the system's
    errors (missing, permission, name too long, link loops) raise a one-sentence
    :class:`PingFileError` (see :mod:`explorer.reading.paths`).
    """
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), name or "<bytes>"
    path = Path(paths.local_path(os.fspath(source)))
    label = name or path.name
    info = paths.checked_stat(path, label)
    if stat.S_ISDIR(info.st_mode):
        raise PingFileError(f"{paths.shown(label)} is a folder; pass one CSV or Parquet file.")
    if stat.S_ISFIFO(info.st_mode):
        return paths.read_pipe(path, label), label
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                return b"", label
            mapped = FileMap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            mapped.path = path
            return mapped, label
    except OSError as exc:
        raise paths.os_problem(path, label, exc) from exc


def release_pages(raw: Buffer) -> None:
    """Let the system take a mapped file's pages back from this process once the file is
    parsed: they stay valid (touching them again reads the file), but no longer count
    towards the process's memory while the rest of the analysis runs."""
    if isinstance(raw, FileMap) and hasattr(mmap, "MADV_DONTNEED") and not raw.closed:
        raw.madvise(mmap.MADV_DONTNEED)


#: Environment variable: the most a compressed input may unpack to, in MB.
UNPACKED_LIMIT_ENV = "EXPLORER_MAX_UNPACKED_MB"
#: Default of that limit: 4 GiB unpacked is more CSV than a machine with 24 GiB analyses in
#: memory (about four bytes of working memory per byte of CSV), and what a bigger input
#: needs is the chunked engine, which streams instead.
DEFAULT_UNPACKED_LIMIT_MB = 4096
#: Bytes unpacked per step of the stream (the limit is checked after each), and
#: compressed bytes fed per piece.
_UNPACK_STEP = 16 << 20
_FEED_STEP = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


class UnpackedTooLarge(PingFileError):
    """A compressed input unpacks to more than the limit; ``label`` and ``limit`` (bytes)
    are set when the unpacking limit was reached, so that a caller can say it its way."""

    def __init__(self, message: str, label: str = "", limit: int = 0) -> None:
        super().__init__(message)
        self.label, self.limit = label, limit


def max_unpacked_bytes() -> int:
    """``$EXPLORER_MAX_UNPACKED_MB`` in bytes (the default for a missing or bad value)."""
    try:
        megabytes = float(os.environ.get(UNPACKED_LIMIT_ENV, DEFAULT_UNPACKED_LIMIT_MB))
    except ValueError:
        megabytes = DEFAULT_UNPACKED_LIMIT_MB
    return int((megabytes if megabytes > 0 else DEFAULT_UNPACKED_LIMIT_MB) * (1 << 20))


def too_large(label: str, limit: int) -> UnpackedTooLarge:
    return UnpackedTooLarge(
        f"{label} unpacks to more than {limit / (1 << 20):,.0f} MB, the limit for one "
        f"compressed input (set {UNPACKED_LIMIT_ENV} to change it); split the file or use "
        "--engine chunked, which streams it.",
        label,
        limit,
    )


def decompress(raw: Buffer, label: str, limit: int | None = None) -> Buffer:
    """The input unpacked if it is gzip (every member), refusing other archives; at most
    ``limit`` bytes (default :func:`max_unpacked_bytes`) are ever unpacked."""
    if raw[:2] != _GZIP_MAGIC:
        for magic, what in _OTHER_ARCHIVES.items():
            if raw[: len(magic)] == magic:
                raise PingFileError(f"{label} is {what}; extract the CSV or Parquet file first.")
        return raw
    limit = max_unpacked_bytes() if limit is None else limit
    try:
        return _gunzip(memoryview(raw), label, limit)
    except (OSError, EOFError, zlib.error) as exc:
        raise PingFileError(f"{label} is a damaged gzip file; compress it again.") from exc


def _gunzip(data: memoryview, label: str, limit: int) -> bytes:
    """Every gzip member of ``data`` unpacked a step at a time, stopping past ``limit``
    bytes: compressed input is fed in small pieces and each call unpacks at most one
    step, so no call makes more than a step of output whatever the compression ratio."""
    out = bytearray()
    pos, member = 0, None
    while member is not None or pos < len(data):
        if member is None:
            if data[pos : pos + 2] != _GZIP_MAGIC:
                raise EOFError("data after the last gzip member is not gzip")
            member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        if pos >= len(data):
            raise EOFError("the gzip stream ends early")
        pending = data[pos : pos + _FEED_STEP]
        pos += len(pending)
        while True:
            chunk = member.decompress(pending, _UNPACK_STEP)
            out += chunk
            if len(out) > limit:
                raise too_large(label, limit)
            pending = member.unconsumed_tail
            if member.eof or (not pending and len(chunk) < _UNPACK_STEP):
                break
        if member.eof:
            pos -= len(member.unused_data)
            member = None
    return bytes(out)


def text_encoding(payload: Buffer, label: str) -> str:
    """The payload's text encoding: utf-8(-sig), utf-16 (BOM or NUL pattern) or latin-1."""
    head = bytes(payload[:SNIFF_BYTES])
    if _looks_utf32(head):
        raise utf32(label)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) == 0 and _mostly_text(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) == 0 and _mostly_text(odd):
            return "utf-16-be"
        raise not_text(label)
    if not _mostly_text(head):
        raise not_text(label)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sniff boundary is still UTF-8.
        if exc.start < len(head) - 3 or len(head) < SNIFF_BYTES:
            return "latin-1"
    return "utf-8"


def _looks_utf32(head: bytes) -> bool:
    """A UTF-32 mark, or text with three NULs beside every character (ASCII as UTF-32)."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return True
    head = head[: len(head) // 4 * 4]
    for lead in (0, 3):  # where a character's byte sits: first (LE) or last (BE) of four
        chars = head[lead::4]
        nuls = [head[i::4] for i in range(4) if i != lead]
        if len(chars) >= 2 and all(not n.strip(b"\x00") for n in nuls) and 0 not in chars:
            return _mostly_text(chars)
    return False


def _mostly_text(data: bytes) -> bool:
    """Few control characters (tab, newlines and form feeds aside)."""
    kept = len(data.translate(None, delete=_CONTROL_BYTES))
    return kept >= (1 - MAX_CONTROL_SHARE) * len(data)


#: Characters of names in a message, for one name and for the list, so that a message
#: stays one short line.
NAME_CHARACTERS, NAMES_CHARACTERS = 20, 45


def shown_name(name: str, width: int = NAME_CHARACTERS) -> str:
    """A column name for a message: control characters escaped, cut to ``width``."""
    pieces = [ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name]
    if sum(map(len, pieces)) <= width:
        return "".join(pieces)
    text = ""
    for piece in pieces:
        if len(text) + len(piece) >= width:
            break
        text += piece
    return text + "…"


def shown_names(names: list[str], width: int = NAMES_CHARACTERS) -> str:
    """The first few names (see :func:`shown_name`) in about ``width`` characters, and
    how many more there are."""
    shown: list[str] = []
    for name in names:
        text = shown_name(name)
        if shown and len(", ".join([*shown, text])) > width:
            break
        shown.append(text)
    more = len(names) - len(shown)
    return ", ".join(shown) + (f", … {more} more" if more else "") if names else "none"


def garbled(names: list[str]) -> bool:
    """Whether column names look like text decoded with the wrong encoding: replacement
    or control characters, or wide characters that are all two ASCII bytes (8-bit text
    read as UTF-16, or UTF-16 in the wrong byte order)."""
    text = "".join(names)
    if any(ch == "\ufffd" or not (ch.isprintable() or ch == "\t") for ch in text):
        return True
    wide = [ord(ch).to_bytes(2, "big") for ch in text if 0xFF < ord(ch) <= 0xFFFF]
    return len(wide) >= 3 and not b"".join(wide).translate(None, _ASCII_BYTES)


_ASCII_BYTES = bytes([0, 9, 10, 13, *range(0x20, 0x7F)])


def to_utf8(payload: Buffer, encoding: str, label: str) -> Buffer:
    """The payload as UTF-8 text: itself when it is UTF-8 already, with or without a
    byte-order mark (the CSV sniffer reads past the mark: no copy of a mapped file)."""
    if encoding in ("utf-8", "utf-8-sig"):
        return payload
    text = bytes(payload).decode(encoding, errors="replace")
    if "\x00" in text:
        raise not_text(label)
    return text.encode("utf-8")
