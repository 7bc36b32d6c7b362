"""The names a role's column goes by: the design's aliases, more exact names, name patterns.

Three tiers, tried in this order (see :mod:`explorer.reading.column_names`):

1. :data:`ALIASES`, the design's lists, trusted as they are;
2. :data:`MORE_ALIASES`, spellings of vendors, analysts and other languages;
3. :data:`NAME_PATTERNS`, shell-style patterns on the normalised name (``*_ts``).

Names are compared in :func:`normalise_name`'s form (accents dropped, camelCase split,
lower case, words joined by ``_``) and, for the exact tiers, also without separators,
so that ``TimeStamp``, ``Device ID`` and ``device-id`` find their alias. A match from
tiers 2 and 3 must agree with the column's values when a sample of them is at hand.
Pure Python: no numpy or polars.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import unicodedata

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

#: Column-name aliases per role (the design's lists), matched case-insensitively; an
#: earlier alias wins.
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

_LAT_PREFIXES = ("gps", "geo", "loc", "location", "device", "user", "coord", "wgs84", "event")

#: More exact names per role (after the design's): ad-tech and vendor spellings, and
#: English, Spanish, Portuguese, French, German, Italian and Dutch words.
MORE_ALIASES: dict[str, tuple[str, ...]] = {
    "lat": (
        *("latitud", "latitudine", "breitengrad", "breite", "breedtegraad", "lat_dd"),
        *("latitude_deg", "latitude_degrees", "lat_wgs84", "latitude_wgs84"),
        *(f"{p}_lat" for p in _LAT_PREFIXES),
        *(f"{p}_latitude" for p in _LAT_PREFIXES),
    ),
    "lon": (
        *("longitud", "longitudine", "langengrad", "laengengrad", "lange", "laenge"),
        *("lengtegraad", "lon_dd", "lng_deg", "long_deg", "longitude_deg", "longitude_degrees"),
        *("lon_wgs84", "longitude_wgs84"),
        *(f"{p}_{word}" for p in _LAT_PREFIXES for word in ("lon", "lng", "longitude")),
    ),
    "timestamp": (
        *("event_ts", "event_timestamp", "event_datetime", "location_at", "location_time"),
        *("location_timestamp", "timestamp_utc", "datetime_utc", "utc_datetime", "utc_time"),
        *("time_utc", "date_time", "time_stamp", "gps_time", "fix_time", "unix_time"),
        *("unix_timestamp", "epoch", "epoch_time", "epoch_ms", "ts_ms", "timestamp_ms"),
        *("recorded_at", "captured_at", "observed_at", "collected_at", "seen_at", "sent_at"),
        *("fecha_hora", "fechahora", "marca_de_tiempo", "marca_temporal", "data_hora"),
        *("datahora", "data_e_hora", "carimbo_de_tempo", "horodatage", "date_heure"),
        *("date_et_heure", "zeitstempel", "zeitpunkt", "zeit", "data_ora", "dataora"),
        *("marca_temporale", "tijdstip", "tijdstempel"),
    ),
    "date": ("fecha", "data", "datum", "date_local", "event_date", "jour", "dia"),
    "time": ("hora", "heure", "uhrzeit", "ora", "orario", "tijd", "time_of_day", "clock"),
    "device_id": (
        *("advertiser_id", "adid", "ifa", "aaid", "mobile_ad_id", "mobile_advertising_id"),
        *("ad_identifier", "device_ad_id", "hashed_maid", "maid_hash", "hashed_device_id"),
        *("device_id_hash", "device_hash", "hashed_id", "hashed_idfa", "hashed_gaid"),
        *("hashed_ad_id", "hashed_advertiser_id", "caid", "oaid", "device_uuid", "user_uuid"),
        *("visitor_id", "subscriber_id", "id_dispositivo", "dispositivo", "id_usuario"),
        *("usuario", "id_utente", "utente", "id_appareil", "appareil", "id_utilisateur"),
        *("geraete_id", "gerate_id", "gerat_id", "geraet", "gerat", "nutzer_id"),
        *("benutzer_id", "apparaat_id"),
    ),
    "device_type": (
        *("os_type", "os_family", "operating_system", "device_platform", "platform_name"),
        *("os_platform", "device_os_name", "mobile_os", "sistema", "sistema_operativo"),
        *("so", "plataforma", "systeme", "systeme_d_exploitation", "systeme_exploitation"),
        *("plateforme", "betriebssystem", "plattform", "piattaforma", "besturingssysteem"),
    ),
}

#: Shell-style patterns on normalised names, per role; an earlier pattern wins. Broad on
#: purpose (``event_*`` also matches ``event_type``): a column matched here must agree
#: with its values.
NAME_PATTERNS: dict[str, tuple[str, ...]] = {
    "lat": ("*latitud*", "*breitengrad*", "lat_*", "*_lat"),
    "lon": (
        *("*longitud*", "*langengrad*", "*laengengrad*", "lon_*", "*_lon", "lng_*", "*_lng"),
        *("long_*", "*_long"),
    ),
    "timestamp": (
        *("event_*", "*_ts", "ts_*", "*_timestamp", "timestamp_*", "*_datetime", "datetime_*"),
        *("*_at", "utc_*", "*_utc", "*_time", "time_*", "*epoch*", "unix_*", "fecha*"),
        *("*data_hora*", "*date_heure*", "horodatage*", "zeit*", "*zeitstempel*"),
    ),
    "date": ("*_date", "date_*", "fecha_*", "datum_*", "data_*"),
    "time": ("hora_*", "*_hora", "heure_*", "uhrzeit_*"),
    "device_id": (
        *("hashed_*", "*_maid", "maid_*", "*_idfa", "idfa_*", "*_gaid", "gaid_*", "*_ad_id"),
        *("ad_id_*", "*advertis*_id*", "*device_id*", "*_uuid"),
    ),
    "device_type": ("*_os", "os_*", "*platform*", "*plataforma*", "*sistema*", "*betriebssystem*"),
}

#: Words (whole parts of a normalised name) that say a number is not a coordinate:
#: content never picks such a column as a latitude or longitude.
NOT_COORDINATES = frozenset(
    (
        *("alt", "altitude", "elevation", "ele", "height", "accuracy", "acc", "hdop", "vdop"),
        *("pdop", "speed", "velocity", "bearing", "heading", "course", "azimuth", "direction"),
        *("distance", "battery", "temperature", "temp", "rating", "score", "price", "amount"),
        *("weight", "percent", "pct", "ratio", "duration", "confidence", "error", "radius"),
    )
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=4096)
def normalise_name(name: str) -> str:
    """A column name as words joined by ``_``: accents dropped, camelCase split, lower case.

    ``"Längengrad"`` → ``langengrad``, ``"eventTS"`` → ``event_ts``, ``"Device ID"`` →
    ``device_id``.
    """
    plain = unicodedata.normalize("NFKD", str(name))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    split = _CAMEL.sub("_", plain.strip())
    return _SEPARATORS.sub("_", split.lower()).strip("_")


@functools.lru_cache(maxsize=4096)
def compact(name: str) -> str:
    """The normalised name without separators (``time_stamp`` and ``timestamp`` agree)."""
    return normalise_name(name).replace("_", "")


def exact_aliases(role: str) -> tuple[str, ...]:
    """The design's aliases of ``role``, then the more exact names."""
    return (*ALIASES[role], *MORE_ALIASES.get(role, ()))


def matching_pattern(name: str, role: str) -> str | None:
    """The first of ``role``'s patterns that ``name`` matches (in normalised form)."""
    clean = normalise_name(name)
    if not clean:
        return None
    return next((p for p in NAME_PATTERNS.get(role, ()) if fnmatch.fnmatchcase(clean, p)), None)


def is_known_name(name: str) -> bool:
    """Whether any tier of any role recognises ``name`` (a header, not a data row)."""
    key = compact(name)
    if any(key == compact(alias) for role in ROLES for alias in exact_aliases(role)):
        return True
    return any(matching_pattern(name, role) for role in ROLES)


def names_something_else(name: str) -> bool:
    """Whether ``name`` says its numbers are not coordinates (speed, accuracy …)."""
    return bool(set(normalise_name(name).split("_")) & NOT_COORDINATES)
