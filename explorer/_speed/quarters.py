"""Quartering the grid squares that straddle an H3 cell edge (see
:mod:`explorer._speed.grid_cells`, whose exactness argument holds for every quarter).

A busy square whose corners fall in different cells is split in four; each quarter
whose corners share one eligible cell gives its points that cell, and busy quarters
that still straddle are split again. Each split costs five H3 calls and places about
half of a square's points, so the points left for H3 one by one shrink geometrically.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

Cells = Callable[[np.ndarray, np.ndarray], np.ndarray]
Eligible = Callable[[np.ndarray], np.ndarray]

#: A square that straddles a cell edge is quartered when it holds at least this many
#: points: a split costs five H3 calls and places about half of its points.
SPLIT_MIN_POINTS = 10
#: Splits of a square, at most: after four a quarter's side is 1/16 of the grid's (metres),
#: and the few points still straddling go to H3 one by one (more splits placed no more
#: points on realistic data).
MAX_SPLITS = 4


def one_cell(corners: np.ndarray, eligible: Eligibility) -> np.ndarray:
    """Per square (a column of ``corners``): whether its four corners share one eligible
    cell, so that every point inside it, away from its sides, lies in that cell."""
    same = (corners[1] == corners[0]) & (corners[2] == corners[0]) & (corners[3] == corners[0])
    same[same] = eligible(corners[0][same])
    return same


class Eligibility:
    """``eligible`` asked once per distinct cell, however many squares and splits ask (and
    from however many threads: one at a time)."""

    def __init__(self, eligible: Eligible) -> None:
        self._eligible = eligible
        self._cells = np.zeros(0, dtype=np.uint64)
        self._flags = np.zeros(0, dtype=bool)
        self._lock = threading.Lock()

    def __call__(self, cells: np.ndarray) -> np.ndarray:
        distinct = np.unique(cells)
        with self._lock:
            new = distinct[~np.isin(distinct, self._cells)]
            if new.size:
                cells_known = np.concatenate([self._cells, new])
                flags = np.concatenate([self._flags, self._eligible(new)])
                order = np.argsort(cells_known)
                self._cells, self._flags = cells_known[order], flags[order]
            return self._flags[np.searchsorted(self._cells, cells)]


def quarter_squares(
    lat: np.ndarray,
    lon: np.ndarray,
    index: np.ndarray,
    squares: np.ndarray,
    corners: np.ndarray,
    grid: tuple[float, float, int, int],
    side: float,
    cells: Cells,
    known: Eligibility,
    out: np.ndarray,
    placed: np.ndarray,
    *,
    margin: float,
) -> None:
    """Quarter the ``squares`` that straddle a cell edge, again and again: the quarters
    inside one cell give their points that cell (written into ``out`` and ``placed``), the
    busy ones still straddling are quartered in turn, up to ``MAX_SPLITS`` times.

    Each split asks H3 for five points per square (its sides' midpoints and its centre),
    and a cell edge crosses about two of the four quarters, so about half of a square's
    points are placed per split: the points left for H3 one by one shrink geometrically
    instead of staying a fixed share of the input.
    """
    lat_lo, lon_lo, rows, cols = grid
    # One slot more, never split: index -1 (off the grid) reads it. The members are found
    # through a flag per square (one byte per point read), their squares' numbers after.
    split = np.zeros(rows * cols + 1, dtype=bool)
    split[squares] = True
    members = np.flatnonzero(split[index])
    parent_of = np.zeros(rows * cols + 1, dtype=np.int64)
    parent_of[squares] = np.arange(squares.size)
    parent = parent_of[index[members]]
    # Each member's position within its square, in [0, 1) along latitude and longitude,
    # computed as in _squares so that it agrees with the square the point was put in.
    u = (lat[members] - lat_lo) / side
    u -= np.floor(u)
    v = (lon[members] - lon_lo) / side
    v -= np.floor(v)
    row, col = np.divmod(squares, cols)
    south, west = lat_lo + row * side, lon_lo + col * side
    for _ in range(MAX_SPLITS):
        side /= 2
        lattice = _lattice(corners, south, west, side, cells)
        u *= 2
        v *= 2
        upper, east = u >= 1, v >= 1
        u -= upper
        v -= east
        quarter = parent * 4 + upper * 2 + east
        clear = (np.abs(u - 0.5) <= 0.5 - margin) & (np.abs(v - 0.5) <= 0.5 - margin)
        members, quarter, u, v = members[clear], quarter[clear], u[clear], v[clear]
        # Quarter q = 2 * upper + east of each square; its corners in the lattice.
        corners = np.stack(
            [
                np.stack([lattice[r + dr, c + dc] for r in (0, 1) for c in (0, 1)], axis=1).ravel()
                for dr in (0, 1)
                for dc in (0, 1)
            ]
        )
        inside = one_cell(corners, known)
        hit = inside[quarter]
        out[members[hit]] = corners[0][quarter[hit]]
        placed[members[hit]] = True
        counts = np.bincount(quarter, minlength=inside.size)
        again = ~inside & (counts >= SPLIT_MIN_POINTS)
        if not again.any():
            return
        keep = again[quarter]
        members, quarter, u, v = members[keep], quarter[keep], u[keep], v[keep]
        renumber = np.cumsum(again) - 1
        parent = renumber[quarter]
        chosen = np.flatnonzero(again)
        square, q = np.divmod(chosen, 4)
        south = south[square] + (q >> 1) * side
        west = west[square] + (q & 1) * side
        corners = corners[:, chosen]


def _lattice(
    corners: np.ndarray, south: np.ndarray, west: np.ndarray, side: float, cells: Cells
) -> np.ndarray:
    """The cells at the 3 x 3 points of each square of side ``2 * side`` (shape (3, 3,
    squares), latitude first): its four corners as given, five more from H3."""
    lattice = np.empty((3, 3, south.size), dtype=np.uint64)
    lattice[0, 0], lattice[0, 2], lattice[2, 0], lattice[2, 2] = corners
    new = ((0, 1), (1, 0), (1, 1), (1, 2), (2, 1))
    got = cells(
        np.concatenate([south + r * side for r, _ in new]),
        np.concatenate([west + c * side for _, c in new]),
    ).reshape(len(new), south.size)
    for (r, c), values in zip(new, got, strict=True):
        lattice[r, c] = values
    return lattice
