"""The house's floors, enforced: no import circles and no import that climbs to a higher floor.

Floors, bottom to top (README, Development):
  0. ground floor ``rig2sketch/`` (skeleton, atomic writes, registry, seeding, drawing, paths,
     progress, versions)
  1. ``shards/`` (the shard contract)
  2. stage libraries ``renderers/``, ``stylizers/``, ``evaluation/`` (never each other)
  3. ``flows/`` (Prefect orchestration)
  4. the edge: ``app/`` (command line and command wiring), ``benchmarks/``, ``scripts/``

Blender is one wing of ``renderers/``: only modules of ``renderers.blender`` import ``bpy``,
``mathutils`` or ``bpy_extras``, name ``bpy`` or call ``import_bpy``; tests and benchmarks
reach Blender only through the wing's functions (``import_bpy``, ``import_mathutils``...).

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
    assert "renderers.selection" in graph["renderers.blender.keying"]  # under TYPE_CHECKING
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


BLENDER_MODULES = ("bpy", "mathutils", "bpy_extras")
WING = "renderers.blender"
WING_ENTRIES = {"import_bpy", "import_mathutils"}


def blender_touches(path: Path) -> list[str]:
    """``line: what`` for each place the file touches Blender directly: an import (or
    ``importlib.import_module``) of bpy/mathutils/bpy_extras, the name ``bpy`` (a variable or
    parameter holding the module), or a call of the wing's guarded importers."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            names = [str(node.args[0].value)]
        if any(n.split(".")[0] in BLENDER_MODULES for n in names):
            found.append(f"{node.lineno}: imports {', '.join(names)}")
        elif isinstance(node, ast.Name) and node.id == "bpy" or isinstance(node, ast.arg) and node.arg == "bpy":
            found.append(f"{node.lineno}: bpy")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in WING_ENTRIES:
            found.append(f"{node.lineno}: calls {getattr(node.func, 'id', getattr(node.func, 'attr', ''))}")
    return found


def test_only_the_blender_wing_touches_blender():
    outside = {}
    for module, path in project_modules(REPO_ROOT).items():
        if module.split(".")[0] != "benchmarks" and module != WING and not module.startswith(WING + "."):
            touches = blender_touches(path)
            if touches:
                outside[module] = touches
    assert outside == {}
    # The wing itself is found (so an empty walk cannot pass).
    assert blender_touches(REPO_ROOT / "renderers" / "blender" / "__init__.py")
    assert blender_touches(REPO_ROOT / "renderers" / "blender" / "passes.py")


def test_tests_and_benchmarks_reach_blender_through_the_wing():
    direct = {}
    for folder in ("tests", "benchmarks"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            imports = [t for t in blender_touches(path) if ": imports " in t]
            if imports:
                direct[str(path.relative_to(REPO_ROOT))] = imports
    assert direct == {}


def test_the_wing_check_catches_each_way_in(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import bpy\nfrom mathutils import Matrix\nimport importlib\n"
                    "importlib.import_module('bpy_extras.object_utils')\n"
                    "def f(bpy, scene):\n    return import_bpy()\n")
    assert blender_touches(path) == [
        "1: imports bpy", "2: imports mathutils", "4: imports bpy_extras.object_utils", "5: bpy", "6: calls import_bpy",
    ]
