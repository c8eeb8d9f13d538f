"""Write a refactor's kept changes into the user's tree, only when git can take them back.

The user's files change only on an explicit ``--apply``. It is refused unless every file to be
written is tracked by git and has no uncommitted change (so ``git diff`` shows exactly what
LogoMesh wrote, and nothing of the user's is overwritten), and unless each file on disk still
holds the text the run started from. Before anything is written, a patch that reverts the
change is written beside the output: ``git apply PATCH`` in the repository undoes it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..verify.compiler import safe_relpath

GIT_TIMEOUT_S = 30


class ApplyError(UsageError):
    """The change cannot be written into the tree safely; nothing was written."""


@dataclass
class ApplyResult:
    """What ``apply_changes`` wrote: the files (relative to the git root) and the revert patch."""

    repo: Path
    files: list[str] = field(default_factory=list)
    revert_patch: Path | None = None

    def as_json(self) -> dict:
        return {"repo": str(self.repo), "files": self.files,
                "revert_patch": str(self.revert_patch) if self.revert_patch else None,
                "undo": self.undo_command()}

    def undo_command(self) -> str:
        return f"git -C {self.repo} apply {self.revert_patch}" if self.revert_patch else ""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError as exc:
        raise ApplyError("--apply needs git on PATH (it checks the files are committed and "
                         "saves a patch to undo the change); install git or copy from the "
                         "output folder's refactored/") from exc


def git_root(path: Path) -> Path:
    """The work tree that holds ``path``; an ApplyError when there is none."""
    folder = path if path.is_dir() else path.parent
    proc = _git(folder, "rev-parse", "--show-toplevel")
    if proc.returncode != 0:
        raise ApplyError(f"--apply writes only into a git work tree and {path} is not in one: "
                         "commit the project to git first, or copy from the output folder's "
                         "refactored/")
    return Path(proc.stdout.strip()).resolve()


def check_clean(paths: list[Path]) -> Path:
    """Refuse (ApplyError, one line) unless every path is tracked and unchanged in git;
    returns the git root."""
    if not paths:
        raise ApplyError("--apply: no file to write")
    repo = git_root(paths[0].resolve())
    rels = []
    for p in paths:
        full = p.resolve()
        if not full.is_relative_to(repo):
            raise ApplyError(f"--apply: {p} is outside the git work tree {repo}")
        rels.append(full.relative_to(repo).as_posix())
    tracked = _git(repo, "ls-files", "--error-unmatch", "--", *rels)
    if tracked.returncode != 0:
        missing = [r for r in rels if _git(repo, "ls-files", "--error-unmatch", "--", r)
                   .returncode != 0]
        raise ApplyError(f"--apply: {missing[0] if missing else rels[0]} is not tracked by git; "
                         "commit it first so the change can be undone")
    status = _git(repo, "status", "--porcelain", "--", *rels)
    dirty = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    if status.returncode != 0 or dirty:
        name = dirty[0] if dirty else rels[0]
        raise ApplyError(f"--apply: {name} has uncommitted changes; commit or stash them, then "
                         "run again (the result is in the output folder either way)")
    return repo


def _write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step, keeping its mode and its line endings."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    if path.exists() and b"\r\n" in path.read_bytes():
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".logomesh")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def apply_changes(base: Path, before: dict[str, str], after: dict[str, str],
                  patch_path: Path) -> ApplyResult:
    """Write the files whose text ``after`` changes (names relative to ``base``) into the tree.

    Checks first that git holds each one clean and that each still reads as ``before``; then
    writes each file atomically and saves ``git diff -R`` of them (the patch that reverts the
    change, exact for line endings and final newlines) at ``patch_path``."""
    changed = sorted(f for f in before if after.get(f, before[f]) != before[f])
    if not changed:
        return ApplyResult(repo=base)
    paths = [base / safe_relpath(f) for f in changed]
    repo = check_clean(paths)
    for f, p in zip(changed, paths, strict=True):
        if p.read_text(encoding="utf-8") != before[f]:
            raise ApplyError(f"--apply: {p} changed while the refactor ran; nothing was "
                             "written (the result is in the output folder)")
    rels = [p.resolve().relative_to(repo).as_posix() for p in paths]
    patch_path.parent.mkdir(parents=True, exist_ok=True)
    for f, p in zip(changed, paths, strict=True):
        _write_atomic(p, after[f])
    # Bytes, not text: the patch must keep the files' carriage returns.
    revert = subprocess.run(["git", "-C", str(repo), "-c", "diff.noprefix=false", "diff",
                             "--no-ext-diff", "--no-color", "-R", "--", *rels],
                            capture_output=True, timeout=GIT_TIMEOUT_S, check=False)
    patch_path.write_bytes(revert.stdout)
    return ApplyResult(repo=repo, files=rels, revert_patch=patch_path.resolve())
