"""The app names devices as the command line's report of the same file does, filtered
or not (no per-upload or per-process salt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import cache
from explorer.analysis import analyze
from explorer.reading.reference_files import read_reference
from explorer.summary.views import LABEL_KEY_ENV

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "pings.csv"
UNFILTERED = (None, None, 0, 24, None)
NIGHT = (None, None, 0, 6, None)


@pytest.fixture
def sample_app(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PBE_SAMPLE_PATH", str(SAMPLE))
    monkeypatch.delenv(LABEL_KEY_ENV, raising=False)
    cache.clear_all()
    yield cache
    cache.clear_all()


def test_the_app_labels_devices_as_the_report_does(sample_app) -> None:
    # The app analyses the sample against its population layer, as the command line
    # does with --reference.
    population = read_reference(SAMPLE.with_name("population.geojson"))
    report = analyze(SAMPLE, resolution=8, reference=population)
    shown = sample_app.analysis_for(cache.SAMPLE_KEY, (), None, UNFILTERED, 8)
    assert shown.salt == report.salt
    assert [f.to_dict() for f in shown.findings] == [f.to_dict() for f in report.findings]
    night = sample_app.analysis_for(cache.SAMPLE_KEY, (), None, NIGHT, 8)
    assert night.summary.rows_used < report.summary.rows_used
    assert night.salt == report.salt
