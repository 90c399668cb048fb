"""Spec: the tap package's import graph. Read from the source with ast (nothing
is imported or run), counting every import statement wherever it is: at the
top, inside a function (a lazy import hides a cycle, it does not remove it)
or under ``if TYPE_CHECKING``. THEN lambda/tap has no import cycle, and no tap
module imports a handler module (the image's task root: validator, migrate,
gate, prerequisites, and the scripts beside them), so the handlers stay thin
and the package stays testable without them."""

from __future__ import annotations

import ast
import graphlib
import importlib.util
import textwrap
from pathlib import Path

import pytest

LAMBDA_DIR = Path(__file__).resolve().parent.parent
TAP_DIR = LAMBDA_DIR / "tap"
HANDLER_MODULES = frozenset(p.stem for p in LAMBDA_DIR.glob("*.py"))


def modules_of(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for the package and its direct modules."""
    package = package_dir.name
    modules = {package: package_dir / "__init__.py"}
    for path in sorted(package_dir.glob("*.py")):
        if path.stem != "__init__":
            modules[f"{package}.{path.stem}"] = path
    return modules


def imported_names(path: Path, module: str) -> set[str]:
    """Every dotted name an import statement in ``path`` may load: ``from a
    import b`` names ``a`` and ``a.b`` (b may be a module), relative imports
    resolved against ``module``'s package."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            relative = "." * node.level + (node.module or "")
            base = importlib.util.resolve_name(relative, package) if node.level else relative
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def graph_of(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (a submodule's
    import loads its parent package first, so that counts too)."""
    modules = modules_of(package_dir)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets: set[str] = set()
        for name in imported_names(path, module):
            parts = name.split(".")
            targets.update(".".join(parts[:n]) for n in range(1, len(parts) + 1) if ".".join(parts[:n]) in modules)
        targets.discard(module)
        graph[module] = targets
    return graph


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle (its modules, the first repeated at the end), or None."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as e:
        return list(e.args[1])
    return None


def handler_imports(package_dir: Path, handler_modules: frozenset[str]) -> dict[str, set[str]]:
    """Module -> the handler modules it imports."""
    found: dict[str, set[str]] = {}
    for module, path in modules_of(package_dir).items():
        handlers = {name.split(".")[0] for name in imported_names(path, module)} & handler_modules
        if handlers:
            found[module] = handlers
    return found


# --- lambda/tap ----------------------------------------------------------------------------------


def test_lambda_tap_has_no_import_cycle() -> None:
    graph = graph_of(TAP_DIR)
    assert len(graph) > 20, "the walker found too few modules: wrong directory?"
    assert import_cycle(graph) is None, f"import cycle: {' -> '.join(import_cycle(graph) or [])}"


def test_no_tap_module_imports_a_handler_module() -> None:
    assert {"validator", "migrate", "gate", "prerequisites"} <= HANDLER_MODULES
    assert handler_imports(TAP_DIR, HANDLER_MODULES) == {}


# --- the walker itself, on packages made for the purpose ----------------------------------------


def make_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, source in files.items():
        (package / f"{name}.py").write_text(textwrap.dedent(source))
    return package


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("import pkg.b", id="import a submodule"),
        pytest.param("from pkg import b", id="from the package import a module"),
        pytest.param("from pkg.b import thing", id="from a module import a name"),
        pytest.param("from . import b", id="relative: a sibling module"),
        pytest.param("from .b import thing", id="relative: a name of a sibling"),
        pytest.param("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import thing", id="under TYPE_CHECKING"),
        pytest.param("def later():\n    from pkg import b", id="inside a function"),
    ],
)
def test_given_any_form_of_import_then_the_walker_sees_the_edge_and_the_cycle_it_closes(tmp_path, statement) -> None:
    """GIVEN b imports a WHEN a imports b in any form THEN a -> b -> a is a cycle."""
    package = make_package(tmp_path, {"a": statement + "\n", "b": "from pkg import a\n"})
    graph = graph_of(package)
    assert graph["pkg.a"] == {"pkg", "pkg.b"}
    cycle = import_cycle(graph)
    assert cycle is not None and set(cycle) == {"pkg.a", "pkg.b"} and cycle[0] == cycle[-1]


def test_given_imports_in_one_direction_only_then_there_is_no_cycle(tmp_path) -> None:
    package = make_package(tmp_path, {"a": "from pkg import b\nimport json\n", "b": "from pkg import c\n", "c": "import os\n"})
    graph = graph_of(package)
    assert graph["pkg.a"] == {"pkg", "pkg.b"} and graph["pkg.c"] == set()
    assert import_cycle(graph) is None


@pytest.mark.parametrize(
    ("source", "found"),
    [
        pytest.param("import gate\n", {"gate"}, id="import gate"),
        pytest.param("from validator import handler\n", {"validator"}, id="from validator import"),
        pytest.param("def f():\n    import migrate\n", {"migrate"}, id="lazily, inside a function"),
        pytest.param("from pkg import gate\n", set(), id="a package module of the same name is not the handler"),
    ],
)
def test_given_a_package_module_that_imports_a_handler_module_then_it_is_named(tmp_path, source, found) -> None:
    package = make_package(tmp_path, {"a": source, "gate": ""})
    expected = {"pkg.a": found} if found else {}
    assert handler_imports(package, frozenset({"gate", "validator", "migrate"})) == expected
