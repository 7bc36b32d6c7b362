"""``python -m explorer compare BEFORE AFTER``: formats, per-side flags and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from explorer.cli.main import main
from explorer.compare import validate_comparison
from explorer.synth.pings import write_pings
from tests.compare.conftest import AREA_RESOLUTION
from tests.compare.planting import busy_area, drop_area_devices


@pytest.fixture(scope="module")
def files(weeks, tmp_path_factory):
    """(first week, second week, second week with a district's devices dropped)."""
    folder = tmp_path_factory.mktemp("cli")
    first, second = weeks("new_york", 1)
    dropped = drop_area_devices(second, busy_area(second, AREA_RESOLUTION), AREA_RESOLUTION, 1.0)
    paths = [folder / "w1.csv", folder / "w2.csv", folder / "w2_dropped.csv"]
    for frame, path in zip((first, second, dropped), paths):
        write_pings(frame, path)
    return paths


def test_json_to_a_file_and_the_gate(files, tmp_path, capsys):
    out = tmp_path / "changes.json"
    code = main(["compare", str(files[0]), str(files[2]), "--format", "json", "--output", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    validate_comparison(data)
    assert data["before"]["source"] == "w1.csv" and data["after"]["source"] == "w2_dropped.csv"
    assert data["changes"][0]["kind"] == "area_share_changed"
    assert main(["compare", str(files[0]), str(files[2]), "--fail-on", "high"]) == 1
    assert "# What changed" in capsys.readouterr().out
    assert main(["compare", str(files[0]), str(files[1]), "--fail-on", "medium"]) == 0


def test_per_side_column_flags(files, tmp_path, capsys):
    """A flag for one side names that side's column only; a shared flag names both."""
    lines = files[0].read_text().split("\n", 1)
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(lines[0].replace("device_type", "handset") + "\n" + lines[1])
    code = main(
        ["compare", str(renamed), str(files[1]), "--before-type-col", "handset",
         "--format", "json", "--resolution", "7"]
    )  # fmt: skip
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["resolution"] == 7 and data["before"]["rows"]["used"] > 0
    assert not [c for c in data["changes"] if c["evidence"].get("metric") == "type_mix"]
    for flag in ("--after-type-col", "--type-col"):
        assert main(["compare", str(renamed), str(files[1]), flag, "handset"]) == 2
        error = capsys.readouterr().err
        assert error.startswith("error: ") and error.count("\n") == 1 and "handset" in error


def test_unusable_input_exits_2_with_one_line(files, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "explorer", "compare", str(tmp_path / "nope.csv"), str(files[1])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert "nope.csv" in result.stderr and "Traceback" not in result.stderr
    assert main(["compare", str(files[0]), str(files[1]), "--output", str(files[1])]) == 2
