"""Why a column was chosen for a role: the name that remembers it, and the report's list.

A read's mapping stays role -> column name (``ReadResult.columns``, the report's
``columns``); each name is a :class:`ColumnName`, a ``str`` equal to the plain name that
also carries how it was chosen (``explicit``, ``name`` or ``content``) and why, in one
plain sentence. Being a ``str``, it passes unchanged through everything that hands the
mapping on (chunks, engines, pickling to Dask workers, the analysis), and
:func:`column_choices` turns it into the report's ``column_choices`` list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: How a column can be chosen, strongest first.
HOW = ("explicit", "name", "content")


class ColumnName(str):
    """A column's name (equal to the plain ``str``) with how and why it was chosen."""

    how: str
    why: str

    def __new__(cls, name: str, how: str, why: str) -> ColumnName:
        if how not in HOW:
            raise ValueError(f"how must be one of {', '.join(HOW)}, not {how!r}")
        made = super().__new__(cls, name)
        made.how, made.why = how, why
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (ColumnName, (str(self), self.how, self.why))


def explicit(name: str) -> ColumnName:
    """A column the caller named (argument, command-line flag or the app's form)."""
    return ColumnName(name, "explicit", "chosen explicitly (argument, flag or the app's form)")


def by_name(name: str, rule: str) -> ColumnName:
    """A column found by its name; ``rule`` is the alias or pattern it matched."""
    kind = "pattern" if "*" in rule else "alias"
    return ColumnName(name, "name", f"its name matches the {kind} {rule!r}")


def by_content(name: str, why: str) -> ColumnName:
    """A column found by its values; ``why`` says what they look like."""
    return ColumnName(name, "content", why)


def combined(names: Iterable[str]) -> str:
    """Several files' columns for one role as one name ("a | b"), keeping the reason when
    every file chose the same way."""
    names = list(names)
    if len(names) == 1:
        return names[0]
    joined = " | ".join(names)
    hows = {getattr(n, "how", None) for n in names}
    if len(hows) != 1 or None in hows:
        return joined
    whys = "; ".join(dict.fromkeys(f"{n}: {n.why}" for n in names if isinstance(n, ColumnName)))
    return ColumnName(joined, hows.pop(), f"per file: {whys}")


def column_choices(columns: Mapping[str, str]) -> list[dict[str, str]]:
    """The report's ``column_choices``: role, column, how and why, in the mapping's order.

    A plain ``str`` (a mapping made by hand) counts as chosen explicitly.
    """
    return [
        {
            "role": role,
            "column": str(name),
            "how": getattr(name, "how", "explicit"),
            "why": getattr(name, "why", "given with the analysis"),
        }
        for role, name in columns.items()
    ]
