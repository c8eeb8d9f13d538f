"""A private, writable copy of a user's project in which its own tools run, in the sandbox.

A :class:`Workspace` copies the project's files (not ``node_modules``, builds or ``.git``) to a
scratch folder. ``run`` starts a command under bubblewrap with that copy bound at the project's
own path, so absolute paths in its configs still hold, and every ``node_modules`` from the project
root upwards bound read-only over it: the project's TypeScript, eslint and test runner run as they
would in the user's tree, may start workers and child processes (vitest and jest need them), and
reach no network, no other process and no file outside the copy. The user's tree is never
written. A candidate is put in with ``write`` and taken out with ``restore``.

Running a project's tools needs the kernel's walls; where bubblewrap cannot make namespaces,
``run`` raises :class:`WorkspaceError` and callers fall back to the single-file checks.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import LogoMeshError
from .project import _SKIP_DIRS, Project
from .sandbox import _bwrap, _find_node, _system_binds, run_confined

# What a project's tools write inside node_modules (caches): a private tmpfs each.
_CACHE_DIRS = (".vite", ".vite-temp", ".vitest", ".cache")
_MAX_FILE_MB = 256
_ETC = {
    "hosts": "127.0.0.1 localhost\n::1 localhost\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
    "passwd": f"user:x:{os.getuid()}:{os.getgid()}:user:/tmp:/bin/sh\n",
    "group": f"user:x:{os.getgid()}:\n",
}


class WorkspaceError(LogoMeshError):
    """The project's own tools cannot be run here (no kernel sandbox, a path that leaves it)."""


@dataclass(frozen=True)
class WorkspaceLimits:
    """What one command in the workspace may use (per process: memory; for all: time)."""

    timeout_s: float = 300.0
    memory_mb: int = 4096
    output_bytes: int = 4_000_000


@dataclass(frozen=True)
class WorkspaceRun:
    """How one command in the workspace ended."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    wall_s: float


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _SKIP_DIRS or n == ".git"}


class Workspace:
    """``with Workspace(project) as ws:`` copies the project; leaving removes the copy."""

    def __init__(self, project: Project, *, limits: WorkspaceLimits = WorkspaceLimits()) -> None:
        self.project = project
        self.limits = limits
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.copy: Path = Path()
        self._etc: Path = Path()

    def __enter__(self) -> Workspace:
        self._tmp = tempfile.TemporaryDirectory(prefix="logomesh-workspace-")
        self.copy = Path(self._tmp.name) / "project"
        shutil.copytree(self.project.root, self.copy, ignore=_ignore, symlinks=True)
        # The few /etc files tools read: localhost resolves (vite looks it up), a user exists.
        self._etc = Path(self._tmp.name) / "etc"
        self._etc.mkdir()
        for name, text in _ETC.items():
            (self._etc / name).write_text(text)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @staticmethod
    def available() -> bool:
        """Whether this machine can run a project's tools in the sandbox (bubblewrap works)."""
        return _bwrap() is not None

    def _inside(self, relpath: str | Path) -> Path:
        p = Path(relpath)
        if p.is_absolute():
            try:
                p = p.resolve().relative_to(self.project.root)
            except ValueError as exc:
                raise WorkspaceError(f"{relpath} is outside the project {self.project.root}: "
                                     "name a file inside it") from exc
        if ".." in p.parts or not p.parts:
            raise WorkspaceError(f"file name {str(relpath)!r} leaves the project: use a path "
                                 "inside it")
        return self.copy / p

    def write(self, relpath: str | Path, text: str) -> None:
        """Put ``text`` in the copy at ``relpath`` (relative to the project root)."""
        dest = self._inside(relpath)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")

    def restore(self, relpath: str | Path) -> None:
        """Put the project's own version of ``relpath`` back (or remove a file it lacks)."""
        dest = self._inside(relpath)
        src = self.project.root / dest.relative_to(self.copy)
        if src.is_file():
            shutil.copyfile(src, dest)
        else:
            dest.unlink(missing_ok=True)

    def read_result(self, relpath: str) -> str | None:
        """A file a command wrote inside the copy (a reporter's JSON), or None."""
        try:
            return self._inside(relpath).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def _argv(self, exe: str, ro_binds: Sequence[Path] = ()) -> list[str]:
        root = self.project.root
        node = Path(_find_node()).resolve()
        args = [exe, "--unshare-all", "--die-with-parent", "--new-session", "--hostname",
                "sandbox", *_system_binds(), "--proc", "/proc", "--dev", "/dev",
                "--tmpfs", "/tmp", "--ro-bind", str(node.parent), str(node.parent),
                *(a for name in _ETC for a in ("--ro-bind", str(self._etc / name),
                                               f"/etc/{name}")),
                "--bind", str(self.copy), str(root)]
        # The project's own node_modules: a private tmpfs holding a read-only view of each of
        # its entries, so the caches its tools write there (vite's bundled config, vitest's
        # results) land in the tmpfs while every package stays unwritable.
        nm = root / "node_modules"
        if nm.is_dir():
            args += ["--tmpfs", str(nm)]
            for entry in sorted(os.scandir(nm), key=lambda e: e.name):
                dest = str(nm / entry.name)
                if entry.name in _CACHE_DIRS:
                    continue
                if entry.is_symlink():
                    args += ["--symlink", os.readlink(entry.path), dest]
                else:
                    args += ["--ro-bind", entry.path, dest]
            for cache in _CACHE_DIRS:
                args += ["--dir", str(nm / cache)]
        # Hoisted dependencies of a workspace (monorepo) above the project, read-only.
        for d in root.parents:
            if (d / "node_modules").is_dir():
                args += ["--ro-bind", str(d / "node_modules"), str(d / "node_modules")]
        for extra in ro_binds:
            args += ["--ro-bind", str(extra), str(extra)]
        return [*args, "--setenv", "HOME", "/tmp", "--chdir", str(root), "--"]

    async def run(self, argv: Sequence[str], *, env: dict[str, str] | None = None,
                  timeout_s: float | None = None, ro_binds: Sequence[Path] = ()
                  ) -> WorkspaceRun:
        """Run ``argv`` at the project's root inside the sandbox (``ro_binds``: more folders it
        may read, e.g. LogoMesh's own lint packages); never raises for what the command does.
        Raises :class:`WorkspaceError` when the sandbox cannot be made."""
        exe = _bwrap()
        if exe is None:
            raise WorkspaceError("running the project's own tools needs bubblewrap (the bwrap "
                                 "command, Debian package bubblewrap) with namespaces allowed")
        limits = self.limits
        node_dir = str(Path(_find_node()).parent)
        base_env = {"PATH": f"{node_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp",
                    "TZ": "UTC", "LANG": "C.UTF-8", "CI": "1", "NO_COLOR": "1",
                    "FORCE_COLOR": "0", "NODE_ENV": "test"}
        run = await run_confined([*self._argv(exe, ro_binds), *argv], cwd=self.copy,
                                 env={**base_env, **(env or {})}, stdin=None,
                                 timeout_s=timeout_s or limits.timeout_s,
                                 data_mb=limits.memory_mb, file_mb=_MAX_FILE_MB,
                                 output_bytes=limits.output_bytes)
        return WorkspaceRun(exit_code=run.exit_code, stdout=run.stdout, stderr=run.stderr,
                            timed_out=run.timed_out, wall_s=run.wall_s)
