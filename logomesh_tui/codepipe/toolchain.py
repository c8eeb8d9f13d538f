"""The TypeScript toolchain the pipeline verifies with: installed by the project, never globally.

``ensure_tsc()`` runs ``npm install --prefix DIR`` with pinned versions of ``typescript``,
``@types/react`` and ``@types/node`` into the project's own folder (``LOGOMESH_TS_DIR``, else the
user cache dir ``.../logomesh-tui/ts``) and returns a :class:`Toolchain`. Running this module
(``python -m logomesh_tui.codepipe.toolchain``) installs it and prints where it is; CI and the
test set-up do exactly that.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir

from ..errors import LogoMeshError

# Pinned so a diagnostic seen today is the diagnostic seen in CI tomorrow. TypeScript 7 is the
# native (Go) compiler: ~0.3 s to check a 500-line component, which makes a compile loop cheap.
TOOLCHAIN_PACKAGES: dict[str, str] = {
    "typescript": "7.0.2",
    "@types/react": "19.3.0",
    "@types/node": "26.6.6",
}
# The behaviour and lint checks (evidence engine, refactor harness) live in a folder of their own:
# typescript-eslint needs the JavaScript compiler API, which TypeScript 7 (native) does not ship,
# so the checks folder carries TypeScript 5.9 for the linter while tsc stays 7. jsdom 27 is the
# newest that runs on Node.js 20.
CHECK_PACKAGES: dict[str, str] = {
    "eslint": "9.39.5",
    "typescript-eslint": "8.74.0",
    "eslint-plugin-react-hooks": "7.1.1",
    "typescript": "5.9.3",
    "jsdom": "27.4.0",
    "react": "19.3.1",
    "react-dom": "19.3.1",
    "@types/react": "19.3.0",
    "@types/react-dom": "19.3.0",
}
INSTALL_TIMEOUT_S = 300


class ToolchainError(LogoMeshError):
    """node, npm or tsc is missing or could not be installed."""


@dataclass(frozen=True)
class Toolchain:
    """Where the project's TypeScript compiler lives."""

    root: Path
    node: str
    tsc: Path
    version: str

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"


@dataclass(frozen=True)
class CheckToolchain:
    """Where the lint and behaviour-check packages live (eslint, jsdom, react)."""

    root: Path
    node: str

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    @property
    def eslint(self) -> Path:
        return self.node_modules / "eslint" / "bin" / "eslint.js"


def default_toolchain_dir() -> Path:
    env = os.environ.get("LOGOMESH_TS_DIR")
    return Path(env) if env else Path(user_cache_dir("logomesh-tui")) / "ts"


def find_node() -> str:
    node = shutil.which("node")
    if node is None:
        raise ToolchainError(
            "node is not installed or not on PATH: install Node.js >= 18 (e.g. `apt-get install nodejs npm`)")
    return node


def find_npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise ToolchainError(
            "npm is not installed or not on PATH: install it (e.g. `apt-get install npm`) so the "
            "TypeScript compiler can be installed")
    return npm


def _installed_version(root: Path, package: str) -> str | None:
    try:
        data = json.loads((root / "node_modules" / package / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return data.get("version")


def _complete(root: Path) -> bool:
    if not (root / "node_modules" / ".bin" / "tsc").exists():
        return False
    return all(_installed_version(root, p) == v for p, v in TOOLCHAIN_PACKAGES.items())


def _checks_complete(root: Path) -> bool:
    return all(_installed_version(root, p) == v for p, v in CHECK_PACKAGES.items())


@contextlib.contextmanager
def _install_lock(root: Path):
    # Two test processes (or the CLI and a test) may install at once; npm into one folder from
    # two processes corrupts it, so serialize on a lock file next to it.
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".install.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_tsc(root: Path | str | None = None, *, install: bool = True) -> Toolchain:
    """Return the project's TypeScript toolchain, installing it with npm first if needed.

    Raises :class:`ToolchainError` with a one-line message when node/npm are missing, the install
    fails, or ``install`` is False and the compiler is not there.
    """
    root = Path(root) if root is not None else default_toolchain_dir()
    node = find_node()
    if not _complete(root):
        if not install:
            raise ToolchainError(
                f"the TypeScript compiler is not installed in {root}: run "
                "`python -m logomesh_tui.codepipe.toolchain`")
        npm = find_npm()
        with _install_lock(root):
            if not _complete(root):
                _npm_install(npm, root)
    tsc = root / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        raise ToolchainError(f"npm finished but {tsc} is missing: delete {root} and run again")
    return Toolchain(root=root, node=node, tsc=_native_tsc(root) or tsc,
                     version=_installed_version(root, "typescript") or "unknown")


def ensure_checks(root: Path | str | None = None, *, install: bool = True) -> CheckToolchain:
    """Return the lint/behaviour-check packages (``<toolchain dir>/checks``), installing them
    with npm first if needed. Raises :class:`ToolchainError` with a one-line message otherwise."""
    root = Path(root) if root is not None else default_toolchain_dir() / "checks"
    node = find_node()
    if not _checks_complete(root):
        if not install:
            raise ToolchainError(
                f"the lint and behaviour-check packages are not installed in {root}: run "
                "`python -m logomesh_tui.codepipe.toolchain`")
        npm = find_npm()
        with _install_lock(root):
            if not _checks_complete(root):
                _npm_install(npm, root, CHECK_PACKAGES, "logomesh-tui-checks")
    return CheckToolchain(root=root, node=node)


def _native_tsc(root: Path) -> Path | None:
    """TypeScript 7's platform binary: the ``.bin/tsc`` launcher is a node script that only
    execs it, and skipping node saves ~0.1 s per check in the compile loops."""
    for exe in sorted((root / "node_modules" / "@typescript").glob("typescript-*/lib/tsc")):
        if exe.is_file() and os.access(exe, os.X_OK) and sys.platform in exe.parent.parent.name:
            return exe
    return None


def _npm_install(npm: str, root: Path, packages: dict[str, str] | None = None,
                 name: str = "logomesh-tui-ts") -> None:
    packages = TOOLCHAIN_PACKAGES if packages is None else packages
    # A package.json of our own keeps npm from walking up and installing into a parent project.
    (root / "package.json").write_text(json.dumps(
        {"name": name, "private": True, "dependencies": packages}, indent=2))
    cmd = [npm, "install", "--prefix", str(root), "--no-audit", "--no-fund", "--loglevel=error",
           *[f"{p}@{v}" for p, v in packages.items()]]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(
            f"npm install into {root} took over {INSTALL_TIMEOUT_S} s: check "
            "access to the npm registry") from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise ToolchainError(
            f"npm install into {root} failed ({last[0]}): check "
            "access to the npm registry")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m logomesh_tui.codepipe.toolchain",
        description="Install the project's TypeScript compiler (tsc + React/Node types) and the "
                    "lint/behaviour-check packages (eslint, typescript-eslint, jsdom, react) with npm.")
    parser.add_argument("--dir", help="install folder (default: $LOGOMESH_TS_DIR or the user cache)")
    parser.add_argument("--check", action="store_true", help="only check; do not install")
    args = parser.parse_args(argv)
    try:
        tc = ensure_tsc(args.dir, install=not args.check)
        checks = ensure_checks(Path(args.dir) / "checks" if args.dir else None,
                               install=not args.check)
    except ToolchainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"TypeScript {tc.version}: {tc.tsc}")
    print(f"lint and behaviour checks (eslint, jsdom, react): {checks.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
