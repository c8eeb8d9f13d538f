"""The refactor pipeline: findings drive small edits; programs decide what is kept.

1. Findings, each with file and line: eslint (react-hooks incl. the React Compiler rules,
   type-aware typescript-eslint), the behaviour harness (render loops, steps that never settle,
   extra renders, repeated API calls, timers left running) and the static measures.
2. The behaviour reference: the original rendered under node (jsdom, react-dom, mocked API, fake
   timers) through an interaction script (given, or derived from the component). When the
   original never settles, that is the first finding to fix, and once a change fixes it, that
   version becomes the reference: later changes must match the original with only that defect
   repaired.
3. For each finding: candidate edits, smallest first - eslint's own suggestions, then the
   strongest model's search/replace edit of the lines the finding is about (the file's text
   first in every prompt so the model's KV prefix is shared across turns), one repair turn from
   the gate's facts, one sampled edit. The first candidate that passes the gate is kept: the
   whole program compiles (tsc --strict, no new error), no finding is added, at least one is
   removed, and the DOM after every step of the script matches the reference.
4. The documentation of each kept change is written from its diff and checked: it must name an
   identifier the diff touches and no identifier the diff does not contain.

A slow or failed model turn costs its step, never the run; the run stops starting turns when its
time budget is spent and always returns what it has.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..conversation.messages import LLMMessage, MessageType
from ..errors import LogoMeshError, UsageError
from ..sessions import events as ev
from . import prompts
from .compiler import CompileResult, Diagnostic, typecheck_sources
from .edits import (
    apply_edits,
    apply_range_fix,
    clear_timer_in_effect,
    edits_from_reply,
    ensure_react_imports,
    excerpt_range,
    lines_of,
    memoize_declaration,
)
from .executors import StepFailed, TokenLedger, TurnExecutor, ask, strongest_role
from .harness import HarnessRun, compare, run_behaviour, runtime_problems
from .lint import RULE_TEXT, LintFinding, lint_sources
from .measures import Measures, measure_source
from .patches import unified_diff
from .splitter import estimate_tokens
from .toolchain import CheckToolchain, Toolchain, ensure_checks, ensure_tsc

TS_SUFFIXES = (".ts", ".tsx")
_SKIP_DIRS = {"node_modules", ".git", "build", "dist"}
_EXPORT_RE = re.compile(r"^export\s+(?:default\s+)?(?:declare\s+)?(?:async\s+)?"
                        r"(?:function\*?|const|let|var|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)",
                        re.M)
_IDENT_RE = re.compile(r"[A-Za-z_$][\w$]*")
# Static measures that count as findings in the gate. The others (inline props, array work in
# render, effects copying state) are reported only: the usual fix for one raises another.
GATED_MEASURES = ("any_count", "effects_without_deps", "hooks_missing_deps",
                  "effects_without_cleanup", "ts_ignores", "non_null_assertions")
# Which findings to work on first: a page that never settles hides every other behaviour.
_RULE_ORDER = ["runtime/render-loop", "runtime/never-settles", "runtime/crash",
               "runtime/timers-left-running", "react-hooks/rules-of-hooks",
               "@typescript-eslint/no-floating-promises", "react-hooks/exhaustive-deps",
               "react-hooks/set-state-in-effect", "runtime/extra-renders",
               "@typescript-eslint/no-explicit-any"]
_LOOP_RULES = {"runtime/never-settles", "runtime/render-loop", "measure/hooks_unstable_deps"}
# Runtime facts whose line is only a guess (the first effect): targets of their own only when
# no lint finding already points into those lines.
_SECONDARY_RUNTIME = {"runtime/extra-renders", "runtime/repeated-api-calls"}
# TypeScript's syntax errors (TS1xxx): the file does not parse.
_SYNTAX_CODES = range(1000, 2000)


class InputError(UsageError):
    """The path to refactor does not exist, holds no TypeScript, does not parse or is too large."""


@dataclass
class RefactorOptions:
    """Budgets and knobs.

    ``time_budget_s``: wall time after which no new model turn starts (the run then finishes
    its bookkeeping and returns). ``max_findings``: findings worked on at most.
    ``samples``: extra sampled edits per finding after the greedy one and its repair.
    ``max_file_tokens``: the largest input the pool is asked to hold (the whole file is in every
    edit prompt)."""

    time_budget_s: float = 780.0
    max_findings: int | None = None
    repairs: int = 1
    samples: int = 1
    max_reply_tokens: int = 400
    temperature: float = 0.0
    sample_temperature: float = 0.7
    max_file_tokens: int = 12000
    # Up to this size the whole file leads every edit prompt; above it, its outline and the
    # lines around the finding (a 6k-token prefix took over 240 s for the 1.5B model on two
    # busy cores: the first turn timed out).
    whole_file_tokens: int = 2500
    script: dict | None = None
    use_models: bool = True
    use_suggestions: bool = True
    # Kept for callers of the earlier pipeline; the findings-driven pipeline has no chunks.
    max_iterations: int = 3
    proposal_repairs: int = 1
    max_chunks: int | None = None
    all_chunks: bool = False


class Finding(BaseModel):
    """One problem, with where it is and what found it (lint | runtime | measure)."""

    source: str
    rule: str
    file: str
    line: int = 0
    message: str

    def label(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.rule} at {where}"


class CandidateRecord(BaseModel):
    origin: str  # eslint-suggestion | model greedy | model repair | model sample
    model_id: str = ""
    message_id: str | None = None
    size: int = 0
    passed: bool = False
    verdict: str = ""
    diff: str = ""


class ChangeRecord(BaseModel):
    """One finding worked on: the candidates tried, the verdicts, and the kept change."""

    index: int
    file: str
    chunk: str  # the finding's label (kept under this name for the report and the front ends)
    name: str
    status: str  # accepted | rejected | resolved-earlier | skipped
    reason: str = ""
    finding: Finding | None = None
    excerpt: str = ""
    candidates: list[CandidateRecord] = Field(default_factory=list)
    final_from: str = ""
    final_message_id: str | None = None
    removed: list[str] = Field(default_factory=list)
    diff: str = ""
    documentation: str = ""
    doc_model_sentence: str = ""
    doc_identifiers_unknown: list[str] = Field(default_factory=list)
    message_ids: list[str] = Field(default_factory=list)
    seconds: float = 0.0


class RefactorResult(BaseModel):
    run_id: str
    input_path: str
    roles: dict[str, str]
    files_before: dict[str, str]
    files_after: dict[str, str]
    compile_before: CompileResult
    compile_after: CompileResult
    measures_before: dict[str, dict]
    measures_after: dict[str, dict]
    findings_before: list[Finding] = Field(default_factory=list)
    findings_after: list[Finding] = Field(default_factory=list)
    behaviour_before: dict[str, list[dict]] = Field(default_factory=dict)
    behaviour_after: dict[str, list[dict]] = Field(default_factory=dict)
    behaviour_same: dict[str, str] = Field(default_factory=dict)
    scripts: dict[str, dict] = Field(default_factory=dict)
    # The original with only its never-settling defect repaired, where a change did that: the
    # version the output's behaviour was compared with (written to baseline/).
    files_baseline: dict[str, str] = Field(default_factory=dict)
    changes: list[ChangeRecord]
    messages: list[LLMMessage]
    tokens: dict
    seconds: float
    typescript_version: str
    notes: list[str] = Field(default_factory=list)

    @property
    def accepted(self) -> list[ChangeRecord]:
        return [c for c in self.changes if c.status == "accepted"]


def load_inputs(path: Path | str) -> tuple[Path, dict[str, str]]:
    """(base folder, {relative path: text}) for a .ts/.tsx file or a folder of them."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist: give a .ts/.tsx file or a folder that holds some")
    if p.is_file():
        if p.suffix not in TS_SUFFIXES:
            raise InputError(f"{p} is not a TypeScript file (.ts or .tsx): give a .ts/.tsx file "
                             "or a folder")
        return p.parent, {p.name: _read(p)}
    files = {}
    for f in sorted(p.rglob("*")):
        rel = f.relative_to(p)
        if f.is_file() and f.suffix in TS_SUFFIXES and not _SKIP_DIRS & set(rel.parts[:-1]):
            files[rel.as_posix()] = _read(f)
    if not files:
        raise InputError(f"{p} holds no .ts or .tsx files: give a TypeScript file or folder")
    return p, files


