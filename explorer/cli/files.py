"""The files the command line reads or writes besides the pings: ``--baseline`` and
``--output``, each checked before any work, with one-sentence errors."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from explorer.errors import PingFileError
from explorer.reading import paths
from explorer.reading.sources import is_input_file

#: A finding's id: the first 16 hex characters of a sha256 (``explorer.findings``).
_FINDING_ID = re.compile(r"[0-9a-f]{16}")


def load_baseline(path: str | None) -> set[str]:
    """Finding ids from a baseline: a JSON report, a JSON list, or one id per line."""
    if not path:
        return set()
    name = Path(path).name
    wrong = (
        f"Baseline {name} is not a JSON report, a JSON list of finding ids or a text file of "
        "one id per line; pass a report written with --format json."
    )
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PingFileError(wrong) from None
    except OSError:
        raise PingFileError(f"Baseline file {name} cannot be read; check the path.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        lines = [line.strip() for line in text.splitlines()]
        data = [line for line in lines if line and not line.startswith("#")]
    if isinstance(data, dict):
        # A report; any other JSON object (a profile, a config) would silently accept nothing.
        findings = data.get("findings")
        if not isinstance(findings, list):
            raise PingFileError(wrong)
        data = [f.get("id") for f in findings if isinstance(f, dict)]
    if not isinstance(data, list):
        raise PingFileError(wrong)
    ids = [str(item).lower() for item in data if item]
    stray = next((n for n, i in enumerate(ids, 1) if not _FINDING_ID.fullmatch(i)), None)
    if stray is not None:
        # Which entry, not its text: a wrong file may hold pings, and stderr never shows them.
        raise PingFileError(
            f"Entry {stray} of baseline {name} is not a finding id (16 hex characters); pass "
            "a report written with --format json or one id per line."
        )
    return set(ids)


def setting_problem(flag: str, path: str | None) -> str | None:
    """Why the file of ``flag`` (``--config``, ``--baseline``) cannot be read, in one
    sentence; None when it can, or when it is missing (its loader says so). A device
    such as ``/dev/zero`` would be read for ever; a pipe is fine (it is read once)."""
    if not path:
        return None
    try:
        info = os.stat(path)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and not os.path.islink(path):
            return None
        what, fix = paths.cause(path, exc)
        return f"{flag} {paths.shown(path)} cannot be read: {what}; {fix}."
    if stat.S_ISDIR(info.st_mode):
        return f"{flag} {paths.shown(path)} is a folder; give a file."
    if stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        return None
    return f"{flag} {paths.shown(path)} is a device, not a file; give a file."


def output_problem(output: str, source: str | None = None) -> str | None:
    """Why ``--output`` cannot be written, in one sentence (None when it can): checked
    before the work, so a typo in the path does not cost a whole analysis. ``source`` is
    the input: the output must not replace one of its files."""
    path = Path(output)
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        pass  # a new file, or a folder that is a file: said below
    except OSError as exc:  # name too long, link loop, permission
        what, _ = paths.cause(path, exc)
        return f"Cannot write {paths.shown(path.name)}: {what}; choose another --output."
    if os.path.isdir(path):
        return f"--output {output} is a folder; give a file name inside it."
    if source is not None and is_input_file(source, path):
        return f"--output {output} is one of the input files; write to another file."
    folder = path.parent
    if os.path.exists(folder) and not os.path.isdir(folder):
        return f"Cannot write {path.name}: {folder} is a file, not a folder; fix --output."
    if not os.path.isdir(folder):
        return (
            f"Cannot write {path.name}: the folder {folder} does not exist; "
            "create it or choose another --output."
        )
    if not os.access(folder, os.W_OK):
        return f"Cannot write {path.name}: {folder} is not writable; choose another --output."
    return None
