"""Seeded, realistic synthetic mobile-device pings, with optional planted biases.

Clean data imitates a city: devices with heavy-tailed activity, each with a home and
(mostly) a workplace drawn from a density gradient with sub-centres; pings at home at
night, at work on weekday office hours, at shops and along commutes otherwise; GPS
jitter of 10–50 m; a human day in local time; an OS mix that drifts smoothly across
the city. Biases from :data:`BIAS_KINDS` are planted on top (see
:mod:`explorer.synth.biases`) and recorded in :attr:`SynthResult.planted`.
"""

from __future__ import annotations

import gzip
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from explorer.geography.distance import haversine_km
from explorer.geography.timezones import local_offsets, zone_names
from explorer.synth.biases import (
    PLACE_SLOTS,
    PLANTERS,
    PingArrays,
    PlantedBias,
    human_day,
    is_weekend,
    local_to_utc,
    offset_deg,
)
from explorer.synth.cities import CITIES, METROS, City, on_land

__all__ = [
    "BIAS_KINDS",
    "CITIES",
    "City",
    "METROS",
    "PlantedBias",
    "SynthResult",
    "generate_metros",
    "generate_pings",
    "write_pings",
]


BIAS_KINDS: tuple[str, ...] = tuple(PLANTERS)

TIME_FORMATS = ("epoch_ms", "iso_utc", "naive_local")


@dataclass(frozen=True)
class SynthResult:
    """Canonical pings, the biases planted in them, and the city key."""

    pings: pl.DataFrame
    planted: list[PlantedBias]
    city: str


#: Mean pings per device over the whole period.
_PINGS_PER_DEVICE = 40
#: Spread (log scale) of devices' ping rates, and the cap as a multiple of the median rate.
_RATE_SIGMA = 1.5
_RATE_CAP = 400.0
_N_SUB_CENTRES = 5
_N_OTHER_PLACES = 4
_OTHER_PLACE_WEIGHTS = np.array([0.4, 0.3, 0.2, 0.1])
#: Chance of being at (home, work, another place, on the commute) per situation:
#: night, weekday office hours, weekday rush hours, free time.
_ACTIVITY_CDF = np.cumsum(
    [
        [0.93, 0.00, 0.07, 0.00],
        [0.12, 0.68, 0.15, 0.05],
        [0.35, 0.20, 0.15, 0.30],
        [0.60, 0.00, 0.40, 0.00],
    ],
    axis=1,
)


def _sub_centres(rng: np.random.Generator, city: City) -> np.ndarray:
    """(x, y) km of secondary centres, spread around the main one."""
    bearing = np.linspace(0, 2 * np.pi, _N_SUB_CENTRES, endpoint=False)
    bearing += rng.uniform(0, 2 * np.pi) + rng.normal(0, 0.2, _N_SUB_CENTRES)
    r = city.radius_km * rng.uniform(0.3, 0.65, _N_SUB_CENTRES)
    return np.column_stack([r * np.cos(bearing), r * np.sin(bearing)])


def _places(rng: np.random.Generator, n: int, city: City, subs: np.ndarray, shares) -> np.ndarray:
    """(x, y) km of ``n`` places: shares (core, sub-centres, gradient) of a mixture.

    The gradient is a radial Gamma(2) law (density decaying outwards from the centre),
    the core a 1.2 km Gaussian at the centre, sub-centres 0.8 km Gaussians.
    """
    pick = rng.choice(3, size=n, p=shares)
    r = rng.gamma(2.0, city.radius_km / 6, n)
    beyond = r > city.radius_km
    r[beyond] = city.radius_km * np.sqrt(rng.random(np.count_nonzero(beyond)))
    angle = rng.uniform(0, 2 * np.pi, n)
    xy = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    sub = subs[rng.integers(0, len(subs), n)] + rng.normal(0, 0.8, (n, 2))
    core = rng.normal(0, 1.2, (n, 2))
    xy[pick == 0] = core[pick == 0]
    xy[pick == 1] = sub[pick == 1]
    return xy


def _land_places(rng: np.random.Generator, n: int, city: City, subs: np.ndarray, shares):
    """:func:`_places` kept to the city's land (see :func:`_on_land`)."""
    xy = _places(rng, n, city, subs, shares)
    return on_land(rng, city, xy, lambda r: _places(rng, len(r), city, subs, shares))


