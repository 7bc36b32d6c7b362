"""Plain-language number formatting for titles and stories."""

from __future__ import annotations


def pct(share: float, digits: int | None = None) -> str:
    """A share (0..1) as a percentage: 0.0234 -> '2.3 %', 0.5 -> '50 %'."""
    value = 100.0 * float(share)
    if digits is None:
        digits = 0 if abs(value) >= 10 or value == 0 else 1 if abs(value) >= 1 else 2
    return f"{value:.{digits}f} %"


def count(n: float) -> str:
    """An integer count with thousands separators: 12345 -> '12,345'."""
    return f"{int(round(float(n))):,}"


def ratio(x: float) -> str:
    """A multiple: 14.96 -> '15×', 2.34 -> '2.3×'."""
    x = float(x)
    return f"{x:.0f}×" if x >= 10 else f"{x:.1f}×"


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 device', '3 devices'."""
    return f"{count(n)} {word if int(n) == 1 else (many or word + 's')}"


def hour_span(start: int, end: int) -> str:
    """Local hours as a span: (1, 4) -> '01:00–04:00'."""
    return f"{start:02d}:00–{end:02d}:00"
