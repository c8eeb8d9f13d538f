"""The engine is usable without Textual: importing it must not pull Textual in, and no engine
module imports Textual or the TUI anywhere, including inside functions (which an import at
start-up never runs). ``./check.sh`` checks the same with import-linter contracts."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "logomesh_tui"
PYPROJECT = PACKAGE.parent / "pyproject.toml"
# The front ends; everything else in the package is the engine.
FRONT_ENDS = ("tui", "cli")
FORBIDDEN = ("textual", "textual_serve", "logomesh_tui.tui")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # A package's own name is its base; a module's base is its package.
                base = module.split(".")
                drop = node.level - 1 if is_package else node.level
                base = base[:len(base) - drop] if drop else base
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            # `from pkg import mod` may import a submodule: check both names.
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def is_forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def forbidden_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """One line per forbidden import: a name under one already reported on its line is left out."""
    hits: list[str] = []
    reported: set[tuple[int, str]] = set()
    for line, name in imported_modules(source, module, is_package):
        parent = name.rpartition(".")[0]
        if is_forbidden(name) and (line, parent) not in reported:
            hits.append(f"{module}:{line} imports {name}")
            reported.add((line, name))
    return hits


def engine_files() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py"))
            if p.relative_to(PACKAGE).parts[0] not in FRONT_ENDS]


def test_engine_imports_nothing_from_textual():
    # Every engine module (a new package is included without editing this test).
    modules = sorted(module_name(p) for p in engine_files() if p.name != "__main__.py")
    assert "logomesh_tui.pool.engine" in modules
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"engine imported {out.stdout.strip()}"


def test_no_engine_module_imports_textual_or_the_tui_even_inside_functions():
    files = engine_files()
    assert PACKAGE / "pool" / "engine.py" in files and PACKAGE / "tui" / "app.py" not in files
    bad = [hit for p in files
           for hit in forbidden_imports(p.read_text(encoding="utf-8"), module_name(p),
                                        p.name == "__init__.py")]
    assert bad == []


def test_the_scan_sees_imports_inside_functions_and_relative_ones():
    source = ("import json\n"
              "def later():\n"
              "    from textual.app import App\n"
              "async def bench():\n"
              "    from ..tui import LogoMeshApp\n"
              "    from .. import tui\n"
              "    from ..tuition import x\n")
    assert forbidden_imports(source, "logomesh_tui.bench.ui") == [
        "logomesh_tui.bench.ui:3 imports textual.app",
        "logomesh_tui.bench.ui:5 imports logomesh_tui.tui",
        "logomesh_tui.bench.ui:6 imports logomesh_tui.tui",
    ]
    # In a package's __init__, one dot is the package itself.
    assert forbidden_imports("from .tui import app\n", "logomesh_tui", is_package=True) == [
        "logomesh_tui:1 imports logomesh_tui.tui"]


def top_level_modules() -> set[str]:
    """The names of the package's top-level modules and subpackages (``pool``, ``units``…)."""
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    return modules | {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}


def contracts() -> list[dict]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"][
        "contracts"]


def test_every_top_level_module_sits_in_the_layers_contract():
    [layers] = [c for c in contracts() if c["type"] == "layers"]
    named = [name.strip() for layer in layers["layers"] for name in layer.split("|")]
    assert len(named) == len(set(named)), "a module is named in two layers"
    modules = top_level_modules()
    assert {"pool", "units", "__main__"} <= modules
    assert sorted(modules - set(named)) == [], "add these to a layer in pyproject.toml"
    assert sorted(set(named) - modules) == []
    assert not layers.get("ignore_imports"), "the layers have no exceptions"


def test_the_textual_contract_names_every_engine_module():
    [forbidden] = [c for c in contracts() if c["type"] == "forbidden"]
    engine = {m for m in top_level_modules() if m not in (*FRONT_ENDS, "__main__")}
    assert {m.removeprefix("logomesh_tui.") for m in forbidden["source_modules"]} == engine


def loaded_after(statement: str) -> list[str]:
    """The package's modules a fresh interpreter has loaded after running ``statement``."""
    code = (f"{statement}\nimport sys\n"
            "print(','.join(sorted(m for m in sys.modules if m.startswith('logomesh_tui'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().split(",")


def test_importing_the_pool_loads_no_conversation_or_evidence_code():
    for statement in ("import logomesh_tui.pool", "import logomesh_tui.pool.engine"):
        loaded = loaded_after(statement)
        assert "logomesh_tui.pool" in loaded
        above = [m for m in loaded if m.split(".")[1:2] in (["conversation"], ["evidence"])]
        assert above == [], f"{statement} loaded {above}"


def test_the_evidence_program_is_registered_explicitly_not_on_import():
    code = ("from logomesh_tui.conversation.protocols import program_runner\n"
            "import logomesh_tui.evidence.program as program\n"
            "try:\n"
            "    program_runner('evidence')\n"
            "except Exception as exc:\n"
            "    print('unregistered:', exc)\n"
            "program.register_evidence_program()\n"
            "print(program_runner('evidence') is program.run_program_round)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second = out.stdout.strip().splitlines()
    assert first.startswith("unregistered:") and "register_evidence_program" in first
    assert second == "True"