def _device_counts(rng: np.random.Generator, n_devices: int, n_pings: int) -> np.ndarray:
    """Pings per device: log-normal rates (capped), scaled to ``n_pings`` in expectation."""
    rate = np.minimum(np.exp(rng.normal(0, _RATE_SIGMA, n_devices)), _RATE_CAP)
    return rng.poisson(rate * n_pings / rate.sum())


def _activity(rng, hour: np.ndarray, weekend: np.ndarray, works: np.ndarray) -> np.ndarray:
    """0 home, 1 work, 2 other place, 3 commute, from the local hour and the day."""
    night = (hour >= 22) | (hour < 6)
    office = ~weekend & works & (hour >= 9) & (hour < 17)
    rush = ~weekend & works & np.isin(hour, (7, 8, 17, 18))
    situation = np.select([night, office, rush], [0, 1, 2], default=3)
    u = rng.random(len(hour))
    cdf = _ACTIVITY_CDF[situation]
    return (u > cdf[:, 0]).astype(np.int8) + (u > cdf[:, 1]) + (u > cdf[:, 2])


def _positions(rng, city: City, dev: np.ndarray, act: np.ndarray, n_devices: int):
    """(x, y) km of every ping, and of every device's home, from places and activity.

    ``n_devices`` counts devices with no pings too, so per-device arrays line up.
    """
    subs = on_land(rng, city, _sub_centres(rng, city), lambda r: _sub_centres(rng, city)[r])
    home = _land_places(rng, n_devices, city, subs, [0.05, 0.25, 0.70])
    work = _land_places(rng, n_devices, city, subs, [0.45, 0.30, 0.25])
    near_home = home[:, None, :] + rng.normal(0, 1.5, (n_devices, _N_OTHER_PLACES, 2))
    around = np.repeat(home, _N_OTHER_PLACES, axis=0)
    near_home = on_land(
        rng, city, near_home.reshape(-1, 2), lambda r: around[r] + rng.normal(0, 1.5, (len(r), 2))
    ).reshape(n_devices, _N_OTHER_PLACES, 2)
    anywhere = _land_places(rng, n_devices * _N_OTHER_PLACES, city, subs, [0.3, 0.3, 0.4])
    local = rng.random((n_devices, _N_OTHER_PLACES, 1)) < 0.6
    other = np.where(local, near_home, anywhere.reshape(n_devices, _N_OTHER_PLACES, 2))
    xy = home[dev]
    at_work, at_other, commuting = act == 1, act == 2, act == 3
    xy[at_work] = work[dev[at_work]]
    k = np.searchsorted(np.cumsum(_OTHER_PLACE_WEIGHTS), rng.random(np.count_nonzero(at_other)))
    xy[at_other] = other[dev[at_other], k]
    f = rng.random((np.count_nonzero(commuting), 1))
    d = dev[commuting]
    xy[commuting] = home[d] + f * (work[d] - home[d]) + rng.normal(0, 0.05, (len(d), 2))
    jitter_km = rng.uniform(0.010, 0.050, n_devices)[dev]
    return xy + rng.normal(0, 1, (len(dev), 2)) * jitter_km[:, None], home


def _clean(rng: np.random.Generator, n_pings: int, city: City, start_local_s: int, days: int):
    """Clean pings of a city as :class:`PingArrays`."""
    n_devices = max(1, round(n_pings / _PINGS_PER_DEVICE))
    dev = np.repeat(np.arange(n_devices), _device_counts(rng, n_devices, n_pings))
    works = rng.random(n_devices) < 0.8
    day, hour, second = human_day(rng, len(dev), days, start_local_s)
    act = _activity(rng, hour, is_weekend(day, start_local_s), works[dev])
    xy, home = _positions(rng, city, dev, act, n_devices)
    # Each device keeps its own rhythm: a chronotype shift of about 40 minutes.
    shift = np.round(rng.normal(0, 2400, n_devices)).astype(np.int64)[dev]
    # Wrapping by whole days keeps the time of day and keeps every ping inside the period.
    local = start_local_s + (day * 86_400 + hour * 3600 + second + shift) % (days * 86_400)
    lat, lon = offset_deg(city.lat, city.lon, xy[:, 0], xy[:, 1])
    # iOS share drifts from ~34 % to ~58 % west to east across the city.
    ios_share = 0.46 + 0.12 * np.tanh(home[:, 0] / (city.radius_km / 2.5))
    dev_ios = rng.random(n_devices) < ios_share
    t = local_to_utc(local, city.zone)
    return PingArrays(dev.astype(np.int64), t, lat, lon, dev_ios, city.zone, start_local_s, days)


