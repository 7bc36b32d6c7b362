"""blockwise: the same result as the whole-column step, at any block size and thread count."""

import numpy as np
import pytest

from explorer._speed.blocks import blockwise


def _affine(x, y, out, scratch):
    np.multiply(x, 3.0, out=scratch)
    scratch += y
    out[:] = scratch


@pytest.mark.parametrize("block", [1, 7, 64, 1000, None])
@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 999])
def test_blocks_equal_the_whole_column(block, threads, n):
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=n), rng.normal(size=n)
    out = np.full(n, np.nan)
    blockwise(_affine, [x, y], [out], scratch=[np.float64], block=block, threads=threads)
    assert np.array_equal(out, 3.0 * x + y)


def test_outputs_alone_are_filled_in_place():
    out = np.zeros(10, dtype=np.int64)

    def step(o):
        o += np.arange(o.size)

    blockwise(step, [], [out], block=4)
    assert out.tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
