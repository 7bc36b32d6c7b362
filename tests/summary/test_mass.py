"""The main mass's point tests: the cheap disk test must never miss a distant point."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from explorer.summary.mass import haversine_km, outside_disk, outside_disk_mask


@pytest.mark.parametrize(
    ("lat0", "lon0", "km"),
    [(40.75, -73.9, 5.0), (-33.9, 179.9, 40.0), (-16.0, -179.5, 300.0), (64.1, -21.9, 2_000.0)],
)
def test_outside_disk_is_a_superset_of_the_points_farther_than_km(lat0, lon0, km):
    """Every point farther than ``km`` (haversine) is marked, on both sides of the
    antimeridian; points well inside the disk are not."""
    rng = np.random.default_rng(11)
    spread = km / 111.2
    lat = np.clip(lat0 + rng.normal(0, 2 * spread, 50_000), -90, 90)
    lon = (lon0 + rng.normal(0, 2 * spread, 50_000) + 180) % 360 - 180
    lat = np.concatenate([lat, rng.uniform(-90, 90, 5_000), [lat0, lat0, lat0]])
    lon = np.concatenate([lon, rng.uniform(-180, 180, 5_000), [lon0, 180.0, -180.0]])
    distance = haversine_km(lat, lon, lat0, lon0)
    marked = outside_disk_mask(lat, lon, lat0, lon0, km)
    assert marked[distance > km].all()
    assert not marked[distance < 0.4 * km].any()  # inside the box inscribed in the disk
    frame = pl.DataFrame({"lat": lat, "lon": lon})
    expression = frame.select(outside_disk(pl.col("lat"), pl.col("lon"), lat0, lon0, km))
    assert expression.to_series().to_list() == marked.tolist()
    assert (distance > km).sum() > 100  # the test has points on both sides


def test_the_longitude_gap_wraps_across_the_antimeridian():
    """179.9 and -179.9 are 0.2 degrees apart, not 359.8."""
    lat = np.array([0.0, 0.0, 0.0])
    lon = np.array([-179.9, 179.0, 0.0])
    assert outside_disk_mask(lat, lon, 0.0, 179.9, 50.0).tolist() == [False, True, True]
