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
from dataclasses import dataclass
from pathlib import Path

from ..codepipe.compiler import parse_diagnostics
from ..codepipe.toolchain import (
    CheckToolchain,
    Toolchain,
    ToolchainError,
    ensure_checks,
    ensure_tsc,
)
from .sandbox import Sandbox, SandboxLimits
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


class Verifier:
    """Judges candidates for one :class:`CodeTask`; a program, not a model."""

    name = "verifier"

    def __init__(self, task: CodeTask, *, toolchain: Toolchain | None = None,
                 checks: CheckToolchain | None = None,
                 config: VerifierConfig | None = None) -> None:
        self.task = task
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
            compile_errors = await asyncio.to_thread(self._compile, work, folders)
            lint_errors: dict[int, list[Diagnostic]] = {}
            lint_ran = False
            if self.config.lint and self.checks is not None:
                lint_errors, lint_ran = await asyncio.to_thread(self._lint, work, folders)
            # Two sandboxes at a time: the machine may have only two cores.
            gate = asyncio.Semaphore(2)

            async def run(folder: str) -> list[ProbeRun]:
                async with gate:
                    return await self._run_probes(work / "build" / folder, probes)

            results = await asyncio.gather(*(run(f) for f in folders))
            runs = {c.id: r for c, r in zip(batch, results, strict=True)}
        self.seconds += loop.time() - t0
        self.runs += 1
        base = _evidence(starter, compile_errors[0], lint_errors.get(0, []), lint_ran,
                         runs[STARTER_ID], probes)
        # Acting like the starter only damns a candidate when the starter itself compiles (for a
        # type-safety task, the fixed code is meant to act like the starter).
        starter_sig = base.signature if base.compiles and probes else None
        out: dict[str, Evidence] = {}
        for i, cand in enumerate(candidates, start=1):
            ev = _evidence(cand, compile_errors[i], lint_errors.get(i, []), lint_ran,
                           runs[cand.id], probes)
            ev.unchanged = cand.text.strip() == self.task.starter.strip()
            ev.same_as_starter = (starter_sig is not None and ev.compiles
                                  and ev.signature == starter_sig and not ev.unchanged)
            out[cand.id] = ev
        return out

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
        options = dict(COMPILER_OPTIONS)
        if self.config.with_types:
            (work / "node_modules").symlink_to(self.toolchain.node_modules,
                                               target_is_directory=True)
        else:
            options["types"] = []
        (work / "tsconfig.json").write_text(json.dumps(
            {"compilerOptions": options, "include": [f"{f}/**/*.ts" for f in folders]
             + [f"{f}/**/*.tsx" for f in folders]}))
        return folders

    def _compile(self, work: Path, folders: list[str]) -> list[list[Diagnostic]]:
        proc = subprocess.run([str(self.toolchain.tsc), "--pretty", "false", "-p", "tsconfig.json"],
                              cwd=work, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
        diags = parse_diagnostics(proc.stdout + proc.stderr)
        per: list[list[Diagnostic]] = [[] for _ in folders]
        stray = []
        for d in diags:
            if d.category != "error":
                continue
            head, _, rest = d.file.partition("/")
            if not head.startswith("c") or not head[1:].isdigit():
                stray.append(d)
                continue
            # The probes' own type errors are the tester's, not the candidate's.
            if Path(rest).name.startswith("probe_"):
                continue
            per[int(head[1:])].append(Diagnostic(tool="tsc", line=d.line, code=f"TS{d.code}",
                                                 message=d.message))
        for d in stray:
            # A global diagnostic (bad option) cannot be pinned on one candidate: all fail.
            for errs in per:
                errs.append(Diagnostic(tool="tsc", code=f"TS{d.code}", message=d.message))
        return per

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
                        tool="eslint", line=m.get("line", 0), code=m["ruleId"],
                        message=m.get("message", "")))
        return out, True

    async def _run_probes(self, build: Path, probes: list[Probe]) -> list[ProbeRun]:
        if not probes:
            return []
        if not build.is_dir():
            return [ProbeRun(probe=p.id, status="not-run", output="no JavaScript was emitted")
                    for p in probes]
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
        return runs


def _probe_source(probe: Probe) -> str:
    return _PROBE_PRELUDE + _ASSERT_IMPORT_RE.sub("", probe.code)


def _evidence(cand: Candidate, compile_errors: list[Diagnostic], lint_errors: list[Diagnostic],
              lint_ran: bool, runs: list[ProbeRun], probes: list[Probe]) -> Evidence:
    asserting = {p.id for p in probes if p.asserts}
    return Evidence(candidate=cand.id, compiles=not compile_errors,
                    compile_errors=compile_errors, lint_errors=lint_errors, lint_ran=lint_ran,
                    probes=runs,
                    asserts_total=len(asserting),
                    asserts_passed=sum(1 for r in runs if r.probe in asserting
                                       and r.status == "ok"))
