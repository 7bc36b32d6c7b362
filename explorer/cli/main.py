"""``python -m explorer analyze|profile|clean``: the command-line contract of the design.

Reports go to stdout (or ``--output``), progress and logs to stderr. Exit codes: 0 on
success, 1 when ``--fail-on`` finds a finding at or above its level (baseline ids
excepted), 2 when the input cannot be used (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from explorer.analysis import profile_blocks
from explorer.cleaning import clean
from explorer.cli.arguments import READING_FLAGS, build_parser
from explorer.cli.files import load_baseline, output_problem, setting_problem
from explorer.cli.inputs import readable_input
from explorer.cli.process import EXIT_FLUSH_FAILED
from explorer.cli.weights import region_weights_csv, weights_problem, write_device_weights
from explorer.config import load_config
from explorer.engines.choose import analyze_source, summarise_source
from explorer.errors import PingFileError
from explorer.reading.paths import system_error
from explorer.reports.contract import failing_findings, render
from explorer.summary.panel_rule import parse_rule

if TYPE_CHECKING:  # pragma: no cover - typing only
    from explorer.reading.reference import Reference

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2
T = TypeVar("T")


def _columns(args: argparse.Namespace) -> dict[str, str]:
    return {
        role: getattr(args, flag) for flag, role in READING_FLAGS.items() if getattr(args, flag)
    }


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(args: argparse.Namespace) -> Callable[[str], None]:
    """Stage messages go to stderr when asked, or when a person is watching it."""
    wanted = args.progress if args.progress is not None else sys.stderr.isatty()
    return _log if wanted else (lambda _message: None)


def _written(output: str, write: Callable[[], T]) -> T:
    """``write()``'s result; a failure to write (disk full, permissions) becomes a
    one-line error. Reading errors are PingFileErrors already, never OSErrors."""
    try:
        return write()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PingFileError(f"Cannot write {output} ({reason}); choose another --output.") from exc


def _emit(text: str, output: str | None) -> None:
    if output:
        _written(output, lambda: Path(output).write_text(text, encoding="utf-8"))
        _log(f"wrote {output}")
    else:
        try:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()
        except BrokenPipeError as exc:
            # The reader stopped early (``| head``). As Python's documentation advises,
            # stdout now points at the null device, so no later flush fails again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise _StdoutClosed from exc


class _StdoutClosed(Exception):
    """Whoever read stdout closed it before the whole output was written."""


def _reference(args: argparse.Namespace) -> Reference | None:
    """The reference population named by ``--reference`` (None without it)."""
    if not args.reference:
        if args.population_col or args.region_id_col:
            raise PingFileError("--population-col and --region-id-col need --reference FILE.")
        return None
    # Imported here: reading geodata loads geopandas and pandas, which every other run
    # of the command line (profile above all) does without.
    from explorer.reading.reference_files import read_reference

    return read_reference(
        args.reference, population_col=args.population_col, region_id_col=args.region_id_col
    )


def _run_analyze(args: argparse.Namespace) -> int:

    config = load_config(args.config)
    baseline = load_baseline(args.baseline)
    reference = _reference(args)
    started = time.perf_counter()
    analysis = analyze_source(
        args.path,
        resolution=args.resolution,
        columns=_columns(args),
        tz=args.tz,
        config=config,
        engine=args.engine,
        scheduler=args.scheduler,
        chunk_rows=args.chunk_rows,
        progress=_progress(args),
        reference=reference,
    )
    _progress(args)(
        f"analysed {analysis.summary.rows_used:,} pings at resolution {analysis.resolution} "
        f"in {time.perf_counter() - started:.1f} s: {len(analysis.findings)} findings"
    )
    if args.format == "csv":
        _emit(region_weights_csv(analysis), args.output)
    else:
        _emit(render(analysis, args.format, baseline), args.output)
    if args.weights_per_device:
        target = args.weights_per_device
        rows = _written(
            target,
            lambda: write_device_weights(analysis, args.path, target, _columns(args), args.tz),
        )
        _log(f"wrote the weights of {rows:,} devices to {target}")
    if args.fail_on and failing_findings(analysis, args.fail_on, baseline):
        return EXIT_FINDINGS
    return EXIT_OK


def _profile_markdown(data: dict) -> str:
    rows, when, box = data["rows"], data["time"], data["bbox"]
    lines = [
        f"# Profile of {data['source']}",
        "",
        f"- rows read: {rows['read']:,}; used: {rows['used']:,}; rejected: {rows['rejected']:,}",
    ]
    lines += [f"  - {reason}: {n:,}" for reason, n in rows["rejected_by_reason"].items() if n]
    lines += [
        f"- time: {when['start']} to {when['end']} ({when['interpretation']})",
        f"- bounding box: lat {box['lat_min']} to {box['lat_max']}, "
        f"lon {box['lon_min']} to {box['lon_max']}",
        f"- resolution: {data['resolution']} (suggested {data['suggested_resolution']})",
        "",
        "| cell | pings | devices |",
        "|---|---:|---:|",
    ]
    lines += [f"| {c['cell']} | {c['pings']:,} | {c['devices']:,} |" for c in data["top_cells"]]
    return "\n".join(lines) + "\n"


def _run_profile(args: argparse.Namespace) -> int:

    summary, meta = summarise_source(
        args.path,
        resolution=args.resolution,
        columns=_columns(args),
        tz=args.tz,
        engine=args.engine,
        scheduler=args.scheduler,
        chunk_rows=args.chunk_rows,
        config=load_config(args.config),
        progress=_progress(args),
        digest=False,  # the profile does not name its input by sha256
    )

    data = {
        "source": meta["source"],
        "resolution": summary.resolution,
        "suggested_resolution": meta["suggested_resolution"],
        **profile_blocks(summary),
    }
    text = json.dumps(data, indent=2) if args.format == "json" else _profile_markdown(data)
    _emit(text, None)
    return EXIT_OK


def _run_clean(args: argparse.Namespace) -> int:

    if not args.drop and not args.keep_panel:
        _log("error: name finding kinds with --drop or a rule with --keep-panel N,M.")
        return EXIT_UNUSABLE
    rule = parse_rule(args.keep_panel) if args.keep_panel else None  # one-line error first
    try:
        result = _written(
            args.output,
            lambda: clean(
                args.path,
                drop=args.drop,
                output=Path(args.output),
                columns=_columns(args),
                tz=args.tz,
                config=load_config(args.config),
                resolution=args.resolution,
                keep_panel=rule,
            ),
        )
    except ValueError as exc:  # one-sentence errors: clean's own and PingFileErrors
        _log(f"error: {exc}")
        return EXIT_UNUSABLE
    removed = ", ".join(f"{kind}: {n:,}" for kind, n in result.removed.items())
    _log(f"kept {result.kept:,} rows; removed {removed}; wrote {args.output}")
    if result.panel is not None:
        panel = result.panel
        _log(
            f"panel rule {panel.rule.text()} ({panel.rule.words()}): kept "
            f"{panel.devices_kept:,} devices, removed {panel.devices_removed:,}; "
            f"rows without a device id removed: {result.removed['no_device_id']:,}"
        )
    return EXIT_OK


def _side_columns(args: argparse.Namespace, side: str) -> dict[str, str]:
    """The columns of one side of ``compare``: its ``--before-*``/``--after-*`` flags
    over the flags shared by both."""
    columns = _columns(args)
    for flag, role in READING_FLAGS.items():
        if getattr(args, f"{side}_{flag}"):
            columns[role] = getattr(args, f"{side}_{flag}")
    return columns


def _run_compare(args: argparse.Namespace) -> int:
    """``compare BEFORE AFTER``: both analysed at one resolution, the changes reported."""
    # Imported here: the other commands never pay for the comparison's statistics.
    from explorer.compare import compare_sources, failing_changes, render_comparison

    problems = (
        output_problem(args.output, s) if args.output else None for s in (args.before, args.after)
    )
    problem = next((p for p in problems if p), None)
    if problem:
        raise PingFileError(problem)
    started = time.perf_counter()
    with ExitStack() as stack:
        before, after = (
            stack.enter_context(readable_input(s, _progress(args)))
            for s in (args.before, args.after)
        )
        comparison = compare_sources(
            before,
            after,
            resolution=args.resolution,
            before_columns=_side_columns(args, "before"),
            after_columns=_side_columns(args, "after"),
            before_tz=args.before_tz or args.tz,
            after_tz=args.after_tz or args.tz,
            config=load_config(args.config),
            engine=args.engine,
            chunk_rows=args.chunk_rows,
            progress=_progress(args),
        )
    _progress(args)(
        f"compared at resolution {comparison.resolution} in "
        f"{time.perf_counter() - started:.1f} s: {len(comparison.changes)} changes"
    )
    _emit(render_comparison(comparison, args.format), args.output)
    if args.fail_on and failing_changes(comparison, args.fail_on):
        return EXIT_FINDINGS
    return EXIT_OK


def _device_weights_problem(args: argparse.Namespace) -> str | None:
    """Why the ``--weights-per-device`` file cannot be written (None when it can)."""
    target = getattr(args, "weights_per_device", None)
    problem = output_problem(target, args.path) if target else None
    return problem.replace("--output", "--weights-per-device") if problem else None


def _flag_problem(args: argparse.Namespace) -> str | None:
    """Why a file named by a flag cannot be used, before any work (None when all can)."""
    output = getattr(args, "output", None)
    problems = (
        output_problem(output, args.path) if output and hasattr(args, "path") else None,
        setting_problem("--config", getattr(args, "config", None)),
        setting_problem("--baseline", getattr(args, "baseline", None)),
        weights_problem(args),
        _device_weights_problem(args),
    )
    return next((problem for problem in problems if problem), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process's) and run the command."""
    return run_command(build_parser().parse_args(argv))


def run_command(args: argparse.Namespace) -> int:
    """Run a parsed command: its exit code, with every failure said in one line."""
    problem = _flag_problem(args)
    if problem:
        _log(f"error: {problem}")
        return EXIT_UNUSABLE
    runners = {"analyze": _run_analyze, "profile": _run_profile, "clean": _run_clean}
    try:
        if args.command == "compare":
            return _run_compare(args)
        with readable_input(args.path, _progress(args)) as path:
            args.path = path
            return runners[args.command](args)
    except PingFileError as exc:
        _log(f"error: {exc}")
        return EXIT_UNUSABLE
    except OSError as exc:  # the net under the readers: never a traceback
        _log(f"error: {system_error(exc)}")
        return EXIT_UNUSABLE
    except _StdoutClosed:
        return EXIT_FLUSH_FAILED  # silently: the reader has gone, the input is fine
    except KeyboardInterrupt:
        _log("interrupted")
        return 130
    except MemoryError:
        _log("error: the input does not fit in memory; use --engine chunked.")
        return EXIT_UNUSABLE
