"""The summary's scheduler: steps run once their inputs exist, failures come out."""

import threading
import time

import pytest

from explorer._speed.schedule import Steps


def test_every_step_gets_the_results_it_names():
    steps = Steps()
    steps.add("double", lambda x: 2 * x, "x")
    steps.add("sum", lambda a, b: a + b, "x", "double")
    assert steps.run({"x": 5}, threads=2) == {"x": 5, "double": 10, "sum": 15}


def test_independent_steps_overlap():
    """Two steps that each wait for the other to start finish only if they run at once."""
    both = threading.Barrier(2, timeout=10)
    steps = Steps()
    steps.add("a", lambda: both.wait() or "a")
    steps.add("b", lambda: both.wait() or "b")
    assert steps.run({}, threads=2)["a"] == "a"


def test_a_step_waits_for_its_inputs():
    order = []
    steps = Steps()
    steps.add("slow", lambda: (time.sleep(0.2), order.append("slow"))[0])
    steps.add("after", lambda _: order.append("after"), "slow")
    steps.add("free", lambda: order.append("free"))
    steps.run({}, threads=3)
    assert order.index("after") > order.index("slow")


def test_the_first_failure_is_raised_and_later_steps_never_start():
    started = []
    steps = Steps()
    steps.add("broken", lambda: 1 / 0)
    steps.add("after", lambda _: started.append("after"), "broken")
    with pytest.raises(ZeroDivisionError):
        steps.run({}, threads=2)
    assert started == []


def test_a_missing_input_is_refused_before_anything_runs():
    steps = Steps()
    steps.add("a", lambda y: y, "y")
    with pytest.raises(ValueError, match="'y'"):
        steps.run({}, threads=1)


def test_a_step_cannot_be_added_twice():
    steps = Steps()
    steps.add("a", lambda: 1)
    with pytest.raises(ValueError, match="twice"):
        steps.add("a", lambda: 2)


def test_steps_waiting_for_each_other_are_refused():
    steps = Steps()
    steps.add("a", lambda b: b, "b")
    steps.add("b", lambda a: a, "a")
    with pytest.raises(ValueError, match="wait for each other"):
        steps.run({}, threads=1)
