"""Regenerate data/samples/pings.csv, the sample ping file with planted biases.

Run from the repository root: ``python data/samples/make_sample.py``. Prints the
planted biases (for data/samples/README.md) to stdout.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from explorer.synth.pings import generate_pings, write_pings

N_PINGS = 150_000
SEED = 7
BIASES = (
    "coordinate_pileup",
    "null_island",
    "hour_profile",
    "device_type_skew",
    "coordinate_precision",
    "duplicate_pings",
    "device_concentration",
)
#: Decimals kept in the file: 6 decimals is ~0.1 m, finer than any GPS fix, and keeps
#: the file under 10 MB.
DECIMALS = 6


def main() -> None:
    result = generate_pings(N_PINGS, city="new_york", seed=SEED, biases=BIASES)
    frame = result.pings.with_columns(pl.col("lat", "lon").round(DECIMALS))
    out = Path(__file__).with_name("pings.csv")
    write_pings(frame, out, time_format="epoch_ms")
    print(f"{frame.height} rows, {frame['device_id'].n_unique()} devices -> {out}")
    for bias in result.planted:
        where = "dataset-wide" if bias.lat is None else f"({bias.lat:.6f}, {bias.lon:.6f})"
        print(f"- {bias.kind} at {where}, {bias.rows} rows: {bias.description}")


if __name__ == "__main__":
    main()