def _read(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p} is not UTF-8 text: give a TypeScript source file") from exc


def syntax_errors(result: CompileResult) -> list[Diagnostic]:
    return [d for d in result.errors if d.code in _SYNTAX_CODES]


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


_MISSING_DEPS_RE = re.compile(r"missing dependenc(?:y|ies): (.*?)\. (?:Either|Outer)", re.S)


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
class RefactorPipeline:
    """One refactor run over ``executors`` ({role: TurnExecutor})."""

    executors: dict[str, TurnExecutor]
    toolchain: Toolchain | None = None
    options: RefactorOptions = field(default_factory=RefactorOptions)
    on_message: Callable[[LLMMessage], None] | None = None
    on_progress: Callable[[str], None] | None = None
    # Anything with ``append(kind, data)`` (a sessions.store.SessionRecorder): the run is then
    # recorded as a session, so `sessions show` and `export` work on it.
    recorder: Any = None
    checks: CheckToolchain | None = None

    def __post_init__(self) -> None:
        if not self.executors:
            raise LogoMeshError("no models to refactor with: load at least one role")
        self.toolchain = self.toolchain or ensure_tsc()
        self.checks = self.checks or ensure_checks()
        self.editor = strongest_role(self.executors)
        others = [r for r in self.executors if r != self.editor]
        self.documenter = ("documentation-writer" if "documentation-writer" in others
                           else (others[-1] if others else self.editor))
        self.ledger = TokenLedger()
        self.messages: list[LLMMessage] = []
        self.run_id = uuid.uuid4().hex[:12]
        self._baseline: set[tuple[str, int, str]] = set()
        self._deadline = 0.0
        self._dead: set[str] = set()

    # -- bookkeeping -------------------------------------------------------------------------
    def _progress(self, text: str) -> None:
        if self.on_progress:
            self.on_progress(text)

    def _event(self, event: ev.Event) -> None:
        if self.recorder is not None:
            self.recorder.append(event)

    def _record(self, role: str, text: str, kind: MessageType, result, seconds: float,
                prompt: list[dict[str, str]], **meta) -> LLMMessage:
        msg = LLMMessage(
            short_id=f"m{len(self.messages) + 1}", from_role=role, content=text,
            message_type=kind, confidence=0.5, conversation_id=self.run_id, round=1,
            model_id=result.model_id or self.executors[role].model_id,
            prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens,
            latency_s=round(seconds, 3), token_confidence=result.mean_token_prob,
            prompt_messages=prompt, meta=meta)
        self.messages.append(msg)
        if self.on_message:
            self.on_message(msg)
        self._event(ev.MessagePosted(message=msg))
        return msg

    def _time_left(self) -> float:
        return self._deadline - time.perf_counter()

    # -- evidence ----------------------------------------------------------------------------
    async def _compile(self, files: dict[str, str]) -> CompileResult:
        # tsc and eslint are blocking subprocesses: in a thread, so the caller's loop runs on.
        assert self.toolchain is not None  # set in __post_init__
        return await asyncio.to_thread(typecheck_sources, self.toolchain, files)

    def _entries(self, files: dict[str, str]) -> list[str]:
        return [f for f in files if f.endswith(".tsx")][:4]

    async def _behaviour(self, files: dict[str, str], scripts: dict[str, dict]
                         ) -> dict[str, HarnessRun]:
        runs = {}
        for entry in self._entries(files):
            runs[entry] = await run_behaviour(files, entry, script=scripts.get(entry),
                                              checks=self.checks)
        return runs

    async def _findings(self, files: dict[str, str], runs: dict[str, HarnessRun]
                        ) -> list[Finding]:
        out = [Finding(source="lint", rule=f.rule, file=f.file, line=f.line, message=f.message)
               for f in await self._lint(files)]
        for entry, run in runs.items():
            for rule, message in runtime_problems(run):
                out.append(Finding(source="runtime", rule=rule, file=entry,
                                   line=_runtime_line(files[entry], rule, message),
                                   message=message))
        return out + measure_findings(files)

    async def _lint(self, files: dict[str, str]) -> list[LintFinding]:
        found = await asyncio.to_thread(lint_sources, files, checks=self.checks)
        self._last_lint = found
        return found

    async def _gate(self, files: dict[str, str], before: list[Finding],
                    refs: dict[str, HarnessRun], scripts: dict[str, dict]) -> Verdict:
        compiled = await self._compile(files)
        new_errors = [d for d in compiled.errors if d.key() not in self._baseline]
        if new_errors:
            return Verdict(False, "does not compile: " + new_errors[0].render())
        lint = [Finding(source="lint", rule=f.rule, file=f.file, line=f.line, message=f.message)
                for f in await self._lint(files)]
        static = lint + measure_findings(files)
        b = gate_counts(before)
        added = [k for k, n in gate_counts(static).items() if n > b.get(k, 0)]
        if added:
            return Verdict(False, f"adds a finding: {added[0][1]} in {added[0][0]}")
        was_missing = missing_deps(before)
        now_missing = [k for k, n in missing_deps(static).items() if n > was_missing.get(k, 0)]
        if now_missing:
            return Verdict(False, f"adds a finding: a hook now omits `{now_missing[0][1]}` from "
                                  f"its dependencies in {now_missing[0][0]}")
        runs = await self._behaviour(files, scripts)
        for entry, ref in refs.items():
            run = runs.get(entry)
            if run is None or not run.ok:
                return Verdict(False, f"{entry}: " + (run.error if run else "did not run"))
            # Against a reference that never settles, only a version that settles may differ
            # (it repairs that defect); any other must match it step by step, like always.
            if ref.settled or not run.settled:
                same, why = compare(ref, run)
                if not same:
                    return Verdict(False, f"changes behaviour: {why}")
                more = _more_work(ref, run)
                if more:
                    return Verdict(False, more)
        findings = static + [Finding(source="runtime", rule=r, file=e,
                                     line=_runtime_line(files[e], r, m), message=m)
                             for e, run in runs.items() for r, m in runtime_problems(run)]
        after = gate_counts(findings)
        repaired = any(not ref.settled and runs[e].settled for e, ref in refs.items()
                       if e in runs)
        # Extra renders and repeated calls are only counted on steps that settle: a version
        # that repairs a page that never settled shows them for the first time, not anew.
        added = [k for k, n in after.items() if n > b.get(k, 0)
                 and not (repaired and k[1] in _SECONDARY_RUNTIME)]
        if added:
            return Verdict(False, f"adds a finding: {added[0][1]} in {added[0][0]}")
        removed = [f"{k[1]} in {k[0]}" for k, n in b.items() if after.get(k, 0) < n]
        if not removed:
            return Verdict(False, "removes no finding")
        return Verdict(True, "compiles, same DOM after every step, removes "
                       + ", ".join(removed), findings=findings, runs=runs, removed=removed)

    # -- the run -----------------------------------------------------------------------------
    async def run(self, path: Path | str) -> RefactorResult:
        t0 = time.perf_counter()
        self._deadline = t0 + self.options.time_budget_s
        _, files = load_inputs(path)
        self._check_size(files)
        notes: list[str] = []
        self._event(ev.SessionStarted(
            participants={r: e.model_id for r, e in self.executors.items()},
            protocol="refactor", prompt=f"refactor {path}",
            limits={"time_budget_s": self.options.time_budget_s}))
        before = await self._compile(files)
        bad = syntax_errors(before)
        if bad:
            d = bad[0]
            raise InputError(f"{d.file or path} does not parse: line {d.line}: {d.message} "
                             "(fix the syntax, then refactor)")
        self._baseline = {d.key() for d in before.errors}
        if before.errors:
            notes.append(f"The input already had {len(before.errors)} compile errors; a change was "
                         "kept only if it added none.")
        self._progress("collecting findings: eslint, behaviour harness, measures")
        scripts: dict[str, dict] = {}
        refs = await self._reference(files, scripts, notes)
        original_runs = dict(refs)
        findings = await self._findings(files, refs)
        findings_before = list(findings)
        lint_now = list(self._last_lint)
        targets = _order(findings, files)
        if self.options.max_findings is not None:
            targets = targets[:self.options.max_findings]
        current = dict(files)
        changes: list[ChangeRecord] = []
        # Per component: the change that repaired a page that never settled, and that version's
        # run: the final output is compared with it (the original with only that defect fixed).
        repaired: dict[str, tuple[int, HarnessRun]] = {}
        baseline: dict[str, str] = {}
        for n, target in enumerate(targets, 1):
            self._progress(f"[{n}/{len(targets)}] {target.label()}: {target.message[:90]}")
            rec = ChangeRecord(index=n, file=target.file, chunk=target.label(),
                               name=target.rule.split("/")[-1], status="rejected",
                               finding=target)
            changes.append(rec)
            t_start = time.perf_counter()
            if self._time_left() < 45:
                rec.status, rec.reason = "skipped", "time budget spent"
                continue
            if not _still_there(target, findings):
                rec.status, rec.reason = "resolved-earlier", "an earlier change removed it"
                continue
            try:
                kept = await self._work(rec, target, current, findings, lint_now, refs, scripts)
            except StepFailed as exc:
                rec.reason = f"a model call failed: {exc}"
                kept = None
            rec.seconds = round(time.perf_counter() - t_start, 1)
            if kept is None:
                self._progress(f"[{n}/{len(targets)}] not kept: {rec.reason[:120]}")
                continue
            new_files, verdict = kept
            rec.diff = unified_diff(current[target.file], new_files[target.file], target.file)
            rec.status = "accepted"
            rec.removed = verdict.removed
            current = new_files
            findings = verdict.findings
            lint_now = list(self._last_lint)
            if any(not r.settled for r in refs.values()) and all(
                    r.settled for r in verdict.runs.values()):
                # The page settles now: this version (the original with only that defect
                # repaired) is the reference from here on, with a script derived from it.
                notes.append(f"The original never settled; change {n} repaired that, and later "
                             "changes were compared with that version.")
                scripts.clear()
                refs = await self._reference(current, scripts, notes)
                repaired = {e: (n, r) for e, r in refs.items()}
                baseline = dict(current)
            else:
                refs = {e: verdict.runs[e] for e in refs}
            await self._document(rec)
            self._progress(f"[{n}/{len(targets)}] kept ({rec.final_from}): "
                           f"{', '.join(rec.removed)[:120]}")
        after = await self._compile(current)
        # The last kept change's verdict already holds the final findings and runs.
        final_runs = refs
        findings_after = findings
        same: dict[str, str] = {}
        for e, ref in original_runs.items():
            if e not in final_runs:
                continue
            if e in repaired:
                n, base = repaired[e]
                ok, why = compare(base, final_runs[e])
                same[e] = (f"same DOM after every step as the original with only its "
                           f"never-settling defect repaired (change {n})" if ok else why)
            elif ref.settled:
                ok, why = compare(ref, final_runs[e])
                same[e] = "same DOM after every step as the original" if ok else why
            else:
                same[e] = "the original never settles and no change repaired it"
        if not any(c.status == "accepted" for c in changes):
            notes.append("No change was kept: the output files equal the input.")
        for c in changes:
            self._event(ev.Note(event="change", change=c.index, chunk=c.chunk, status=c.status,
                                reason=c.reason))
        self._event(ev.SessionFinished(
            accepted=sum(c.status == "accepted" for c in changes), changes=len(changes),
            compiles=not [d for d in after.errors if d.key() not in self._baseline],
            tokens=self.ledger.as_dict()))
        return RefactorResult(
            run_id=self.run_id, input_path=str(path),
            roles={r: e.model_id for r, e in self.executors.items()},
            files_before=files, files_after=current, compile_before=before, compile_after=after,
            measures_before={f: _measures(f, t) for f, t in files.items()},
            measures_after={f: _measures(f, t) for f, t in current.items()},
            findings_before=findings_before, findings_after=findings_after,
            behaviour_before={e: r.per_step() for e, r in original_runs.items()},
            behaviour_after={e: r.per_step() for e, r in final_runs.items()},
            behaviour_same=same, scripts=scripts, files_baseline=baseline, changes=changes, messages=self.messages,
            tokens=self.ledger.as_dict(), seconds=round(time.perf_counter() - t0, 2),
            typescript_version=self.toolchain.version if self.toolchain else "", notes=notes)

    def _check_size(self, files: dict[str, str]) -> None:
        for f, text in files.items():
            size = estimate_tokens(text)
            limit = min(self.options.max_file_tokens,
                        max(e.n_ctx for e in self.executors.values()) - 600)
            if size > limit:
                raise InputError(f"{f} is about {size} tokens; the pool handles files up to "
                                 f"{limit} tokens (the whole file is in every prompt): split it "
                                 "or raise --n-ctx")

    async def _reference(self, files: dict[str, str], scripts: dict[str, dict],
                         notes: list[str]) -> dict[str, HarnessRun]:
        """Run each component with the given (or a derived) script; a derived step that fails on
        this version is dropped, so the script runs cleanly on the reference."""
        refs: dict[str, HarnessRun] = {}
        for entry in self._entries(files):
            given = self.options.script if self.options.script is not None else None
            run = await run_behaviour(files, entry, script=given, checks=self.checks)
            if run.ok and not run.clean and given is None:
                keep = [s.action for s in run.steps if not s.errors]
                run = await run_behaviour(files, entry, script={**run.as_script(), "steps": keep},
                                          checks=self.checks)
            if not run.ok:
                notes.append(f"{entry}: the behaviour harness could not render it ({run.error}); "
                             "its changes are judged by the compiler and the linter only.")
                continue
            if given is not None and not run.clean:
                raise InputError(f"the interaction script does not run cleanly on {entry}: "
                                 + next(e for s in run.steps for e in s.errors))
            refs[entry] = run
            scripts[entry] = run.as_script()
        return refs

    async def _work(self, rec: ChangeRecord, target: Finding, files: dict[str, str],
                    findings: list[Finding], lint_now: list[LintFinding],
                    refs: dict[str, HarnessRun], scripts: dict[str, dict]
                    ) -> tuple[dict[str, str], Verdict] | None:
        text = files[target.file]
        line_text = lines_of(text, target.line or 1, target.line or 1)
        hook = target.rule.startswith(("react-hooks/", "measure/hooks")) or (
            target.source == "runtime" and not re.match(r"\s*(?:const|let|var)\s", line_text))
        a, b = excerpt_range(text, target.line or 1, hook=hook)
        excerpt = lines_of(text, a, b)
        rec.excerpt = f"lines {a}-{b}"
        tried: set[str] = set()

        async def judge(candidate: CandidateRecord, new_text: str | None
                        ) -> tuple[dict[str, str], Verdict] | None:
            rec.candidates.append(candidate)
            if new_text is None:
                candidate.verdict = candidate.verdict or "the edit did not match the file"
                return None
            if new_text in tried or new_text == text:
                candidate.verdict = "same as an earlier candidate" if new_text != text \
                    else "changes nothing"
                return None
            new_text = ensure_react_imports(new_text)
            tried.add(new_text)
            candidate.diff = unified_diff(text, new_text, target.file)
            new_files = {**files, target.file: new_text}
            verdict = await self._gate(new_files, findings, refs, scripts)
            candidate.passed, candidate.verdict = verdict.passed, verdict.reason
            if verdict.passed:
                rec.final_from = candidate.origin
                rec.final_message_id = candidate.message_id
                rec.reason = verdict.reason
                return new_files, verdict
            return None

        # eslint's own suggestions for this very finding: tiny, smallest first.
        if self.options.use_suggestions and target.source == "lint":
            match = [f for f in lint_now if f.file == target.file and f.line == target.line
                     and f.rule == target.rule]
            sugg = sorted((s for f in match for s in f.suggestions),
                          key=lambda s: (s.end - s.start) + len(s.replacement))
            for s in sugg[:2]:
                new = apply_range_fix(text, s.start, s.end, s.replacement)
                cand = CandidateRecord(origin=f"eslint suggestion: {s.description[:60]}",
                                       size=(s.end - s.start) + len(s.replacement))
                kept = await judge(cand, new)
                if kept:
                    return kept
        # A loop from a dependency that is new every render: what the react-hooks lint itself
        # advises, keep the value's identity with useMemo/useCallback; the gate's lint then
        # names the dependencies that wrapper needs, and eslint's suggestion adds them.
        if self.options.use_suggestions and target.rule in _LOOP_RULES:
            memo = memoize_declaration(text, a, b)
            if memo is not None:
                kept = await judge(CandidateRecord(origin="rule: memoize the unstable dependency",
                                                   size=len(memo) - len(text)), memo)
                if kept:
                    return kept
                memo = ensure_react_imports(memo)
                linted = rec.candidates[-1].verdict.startswith("adds a finding")
                deps = [sg for f in self._last_lint if linted and f.line == a
                        and f.rule == "react-hooks/exhaustive-deps" for sg in f.suggestions]
                if deps:
                    filled = apply_range_fix(memo, deps[0].start, deps[0].end,
                                             deps[0].replacement)
                    kept = await judge(CandidateRecord(
                        origin="rule: memoize, with the dependencies eslint names",
                        size=len(filled) - len(text)), filled)
                    if kept:
                        return kept
        if self.options.use_suggestions and target.rule == "runtime/timers-left-running":
            cleared = clear_timer_in_effect(text, target.line)
            if cleared is not None:
                kept = await judge(CandidateRecord(origin="rule: clear the timer in the effect's "
                                                          "cleanup", size=len(cleared) - len(text)),
                                   cleared)
                if kept:
                    return kept
        if not self.options.use_models:
            rec.reason = rec.reason or _last_verdict(rec)
            return None
        feedback = ""
        last_reply = ""
        plan = [("model greedy", self.options.temperature, 0)]
        plan += [("model repair", self.options.temperature, 0)] * self.options.repairs
        plan += [("model sample", self.options.sample_temperature, k + 1)
                 for k in range(self.options.samples)]
        for origin, temperature, seed_shift in plan:
            if origin == "model repair" and not feedback:
                continue
            if self._time_left() < 30:
                rec.reason = "time budget spent"
                break
            history: list[dict[str, str]] = []
            content = prompts.edit(target.file, text, target.rule, target.line, target.message,
                                   RULE_TEXT.get(target.rule, ""), a, b, excerpt,
                                   whole=estimate_tokens(text) <= self.options.whole_file_tokens)
            if origin == "model repair":
                history = [{"role": "user", "content": content},
                           {"role": "assistant", "content": last_reply}]
                content = prompts.edit_repair(feedback, a, b)
            try:
                messages, result, secs = await self._ask(
                    self.editor, content, history=history, temperature=temperature,
                    seed=7 + seed_shift)
            except StepFailed as exc:
                rec.reason = f"model turn failed: {exc}"
                continue
            msg = self._record(self.editor, result.text, MessageType.PROPOSAL, result, secs,
                               messages, phase="edit", finding=target.label(), origin=origin)
            rec.message_ids.append(msg.id)
            last_reply = result.text
            options = edits_from_reply(result.text, excerpt)
            if not options:
                rec.candidates.append(CandidateRecord(
                    origin=origin, model_id=self.executors[self.editor].model_id,
                    message_id=msg.id, verdict="the reply held no edit"))
                feedback = ("your reply held no usable edit; reply with the corrected lines "
                            "in one ```tsx block")
                continue
            for edit_set in sorted(options, key=lambda es: sum(e.size for e in es)):
                cand = CandidateRecord(origin=origin,
                                       model_id=self.executors[self.editor].model_id,
                                       message_id=msg.id, size=sum(e.size for e in edit_set))
                kept = await judge(cand, apply_edits(text, edit_set))
                if kept:
                    return kept
                feedback = cand.verdict
        if rec.candidates or not rec.reason:
            rec.reason = rec.reason if rec.reason == "time budget spent" else _last_verdict(rec)
        return None

    async def _ask(self, role: str, content: str, *, history: list[dict[str, str]] | None = None,
                   temperature: float = 0.0, seed: int = 7, max_tokens: int | None = None):
        messages = [prompts.EDIT_SYSTEM, *(history or []), {"role": "user", "content": content}]
        try:
            result, secs = await ask(self.executors[role], role, messages,
                                     max_tokens=max_tokens or self.options.max_reply_tokens,
                                     ledger=self.ledger, min_reply_tokens=64,
                                     temperature=temperature, seed=seed)
        except StepFailed as exc:
            self._lost(role, exc)
            raise
        except LogoMeshError as exc:
            # Counting tokens on a worker that died already fails here, before ask() guards.
            self._lost(role, exc)
            raise StepFailed(f"{role} ({self.executors[role].model_id}): {exc}") from exc
        return messages, result, secs

    def _lost(self, role: str, exc: Exception) -> None:
        """A worker that timed out or crashed is gone for this run: the next strongest model
        edits from now on (the timed-out turn cost only its own step)."""
        if role != self.editor or "no working model" not in str(exc) and \
                "stopped answering" not in str(exc) and "crashed" not in str(exc):
            return
        self._dead.add(role)
        alive = {r: e for r, e in self.executors.items() if r not in self._dead}
        if alive:
            self.editor = strongest_role(alive)
            self._progress(f"{role} failed ({str(exc)[:80]}); {self.editor} edits from now on")

    async def _document(self, rec: ChangeRecord) -> None:
        """Documentation from the diff: a template that names what the diff touches, plus the
        documentation writer's sentence when it passes the check (names a touched identifier,
        names nothing the diff does not contain)."""
        touched = _touched_identifiers(rec.diff)
        diff_names = set(_IDENT_RE.findall(rec.diff))
        f = rec.finding
        names = ", ".join(f"`{t}`" for t in touched[:8]) or "no identifiers"
        rec.documentation = (
            f"Fixes {f.rule} in {f.file} (line {f.line}): {f.message} "
            f"The edit ({rec.final_from}) changes {rec.excerpt} and touches {names}. "
            f"Verified: compiles under tsc --strict, same DOM after every scripted step, "
            f"removes {', '.join(rec.removed)}." if f else "")
        if self._time_left() < 20 or self.documenter in self._dead:
            return
        try:
            messages, result, secs = await self._ask(
                self.documenter, prompts.documentation(rec.diff[:2400]), max_tokens=80)
        except StepFailed:
            return
        msg = self._record(self.documenter, result.text, MessageType.ANALYSIS, result, secs,
                           messages, phase="documentation", finding=rec.chunk)
        rec.message_ids.append(msg.id)
        sentence = result.text.strip().split("\n")[0][:300]
        named = [n.rstrip("()") for n in re.findall(r"`([^`]+)`", sentence)]
        unknown = sorted({n for n in named if not set(_IDENT_RE.findall(n)) <= diff_names})
        rec.doc_identifiers_unknown = unknown
        if named and not unknown and any(n in touched for n in named):
            rec.doc_model_sentence = sentence
            rec.documentation += f"\n\n{sentence}"


