"""A sense of place, offline: which time zone a coordinate is in.

In: coordinates or H3 cells, and UTC instants. Out: zone names and UTC offsets
(daylight saving included), looked up once per coarse cell, never per ping.
"""
