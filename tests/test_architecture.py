"""Architectural rules as tests (docs/architecture.md lists them)."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "explorer"
EXPLORER_FILES = sorted(PACKAGE.rglob("*.py"))
APP_FILES = sorted((ROOT / "app").rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, top_level_only: bool = False) -> Iterator[tuple[str, list[str]]]:
    """(module, names imported from it) of every import in ``path``, relative ones resolved;
    with ``top_level_only``, the imports run at import time (not inside functions or
    ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            yield base, [alias.name for alias in node.names]


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every package ``path`` imports."""
    return {module.split(".")[0] for module, _ in _imports(path)}


def explorer_imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """The ``explorer`` modules ``path`` imports (``from explorer.x import y`` names
    ``explorer.x.y`` when that is a module)."""
    found = set()
    for module, names in _imports(path, top_level_only=top_level_only):
        if module != "explorer" and not module.startswith("explorer."):
            continue
        found.add(module)
        for name in names:
            candidate = f"{module}.{name}"
            if _module_path(candidate) is not None:
                found.add(candidate)
    return found


def _module_path(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", EXPLORER_FILES, ids=_rel)
def test_explorer_never_imports_streamlit(path):
    assert "streamlit" not in imported_modules(path)


@pytest.mark.parametrize("path", EXPLORER_FILES, ids=_rel)
def test_only_binning_cells_calls_h3(path):
    if _rel(path) == "explorer/binning/cells.py":
        return
    assert not imported_modules(path) & {"h3", "h3ronpy", "polars_h3"}


def test_app_computes_no_statistics():
    """The app draws; scipy/numpy statistics and h3 belong to explorer."""
    for path in APP_FILES:
        assert not imported_modules(path) & {"scipy", "h3", "h3ronpy", "tzfpy"}, path


def test_url_and_session_state_live_in_one_module():
    offenders = [
        _rel(path)
        for path in APP_FILES
        if path.name != "state.py"
        and ("st.query_params" in path.read_text() or "query_params[" in path.read_text())
    ]
    assert offenders == []


def test_explorer_modules_stay_small():
    too_long = [
        (_rel(p), n) for p in EXPLORER_FILES if (n := len(p.read_text().splitlines())) > 400
    ]
    assert too_long == []


def test_the_top_of_the_package_shows_the_stages():
    """At most 16 modules beside the stage subpackages, and every stage is there."""
    modules = [p.name for p in PACKAGE.glob("*.py")]
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert len(modules) <= 16, modules
    stages = {"reading", "binning", "summary", "detectors", "reports", "engines", "cli"}
    assert stages <= packages


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("__init__.py")), ids=lambda p: _rel(p.parent))
def test_every_subpackage_says_what_goes_in_and_what_comes_out(path):
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert len(docstring.split()) >= 12, _rel(path)


def test_process_tuning_is_imported_by_the_command_line_alone():
    """glibc settings, BLAS threads and the fast exit belong to the program's entry point:
    no domain module and no part of the app imports them (benchmarks time the command
    line's own setup)."""
    offenders = []
    for path in EXPLORER_FILES + APP_FILES:
        if _rel(path).startswith("explorer/cli/") or _rel(path) == "explorer/__main__.py":
            continue
        if any(m.startswith("explorer.cli") for m in explorer_imports(path)):
            offenders.append(_rel(path))
    assert offenders == []


def test_speed_kernels_import_no_domain_module():
    """explorer._speed is a leaf with plain-function interfaces: it imports only itself."""
    for path in sorted((PACKAGE / "_speed").rglob("*.py")):
        outside = {m for m in explorer_imports(path) if not m.startswith("explorer._speed")}
        assert outside == set(), _rel(path)


def test_the_app_uses_no_private_kernels():
    for path in APP_FILES:
        assert not any(m.startswith("explorer._") for m in explorer_imports(path)), path


#: Stages in data-flow order: a module may import its own stage and earlier ones only.
STAGES = (
    ("explorer._speed", "explorer.errors", "explorer.config", "explorer.geography"),
    ("explorer.safe_csv",),
    ("explorer.reading",),
    ("explorer.binning",),
    ("explorer.summary",),
    ("explorer.stats", "explorer.text", "explorer.findings", "explorer.detectors"),
    ("explorer.analysis", "explorer.cleaning", "explorer.interactive", "explorer.testing"),
    ("explorer.reports", "explorer.engines", "explorer.synth", "explorer.compare"),
    ("explorer.cli", "explorer.__main__"),
)


def _stage(module: str) -> int | None:
    for index, prefixes in enumerate(STAGES):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


@pytest.mark.parametrize("path", EXPLORER_FILES, ids=_rel)
def test_no_stage_imports_a_later_one(path):
    """reading never imports binning, binning never imports the summary, and so on; the
    geography (time zones from H3 cells) is the one place that calls into binning."""
    own = _stage(module_name(path))
    if own is None or module_name(path) == "explorer":
        return
    allowed = {"explorer.geography.timezones": {"explorer.binning.cells", "explorer.binning"}}
    later = sorted(
        m
        for m in explorer_imports(path, top_level_only=True)
        if (stage := _stage(m)) is not None
        and stage > own
        and m not in allowed.get(module_name(path), set())
    )
    assert later == []


def test_explorer_has_no_import_cycles():
    """Module-level imports between explorer modules form no cycle. Importing ``a.b.c``
    first runs ``a`` and ``a.b``; a package's ``__init__`` importing its own submodules
    is no cycle (the package is registered before its ``__init__`` runs)."""
    graph = {
        module_name(path): {
            m for m in explorer_imports(path, top_level_only=True) if _module_path(m) is not None
        }
        for path in EXPLORER_FILES
    }
    for name in list(graph):
        graph[name] = {m for m in graph[name] if not m.startswith(name + ".")}
        parts = name.split(".")
        for i in range(2, len(parts)):
            graph[name].add(".".join(parts[:i]))
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == node:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if state.get(nxt) is None and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None and (found := visit(node)):
            return found
    return None
