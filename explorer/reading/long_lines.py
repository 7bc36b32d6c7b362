"""Lines too long for the CSV parser, cut out of the text and counted, so that one
over-long field rejects its line (a ``malformed_line``), not the whole file.

pyarrow parses a CSV in blocks and fails the whole read ("straddling object straddles
two block boundaries") when a line does not fit in one. The reader cuts out the lines
longer than the smallest block it uses before parsing
(:func:`explorer.reading.csv_text.read_typed_or_strings`). Looking for them costs one
short search per half a limit of text, since a longer line holds a whole such window
without a line end.
"""

from __future__ import annotations

import re

import pyarrow as pa

_LINE_END = re.compile(rb"[\r\n]")


def _line_start(text: memoryview, pos: int, step: int) -> int:
    """Where the line holding ``pos`` starts: after the last line end before it."""
    while pos > 0:
        low = max(pos - step, 0)
        last = None
        for last in _LINE_END.finditer(text, low, pos):  # noqa: B007 - the last one is kept
            pass
        if last is not None:
            return last.end()
        pos = low
    return 0


def long_lines(text: memoryview, limit: int) -> list[tuple[int, int]]:
    """(start, end) of each line of ``text`` longer than ``limit`` bytes, its line end
    (``\\n`` or ``\\r``) excluded.

    The text is looked at in windows of ``limit // 2`` bytes, each searched only up to
    its first line end; a window without one lies inside a line that may be too long,
    which is then followed to its ends.
    """
    step, size = max(limit // 2, 1), len(text)
    spans, pos = [], 0
    while pos < size:
        window_end = min(pos + step, size)
        if _LINE_END.search(text, pos, window_end):
            pos = window_end
            continue
        start = _line_start(text, pos, step)
        found = _LINE_END.search(text, window_end)
        end = found.start() if found else size
        if end - start > limit:
            spans.append((start, end))
        pos = end + 1
    return spans


def without_long_lines(body: pa.Buffer, limit: int) -> tuple[pa.Buffer, int]:
    """``body`` without its lines longer than ``limit`` bytes (each leaves an empty line,
    which the parser skips), and how many there were; ``body`` itself when none is."""
    text = memoryview(body)
    spans = long_lines(text, limit)
    if not spans:
        return body, 0
    starts = [0] + [end for _, end in spans]
    ends = [start for start, _ in spans] + [len(text)]
    kept = b"".join(text[start:end] for start, end in zip(starts, ends, strict=True))
    return pa.py_buffer(kept), len(spans)
