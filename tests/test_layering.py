"""The engine is usable without Textual: importing it must not pull Textual in."""

import subprocess
import sys

ENGINE_MODULES = [
    "logomesh_tui", "logomesh_tui.pool.engine", "logomesh_tui.pool.worker", "logomesh_tui.catalog",
    "logomesh_tui.conversation", "logomesh_tui.sessions", "logomesh_tui.export",
    "logomesh_tui.commands", "logomesh_tui.codepipe",
]


def test_engine_imports_nothing_from_textual():
    code = ("import importlib, sys\n"
            f"for m in {ENGINE_MODULES!r}: importlib.import_module(m)\n"
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"engine imported {out.stdout.strip()}"
