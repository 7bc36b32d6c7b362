"""Columns found by their values when their names say nothing: a latitude/longitude pair,
the timestamp (or a date and a time of day), the device type and the device id.

Every guess is sure or not. A sure guess is used; an unsure one is only offered (the
error that asks for a mapping carries it, and the app's form opens with it), because a
wrong column read silently is worse than a question.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from explorer.reading.column_content import (
    CONTENT_SHARE,
    Profile,
    clock_reading,
    date_reading,
    device_type_reading,
    id_reading,
    instant_reading,
    number_share,
)

#: Fewest decimal places (median) of a coordinate found by content: a position written
#: with fewer is a kilometre off or worse, and that is how speeds, prices and counts look.
MIN_DECIMALS = 3
#: Positions vary from ping to ping (even a phone at rest jitters): a column with fewer
#: distinct values than this share of its sampled values describes a track, a trip or a
#: venue (a speed, a duration, a distance), not where each ping was.
MIN_DISTINCT_SHARE = 0.1
#: A pairing of two columns within ±90° is believed when this share of sampled points
#: falls on land (leaving room for null island and trips at sea) …
LAND_SHARE = 0.8
#: … and the other pairing puts at least this much less on land.
LAND_MARGIN = 0.5
#: Failing that, the wider spread (5th–95th percentile, degrees) is the longitude when
#: it is at least this many times the other: a degree of longitude is shorter than one
#: of latitude away from the equator, so a round area spans more of them.
SPREAD_RATIO = 1.5


@dataclass(frozen=True)
class Guess:
    """A column for a role, why, and whether the guess is sure enough to use."""

    role: str
    column: str
    why: str
    sure: bool = True
    #: The other column when two match one name rule (a question, not a guess).
    rival: str = ""


def is_coordinate_like(p: Profile) -> bool:
    """Numbers within ±180° with several decimals that vary (not small integers, not a
    track's speed)."""
    return (
        number_share(p, 180.0) >= CONTENT_SHARE
        and p.decimals >= MIN_DECIMALS
        and len(np.unique(p.finite)) >= MIN_DISTINCT_SHARE * p.present
    )


def land_share(lat: Profile, lon: Profile) -> float:
    """Share of sampled points on land: in a time zone that is not one of the sea's
    (``Etc/…``) nor Antarctica's. Looked up once per point rounded to 0.01°."""
    import tzfpy  # only when two columns both fit within ±90°

    ys, xs = lat.numbers, lon.numbers
    ok = (np.abs(ys) <= 90) & (np.abs(xs) <= 180)  # NaN is neither
    if not ok.any():
        return 0.0
    keys = list(zip(np.round(ys[ok], 2).tolist(), np.round(xs[ok], 2).tolist(), strict=True))
    zones = {key: tzfpy.get_tz(key[1], key[0]) for key in set(keys)}
    return float(np.mean([not zones[key].startswith(("Etc/", "Antarctica/")) for key in keys]))


def _spread(p: Profile) -> float:
    low, high = np.percentile(p.finite, [5, 95]) if p.finite.size else (0.0, 0.0)
    return float(high - low)


def _decimals(p: Profile) -> str:
    return f"{p.decimals:.0f} decimals"


def decide_pair(a: Profile, b: Profile) -> list[Guess]:
    """Which of two coordinate-like columns is the latitude (``a`` first in the file):
    the one within ±90° when the other is not; else the pairing that puts the points on
    land; else the narrower spread; else unsure."""
    a90, b90 = (number_share(p, 90.0) >= CONTENT_SHARE for p in (a, b))
    if a90 != b90:
        lat, lon = (a, b) if a90 else (b, a)
        # A column without numbers is not "beyond ±90°": it tells nothing about the pair.
        return _by_range(lat, lon) if lon.finite.size else []
    if not a90:
        return []
    land_ab, land_ba = land_share(a, b), land_share(b, a)
    if max(land_ab, land_ba) >= LAND_SHARE and abs(land_ab - land_ba) >= LAND_MARGIN:
        return (
            _by_land(a, b, land_ab, land_ba)
            if land_ab > land_ba
            else _by_land(b, a, land_ba, land_ab)
        )
    return _by_spread(a, b, land_ab, land_ba)


def _by_range(lat: Profile, lon: Profile) -> list[Guess]:
    reach = float(np.abs(lon.finite).max())
    return [
        Guess("lat", lat.name, f"numbers within ±90° with {_decimals(lat)}"),
        Guess("lon", lon.name, f"numbers with {_decimals(lon)} reaching {reach:.1f}°"),
    ]


def _by_land(lat: Profile, lon: Profile, this_way: float, other_way: float) -> list[Guess]:
    land = f"{this_way:.0%} of sampled points are on land this way round, {other_way:.0%} the other"
    return [
        Guess("lat", lat.name, f"within ±90° with {_decimals(lat)}; with {lon.name!r} as "
              f"the longitude, {land}"),
        Guess("lon", lon.name, f"within ±90° with {_decimals(lon)}; with {lat.name!r} as "
              f"the latitude, {land}"),
    ]  # fmt: skip


def _by_spread(a: Profile, b: Profile, land_ab: float, land_ba: float) -> list[Guess]:
    spread_a, spread_b = _spread(a), _spread(b)
    if spread_b >= SPREAD_RATIO * spread_a > 0 and land_ab >= land_ba:
        lat, lon, sure = a, b, True
    elif spread_a >= SPREAD_RATIO * spread_b > 0 and land_ba >= land_ab:
        lat, lon, sure = b, a, True
    else:  # the file's order (latitude first, as most files have it), but ask
        lat, lon, sure = a, b, False
    why = (
        f"both within ±90° and on land either way round; {lon.name!r} spreads over "
        f"{_spread(lon):.3g}° and {lat.name!r} over {_spread(lat):.3g}°"
        + ("" if sure else ", too close to tell which is the longitude")
    )
    return [Guess("lat", lat.name, why, sure), Guess("lon", lon.name, why, sure)]


def guess_coordinates(
    found: Mapping[str, str], columns: Mapping[str, Profile], known: Mapping[str, Profile]
) -> list[Guess]:
    """Latitude and/or longitude among ``columns`` (free ones); ``known`` profiles the
    columns already found by name, so that a lone latitude finds its longitude."""
    candidates = [p for p in columns.values() if is_coordinate_like(p)]
    if "lat" in found or "lon" in found:
        return _complete_pair(found, candidates, known)
    if len(candidates) == 2:
        return decide_pair(*candidates)
    if len(candidates) == 1:
        only = candidates[0]
        role = "lat" if number_share(only, 90.0) >= CONTENT_SHARE else "lon"
        return [Guess(role, only.name, "the only column of coordinate-like numbers", False)]
    if not candidates:
        return []
    return _one_pair_among(candidates)


def _one_pair_among(candidates: list[Profile]) -> list[Guess]:
    """The one pair of columns that surely reads as coordinates, among three or more."""
    pairs = [decide_pair(a, b) for i, a in enumerate(candidates) for b in candidates[i + 1 :]]
    sure = [pair for pair in pairs if pair and all(g.sure for g in pair)]
    names = ", ".join(repr(p.name) for p in candidates)
    if len(sure) == 1:
        why = f"the one pair among {len(candidates)} columns of coordinate-like numbers ({names})"
        return [Guess(g.role, g.column, f"{g.why}; {why}") for g in sure[0]]
    firsts = (sure or [p for p in pairs if p] or [[]])[0]
    why = f"{len(candidates)} columns hold coordinate-like numbers ({names})"
    return [Guess(g.role, g.column, why, False) for g in firsts]


def _complete_pair(
    found: Mapping[str, str], candidates: list[Profile], known: Mapping[str, Profile]
) -> list[Guess]:
    """The partner of a coordinate found by name."""
    role = "lon" if "lat" in found else "lat"
    partner = known.get(found["lat" if role == "lon" else "lon"])
    # A candidate fits unless the values surely make it the other coordinate.
    fitting = [
        p
        for p in candidates
        if partner is None
        or not any(
            g.column == p.name and g.role != role and g.sure for g in decide_pair(partner, p)
        )
    ]
    if len(fitting) == 1:
        other = found["lat" if role == "lon" else "lon"]
        why = f"the one column of coordinate-like numbers that pairs with {other!r}"
        return [Guess(role, fitting[0].name, why)]
    if not candidates:
        return []
    pick = (fitting or candidates)[0]
    return [Guess(role, pick.name, "coordinate-like numbers, but not clearly a pair", False)]


def _only(
    role: str, columns: Mapping[str, Profile], reading: Callable[[Profile, float], str | None]
) -> list[Guess]:
    """The one column whose values fit ``reading``; several are offered, unsure."""
    hits = [(p.name, why) for p in columns.values() if (why := reading(p, CONTENT_SHARE))]
    if len(hits) == 1:
        return [Guess(role, *hits[0])]
    if not hits:
        return []
    names = " and ".join(repr(name) for name, _ in hits[:3])
    return [Guess(role, hits[0][0], f"{names} all fit ({hits[0][1]})", False)]


def guess_time(found: Mapping[str, str], columns: Mapping[str, Profile]) -> list[Guess]:
    """The timestamp, or a date column with a time-of-day column."""
    if "date" not in found and "time" not in found:
        stamps = _only("timestamp", columns, instant_reading)
        if stamps:
            return stamps
    dates = [] if "date" in found else _only("date", columns, date_reading)
    clocks = [] if "time" in found else _only("time", columns, clock_reading)
    return dates + clocks


def guess_devices(found: Mapping[str, str], columns: Mapping[str, Profile]) -> list[Guess]:
    """The device type and the device id, when exactly one column fits each."""
    guesses: list[Guess] = []
    if "device_type" not in found:
        guesses += _only("device_type", columns, device_type_reading)
    chosen = {g.column for g in guesses}
    if "device_id" not in found:
        rest = {name: p for name, p in columns.items() if name not in chosen}
        guesses += _only("device_id", rest, id_reading)
    return guesses
