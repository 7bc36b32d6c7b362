"""Planted biases for the synthetic pings of :mod:`explorer.synth.pings`.

Each planter edits a :class:`PingArrays` in place (moving, re-timing or adding
pings) and returns the :class:`PlantedBias` that says what it did and where. The
planters run in the order of :data:`PLANTERS`, which is also ``synth.BIAS_KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from explorer.geography.timezones import local_offsets, localize_naive

_DAY_S = 86_400
_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON_EQUATOR = 111.320
#: Area of an H3 resolution-8 cell in km², the scale of a "venue" spike.
_RES8_AREA_KM2 = 0.737


@dataclass(frozen=True)
class PlantedBias:
    """One bias planted in a synthetic data set, and where."""

    kind: str
    lat: float | None
    lon: float | None
    description: str
    rows: int


@dataclass
class PingArrays:
    """Pings as parallel numpy arrays while they are generated and biased.

    ``device`` indexes the per-device arrays; ``t`` is the instant in Unix seconds
    (UTC); ``fixed`` marks coordinates written by the vendor (fallbacks) rather than
    measured by the device, which coordinate truncation leaves alone.
    """

    device: np.ndarray
    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    dev_ios: np.ndarray
    zone: str
    start_local_s: int
    days: int
    fixed: np.ndarray = field(init=False)
    clean_devices: int = field(init=False)

    def __post_init__(self) -> None:
        self.fixed = np.zeros(len(self.t), dtype=bool)
        self.clean_devices = len(self.dev_ios)

    def append(self, device: np.ndarray, t: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> None:
        """Add pings (measured coordinates)."""
        self.device = np.concatenate([self.device, device.astype(np.int64)])
        self.t = np.concatenate([self.t, t.astype(np.int64)])
        self.lat = np.concatenate([self.lat, lat])
        self.lon = np.concatenate([self.lon, lon])
        self.fixed = np.concatenate([self.fixed, np.zeros(len(t), dtype=bool)])

    def take(self, rows: np.ndarray) -> None:
        """Append exact copies of ``rows``."""
        for name in ("device", "t", "lat", "lon", "fixed"):
            column = getattr(self, name)
            setattr(self, name, np.concatenate([column, column[rows]]))


def offset_deg(lat0: float, lon0: float, dx_km, dy_km) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of points ``dx_km`` east and ``dy_km`` north of a point."""
    lat = lat0 + np.asarray(dy_km) / _KM_PER_DEG_LAT
    lon = lon0 + np.asarray(dx_km) / (_KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat0)))
    return lat, wrap_lon(lon)


def wrap_lon(lon) -> np.ndarray:
    """Longitudes in [-180, 180): those past ±180 move by a turn, the others stay exact."""
    lon = np.asarray(lon, dtype=np.float64)
    return np.where(lon >= 180.0, lon - 360.0, np.where(lon < -180.0, lon + 360.0, lon))


