"""Tiny inline-SVG charts for the HTML report: no scripts, no external resources.

Every builder returns one ``<svg>`` element as text. Every label that may come from
the data is escaped with :func:`html.escape`; numbers are formatted here. The SVG has
no ``xmlns`` attribute on purpose: inline SVG in HTML5 needs none, and the report must
not contain a single URL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape as _html_escape

from explorer.binning.cells import cell_boundary, cell_centre, haversine_km, str_to_cell

#: Colours of the first series (the flagged area) and the second (the reference).
AREA_COLOUR = "#2f6fb0"
REFERENCE_COLOUR = "#b6c0ca"
#: Outline colours of flagged cells by severity.
SEVERITY_COLOURS = {"high": "#b42318", "medium": "#b54708", "low": "#5b6b7c"}
#: Most categories a mix chart shows (the rest are summed into "other").
MAX_CATEGORIES = 8
#: Most cells drawn on one map; beyond this the map would be unreadable anyway.
MAX_MAP_CELLS = 400
#: Cells farther than this (km) from the median flagged cell are left off a map and
#: counted instead, so one far-away cell (null island) does not shrink the rest to dots.
MAP_FOCUS_KM = 300.0
_FONT = 'font-family="system-ui, sans-serif" font-size="11" fill="#344054"'


def escape(value: object) -> str:
    """Data text safe in HTML and SVG: ``html.escape`` (quotes included), and the ``//``
    of any ``scheme://`` written as character references so that no URL appears in the
    file's text (the reader still sees ``https://``)."""
    return _html_escape(str(value), quote=True).replace("://", ":&#47;&#47;")


def _num(value: float) -> str:
    """Compact coordinate for SVG attributes."""
    return f"{value:.1f}"


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _axis(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" stroke="#98a2b3"/>'
    )


def _rect(x: float, y: float, w: float, h: float, colour: str) -> str:
    return (
        f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" fill="{colour}"/>'
    )


def _legend(x: float, y: float, items: Sequence[tuple[str, str]]) -> list[str]:
    out = []
    for name, colour in items:
        out.append(
            f'<rect x="{_num(x)}" y="{_num(y - 9)}" width="10" height="10" fill="{colour}"/>'
        )
        out.append(f'<text x="{_num(x + 14)}" y="{_num(y)}" {_FONT}>{escape(name)}</text>')
        x += 24 + 6.5 * len(name)
    return out


def _finite(values: Sequence[object]) -> list[float]:
    """Numbers of a series, with anything missing or non-finite read as 0."""
    out = []
    for v in values:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        out.append(float(v) if ok else 0.0)
    return out


def hour_bars(
    first: Sequence[float],
    second: Sequence[float] | None = None,
    names: tuple[str, str] = ("This area", "Everywhere else"),
    title: str = "Share of pings by local hour",
    y_label: str = "",
) -> str:
    """Grouped bars of one or two 24-hour series (shares or counts), hours 0–23."""
    tick = lambda i: f"{i:02d}h" if i % 3 == 0 else ""  # noqa: E731 - a one-line rule
    return _bars(first, second, names, title, tick, ("local hour", y_label))


def humanise_axis(name: str) -> str:
    """``top_devices`` -> ``top devices`` for an axis caption."""
    return str(name).replace("_", " ")


