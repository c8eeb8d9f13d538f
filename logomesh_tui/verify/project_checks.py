"""A change judged inside the user's project: its tsc, its eslint, its own covering tests.

:class:`ProjectChecker` runs the project's TypeScript with its tsconfig, its eslint with its
config and its test runner on the tests that cover the changed modules, all in a
:class:`~logomesh_tui.verify.workspace.Workspace` (a sandboxed copy; the user's tree is never
written). ``baseline()`` measures the project as it is; ``check(changes)`` measures it with the
changed files in place and compares: only the type and lint errors the change adds count
against it, and a test that failed before is noted, never blamed on the change.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .compiler import Diagnostic, parse_diagnostics
from .lint import LintFinding, eslint_fixes, parse_eslint_json, project_lint_config
from .project import Project, covering_tests
from .toolchain import CheckToolchain
from .workspace import Workspace, WorkspaceError, WorkspaceLimits

_RESULTS = ".logomesh-results"
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class TestCase:
    """One test of the project's suite, as its runner reported it."""

    file: str  # relative to the project root
    name: str  # "describe > it"
    status: str  # passed | failed | skipped
    message: str = ""  # the first failure message, one paragraph

    def key(self) -> tuple[str, str]:
        return (self.file, self.name)


@dataclass
class TestReport:
    """The covering tests' results for one state of the project."""

    files: list[str]
    cases: list[TestCase] = field(default_factory=list)
    ran: bool = False
    problem: str = ""  # why the tests did not run (empty when they did)
    wall_s: float = 0.0

    @property
    def passed(self) -> int:
        return sum(c.status == "passed" for c in self.cases)

    @property
    def failed(self) -> int:
        return sum(c.status == "failed" for c in self.cases)

    def summary(self) -> str:
        if not self.ran:
            return f"tests not run: {self.problem}"
        return f"{self.passed} passed, {self.failed} failed ({len(self.files)} test files)"

    def to_json(self) -> dict:
        return {"files": self.files, "ran": self.ran, "problem": self.problem,
                "passed": self.passed, "failed": self.failed, "wall_s": self.wall_s,
                "cases": [c.__dict__ for c in self.cases]}


@dataclass
class ProjectState:
    """What the project's own tools say about one state of the tree."""

    tsc: list[Diagnostic]
    lint: list[dict]  # eslint messages: file, line, column, rule, message, severity
    tests: TestReport
    tsc_ran: bool = True
    lint_ran: bool = True
    notes: list[str] = field(default_factory=list)


@dataclass
class ProjectVerdict:
    """A change against the baseline: what it added, what the tests say before and after."""

    added_tsc: list[Diagnostic]
    added_lint: list[dict]
    removed_lint: int
    tests_before: TestReport
    tests_after: TestReport
    newly_failing: list[TestCase]
    notes: list[str] = field(default_factory=list)
    lint_after: list[dict] = field(default_factory=list)  # every eslint error with the change

    @property
    def keep(self) -> bool:
        """No type or lint error added and the covering tests at least as green as before."""
        return not self.added_tsc and not self.added_lint and not self.newly_failing and (
            not self.tests_before.ran or self.tests_after.ran)

    def reasons(self) -> list[str]:
        """Why the change is not kept, one line each (empty when it is)."""
        out = [f"adds tsc error {d.render()}" for d in self.added_tsc[:5]]
        out += [f"adds eslint {m['rule']} at {m['file']}:{m['line']}: {m['message']}"
                for m in self.added_lint[:5]]
        out += [f"breaks test {c.file} > {c.name}: {c.message[:300]}"
                for c in self.newly_failing[:5]]
        if self.tests_before.ran and not self.tests_after.ran:
            out.append(f"the covering tests no longer run: {self.tests_after.problem}")
        return out

    def to_json(self) -> dict:
        return {"keep": self.keep, "reasons": self.reasons(),
                "added_tsc": [d.render() for d in self.added_tsc],
                "added_lint": self.added_lint, "removed_lint": self.removed_lint,
                "tests_before": self.tests_before.to_json(),
                "tests_after": self.tests_after.to_json(),
                "newly_failing": [c.__dict__ for c in self.newly_failing], "notes": self.notes}


def _added(before: list, after: list, key) -> list:
    """The items of ``after`` beyond those of ``before``, compared by ``key`` with counts."""
    left = Counter(key(x) for x in before)
    out = []
    for x in after:
        if left[key(x)] > 0:
            left[key(x)] -= 1
        else:
            out.append(x)
    return out


def _lint_key(m: dict) -> tuple[str, str, str]:
    return (m["file"], m["rule"], m["message"])


