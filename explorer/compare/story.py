"""The comparison's story: 3-5 plain sentences on what was compared, what changed that
matters and what stayed the same."""

from __future__ import annotations

from typing import Any

from explorer.text import count, plural

#: Titles of serious changes named in the story; the others are counted.
NAMED_CHANGES = 3
#: Kinds of findings in both deliveries named in the story.
NAMED_KINDS = 4
_METRIC_WORDS = {
    "devices_per_day": "devices per day",
    "pings_per_device": "pings per device per active day",
}


def _side(side: dict[str, Any]) -> str:
    time = side.get("time") or {}
    start, end = str(time.get("start") or "")[:10], str(time.get("end") or "")[:10]
    when = f", {start} to {end}" if start and end else ""
    pings = int((side.get("rows") or {}).get("used") or 0)
    devices = plural(side.get("devices", 0), "device")
    return f"{side.get('source')} ({plural(pings, 'ping')}, {devices}{when})"


def _serious(changes: list[dict[str, Any]]) -> str:
    serious = [c for c in changes if c["severity"] in ("high", "medium")]
    if not serious:
        low = sum(c["severity"] == "low" for c in changes)
        listed = (
            f"; {plural(low, 'low change')} {'is' if low == 1 else 'are'} listed" if low else ""
        )
        return f"Nothing changed that matters: no change reaches medium severity{listed}."
    counts = [
        f"{count(n)} {level}"
        for level in ("high", "medium")
        if (n := sum(c["severity"] == level for c in serious))
    ]
    titles = "; ".join(c["title"].rstrip(".") for c in serious[:NAMED_CHANGES])
    more = len(serious) - NAMED_CHANGES
    tail = f"; and {count(more)} more" if more > 0 else ""
    noun = "change" if len(serious) == 1 else "changes"
    return f"What changed that matters ({' and '.join(counts)} {noun}): {titles}{tail}."


def _same(data: dict[str, Any]) -> str:
    """The panel metrics that did not change, and the findings found in both."""
    changed = {c["evidence"].get("metric") for c in data["changes"] if c["kind"] == "panel_changed"}
    parts = []
    for metric, words in _METRIC_WORDS.items():
        figures = (data.get("panel") or {}).get(metric)
        if metric not in changed and figures:
            parts.append(
                f"{words} ({figures['before']:,.1f} before, {figures['after']:,.1f} after)"
            )
    if "type_mix" not in changed:
        parts.append("the device-type mix")
    if not any(c["kind"] == "area_share_changed" for c in data["changes"]):
        parts.append(
            f"every area's share of devices ({plural(len(data.get('areas') or []), 'area')})"
        )
    unchanged = data.get("unchanged") or []
    if unchanged:
        kinds = sorted({u["kind"].replace("_", " ") for u in unchanged})
        named = ", ".join(kinds[:NAMED_KINDS]) + (", …" if len(kinds) > NAMED_KINDS else "")
        parts.append(f"{plural(len(unchanged), 'finding')} found in both ({named})")
    if not parts:
        return "Little stayed the same: every panel figure moved."
    return "Stayed the same: " + "; ".join(parts) + "."


def comparison_story(data: dict[str, Any]) -> str:
    """The story of a comparison dict (before, after, changes, panel, areas, unchanged)."""
    sentences = [
        f"Compared {_side(data['before'])} with {_side(data['after'])}, both at H3 "
        f"resolution {data['resolution']} (areas at resolution {data['area_resolution']}).",
        _serious(data["changes"]),
        _same(data),
    ]
    if data["before"]["rows"]["used"] == 0 or data["after"]["rows"]["used"] == 0:
        sentences.append("One side holds no usable pings, so most checks had nothing to compare.")
    return " ".join(sentences)
