"""Helpers for the command-line tests: the command or a Python snippet in a child process.

Imported by the test modules: ``from tests.cli.conftest import run_explorer, run_python``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping


def run_explorer(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m explorer ARGS`` in a child process; its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_python(
    code: str, *, timeout: float = 120, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -c CODE`` in a child process (with ``env`` if given); output as text."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env
    )
