"""Chains of elementwise steps run a cache-sized block of values at a time.

Whole-column numpy expressions make one temporary the size of the column per step;
on millions of pings each temporary costs more to map and zero than to compute. A
chain run block by block keeps its scratch in a core's cache and writes straight into
its outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Values per block: 65,536 64-bit values are 512 KB, within a core's cache.
CACHE_BLOCK = 1 << 16


def blockwise(
    step: Callable[..., None],
    inputs: Sequence[np.ndarray],
    outputs: Sequence[np.ndarray],
    scratch: Sequence[np.dtype | type] = (),
    *,
    block: int | None = None,
    threads: int = 1,
) -> None:
    """Call ``step(*input_blocks, *output_blocks, *scratch_blocks)`` on consecutive
    slices of ``block`` values.

    ``step`` writes its results into the output blocks (views of ``outputs``) and may use
    one scratch array of each dtype in ``scratch`` (allocated once, of the block's
    length, contents undefined). ``block`` defaults to :data:`CACHE_BLOCK`. Every input
    and output has the same length; the last block may be shorter. With ``threads`` > 1
    the blocks run on that many threads (numpy releases the GIL), each with scratch of
    its own.
    """
    block = block or CACHE_BLOCK
    n = len(inputs[0]) if len(inputs) else len(outputs[0])
    shared = [np.empty(min(n, block), dtype=dtype) for dtype in scratch] if threads <= 1 else None

    def run(start: int) -> None:
        part = slice(start, start + block)
        size = min(block, n - start)
        buffers = shared if shared is not None else [np.empty(size, dtype=d) for d in scratch]
        step(*(a[part] for a in inputs), *(a[part] for a in outputs), *(b[:size] for b in buffers))

    starts = range(0, n, block)
    if threads <= 1:
        for start in starts:
            run(start)
        return
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, starts))