def distance_km(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Planar distance in km from a point (accurate to < 1 % within a city)."""
    dy = (lat - lat0) * _KM_PER_DEG_LAT
    # The short way round: a point at -179.9 is 0.2° east of one at 179.9.
    dx = wrap_lon(lon - lon0) * _KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat0))
    return np.hypot(dx, dy)


def local_to_utc(local_s: np.ndarray, zone: str) -> np.ndarray:
    """Unix seconds of wall-clock times (seconds since 1970-01-01 00:00 local) in ``zone``."""
    naive = pl.Series("t", np.asarray(local_s, dtype=np.int64) * 1_000_000).cast(pl.Datetime("us"))
    return localize_naive(naive, zone).dt.epoch("s").to_numpy().astype(np.int64)


def utc_offset_s(t: np.ndarray, zone: str) -> np.ndarray:
    """UTC offset in seconds of each Unix-second instant in ``zone``."""
    stamp = pl.Series("t", np.asarray(t, dtype=np.int64) * 1_000_000).cast(pl.Datetime("us", "UTC"))
    zones = pl.repeat(zone, len(stamp), eager=True, dtype=pl.String)
    return local_offsets(stamp, zones).to_numpy().astype(np.int64)


#: Relative ping rates per local hour 0–23: few pings 1–5 a.m., a morning rise and an
#: evening peak; weekends start later and stay up later.
WEEKDAY_HOURS = np.array(
    [1.6, 0.7, 0.4, 0.35, 0.45, 1.0, 2.6, 4.6, 5.6, 5.2, 5.0, 5.2]
    + [5.8, 5.5, 5.1, 5.1, 5.5, 6.3, 6.9, 7.1, 7.0, 6.4, 4.8, 3.0]
)
WEEKEND_HOURS = np.array(
    [2.4, 1.3, 0.7, 0.45, 0.4, 0.5, 1.0, 1.8, 3.0, 4.2, 5.2, 5.8]
    + [6.1, 6.0, 5.8, 5.7, 5.8, 6.0, 6.4, 6.7, 6.6, 6.0, 4.8, 3.4]
)
#: Weekend days carry a little less traffic than weekdays.
_WEEKEND_WEIGHT = 0.85


def is_weekend(day: np.ndarray, start_local_s: int) -> np.ndarray:
    """Whether day ``day`` after the local start date is a Saturday or Sunday."""
    # 1970-01-01 was a Thursday (weekday 3 with Monday = 0).
    return (start_local_s // _DAY_S + day + 3) % 7 >= 5


def human_day(rng: np.random.Generator, n: int, days: int, start_local_s: int):
    """Day index, local hour and second within the hour of ``n`` pings of a human day."""
    weekend_days = is_weekend(np.arange(days), start_local_s)
    weights = np.where(weekend_days, _WEEKEND_WEIGHT, 1.0)
    day = rng.choice(days, size=n, p=weights / weights.sum())
    weekday_cdf = np.cumsum(WEEKDAY_HOURS) / WEEKDAY_HOURS.sum()
    weekend_cdf = np.cumsum(WEEKEND_HOURS) / WEEKEND_HOURS.sum()
    u = rng.random(n)
    hour = np.where(
        weekend_days[day], np.searchsorted(weekend_cdf, u), np.searchsorted(weekday_cdf, u)
    )
    return day, np.minimum(hour, 23), rng.integers(0, 3600, n)


def human_local_seconds(rng: np.random.Generator, n: int, days: int, start_local_s: int):
    """Seconds after the local start of ``n`` pings spread like a human day."""
    day, hour, second = human_day(rng, n, days, start_local_s)
    return day * _DAY_S + hour * 3600 + second


def _local_day_start(p: PingArrays, rows: np.ndarray) -> np.ndarray:
    """Local midnight (as local wall-clock seconds) of the local day of each row."""
    local = p.t[rows] + utc_offset_s(p.t[rows], p.zone)
    return local - local % _DAY_S


def _rows_of_devices(rng: np.random.Generator, p: PingArrays, n_devices: int) -> np.ndarray:
    """Non-fixed rows of ``n_devices`` devices drawn at random among those with pings."""
    present = np.unique(p.device)
    chosen = rng.choice(present, size=min(n_devices, len(present)), replace=False)
    return np.flatnonzero(np.isin(p.device, chosen) & ~p.fixed)


def _in_disk(p: PingArrays, place: tuple[float, float], radius_km: float) -> np.ndarray:
    return np.flatnonzero((distance_km(p.lat, p.lon, *place) <= radius_km) & ~p.fixed)


def _disk_points(rng, n: int, place: tuple[float, float], radius_km: float):
    r = radius_km * np.sqrt(rng.random(n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return offset_deg(*place, r * np.cos(angle), r * np.sin(angle))


Planter = Callable[[PingArrays, np.random.Generator, tuple[float, float] | None], PlantedBias]


def plant_null_island(p: PingArrays, rng: np.random.Generator, place) -> PlantedBias:
    """0.5 % of pings at (0, 0); a fifth of them a few metres off it."""
    rows = rng.choice(len(p.t), size=max(1, round(0.005 * len(p.t))), replace=False)
    near = rng.random(len(rows)) < 0.2
    p.lat[rows] = np.where(near, rng.uniform(-5e-5, 5e-5, len(rows)), 0.0)
    p.lon[rows] = np.where(near, rng.uniform(-5e-5, 5e-5, len(rows)), 0.0)
    p.fixed[rows] = True
    text = "0.5 % of pings moved to (0, 0) or within 1e-4° of it: missing locations as zeros"
    return PlantedBias("null_island", 0.0, 0.0, text, len(rows))


def plant_coordinate_pileup(p: PingArrays, rng: np.random.Generator, place) -> PlantedBias:
    """2.5 % of pings, from hundreds of devices, snapped to one 4-decimal centroid."""
    lat, lon = round(place[0], 4), round(place[1], 4)
    n_devices = int(np.clip(len(np.unique(p.device)) // 10, 200, 1000))
    candidates = _rows_of_devices(rng, p, n_devices)
    size = min(len(candidates), round(0.025 * len(p.t)))
    rows = rng.choice(candidates, size=size, replace=False)
    p.lat[rows], p.lon[rows] = lat, lon
    p.fixed[rows] = True
    devices = len(np.unique(p.device[rows]))
    text = (
        f"{size} pings from {devices} devices snapped to the exact coordinate "
        f"({lat:.4f}, {lon:.4f}): an IP-geolocation centroid"
    )
    return PlantedBias("coordinate_pileup", lat, lon, text, size)


def plant_density_spike(p: PingArrays, rng: np.random.Generator, place) -> PlantedBias:
    """A venue ~15× as dense as its neighbourhood: extra pings jittered ~30 m."""
    dist = distance_km(p.lat, p.lon, *place)
    ring = np.count_nonzero((dist > 0.4) & (dist <= 1.5))
    density = ring / (np.pi * (1.5**2 - 0.4**2))
    size = max(100, round(14 * density * _RES8_AREA_KM2))
    source = _rows_of_devices(rng, p, int(np.clip(size // 3, 50, 2000)))
    rows = rng.choice(source, size=size, replace=True)
    t = p.t[rows] + rng.integers(-1800, 1800, size)
    lat, lon = offset_deg(*place, rng.normal(0, 0.03, size), rng.normal(0, 0.03, size))
    p.append(p.device[rows], t, lat, lon)
    devices = len(np.unique(p.device[rows]))
    text = (
        f"a venue with {size} extra pings from {devices} devices within ~30 m, "
        f"about 15 times its neighbourhood's density ({density:.0f} pings/km²)"
    )
    return PlantedBias("density_spike", place[0], place[1], text, size)


def plant_device_concentration(p: PingArrays, rng: np.random.Generator, place) -> PlantedBias:
    """One new device with ~15,000 pings (fewer in small data sets) at one spot."""
    size = int(np.clip(0.1 * len(p.t), 500, 15_000))
    device = len(p.dev_ios)
    p.dev_ios = np.append(p.dev_ios, rng.random() < 0.5)
    local = p.start_local_s + human_local_seconds(rng, size, p.days, p.start_local_s)
    lat, lon = offset_deg(*place, rng.normal(0, 0.015, size), rng.normal(0, 0.015, size))
    p.append(np.full(size, device), local_to_utc(local, p.zone), lat, lon)
    text = f"one device sends {size} pings from a single spot (~15 m jitter)"
    return PlantedBias("device_concentration", place[0], place[1], text, size)


def plant_hour_profile(p: PingArrays, rng: np.random.Generator, place) -> PlantedBias:
    """A 1 km area whose pings, from many devices, all arrive 01:00–04:00 local."""
    inside = _in_disk(p, place, 0.5)
    night = _local_day_start(p, inside) + rng.integers(3600, 4 * 3600, len(inside))
    p.t[inside] = local_to_utc(night, p.zone)
    size = max(300, 2 * len(inside))
    source = _rows_of_devices(rng, p, int(np.clip(size // 4, 60, 600)))
    rows = rng.choice(source, size=size, replace=True)
    day = rng.integers(0, p.days, size) * _DAY_S
    local = p.start_local_s + day + rng.integers(3600, 4 * 3600, size)
    lat, lon = _disk_points(rng, size, place, 0.5)
    p.append(p.device[rows], local_to_utc(local, p.zone), lat, lon)
    devices = len(np.unique(np.concatenate([p.device[inside], p.device[rows]])))
    text = (
        f"within 500 m, {len(inside)} pings re-timed and {size} added, from {devices} "
        "devices, all between 01:00 and 04:00 local time"
    )
    return PlantedBias("hour_profile", place[0], place[1], text, len(inside) + size)


def plant_device_type_skew(p: PingArrays, rng: np.random.Generator, place) -> PlantedBias:
    """Devices seen within 600 m become 90 % iOS (each device keeps one OS)."""
    inside = _in_disk(p, place, 0.6)
    devices = np.unique(p.device[inside])
    p.dev_ios[devices] = rng.random(len(devices)) < 0.9
    share = p.dev_ios[devices].mean() if len(devices) else float("nan")
    text = (
        f"the {len(devices)} devices seen within 600 m are {share:.0%} iOS "
        f"against {p.dev_ios.mean():.0%} overall"
    )
    return PlantedBias("device_type_skew", place[0], place[1], text, len(inside))


def plant_coordinate_precision(p: PingArrays, rng: np.random.Generator, place) -> PlantedBias:
    """A quarter of devices report coordinates truncated to 3 decimals (~100 m).

    Devices added by other planters are left alone, so each bias stays measurable
    on its own (a truncated 15,000-ping device would also breed duplicates).
    """
    present = np.unique(p.device[p.device < p.clean_devices])
    chosen = rng.choice(present, size=round(0.25 * len(present)), replace=False)
    rows = np.flatnonzero(np.isin(p.device, chosen) & ~p.fixed)
    p.lat[rows] = np.trunc(p.lat[rows] * 1000) / 1000
    p.lon[rows] = np.trunc(p.lon[rows] * 1000) / 1000
    text = f"{len(chosen)} of {len(present)} devices report coordinates truncated to 3 decimals"
    return PlantedBias("coordinate_precision", None, None, text, len(rows))


def plant_timestamp_heaping(p: PingArrays, rng: np.random.Generator, place) -> PlantedBias:
    """2 % of pings stamped exactly at local midnight 00:00:00 of their local day."""
    rows = rng.choice(len(p.t), size=max(1, round(0.02 * len(p.t))), replace=False)
    p.t[rows] = local_to_utc(_local_day_start(p, rows), p.zone)
    text = "2 % of pings stamped exactly 00:00:00 local time of their day"
    return PlantedBias("timestamp_heaping", None, None, text, len(rows))


def plant_timezone_shift(p: PingArrays, rng: np.random.Generator, place) -> PlantedBias:
    """Every instant misread: UTC clock times taken as local wall-clock times."""
    offset = utc_offset_s(p.t, p.zone)
    p.t = p.t - offset
    hours = sorted({f"{-o / 3600:+g} h" for o in np.unique(offset)})
    text = (
        f"timestamps are UTC clock times written as naive local times of {p.zone}; "
        f"read as local, every instant moves by {' / '.join(hours)}"
    )
    return PlantedBias("timezone_shift", None, None, text, len(p.t))


def plant_duplicate_pings(p: PingArrays, rng: np.random.Generator, place) -> PlantedBias:
    """2 % of rows written twice."""
    rows = rng.choice(len(p.t), size=max(1, round(0.02 * len(p.t))), replace=False)
    p.take(rows)
    return PlantedBias("duplicate_pings", None, None, "2 % of rows duplicated exactly", len(rows))


#: Planters in the order they run: moves first, additions next, then device-level
#: truncation, clock errors, and duplicates last so that copies match the final rows.
PLANTERS: dict[str, Planter] = {
    "coordinate_pileup": plant_coordinate_pileup,
    "null_island": plant_null_island,
    "density_spike": plant_density_spike,
    "device_concentration": plant_device_concentration,
    "hour_profile": plant_hour_profile,
    "device_type_skew": plant_device_type_skew,
    "coordinate_precision": plant_coordinate_precision,
    "timestamp_heaping": plant_timestamp_heaping,
    "timezone_shift": plant_timezone_shift,
    "duplicate_pings": plant_duplicate_pings,
}

#: Where each place-bound bias goes: (km from the city centre, bearing in degrees).
#: Any two places are at least 3 km apart; the skew sits nearer the centre, where
#: many devices pass.
PLACE_SLOTS: dict[str, tuple[float, float]] = {
    "coordinate_pileup": (4.0, 60.0),
    "density_spike": (5.0, 100.0),
    "device_concentration": (6.0, 200.0),
    "hour_profile": (5.0, 250.0),
    "device_type_skew": (2.5, 0.0),
}
