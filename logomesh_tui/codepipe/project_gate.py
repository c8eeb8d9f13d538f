"""The gate inside the user's project: its tsc and tsconfig, its eslint, its covering tests.

For a file that lives in a project with its dependencies installed, :class:`ProjectGate`
replaces the scratch-folder compile with the project's own TypeScript over the whole project
(with the candidate in place, in the sandboxed workspace), and adds two conditions to the
gate's: the project's eslint reports no new error, and every covering test that passed before
still passes. ``gate_for`` picks the gate for an input path and says, in notes, what it uses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..verify.compiler import CompileResult, Diagnostic
from ..verify.harness import HarnessRun
from ..verify.lint import LintFinding, Suggestion
from ..verify.project import Project, ProjectError, find_project
from ..verify.project_checks import ProjectChecker, ProjectVerdict, TestReport
from ..verify.toolchain import CheckToolchain, Toolchain
from ..verify.workspace import Workspace
from .gate import Gate, Verdict
from .records import Finding


@dataclass
class ProjectGate(Gate):
    """A :class:`Gate` whose compiler, extra lint and tests are the project's own.

    ``base``: the folder the pipeline's relative file names start from (inside the project)."""

    project: Project | None = None
    base: Path = Path()
    checker: ProjectChecker | None = None
    originals: dict[str, str] = field(default_factory=dict)
    # The covering tests on the input, and after the last change that was kept.
    tests_before: TestReport | None = None
    tests_now: TestReport | None = None
    last_check: ProjectVerdict | None = None
    _tsc_cache: dict[str, list[Diagnostic]] = field(default_factory=dict)
    # The project's eslint errors (with their fixes) per version of the files.
    _lint_cache: dict[str, list[dict]] = field(default_factory=dict)

    def _changes(self, files: dict[str, str]) -> dict[Path | str, str]:
        return {self.base / f: t for f, t in files.items() if self.originals.get(f) != t}

    def _key(self, files: dict[str, str]) -> str:
        return hashlib.sha256(repr(sorted((str(p), t) for p, t in self._changes(files).items()))
                              .encode()).hexdigest()

    def _to_base(self, d: Diagnostic) -> Diagnostic:
        name = self._base_name(d.file) if d.file else None
        return d.model_copy(update={"file": name}) if name is not None else d

    async def compile(self, files: dict[str, str]) -> CompileResult:
        assert self.checker is not None
        key = self._key(files)
        if key not in self._tsc_cache:
            self._tsc_cache[key] = await self.checker.typecheck(self._changes(files))
        diags = [self._to_base(d) for d in self._tsc_cache[key]]
        errors = [d for d in diags if d.category == "error"]
        return CompileResult(ok=not errors, diagnostics=diags,
                             command=f"{self.project.typescript} --noEmit -p "
                                     f"{self.project.tsconfig}" if self.project else "")

    async def lint(self, files: dict[str, str]) -> list[LintFinding]:
        """LogoMesh's rules typed by the project (its imports resolve, so rules such as
        no-floating-promises see real types); the scratch-folder lint where that cannot run."""
        assert self.checker is not None
        found = await self.checker.lint_ours(self._changes(files),
                                             [self.base / f for f in files], self.checks)
        if found is None:
            return await super().lint(files)
        out = [f.model_copy(update={"file": name}) for f in found
               if (name := self._base_name(f.file)) is not None]
        self.last_lint = out
        return out

    async def findings(self, files: dict[str, str], runs: dict[str, HarnessRun]
                       ) -> list[Finding]:
        found = await super().findings(files, runs)
        assert self.checker is not None
        lint = (await self.checker.baseline()).lint
        self._lint_cache[self._key(files)] = lint
        return found + self._project_lint(lint)

    def suggestions(self, files: dict[str, str], target: Finding,
                    lint_now: list[LintFinding]) -> list[Suggestion]:
        """For a finding of the project's eslint: its autofix and suggestions on the current
        version of the file; else LogoMesh's own."""
        if target.source != "project-lint":
            return super().suggestions(files, target, lint_now)
        assert self.project is not None
        out = []
        for m in self._lint_cache.get(self._key(files), []):
            if f"project/{m['rule']}" == target.rule and m["line"] == target.line and \
                    self._base_name(m["file"]) == target.file:
                out += [Suggestion(**x) for x in m.get("fixes", [])]
        return out

    def _base_name(self, project_file: str) -> str | None:
        """A file named from the project's root, named from ``base`` (None: outside it)."""
        assert self.project is not None
        full = (self.project.root / project_file).resolve()
        return full.relative_to(self.base).as_posix() if full.is_relative_to(self.base) else None

    def _project_lint(self, messages: list[dict]) -> list[Finding]:
        """The project's eslint errors in the files being refactored, as findings."""
        out = []
        for m in messages:
            name = self._base_name(m["file"])
            if name is not None and name in self.originals:
                out.append(Finding(source="project-lint", rule=f"project/{m['rule']}",
                                   file=name, line=m["line"], message=m["message"]))
        return out

    async def static_findings(self, files: dict[str, str]) -> list[Finding]:
        """Lint, measures and the project's eslint; the project's tests run in the same
        workspace and wait in ``last_check`` for :meth:`judge`."""
        found = await super().static_findings(files)
        assert self.checker is not None
        check = await self.checker.check(self._changes(files), tsc=False)
        self.last_check = check
        self._lint_cache[self._key(files)] = check.lint_after
        return found + self._project_lint(check.lint_after)

    async def judge(self, files: dict[str, str], before: list[Finding],
                    refs: dict[str, HarnessRun], scripts: dict[str, dict]) -> Verdict:
        self.last_check = None
        verdict = await super().judge(files, before, refs, scripts)
        check = self.last_check
        if not verdict.passed or check is None:
            return verdict
        if check.newly_failing:
            c = check.newly_failing[0]
            return Verdict(False, f"breaks the project's test {c.file} > {c.name}: "
                                  f"{c.message[:300]}")
        if check.tests_before.ran and not check.tests_after.ran:
            return Verdict(False, "the project's covering tests no longer run: "
                                  + check.tests_after.problem)
        self.tests_now = check.tests_after
        if check.tests_after.ran:
            verdict.reason += f"; the project's covering tests: {check.tests_after.summary()}"
        return verdict

    def summary(self) -> dict:
        """What report.json says of the project and its tests."""
        assert self.project is not None and self.checker is not None
        now = self.tests_now or self.tests_before
        return {"root": str(self.project.root), "notes": self.project.notes(),
                "tests": self.checker.test_files,
                "tests_before": self.tests_before.to_json() if self.tests_before else None,
                "tests_after": now.to_json() if now else None}


