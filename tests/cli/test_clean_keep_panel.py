"""``clean --keep-panel N,M``: a copy with only the devices of a usable panel.

The written file holds exactly the devices active on at least N local days with M or
more distinct local hours each, checked against a plain polars computation on the raw
rows (local time in New York); rows without a device id go and are counted; CSV and
Parquet alike; combined with dropping a finding's rows; a bad rule is one line, exit 2.
"""

from __future__ import annotations

import polars as pl
import pytest

from explorer.cleaning import clean
from explorer.cli.main import main
from explorer.synth.pings import generate_pings
from tests.cli.conftest import run_explorer

ZONE = "America/New_York"
NO_ID_ROWS = 40
DUPLICATES = 25


@pytest.fixture(scope="module")
def raw() -> pl.DataFrame:
    """Two weeks of New York pings, some rows without a device id and some duplicates."""
    pings = generate_pings(30_000, city="new_york", seed=11, days=14).pings
    no_id = pings.head(NO_ID_ROWS).with_columns(device_id=pl.lit(None, pl.String))
    copies = pings.slice(1_000, DUPLICATES)
    return pl.concat([pings.slice(NO_ID_ROWS), no_id, copies])


@pytest.fixture(scope="module")
def source(raw, synthetic_file):
    return synthetic_file(raw, "pings.csv", folder="keep_panel")


def devices_meeting(raw: pl.DataFrame, days: int, hours: int) -> set[str]:
    """The rule on the raw rows: local days (New York) with ``hours`` or more distinct
    local hours, at least ``days`` of them."""
    local = pl.col("timestamp").dt.convert_time_zone(ZONE)
    per_day = (
        raw.filter(pl.col("device_id").is_not_null())
        .group_by("device_id", local.dt.date().alias("day"))
        .agg(hours=local.dt.hour().n_unique())
    )
    good = per_day.filter(pl.col("hours") >= hours).group_by("device_id").agg(days=pl.len())
    return set(good.filter(pl.col("days") >= days)["device_id"].to_list())


def written(path) -> pl.DataFrame:
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, schema_overrides={"device_id": pl.String})


@pytest.mark.parametrize(
    ("rule", "suffix"), [("3,4", ".csv"), ("2,1", ".parquet"), ("5,6", ".csv"), ("1,8", ".parquet")]
)
def test_the_copy_holds_exactly_the_devices_meeting_the_rule(
    raw, source, tmp_path, capsys, rule, suffix
):
    days, hours = (int(x) for x in rule.split(","))
    expected = devices_meeting(raw, days, hours)
    assert 0 < len(expected) < raw["device_id"].n_unique()
    out = tmp_path / f"panel{suffix}"
    assert main(["clean", str(source), "--keep-panel", rule, "--output", str(out)]) == 0
    copy = written(out)
    assert set(copy["device_id"].to_list()) == expected
    assert copy.height == raw.filter(pl.col("device_id").is_in(list(expected))).height
    err = capsys.readouterr().err.strip().splitlines()
    removed_rows = raw.height - copy.height
    assert err[0] == (
        f"kept {copy.height:,} rows; removed keep_panel: {removed_rows - NO_ID_ROWS:,}, "
        f"no_device_id: {NO_ID_ROWS:,}; wrote {out}"
    )
    assert err[1].startswith(f"panel rule {rule} (at least {days} ")
    n_devices = raw["device_id"].drop_nulls().n_unique()
    assert (
        f"kept {len(expected):,} devices, removed {n_devices - len(expected):,}; "
        f"rows without a device id removed: {NO_ID_ROWS}" in err[1]
    )


def test_the_rule_combines_with_dropping_a_findings_rows(raw, source, tmp_path, capsys):
    out = tmp_path / "both.csv"
    args = ["clean", str(source), "--drop", "duplicate_pings", "--keep-panel", "3,4"]
    assert main([*args, "--output", str(out)]) == 0
    expected = devices_meeting(raw, 3, 4)
    kept_rows = raw.filter(pl.col("device_id").is_in(list(expected)))
    copy = written(out)
    assert set(copy["device_id"].to_list()) == expected
    assert copy.height == kept_rows.unique().height
    assert copy.height < kept_rows.height  # a duplicate belongs to a kept device
    assert "removed duplicate_pings: " in capsys.readouterr().err


def test_the_python_api_tells_what_the_rule_kept(raw, source, tmp_path):
    done = clean(source, (), tmp_path / "api.parquet", keep_panel="3,4")
    expected = devices_meeting(raw, 3, 4)
    assert done.panel is not None and done.panel.rule.text() == "3,4"
    assert done.panel.devices_kept == len(expected)
    assert done.removed["no_device_id"] == NO_ID_ROWS
    assert done.kept + done.removed_total == raw.height


@pytest.mark.parametrize("rule", ["3", "a,b", "0,4", "3,25", "3,4,5"])
def test_a_bad_rule_is_one_line_and_exit_2(source, tmp_path, capsys, rule):
    out = tmp_path / "bad.csv"
    assert main(["clean", str(source), "--keep-panel", rule, "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: The panel rule") and "3,4" in err[0]
    assert not out.exists()


def test_a_bad_rule_from_the_shell_has_no_traceback(source, tmp_path):
    proc = run_explorer("clean", str(source), "--keep-panel", "x", "--output", str(tmp_path / "c"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr


def test_clean_needs_something_to_do(source, tmp_path, capsys):
    assert main(["clean", str(source), "--output", str(tmp_path / "c.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: name finding kinds with --drop or a rule with --keep-panel N,M."]