def _more_work(ref: HarnessRun, run: HarnessRun) -> str:
    """Renders and API calls per interaction may only go down."""
    for label, count in (("renders", lambda s: s.renders), ("API calls", lambda s: len(s.api))):
        before = sum(count(s) for s in ref.steps)
        after = sum(count(s) for s in run.steps)
        if after > before:
            return f"more {label} over the script ({before} -> {after})"
    return ""


def _touched_identifiers(diff: str) -> list[str]:
    """Identifiers on the diff's changed lines, in order of appearance."""
    seen: dict[str, None] = {}
    for line in diff.splitlines():
        if line.startswith(("+++", "---")) or not line.startswith(("+", "-")):
            continue
        code = re.sub(r"(['\"`])(?:\\.|(?!\1).)*\1", "", line[1:])
        for ident in _IDENT_RE.findall(code):
            if ident not in _KEYWORDS:
                seen.setdefault(ident, None)
    return list(seen)


_KEYWORDS = {"const", "let", "var", "function", "return", "if", "else", "for", "of", "in",
             "new", "true", "false", "null", "undefined", "void", "await", "async", "type",
             "interface", "export", "default", "import", "from", "as", "string", "number",
             "boolean", "unknown", "any", "never", "catch", "then", "this", "typeof"}


def _last_verdict(rec: ChangeRecord) -> str:
    verdicts = [c.verdict for c in rec.candidates if c.verdict]
    return (f"no candidate passed ({len(rec.candidates)} tried); last: {verdicts[-1]}"
            if verdicts else "no candidate")


