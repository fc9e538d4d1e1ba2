"""The shape of the house, checked on every run: who may import whom, no circles, no huge modules.

The import graph is read from the source with :mod:`ast` (nothing is imported), over every non-test
module of the project's packages. Both top-level imports and imports inside functions count: an
import hidden in a function is still a dependency, and usually the sign of a circle.

Choices, so a reader knows what a green run proves:

- Imports under ``if TYPE_CHECKING:`` exist only for annotations (every module has
  ``from __future__ import annotations``), so they never run. They are left out of the circle check,
  where they are harmless, but they count for the layering rules: an annotation naming a class of an
  app above is still knowledge of that app.
- ``migrations/`` are generated, frozen history: left out of the graph and of the size limit.
- ``tests/`` packages are left out: tests may import anything.
- ``import a.b.c`` and ``from a.b import c`` resolve to the deepest project module they name
  (``a.b.c`` if that is a module, else ``a.b``), relative imports from the importing module's package.

The layers, bottom to top: portal's base modules (policy, middleware, decorators, ...), the
``ledger`` leaf, ``breakglass``, ``audits``, ``api`` (the REST API over both); portal's wiring (settings,
urls, celery, wsgi, ...) sits on top and may import every app.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "breakglass", "audits", "ledger", "api")
APPS = ("ledger", "breakglass", "audits", "api")
# Project wiring in portal/: it assembles the apps, so it is the one place in portal allowed to name them.
# ``home`` is the home page, which puts each app's sections for a person's roles together.
PORTAL_WIRING = {"urls", "settings", "celery", "wsgi", "asgi", "apps", "manage", "home"}
MAX_LINES = 600
# (importing package, imported package, why it is forbidden)
FORBIDDEN = [
    ("breakglass", "audits", "breakglass must not know audits: audits reads breakglass, not the reverse"),
    ("ledger", "breakglass", "the ledger is a leaf every app may use; it must not know the apps"),
    ("ledger", "audits", "the ledger is a leaf every app may use; it must not know the apps"),
    ("ledger", "api", "the ledger is a leaf every app may use; it must not know the apps"),
    (
        "breakglass",
        "api",
        "the API sits on top of the apps: it reads and writes through them, not the reverse",
    ),
    ("audits", "api", "the API sits on top of the apps: it reads and writes through them, not the reverse"),
]

TOP, FUNCTION, TYPE_CHECKING_ONLY = "top-level", "function-level", "TYPE_CHECKING"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    kind: str  # TOP, FUNCTION or TYPE_CHECKING_ONLY

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} (line {self.line}, {self.kind})"


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name -> file, for every non-test, non-migration module of ``packages`` under ``root``."""
    modules: dict[str, Path] = {}
    for package in packages:
        base = root / package
        if not (base / "__init__.py").exists():
            continue
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "tests" in parts or "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _deepest_module(dotted: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``dotted`` that is a project module (None for third-party imports)."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules: dict[str, Path]) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.modules = modules
        self.edges: list[Edge] = []
        self._function_depth = 0
        self._type_checking_depth = 0

    def _kind(self) -> str:
        if self._type_checking_depth:
            return TYPE_CHECKING_ONLY
        return FUNCTION if self._function_depth else TOP

    def _add(self, dotted: str, line: int) -> None:
        target = _deepest_module(dotted, self.modules)
        if target is not None and target != self.module:
            self.edges.append(Edge(self.module, target, line, self._kind()))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function_depth += 1
        self.generic_visit(node)
        self._function_depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._type_checking_depth += 1
        for statement in node.body:
            self.visit(statement)
        self._type_checking_depth -= 1
        for statement in node.orelse:  # the else branch runs
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            anchor = self.package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, node.module] if node.module else anchor)
        else:
            base = node.module or ""
        for alias in node.names:
            # ``from pkg import module`` depends on the submodule; ``from module import name`` on the module.
            submodule = f"{base}.{alias.name}"
            self._add(submodule if submodule in self.modules else base, node.lineno)


def import_graph(root: Path, packages: Iterable[str]) -> tuple[dict[str, Path], list[Edge]]:
    """Every project module and every import edge between them."""
    modules = module_files(root, packages)
    edges: list[Edge] = []
    for name, path in modules.items():
        collector = _ImportCollector(name, path.name == "__init__.py", modules)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        edges.extend(collector.edges)
    return modules, edges


@dataclass(frozen=True)
class Circle:
    """A group of modules that import each other (directly or not), and one shortest circle through it."""

    members: tuple[str, ...]
    path: tuple[Edge, ...]

    def __str__(self) -> str:
        lines = [" -> ".join([self.path[0].source, *(edge.target for edge in self.path)])]
        lines += [f"    {edge}" for edge in self.path]
        others = sorted(set(self.members) - {edge.source for edge in self.path})
        if others:
            lines.append(f"    tied into the same knot: {', '.join(others)}")
        return "\n".join(lines)


