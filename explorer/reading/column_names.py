"""Which column plays which role: an explicit mapping, then names, then values.

Precedence: an explicit mapping always wins; then the design's aliases (an earlier alias
wins, two columns on one alias is an error naming both), more exact names, and name
patterns (the last two only where the values agree, see
:mod:`explorer.reading.column_aliases`); then, for roles still missing, the values of a
sample (:mod:`explorer.reading.column_guess`). Every column chosen is a
:class:`~explorer.reading.column_choice.ColumnName` that says how and why. When the
latitude, longitude or timestamp stays missing or unsure, :class:`ColumnMappingError`
names the columns, the flags, and the best guesses (``guesses``) for a form to start from.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping

import polars as pl

from explorer.errors import ColumnMappingError, PingFileError
from explorer.reading import column_choice as choice
from explorer.reading import column_content as content
from explorer.reading import column_guess as guess
from explorer.reading.column_aliases import (
    ALIASES,
    MORE_ALIASES,
    NAME_PATTERNS,
    ROLE_FLAGS,
    ROLES,
    compact,
    exact_aliases,
    names_something_else,
    normalise_name,
)
from explorer.reading.decode import garbled, shown_name, shown_names

__all__ = ["ALIASES", "ROLES", "ROLE_FLAGS", "Sample", "detect_columns"]

#: Column name -> sampled values; or a function giving them, called only when needed.
Sample = Mapping[str, pl.Series] | Callable[[], Mapping[str, pl.Series]]

_OUTPUT_ORDER = ("lat", "lon", "timestamp", "date", "time", "device_id", "device_type")
#: The refusal of a header whose names look misdecoded: no name can be trusted then.
_GARBLED = (
    "The column names look garbled ({}): the file's text encoding was likely misread; "
    "save it as UTF-8 CSV and try again."
)
_TIME_ROLES = ("timestamp", "date", "time")
#: Roles whose names may share a column's values: content may give a column named for
#: one of them to another (a ``date`` column of full date-times is the timestamp).
_FAMILIES = (("lat", "lon"), _TIME_ROLES)
#: What a column found by a broad name must hold (checked on the sample, if any).
_VETS = {
    "lat": lambda p: content.number_share(p, 90.0) >= content.NAME_SHARE,
    "lon": lambda p: content.number_share(p, 180.0) >= content.NAME_SHARE,
    "timestamp": lambda p: content.instant_reading(p, content.NAME_SHARE) is not None,
    "date": lambda p: content.date_reading(p, content.NAME_SHARE) is not None,
    "time": lambda p: content.clock_reading(p, content.NAME_SHARE) is not None,
    "device_id": lambda p: not (p.decimals > 0 and p.share(len(p.finite)) >= content.NAME_SHARE),
    "device_type": lambda p: (
        not p.present or content.device_type_reading(p, content.NAME_SHARE) is not None
    ),
}


class _Detection:
    """One detection's state: the names, the sample's profiles, what is found or unsure."""

    def __init__(self, names: list[str], sample: Sample | None) -> None:
        self.names = names
        self._sample = sample
        self._profiles: dict[str, content.Profile] | None = None
        self.found: dict[str, str] = {}
        self.unsure: list[guess.Guess] = []
        self.taken: set[str] = set()

    @property
    def profiles(self) -> dict[str, content.Profile]:
        if self._profiles is None:
            sample = self._sample() if callable(self._sample) else (self._sample or {})
            self._profiles = content.profiles(sample)
        return self._profiles

    def fits(self, role: str, column: str) -> bool:
        """Whether ``column``'s values agree with ``role`` (True without a sample)."""
        if self._sample is None or column not in self.profiles:
            return True
        return bool(_VETS[role](self.profiles[column]))

    def take(self, role: str, column: str) -> None:
        self.found[role] = column
        self.taken.add(column)


def _rules(role: str) -> list[tuple[int, str]]:
    tiers = (ALIASES.get(role, ()), MORE_ALIASES.get(role, ()), NAME_PATTERNS.get(role, ()))
    return [(tier, rule) for tier, rules in enumerate(tiers, start=1) for rule in rules]