def _compare(before: ProjectState, after: ProjectState) -> ProjectVerdict:
    added_tsc = _added(before.tsc, after.tsc, Diagnostic.key) if after.tsc_ran else []
    added_lint = _added(before.lint, after.lint, _lint_key) if after.lint_ran else []
    was = {c.key(): c.status for c in before.tests.cases}
    newly = [c for c in after.tests.cases if c.status == "failed" and was.get(c.key()) != "failed"]
    notes = list(after.notes)
    failing_before = [c for c in before.tests.cases if c.status == "failed"]
    if failing_before:
        notes.append(f"{len(failing_before)} covering test(s) failed before the change too; "
                     "they are not counted against it")
    removed = max(0, len(before.lint) - (len(after.lint) - len(added_lint))) if after.lint_ran \
        else 0
    return ProjectVerdict(added_tsc=added_tsc, added_lint=added_lint, removed_lint=removed,
                          tests_before=before.tests, tests_after=after.tests,
                          newly_failing=newly, notes=notes, lint_after=list(after.lint))


def _rel(project: Project, path: str | Path) -> str:
    p = Path(path)
    try:
        return str(p.resolve().relative_to(project.root)) if p.is_absolute() else str(p)
    except ValueError:
        return str(p)


class ProjectChecker:
    """Checks changes to ``targets`` (files of ``project``) with the project's own tools."""

    def __init__(self, project: Project, targets: Iterable[Path], *,
                 limits: WorkspaceLimits | None = None) -> None:
        self.project = project
        self.targets = [Path(t).resolve() for t in targets]
        self.limits = limits or WorkspaceLimits()
        self.tests = covering_tests(project, self.targets)
        self._baseline: ProjectState | None = None

    @property
    def test_files(self) -> list[str]:
        return [_rel(self.project, t) for t in self.tests]

    async def baseline(self) -> ProjectState:
        """The project as it is (measured once)."""
        if self._baseline is None:
            self._baseline = await self._measure({})
        return self._baseline

    async def typecheck(self, changes: Mapping[Path | str, str]) -> list[Diagnostic]:
        """The project's tsc diagnostics with ``changes`` in place (no lint, no tests)."""
        if not changes:
            return list((await self.baseline()).tsc)
        state = await self._measure({self._key(p): t for p, t in changes.items()},
                                    lint=False, tests=False)
        return state.tsc

    async def check(self, changes: Mapping[Path | str, str], *, tsc: bool = True
                    ) -> ProjectVerdict:
        """The project with ``changes`` in place, against the baseline. Keys are absolute
        paths inside the project or paths relative to its root. ``tsc=False`` leaves the
        type check out (the caller ran :meth:`typecheck` already)."""
        before = await self.baseline()
        after = await self._measure({self._key(p): t for p, t in changes.items()}, tsc=tsc)
        return _compare(before, after)

    async def lint_ours(self, changes: Mapping[Path | str, str], files: Iterable[Path | str],
                        checks: CheckToolchain) -> list[LintFinding] | None:
        """LogoMesh's own lint rules on ``files`` with ``changes`` in place, typed by the
        project's tsconfig; None when they cannot run this way (the caller falls back to the
        scratch-folder lint)."""
        p = self.project
        if p.tsconfig is None:
            return None
        names = [self._key(f) for f in files]
        with Workspace(p, limits=self.limits) as ws:
            for path, text in changes.items():
                ws.write(self._key(path), text)
            config = f"{_RESULTS}/logomesh-lint.config.mjs"
            ws.write(config, project_lint_config(checks, p.tsconfig))
            checks.check_intact()
            run = await ws.run([checks.node, str(checks.eslint), "--no-config-lookup", "-c",
                                str(p.root / config), "-f", "json", "--no-warn-ignored",
                                *names], ro_binds=[checks.root])
        try:
            data = json.loads(run.stdout)
        except ValueError:
            return None
        return parse_eslint_json(data, names, str(p.root) + "/")

    def _key(self, path: Path | str) -> str:
        p = Path(path)
        full = p.resolve() if p.is_absolute() else (self.project.root / p).resolve()
        if not full.is_relative_to(self.project.root):
            raise WorkspaceError(f"{path} is outside the project {self.project.root}: name a "
                                 "file inside it")
        return str(full.relative_to(self.project.root))

    async def _measure(self, changes: Mapping[str, str], *, tsc: bool = True,
                       lint: bool = True, tests: bool = True) -> ProjectState:
        with Workspace(self.project, limits=self.limits) as ws:
            for path, text in changes.items():
                ws.write(path, text)
            changed = list(changes) or [_rel(self.project, t) for t in self.targets]
            diags, tsc_ran, tsc_note = await self._tsc(ws) if tsc else ([], False, "")
            found, lint_ran, lint_note = (await self._lint(ws, changed) if lint
                                          else ([], False, ""))
            report = await self._tests(ws) if tests else TestReport(files=self.test_files)
        notes = [n for n in (tsc_note, lint_note) if n]
        return ProjectState(tsc=diags, lint=found, tests=report, tsc_ran=tsc_ran,
                            lint_ran=lint_ran, notes=notes)

    async def _tsc(self, ws: Workspace) -> tuple[list[Diagnostic], bool, str]:
        p = self.project
        if p.typescript is None or p.tsconfig is None:
            return [], False, "the project has no TypeScript or tsconfig of its own"
        out: list[Diagnostic] = []
        for config in _tsc_configs(p.tsconfig):
            run = await ws.run(["node", str(p.typescript), "--noEmit", "--pretty", "false",
                                "-p", str(config)])
            if run.timed_out:
                return out, False, "the project's tsc timed out"
            out += [d for d in parse_diagnostics(run.stdout + run.stderr)]
        for d in out:
            d.file = _rel(p, p.root / d.file) if d.file else d.file
        return out, True, ""

    async def _lint(self, ws: Workspace, files: list[str]) -> tuple[list[dict], bool, str]:
        p = self.project
        lintable = [f for f in files if f.endswith((".ts", ".tsx", ".js", ".jsx", ".mjs"))]
        if p.eslint is None or p.eslint_config is None or not lintable:
            return [], False, "the project has no eslint and config of its own"
        run = await ws.run(["node", str(p.eslint), "-f", "json", *lintable],
                           env={"ESLINT_USE_FLAT_CONFIG": "true" if p.eslint_config.name
                                .startswith("eslint.config") else "false"})
        try:
            reports = json.loads(run.stdout)
        except ValueError:
            last = (run.stderr.strip().splitlines() or ["no output"])[-1][:200]
            return [], False, f"the project's eslint did not run: {last}"
        out = []
        for rep in reports:
            for m in rep.get("messages", []):
                if m.get("severity") == 2:
                    out.append({"file": _rel(p, rep.get("filePath", "")), "line": m.get("line", 0),
                                "column": m.get("column", 0), "rule": m.get("ruleId") or "parse",
                                "message": m.get("message", ""), "severity": 2,
                                "fixes": [x.model_dump() for x in eslint_fixes(m)]})
        return out, True, ""

    async def _tests(self, ws: Workspace) -> TestReport:
        p = self.project
        files = self.test_files
        report = TestReport(files=files)
        if not files:
            report.problem = "no test file imports the changed module"
            return report
        if p.runner is None:
            report.problem = p.runner_problem
            return report
        result = f"{_RESULTS}/{p.runner.name}-{time.monotonic_ns()}.json"
        out_path = str(p.root / result)
        if p.runner.name == "vitest":
            argv = ["node", str(p.runner.entry), "run", *files, "--reporter=json",
                    f"--outputFile={out_path}", "--watch=false", "--maxWorkers=2",
                    "--minWorkers=1"]
        else:
            argv = ["node", str(p.runner.entry), "--ci", "--json", f"--outputFile={out_path}",
                    "--watchAll=false", "--maxWorkers=2", "--runTestsByPath", *files]
        (ws.copy / _RESULTS).mkdir(exist_ok=True)
        try:
            run = await ws.run(argv)
        except WorkspaceError as exc:
            report.problem = str(exc)
            return report
        report.wall_s = run.wall_s
        if run.timed_out:
            report.problem = f"the test run timed out after {ws.limits.timeout_s:.0f} s"
            return report
        text = ws.read_result(result)
        if text is None:
            last = (_ANSI_RE.sub("", run.stderr + run.stdout).strip().splitlines()
                    or ["no output"])[-1][:200]
            report.problem = f"{p.runner.name} could not start: {last}"
            return report
        try:
            data = json.loads(text)
        except ValueError:
            report.problem = f"{p.runner.name} wrote a result that is not JSON"
            return report
        report.cases = _cases(p, data)
        report.ran = bool(report.cases)
        if not report.cases:
            report.problem = "the runner found no tests in the covering files"
        return report


