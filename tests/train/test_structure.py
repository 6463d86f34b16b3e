"""The shape of the training code (STYLE.md principles 4 and 16): Algorithm 1 is the first thing
loop.py shows, in a function that fits on a screen, and no function in saddlepoint/train is
one you must scroll."""

from __future__ import annotations

import ast
from pathlib import Path

from saddlepoint.train import loop

TRAIN = Path(loop.__file__).parent  # saddlepoint/train
LONGEST = 120  # lines, decorators and docstring included
ITERATION_LONGEST = 40


def _functions(path: Path) -> list[tuple[str, int]]:
    """(name, length in lines) of every function and method in a file, in file order."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found.append((node.lineno, node.name, node.end_lineno - start + 1))
    return [(name, length) for _, name, length in sorted(found)]


def test_no_function_in_train_is_longer_than_a_screen():
    long = {
        f"{path.name}:{name}": length
        for path in sorted(TRAIN.glob("*.py"))
        for name, length in _functions(path)
        if length > LONGEST
    }
    assert long == {}


def test_the_iteration_is_the_first_function_in_loop_and_short():
    tree = ast.parse((TRAIN / "loop.py").read_text(encoding="utf-8"))
    first = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))
    assert first.name == "iteration"
    assert first.end_lineno - first.lineno + 1 <= ITERATION_LONGEST