def _matches(name: str, tier: int, rule: str) -> bool:
    if tier == 3:
        return fnmatch.fnmatchcase(normalise_name(name), rule)
    return name.strip().lower() == rule or (bool(compact(name)) and compact(name) == compact(rule))


def _by_name(state: _Detection, role: str, tiers: tuple[int, ...] = (1, 2, 3)) -> str | None:
    """The column whose name matches the earliest rule of ``role``; a tie is unsure."""
    for tier, rule in _rules(role):
        if tier not in tiers:
            continue
        hits = [n for n in state.names if n not in state.taken and _matches(n, tier, rule)]
        if tier > 1:
            hits = [n for n in hits if state.fits(role, n)]
        if len(hits) > 1:
            why = f"{hits[0]!r} and {hits[1]!r} both look like the {role} column"
            state.unsure.append(guess.Guess(role, hits[0], why, sure=False, rival=hits[1]))
            state.taken.update(hits)
            return None
        if hits:
            return choice.by_name(hits[0], rule)
    return None


def _check_explicit(names: list[str], given: Mapping[str, str]) -> dict[str, str]:
    """Validate an explicit mapping against the file's columns (exact, then case-insensitive)."""
    found: dict[str, str] = {}
    for role, column in given.items():
        if role not in ROLES:
            raise PingFileError(f"Unknown column role {role!r}; use one of {', '.join(ROLES)}.")
        if column is None:
            continue
        if column in names:
            found[role] = choice.explicit(column)
            continue
        folded = [n for n in names if n.strip().lower() == str(column).strip().lower()]
        if len(folded) != 1:
            raise ColumnMappingError(
                f"Column {column!r} given for {role} is not in the file (columns found: "
                f"{', '.join(names)}); check {ROLE_FLAGS[role]}.",
                available=names,
                missing=[role],
            )
        found[role] = choice.explicit(folded[0])
    if "date" in found and "timestamp" in found and "time" not in found:
        # --date-col D --time-col T: the "timestamp" column holds the clock time of D.
        found["time"] = found.pop("timestamp")
    return found


def detect_columns(
    names: list[str], explicit: Mapping[str, str] | None = None, sample: Sample | None = None
) -> dict[str, str]:
    """Map roles to column names: explicit choices first, then names, then ``sample``'s values.

    Returns ``lat``, ``lon``, either ``timestamp`` or ``date`` + ``time``, and
    ``device_id`` / ``device_type`` when found, each a :class:`ColumnName` saying how
    and why. Raises :class:`ColumnMappingError` (with ``guesses``) when latitude,
    longitude or a timestamp is missing or unsure, or two columns tie on one name.
    """
    state = _Detection(names, sample)
    for role, column in _check_explicit(names, explicit or {}).items():
        state.take(role, column)
    for tier in (1, 2, 3):
        for role in ("lat", "lon", "device_id", "device_type"):
            if role not in state.found and (hit := _by_name(state, role, (tier,))):
                state.take(role, hit)
    _time_by_name(state)
    if sample is not None:
        _by_content(state)
    return _finish(state)


def _time_by_name(state: _Detection) -> None:
    """A timestamp column, or a date + time pair (which wins over a lone ``time``)."""
    found = state.found
    if "timestamp" in found or "time" in found:
        if "time" in found and "date" not in found:
            date = _by_name(state, "date")
            if date is None:
                found["timestamp"] = found.pop("time")
            else:
                state.take("date", date)
        return
    stamp = _by_name(state, "timestamp")
    date = found.get("date") or _by_name(state, "date")
    if date is not None and (stamp is None or stamp == date or _clock_name(state, stamp)):
        time = _by_name(state, "time")
        if time is not None:
            state.take("date", date)
            state.take("time", time)
            return
    if stamp is not None:
        state.take("timestamp", stamp)
    elif date is not None:
        state.take("date", date)  # its time of day may still be found by content


def _clock_name(state: _Detection, column: str) -> bool:
    """Whether ``column`` is named like a time of day (``time``, ``hora`` …)."""
    return any(_matches(column, tier, rule) for tier, rule in _rules("time") if tier < 3)


