"""The gate: the evidence on a version of the files, and whether an edited version is kept.

An edit passes when the whole program compiles (no new error), no finding is added (per file
and rule, the static measures by their counts, a hook's missing dependencies by name), at least
one finding is removed, and the DOM after every step of the interaction script matches the
behaviour reference.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass, field

from ..verify.compiler import CompileResult, typecheck_sources
from ..verify.harness import HarnessRun, compare, run_behaviour, runtime_problems
from ..verify.lint import LintFinding, Suggestion, lint_sources
from ..verify.toolchain import CheckToolchain, Toolchain
from .measures import Measures, measure_source
from .records import Finding

# Static measures that count as findings in the gate. The others (inline props, array work in
# render, effects copying state) are reported only: the usual fix for one raises another.
GATED_MEASURES = ("any_count", "effects_without_deps", "hooks_missing_deps",
                  "effects_without_cleanup", "ts_ignores", "non_null_assertions")
# Runtime facts whose line is only a guess (the first effect): targets of their own only when
# no lint finding already points into those lines.
SECONDARY_RUNTIME = {"runtime/extra-renders", "runtime/repeated-api-calls"}
_MISSING_DEPS_RE = re.compile(r"missing dependenc(?:y|ies): (.*?)\. (?:Either|Outer)", re.S)


def measure_findings(files: dict[str, str]) -> list[Finding]:
    out: list[Finding] = []
    for f, text in files.items():
        m: Measures = measure_source(text, f)
        for entry in m.missing_deps:
            _, line, name = entry.split(":", 2)
            out.append(Finding(source="measure", rule="measure/hooks_missing_deps", file=f,
                               line=int(line), message=f"a hook reads `{name}` but its "
                                                       "dependency list omits it"))
        for entry in m.unstable_deps:
            _, line, name = entry.split(":", 2)
            out.append(Finding(source="measure", rule="measure/hooks_unstable_deps", file=f,
                               line=int(line), message=f"dependency `{name}` is a new value "
                                                       "every render"))
        head = m.headline()
        for key in GATED_MEASURES:
            if key != "hooks_missing_deps" and head.get(key):
                out.append(Finding(source="measure", rule=f"measure/{key}", file=f,
                                   message=f"{key.replace('_', ' ')}: {head[key]}"))
    return out


def gate_counts(findings: list[Finding]) -> Counter[tuple[str, str]]:
    """What the gate compares: findings per (file, rule), measures by their counts."""
    c: Counter[tuple[str, str]] = Counter()
    for f in findings:
        if f.source == "measure":
            if f.rule == "measure/hooks_missing_deps":
                c[(f.file, f.rule)] += 1
            elif f.rule.removeprefix("measure/") in GATED_MEASURES:
                c[(f.file, f.rule)] += int(f.message.rsplit(":", 1)[1])
        else:
            c[(f.file, f.rule)] += 1
    return c


def missing_deps(findings: list[Finding]) -> Counter[tuple[str, str]]:
    """(file, name) for each dependency a hook reads and its list omits, as eslint's
    exhaustive-deps and the measures name them. Counting findings per rule cannot see an edit
    that adds one dependency and drops another the hook reads; these names can."""
    c: Counter[tuple[str, str]] = Counter()
    for f in findings:
        if f.rule == "react-hooks/exhaustive-deps":
            m = _MISSING_DEPS_RE.search(f.message)
            if m:
                for name in re.findall(r"'([^']+)'", m.group(1)):
                    c[(f.file, name)] += 1
        elif f.rule == "measure/hooks_missing_deps":
            for name in re.findall(r"`([^`]+)`", f.message)[:1]:
                c[(f.file, name)] += 1
    return c


@dataclass
class Verdict:
    passed: bool
    reason: str
    findings: list[Finding] = field(default_factory=list)
    runs: dict[str, HarnessRun] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


@dataclass
class Gate:
    """The compiler, the linter and the behaviour harness over one run's versions of the files.

    ``baseline``: the input's own compile errors (an edit may keep them, never add one).
    ``last_lint``: what the latest lint found, eslint's suggestions included."""

    toolchain: Toolchain
    checks: CheckToolchain
    baseline: set[tuple[str, int, str]] = field(default_factory=set)
    last_lint: list[LintFinding] = field(default_factory=list)

    async def compile(self, files: dict[str, str]) -> CompileResult:
        # tsc and eslint are blocking subprocesses: in a thread, so the caller's loop runs on.
        return await asyncio.to_thread(typecheck_sources, self.toolchain, files)

    def entries(self, files: dict[str, str]) -> list[str]:
        return [f for f in files if f.endswith(".tsx")][:4]

    async def behaviour(self, files: dict[str, str], scripts: dict[str, dict],
                        entries: list[str] | None = None) -> dict[str, HarnessRun]:
        """Each entry rendered through its script (``entries``: these only)."""
        runs = {}
        for entry in self.entries(files) if entries is None else entries:
            runs[entry] = await run_behaviour(files, entry, script=scripts.get(entry),
                                              checks=self.checks)
        return runs

    async def findings(self, files: dict[str, str], runs: dict[str, HarnessRun]
                       ) -> list[Finding]:
        out = [Finding(source="lint", rule=f.rule, file=f.file, line=f.line, message=f.message)
               for f in await self.lint(files)]
        for entry, run in runs.items():
            for rule, message in runtime_problems(run):
                out.append(Finding(source="runtime", rule=rule, file=entry,
                                   line=runtime_line(files[entry], rule, message),
                                   message=message))
        return out + measure_findings(files)

    async def static_findings(self, files: dict[str, str]) -> list[Finding]:
        """The findings that need no run of the component: lint and the static measures."""
        lint = [Finding(source="lint", rule=f.rule, file=f.file, line=f.line, message=f.message)
                for f in await self.lint(files)]
        return lint + measure_findings(files)

    async def lint(self, files: dict[str, str]) -> list[LintFinding]:
        found = await asyncio.to_thread(lint_sources, files, checks=self.checks)
        self.last_lint = found
        return found

    def suggestions(self, files: dict[str, str], target: Finding,
                    lint_now: list[LintFinding]) -> list[Suggestion]:
        """eslint's fixes and suggestions for ``target`` in the current ``files`` (whose lint
        is ``lint_now``)."""
        if target.source != "lint":
            return []
        return [s for f in lint_now if f.file == target.file and f.line == target.line
                and f.rule == target.rule for s in f.suggestions]

    async def judge(self, files: dict[str, str], before: list[Finding],
                    refs: dict[str, HarnessRun], scripts: dict[str, dict]) -> Verdict:
        """Whether ``files`` may replace the version whose findings are ``before``."""
        compiled = await self.compile(files)
        new_errors = [d for d in compiled.errors if d.key() not in self.baseline]
        if new_errors:
            return Verdict(False, "does not compile: " + new_errors[0].render())
        static = await self.static_findings(files)
        b = gate_counts(before)
        added = [k for k, n in gate_counts(static).items() if n > b.get(k, 0)]
        if added:
            return Verdict(False, f"adds a finding: {added[0][1]} in {added[0][0]}")
        was_missing = missing_deps(before)
        now_missing = [k for k, n in missing_deps(static).items() if n > was_missing.get(k, 0)]
        if now_missing:
            return Verdict(False, f"adds a finding: a hook now omits `{now_missing[0][1]}` from "
                                  f"its dependencies in {now_missing[0][0]}")
        # Only the components the reference rendered: one the harness cannot render (a module
        # it lacks) is judged by the compiler, the linter and the tests, on every version alike.
        runs = await self.behaviour(files, scripts, entries=list(refs))
        differs = _behaviour_differs(refs, runs)
        if differs:
            return Verdict(False, differs)
        findings = static + [Finding(source="runtime", rule=r, file=e,
                                     line=runtime_line(files[e], r, m), message=m)
                             for e, run in runs.items() for r, m in runtime_problems(run)]
        after = gate_counts(findings)
        repaired = any(not ref.settled and runs[e].settled for e, ref in refs.items()
                       if e in runs)
        # Extra renders and repeated calls are only counted on steps that settle: a version
        # that repairs a page that never settled shows them for the first time, not anew.
        added = [k for k, n in after.items() if n > b.get(k, 0)
                 and not (repaired and k[1] in SECONDARY_RUNTIME)]
        if added:
            return Verdict(False, f"adds a finding: {added[0][1]} in {added[0][0]}")
        removed = [f"{k[1]} in {k[0]}" for k, n in b.items() if after.get(k, 0) < n]
        if not removed:
            return Verdict(False, "removes no finding")
        same = ", same DOM after every step" if runs else ""
        return Verdict(True, f"compiles{same}, removes " + ", ".join(removed),
                       findings=findings, runs=runs, removed=removed)


