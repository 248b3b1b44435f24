"""The house's floors, enforced: no import circles and no import that climbs to a higher floor.

Floors, bottom to top (README, Development):
  0. ground floor ``rig2sketch/`` (skeleton, atomic writes, registry, seeding, drawing, paths,
     progress, versions)
  1. ``shards/`` (the shard contract)
  2. stage libraries ``renderers/``, ``stylizers/``, ``evaluation/`` (never each other)
  3. ``flows/`` (Prefect orchestration)
  4. the edge: ``app/`` (command line and command wiring), ``benchmarks/``, ``scripts/``

A module may import its own package and anything on a lower floor; two packages on one floor
do not import each other. Every import counts: module level, inside functions, and under
``TYPE_CHECKING``. Importing ``a.b.c`` counts as an edge to ``a.b.c`` only, not to the packages
``a`` and ``a.b`` Python initialises on the way (a package ``__init__`` that imports its members
is fine as long as the members do not import the ``__init__`` back).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rig2sketch.paths import REPO_ROOT

FLOORS: tuple[tuple[str, ...], ...] = (
    ("rig2sketch",),
    ("shards",),
    ("renderers", "stylizers", "evaluation"),
    ("flows",),
    ("app", "benchmarks", "scripts"),
)
# (importing package, imported package) pairs allowed against the floors, each with its reason.
# None today: keep it that way, or write the reason next to the pair.
EXCEPTIONS: dict[tuple[str, str], str] = {}

FLOOR_OF = {package: level for level, packages in enumerate(FLOORS) for package in packages}


def project_modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file for every ``.py`` file of the floor packages under ``root``."""
    modules = {}
    for package in FLOOR_OF:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is a project module (None for third-party names)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules ``module`` imports anywhere in its file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            # ``from pkg import name``: the submodule pkg.name when there is one, else pkg itself.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        found |= {t for t in (_resolve(name, modules) for name in targets) if t and t != module}
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {module: imports_of(module, path, modules) for module, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def climbing_imports(graph: dict[str, set[str]]) -> list[str]:
    """``a -> b`` for each import from a lower floor to a higher one, or between two packages
    of one floor, that :data:`EXCEPTIONS` does not allow."""
    out = []
    for module, targets in sorted(graph.items()):
        package = module.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if other == package or (package, other) in EXCEPTIONS:
                continue
            if FLOOR_OF[other] >= FLOOR_OF[package]:
                out.append(f"{module} (floor {FLOOR_OF[package]}) -> {target} (floor {FLOOR_OF[other]})")
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(REPO_ROOT)


def test_the_walk_sees_every_kind_of_import(graph):
    # Module level, function level, ``from pkg import module`` and TYPE_CHECKING
    # imports all become edges (so an empty graph cannot pass the two tests below).
    assert len(graph) > 80
    assert "renderers.job" in graph["flows.render"]  # module level
    assert "flows.run_card" in graph["flows.pipeline"]  # inside a task function
    assert "renderers.selection" in graph["renderers.motions.apply"]  # under TYPE_CHECKING
    assert "renderers.motions.rotations" in graph["renderers.motions.clip"]  # from pkg import module


def test_no_import_circles(graph):
    assert circles(graph) == []


def test_no_import_climbs_a_floor(graph):
    assert climbing_imports(graph) == []


def test_every_project_package_has_a_floor():
    packages = {p.parent.name for p in REPO_ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages <= set(FLOOR_OF), f"give {sorted(packages - set(FLOOR_OF))} a floor in FLOORS"


def test_the_checks_catch_a_circle_and_a_climb(tmp_path):
    files = {
        "rig2sketch/a.py": "from flows import run\n",  # the ground floor reaching up
        "shards/a.py": "def f():\n    from renderers import a\n",  # a lazy climb
        "renderers/a.py": "from renderers import b\nfrom stylizers import x\n",  # a sibling stage
        "renderers/b.py": "from . import a\n",  # the circle's way back, relative
        "stylizers/x.py": "",
        "flows/run.py": "",
    }
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(body)
    found = import_graph(tmp_path)
    assert circles(found) == [["renderers.a", "renderers.b"]]
    assert climbing_imports(found) == [
        "renderers.a (floor 2) -> stylizers.x (floor 2)",
        "rig2sketch.a (floor 0) -> flows.run (floor 3)",
        "shards.a (floor 1) -> renderers.a (floor 2)",
    ]
