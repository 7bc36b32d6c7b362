"""Column names: the alias tables and which column plays which role.

Pure Python on purpose (no numpy, polars or pyarrow): the command line detects a CSV's
columns on a thread while it imports those (see :func:`explorer.reading.csv_text.read_ahead`).
"""

from __future__ import annotations

from collections.abc import Mapping

from explorer.errors import ColumnMappingError, PingFileError
from explorer.reading.decode import garbled, shown_names

#: Column-name aliases per role, matched case-insensitively; an earlier alias wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "lat": ("lat", "latitude", "y", "lat_deg", "location_lat"),
    "lon": ("lon", "lng", "long", "longitude", "x", "lon_deg", "location_lon", "location_lng"),
    "timestamp": (
        "timestamp",
        "ts",
        "time",
        "datetime",
        "event_time",
        "utc_timestamp",
        "created_at",
        "checkin_time",
    ),
    "device_id": (
        "device_id",
        "maid",
        "ad_id",
        "advertising_id",
        "idfa",
        "gaid",
        "user_id",
        "uid",
        "id_android",
        "device",
    ),
    "device_type": ("os", "platform", "device_type", "device_os", "os_name", "device_class"),
    "date": ("date",),
    "time": ("time",),
}

#: Roles an explicit mapping may name.
ROLES = ("lat", "lon", "timestamp", "date", "time", "device_id", "device_type")

#: Command-line flag per role, used in error messages.
ROLE_FLAGS = {
    "lat": "--lat-col",
    "lon": "--lon-col",
    "timestamp": "--time-col",
    "date": "--date-col",
    "time": "--time-col",
    "device_id": "--device-col",
    "device_type": "--type-col",
}

_OUTPUT_ORDER = ("lat", "lon", "timestamp", "date", "time", "device_id", "device_type")


def _find_alias(names: list[str], role: str, taken: set[str]) -> str | None:
    """The column matching the earliest alias of ``role``; two columns on one alias is an error."""
    for alias in ALIASES[role]:
        hits = [n for n in names if n.strip().lower() == alias and n not in taken]
        if len(hits) > 1:
            raise PingFileError(
                f"Columns {hits[0]!r} and {hits[1]!r} both look like the {role} column; "
                f"rename one or choose with {ROLE_FLAGS[role]}."
            )
        if hits:
            return hits[0]
    return None


def _check_explicit(names: list[str], explicit: Mapping[str, str]) -> dict[str, str]:
    """Validate an explicit mapping against the file's columns (exact, then case-insensitive)."""
    found: dict[str, str] = {}
    for role, column in explicit.items():
        if role not in ROLES:
            raise PingFileError(f"Unknown column role {role!r}; use one of {', '.join(ROLES)}.")
        if column is None:
            continue
        if column in names:
            found[role] = column
            continue
        folded = [n for n in names if n.strip().lower() == str(column).strip().lower()]
        if len(folded) != 1:
            raise ColumnMappingError(
                f"Column {column!r} given for {role} is not in the file (columns found: "
                f"{', '.join(names)}); check {ROLE_FLAGS[role]}.",
                available=names,
                missing=[role],
            )
        found[role] = folded[0]
    if "date" in found and "timestamp" in found and "time" not in found:
        # --date-col D --time-col T: the "timestamp" column holds the clock time of D.
        found["time"] = found.pop("timestamp")
    return found


def detect_columns(names: list[str], explicit: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map roles to column names: explicit choices first, then aliases.

    Returns ``lat``, ``lon``, either ``timestamp`` or ``date`` + ``time``, and
    ``device_id`` / ``device_type`` when present. Raises :class:`ColumnMappingError`
    when latitude, longitude or a timestamp cannot be found.
    """
    found = _check_explicit(names, explicit or {})
    taken = set(found.values())
    for role in ("lat", "lon", "device_id", "device_type"):
        if role not in found and (hit := _find_alias(names, role, taken)) is not None:
            found[role] = hit
            taken.add(hit)
    if "timestamp" not in found and "time" not in found:
        _detect_time_roles(names, found, taken)
    elif "time" in found and "date" not in found:
        date = _find_alias(names, "date", taken)
        if date is None:
            found["timestamp"] = found.pop("time")
        else:
            found["date"] = date
    found = {role: found[role] for role in _OUTPUT_ORDER if role in found}
    missing = [r for r in ("lat", "lon") if r not in found]
    if "timestamp" not in found and "time" not in found:
        missing.append("timestamp")
    if missing:
        flags = " ".join(f"{ROLE_FLAGS[r]} NAME" for r in missing)
        message = (
            f"The column names look garbled ({shown_names(names, 24)}): the file's text "
            "encoding was likely misread; save it as UTF-8 CSV and try again."
            if garbled(names)
            else f"No {', '.join(missing)} column recognised among the columns found "
            f"({shown_names(names)}); name them with {flags}."
        )
        raise ColumnMappingError(message, available=names, missing=missing)
    return found


def _detect_time_roles(names: list[str], found: dict[str, str], taken: set[str]) -> None:
    """Choose a timestamp column, or a date + time pair (which wins over a lone ``time``)."""
    stamp = _find_alias(names, "timestamp", taken)
    date = found.get("date") or _find_alias(names, "date", taken)
    if date is not None and (stamp is None or stamp.strip().lower() == "time"):
        time = found.get("time") or _find_alias(names, "time", taken)
        if time is not None:
            found["date"], found["time"] = date, time
            return
    if stamp is not None:
        found["timestamp"] = stamp
