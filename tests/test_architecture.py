"""Architectural rules as tests."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


EXPLORER_FILES = sorted((ROOT / "explorer").rglob("*.py"))


@pytest.mark.parametrize("path", EXPLORER_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_explorer_never_imports_streamlit(path):
    assert "streamlit" not in imported_modules(path)


@pytest.mark.parametrize("path", EXPLORER_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_binning_calls_h3(path):
    if path.relative_to(ROOT).as_posix() == "explorer/binning/cells.py":  # the only h3 caller
        return
    mods = imported_modules(path)
    assert "h3" not in mods and "h3ronpy" not in mods


def test_app_computes_no_statistics():
    """The app draws; scipy/numpy statistics and h3 belong to explorer."""
    for path in sorted((ROOT / "app").rglob("*.py")):
        mods = imported_modules(path)
        assert not mods & {"scipy", "h3", "h3ronpy", "tzfpy"}, path


def test_url_and_session_state_live_in_one_module():
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "app").rglob("*.py"))
        if path.name != "state.py"
        and ("st.query_params" in path.read_text() or "query_params[" in path.read_text())
    ]
    assert offenders == []


def test_explorer_modules_stay_small():
    too_long = [
        (str(p.relative_to(ROOT)), n)
        for p in EXPLORER_FILES
        if (n := len(p.read_text().splitlines())) > 400
    ]
    assert too_long == []
