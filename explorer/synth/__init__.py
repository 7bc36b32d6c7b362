"""Seeded, realistic synthetic pings of a city, with optional planted biases.

In: a size, a city, a seed and bias names. Out: canonical pings and what was planted
where (:mod:`.pings`; the planters are in :mod:`.biases`). Used for the sample, the
calibration tests and the benchmarks.
"""