def value_bars(
    values: Sequence[float],
    title: str = "Values",
    first: int = 1,
    ticks: Sequence[str] | None = None,
    x_label: str = "",
    y_label: str = "",
) -> str:
    """Plain bars of a short numeric series, bars named by ``ticks`` or numbered from
    ``first`` (e.g. neighbouring cells' values from 1, a histogram of decimals from 0)."""
    step = max(1, len(values) // 12)
    names = list(ticks) if ticks is not None else [str(i + first) for i in range(len(values))]

    def tick(i: int) -> str:
        return names[i] if i % step == 0 and i < len(names) else ""

    return _bars(values, None, (title, ""), title, tick, (x_label, y_label))


def _bars(first, second, names, title, tick, axes=("", "")) -> str:
    """Bars of one series, or grouped bars of two, with ``tick(i)`` under bar ``i`` and
    ``axes`` (x, y) captions: the x one under the ticks, the y one above the bars."""
    # Negative values have no bar height; missing reference values draw as zero.
    a = [max(v, 0.0) for v in _finite(first)] or [0.0]
    b = None
    if second is not None:
        b = ([max(v, 0.0) for v in _finite(second)] + [0.0] * len(a))[: len(a)]
    width, height, left, bottom, top = 560, 190, 36, 24, 26
    x_label, y_label = axes
    height += 14 if x_label else 0
    top += 14 if y_label else 0
    plot_h = height - bottom - top - (14 if x_label else 0)
    peak = max(a + (b or []) + [1e-12])
    step = (width - left - 8) / len(a)
    bar = step / (2.4 if b else 1.4)
    body = [f'<text x="{left}" y="14" {_FONT} font-weight="600">{escape(title)}</text>']
    for i, value in enumerate(a):
        x = left + i * step + step * 0.15
        pairs = [(value, AREA_COLOUR)] + ([(b[i], REFERENCE_COLOUR)] if b else [])
        for j, (v, colour) in enumerate(pairs):
            h = plot_h * v / peak
            body.append(_rect(x + j * bar, top + plot_h - h, bar, h, colour))
        if tick(i):
            y = top + plot_h + 16
            body.append(f'<text x="{_num(x)}" y="{y}" {_FONT}>{escape(tick(i))}</text>')
    body.append(_axis(left, top + plot_h, width - 8, top + plot_h))
    if y_label:
        body.append(f'<text x="{left}" y="{top - 6}" {_FONT}>{escape(y_label)}</text>')
    if x_label:
        x_mid = left + (width - left) / 2 - 3 * len(x_label)
        body.append(f'<text x="{_num(x_mid)}" y="{height - 6}" {_FONT}>{escape(x_label)}</text>')
    body += _legend(
        width - 250, 14, [(names[0], AREA_COLOUR)] + ([(names[1], REFERENCE_COLOUR)] if b else [])
    )
    return _svg(width, height, body, title)


def top_categories(first: Mapping[str, float], second: Mapping[str, float] | None) -> list[str]:
    """The categories a mix chart shows: the heaviest over both mixes, at most
    :data:`MAX_CATEGORIES`."""
    weight: dict[str, float] = {}
    for mix in (first, second or {}):
        for key, value in mix.items():
            weight[str(key)] = weight.get(str(key), 0.0) + _finite([value])[0]
    return sorted(weight, key=lambda k: (-weight[k], k))[:MAX_CATEGORIES]


def mix_bars(
    first: Mapping[str, float],
    second: Mapping[str, float] | None = None,
    names: tuple[str, str] = ("This area", "Overall"),
    title: str = "Mix",
    unit: str = "share",
) -> str:
    """Horizontal bars comparing one or two ``{category: share}`` mixes (``unit``
    ``"count"``: numbers of rows or pings, written as whole numbers)."""
    categories = top_categories(first, second)
    rows = 2 if second is not None else 1
    line = 14
    width, left, top = 560, 120, 34
    height = top + len(categories) * (rows * line + 8) + 6
    values = [_finite([first.get(c, 0)])[0] for c in categories]
    values += [_finite([(second or {}).get(c, 0)])[0] for c in categories]
    peak = max(values + [1e-12])
    text = _share if unit == "share" else (lambda v: f"{v:,.0f}")
    body = [f'<text x="0" y="14" {_FONT} font-weight="600">{escape(title)}</text>']
    body += _legend(
        left, 28, [(names[0], AREA_COLOUR)] + ([(names[1], REFERENCE_COLOUR)] if second else [])
    )
    y = top + 4
    for cat in categories:
        body.append(f'<text x="0" y="{_num(y + 11)}" {_FONT}>{escape(cat[:18])}</text>')
        series = [(first, AREA_COLOUR)] + (
            [(second, REFERENCE_COLOUR)] if second is not None else []
        )
        for mix, colour in series:
            v = _finite([mix.get(cat, 0)])[0]
            w = (width - left - 60) * v / peak
            body.append(_rect(left, y, w, line - 3, colour))
            body.append(
                f'<text x="{_num(left + w + 4)}" y="{_num(y + 10)}" {_FONT}>{text(v)}</text>'
            )
            y += line
        y += 8
    return _svg(width, height, body, title)


def _share(value: float) -> str:
    """A share in [0, 1] as a percentage; other numbers as they are."""
    if 0.0 <= value <= 1.0:
        return f"{value:.0%}" if value >= 0.1 or value == 0 else f"{value:.1%}"
    return f"{value:,.3g}"


def line_chart(
    points: Sequence[tuple[float, float]], title: str = "Curve", x_name: str = "", y_name: str = ""
) -> str:
    """A line with dots through ``(x, y)`` points, axes scaled to the data."""
    pts = [(x, y) for x, y in ((_finite([p[0]])[0], _finite([p[1]])[0]) for p in points)]
    width, height, left, bottom, top = 560, 190, 44, 30, 26
    if not pts:
        return _svg(
            width, 40, [f'<text x="0" y="14" {_FONT}>{escape(title)}: no data</text>'], title
        )
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys)
    span_x, span_y = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    plot_w, plot_h = width - left - 16, height - top - bottom

    def xy(x: float, y: float) -> tuple[float, float]:
        return left + plot_w * (x - x0) / span_x, top + plot_h * (1 - (y - y0) / span_y)

    coords = [xy(x, y) for x, y in pts]
    path = " ".join(f"{_num(a)},{_num(b)}" for a, b in coords)
    body = [
        f'<text x="0" y="14" {_FONT} font-weight="600">{escape(title)}</text>',
        _axis(left, top + plot_h, left + plot_w, top + plot_h),
        _axis(left, top, left, top + plot_h),
        f'<polyline points="{path}" fill="none" stroke="{AREA_COLOUR}" stroke-width="2"/>',
    ]
    body += [
        f'<circle cx="{_num(a)}" cy="{_num(b)}" r="3" fill="{AREA_COLOUR}"/>' for a, b in coords
    ]
    body.append(f'<text x="2" y="{top + 8}" {_FONT}>{_share(y1)}</text>')
    body.append(f'<text x="2" y="{top + plot_h}" {_FONT}>{_share(y0)}</text>')
    body.append(f'<text x="{left}" y="{height - 8}" {_FONT}>{_share(x0)}</text>')
    body.append(f'<text x="{left + plot_w - 30}" y="{height - 8}" {_FONT}>{_share(x1)}</text>')
    axis = " against ".join(escape(humanise_axis(n)) for n in (y_name, x_name) if n)
    if axis:
        body.append(f'<text x="{left + plot_w / 2 - 40}" y="{height - 8}" {_FONT}>{axis}</text>')
    return _svg(width, height, body, title)


