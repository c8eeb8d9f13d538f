"""The verifier: a program participant that judges candidates by compiling, linting and running.

For a batch of candidates it

1. type-checks each with ``tsc --strict`` (the project's TypeScript 7), beside the task's support
   files and the probes, in one compiler run, and keeps the JavaScript tsc emits;
2. lints each with eslint 9 + typescript-eslint (type-aware ``no-floating-promises``,
   ``no-explicit-any``, ``switch-exhaustiveness-check``) + eslint-plugin-react-hooks
   (``rules-of-hooks``, ``exhaustive-deps``), in one eslint run;
3. runs the probes against each compiled candidate under node in its own :class:`Sandbox`;
4. does the same for the task's starter, so a candidate that still acts like the known-bad
   starter can be told apart.

Nothing here sees a hidden check or a reference answer: only the task text, the starter, the
support files and what the models wrote.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..verify.compiler import parse_diagnostics
from ..verify.project import find_project
from ..verify.project_checks import ProjectChecker, TestReport
from ..verify.sandbox import Sandbox, SandboxLimits
from ..verify.toolchain import (
    CheckToolchain,
    Toolchain,
    ToolchainError,
    ensure_checks,
    ensure_tsc,
)
from .types import Candidate, CodeTask, Diagnostic, Evidence, Probe, ProbeRun

RUNNER = Path(__file__).resolve().with_name("runner.cjs")
STARTER_ID = "starter"
# The same options the task format judges with (commonjs so node runs the output as is).
COMPILER_OPTIONS = {"strict": True, "module": "commonjs", "target": "es2022",
                    "outDir": "build", "rootDir": ".", "moduleDetection": "force",
                    "jsx": "react-jsx", "esModuleInterop": True}
LINT_RULES = {
    "@typescript-eslint/no-floating-promises": "error",
    "@typescript-eslint/no-explicit-any": "error",
    "@typescript-eslint/switch-exhaustiveness-check": "error",
    "react-hooks/rules-of-hooks": "error",
    "react-hooks/exhaustive-deps": "error",
}
TOOL_TIMEOUT_S = 180
# Probes may not import an assertion library: `assert` is a global in the sandbox runner.
_ASSERT_IMPORT_RE = re.compile(
    r"^\s*import\s+[^;\n]*from\s+[\"'](?:node:)?assert(?:/strict)?[\"'];?\s*$|"
    r"^\s*(?:const|let|var)\s+\w+\s*=\s*require\([\"'](?:node:)?assert[\"']\);?\s*$", re.M)
_PROBE_PRELUDE = ("declare function assert(cond: unknown, message?: string): asserts cond;\n"
                  "declare function __sameValue(a: unknown, b: unknown): boolean;\n"
                  "declare function __show(value: unknown): string;\n"
                  "declare function __clone<T>(value: T): T;\n"
                  "declare function __errorName(error: unknown): string;\n"
                  "declare function __isError(error: unknown, name: string): boolean;\n")
_PROBE_LINE_RE = re.compile(r"^@@PROBE@@ (.*)$", re.M)


@dataclass
class VerifierConfig:
    """How thorough the verifier is."""

    lint: bool = True
    limits: SandboxLimits = SandboxLimits(timeout_s=3.0, memory_mb=256, output_bytes=200_000)
    # Link the toolchain's @types (react, node) for the compile: right for components, wrong for
    # the bench's task format, whose judge compiles without them.
    with_types: bool = False


def project_checker_for(path: Path, notes: list[str]) -> ProjectChecker | None:
    """The project checks for a file on disk inside an installed project LogoMesh can run in
    the sandbox; None (with the reason in ``notes``) otherwise."""
    from ..verify.project import ProjectError
    from ..verify.workspace import Workspace

    project = find_project(path) if path.is_file() else None
    if project is None:
        return None
    try:
        project.require_installed()
    except ProjectError as exc:
        notes.append(f"{exc}; until then only the single-file checks run")
        return None
    if project.tsconfig is None or project.typescript is None:
        notes.append(f"{project.root} has no tsconfig or TypeScript of its own: only the "
                     "single-file checks run")
        return None
    if not Workspace.available():
        notes.append("the project's tests run only in the sandbox, which needs bubblewrap: only "
                     "the single-file checks run")
        return None
    return ProjectChecker(project, [path.resolve()])


class Verifier:
    """Judges candidates for one :class:`CodeTask`; a program, not a model."""

    name = "verifier"

    def __init__(self, task: CodeTask, *, toolchain: Toolchain | None = None,
                 checks: CheckToolchain | None = None,
                 config: VerifierConfig | None = None,
                 project: ProjectChecker | None = None) -> None:
        self.task = task
        # For a file inside the user's project: its own tsc, eslint and covering tests judge
        # each candidate too (see :func:`project_checker_for`).
        self.project = project
        self.config = config or VerifierConfig()
        self.toolchain = toolchain or ensure_tsc()
        self.checks: CheckToolchain | None = checks
        if self.config.lint and self.checks is None:
            try:
                self.checks = ensure_checks(install=False)
            except ToolchainError:
                # No lint packages installed: lint is skipped and the evidence says so.
                self.checks = None
        self.seconds = 0.0
        self.runs = 0

    async def verify(self, candidates: list[Candidate], probes: list[Probe]
                     ) -> dict[str, Evidence]:
        """Evidence for every candidate (by id). The starter is judged alongside, unreported."""
        starter = Candidate(id=STARTER_ID, text=self.task.starter, author="starter",
                            origin="starter")
        batch = [starter, *candidates]
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with tempfile.TemporaryDirectory(prefix="logomesh-verify-") as tmp:
            work = Path(tmp)
            folders = self._write(work, batch, probes)
            compile_errors, bad_probes = await asyncio.to_thread(self._compile, work, folders)
            unparsed = [p for p in probes if p.id in bad_probes]
            probes = [p for p in probes if p.id not in bad_probes]
            lint_errors: dict[int, list[Diagnostic]] = {}
            lint_ran = False
            if self.config.lint and self.checks is not None:
                lint_errors, lint_ran = await asyncio.to_thread(self._lint, work, folders)
            # Two sandboxes at a time: the machine may have only two cores.
            gate = asyncio.Semaphore(2)

            async def run(folder: str) -> tuple[list[ProbeRun], tuple[str, ...]]:
                async with gate:
                    return await self._run_probes(work / "build" / folder, probes)

            done = await asyncio.gather(*(run(f) for f in folders))
            results = [r for r, _ in done]
            refused = {c.id: list(why) for c, (_, why) in zip(batch, done, strict=True)}
            # A probe that does not parse ran for no one; it says so on every candidate.
            skipped = [ProbeRun(probe=p.id, status="not-run",
                                output=f"the probe does not parse: {bad_probes[p.id]}")
                       for p in unparsed]
            runs = {c.id: [*r, *skipped] for c, r in zip(batch, results, strict=True)}
        if self.project is not None:
            probes, runs = _without_unrunnable(probes, runs)
        self.seconds += loop.time() - t0
        self.runs += 1
        base = _evidence(starter, compile_errors[0], lint_errors.get(0, []), lint_ran,
                         runs[STARTER_ID], probes)
        # Acting like the starter only damns a candidate when the starter's fault can only be in
        # what it does: it compiles, lints clean, and the task does not say the behaviour stays
        # (for a type-safety or lint fix, or a refactor, the fixed code is meant to act alike).
        starter_sig = (base.signature if base.compiles and probes and not base.lint_errors
                       and not keeps_behaviour(self.task.instruction) else None)
        keep = exported_names(self.task.starter) - _dropped_on_purpose(self.task.instruction)
        out: dict[str, Evidence] = {}
        for i, cand in enumerate(candidates, start=1):
            found = compile_errors[i], lint_errors.get(i, [])
            kept = [_new_findings(self.task, cand.text, d, s)
                    for d, s in zip(found, (compile_errors[0], lint_errors.get(0, [])),
                                    strict=True)]
            ev = _evidence(cand, kept[0], kept[1], lint_ran, runs[cand.id], probes)
            ev.preexisting = sum(len(d) for d in found) - sum(len(d) for d in kept)
            ev.unchanged = cand.text.strip() == self.task.starter.strip()
            ev.missing_exports = sorted(keep - exported_names(cand.text))
            ev.refused = refused[cand.id]
            ev.same_as_starter = (starter_sig is not None and ev.compiles
                                  and ev.signature == starter_sig and not ev.unchanged)
            out[cand.id] = ev
        if self.project is not None:
            await self._project_checks(candidates, out)
        return out

    async def _project_checks(self, candidates: list[Candidate], out: dict[str, Evidence]
                              ) -> None:
        """The project's verdict on each candidate that changed the file (one at a time: each
        runs the project's tsc and test runner)."""
        assert self.project is not None
        target = self.project.targets[0]
        for cand in candidates:
            ev = out[cand.id]
            if ev.unchanged:
                # The project as it is: nothing added, and its tests' results as they stand.
                ev.compile_errors, ev.compiles = [], True
                ev.project = _project_evidence((await self.project.baseline()).tests)
                continue
            v = await self.project.check({target: cand.text})
            # The project's tsc, with its tsconfig and node_modules, is the type check here, and
            # LogoMesh's rules typed by it are the lint: the scratch folder cannot resolve the
            # project's imports, so its types there say nothing.
            ev.compile_errors = [Diagnostic(tool="tsc", line=d.line, column=d.col,
                                            code=f"TS{d.code}", message=d.message)
                                 for d in v.added_tsc]
            ev.compiles = not ev.compile_errors
            if self.checks is not None:
                found = await self.project.lint_ours({target: cand.text}, [target], self.checks)
                if found is not None:
                    ev.lint_errors = [Diagnostic(tool="eslint", line=f.line, code=f.rule,
                                                 message=f.message)
                                      for f in found if f.rule in LINT_RULES]
                    ev.lint_ran = True
            ev.project = _project_evidence(
                v.tests_after, added_tsc=[d.render() for d in v.added_tsc],
                added_lint=[f"{m['rule']} at {m['file']}:{m['line']}: {m['message']}"
                            for m in v.added_lint],
                newly_failing=[c.__dict__ for c in v.newly_failing],
                stopped=v.tests_before.ran and not v.tests_after.ran, notes=v.notes)

    def _write(self, work: Path, batch: list[Candidate], probes: list[Probe]) -> list[str]:
        folders = []
        for i, cand in enumerate(batch):
            folder = f"c{i}"
            d = work / folder
            d.mkdir()
            for name, text in self.task.support.items():
                (d / Path(name).name).write_text(text, encoding="utf-8")
            (d / self.task.file_name).write_text(cand.text, encoding="utf-8")
            for p in probes:
                (d / f"probe_{p.id}.ts").write_text(_probe_source(p), encoding="utf-8")
            folders.append(folder)
        if self.config.with_types:
            (work / "node_modules").symlink_to(self.toolchain.node_modules,
                                               target_is_directory=True)
        self._tsconfig(work, folders)
        return folders

    def _tsconfig(self, work: Path, folders: list[str]) -> None:
        options = dict(COMPILER_OPTIONS)
        if not self.config.with_types:
            options["types"] = []
        (work / "tsconfig.json").write_text(json.dumps(
            {"compilerOptions": options, "include": [f"{f}/**/*.ts" for f in folders]
             + [f"{f}/**/*.tsx" for f in folders]}))

    def _compile(self, work: Path, folders: list[str]
                 ) -> tuple[list[list[Diagnostic]], dict[str, str]]:
        """tsc's errors per folder, and the probes that do not parse (id: tsc's message).

        tsc reports no type errors at all while any file of the program has a syntax error
        (TS1xxx): one candidate or probe that does not parse would hide every other candidate's
        type errors (found in a bench run: a tester's probe cut off mid-line let a candidate
        with five strict-mode errors "compile"). So a folder whose candidate does not parse
        keeps its syntax errors and leaves the program, a probe that does not parse is removed
        from every folder, and tsc runs again on the rest.
        """
        per: list[list[Diagnostic]] = [[] for _ in folders]
        bad_probes: dict[str, str] = {}
        active = list(range(len(folders)))
        # Each pass that does not end the loop takes out a candidate or a probe: it ends.
        while active:
            self._tsconfig(work, [folders[i] for i in active])
            # tsc runs outside the sandbox: only from files that are as they were installed.
            self.toolchain.check_intact()
            proc = subprocess.run([str(self.toolchain.tsc), "--pretty", "false", "-p",
                                   "tsconfig.json"], cwd=work, capture_output=True, text=True,
                                  timeout=TOOL_TIMEOUT_S)
            found: dict[int, list[Diagnostic]] = {i: [] for i in active}
            stray = []
            unparsed: set[int] = set()
            new_bad: dict[str, str] = {}
            for d in parse_diagnostics(proc.stdout + proc.stderr):
                if d.category != "error":
                    continue
                head, _, rest = d.file.partition("/")
                if not head.startswith("c") or not head[1:].isdigit():
                    stray.append(d)
                    continue
                syntax = 1000 <= d.code < 2000
                name = Path(rest).name
                if name.startswith("probe_"):
                    # The probes' own type errors are the tester's, not the candidate's.
                    if syntax:
                        new_bad.setdefault(name.removeprefix("probe_").rsplit(".", 1)[0],
                                           f"TS{d.code}: {d.message}")
                    continue
                found[int(head[1:])].append(Diagnostic(tool="tsc", line=d.line, column=d.col,
                                                       code=f"TS{d.code}", message=d.message))
                if syntax:
                    unparsed.add(int(head[1:]))
            for i in unparsed:
                per[i] = found[i]
            if not unparsed and not new_bad:
                for i in active:
                    per[i] = found[i] + [Diagnostic(tool="tsc", code=f"TS{d.code}",
                                                    message=d.message) for d in stray]
                break
            bad_probes.update(new_bad)
            for pid in new_bad:
                for f in folders:
                    (work / f / f"probe_{pid}.ts").unlink(missing_ok=True)
            active = [i for i in active if i not in unparsed]
        self._tsconfig(work, folders)
        return per, bad_probes

    def _lint(self, work: Path, folders: list[str]) -> tuple[dict[int, list[Diagnostic]], bool]:
        assert self.checks is not None
        nm = self.checks.node_modules
        config = (
            f'import tseslint from {json.dumps(str(nm / "typescript-eslint/dist/index.js"))};\n'
            f'import hooks from {json.dumps(str(nm / "eslint-plugin-react-hooks/index.js"))};\n'
            "export default [{ files: ['**/*.ts', '**/*.tsx'],\n"
            "  languageOptions: { parser: tseslint.parser, parserOptions: {\n"
            "    project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },\n"
            "  plugins: { '@typescript-eslint': tseslint.plugin, 'react-hooks': hooks },\n"
            f"  rules: {json.dumps(LINT_RULES)} }}];\n")
        (work / "eslint.config.mjs").write_text(config)
        files = [f"{f}/{self.task.file_name}" for f in folders]
        # eslint runs outside the sandbox, from the packages the sandbox reads: check them first.
        self.checks.check_intact()
        try:
            proc = subprocess.run([self.checks.node, str(self.checks.eslint), "--no-config-lookup",
                                   "-c", "eslint.config.mjs", "-f", "json", *files], cwd=work,
                                  capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
            reports = json.loads(proc.stdout)
        except (subprocess.TimeoutExpired, ValueError, OSError):
            return {}, False
        out: dict[int, list[Diagnostic]] = {}
        for rep in reports:
            rel = Path(rep["filePath"]).resolve().relative_to(work.resolve())
            idx = int(rel.parts[0][1:])
            for m in rep.get("messages", []):
                # Parse errors repeat what tsc says; keep the rules' findings only.
                if m.get("severity") == 2 and m.get("ruleId"):
                    out.setdefault(idx, []).append(Diagnostic(
                        tool="eslint", line=m.get("line", 0), column=m.get("column", 0),
                        code=m["ruleId"],
                        message=m.get("message", "")))
        return out, True

    async def _run_probes(self, build: Path, probes: list[Probe]
                          ) -> tuple[list[ProbeRun], tuple[str, ...]]:
        """Each probe's run against one candidate's build, and what the sandbox refused."""
        if not probes:
            return [], ()
        if not build.is_dir():
            return [ProbeRun(probe=p.id, status="not-run", output="no JavaScript was emitted")
                    for p in probes], ()
        with Sandbox(limits=self.config.limits,
                     read_paths=[self.checks.node_modules] if self.checks else []) as sb:
            for js in build.rglob("*.js"):
                dest = sb.root / js.relative_to(build)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(js, dest)
            if self.checks is not None:
                # react/jsdom for components; node's permission model needs it among read paths.
                sb.link("node_modules", self.checks.node_modules)
            shutil.copyfile(RUNNER, sb.root / "__runner.cjs")
            subject = Path(self.task.file_name).with_suffix(".js").name
            result = await sb.run_node("__runner.cjs",
                                       args=[json.dumps([f"probe_{p.id}.js" for p in probes]),
                                             subject])
        done = {}
        for m in _PROBE_LINE_RE.finditer(result.stdout):
            try:
                data = json.loads(m.group(1))
            except ValueError:
                continue
            done[data["probe"].removeprefix("probe_").removesuffix(".js")] = ProbeRun(
                probe=data["probe"].removeprefix("probe_").removesuffix(".js"),
                status=data["status"], output=data["output"])
        runs = []
        cut = False
        for p in probes:
            if p.id in done:
                runs.append(done[p.id])
                continue
            # The first unfinished probe is the one that was running when the run ended.
            status = "not-run" if cut else ("timed-out" if result.timed_out else "killed")
            detail = result.reason() or result.stderr[-300:]
            runs.append(ProbeRun(probe=p.id, status=status, output=detail))
            cut = True
        return runs, result.refusals


_KEEPS_BEHAVIOUR_RE = re.compile(
    r"\b(?:output|behaviou?r|results?|return values?)\b[^.;]{0,40}?\b(?:must|should|does|do|will)"
    r"(?:\s+not|n't)\s+change|\b(?:same|unchanged|identical)\s+(?:output|behaviou?r|results?)"
    r"|\bwithout\s+changing\s+(?:its\s+|the\s+|their\s+)?(?:output|behaviou?r|results?)"
    r"|\b(?:output|behaviou?r|results?)\s+(?:stays?|remains?)\s+(?:the\s+same|unchanged)"
    r"|\b(?:keep|keeps|keeping|preserve|preserves|preserving)\s+(?:its\s+|the\s+|their\s+)?"
    r"(?:current\s+|existing\s+)?(?:output|behaviou?r|results?)\b",
    re.I)


def keeps_behaviour(instruction: str) -> bool:
    """Whether the task says the code's behaviour stays as it is ("whose output must not
    change", "without changing its behaviour", "keep its behaviour"): a refactor, where acting
    like the starter is the point."""
    return bool(_KEEPS_BEHAVIOUR_RE.search(" ".join(instruction.split())))


_EXPORT_DECL_RE = re.compile(
    r"^\s*export\s+(?:declare\s+)?(?:default\s+)?(?:async\s+)?(?:abstract\s+)?"
    r"(?:function\s*\*?|const|let|var|class|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)",
    re.M)
_EXPORT_LIST_RE = re.compile(r"^\s*export\s+(?:type\s+)?\{([^}]*)\}", re.M)
_EXPORT_DEFAULT_RE = re.compile(r"^\s*export\s+default\b", re.M)


def exported_names(source: str) -> set[str]:
    """The names a TypeScript file exports, as far as its export statements say (``default``
    for a default export)."""
    names = set(_EXPORT_DECL_RE.findall(source))
    for group in _EXPORT_LIST_RE.findall(source):
        for item in group.split(","):
            words = item.split()
            if words:
                names.add(words[-1] if len(words) >= 3 and words[-2] == "as" else words[-1]
                          if words[0] == "type" else words[0])
    if _EXPORT_DEFAULT_RE.search(source):
        names.add("default")
    return names


_DROPPED_RE = re.compile(
    r"\b(?:remove|rename|delete|drop|unexport|inline)\s+(?:the\s+)?(?:exported\s+|export\s+)?"
    r"(?:function\s+|type\s+|interface\s+|const\s+|class\s+|helper\s+)?`([A-Za-z_$][\w$]*)`"
    r"|`([A-Za-z_$][\w$]*)`\s+(?:is|are|can\s+be|may\s+be|should\s+be|must\s+be)\s+"
    r"(?:removed|renamed|deleted|dropped|inlined|unexported)", re.I)


def _dropped_on_purpose(instruction: str) -> set[str]:
    """Names a task says to remove or rename ("remove the `legacyTotal` helper", "`x` is
    renamed"): a candidate may stop exporting them."""
    return {a or b for a, b in _DROPPED_RE.findall(" ".join(instruction.split()))}


def _new_findings(task: CodeTask, text: str, found: list[Diagnostic],
                  original: list[Diagnostic]) -> list[Diagnostic]:
    """The findings a candidate answers for.

    Without a focus, all of them. With one (a file too big for a reply, where the models
    rewrite one part), a finding outside the rewritten part that the original file has at the
    same place (same tool, code, message, and line once the part's change in length is
    allowed for) is the rest of the file's, not the candidate's: the candidate answers for
    everything inside its part and anything new elsewhere (a name it renamed, a type it broke).
    """
    if task.focus is None or not original:
        return found
    a, b = task.focus
    head, tail = task.starter[:a], task.starter[b:]
    if not (text.startswith(head) and text.endswith(tail)) or len(text) < len(head) + len(tail):
        return found
    first = head.count("\n") + 1
    last_old = task.starter[:b].count("\n") + 1
    last_new = text[:len(text) - len(tail)].count("\n") + 1
    known = Counter((d.tool, d.code, d.line, d.message) for d in original
                    if d.line and not first <= d.line <= last_old)
    out = []
    for d in found:
        if d.line and (d.line < first or d.line > last_new):
            line = d.line if d.line < first else d.line - (last_new - last_old)
            key = (d.tool, d.code, line, d.message)
            if known[key]:
                known[key] -= 1
                continue
        out.append(d)
    return out


def _probe_source(probe: Probe) -> str:
    return _PROBE_PRELUDE + _ASSERT_IMPORT_RE.sub("", probe.code)


def _project_evidence(tests: TestReport, *, added_tsc: list[str] | None = None,
                      added_lint: list[str] | None = None,
                      newly_failing: list[dict] | None = None, stopped: bool = False,
                      notes: list[str] | None = None) -> dict:
    """``Evidence.project``: what the project's tools said of a candidate."""
    return {"added_tsc": added_tsc or [], "added_lint": added_lint or [],
            "tests": {k: v for k, v in tests.to_json().items() if k != "cases"},
            "cases": [c.__dict__ for c in tests.cases], "newly_failing": newly_failing or [],
            "tests_stopped": stopped, "notes": notes or []}


_MODULE_MISSING = re.compile(r"Cannot find module|ERR_MODULE_NOT_FOUND")


def _without_unrunnable(probes: list[Probe], runs: dict[str, list[ProbeRun]]
                        ) -> tuple[list[Probe], dict[str, list[ProbeRun]]]:
    """Inside a project: a probe that cannot even load the starter because the scratch folder
    lacks the project's modules is no evidence about any candidate (the project's tests and
    tsc judge them); it is shown as not run and not counted."""
    dead = {r.probe for r in runs.get(STARTER_ID, [])
            if r.status == "threw" and _MODULE_MISSING.search(r.output)}
    if not dead:
        return probes, runs
    note = "not run: the probe cannot load the project's modules outside the project"
    return ([p for p in probes if p.id not in dead],
            {cid: [ProbeRun(probe=r.probe, status="not-run", output=note) if r.probe in dead
                   else r for r in rs] for cid, rs in runs.items()})


def _evidence(cand: Candidate, compile_errors: list[Diagnostic], lint_errors: list[Diagnostic],
              lint_ran: bool, runs: list[ProbeRun], probes: list[Probe]) -> Evidence:
    asserting = {p.id for p in probes if p.asserts}
    return Evidence(candidate=cand.id, compiles=not compile_errors,
                    compile_errors=compile_errors, lint_errors=lint_errors, lint_ran=lint_ran,
                    probes=runs,
                    asserts_total=len(asserting),
                    asserts_passed=sum(1 for r in runs if r.probe in asserting
                                       and r.status == "ok"))
