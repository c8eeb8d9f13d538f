"""Size limits for the package's code: a class over 450 lines or a function over 90 lines is
too big to read in one go and should be split.

Counted from the ``def``/``class`` line (decorators included) to the last line of its body,
docstrings and comments inside it included. Nested functions and methods are checked too.
Run alone (``python tests/test_sizes.py``) it prints every offender.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "logomesh_tui"
MAX_CLASS_LINES = 450
MAX_FUNCTION_LINES = 90


def _length(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return (node.end_lineno or node.lineno) - first + 1


def offenders(root: Path = PACKAGE) -> list[str]:
    """One line per class or function over its limit: ``path:line kind name: N lines (max M)``."""
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(root.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                kind, limit = "class", MAX_CLASS_LINES
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                kind, limit = "function", MAX_FUNCTION_LINES
            else:
                continue
            n = _length(node)
            if n > limit:
                out.append(f"{rel}:{node.lineno} {kind} {node.name}: {n} lines (max {limit})")
    return sorted(out)


def test_no_class_or_function_is_over_its_size_limit():
    found = offenders()
    assert not found, (f"{len(found)} over the size limits (split them):\n  "
                       + "\n  ".join(found))


def test_the_limits_are_counted_from_the_first_decorator_to_the_last_body_line(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 2))
    (pkg / "a.py").write_text(f"@dec\ndef fits():\n{body}\n\n\ndef over():\n{body}\n    y = 1\n"
                              "    z = 2\n")
    assert offenders(pkg) == [f"pkg/a.py:{MAX_FUNCTION_LINES + 3} function over: "
                              f"{MAX_FUNCTION_LINES + 1} lines (max {MAX_FUNCTION_LINES})"]


if __name__ == "__main__":
    found = offenders()
    print("\n".join(found) or "no class or function over the size limits")
    sys.exit(1 if found else 0)
