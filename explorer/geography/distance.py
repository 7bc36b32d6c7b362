"""Great-circle distances and points on the unit sphere (for k-d trees), vectorised."""

from __future__ import annotations

import numpy as np

#: Mean Earth radius (km, IUGG).
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Great-circle distance in km from (lat0, lon0) to every point (right across ±180°)."""
    p1, p2 = np.radians(lat), np.radians(lat0)
    dp, dl = p1 - p2, np.radians(np.asarray(lon) - lon0)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere (n × 3): chord distances order like great-circle ones."""
    p, lam = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)])