async def gate_for(path: Path, files: dict[str, str], toolchain: Toolchain,
                   checks: CheckToolchain, notes: list[str]) -> Gate:
    """The project's gate when ``path`` lies in a project LogoMesh can check in place; else
    the scratch-folder gate (a lone file, or a project it cannot use, said in ``notes``)."""
    project = find_project(path)
    if project is None:
        return Gate(toolchain, checks)
    try:
        project.require_installed()
    except ProjectError as exc:
        notes.append(f"{exc}; until then only the single-file checks run.")
        return Gate(toolchain, checks)
    if project.tsconfig is None or project.typescript is None:
        notes.append(f"{project.root} has no tsconfig.json or TypeScript of its own: only the "
                     "single-file checks run.")
        return Gate(toolchain, checks)
    if not Workspace.available():
        notes.append("the project's own tools run only in the sandbox, which needs bubblewrap "
                     "(Debian package bubblewrap): only the single-file checks run.")
        return Gate(toolchain, checks)
    base = path.resolve() if path.is_dir() else path.resolve().parent
    checker = ProjectChecker(project, [base / f for f in files])
    gate = ProjectGate(toolchain, checks, project=project, base=base, checker=checker,
                       originals=dict(files))
    baseline = await checker.baseline()
    gate.tests_before = baseline.tests
    notes.extend(project.notes())
    tests = baseline.tests
    notes.append(f"covering tests: {', '.join(checker.test_files)} — {tests.summary()}"
                 if checker.test_files else
                 "covering tests: none of the project's tests import the changed files")
    if tests.failed:
        notes.append(f"{tests.failed} covering test(s) fail before any change; they are not "
                     "counted against a change.")
    notes.extend(baseline.notes)
    return gate

