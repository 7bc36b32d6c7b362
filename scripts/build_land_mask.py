"""Build explorer/geography/data/land_mask.npz: the land mask of global-land-mask, re-encoded
so a reader decodes only the degree of latitude it needs.

Run by hand, never by the tests (they compare the shipped file with the package)::

    .venv/bin/python scripts/build_land_mask.py

Source: the 30-arc-second GLOBE land/ocean mask (NOAA, public domain) in the PyPI package
``global-land-mask`` (MIT), 21,600 × 43,200 booleans from (90° N, 180° W), ocean True. The
output holds the same pixels inverted to land, packed 8 a byte, one zlib stream per band of
``BLOCK_ROWS`` rows: ``blocks`` (the streams, concatenated), ``offsets`` (where each starts,
plus the end) and ``shape`` (rows, columns of pixels).
"""

from __future__ import annotations

import importlib.util
import zipfile
import zlib
from pathlib import Path

import numpy as np

#: Rows a block holds: one degree of latitude (648 kB unpacked, ~1 ms to decode).
BLOCK_ROWS = 120
OUTPUT = Path(__file__).resolve().parents[1] / "explorer/geography/data/land_mask.npz"


def read_packed_land() -> np.ndarray:
    """The package's ocean mask as packed land bits, read a block of rows at a time (the
    933 MB of booleans never sit in memory at once)."""
    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("global-land-mask is not installed: pip install global-land-mask")
    path = Path(spec.submodule_search_locations[0]) / "globe_combined_mask_compressed.npz"
    with zipfile.ZipFile(path) as archive, archive.open("mask.npy") as stream:
        version = np.lib.format.read_magic(stream)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        (n_rows, n_cols), fortran_order, dtype = read_header(stream)
        if fortran_order or dtype != np.bool_ or n_cols % 8 or n_rows % BLOCK_ROWS:
            raise ValueError("global-land-mask's mask is not the expected C-ordered grid")
        packed = np.empty((n_rows, n_cols // 8), dtype=np.uint8)
        for start in range(0, n_rows, BLOCK_ROWS):
            raw = stream.read(BLOCK_ROWS * n_cols)
            ocean = np.frombuffer(raw, dtype=bool).reshape(BLOCK_ROWS, n_cols)
            packed[start : start + BLOCK_ROWS] = np.invert(np.packbits(ocean, axis=1))
    return packed


def main() -> None:
    packed = read_packed_land()
    streams = [
        zlib.compress(packed[start : start + BLOCK_ROWS].tobytes(), 9)
        for start in range(0, packed.shape[0], BLOCK_ROWS)
    ]
    offsets = np.cumsum([0] + [len(s) for s in streams], dtype=np.int64)
    np.savez(
        OUTPUT,
        blocks=np.frombuffer(b"".join(streams), dtype=np.uint8),
        offsets=offsets,
        shape=np.array([packed.shape[0], packed.shape[1] * 8], dtype=np.int64),
    )
    print(f"{OUTPUT}: {len(streams)} blocks, {offsets[-1] / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
