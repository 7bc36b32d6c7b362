"""Evidence keys and values in words: labels, units, percentages, p-values.

Plain text out (not escaped): the reports and the app escape it where they show it.
"""

from __future__ import annotations

import math
from typing import Any

#: Below this a p-value is written "p < 0.001": more digits say nothing to a reader.
SMALLEST_P = 0.001
#: Words in a key that mark a value in [0, 1] as a share, shown as a percentage.
_SHARE_WORDS = ("share", "fraction", "ratio_of", "pct", "proportion", "tv_at")
#: Key endings and the unit written after the number.
_UNITS = (
    ("_kmh", " km/h"),
    ("_km", " km"),
    ("_metres", " m"),
    ("_deg", "°"),
    ("_hours", " h"),
    ("_minutes", " min"),
)
#: What a unit measures, for a label that is only "min", "median" … once the unit goes.
_MEASURES = {" km": "distance", " km/h": "speed", " h": "time", " min": "time", "°": "radius"}
_VAGUE = frozenset({"min", "max", "median", "mean", "typical"})
#: Words for keys whose name alone does not say what they count.
LABELS = {
    "p_value": "Chance alone would give this",
    "sign_test_p": "Chance alone would give this",
    "tv_at_0": "Mismatch with a human day, clock as written",
    "tv_at_best": "Mismatch with a human day, clock moved",
    "ratio": "Times the typical",
    "ratio_devices": "Times the expected devices",
    "tail_ratio": "Times the busiest 1 % of devices",
    "cell_pings": "Pings in the cell",
    "excess_devices": "Devices beyond the expected",
    "excess_pings": "Pings beyond the expected",
    "best_shift_hours": "Best clock shift",
    "shift_hours": "Clock shift",
    "local_offset_hours": "Local clock's offset from UTC",
    "likely_source_offset_hours": "Likely offset from UTC of the file's clock",
    "suggested_tz": "Suggested time zone",
    "naive_timestamps": "Timestamps without a zone",
    "grid_metres": "Grid spacing",
    "night_share": "Share in the quiet hours",
    "rest_night_share": "Share in the quiet hours elsewhere",
    "ping_night_share": "Share of pings in the quiet hours",
    "rest_ping_night_share": "Share of pings in the quiet hours elsewhere",
    "share_difference": "Difference in share",
    "mass_radius_km": "Radius holding most pings",
    "far_km": "Farther than this is far",
}


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def humanise(key: str) -> str:
    """``cell_share`` -> ``Cell share``."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def label(key: str) -> str:
    """An evidence key in words: :data:`LABELS`, else the key humanised without its unit
    (the value carries it): ``centre_distance_km`` -> ``Centre distance``."""
    if key in LABELS:
        return LABELS[key]
    unit = _unit(key)
    end = next((e for e, u in _UNITS if u == unit and key.lower().endswith(e)), "")
    stem = key[: len(key) - len(end)] if unit else key
    if unit and stem.lower() in _VAGUE:
        stem = f"{stem} {_MEASURES[unit]}"
    return humanise(stem)


def _is_p_value(key: str) -> bool:
    name = key.lower()
    return name.startswith("p_value") or name.endswith("_p")


def _is_ratio(key: str) -> bool:
    name = key.lower()
    return "ratio_of" not in name and (
        name == "ratio" or name.startswith("ratio_") or name.endswith("_ratio")
    )


def _unit(key: str) -> str:
    name = key.lower()
    return next((unit for end, unit in _UNITS if name.endswith(end)), "")


def _plain(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}".removesuffix(".0")
    return f"{value:.3g}"


def format_value(key: str, value: Any) -> str:
    """A scalar as a reader would write it, with its unit: 12,345 / 37% / 4.2 h / 245× /
    p < 0.001 / yes / n/a."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if is_number(value) and _is_p_value(key):
        return f"p < {SMALLEST_P}" if value < SMALLEST_P else f"p = {value:.2g}"
    if isinstance(value, int):
        return f"{value:,}{_unit(key)}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "n/a"
        if is_coordinate(key):
            return f"{value:.4f}"
        if any(w in key.lower() for w in _SHARE_WORDS) and 0 <= value <= 1:
            return f"{value:.2%}" if value < 0.01 else f"{value:.1%}"
        if _is_ratio(key):
            return f"{_plain(value)}×"
        return _plain(value) + _unit(key)
    return str(value)


def is_coordinate(key: str) -> bool:
    name = key.lower()
    return name in ("lat", "lon", "lng", "latitude", "longitude") or name.endswith(
        ("_lat", "_lon", "_lng")
    )