def _device_ids(rng: np.random.Generator, n: int) -> pl.Series:
    """Random 16-hex-digit device ids (64-bit, like a hashed advertising id)."""
    raw = rng.integers(0, 2**63, size=n, dtype=np.int64) * 2 + rng.integers(0, 2, n)
    return pl.Series("device_id", [f"{x:016x}" for x in raw.view(np.uint64)], dtype=pl.String)


def _to_frame(rng: np.random.Generator, p: PingArrays) -> pl.DataFrame:
    """Canonical frame in time order (ties keep generation order)."""
    ids = _device_ids(rng, len(p.dev_ios))
    os_names = pl.Series(["android", "ios"], dtype=pl.String)
    frame = pl.DataFrame(
        {
            "device_id": ids.gather(p.device),
            "timestamp": pl.Series(p.t * 1_000_000).cast(pl.Datetime("us", "UTC")),
            "lat": p.lat,
            "lon": p.lon,
            "device_type": os_names.gather(p.dev_ios[p.device].astype(np.int8)),
        }
    )
    return frame.sort("timestamp", maintain_order=True)


def generate_pings(
    n_pings: int = 200_000,
    *,
    city: str = "new_york",
    seed: int = 0,
    biases: Collection[str] = (),
    start: str = "2024-06-03",
    days: int = 14,
) -> SynthResult:
    """Synthetic pings of ``city`` over ``days`` local days from ``start``.

    ``n_pings`` is met within a few percent before planted extras; ``biases`` names
    kinds from :data:`BIAS_KINDS`. The same arguments give the same frame.
    """
    unknown = sorted(set(biases) - set(BIAS_KINDS))
    if unknown:
        raise ValueError(f"unknown bias kinds {unknown}; choose from {list(BIAS_KINDS)}")
    if city not in CITIES:
        raise ValueError(f"unknown city {city!r}; choose from {sorted(CITIES)}")
    where = CITIES[city]
    rng = np.random.default_rng(seed)
    start_local_s = int(np.datetime64(start, "s").astype(np.int64))
    pings = _clean(rng, n_pings, where, start_local_s, days)
    planted = []
    for kind in BIAS_KINDS:
        if kind in biases:
            planted.append(PLANTERS[kind](pings, rng, _place(where, kind)))
    return SynthResult(_to_frame(rng, pings), planted, city)


#: Share of devices that fly to another metro during the period (business trips).
TRAVELLER_SHARE = 0.002
#: Door-to-door speed of a flight: 800 km/h in the air plus three hours at airports.
_FLIGHT_KMH, _AIRPORT_HOURS = 800.0, 3.0


def generate_metros(
    n_pings: int = 200_000,
    *,
    cities: tuple[str, ...] = METROS,
    seed: int = 0,
    start: str = "2024-06-03",
    days: int = 14,
    travellers: float = TRAVELLER_SHARE,
) -> SynthResult:
    """Clean synthetic pings of several metros in one data set, ``n_pings`` shared evenly.

    Each device lives in one metro, except a share ``travellers`` of them that fly once
    to another metro (silent in the air, jet-lagged on arrival, back never).
    """
    unknown = sorted(set(cities) - set(CITIES))
    if unknown or not cities:
        raise ValueError(f"unknown cities {unknown}; choose from {sorted(CITIES)}")
    rng = np.random.default_rng(seed)
    parts = []
    for key in cities:
        start_local_s = int(np.datetime64(start, "s").astype(np.int64))
        parts.append(_clean(rng, round(n_pings / len(cities)), CITIES[key], start_local_s, days))
    pings = _joined(parts)
    metro = np.repeat(np.arange(len(parts)), [len(p.dev_ios) for p in parts])
    if len(parts) > 1:
        _fly(rng, pings, metro, [CITIES[k] for k in cities], travellers)
    return SynthResult(_to_frame(rng, pings), [], "+".join(cities))


def _joined(parts: list[PingArrays]) -> PingArrays:
    """One :class:`PingArrays` of several cities' (devices renumbered one after another)."""
    offsets = np.cumsum([0] + [len(p.dev_ios) for p in parts[:-1]])
    first = parts[0]
    return PingArrays(
        np.concatenate([p.device + o for p, o in zip(parts, offsets)]),
        np.concatenate([p.t for p in parts]),
        np.concatenate([p.lat for p in parts]),
        np.concatenate([p.lon for p in parts]),
        np.concatenate([p.dev_ios for p in parts]),
        first.zone,
        first.start_local_s,
        first.days,
    )


