"""No import circles in the package (STYLE.md principle 16: dependencies point one way).

The graph has an edge A -> B when module A imports B anywhere in its text, at the top or
inside a function: a function-level import that only dodges a circle is a circle all the same.
Importing a.b.c also runs the packages a and a.b (their __init__), so it is an edge to each of
them too, except to A's own packages (Python runs those before A). `from a import name`, where
`name` is defined in a's __init__ rather than being a submodule, is an edge to a even from
inside a: that is how a submodule ends up needing the package that imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import saddlepoint

ROOT = Path(saddlepoint.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = ["saddlepoint", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _packages(name: str) -> set[str]:
    """The packages that contain module `name`: a.b.c -> {a, a.b}."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that module `name` (at `path`) imports, as graph edges."""
    edges = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [(a.name, True) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..a import b
                here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join(here + ([node.module] if node.module else []))
            targets = []
            for a in node.names:
                sub = f"{base}.{a.name}"
                # a submodule needs only its package started; a name needs its __init__ run
                targets.append((sub, True) if sub in modules else (base, False))
        else:
            continue
        for target, submodule in targets:
            for module in {target} | _packages(target):
                if module not in modules or module == name:
                    continue
                if module in _packages(name):  # A's own package: started before A runs ...
                    if module == target and not submodule:  # ... but a name from its __init__
                        edges.add(module)
                    continue
                edges.add(module)
    return edges


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_the_package_has_no_import_circle():
    assert _cycles(_graph()) == []


def test_the_detector_finds_a_circle_and_a_function_level_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    modules = _modules()
    # a lazy import inside a function is an edge like any other
    lazy = ROOT / "train" / "evaluation.py"
    assert "saddlepoint.evaluate.metrics" in _imports("saddlepoint.train.evaluation", lazy, modules)


def test_reading_runs_needs_neither_training_nor_evaluation():
    """saddlepoint.runs is what both sides use to load run folders, so it reaches neither."""
    graph = _graph()
    reached, todo = set(), ["saddlepoint.runs"]
    while todo:
        for module in graph[todo.pop()] - reached:
            reached.add(module)
            todo.append(module)
    assert not {m for m in reached if m.startswith(("saddlepoint.train", "saddlepoint.evaluate"))}
