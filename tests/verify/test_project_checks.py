"""A change judged with the fixture project's own tsc, eslint and vitest, in the sandbox."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from logomesh_tui.verify.project import find_project
from logomesh_tui.verify.project_checks import ProjectChecker
from logomesh_tui.verify.workspace import Workspace

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ts-project"
TOTAL = FIXTURE / "src" / "cart" / "total.ts"

pytestmark = [
    pytest.mark.toolchain,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(not (FIXTURE / "node_modules").is_dir(),
                       reason="the fixture project is not installed (./install.sh --test)"),
    pytest.mark.skipif(not Workspace.available(), reason="bubblewrap cannot make namespaces"),
]


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and "node_modules" not in p.parts:
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def checker() -> ProjectChecker:
    project = find_project(TOTAL)
    assert project is not None
    return ProjectChecker(project, [TOTAL])


async def test_the_baseline_is_the_projects_own_verdict(checker):
    before = _tree_digest(FIXTURE)
    state = await checker.baseline()
    assert state.tsc_ran and state.tsc == []
    assert state.lint_ran
    assert sorted(m["rule"] for m in state.lint) == ["no-var", "prefer-const"]
    assert state.tests.ran and state.tests.passed == 4 and state.tests.failed == 0
    assert checker.test_files == ["src/cart/__tests__/total.test.ts"]
    assert _tree_digest(FIXTURE) == before


async def test_a_change_that_fixes_lint_and_keeps_the_tests_green_is_kept(checker):
    fixed = TOTAL.read_text().replace("var total", "let total").replace(
        "let line = lines[i]", "const line = lines[i]")
    verdict = await checker.check({TOTAL: fixed})
    assert verdict.keep, verdict.reasons()
    assert verdict.removed_lint == 2
    assert verdict.tests_after.passed == 4


async def test_a_change_that_breaks_a_covering_test_is_rejected_with_its_assertion(checker):
    before = _tree_digest(FIXTURE)
    broken = TOTAL.read_text().replace(
        "if (line.quantity >= 1) {", "if (line.quantity === 0) {\n      total += 1;\n    }\n"
        "    if (line.quantity >= 1) {")
    verdict = await checker.check({"src/cart/total.ts": broken})
    assert not verdict.keep
    names = [c.name for c in verdict.newly_failing]
    assert names == ["cartTotal > ignores lines with no quantity"]
    assert "expected" in verdict.newly_failing[0].message
    assert any("breaks test" in r and "ignores lines" in r for r in verdict.reasons())
    assert _tree_digest(FIXTURE) == before


async def test_an_added_type_error_is_counted_and_old_errors_are_not(checker):
    typed = TOTAL.read_text().replace("export function describeCart(lines: Line[]): string {",
                                      "export function describeCart(lines: Line[]): string {\n"
                                      "  const n: number = 'x';\n  void n;")
    verdict = await checker.check({TOTAL: typed})
    assert [d.code for d in verdict.added_tsc] == [2322]
    assert not verdict.keep


async def test_a_failing_baseline_is_noted_and_not_blamed(tmp_path):
    copy = tmp_path / "shop"
    shutil.copytree(FIXTURE, copy, symlinks=True,
                    ignore=shutil.ignore_patterns("node_modules"))
    (copy / "node_modules").symlink_to(FIXTURE / "node_modules", target_is_directory=True)
    test = copy / "src" / "cart" / "__tests__" / "total.test.ts"
    test.write_text(test.read_text().replace('toBe("3 items, $15.00")', 'toBe("3 items, $15")'))
    target = copy / "src" / "cart" / "total.ts"
    project = find_project(target)
    assert project is not None
    checker = ProjectChecker(project, [target])
    same = await checker.check({target: target.read_text() + "\n"})
    assert checker._baseline is not None and checker._baseline.tests.failed == 1
    assert same.newly_failing == [] and same.keep
    assert any("failed before the change" in n for n in same.notes)
