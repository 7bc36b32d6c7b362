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

__all__ = [
    "BIAS_KINDS",
    "CITIES",
    "City",
    "PlantedBias",
    "SynthResult",
    "generate_pings",
    "write_pings",
]


@dataclass(frozen=True)
class City:
    """A city to simulate: centre (WGS 84 degrees), IANA zone and radius in km."""

    name: str
    lat: float
    lon: float
    zone: str
    radius_km: float


CITIES: dict[str, City] = {
    "new_york": City("New York", 40.7540, -73.9840, "America/New_York", 18.0),
    "sao_paulo": City("São Paulo", -23.5505, -46.6333, "America/Sao_Paulo", 20.0),
    "london": City("London", 51.5074, -0.1278, "Europe/London", 18.0),
}

#: Every bias :func:`generate_pings` can plant, in the order they are planted.
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
    subs = _sub_centres(rng, city)
    home = _places(rng, n_devices, city, subs, [0.05, 0.25, 0.70])
    work = _places(rng, n_devices, city, subs, [0.45, 0.30, 0.25])
    near_home = home[:, None, :] + rng.normal(0, 1.5, (n_devices, _N_OTHER_PLACES, 2))
    anywhere = _places(rng, n_devices * _N_OTHER_PLACES, city, subs, [0.3, 0.3, 0.4])
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
