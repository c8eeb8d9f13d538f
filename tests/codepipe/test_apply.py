"""`refactor --apply`: kept changes go into the tree only when git can take them back."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from logomesh_tui.codepipe.apply import ApplyError, apply_changes, check_clean

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

BEFORE = "export function total(xs: number[]) {\n  var t = 0;\n  for (const x of xs) t += x;\n" \
         "  return t;\n}\n"
AFTER = BEFORE.replace("var t", "let t")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / "src").mkdir(parents=True)
    (root / "src" / "total.ts").write_text(BEFORE)
    (root / "src" / "other.ts").write_text("export const x = 1;\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    return root


def test_apply_writes_the_change_and_the_patch_reverts_it(repo: Path, tmp_path: Path):
    base = repo / "src"
    result = apply_changes(base, {"total.ts": BEFORE, "other.ts": "export const x = 1;\n"},
                           {"total.ts": AFTER, "other.ts": "export const x = 1;\n"},
                           tmp_path / "out" / "revert.patch")
    assert result.files == ["src/total.ts"]
    assert (base / "total.ts").read_text() == AFTER
    assert git(repo, "status", "--porcelain") == " M src/total.ts\n"
    patch = result.revert_patch
    assert patch is not None and "-  let t = 0;" in patch.read_text()
    git(repo, "apply", str(patch))
    assert (base / "total.ts").read_text() == BEFORE
    assert git(repo, "status", "--porcelain") == ""


def test_apply_refuses_a_file_with_uncommitted_changes(repo: Path, tmp_path: Path):
    target = repo / "src" / "total.ts"
    target.write_text(BEFORE + "// mine\n")
    with pytest.raises(ApplyError, match="uncommitted changes"):
        apply_changes(repo / "src", {"total.ts": BEFORE + "// mine\n"},
                      {"total.ts": AFTER}, tmp_path / "revert.patch")
    assert target.read_text() == BEFORE + "// mine\n"
    assert not (tmp_path / "revert.patch").exists()


def test_apply_refuses_untracked_files_and_folders_outside_git(repo: Path, tmp_path: Path):
    (repo / "src" / "new.ts").write_text(BEFORE)
    with pytest.raises(ApplyError, match="not tracked by git"):
        check_clean([repo / "src" / "new.ts"])
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "a.ts").write_text(BEFORE)
    with pytest.raises(ApplyError, match="not in one"):
        check_clean([lone / "a.ts"])


def test_apply_refuses_a_file_that_changed_while_the_run_went_on(repo: Path, tmp_path: Path):
    # Committed, so git calls it clean, but not the text the run started from.
    with pytest.raises(ApplyError, match="changed while the refactor ran"):
        apply_changes(repo / "src", {"total.ts": BEFORE.replace("0", "1")},
                      {"total.ts": AFTER}, tmp_path / "revert.patch")
    assert (repo / "src" / "total.ts").read_text() == BEFORE


def test_apply_keeps_line_endings_and_mode(repo: Path, tmp_path: Path):
    target = repo / "src" / "total.ts"
    target.write_bytes(BEFORE.replace("\n", "\r\n").encode())
    target.chmod(0o640)
    git(repo, "-c", "core.autocrlf=false", "add", "src/total.ts")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "crlf")
    result = apply_changes(repo / "src", {"total.ts": BEFORE}, {"total.ts": AFTER},
                           tmp_path / "revert.patch")
    assert target.read_bytes() == AFTER.replace("\n", "\r\n").encode()
    assert target.stat().st_mode & 0o777 == 0o640
    git(repo, "apply", str(result.revert_patch))
    assert target.read_bytes() == BEFORE.replace("\n", "\r\n").encode()


def test_nothing_changed_writes_nothing(repo: Path, tmp_path: Path):
    result = apply_changes(repo / "src", {"total.ts": BEFORE}, {"total.ts": BEFORE},
                           tmp_path / "revert.patch")
    assert result.files == [] and result.revert_patch is None
