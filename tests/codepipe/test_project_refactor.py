"""The refactor inside a real project (the vitest fixture): its tsc, eslint and covering tests
decide, with scripted fake models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from logomesh_tui.codepipe.pipeline import RefactorOptions, run_refactor
from logomesh_tui.codepipe.report import report_json
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.verify.workspace import Workspace
from tests.codepipe.scripted import scripted

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ts-project"

pytestmark = [
    pytest.mark.toolchain,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(not (FIXTURE / "node_modules").is_dir(),
                       reason="the fixture project is not installed (./install.sh --test)"),
    pytest.mark.skipif(not Workspace.available(), reason="bubblewrap cannot make namespaces"),
]

FIX_VAR = """<<<<<<< SEARCH
  var total = 0;
=======
  let total = 0;
>>>>>>> REPLACE"""
FIX_CONST = """<<<<<<< SEARCH
    let line = lines[i];
=======
    const line = lines[i];
>>>>>>> REPLACE"""
# Removes the no-var finding, and breaks the totals the tests check.
BREAKS_TESTS = """<<<<<<< SEARCH
  var total = 0;
=======
  let total = 1;
>>>>>>> REPLACE"""


def pool(responder):
    return {"primary-analyzer": FakeBackend("qwen2.5-coder-1.5b", n_ctx=4096,
                                            responder=responder),
            "documentation-writer": FakeBackend("smollm2-135m", n_ctx=4096,
                                                responder=responder)}


@pytest.fixture
def shop(tmp_path) -> Path:
    """A copy of the fixture project (its installed node_modules linked), free to change."""
    copy = tmp_path / "shop"
    shutil.copytree(FIXTURE, copy, ignore=shutil.ignore_patterns("node_modules"))
    (copy / "node_modules").symlink_to(FIXTURE / "node_modules", target_is_directory=True)
    return copy


async def test_lint_fixes_are_kept_with_the_projects_tests_as_green_as_before(shop, toolchain):
    target = shop / "src" / "cart" / "total.ts"
    original = target.read_text()
    result = await run_refactor(pool(scripted(FIX_VAR, FIX_CONST)), target, toolchain=toolchain)
    assert [c.status for c in result.changes] == ["accepted", "accepted"]
    assert [c.finding.rule for c in result.changes if c.finding] == [
        "project/no-var", "project/prefer-const"]
    assert all(c.tests == {"passed": 4, "failed": 0} for c in result.changes)
    assert "const line = lines[i];" in result.files_after["total.ts"]
    # Every import resolved in the project's own world; the user's file is untouched.
    assert result.compile_before.ok and not result.compile_before.errors
    assert target.read_text() == original
    report = report_json(result)
    assert report["project"]["tests"] == ["src/cart/__tests__/total.test.ts"]
    assert report["project"]["tests_before"]["passed"] == 4
    assert report["project"]["tests_after"]["passed"] == 4


async def test_a_candidate_that_breaks_a_covering_test_is_rejected_quoting_it(shop, toolchain):
    target = shop / "src" / "cart" / "total.ts"
    # Without the eslint fixes, so the model's edit is the first candidate.
    result = await run_refactor(pool(scripted(BREAKS_TESTS)), target, toolchain=toolchain,
                                options=RefactorOptions(use_suggestions=False))
    first = result.changes[0]
    assert first.finding is not None and first.finding.rule == "project/no-var"
    assert first.status == "rejected"
    verdict = first.candidates[0].verdict
    assert verdict.startswith("breaks the project's test src/cart/__tests__/total.test.ts > ")
    assert "AssertionError: expected 600 to be 599" in verdict
    assert result.files_after == result.files_before


async def test_the_projects_own_eslint_fixes_are_candidates_judged_by_its_tests(shop, toolchain):
    target = shop / "src" / "cart" / "total.ts"
    result = await run_refactor(pool(scripted(FIX_VAR)), target, toolchain=toolchain,
                                options=RefactorOptions(use_models=False))
    kept = result.accepted
    assert [c.finding.rule for c in kept if c.finding] == ["project/no-var", "project/prefer-const"]
    assert all(c.final_from == "eslint suggestion: autofix" for c in kept)
    assert all(c.tests == {"passed": 4, "failed": 0} for c in kept)
    assert "let total = 0;" in result.files_after["total.ts"]
    assert "const line = lines[i];" in result.files_after["total.ts"]
    assert not [f for f in result.findings_after if f.source == "project-lint"]


async def test_a_project_without_node_modules_says_how_to_install_and_checks_the_file(
        tmp_path, toolchain):
    copy = tmp_path / "shop"
    shutil.copytree(FIXTURE, copy, ignore=shutil.ignore_patterns("node_modules"))
    target = copy / "src" / "lib" / "money.ts"
    result = await run_refactor(pool(scripted(FIX_VAR)), target, toolchain=toolchain)
    assert result.project is None
    assert any("`npm ci`" in n and "single-file checks" in n for n in result.notes)


async def test_the_conversation_verifier_weighs_the_projects_tests(shop):
    from logomesh_tui.evidence.types import Candidate, CodeTask
    from logomesh_tui.evidence.verifier import Verifier, VerifierConfig, project_checker_for

    target = shop / "src" / "cart" / "total.ts"
    text = target.read_text()
    notes: list[str] = []
    checker = project_checker_for(target, notes)
    assert checker is not None, notes
    task = CodeTask(instruction="Use let or const instead of var.", file_name="total.ts",
                    starter=text)
    verifier = Verifier(task, config=VerifierConfig(lint=False), project=checker)
    good = Candidate(id="C1", text=text.replace("var total", "let total"), author="coder")
    bad = Candidate(id="C2", text=text.replace("var total = 0", "let total = 1"), author="coder")
    ev = await verifier.verify([good, bad], [])
    assert ev["C1"].project is not None and ev["C1"].project["tests"]["passed"] == 4
    assert "tests" not in ev["C1"].failed_checks()
    assert "tests" in ev["C2"].failed_checks() and not ev["C2"].passes_all
    assert "expected 600 to be 599" in ev["C2"].facts()
    assert "4 passed" in ev["C1"].tests_line()


def _commit_all(repo: Path) -> None:
    import subprocess

    for args in (["init", "-q"], ["add", "."],
                 ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "i"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_refactor_apply_writes_kept_changes_into_a_clean_tree(shop, tmp_path):
    import json
    import os
    import subprocess
    import sys

    _commit_all(shop)
    target = shop / "src" / "cart" / "total.ts"
    original = target.read_text()
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "LOGOMESH_SESSIONS_DIR": str(tmp_path / "sessions")}
    argv = [sys.executable, "-m", "logomesh_tui", "refactor", str(target), "-o", str(out),
            "--fake", "--no-models", "--apply", "--json"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["kept_changes"] == 2
    assert report["applied"]["files"] == ["src/cart/total.ts"]
    assert target.read_text() == (out / "refactored" / "total.ts").read_text() != original
    assert "undo with: git -C" in proc.stderr
    subprocess.run(["git", "-C", str(shop), "apply", str(out / "revert.patch")], check=True)
    assert target.read_text() == original
    # A second --apply on a tree with uncommitted changes is refused before any model loads.
    target.write_text(original + "// mine\n")
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines()[-1].startswith("error: --apply: src/cart/total.ts "
                                                            "has uncommitted changes")
    assert target.read_text() == original + "// mine\n"


# A fix in one file with a change in another file of the folder.
TWO_FILES = """<<<<<<< SEARCH
  var total = 0;
