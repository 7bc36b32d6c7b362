"""A small dataflow scheduler: named steps run on threads as soon as their inputs exist.

Counting passes on dense codes spend their time in numpy, Arrow and polars, which
release the GIL, so independent steps overlap on the cores. A caller declares each step
with the names of the results it takes; :meth:`Steps.run` starts every step whose
inputs are ready, in the order the steps were added, and returns every result.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Step:
    work: Callable[..., Any]
    needs: tuple[str, ...]


class Steps:
    """Named steps, each a function of the named results it needs."""

    def __init__(self) -> None:
        self._steps: dict[str, _Step] = {}

    def add(self, name: str, work: Callable[..., Any], *needs: str) -> None:
        """Add step ``name``: ``work(*results of needs)``, its result named ``name``."""
        if name in self._steps:
            raise ValueError(f"step {name!r} is added twice")
        self._steps[name] = _Step(work, needs)

    def run(self, given: dict[str, Any], threads: int) -> dict[str, Any]:
        """Every step's result (and ``given``), with up to ``threads`` steps at a time.

        The first step to fail stops the run: steps not started yet are dropped, running
        ones are waited for, and its exception is raised.
        """
        results = dict(given)
        missing = {n for s in self._steps.values() for n in s.needs} - results.keys()
        if missing - self._steps.keys():
            raise ValueError(f"no step or input gives {sorted(missing - self._steps.keys())}")
        waiting = [n for n in self._steps if n not in results]
        running: dict[Future[Any], str] = {}
        with ThreadPoolExecutor(threads) as pool:
            while waiting or running:
                for name in [n for n in waiting if self._ready(n, results)]:
                    waiting.remove(name)
                    step = self._steps[name]
                    running[pool.submit(step.work, *(results[n] for n in step.needs))] = name
                if not running:
                    raise ValueError(f"steps {waiting} wait for each other")
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    results[running.pop(future)] = future.result()  # a failure stops here
        return results

    def _ready(self, name: str, results: dict[str, Any]) -> bool:
        return all(n in results for n in self._steps[name].needs)


def map_on_threads(work: Callable[[Any], Any], items: list[Any], threads: int) -> list[Any]:
    """``[work(item) for item in items]``, up to ``threads`` items at a time, results in
    the items' order; the first failure (in that order) is raised."""
    if threads <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(work, items))
