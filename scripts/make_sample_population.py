"""Write data/samples/population.geojson, the sample's reference population.

Run from the repository root: ``python scripts/make_sample_population.py``. The
districts' residents follow the home density of the very run that made
``data/samples/pings.csv`` (same size, city and seed; the pings are not touched), with
one district planted under-sampled: its residents are set :data:`FACTOR` times what the
density gives, so the sample's panel covers it about that many times less than the rest.
The same code gives a byte-identical file.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from explorer.synth.population import (
    district_residents,
    generator_homes,
    plant_under_sampled,
    to_geojson,
)

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
CITY = "new_york"
#: Residents of the whole generated city (New York's five boroughs hold about 8.3 million).
TOTAL_RESIDENTS = 8_000_000
#: The district planted under-sampled (Brooklyn, 5-9 km south-east of Midtown: none of
#: the sample's other planted biases lies in it) and how many times over.
UNDER_SAMPLED = "middle-se"
FACTOR = 4.0


def _sample_settings() -> tuple[int, int]:
    """(pings, seed) of data/samples/make_sample.py, so both files come from one run."""
    spec = importlib.util.spec_from_file_location("make_sample", SAMPLES / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.N_PINGS, module.SEED


def population_text() -> str:
    """The GeoJSON text of the sample's population layer."""
    n_pings, seed = _sample_settings()
    homes = generator_homes(n_pings, city=CITY, seed=seed)
    districts = district_residents(homes, TOTAL_RESIDENTS)
    return to_geojson(homes.city, plant_under_sampled(districts, UNDER_SAMPLED, FACTOR))


def main() -> None:
    out = SAMPLES / "population.geojson"
    text = population_text()
    out.write_text(text, encoding="utf-8")
    print(f"{out}: {len(json.loads(text)['features'])} districts")


if __name__ == "__main__":
    main()