=======
  let total = 0;
>>>>>>> REPLACE
lib/money.ts
<<<<<<< SEARCH
  const value = Cents.parse(cents);
=======
  const value: number = Cents.parse(cents);
>>>>>>> REPLACE"""


async def test_a_folder_refactor_keeps_a_change_that_touches_two_files(shop, toolchain):
    result = await run_refactor(pool(scripted(TWO_FILES, FIX_CONST)), shop / "src",
                                toolchain=toolchain,
                                options=RefactorOptions(use_suggestions=False))
    # Test files are the evidence, never refactored.
    assert sorted(result.files_before) == ["cart/index.ts", "cart/total.ts", "lib/money.ts"]
    first = result.accepted[0]
    assert first.finding is not None and first.finding.rule == "project/no-var"
    assert first.files == ["cart/total.ts", "lib/money.ts"]
    assert "+++ b/cart/total.ts" in first.diff and "+++ b/lib/money.ts" in first.diff
    assert "const value: number" in result.files_after["lib/money.ts"]
    assert first.tests is not None and first.tests["failed"] == 0
    report = report_json(result)
    assert report["project"]["tests"] == ["src/cart/__tests__/total.test.ts",
                                          "src/lib/money.test.ts"]


async def test_in_a_project_the_verifiers_types_and_lint_are_the_projects(shop):
    from logomesh_tui.evidence.types import Candidate, CodeTask
    from logomesh_tui.evidence.verifier import Verifier, VerifierConfig, project_checker_for

    target = shop / "src" / "cart" / "total.ts"
    text = target.read_text()
    checker = project_checker_for(target, [])
    assert checker is not None
    task = CodeTask(instruction="Use let or const instead of var.", file_name="total.ts",
                    starter=text)
    verifier = Verifier(task, config=VerifierConfig(with_types=True), project=checker)
    good = Candidate(id="C1", text=text.replace("var total", "let total"), author="coder")
    loose = Candidate(id="C2", text=text.replace("(lines: Line[]): number {\n  var",
                                                 "(lines: any[]): number {\n  var"),
                      author="coder")
    ev = await verifier.verify([good, loose], [])
    # `@/lib/money` resolves through the project's tsconfig: no "cannot find module".
    assert ev["C1"].compiles and not ev["C1"].compile_errors
    assert ev["C1"].lint_ran and not ev["C1"].lint_errors
    assert [d.code for d in ev["C2"].lint_errors] == ["@typescript-eslint/no-explicit-any"]
    assert "lint" in ev["C2"].failed_checks()


async def test_the_evidence_task_names_the_project_findings_on_the_file_as_it_is(shop):
    from logomesh_tui.evidence.program import _starter_findings
    from logomesh_tui.evidence.types import CodeTask
    from logomesh_tui.evidence.verifier import project_checker_for

    target = shop / "src" / "cart" / "total.ts"
    checker = project_checker_for(target, [])
    assert checker is not None
    task = CodeTask(instruction="Tidy it.", file_name="total.ts", starter=target.read_text())
    found = await _starter_findings(checker, task)
    assert any(f.startswith("line 11: no-var:") for f in found), found
    assert any(f.startswith("line 13: prefer-const:") for f in found), found
