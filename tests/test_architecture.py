"""The house rules the code can check itself: no import cycle, no oversized module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "actors")
MAX_LINES = 650
#: modules over the limit, each waiting for its split (the test fails once they grow further)
WAITING_FOR_A_SPLIT: dict[str, int] = {}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for file in (ROOT / package).rglob("*.py"):
            parts = list(file.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = file
    return found


def imports_of(name: str, file: Path, known: dict[str, Path]) -> set[str]:
    """Project modules `name` imports anywhere (functions too), except under TYPE_CHECKING."""
    tree = ast.parse(file.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names)
    resolved = set()
    for target in targets:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, file, known) for name, file in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_checker_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_imports() -> None:
    graph = import_graph()
    # sim.cli imports its stages inside the commands; those edges still count
    assert "sim.batch.runner" in graph["sim.cli"]
    assert "sim.scenario.config" in graph["sim.scenario.consistency"]


def test_no_import_cycle_among_project_modules() -> None:
    assert cycles(import_graph()) == []


def test_the_scenario_stage_imports_no_later_stage() -> None:
    later = ("sim.engine", "sim.batch", "sim.analysis", "sim.output", "sim.classroom", "actors")
    graph = import_graph()
    allowed = {
        "sim.scenario.consistency",  # a plugin: registers the engine's checks with the stage
        "sim.scenario.distributions",  # draws with the engine's random streams (to move there)
    }
    for name, targets in graph.items():
        if name.startswith("sim.scenario") and name not in allowed:
            assert not [t for t in targets if t.startswith(later)], name


def test_analysis_never_imports_output() -> None:
    for name, targets in import_graph().items():
        if name.startswith("sim.analysis"):
            assert not [t for t in targets if t.startswith("sim.output")], name


def test_no_module_is_over_the_size_limit() -> None:
    sizes = {name: len(file.read_text().splitlines()) for name, file in modules().items()}
    too_big = {
        name: lines
        for name, lines in sizes.items()
        if lines > WAITING_FOR_A_SPLIT.get(name, MAX_LINES)
    }
    assert not too_big
