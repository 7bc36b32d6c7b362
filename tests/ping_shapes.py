"""Ping files shaped the way vendors and analysts write them, for column-detection tests.

Not :mod:`explorer.synth`: a few dozen devices (UUIDs) scattered around one of a dozen
cities over a week, written with any header, value format, delimiter and column order
(:func:`make_csv`), so that detection is tested on shapes our own generator never makes.
"""

from __future__ import annotations

import random
import uuid

import numpy as np
import polars as pl

#: (lat, lon) of the cities the files are made around.
CITIES = {
    "new_york": (40.75, -73.98),
    "sao_paulo": (-23.55, -46.63),
    "madrid": (40.42, -3.70),
    "paris": (48.86, 2.35),
    "berlin": (52.52, 13.40),
    "rome": (41.90, 12.50),
    "amsterdam": (52.37, 4.90),
    "tokyo": (35.68, 139.76),
    "sydney": (-33.87, 151.21),
    "moscow": (55.75, 37.62),
    "cairo": (30.04, 31.24),
    "lagos": (6.52, 3.38),
    "london": (51.51, -0.13),
}
START = 1_711_300_000  # 2024-03-24T17:06:40Z


def pings(city: str, n: int = 1_200, seed: int = 0, devices: int = 40) -> pl.DataFrame:
    """Device UUIDs, epoch seconds, coordinates (6 decimals) and OS names around ``city``."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = CITIES[city]
    ids = [str(uuid.UUID(bytes=rng.bytes(16))) for _ in range(devices)]
    radius = 15 / 111 / 2  # degrees of latitude; longitude wider by 1 / cos(latitude)
    lat = lat0 + rng.normal(0, radius, n)
    lon = lon0 + rng.normal(0, radius / np.cos(np.radians(lat0)), n)
    return pl.DataFrame(
        {
            "device": [ids[i] for i in rng.integers(0, devices, n)],
            "t": START + np.sort(rng.integers(0, 7 * 86_400, n)),
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
            "os": np.where(rng.random(n) < 0.55, "iOS 17.4", "Android 14"),
        }
    )


def _when(fmt: str) -> pl.Expr:
    return pl.from_epoch("t", "s").dt.strftime(fmt)


#: How each kind of column is written from :func:`pings`.
KINDS: dict[str, pl.Expr] = {
    "device": pl.col("device"),
    "hex": pl.col("device").str.replace_all("-", "").str.slice(0, 16),
    "epoch_s": pl.col("t"),
    "epoch_ms": pl.col("t") * 1_000,
    "epoch_ns": pl.col("t") * 1_000_000_000,
    "iso_z": _when("%Y-%m-%dT%H:%M:%SZ"),
    "iso_offset": _when("%Y-%m-%dT%H:%M:%S+00:00"),
    "naive": _when("%Y-%m-%d %H:%M:%S"),
    "day_first": _when("%d/%m/%Y %H:%M:%S"),
    "dotted": _when("%d.%m.%Y %H:%M"),
    "us_pm": _when("%m/%d/%Y %I:%M:%S %p"),
    "date": _when("%Y-%m-%d"),
    "clock": _when("%H:%M:%S"),
    "lat": pl.col("lat"),
    "lon": pl.col("lon"),
    "lat_comma": pl.col("lat").cast(pl.String).str.replace(".", ",", literal=True),
    "lon_comma": pl.col("lon").cast(pl.String).str.replace(".", ",", literal=True),
    "os": pl.col("os"),
    "os_word": pl.col("os").str.split(" ").list.first().str.to_lowercase(),
    "speed": (pl.col("t") % 97 / 3).round(2),
    "accuracy": (pl.col("t") % 50 + 3.5).round(1),
    "rating": pl.col("t") % 5 + 1,
    "row_id": pl.col("t").cast(pl.String) + "-" + pl.int_range(pl.len()).cast(pl.String) + "x",
}


def make_csv(city: str, columns: list[tuple[str, str]], separator: str = ",") -> bytes:
    """A CSV of ``columns`` (header, kind of :data:`KINDS`) in that order."""
    frame = pings(city).select(KINDS[kind].alias(f"__{i}") for i, (_, kind) in enumerate(columns))
    body = frame.write_csv(separator=separator, include_header=False)
    header = separator.join(name for name, _ in columns)
    return (header + "\n" + body).encode()


def malformed_csv(rows: int, seed: int, quoted_ids: bool = True) -> bytes:
    """Pings with malformed lines (one in 500: too many or too few fields), and, with
    ``quoted_ids``, a quoted id with a comma every 13 rows (a quoted file is parsed
    whole; an unquoted one may be cut into parts)."""
    rng = random.Random(seed)
    lines = ["device_id,timestamp,lat,lon,device_type"]
    for i in range(rows):
        lat, lon = 40 + rng.random(), -74 + rng.random()
        device = f'"dev,{i % 97}"' if quoted_ids and i % 13 == 0 else f"d{i % 211}"
        line = f"{device},{1717387200 + i},{lat:.6f},{lon:.6f},{rng.choice(['ios', 'android'])}"
        if i % 1_000 == 7:
            line += ",extra"  # too many fields: skipped and counted
        elif i % 1_000 == 500:
            line = line.rsplit(",", 2)[0]  # too few fields
        lines.append(line)
    return ("\n".join(lines) + "\n").encode()