def _fly(rng, p: PingArrays, metro: np.ndarray, cities: list[City], share: float) -> None:
    """Send a share of devices on one flight each: no pings in the air, and after landing
    their pings lie around a hotel and a few places of the destination."""
    present = np.unique(p.device)
    flyers = rng.choice(present, size=round(share * len(present)), replace=False)
    order = np.argsort(p.device, kind="stable")
    starts = np.searchsorted(p.device[order], flyers)
    stops = np.searchsorted(p.device[order], flyers, side="right")
    keep = np.ones(len(p.t), dtype=bool)
    t0, t1 = int(p.t.min()), int(p.t.max())
    for device, a, b in zip(flyers, starts, stops):
        rows = order[a:b]
        origin = cities[metro[device]]
        dest = cities[rng.choice([m for m in range(len(cities)) if m != metro[device]])]
        km = float(haversine_km(origin.lat, origin.lon, dest.lat, dest.lon))
        depart = rng.uniform(t0 + 0.2 * (t1 - t0), t0 + 0.7 * (t1 - t0))
        arrive = depart + 3600 * (km / _FLIGHT_KMH + _AIRPORT_HOURS)
        keep[rows[(p.t[rows] > depart) & (p.t[rows] < arrive)]] = False
        there = rows[p.t[rows] >= arrive]
        spots = _land_places(rng, 4, dest, _sub_centres(rng, dest), [0.45, 0.30, 0.25])
        pick = np.where(rng.random(len(there)) < 0.6, 0, rng.integers(1, 4, len(there)))
        xy = spots[pick] + rng.normal(0, 0.03, (len(there), 2))
        p.lat[there], p.lon[there] = offset_deg(dest.lat, dest.lon, xy[:, 0], xy[:, 1])
    for name in ("device", "t", "lat", "lon", "fixed"):
        setattr(p, name, getattr(p, name)[keep])


def _place(city: City, kind: str) -> tuple[float, float] | None:
    if kind not in PLACE_SLOTS:
        return None
    km, bearing = PLACE_SLOTS[kind]
    rad = np.radians(bearing)
    lat, lon = offset_deg(city.lat, city.lon, km * np.sin(rad), km * np.cos(rad))
    return float(lat), float(lon)


def _time_column(frame: pl.DataFrame, time_format: str) -> pl.Series:
    ts = frame["timestamp"].dt.convert_time_zone("UTC")
    if time_format == "epoch_ms":
        return ts.dt.epoch("ms").rename("timestamp")
    whole = (ts.dt.epoch("us") % 1_000_000 == 0).all()
    clock = "%H:%M:%S" if whole else "%H:%M:%S%.6f"
    if time_format == "iso_utc":
        return ts.dt.strftime(f"%Y-%m-%dT{clock}Z").rename("timestamp")
    if time_format == "naive_local":
        zone = zone_names(frame["lat"], frame["lon"])
        shift = local_offsets(ts, zone).cast(pl.Int64) * 1_000_000
        local = (ts.dt.replace_time_zone(None).dt.epoch("us") + shift).cast(pl.Datetime("us"))
        return local.dt.strftime(f"%Y-%m-%d {clock}").rename("timestamp")
    raise ValueError(f"unknown time_format {time_format!r}; choose from {list(TIME_FORMATS)}")


def write_pings(
    result_or_frame: SynthResult | pl.DataFrame, path: str | Path, *, time_format: str = "epoch_ms"
) -> None:
    """Write canonical pings as ``.csv``, ``.csv.gz`` or ``.parquet`` (by suffix).

    ``time_format``: ``epoch_ms`` (integer Unix milliseconds), ``iso_utc``
    (``2024-06-03T12:00:00Z``) or ``naive_local`` (wall clock at each ping's place,
    no zone; the zone comes from the coordinates, as a reader would look it up).
    """
    frame = result_or_frame.pings if isinstance(result_or_frame, SynthResult) else result_or_frame
    out = frame.select("device_id", "timestamp", "lat", "lon", "device_type").with_columns(
        _time_column(frame, time_format)
    )
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".parquet"):
        out.write_parquet(path)
    elif name.endswith(".csv.gz"):
        # mtime=0 keeps the compressed bytes identical for identical data.
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            out.write_csv(fh)
    elif name.endswith(".csv"):
        out.write_csv(path)
    else:
        raise ValueError(f"cannot tell the format of {path.name}: use .csv, .csv.gz or .parquet")
