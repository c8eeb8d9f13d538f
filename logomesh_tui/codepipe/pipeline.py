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

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..conversation.executors import StepFailed, TokenLedger, TurnExecutor, ask, strongest_role
from ..conversation.messages import LLMMessage, MessageType
from ..errors import LogoMeshError, UsageError
from ..sessions import events as ev
from ..source.splitter import estimate_tokens
from ..verify.compiler import CompileResult, Diagnostic
from ..verify.harness import HarnessRun, compare, run_behaviour
from ..verify.lint import LintFinding
from ..verify.project import is_test_name
from ..verify.toolchain import CheckToolchain, Toolchain, ensure_checks, ensure_tsc
from . import prompts
from .attempt import FindingAttempt, files_diff
from .edits import excerpt_range
from .gate import SECONDARY_RUNTIME, Gate, Verdict, missing_deps
from .measures import Measures, measure_source
from .project_gate import ProjectGate, gate_for
from .records import ChangeRecord, Finding

__all__ = ["ChangeRecord", "Finding", "InputError", "RefactorOptions", "RefactorPipeline",
           "RefactorResult", "load_inputs", "missing_deps", "run_refactor", "syntax_errors"]

TS_SUFFIXES = (".ts", ".tsx")
_SKIP_DIRS = {"node_modules", ".git", "build", "dist"}
_IDENT_RE = re.compile(r"[A-Za-z_$][\w$]*")
# Which findings to work on first: a page that never settles hides every other behaviour.
_RULE_ORDER = ["runtime/render-loop", "runtime/never-settles", "runtime/crash",
               "runtime/timers-left-running", "react-hooks/rules-of-hooks",
               "@typescript-eslint/no-floating-promises", "react-hooks/exhaustive-deps",
               "react-hooks/set-state-in-effect", "runtime/extra-renders",
               "@typescript-eslint/no-explicit-any"]
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
    # lines around the finding (a long prefix makes a small model's first turn time out).
    whole_file_tokens: int = 2500
    script: dict | None = None
    use_models: bool = True
    use_suggestions: bool = True
    # Kept for callers of the earlier pipeline; the findings-driven pipeline has no chunks.
    max_iterations: int = 3
    proposal_repairs: int = 1
    max_chunks: int | None = None
    all_chunks: bool = False


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
    # For a file inside a project: its root, what the checks used, the covering tests and
    # their results before and after (None for a lone file).
    project: dict | None = None

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
        # Test files are evidence a change is judged by, never what it changes.
        if f.is_file() and f.suffix in TS_SUFFIXES and not _SKIP_DIRS & set(rel.parts[:-1]) \
                and not is_test_name(rel.as_posix()):
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


