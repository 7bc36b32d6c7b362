"""The server's memory budget: what an upload may need, how many analyses run at once, and a
cache that keeps results by their size rather than by their number.

One upload must never take the server down: an upload is refused with a sentence when
reading it would need more than the budget, analyses queue for a few slots, and cached
frames are evicted, least recently used first, once they hold more than the budget.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl

from explorer.engines.sizing import EXPANSION

#: Environment variable: the memory the server's analyses may use, in MB.
BUDGET_ENV = "PBE_MEMORY_BUDGET_MB"
#: Default: 3 GiB, an eighth of the reference machine's 24 GiB, so a few sessions, the
#: cached results and Streamlit itself stay well within it.
DEFAULT_BUDGET_MB = 3072
#: Environment variable: how many uploads are read or analysed at the same time.
SLOTS_ENV = "PBE_MAX_ANALYSES"
#: Default: one, so that each analysis may use the whole budget (an upload is planned
#: against all of it); a second at the same time would only share the two cores of the
#: reference machine and double the peak.
DEFAULT_SLOTS = 1
#: Share of the budget the cache may hold; the rest is for the analysis running now.
CACHE_SHARE = 0.5
#: The server holds more per upload than the command line plans for
#: (``explorer.engines.sizing.EXPANSION``): the upload's bytes (kept by Streamlit while it is
#: stored), device ids as text for the downloads, the filtered copy and the map's layers.
#: Planning uploads at this multiple of the command line's plan keeps the largest one
#: accepted within the budget (measured: docs/performance.md).
SERVER_FACTOR = 1.75


def upload_expansion(kind: str) -> float:
    """Bytes of server memory per byte of an upload of this kind (``csv``, ``parquet``,
    ``gzip`` unpacked as ``csv``)."""

    return EXPANSION["csv" if kind == "gzip" else kind] * SERVER_FACTOR


def _positive(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


def memory_budget() -> int:
    """``$PBE_MEMORY_BUDGET_MB`` in bytes."""
    return int(_positive(BUDGET_ENV, DEFAULT_BUDGET_MB) * (1 << 20))


_SLOTS = threading.BoundedSemaphore(int(_positive(SLOTS_ENV, DEFAULT_SLOTS)))
_HELD = threading.local()


@contextmanager
def analysis_slot() -> Iterator[None]:
    """Wait for one of the server's analysis slots (re-entrant within a thread: a stage that
    calls another holds one slot, not two)."""
    depth = getattr(_HELD, "depth", 0)
    if depth == 0:
        _SLOTS.acquire()
    _HELD.depth = depth + 1
    try:
        yield
    finally:
        _HELD.depth -= 1
        if _HELD.depth == 0:
            _SLOTS.release()


def size_of(value: Any) -> int:
    """Bytes a cached value holds, as far as it is frames (others count as nothing)."""
    if isinstance(value, pl.DataFrame):
        return int(value.estimated_size())
    tables = getattr(value, "tables", None)
    if isinstance(tables, dict):
        return sum(size_of(t) for t in tables.values())
    for name in ("pings", "summary"):
        inner = getattr(value, name, None)
        if inner is not None:
            return size_of(inner)
    return 0


class BudgetCache:
    """Values by key, evicted least recently used first once their sizes pass ``budget``
    (the newest value is always kept). Each key is computed once at a time."""

    def __init__(self, budget: Callable[[], int]) -> None:
        self._budget = budget
        self._values: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key][0]
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key][0]
            value = compute()
            with self._lock:
                self._values[key] = (value, size_of(value))
                self._computing.pop(key, None)
                self._evict()
            return value

    def _evict(self, limit: int | None = None, keep: int = 1) -> None:
        limit = self._budget() if limit is None else limit
        held = sum(size for _, size in self._values.values())
        while held > limit and len(self._values) > keep:
            _, (_, size) = self._values.popitem(last=False)
            held -= size

    def make_room(self, needed: int, total: int) -> None:
        """Evict, least recently used first, until ``needed`` more bytes fit in ``total``
        (before a read that is planned to need them)."""
        with self._lock:
            self._evict(max(total - needed, 0), keep=0)

    def held(self) -> int:
        """Bytes the cached values hold now."""
        with self._lock:
            return sum(size for _, size in self._values.values())

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
