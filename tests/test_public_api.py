"""The public API: ``from explorer import analyze, read_pings, ...`` as the README shows."""

import subprocess
import sys

import explorer


def test_every_public_name_resolves_to_its_definition():
    from explorer.analysis import Analysis, analyze
    from explorer.config import Config
    from explorer.findings import Finding, FindingKind
    from explorer.reading.pings import read_pings

    expected = {
        "analyze": analyze,
        "Analysis": Analysis,
        "read_pings": read_pings,
        "Finding": Finding,
        "FindingKind": FindingKind,
        "Config": Config,
    }
    for name, value in expected.items():
        assert name in explorer.__all__
        assert getattr(explorer, name) is value
    for name in explorer.__all__:
        assert getattr(explorer, name) is not None


def test_an_unknown_name_is_an_attribute_error():
    try:
        explorer.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("no error")


def test_importing_the_package_alone_imports_no_numpy():
    """The command line sets its process options before numpy is imported."""
    code = "import sys, explorer; print('numpy' in sys.modules, 'polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_the_readme_example_runs(tmp_path):
    from explorer import analyze, read_pings

    path = tmp_path / "p.csv"
    path.write_text("device_id,timestamp,lat,lon\na,1700000000,40.7,-73.9\nb,1700000100,x,1\n")
    read = read_pings(path)
    assert (read.rows_used, read.rejected_by_reason["latitude_unparsable"]) == (1, 1)
    assert analyze(path).summary.rows_used == 1
