"""The JSON report schema: real reports validate, broken ones do not, evidence per kind."""

import copy
import json
import shutil

import jsonschema
import pytest

from explorer.analysis import analyze
from explorer.findings import FindingKind
from explorer.reading.pings import REJECT_REASONS
from explorer.reports.contract import render
from explorer.reports.schema import SCHEMA_DIR, evidence_fragments, report_schema, validate_report
from explorer.synth.pings import generate_pings
from tests.reports.conftest import finding_dict


@pytest.fixture(scope="module")
def report(synthetic_file):
    biases = (
        "null_island",
        "duplicate_pings",
        "hour_profile",
        "timestamp_heaping",
        "density_spike",
    )
    result = generate_pings(50_000, seed=5, biases=biases)
    path = synthetic_file(result, folder="schema")
    return json.loads(render(analyze(path, salt="s"), "json"))


def test_report_of_real_analysis_validates(report):
    assert report["findings"], "planted biases should produce findings"
    validate_report(report)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("severity", "critical"),
        ("cells", ["88754E6499FFFFF"]),
        ("kind", "made_up_kind"),
        ("id", "not-hex"),
        ("score", None),
    ],
)
def test_broken_finding_fails(report, field, value):
    data = copy.deepcopy(report)
    finding = finding_dict()
    finding[field] = value
    data["findings"] = [finding]
    with pytest.raises(jsonschema.ValidationError):
        validate_report(data)


def test_missing_rejection_reason_or_block_fails(report):
    data = copy.deepcopy(report)
    del data["rows"]["rejected_by_reason"]["timestamp_missing"]
    with pytest.raises(jsonschema.ValidationError):
        validate_report(data)
    data = copy.deepcopy(report)
    del data["provenance"]
    with pytest.raises(jsonschema.ValidationError):
        validate_report(data)


def test_schema_enums_match_the_code():
    schema = report_schema()
    assert set(schema["$defs"]["finding"]["properties"]["kind"]["enum"]) == {
        k.value for k in FindingKind
    }
    reasons = schema["properties"]["rows"]["properties"]["rejected_by_reason"]["required"]
    assert tuple(reasons) == REJECT_REASONS
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_evidence_fragment_is_a_schema_of_a_known_kind():
    kinds = {k.value for k in FindingKind}
    for family, fragment in evidence_fragments().items():
        for kind, schema in fragment.items():
            if kind.startswith("$"):
                continue
            assert kind in kinds, f"{family}: {kind}"
            jsonschema.Draft202012Validator.check_schema(schema)


def test_evidence_is_validated_per_kind(tmp_path, report):
    shutil.copy(SCHEMA_DIR / "report.json", tmp_path / "report.json")
    fragment = {
        "$defs": {"share": {"type": "number", "minimum": 0, "maximum": 1}},
        "null_island": {
            "type": "object",
            "required": ["share"],
            "properties": {"share": {"$ref": "#/$defs/share"}},
        },
    }
    (tmp_path / "evidence_test.json").write_text(json.dumps(fragment))
    data = copy.deepcopy(report)
    finding = finding_dict()
    finding["evidence"] = {"share": 0.4}
    other = dict(finding_dict(), kind="density_spike", evidence={"anything": [1, 2]})
    data["findings"] = [finding, other]
    validate_report(data, tmp_path)
    finding["evidence"] = {"share": 1.5}
    with pytest.raises(jsonschema.ValidationError, match="maximum"):
        validate_report(data, tmp_path)
    finding["evidence"] = {}
    with pytest.raises(jsonschema.ValidationError, match="share"):
        validate_report(data, tmp_path)