@dataclass
class RunState:
    """Where a run stands: the current files, their findings and behaviour references, and the
    changes so far."""

    files: dict[str, str]
    findings: list[Finding]
    lint_now: list[LintFinding]
    refs: dict[str, HarnessRun]
    scripts: dict[str, dict]
    notes: list[str]
    changes: list[ChangeRecord] = field(default_factory=list)
    # Per component: the change that repaired a page that never settled, and that version's
    # run: the final output is compared with it (the original with only that defect fixed).
    repaired: dict[str, tuple[int, HarnessRun]] = field(default_factory=dict)
    baseline: dict[str, str] = field(default_factory=dict)


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
        self.toolchain = toolchain = self.toolchain or ensure_tsc()
        self.checks = checks = self.checks or ensure_checks()
        self.gate = Gate(toolchain, checks)
        self.editor = strongest_role(self.executors)
        others = [r for r in self.executors if r != self.editor]
        self.documenter = ("documentation-writer" if "documentation-writer" in others
                           else (others[-1] if others else self.editor))
        self.ledger = TokenLedger()
        self.messages: list[LLMMessage] = []
        self.run_id = uuid.uuid4().hex[:12]
        self._deadline = 0.0
        self._dead: set[str] = set()

    # -- bookkeeping -------------------------------------------------------------------------
    def _progress(self, text: str) -> None:
        if self.on_progress:
            self.on_progress(text)

    def _event(self, event: ev.Event) -> None:
        if self.recorder is not None:
            self.recorder.append(event)

    def record(self, role: str, text: str, kind: MessageType, result, seconds: float,
               prompt: list[dict[str, str]], **meta) -> LLMMessage:
        """Post a model turn as a message (kept in the result, shown, recorded)."""
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

    def time_left(self) -> float:
        return self._deadline - time.perf_counter()

    # -- the run -----------------------------------------------------------------------------
    async def run(self, path: Path | str) -> RefactorResult:
        t0 = time.perf_counter()
        self._deadline = t0 + self.options.time_budget_s
        _, files = load_inputs(path)
        self._check_size(files)
        notes: list[str] = []
        self.gate = await gate_for(Path(path), files, self.gate.toolchain, self.gate.checks,
                                   notes)
        self._event(ev.SessionStarted(
            participants={r: e.model_id for r, e in self.executors.items()},
            protocol="refactor", prompt=f"refactor {path}",
            limits={"time_budget_s": self.options.time_budget_s}))
        before = await self._compile_input(files, path, notes)
        self._progress("collecting findings: eslint, behaviour harness, measures")
        scripts: dict[str, dict] = {}
        refs = await self._reference(files, scripts, notes)
        findings = await self.gate.findings(files, refs)
        state = RunState(files=dict(files), findings=findings,
                         lint_now=list(self.gate.last_lint), refs=refs, scripts=scripts,
                         notes=notes)
        targets = _order(findings, files)
        if self.options.max_findings is not None:
            targets = targets[:self.options.max_findings]
        for n, target in enumerate(targets, 1):
            await self._fix(state, target, f"[{n}/{len(targets)}]", n)
        return await self._result(path, t0, files, before, dict(refs), list(findings), state)

    async def _compile_input(self, files: dict[str, str], path: Path | str,
                             notes: list[str]) -> CompileResult:
        """The input's compile result; its errors become the gate's baseline. An input that
        does not parse is refused."""
        before = await self.gate.compile(files)
        bad = syntax_errors(before)
        if bad:
            d = bad[0]
            raise InputError(f"{d.file or path} does not parse: line {d.line}: {d.message} "
                             "(fix the syntax, then refactor)")
        self.gate.baseline = {d.key() for d in before.errors}
        if before.errors:
            notes.append(f"The input already had {len(before.errors)} compile errors; a change was "
                         "kept only if it added none.")
        return before

    async def _fix(self, state: RunState, target: Finding, tag: str, n: int) -> None:
        """Work on finding ``n`` (``tag`` shows its place in the progress lines)."""
        self._progress(f"{tag} {target.label()}: {target.message[:90]}")
        rec = ChangeRecord(index=n, file=target.file, chunk=target.label(),
                           name=target.rule.split("/")[-1], status="rejected",
                           finding=target)
        state.changes.append(rec)
        t_start = time.perf_counter()
        if self.time_left() < 45:
            rec.status, rec.reason = "skipped", "time budget spent"
            return
        if not _still_there(target, state.findings):
            rec.status, rec.reason = "resolved-earlier", "an earlier change removed it"
            return
        try:
            kept = await FindingAttempt(self, rec, target, state.files, state.findings,
                                        state.lint_now, state.refs, state.scripts).run()
        except StepFailed as exc:
            rec.reason = f"a model call failed: {exc}"
            kept = None
        rec.seconds = round(time.perf_counter() - t_start, 1)
        if kept is None:
            self._progress(f"{tag} not kept: {rec.reason[:120]}")
            return
        await self._keep(state, rec, target, *kept)
        await self._document(rec)
        self._progress(f"{tag} kept ({rec.final_from}): {', '.join(rec.removed)[:120]}")

    async def _keep(self, state: RunState, rec: ChangeRecord, target: Finding,
                    new_files: dict[str, str], verdict: Verdict) -> None:
        """The change passed the gate: its version is the current one from here on."""
        rec.diff = files_diff(state.files, new_files)
        rec.files = [f for f in state.files if new_files.get(f, state.files[f]) != state.files[f]]
        rec.status = "accepted"
        rec.removed = verdict.removed
        if isinstance(self.gate, ProjectGate) and self.gate.tests_now is not None:
            rec.tests = {"passed": self.gate.tests_now.passed,
                         "failed": self.gate.tests_now.failed}
        state.files = new_files
        state.findings = verdict.findings
        state.lint_now = list(self.gate.last_lint)
        if any(not r.settled for r in state.refs.values()) and all(
                r.settled for r in verdict.runs.values()):
            # The page settles now: this version (the original with only that defect
            # repaired) is the reference from here on, with a script derived from it.
            state.notes.append(f"The original never settled; change {rec.index} repaired "
                               "that, and later changes were compared with that version.")
            state.scripts.clear()
            state.refs = await self._reference(state.files, state.scripts, state.notes)
            state.repaired = {e: (rec.index, r) for e, r in state.refs.items()}
            state.baseline = dict(state.files)
        else:
            state.refs = {e: verdict.runs[e] for e in state.refs}

    async def _result(self, path: Path | str, t0: float, files: dict[str, str],
                      before: CompileResult, original_runs: dict[str, HarnessRun],
                      findings_before: list[Finding], state: RunState) -> RefactorResult:
        """The run's record; the last kept change's verdict already holds the final findings
        and runs."""
        after = await self.gate.compile(state.files)
        final_runs = state.refs
        same = _behaviour_same(original_runs, final_runs, state.repaired)
        changes = state.changes
        if not any(c.status == "accepted" for c in changes):
            state.notes.append("No change was kept: the output files equal the input.")
        for c in changes:
            self._event(ev.Note(event="change", change=c.index, chunk=c.chunk, status=c.status,
                                reason=c.reason))
        self._event(ev.SessionFinished(
            accepted=sum(c.status == "accepted" for c in changes), changes=len(changes),
            compiles=not [d for d in after.errors if d.key() not in self.gate.baseline],
            tokens=self.ledger.as_dict()))
        return RefactorResult(
            run_id=self.run_id, input_path=str(path),
            roles={r: e.model_id for r, e in self.executors.items()},
            files_before=files, files_after=state.files, compile_before=before,
            compile_after=after,
            measures_before={f: _measures(f, t) for f, t in files.items()},
            measures_after={f: _measures(f, t) for f, t in state.files.items()},
            findings_before=findings_before, findings_after=state.findings,
            behaviour_before={e: r.per_step() for e, r in original_runs.items()},
            behaviour_after={e: r.per_step() for e, r in final_runs.items()},
            behaviour_same=same, scripts=state.scripts, files_baseline=state.baseline,
            changes=changes, messages=self.messages, tokens=self.ledger.as_dict(),
            seconds=round(time.perf_counter() - t0, 2),
            typescript_version=(self.gate.project.typescript_version or ""
                                if isinstance(self.gate, ProjectGate) and self.gate.project
                                else self.toolchain.version if self.toolchain else ""),
            notes=state.notes,
            project=self.gate.summary() if isinstance(self.gate, ProjectGate) else None)

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
        for entry in self.gate.entries(files):
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

    async def ask_role(self, role: str, content: str, *,
                       history: list[dict[str, str]] | None = None, temperature: float = 0.0,
                       seed: int = 7, max_tokens: int | None = None):
        """One turn of ``role`` after the edit system prompt; a lost worker hands editing on."""
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
        if self.time_left() < 20 or self.documenter in self._dead:
            return
        try:
            messages, result, secs = await self.ask_role(
                self.documenter, prompts.documentation(rec.diff[:2400]), max_tokens=80)
        except StepFailed:
            return
        msg = self.record(self.documenter, result.text, MessageType.ANALYSIS, result, secs,
                          messages, phase="documentation", finding=rec.chunk)
        rec.message_ids.append(msg.id)
        sentence = result.text.strip().split("\n")[0][:300]
        named = [n.rstrip("()") for n in re.findall(r"`([^`]+)`", sentence)]
        unknown = sorted({n for n in named if not set(_IDENT_RE.findall(n)) <= diff_names})
        rec.doc_identifiers_unknown = unknown
        if named and not unknown and any(n in touched for n in named):
            rec.doc_model_sentence = sentence
            rec.documentation += f"\n\n{sentence}"


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
        if f.source == "runtime" and f.rule in SECONDARY_RUNTIME and f.file in files:
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


def _behaviour_same(original_runs: dict[str, HarnessRun], final_runs: dict[str, HarnessRun],
                    repaired: dict[str, tuple[int, HarnessRun]]) -> dict[str, str]:
    """Per component: whether the output behaves like the original (or, where a change
    repaired a page that never settled, like that version)."""
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
    return same


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
