"""The package layout: one subpackage per stage, public names only across stages.

Each stage is a subpackage of ``canvass`` whose ``__init__`` exports the stage's
public names; its ``_private`` modules are for the stage itself. These tests read every
module's imports (with ``ast``, so imports inside functions count too) and fail on an
import of another subpackage's private module, and on an import circle among modules.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "canvass"
STAGES = (
    "load",
    "geocode",
    "match",
    "score",
    "target",
    "network",
    "turf",
    "route",
    "outputs",
    "statewide",
    "demo",
    "results",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Return the line numbers of ``if TYPE_CHECKING:`` bodies (not run at import)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(
                    range(child.lineno, (child.end_lineno or child.lineno) + 1)
                )
    return lines


def imports_of(path: Path, *, runtime_only: bool = False) -> list[tuple[int, str]]:
    """
    Return ``(line, module)`` for every module that `path` imports from ``canvass``.

    ``from x import y`` counts as importing ``x.y`` where ``x.y`` is a module of the
    package, otherwise as importing ``x``. Relative imports are resolved.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree) if runtime_only else set()
    here = _module_name(path).split(".")
    base = here if _is_package(path) else here[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if node.__dict__.get("lineno") in skip:
            continue
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name)
                for a in node.names
                if a.name.startswith("canvass")
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base[: len(base) - node.level + 1]
                mod = ".".join([*parent, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            if not mod.startswith("canvass"):
                continue
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                found.append((node.lineno, sub if _exists(sub) else mod))
    return found


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").exists() or (
        PACKAGE / rel / "__init__.py"
    ).exists()


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def private_imports_across_stages() -> list[str]:
    """Return every import of another subpackage's private module, as readable lines."""
    bad = []
    for path in _modules():
        own = _module_name(path).split(".")
        own_pkg = own[1] if len(own) > 1 and (PACKAGE / own[1]).is_dir() else None
        for line, mod in imports_of(path):
            parts = mod.split(".")
            if len(parts) < 3 or not (PACKAGE / parts[1]).is_dir():
                continue
            if parts[1] != own_pkg and any(p.startswith("_") for p in parts[2:]):
                rel = path.relative_to(PACKAGE.parent)
                bad.append(f"{rel}:{line} imports {mod}")
    return bad


def import_cycles() -> list[list[str]]:
    """Return the import circles among canvass's modules (a package is its __init__)."""
    graph: dict[str, set[str]] = {}
    for path in _modules():
        name = _module_name(path)
        targets = {mod for _, mod in imports_of(path, runtime_only=True)}
        # importing canvass.a.b runs canvass.a's __init__ first
        graph[name] = {t for t in targets if t != name and t != "canvass"}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_every_stage_is_a_subpackage() -> None:
    for stage in STAGES:
        assert (PACKAGE / stage / "__init__.py").is_file(), stage
    # The command line is a package too (one module per group of commands).
    assert (PACKAGE / "cli" / "__init__.py").is_file()
    flat = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_"))
    assert flat == [
        "cluster",
        "config",
        "errors",
        "guards",
        "params",
        "pipeline",
        "schema",
    ]


def test_no_stage_imports_another_stages_private_module() -> None:
    assert private_imports_across_stages() == []


def test_no_import_circles() -> None:
    assert import_cycles() == []


def test_stage_init_exports_only_its_public_names() -> None:
    import importlib

    for stage in STAGES:
        module = importlib.import_module(f"canvass.{stage}")
        names = module.__all__
        assert names, stage
        assert all(not n.startswith("_") for n in names), stage
        for name in names:
            assert hasattr(module, name), f"canvass.{stage}.{name}"


def test_checker_catches_a_private_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks fail on a planted private import and a planted circle."""
    fake = tmp_path / "canvass"
    for stage in ("alpha", "beta"):
        (fake / stage).mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "alpha" / "__init__.py").write_text("from ._impl import f\n")
    (fake / "alpha" / "_impl.py").write_text(
        "from canvass.beta import g\n\ndef f(): ...\n"
    )
    (fake / "beta" / "__init__.py").write_text("from ._impl import g\n")
    (fake / "beta" / "_impl.py").write_text(
        "def g():\n    from ..alpha._impl import f\n    return f\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert private_imports_across_stages() == [
        "canvass/beta/_impl.py:2 imports canvass.alpha._impl"
    ]
    cycles = import_cycles()
    assert cycles, "alpha -> beta -> alpha is a circle"
    assert {"canvass.alpha._impl", "canvass.beta._impl"} <= set(cycles[0])