def _project(lat: float, lon: float, lat0: float) -> tuple[float, float]:
    """Equirectangular projection scaled by cos(lat0): fine for a city-sized map."""
    return lon * math.cos(math.radians(lat0)), -lat


def _rings(cells: Sequence[str]) -> list[list[tuple[float, float]]]:
    """(lat, lon) rings of valid cells, longitudes unwrapped across the antimeridian."""
    rings = []
    for cell in cells[:MAX_MAP_CELLS]:
        try:
            ring = cell_boundary(str_to_cell(cell))
        except (ValueError, TypeError):
            continue
        ref = ring[0][1]
        rings.append([(lat, lon + 360 * round((ref - lon) / 360)) for lat, lon in ring])
    return rings


def cell_map(
    cells: Sequence[tuple[str, str]], title: str = "Flagged cells", size: int = 320
) -> str:
    """Outline map of H3 cells given as ``(hex id, severity)``; a dot marks each cell
    too small to see at the map's scale."""
    drawn = [(ring, sev) for (cell, sev) in cells for ring in _rings([cell])]
    if not drawn:
        return ""
    lat0 = sum(p[0] for ring, _ in drawn for p in ring) / sum(len(r) for r, _ in drawn)
    flat = [_project(lat, lon, lat0) for ring, _ in drawn for lat, lon in ring]
    xs, ys = [p[0] for p in flat], [p[1] for p in flat]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    pad = 12
    scale = (size - 2 * pad) / span
    # Centre the drawing on the shorter axis.
    left = pad + (size - 2 * pad - (max(xs) - min(xs)) * scale) / 2
    top = pad + (size - 2 * pad - (max(ys) - min(ys)) * scale) / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        x, y = _project(lat, lon, lat0)
        return left + (x - min(xs)) * scale, top + (y - min(ys)) * scale

    body = [f'<rect x="0" y="0" width="{size}" height="{size}" fill="#f8fafc" stroke="#e4e7ec"/>']
    for ring, severity in drawn:
        colour = SEVERITY_COLOURS.get(severity, SEVERITY_COLOURS["low"])
        points = [xy(lat, lon) for lat, lon in ring]
        path = " ".join(f"{_num(a)},{_num(b)}" for a, b in points)
        body.append(
            f'<polygon points="{path}" fill="{colour}" fill-opacity="0.25" stroke="{colour}" '
            'stroke-width="1"/>'
        )
        extent = max(max(p[0] for p in points) - min(p[0] for p in points), 0.0)
        if extent < 4:
            cx = sum(p[0] for p in points) / len(points)
            cy = sum(p[1] for p in points) / len(points)
            body.append(f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="3" fill="{colour}"/>')
    return _svg(size, size, body, title)


def split_far_cells(
    cells: Sequence[tuple[str, str]], km: float = MAP_FOCUS_KM
) -> tuple[list[tuple[str, str]], list[tuple[str, str, float, float]]]:
    """(cells within ``km`` of the median cell centre, far cells with their centres).

    Invalid ids are dropped from both.
    """
    centres = []
    for cell, severity in cells:
        try:
            lat, lon = cell_centre(str_to_cell(cell))
        except (ValueError, TypeError):
            continue
        centres.append((cell, severity, lat, lon))
    if not centres:
        return [], []
    lat0 = sorted(c[2] for c in centres)[len(centres) // 2]
    lon0 = sorted(c[3] for c in centres)[len(centres) // 2]
    near = [(c, s) for c, s, lat, lon in centres if haversine_km(lat, lon, lat0, lon0) <= km]
    far = [c for c in centres if (c[0], c[1]) not in set(near)]
    return near, far
