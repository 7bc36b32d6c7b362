"""The command-line contract: JSON shape, exit codes, --fail-on, --baseline, bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from explorer.cli.main import EXIT_FLUSH_FAILED, main
from explorer.synth.pings import generate_pings, write_pings
from tests.cli.conftest import run_explorer, run_python
from tests.conftest import REJECTION_REASONS

REASONS = set(REJECTION_REASONS)


@pytest.fixture(scope="module")
def biased_csv(synthetic_file):
    biased = generate_pings(40_000, seed=5, biases=("null_island", "duplicate_pings"))
    return synthetic_file(biased, "biased.csv", folder="cli")


@pytest.fixture(scope="module")
def json_report(biased_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-out") / "report.json"
    assert main(["analyze", str(biased_csv), "--format", "json", "--output", str(out)]) == 0
    return json.loads(out.read_text())


def test_json_report_shape(json_report, biased_csv):
    assert json_report["schema"] == 1
    assert json_report["source"] == biased_csv.name
    assert isinstance(json_report["resolution"], int)
    assert set(json_report["provenance"]) == {
        "version",
        "input_sha256",
        "config_sha256",
        "generated",
    }
    assert json_report["provenance"]["generated"].endswith("Z")
    rows = json_report["rows"]
    assert rows["read"] == rows["used"] + rows["rejected"]
    assert set(rows["rejected_by_reason"]) == REASONS
    assert json_report["time"]["interpretation"]
    kinds = [f["kind"] for f in json_report["findings"]]
    assert "null_island" in kinds and "duplicate_pings" in kinds
    order = {"high": 0, "medium": 1, "low": 2}
    ranks = [(order[f["severity"]], -f["score"]) for f in json_report["findings"]]
    assert ranks == sorted(ranks)
    for finding in json_report["findings"]:
        assert len(finding["id"]) == 16
        assert all(c == c.lower() for c in finding["cells"])


def test_stdout_is_exactly_one_json_document(biased_csv, capsys):
    assert main(["analyze", str(biased_csv), "--format", "json", "--progress"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # raises if anything else is on stdout
    assert "analysed" in captured.err and "reading" in captured.err


def test_fail_on_and_baseline(biased_csv, json_report, tmp_path, write_file):
    assert (
        main(
            [
                "analyze",
                str(biased_csv),
                "--format",
                "json",
                "--output",
                str(tmp_path / "r.json"),
                "--fail-on",
                "medium",
            ]
        )
        == 1
    )
    baseline = write_file("baseline.json", json.dumps(json_report))
    # Same data, same findings: with every id accepted, nothing blocks the gate.
    assert (
        main(
            [
                "analyze",
                str(biased_csv),
                "--format",
                "json",
                "--output",
                str(tmp_path / "r2.json"),
                "--fail-on",
                "low",
                "--baseline",
                str(baseline),
            ]
        )
        == 0
    )
    again = json.loads((tmp_path / "r2.json").read_text())
    assert again["findings"] and all(f["baseline"] for f in again["findings"])


def test_profile_json_blocks(biased_csv, capsys):
    assert main(["profile", str(biased_csv), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"rows", "time", "bbox", "top_cells"} <= set(data)
    assert data["top_cells"][0]["pings"] >= data["top_cells"][-1]["pings"]
    assert -90 <= data["bbox"]["lat_min"] <= data["bbox"]["lat_max"] <= 90


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"lat,lon,timestamp\n", "no data rows"),
        (b"\x00\x01\x02\x03binary\x00\xff", "not"),
        (b"a,b,c\n1,2,3\n", "column"),
    ],
)
def test_unusable_files_exit_2_with_one_line(write_file, capsys, content, needle):
    path = write_file("bad.csv", content)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert needle in err[0].lower()
    assert "Traceback" not in err[0]


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["profile", str(tmp_path / "nope.csv")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_module_entry_point_has_no_traceback(write_file):
    path = write_file("bad.csv", "just,some,words\nx,y,z\n")
    proc = run_explorer("analyze", str(path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1


def test_bad_config_exits_2(biased_csv, write_file, capsys):
    config = write_file("c.toml", "[severity]\nbogus = 1\n")
    assert main(["analyze", str(biased_csv), "--config", str(config)]) == 2
    assert "bogus" in capsys.readouterr().err


def test_markdown_is_the_default(biased_csv, capsys):
    assert main(["analyze", str(biased_csv)]) == 0
    out = capsys.readouterr().out
    assert out.lstrip().startswith("#")
    assert Path(biased_csv).name in out


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_profile_never_imports_pandas(biased_csv, tmp_path, suffix):
    """Importing pandas costs half a second of every ``profile`` run; nothing there needs it."""
    path = biased_csv
    if suffix == ".parquet":
        path = tmp_path / "biased.parquet"
        write_pings(generate_pings(5_000, seed=6), path)
    code = (
        "import sys, contextlib, io\n"
        "from explorer.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['profile', {str(path)!r}, '--format', 'json'])\n"
        "print(code, 'pandas' in sys.modules)\n"
    )
    proc = run_python(code)
    assert proc.stdout.split() == ["0", "False"], proc.stderr[-2000:]


CLEAN_CSV = (
    "device_id,timestamp,lat,lon\n"
    "a,1700000000,0.3,0.3\n"  # 0.3° from (0, 0): null island only with a wider radius
    "b,1700000001,48.85,2.35\n"
    "b,1700000001,48.85,2.35\n"  # an exact duplicate
)


def test_clean_command_writes_the_copy_and_takes_the_config(tmp_path, write_file, capsys):
    """The command passes --config to the analysis behind clean (it once crashed on it)."""
    source = write_file("p.csv", CLEAN_CSV)
    out = tmp_path / "c.csv"
    drop = ["--drop", "null_island", "duplicate_pings", "--output", str(out)]
    assert main(["clean", str(source), *drop]) == 0
    assert "kept 2 rows" in capsys.readouterr().err
    assert pl.read_csv(out)["device_id"].to_list() == ["a", "b"]
    config = write_file("wide.toml", "[places]\nnull_island_radius_deg = 0.5\n")
    assert main(["clean", str(source), *drop, "--config", str(config)]) == 0
    assert "kept 1 rows" in capsys.readouterr().err
    assert pl.read_csv(out)["device_id"].to_list() == ["b"]


def test_clean_command_with_an_unknown_output_format_exits_2_in_one_line(tmp_path, write_file):
    source = write_file("p.csv", CLEAN_CSV)
    proc = run_explorer(
        "clean", str(source), "--drop", "duplicate_pings", "--output", str(tmp_path / "c.txt")
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: Cannot tell the format of c.txt: use .csv, .csv.gz or .parquet."
    ]


def test_the_module_exits_with_the_whole_output_flushed(biased_csv):
    """``python -m explorer`` skips Python's teardown (``os._exit``) once it has flushed."""
    proc = run_explorer("profile", str(biased_csv), "--format", "json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["rows"]["read"] > 0


def test_exit_without_teardown_flushes_buffered_output_and_keeps_the_code():
    code = (
        "import sys\n"
        "from explorer.cli.process import exit_without_teardown\n"
        "sys.stdout.write('x' * 100)\n"  # stays in the buffer: no newline, no flush
        "sys.stderr.write('note')\n"
        "exit_without_teardown(3)\n"
        "print('not reached')\n"
    )
    proc = run_python(code, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "x" * 100, "note")


@pytest.mark.parametrize("command", [["profile"], ["analyze"], ["analyze", "--format", "html"]])
def test_a_reader_that_closes_stdout_early_gets_no_traceback(biased_csv, command):
    """``ping-explorer analyze f | head -1``: the reader goes away; exit 120, stderr quiet."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer", command[0], str(biased_csv), *command[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # before the command can write: its first write fails
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == EXIT_FLUSH_FAILED
    assert err == ""


@pytest.mark.parametrize(
    ("command", "output", "needle"),
    [
        (["analyze"], "missing/r.md", "the folder missing does not exist"),
        (["analyze"], ".", "is a folder; give a file name inside it"),
        (["analyze"], "a_file/r.md", "a_file is a file, not a folder"),
        (["clean", "--drop", "duplicate_pings"], "missing/c.csv", "does not exist"),
    ],
)
def test_an_unwritable_output_is_one_line_before_any_work(
    biased_csv, tmp_path, write_file, monkeypatch, capsys, command, output, needle
):
    """An --output that cannot be written is named at once (exit 2), not after the
    analysis as a traceback."""
    write_file("a_file", "x")
    monkeypatch.chdir(tmp_path)
    import explorer.engines.choose

    def no_work(*args, **kwargs):
        raise AssertionError("the input was read before the output was checked")

    monkeypatch.setattr(explorer.engines.choose, "summarise_source", no_work)
    argv = [command[0], str(biased_csv), *command[1:], "--output", output]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert needle in err[0]


def test_a_report_that_fails_to_write_is_one_line(biased_csv, tmp_path, monkeypatch, capsys):
    """A write that fails anyway (disk full, permissions) is a one-line error too."""

    def full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    assert main(["analyze", str(biased_csv), "--output", str(tmp_path / "r.md")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    out = tmp_path / "r.md"
    assert err[-1:] == [
        f"error: Cannot write {out} (No space left on device); choose another --output."
    ]


def test_a_clean_copy_that_fails_to_write_is_one_line(tmp_path, write_file, monkeypatch, capsys):
    source = write_file("p.csv", CLEAN_CSV)

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pl.DataFrame, "write_csv", denied)
    out = tmp_path / "c.csv"
    assert main(["clean", str(source), "--drop", "duplicate_pings", "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1:] == [f"error: Cannot write {out} (Permission denied); choose another --output."]


@pytest.mark.parametrize(
    ("command", "source", "output"),
    [
        (["clean", "--drop", "duplicate_pings"], "p.csv", "p.csv"),
        (["analyze"], "p.csv", "./p.csv"),
        (["clean", "--drop", "duplicate_pings"], "folder", "folder/q.csv"),
    ],
)
def test_the_output_never_replaces_an_input_file(
    tmp_path, monkeypatch, capsys, command, source, output
):
    """``clean pings.csv --output pings.csv`` would destroy what the user gave."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    for name in ("p.csv", "folder/q.csv"):
        (tmp_path / name).write_text(CLEAN_CSV)
    assert main([command[0], source, *command[1:], "--output", output]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --output {output} is one of the input files; write to another file."]
    assert (tmp_path / output).read_text() == CLEAN_CSV


BASELINE_ROW = "8072cc64cc6b6b67,2024-06-03T04:00:21Z,40.763775,-73.962293,android"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'{"source": "p.csv", "rows": {}}', "is not a JSON report"),  # a profile, not a report
        (b"PAR1\x15\x04\x15\xc8\x9a\x0c\xff\xfe", "is not a JSON report"),  # binary
        (b'["2fb01128786fdbbf", 42]', "Entry 2 of baseline"),
        (f"device_id,timestamp,lat,lon,device_type\n{BASELINE_ROW}\n".encode(), "Entry 1 of"),
    ],
)
def test_a_baseline_that_is_not_one_is_one_line_before_any_work(
    biased_csv, write_file, monkeypatch, capsys, content, needle
):
    """A wrong --baseline file (it once accepted any JSON object as "no ids", and a binary
    file was a traceback) is named at once, and never by echoing its rows."""
    import explorer.engines.choose

    def no_work(*args, **kwargs):
        raise AssertionError("the input was read before the baseline was checked")

    monkeypatch.setattr(explorer.engines.choose, "analyze_source", no_work)
    baseline = write_file("baseline.txt", content)
    assert main(["analyze", str(biased_csv), "--baseline", str(baseline)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert "8072cc64" not in err[0] and "40.76" not in err[0]


def test_a_text_baseline_takes_ids_with_comments_and_any_case(write_file):
    from explorer.cli.files import load_baseline

    text = "# accepted on review\n2fb01128786fdbbf\n\n  40DCAB1AC79684C5  \n"
    baseline = write_file("accepted.txt", text)
    assert load_baseline(str(baseline)) == {"2fb01128786fdbbf", "40dcab1ac79684c5"}


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ({}, ["1", "False"]),
        ({"OPENBLAS_NUM_THREADS": "3", "NUMPY_MADVISE_HUGEPAGE": "1"}, ["3", "True"]),
    ],
)
def test_the_command_sets_numpys_environment_before_importing_it_unless_told(
    biased_csv, preset, expected
):
    """Before numpy is imported, the command asks OpenBLAS for no threads (they spin at
    numpy's import for nothing: no BLAS here) and numpy for no huge-page advice (on a
    virtual machine that returns free memory to its host, each fresh 2 MB page cost a
    host fault); values the user set are kept."""
    code = (
        "import os, sys, contextlib, io\n"
        "from explorer.cli import run\n"
        "imported_before = 'numpy' in sys.modules\n"
        f"sys.argv = ['explorer', 'profile', {str(biased_csv)!r}, '--format', 'json']\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = run()\n"
        "from numpy._core.multiarray import _get_madvise_hugepage\n"
        "print(code, imported_before, os.environ['OPENBLAS_NUM_THREADS'], "
        "_get_madvise_hugepage())\n"
    )
    names = ("OPENBLAS_NUM_THREADS", "NUMPY_MADVISE_HUGEPAGE")
    env = {k: v for k, v in os.environ.items() if k not in names} | preset
    proc = run_python(code, env=env)
    assert proc.stdout.split() == ["0", "False", *expected], proc.stderr[-2000:]
