"""The TypeScript toolchain the pipeline verifies with: installed by the project, never globally.

``ensure_tsc()`` runs ``npm install --prefix DIR`` with pinned versions of ``typescript``,
``@types/react`` and ``@types/node`` into the project's own folder (``LOGOMESH_TS_DIR``, else the
user cache dir ``.../logomesh-tui/ts``) and returns a :class:`Toolchain`. Running this module
(``python -m logomesh_tui.verify.toolchain``) installs it and prints where it is; CI and the
test set-up do exactly that.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
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
# Written beside node_modules after an install: every file's size, mtime and content hash.
SEAL_NAME = ".logomesh-seal.json"


class ToolchainError(LogoMeshError):
    """node, npm or tsc is missing or could not be installed."""


@dataclass(frozen=True)
class _SealedInstall:
    """An npm install of ours (``root/node_modules``, sealed) and the node that runs it."""

    root: Path
    node: str

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    def check_intact(self) -> None:
        """Raise :class:`ToolchainError` when a file changed since the install (see
        :func:`check_seal`); called before each unconfined run of its tools (the compiler,
        the linter, whose packages the sandbox also reads)."""
        check_seal(self.root)


@dataclass(frozen=True)
class Toolchain(_SealedInstall):
    """Where the project's TypeScript compiler lives."""

    tsc: Path
    version: str


@dataclass(frozen=True)
class CheckToolchain(_SealedInstall):
    """Where the lint and behaviour-check packages live (eslint, jsdom, react)."""

    @property
    def eslint(self) -> Path:
        return self.node_modules / "eslint" / "bin" / "eslint.js"


def _walk(folder: Path) -> dict[str, os.stat_result]:
    """Every file and link under ``folder`` (links not followed), by path relative to it."""
    out: dict[str, os.stat_result] = {}
    cut = len(str(folder)) + 1
    stack = [str(folder)]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                stack.append(e.path)
            else:
                out[e.path[cut:]] = e.stat(follow_symlinks=False)
    return out


def _digest(path: Path, st: os.stat_result) -> str:
    if os.path.islink(path):
        return "link:" + os.readlink(path)
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def seal(root: Path) -> None:
    """Record every file of ``root/node_modules`` (size, mtime, content hash) in ``SEAL_NAME``."""
    nm = root / "node_modules"
    files = {rel: [st.st_size, st.st_mtime_ns, _digest(nm / rel, st)]
             for rel, st in _walk(nm).items()}
    tmp = root / (SEAL_NAME + ".tmp")
    tmp.write_text(json.dumps({"files": files}))
    tmp.replace(root / SEAL_NAME)


def check_seal(root: Path) -> None:
    """Raise :class:`ToolchainError` when a file of ``root/node_modules`` was added, removed or
    changed since :func:`seal`. Files whose size and mtime match are taken as they are; any
    other is hashed, so a changed file is found even when its mtime was put back."""
    try:
        sealed = json.loads((root / SEAL_NAME).read_text())["files"]
    except (OSError, ValueError, KeyError) as exc:
        raise ToolchainError(f"{root} has no seal of its files: reinstall it with "
                             "`python -m logomesh_tui.verify.toolchain --reinstall`") from exc
    nm = root / "node_modules"
    now = _walk(nm)
    changed = sorted(set(now) ^ set(sealed))
    for rel, st in now.items():
        if changed:
            break
        size, mtime, digest = sealed[rel]
        if (st.st_size, st.st_mtime_ns) != (size, mtime) and _digest(nm / rel, st) != digest:
            changed.append(rel)
    if changed:
        raise ToolchainError(f"{nm / changed[0]} changed since the toolchain was installed, so "
                             "it is not run: reinstall with "
                             "`python -m logomesh_tui.verify.toolchain --reinstall`")


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
    node = _ensure_installed(root, _complete, "the TypeScript compiler is", install,
                             lambda npm: _npm_install(npm, root))
    tsc = root / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        raise ToolchainError(f"npm finished but {tsc} is missing: delete {root} and run again")
    return Toolchain(root=root, node=node, tsc=_native_tsc(root) or tsc,
                     version=_installed_version(root, "typescript") or "unknown")


def ensure_checks(root: Path | str | None = None, *, install: bool = True) -> CheckToolchain:
    """Return the lint/behaviour-check packages (``<toolchain dir>/checks``), installing them
    with npm first if needed. Raises :class:`ToolchainError` with a one-line message otherwise."""
    root = Path(root) if root is not None else default_toolchain_dir() / "checks"
    node = _ensure_installed(
        root, _checks_complete, "the lint and behaviour-check packages are", install,
        lambda npm: _npm_install(npm, root, CHECK_PACKAGES, "logomesh-tui-checks"))
    return CheckToolchain(root=root, node=node)


def _ensure_installed(root: Path, complete: Callable[[Path], bool], what: str, install: bool,
                      npm_install: Callable[[str], None]) -> str:
    """Install into ``root`` with ``npm_install(npm)`` unless ``complete(root)`` (once, under
    the install lock; ``what`` names it when ``install`` is False), check its seal and return
    the node executable."""
    node = find_node()
    if not complete(root):
        if not install:
            raise ToolchainError(
                f"{what} not installed in {root}: run `python -m logomesh_tui.verify.toolchain`")
        npm = find_npm()
        with _install_lock(root):
            if not complete(root):
                npm_install(npm)
    _ensure_seal(root)
    return node


def _ensure_seal(root: Path) -> None:
    """Seal an install that has none yet (made before seals were written), then check it."""
    if not (root / SEAL_NAME).exists():
        with _install_lock(root):
            if not (root / SEAL_NAME).exists():
                seal(root)
    check_seal(root)


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
    seal(root)


def reinstall(root: Path, packages: dict[str, str], name: str) -> None:
    """Remove ``root/node_modules`` and install ``packages`` afresh (a changed toolchain)."""
    npm = find_npm()
    with _install_lock(root):
        shutil.rmtree(root / "node_modules", ignore_errors=True)
        (root / SEAL_NAME).unlink(missing_ok=True)
        _npm_install(npm, root, packages, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m logomesh_tui.verify.toolchain",
        description="Install the project's TypeScript compiler (tsc + React/Node types) and the "
                    "lint/behaviour-check packages (eslint, typescript-eslint, jsdom, react) with npm.")
    parser.add_argument("--dir", help="install folder (default: $LOGOMESH_TS_DIR or the user cache)")
    parser.add_argument("--check", action="store_true", help="only check; do not install")
    parser.add_argument("--reinstall", action="store_true",
                        help="remove both installs and install them afresh (after a seal check "
                             "failed)")
    args = parser.parse_args(argv)
    try:
        if args.reinstall:
            base = Path(args.dir) if args.dir else default_toolchain_dir()
            reinstall(base, TOOLCHAIN_PACKAGES, "logomesh-tui-ts")
            reinstall(base / "checks", CHECK_PACKAGES, "logomesh-tui-checks")
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
