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