def _order(findings: list[Finding], files: dict[str, str]) -> list[Finding]:
    """The findings to work on, most important first; each (rule, line) once. A measure or a
    runtime fact that points into the lines of a lint finding is the same defect seen another
    way: it is left to the gate (which still counts it) instead of being worked on twice."""
    lint_lines = {(f.file, f.line) for f in findings if f.source == "lint"}
    seen: set[tuple[str, str, int]] = set()
    out = []
    for f in findings:
        if f.source == "measure" and (not f.line or (f.file, f.line) in lint_lines):
            continue
        if f.source == "runtime" and f.rule == "runtime/error":
            continue
        if f.source == "runtime" and f.rule in _SECONDARY_RUNTIME and f.file in files:
            a, b = excerpt_range(files[f.file], f.line or 1, hook=True)
            if any(file == f.file and a <= line <= b for file, line in lint_lines):
                continue
        key = (f.file, f.rule, f.line)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)

    def rank(f: Finding) -> tuple[int, str, int]:
        r = _RULE_ORDER.index(f.rule) if f.rule in _RULE_ORDER else len(_RULE_ORDER)
        return (r, f.file, f.line)

    return sorted(out, key=rank)


def _still_there(target: Finding, findings: list[Finding]) -> bool:
    return any(f.rule == target.rule and f.file == target.file and
               (f.source == "runtime" or abs(f.line - target.line) <= 3 or
                f.message == target.message) for f in findings)


def _runtime_line(text: str, rule: str, message: str) -> int:
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


def _measures(file: str, text: str) -> dict:
    m: Measures = measure_source(text, file)
    return {"headline": m.headline(), "missing_deps": m.missing_deps,
            "unstable_deps": m.unstable_deps}


async def run_refactor(executors: Mapping[str, TurnExecutor], path: Path | str, *,
                       options: RefactorOptions | None = None,
                       toolchain: Toolchain | None = None,
                       on_progress: Callable[[str], None] | None = None,
                       on_message: Callable[[LLMMessage], None] | None = None,
                       recorder: Any = None) -> RefactorResult:
    """Refactor ``path`` with the given role executors; see the module doc for the steps.

    ``recorder`` (e.g. ``SessionStore().recorder()``) records the run as a session."""
    load_inputs(path)  # fail on a bad path before starting anything
    pipeline = RefactorPipeline(dict(executors), toolchain=toolchain, options=options or RefactorOptions(),
                                on_progress=on_progress, on_message=on_message, recorder=recorder)
    return await pipeline.run(path)
