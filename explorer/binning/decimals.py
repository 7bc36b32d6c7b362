"""How many decimals a coordinate was written with: coarse coordinates (truncated or
rounded at export) are a bias of their own, counted per ping by the summary."""

from __future__ import annotations

import numpy as np

from explorer._speed.blocks import blockwise

#: Coordinates with at most this many decimals on both axes count as coarse.
COARSE_DECIMALS = 3
#: Decimals are counted up to this many: 8 decimals of a degree is ~1 mm, so "8 or
#: more" is full precision for any location data.
MAX_DECIMALS = 8
#: Degrees within which a coordinate counts as rounded (1e-9° is ~0.1 mm).
DECIMALS_TOLERANCE = 1e-9


def coordinate_decimals(values: np.ndarray) -> np.ndarray:
    """Decimals each coordinate needs (0..MAX_DECIMALS, the last meaning "that many or more").

    A value has ``d`` decimals when ``d`` is the fewest places whose rounding is within
    ``DECIMALS_TOLERANCE`` of it, so float artefacts such as 40.790000000000006 (a
    truncation done in floating point) still count as 2 decimals. Searched by halving
    the range of places, after one check that settles full-precision values (most raw
    GPS) at once: ~1-4 roundings per value instead of eight.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.size, MAX_DECIMALS, dtype=np.uint8)
    rest = np.flatnonzero(~_rounds_away(values, MAX_DECIMALS - 1))
    _search(values[rest], rest, 0, MAX_DECIMALS - 1, out)
    return out


def _rounds_away(values: np.ndarray, places: int) -> np.ndarray:
    """True where rounding to ``places`` decimals moves a value by more than the tolerance."""
    away = np.empty(values.size, dtype=bool)

    def step(block: np.ndarray, out: np.ndarray, moved: np.ndarray) -> None:
        np.round(block, places, out=moved)
        moved -= block
        np.abs(moved, out=moved)
        np.greater(moved, DECIMALS_TOLERANCE, out=out)

    blockwise(step, [values], [away], scratch=[np.float64])
    return away


def _search(values: np.ndarray, where: np.ndarray, low: int, high: int, out: np.ndarray) -> None:
    """Set ``out[where]`` for values known to need between ``low`` and ``high`` decimals."""
    if values.size == 0:
        return
    if low == high:
        out[where] = low
        return
    mid = (low + high) // 2
    more = _rounds_away(values, mid)
    _search(values[more], where[more], mid + 1, high, out)
    _search(values[~more], where[~more], low, mid, out)