def _behaviour_differs(refs: dict[str, HarnessRun], runs: dict[str, HarnessRun]) -> str:
    """Why the runs do not behave like the references ("" when they do)."""
    for entry, ref in refs.items():
        run = runs.get(entry)
        if run is None or not run.ok:
            return f"{entry}: " + (run.error if run else "did not run")
        # Against a reference that never settles, only a version that settles may differ
        # (it repairs that defect); any other must match it step by step, like always.
        if ref.settled or not run.settled:
            same, why = compare(ref, run)
            if not same:
                return f"changes behaviour: {why}"
            more = _more_work(ref, run)
            if more:
                return more
    return ""


def _more_work(ref: HarnessRun, run: HarnessRun) -> str:
    """Renders and API calls per interaction may only go down."""
    for label, count in (("renders", lambda s: s.renders), ("API calls", lambda s: len(s.api))):
        before = sum(count(s) for s in ref.steps)
        after = sum(count(s) for s in run.steps)
        if after > before:
            return f"more {label} over the script ({before} -> {after})"
    return ""


def runtime_line(text: str, rule: str, message: str) -> int:
    """Where a runtime finding most likely comes from (runtime facts carry no line): the fetch
    of the URL that repeats, the timer that is never cleared, else the first effect."""
    lines = text.splitlines()
    if rule in ("runtime/never-settles", "runtime/render-loop"):
        # The usual cause: a hook dependency that is a new object or function every render.
        for entry in measure_source(text).unstable_deps:
            name = entry.rsplit(":", 1)[-1]
            for i, line in enumerate(lines, 1):
                if re.search(rf"\b(?:const|let|var)\s+{re.escape(name)}\b", line):
                    return i
    if rule in ("runtime/never-settles", "runtime/repeated-api-calls"):
        m = re.search(r"(?:GET|POST|PUT|DELETE|PATCH) (\S+)", message)
        if m:
            tail = re.sub(r"\?.*$", "", m.group(1)).rstrip("/").rsplit("/", 1)[-1]
            for i, line in enumerate(lines, 1):
                if tail and tail in line and "fetch" in line:
                    return i
    if rule == "runtime/timers-left-running":
        # Intervals first: a timeout left behind fires while the script lets time pass, an
        # interval still scheduled after unmount is what this finding usually is.
        for kind in ("Interval", "Timeout"):
            for i, line in enumerate(lines, 1):
                if re.search(rf"\bset{kind}\s*\(", line):
                    body = "\n".join(lines[i - 1:i + 15])
                    if "clear" not in body:
                        return i
    for i, line in enumerate(lines, 1):
        if re.search(r"\buse(?:Layout)?Effect\s*\(", line):
            return i
    return 0
