"""What a check needs beyond coordinates and times, and the record of a check that could
not run.

Each detector declares, where it is defined, the kind of finding it looks for and what
it needs (:func:`check`); the registry runs the ones whose needs the data meets and
lists the others as skipped, each with the reason in words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

#: Device ids: the check counts devices (people), not pings.
DEVICE_IDS = "device_ids"
#: At least two known device types: the check compares device-type mixes.
DEVICE_TYPES = "device_types"
#: A whole day: the check reads the hour of the day, and an hour outside the data's
#: time window would look like a quiet one.
WHOLE_DAY = "whole_day"
#: More than one local day: the check compares days.
SEVERAL_DAYS = "several_days"
#: A reference population (regions with residents): the check compares the panel's
#: homes with who lives there.
REFERENCE = "reference"
#: Every need, in the order their reasons are told.
NEEDS = (DEVICE_IDS, DEVICE_TYPES, WHOLE_DAY, SEVERAL_DAYS, REFERENCE)

F = TypeVar("F", bound=Callable[..., Any])


def check(kind: str, *needs: str) -> Callable[[F], F]:
    """Mark a detector with the finding ``kind`` it looks for and what it ``needs``."""
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise ValueError(f"unknown needs {sorted(unknown)}; choose from {list(NEEDS)}")

    def mark(detector: F) -> F:
        detector.kind = kind
        detector.needs = tuple(n for n in NEEDS if n in needs)
        return detector

    return mark


@dataclass(frozen=True)
class SkippedCheck:
    """A check that could not run: its finding kind, what the data lacks, and why."""

    check: str
    missing: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "missing": list(self.missing), "reason": self.reason}


def skipped_check(kind: str, needs: tuple[str, ...], lacking: Mapping[str, str]) -> SkippedCheck:
    """The record of a check of ``kind`` whose ``needs`` meet ``lacking`` (need -> reason)."""
    missing = tuple(n for n in needs if n in lacking)
    return SkippedCheck(kind, missing, "; ".join(lacking[n] for n in missing))


def without_device_counts(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """Evidence without its device counts, to show for data with no device ids (every
    one of them would read 0), in nested records too (e.g. a "where" table)."""
    return {k: _without_devices(v) for k, v in evidence.items() if "device" not in k}


def _without_devices(value: Any) -> Any:
    if isinstance(value, Mapping):
        return without_device_counts(value)
    if isinstance(value, list):
        return [_without_devices(item) for item in value]
    return value