def _clean(message: str) -> str:
    """A failure message without its stack: the assertion, on one line."""
    kept: list[str] = []
    for line in _ANSI_RE.sub("", message or "").strip().splitlines():
        if line.strip().startswith("at ") and kept:
            break
        kept.append(line.strip())
    return " ".join(" ".join(kept).split())[:500]


def _cases(project: Project, data: dict) -> list[TestCase]:
    """Test cases from a jest-shaped JSON report (vitest's json reporter writes the same)."""
    out = []
    for suite in data.get("testResults", []):
        file = _rel(project, suite.get("name", ""))
        for a in suite.get("assertionResults", []):
            name = " > ".join([*a.get("ancestorTitles", []), a.get("title", "")])
            status = a.get("status", "")
            status = {"pending": "skipped", "todo": "skipped", "disabled": "skipped"}.get(
                status, status)
            msgs = a.get("failureMessages") or []
            out.append(TestCase(file=file, name=name, status=status,
                                message=_clean(msgs[0]) if msgs else ""))
        if not suite.get("assertionResults") and suite.get("status") == "failed":
            out.append(TestCase(file=file, name="(test file)", status="failed",
                                message=_clean(suite.get("message", ""))))
    return out


def _tsc_configs(tsconfig: Path) -> list[Path]:
    """The configs tsc checks: a solution config (``files: []`` + ``references``) stands for
    the configs it references."""
    from .project import _read_jsonc

    data = _read_jsonc(tsconfig)
    refs = data.get("references") or []
    if refs and data.get("files") == []:
        out = []
        for r in refs:
            path = tsconfig.parent / str(r.get("path", ""))
            path = path / "tsconfig.json" if path.is_dir() else path
            if path.is_file():
                out.append(path)
        return out or [tsconfig]
    return [tsconfig]
