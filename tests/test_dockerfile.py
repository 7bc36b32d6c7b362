"""The Dockerfile's essentials, checked by reading it (no Docker engine needed)."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import shlex
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # Docker drops comment lines inside a continued instruction.
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def command_words(args: str) -> list[str]:
    """The words of a CMD/RUN argument in exec (JSON) or shell form."""
    if args.startswith("["):
        return [str(word) for word in json.loads(args)]
    return shlex.split(args)


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def args_of(instructions: list[tuple[str, str]], keyword: str) -> list[str]:
    return [args for kw, args in instructions if kw == keyword]


def index_of(instructions: list[tuple[str, str]], keyword: str) -> int:
    return next(i for i, (kw, _) in enumerate(instructions) if kw == keyword)


def test_parser_joins_continuations_and_drops_comments() -> None:
    text = '# c\nFROM a:1\nRUN x \\\n    # inner\n    && y\nCMD ["p", "q"]\n'
    assert parse_dockerfile(text) == [("FROM", "a:1"), ("RUN", "x && y"), ("CMD", '["p", "q"]')]


def test_base_image_is_slim_python_311(instructions) -> None:
    bases = args_of(instructions, "FROM")
    assert len(bases) == 1
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", bases[0].split()[0])


def test_workdir_is_app_not_root(instructions) -> None:
    assert args_of(instructions, "WORKDIR") == ["/app"]


def test_runs_as_a_non_root_user(instructions) -> None:
    users = args_of(instructions, "USER")
    assert users, "no USER instruction: the app would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert index_of(instructions, "USER") < index_of(instructions, "CMD")
    created = " ".join(args_of(instructions, "RUN"))
    assert re.search(rf"useradd\b.*\b{re.escape(users[-1])}\b", created)


def test_dependencies_come_from_pyproject(instructions) -> None:
    copied = " ".join(args_of(instructions, "COPY")).split()
    assert "pyproject.toml" in copied
    installs = [command_words(run) for run in args_of(instructions, "RUN")]
    assert any(words[:3] == ["pip", "install", "."] for words in installs)
    # pyproject names a readme; setuptools fails the build without it.
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("readme")
    if readme:
        assert readme in copied


def test_copied_sources_exist_and_are_not_ignored(instructions) -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for args in args_of(instructions, "COPY"):
        *sources, _dest = args.split()
        for source in sources:
            assert source.rstrip("/") not in ignored, (
                f"{source} is copied but .dockerignore drops it"
            )
            assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"


def test_dataset_store_is_a_volume(instructions) -> None:
    env = " ".join(args_of(instructions, "ENV"))
    assert re.search(r"\bPBE_DATA_DIR=/data\b", env)
    volumes = [
        json.loads(v) if v.startswith("[") else v.split() for v in args_of(instructions, "VOLUME")
    ]
    assert any("/data" in v for v in volumes)


def test_bundled_sample_is_in_the_image(instructions) -> None:
    env = " ".join(args_of(instructions, "ENV"))
    match = re.search(r"\bPBE_SAMPLE_PATH=(\S+)", env)
    assert match, "the installed app cannot find data/samples/pings.csv without PBE_SAMPLE_PATH"
    inside = Path(match.group(1))
    assert inside.parts[:2] == ("/", "app")
    relative = inside.relative_to("/app")
    assert (ROOT / relative).is_file()
    copied = [args.split()[0].rstrip("/") for args in args_of(instructions, "COPY")]
    assert any(relative.parts[: len(Path(c).parts)] == Path(c).parts for c in copied)


def test_exposes_streamlit_port(instructions) -> None:
    assert "8501" in " ".join(args_of(instructions, "EXPOSE")).split()


def test_healthcheck_uses_python_against_streamlit_health(instructions) -> None:
    checks = args_of(instructions, "HEALTHCHECK")
    assert len(checks) == 1
    _options, _, command = checks[0].partition("CMD ")
    words = command_words(command.strip())
    assert words[0] in {"python", "python3"}
    assert "http://localhost:8501/_stcore/health" in " ".join(words)
    assert not {"curl", "wget"} & set(" ".join(words).split())


def test_cmd_runs_streamlit_headless_without_usage_stats(instructions) -> None:
    cmds = args_of(instructions, "CMD")
    assert len(cmds) == 1
    words = command_words(cmds[0])
    assert words[:3] == ["streamlit", "run", "app/streamlit_app.py"]
    options = " ".join(words[3:]).replace("=", " ").split()
    assert options[options.index("--server.headless") + 1] == "true"
    assert options[options.index("--browser.gatherUsageStats") + 1] == "false"
    assert options[options.index("--server.port") + 1] == "8501"


def test_xsrf_and_cors_protection_stay_on() -> None:
    text = DOCKERFILE.read_text()
    assert "enableXsrfProtection" not in text
    assert "enableCORS" not in text
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text()).get("server", {})
    assert server.get("enableXsrfProtection", True) is True
    assert server.get("enableCORS", True) is True


def test_streamlit_config_is_copied_into_the_working_directory(instructions) -> None:
    """Streamlit reads ./.streamlit/config.toml (upload limit, XSRF) from WORKDIR."""
    assert (ROOT / ".streamlit" / "config.toml").is_file()
    copies = [args.split() for args in args_of(instructions, "COPY")]
    assert any(".streamlit" in [s.rstrip("/") for s in c[:-1]] for c in copies)


def test_dockerignore_keeps_local_state_out() -> None:
    entries = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "tests/e2e/artifacts", "**/__pycache__", ".pytest_cache"} <= entries


def _module_level_imports(path: Path) -> set[str]:
    """Top-level names of absolute imports at a module's top level (run at import time)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_image_installs_every_package_the_app_imports() -> None:
    """`pip install .` installs only pyproject's dependencies: each import must be one."""
    declared = {
        _normalise(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0])
        for spec in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    providers = importlib.metadata.packages_distributions()
    local = {"explorer", "app"}
    missing = {}
    for package in ("explorer", "app"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _module_level_imports(path) - local - set(sys.stdlib_module_names):
                dists = {_normalise(d) for d in providers.get(name, [name])}
                if not dists & declared:
                    missing.setdefault(name, path.relative_to(ROOT).as_posix())
    assert not missing, f"imported but not in [project].dependencies: {missing}"


def test_the_app_runs_with_the_memory_settings_it_was_measured_with(instructions) -> None:
    """numpy's huge-page advice off, as the command line does
    (``explorer/cli/process.py``), and two glibc arenas, so the threads Streamlit runs
    sessions on do not each keep what their analyses freed."""
    env = " ".join(args_of(instructions, "ENV"))
    assert re.search(r"\bNUMPY_MADVISE_HUGEPAGE=0\b", env)
    assert re.search(r"\bMALLOC_ARENA_MAX=2\b", env)
