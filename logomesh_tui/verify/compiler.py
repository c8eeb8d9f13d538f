"""Type-check TypeScript sources with the real compiler and parse its diagnostics.

Sources are written to a scratch folder whose ``node_modules`` is a link to the toolchain's, so
``import ... from "react"`` resolves to the pinned ``@types/react`` wherever the user's files live.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel, Field

from .toolchain import Toolchain, ToolchainError

# `file(line,col): error TS2322: message` ; continuation lines are indented.
_DIAG_RE = re.compile(r"^(?P<file>.+?)\((?P<line>\d+),(?P<col>\d+)\): (?P<cat>error|warning) "
                      r"TS(?P<code>\d+): (?P<msg>.*)$")
_GLOBAL_DIAG_RE = re.compile(r"^(?P<cat>error|warning) TS(?P<code>\d+): (?P<msg>.*)$")

TSC_TIMEOUT_S = 120

# What the pipeline checks a refactor with: strict, React's automatic JSX runtime, no output.
DEFAULT_COMPILER_OPTIONS: dict = {
    "strict": True,
    "noEmit": True,
    "jsx": "react-jsx",
    "target": "es2022",
    "module": "esnext",
    "moduleResolution": "bundler",
    "moduleDetection": "force",
    "skipLibCheck": True,
    "types": ["node"],
    "lib": ["es2022", "dom", "dom.iterable"],
}


class Diagnostic(BaseModel):
    """One compiler message."""

    file: str = ""
    line: int = 0
    col: int = 0
    code: int
    message: str
    category: str = "error"

    def render(self) -> str:
        where = f"{self.file}({self.line},{self.col}): " if self.file else ""
        return f"{where}{self.category} TS{self.code}: {self.message}"

    def key(self) -> tuple[str, int, str]:
        """Identity without position, to compare diagnostics across edits that move lines."""
        return (self.file, self.code, self.message)


class CompileResult(BaseModel):
    ok: bool
    diagnostics: list[Diagnostic] = Field(default_factory=list)
    seconds: float = 0.0
    command: str = ""

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.category == "error"]

    def summary(self, limit: int = 12) -> str:
        lines = [d.render() for d in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"... and {len(self.errors) - limit} more errors")
        return "\n".join(lines)


def parse_diagnostics(output: str, strip_prefix: str = "") -> list[Diagnostic]:
    """Parse ``tsc --pretty false`` output; continuation lines join the message before them."""
    diags: list[Diagnostic] = []
    for raw in output.splitlines():
        line = raw.rstrip()
        if not line:
            continue
        m = _DIAG_RE.match(line)
        if m:
            file = m["file"].replace("\\", "/")
            if strip_prefix and file.startswith(strip_prefix):
                file = file[len(strip_prefix):]
            diags.append(Diagnostic(file=file, line=int(m["line"]), col=int(m["col"]),
                                    code=int(m["code"]), message=m["msg"], category=m["cat"]))
            continue
        g = _GLOBAL_DIAG_RE.match(line)
        if g:
            diags.append(Diagnostic(code=int(g["code"]), message=g["msg"], category=g["cat"]))
        elif diags and raw[:1].isspace():
            diags[-1].message += " " + line.strip()
    return diags


def safe_relpath(name: str) -> Path:
    """A relative path that cannot leave the folder it is joined to."""
    p = Path(name)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise ValueError(f"unsafe file name {name!r}: use a relative path inside the folder")
    return p


def run_tsc(toolchain: Toolchain, cwd: Path, args: list[str]) -> tuple[int, str, float]:
    """Run the toolchain's tsc in ``cwd``; return (exit code, stdout+stderr, seconds)."""
    toolchain.check_intact()
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([str(toolchain.tsc), "--pretty", "false", *args], cwd=cwd,
                              capture_output=True, text=True, timeout=TSC_TIMEOUT_S)
    except FileNotFoundError as exc:
        raise ToolchainError(f"tsc is missing at {toolchain.tsc}: run "
                             "`python -m logomesh_tui.verify.toolchain`") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"tsc ran over {TSC_TIMEOUT_S} s in {cwd}") from exc
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - t0


def typecheck_sources(toolchain: Toolchain, files: dict[str, str], *,
                      compiler_options: dict | None = None) -> CompileResult:
    """Type-check ``files`` (relative path -> text) together as one program with ``tsc --noEmit``.

    Diagnostics name files by the same relative paths.
    """
    options = dict(DEFAULT_COMPILER_OPTIONS)
    options.update(compiler_options or {})
    with tempfile.TemporaryDirectory(prefix="logomesh-tsc-") as tmp:
        root = Path(tmp)
        (root / "node_modules").symlink_to(toolchain.node_modules, target_is_directory=True)
        for name, text in files.items():
            dest = root / safe_relpath(name)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        (root / "tsconfig.json").write_text(json.dumps(
            {"compilerOptions": options, "files": sorted(files)}, indent=2))
        code, out, secs = run_tsc(toolchain, root, ["-p", "tsconfig.json"])
    diags = parse_diagnostics(out)
    errors = [d for d in diags if d.category == "error"]
    if code != 0 and not errors:
        # tsc failed without a parseable diagnostic (crash, bad option): never call that a pass.
        diags.append(Diagnostic(code=0, message=out.strip().splitlines()[-1] if out.strip()
                                else f"tsc exited with {code}"))
    return CompileResult(ok=code == 0 and not errors, diagnostics=diags, seconds=secs,
                         command="tsc --noEmit -p tsconfig.json (strict, jsx react-jsx)")

