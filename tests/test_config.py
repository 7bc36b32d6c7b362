"""Every threshold is documented, and config files override them safely."""

import json

import pytest

from explorer.config import Config, documentation, load_config
from explorer.errors import PingFileError


def test_every_setting_has_a_sentence():
    rows = documentation()
    assert len(rows) >= 3
    undocumented = [f"{section}.{name}" for section, name, _, doc in rows if len(doc.split()) < 6]
    assert undocumented == []


def test_every_detector_is_documented():
    from explorer.detectors import DETECTORS
    from explorer.findings import FindingKind

    for detector in DETECTORS:
        assert detector.__doc__ and len(detector.__doc__.split()) >= 5, detector.__name__
    for kind in FindingKind:
        assert kind.__doc__ and kind.__doc__ != FindingKind.__doc__, kind


def test_toml_override_and_hash(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text("[severity]\nfdr = 0.05\n")
    config = load_config(path)
    assert config.severity.fdr == 0.05
    assert config.sha256() != Config().sha256()
    json_path = tmp_path / "t.json"
    json_path.write_text(json.dumps({"severity": {"min_devices": 9}}))
    assert load_config(json_path).severity.min_devices == 9


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[severity]\nnope = 1\n", "Unknown setting severity.nope"),
        ("[nosection]\nx = 1\n", "Unknown config section"),
        ("[severity]\nfdr = 'high'\n", "must be a float"),
        ("[severity\n", "not valid TOML"),
        ("places = 3\n", "section 'places' must be a table of settings, got 3"),
        ("[places]\nnull_island_radius_deg = -5\n", "must be a number of at least 0, got -5"),
        ("[places]\nnull_island_radius_deg = nan\n", "must be a number of at least 0, got nan"),
        ("[severity]\nfdr = 1.5\n", "fdr must be a rate between 0 and 1"),
        ("[severity]\nfdr = 0\n", "fdr must be a rate between 0 and 1"),
        ("[places]\nmass_share = 1.2\n", "mass_share must be a share between 0 and 1"),
        ("[severity]\nmin_devices = 2.5\n", "min_devices must be a whole number, got 2.5"),
        ("[devices]\ncurve_device_shares = [0.1, 2.0]\n", "must be a share between 0 and 1"),
        ("[devices]\ncurve_device_shares = 'x'\n", "must be a list of numbers"),
    ],
)
def test_bad_config_files_give_one_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PingFileError, match=message):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(PingFileError, match="does not exist"):
        load_config(tmp_path / "absent.toml")


def test_a_config_that_is_not_a_table_of_sections_or_cannot_be_read(tmp_path):
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(PingFileError, match="sections of settings .* not a list"):
        load_config(listed)
    with pytest.raises(PingFileError, match="cannot be read"):
        load_config(tmp_path)  # a folder


def test_every_default_is_within_the_range_a_file_may_set(tmp_path):
    """The range checks accept every shipped value (a file repeating them loads)."""
    path = tmp_path / "defaults.json"
    path.write_text(json.dumps(Config().to_dict()))
    assert load_config(path) == Config()
