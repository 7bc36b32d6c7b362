"""The ``setting`` helper: a dataclass field with a default and a sentence of why."""

from __future__ import annotations

from dataclasses import field
from typing import Any


def setting(default: Any, doc: str) -> Any:
    """A config field; ``doc`` says in one sentence why the value is what it is."""
    return field(default=default, metadata={"doc": doc})