def _exact_name_of(name: str, role: str) -> bool:
    """Whether ``name`` is one of ``role``'s exact aliases (tiers 1 and 2)."""
    return any(_matches(name, 1, alias) for alias in exact_aliases(role))


def _free_for(state: _Detection, role: str) -> dict[str, content.Profile]:
    """Columns content may give ``role``: not taken, not named for another role."""
    family = next((f for f in _FAMILIES if role in f), (role,))
    others = [r for r in ROLES if r not in family]
    return {
        name: profile
        for name, profile in state.profiles.items()
        if name not in state.taken
        and not any(_exact_name_of(name, other) for other in others)
        and not (role in ("lat", "lon") and names_something_else(name))
    }


def _by_content(state: _Detection) -> None:
    """Roles still missing, found by their values; unsure guesses are kept for the error."""
    found = state.found
    steps = (
        ("lat", lambda: guess.guess_coordinates(found, _free_for(state, "lat"), state.profiles)),
        ("timestamp", lambda: guess.guess_time(found, _free_for(state, "timestamp"))),
        ("device_id", lambda: guess.guess_devices(found, _free_for(state, "device_id"))),
    )
    for role, run in steps:
        if _complete(found, role) or _tied(state, role):
            continue
        for g in run():
            if g.sure:
                state.take(g.role, choice.by_content(g.column, g.why))
            else:
                state.unsure.append(g)
                state.taken.add(g.column)


def _complete(found: Mapping[str, str], role: str) -> bool:
    if role == "lat":
        return {"lat", "lon"} <= set(found)
    if role == "timestamp":
        return "timestamp" in found or {"date", "time"} <= set(found)
    return {"device_id", "device_type"} <= set(found)


def _tied(state: _Detection, role: str) -> bool:
    family = next((f for f in _FAMILIES if role in f), (role,))
    return any(g.role in family and g.rival for g in state.unsure)


def _finish(state: _Detection) -> dict[str, str]:
    found = {role: state.found[role] for role in _OUTPUT_ORDER if role in state.found}
    missing = [r for r in ("lat", "lon") if r not in found]
    if "timestamp" not in found and not {"date", "time"} <= set(found):
        missing.append("timestamp")
    asked = [
        g
        for g in state.unsure
        if g.rival or g.role in missing or (g.role in ("date", "time") and "timestamp" in missing)
    ]
    if not missing and not asked:
        return found
    raise _mapping_error(state.names, found, missing, asked)


def _mapping_error(
    names: list[str], found: dict[str, str], missing: list[str], unsure: list[guess.Guess]
) -> ColumnMappingError:
    """The error that asks for a mapping (one line): what is missing, which columns tie,
    which guesses are unsure; ``guesses`` holds every column found or guessed."""
    offered = {g.role for g in unsure}
    lost = [r for r in missing if r not in offered and not (r == "timestamp" and "date" in offered)]
    sentences = []
    if lost:
        flags = " ".join(f"{ROLE_FLAGS[r]} NAME" for r in lost)
        sentences.append(
            f"No {', '.join(lost)} column recognised among the columns found "
            f"({shown_names(names)}); name them with {flags}."
        )
    for g in (g for g in unsure if g.rival):
        sentences.append(
            f"Columns '{shown_name(g.column)}' and '{shown_name(g.rival)}' both look like the "
            f"{g.role} column; rename one or choose with {ROLE_FLAGS[g.role]}."
        )
    if doubtful := [g for g in unsure if not g.rival]:
        best = ", ".join(f"{g.role} '{shown_name(g.column)}'" for g in doubtful)
        flags = " and ".join(dict.fromkeys(ROLE_FLAGS[g.role] for g in doubtful))
        sentences.append(
            f"Not sure which column is which (best guess: {best}); confirm or change with {flags}."
        )
    guesses = {**{g.role: str(g.column) for g in unsure}, **{r: str(c) for r, c in found.items()}}
    return ColumnMappingError(
        _GARBLED.format(shown_names(names, 24)) if garbled(names) else " ".join(sentences),
        available=names,
        missing=missing or [g.role for g in unsure],
        guesses={r: guesses[r] for r in _OUTPUT_ORDER if r in guesses},
    )