def find_cycles(edges: Iterable[Edge]) -> list[Circle]:
    """One shortest circle per strongly connected group of modules (Tarjan, then a BFS inside the group)."""
    graph: dict[str, list[Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, []).append(edge)
        graph.setdefault(edge.target, [])

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:
        # Recursion depth is bounded by the number of modules (a few hundred).
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in graph[node]:
            if edge.target not in index:
                connect(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in on_stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)

    circles = [
        Circle(tuple(sorted(group)), tuple(_shortest_cycle(min(group), group, graph))) for group in groups
    ]
    return sorted(circles, key=lambda circle: circle.members)


def _shortest_cycle(start: str, group: set[str], graph: dict[str, list[Edge]]) -> list[Edge]:
    came_by: dict[str, Edge] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for edge in sorted(graph[node], key=lambda e: (e.target, e.line)):
            if edge.target not in group:
                continue
            if edge.target == start:
                path = [edge]
                while path[0].source != start:
                    path.insert(0, came_by[path[0].source])
                return path
            if edge.target not in came_by:
                came_by[edge.target] = edge
                queue.append(edge.target)
    raise AssertionError(f"{start} is in a strongly connected group but on no circle")  # pragma: no cover


def _package(module: str) -> str:
    return module.partition(".")[0]


def _is_portal_base(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "portal" and not (len(parts) > 1 and parts[1] in PORTAL_WIRING)


def layering_violations(edges: Iterable[Edge]) -> list[str]:
    problems = []
    for edge in edges:
        source, target = _package(edge.source), _package(edge.target)
        for importer, imported, why in FORBIDDEN:
            if source == importer and target == imported:
                problems.append(f"{edge}: {why}")
        if _is_portal_base(edge.source) and target in APPS:
            problems.append(
                f"{edge}: portal's base modules sit below every app; only portal's wiring "
                f"({', '.join(sorted(PORTAL_WIRING))}) may import an app"
            )
    return problems


def oversized_modules(modules: dict[str, Path], limit: int = MAX_LINES) -> list[str]:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules.items()}
    return [
        f"{modules[name].relative_to(ROOT)}: {lines} lines"
        for name, lines in sorted(sizes.items())
        if lines > limit
    ]


def _runtime(edges: Iterable[Edge]) -> Iterator[Edge]:
    return (edge for edge in edges if edge.kind != TYPE_CHECKING_ONLY)


# --- the project ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project() -> tuple[dict[str, Path], list[Edge]]:
    return import_graph(ROOT, PACKAGES)


def test_no_module_imports_in_a_circle(project: tuple[dict[str, Path], list[Edge]]) -> None:
    cycles = find_cycles(_runtime(project[1]))
    assert not cycles, (
        f"{len(cycles)} import circle(s) (top-level and function-level imports):\n"
        + "\n".join(map(str, cycles))
    )


def test_no_module_imports_upwards(project: tuple[dict[str, Path], list[Edge]]) -> None:
    problems = layering_violations(project[1])
    assert not problems, f"{len(problems)} import(s) against the layers:\n" + "\n".join(problems)


def test_no_module_is_over_the_size_limit(project: tuple[dict[str, Path], list[Edge]]) -> None:
    problems = oversized_modules(project[0])
    assert not problems, f"modules over {MAX_LINES} lines (split them by job):\n" + "\n".join(problems)


def test_the_graph_sees_every_package_of_the_project(project: tuple[dict[str, Path], list[Edge]]) -> None:
    modules, edges = project
    for package in ("portal", "breakglass", "audits", "api"):
        assert package in modules
    assert any(edge.source.startswith("breakglass.") for edge in edges)


# --- the graph code itself, on a synthetic package ---------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_circle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/orders.py": "from shop import billing\n",
            "shop/billing.py": "def charge():\n    from .mail import send\n    return send\n",
            "shop/mail.py": "import shop.orders\nimport os\n",
            "shop/tests/test_x.py": "from shop import orders\nfrom shop import mail\n",
        },
    )
    modules, edges = import_graph(tmp_path, ["shop", "absent"])

    assert set(modules) == {"shop", "shop.orders", "shop.billing", "shop.mail"}
    assert Edge("shop.billing", "shop.mail", 2, FUNCTION) in edges
    cycles = find_cycles(edges)
    assert len(cycles) == 1
    assert str(cycles[0]).splitlines()[0] == "shop.billing -> shop.mail -> shop.orders -> shop.billing"


def test_type_checking_imports_count_for_layers_but_not_for_circles(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "breakglass/__init__.py": "",
            "breakglass/models.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from audits.models import Finding\n"
                "else:\n    import breakglass.views\n"
            ),
            "breakglass/views.py": "from . import models\n",
            "audits/__init__.py": "",
            "audits/models.py": "from breakglass.models import *\n",
        },
    )
    _, edges = import_graph(tmp_path, ["breakglass", "audits"])

    assert Edge("breakglass.models", "audits.models", 3, TYPE_CHECKING_ONLY) in edges
    assert [str(c).splitlines()[0] for c in find_cycles(_runtime(edges))] == [
        "breakglass.models -> breakglass.views -> breakglass.models"
    ]
    assert layering_violations(edges) == [
        "breakglass.models -> audits.models (line 3, TYPE_CHECKING): "
        "breakglass must not know audits: audits reads breakglass, not the reverse"
    ]


def test_portal_wiring_may_import_apps_but_its_base_may_not() -> None:
    edges = [
        Edge("portal.urls", "breakglass.views", 1, TOP),
        Edge("portal.policy", "breakglass.models", 9, FUNCTION),
        Edge("portal.middleware", "ledger.models", 3, TOP),
        Edge("ledger.services", "portal.middleware", 4, TOP),
        Edge("audits.reconcile", "breakglass.models", 5, TOP),
    ]
    assert [problem.split(":")[0] for problem in layering_violations(edges)] == [
        "portal.policy -> breakglass.models (line 9, function-level)",
        "portal.middleware -> ledger.models (line 3, top-level)",
    ]
