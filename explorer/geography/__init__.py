"""A sense of place, offline: time zones, land and sea, and the places data defaults to.

In: coordinates or H3 cells, and UTC instants. Out: zone names and UTC offsets
(daylight saving included, :mod:`.timezones`), whether a point is on land and how far
from a coast (:mod:`.land`), and the known place (country or region centroid, capital,
default coordinate) a point sits on (:mod:`.gazetteer`). Nothing is downloaded: the data
ships with the package or its dependencies (see docs/geography.md).
"""
