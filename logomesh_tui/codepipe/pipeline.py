"""The refactor pipeline: roles analyse, propose, critique, synthesize and review, and the real
TypeScript compiler decides what may be kept.

It runs over executors by role (``{role: TurnExecutor}``), so the same code drives
``HotSwapEngine`` executors and scripted ``FakeBackend``s. A file is split into chunks that fit
the smallest window; each chunk goes through the rounds below and is verified *in the whole
program* (all input files type-checked together) before it is kept:

1. analysis  - the analyzer lists the chunk's problems (with the static scan's findings);
2. proposal  - each proposer rewrites the chunk (a fenced block or a unified diff); a version
               that does not compile goes back to its author with the diagnostics;
3. critique  - every role critiques the compiling proposals and votes for one;
4. synthesis - the strongest model merges the winner with the critiques; compile errors go back
               to it until it compiles or the iteration budget is spent, else the winner stands;
5. review    - the other roles approve or reject the final change (majority; ties approve);
   then the documentation writer documents the accepted change.

A candidate "compiles" when tsc reports no error that the input did not already have (for an
input with no errors: no errors at all). Nothing that fails that is ever kept.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..conversation.messages import LLMMessage, MessageType, Vote
from ..errors import LogoMeshError
from ..sessions import events as ev
from . import prompts
from .compiler import CompileResult, Diagnostic, typecheck_sources
from .executors import (
    StepFailed,
    TokenLedger,
    TurnExecutor,
    WindowTooSmall,
    ask,
    strongest_role,
)
from .measures import Measures, measure_source
from .patches import (
    extract_change,
    merge_imports,
    prune_unused_named_imports,
    split_imports,
    unified_diff,
)
from .splitter import Chunk, SplitFile, estimate_tokens, split_source
from .toolchain import Toolchain, ensure_tsc

TS_SUFFIXES = (".ts", ".tsx")
_SKIP_DIRS = {"node_modules", ".git", "build", "dist"}
_EXPORT_RE = re.compile(r"^export\s+(?:default\s+)?(?:declare\s+)?(?:async\s+)?"
                        r"(?:function\*?|const|let|var|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)",
                        re.M)
# Patterns the static scan flags inside one chunk; a chunk with none is left alone by default.
_FINDINGS = {
    "`any`": re.compile(r"(?<![.\w])any\b(?!\s*:)"),
    "effects": re.compile(r"\buse(?:Layout)?Effect\s*\("),
    "inline function props": re.compile(r"\w=\{\s*(?:\([^)]*\)|\w+)\s*=>"),
    "inline object props": re.compile(r"\w=\{\{"),
    "array work in render": re.compile(r"\.(?:filter|sort|reduce|find)\("),
    "expensive calls": re.compile(r"\b(?:compute|calculate|aggregate)\w*\("),
    "non-null assertions": re.compile(r"\w!\."),
}


class InputError(LogoMeshError):
    """The path to refactor does not exist or holds no TypeScript."""


@dataclass
class RefactorOptions:
    """Budgets and knobs. ``max_iterations`` bounds compile-repair rounds of the synthesis."""

    max_iterations: int = 3
    proposal_repairs: int = 1
    max_chunks: int | None = None
    all_chunks: bool = False
    max_reply_tokens: int = 1024
    temperature: float = 0.2
    chunk_tokens: int | None = None  # None: derived from the smallest window


class ProposalRecord(BaseModel):
    id: str
    role: str
    model_id: str
    message_id: str
    compiled: bool
    attempts: int
    how: str = ""
    diagnostics: list[str] = Field(default_factory=list)
    votes: int = 0


class ChangeRecord(BaseModel):
    """Everything about one chunk: who proposed what, who critiqued, the votes, the outcome."""

    index: int
    file: str
    chunk: str
    name: str
    status: str  # accepted | rejected | unchanged | no-compiling-candidate | skipped
    reason: str = ""
    findings: list[str] = Field(default_factory=list)
    analysis: str = ""
    proposals: list[ProposalRecord] = Field(default_factory=list)
    critiques: list[dict] = Field(default_factory=list)
    votes: list[Vote] = Field(default_factory=list)
    winner: str | None = None
    synthesized_by: str | None = None
    synthesis_compiled: bool = False
    final_from: str = ""  # synthesis | proposal Pn
    final_message_id: str | None = None  # the message whose code became the change
    compile_attempts: int = 0
    reviews: list[dict] = Field(default_factory=list)
    diff: str = ""
    documentation: str = ""
    doc_identifiers_unknown: list[str] = Field(default_factory=list)
    message_ids: list[str] = Field(default_factory=list)


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
        return p.parent, {p.name: p.read_text(encoding="utf-8")}
    files = {}
    for f in sorted(p.rglob("*")):
        rel = f.relative_to(p)
        if f.is_file() and f.suffix in TS_SUFFIXES and not _SKIP_DIRS & set(rel.parts[:-1]):
            files[rel.as_posix()] = f.read_text(encoding="utf-8")
    if not files:
        raise InputError(f"{p} holds no .ts or .tsx files: give a TypeScript file or folder")
    return p, files


def chunk_findings(text: str) -> list[str]:
    found = []
    for label, rx in _FINDINGS.items():
        n = len(rx.findall(text))
        if n:
            found.append(f"{n} {label}")
    return found


def chunk_hints(file_text: str, file: str, first: int, current: str) -> list[str]:
    """Concrete, line-numbered problems in one chunk, for models too small to find them alone:
    hook dependencies from the static measures, plus `any`, effects that copy values into
    state, and intervals never cleared, found line by line in the chunk's current text."""
    hints: list[str] = []
    last = first + current.count("\n")
    m = measure_source(file_text, file)
    for entry in m.missing_deps:
        _, line, name = entry.split(":", 2)
        if first <= int(line) <= last:
            hints.append(f"line {line}: a hook reads `{name}` but its dependency list omits it")
    for entry in m.unstable_deps:
        _, line, name = entry.split(":", 2)
        if first <= int(line) <= last:
            hints.append(f"line {line}: dependency `{name}` is a new object every render; "
                         "memoize it or move it out of the component")
    lines = current.splitlines()
    for i, text in enumerate(lines):
        n = first + i
        if re.search(r"(?<![.\w])any\b(?!\s*:)", text) and not text.lstrip().startswith("//"):
            hints.append(f"line {n}: `any` type; use a precise type")
        if re.search(r"\buse(?:Layout)?Effect\s*\(", text):
            body = "\n".join(lines[i:i + 12])
            end = body.find("}, [")
            body = body if end < 0 else body[:end]
            if re.search(r"\bset[A-Z]\w*\(", body) and not re.search(
                    r"\b(fetch|then|await|setInterval|setTimeout|addEventListener)\b", body):
                hints.append(f"line {n}: this effect copies a value into state; compute the "
                             "value during render (or with useMemo) and drop the state")
            if "setInterval(" in body and "clearInterval" not in body:
                hints.append(f"line {n}: the interval is never cleared; return a cleanup")
    return hints


@dataclass
class _Roles:
    analyzer: str
    synthesizer: str
    proposers: list[str]
    documenter: str
    all: list[str]


def assign_roles(executors: dict[str, TurnExecutor]) -> _Roles:
    roles = list(executors)
    strongest = strongest_role(executors)
    analyzer = "primary-analyzer" if "primary-analyzer" in executors else strongest
    documenter = "documentation-writer" if "documentation-writer" in executors else analyzer
    # The documentation writer documents; everyone else proposes (all roles when it is alone).
    proposers = [r for r in roles if r != "documentation-writer"] or roles
    return _Roles(analyzer=analyzer, synthesizer=strongest, proposers=proposers,
                  documenter=documenter, all=roles)


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

    def __post_init__(self) -> None:
        if not self.executors:
            raise LogoMeshError("no models to refactor with: load at least one role")
        self.toolchain = self.toolchain or ensure_tsc()
        self.roles = assign_roles(self.executors)
        self.ledger = TokenLedger()
        self.messages: list[LLMMessage] = []
        self.run_id = uuid.uuid4().hex[:12]
        self._baseline: set[tuple[str, int, str]] = set()
        self._files: dict[str, str] = {}
        self._undo: dict[int, dict[int, str]] = {}  # change number -> chunk texts it replaced

    # -- bookkeeping -------------------------------------------------------------------------
    def _progress(self, text: str) -> None:
        if self.on_progress:
            self.on_progress(text)

    def _record(self, role: str, text: str, kind: MessageType, rnd: int, result, seconds: float,
                prompt: list[dict[str, str]], refs: list[str] | None = None,
                confidence: float = 0.5, **meta) -> LLMMessage:
        msg = LLMMessage(
            short_id=f"m{len(self.messages) + 1}", from_role=role, content=text,
            message_type=kind, references_to=refs or [], confidence=max(0.0, min(1.0, confidence)),
            conversation_id=self.run_id, round=rnd, model_id=result.model_id or
            self.executors[role].model_id, prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens, latency_s=round(seconds, 3),
            token_confidence=result.mean_token_prob, prompt_messages=prompt, meta=meta)
        self.messages.append(msg)
        if self.on_message:
            self.on_message(msg)
        self._event(ev.MessagePosted(message=msg))
        return msg

    def _event(self, event: ev.Event) -> None:
        if self.recorder is not None:
            self.recorder.append(event)

    def _vote(self, rec: ChangeRecord, vote: Vote) -> None:
        rec.votes.append(vote)
        self._event(ev.VoteCast(vote=vote))

    async def _ask(self, role: str, content: str, *, history: list[dict[str, str]] | None = None,
                   max_tokens: int | None = None, json_schema: dict | None = None,
                   min_reply: int = 32, attempt: int = 0):
        messages = [prompts.system(role), *(history or []), {"role": "user", "content": content}]
        # A retry at the same temperature and seed tends to repeat the same reply word for word
        # (small models echo the input); each retry samples a little more freely, and two roles
        # served by the same model get different seeds so their proposals differ.
        result, secs = await ask(self.executors[role], role, messages,
                                 max_tokens=max_tokens or self.options.max_reply_tokens,
                                 ledger=self.ledger, min_reply_tokens=min_reply,
                                 temperature=min(1.0, self.options.temperature + 0.25 * attempt),
                                 seed=7 + attempt + 31 * self.roles.all.index(role),
                                 json_schema=json_schema)
        return messages, result, secs

    # -- compiling ---------------------------------------------------------------------------
    async def _compile(self, files: dict[str, str]) -> CompileResult:
        # tsc is a blocking subprocess: in a thread, so the caller's loop (the dashboard) runs on.
        assert self.toolchain is not None  # set in __post_init__
        return await asyncio.to_thread(typecheck_sources, self.toolchain, files)

    def _new_errors(self, result: CompileResult) -> list[Diagnostic]:
        return [d for d in result.errors if d.key() not in self._baseline]

    def _replacements(self, sf: SplitFile, idx: int, text: str) -> dict[int, str]:
        """Chunk texts to swap in for a candidate: the chunk itself, and the imports chunk when
        the candidate brought imports along (they are merged there, not pasted mid-file)."""
        imports, body = split_imports(text)
        # Keep the blank lines that separated this chunk from the next one.
        old = sf.texts[idx]
        tail = old[len(old.rstrip()):]
        text, body = text.rstrip() + tail, body.rstrip() + tail
        if not imports or sf.chunks[idx].kind == "imports":
            return {idx: text}
        imp_idx = next((i for i, c in enumerate(sf.chunks) if c.kind == "imports"), None)
        if imp_idx is None:
            lines = "\n".join(s if s.endswith(";") else s + ";" for _, s in imports)
            return {idx: body} if idx != 0 else {0: lines + "\n\n" + body}
        repl = {idx: body}
        merged = merge_imports(sf.texts[imp_idx], imports)
        others = "".join(repl.get(i, t) for i, t in enumerate(sf.texts) if i != imp_idx)
        repl[imp_idx] = prune_unused_named_imports(merged, others)
        return repl

    async def _verify(self, sf: SplitFile, repl: dict[int, str], old_chunk: str, new_chunk: str
                ) -> tuple[bool, str]:
        """(acceptable, feedback) for a file with some chunks replaced."""
        lost = sorted(set(_EXPORT_RE.findall(old_chunk)) - set(_EXPORT_RE.findall(new_chunk)))
        if lost:
            return False, ("the change removed exported names other code may use: "
                           + ", ".join(lost) + ". Keep them.")
        files = dict(self._files)
        files[sf.file] = sf.assemble(repl)
        result = await self._compile(files)
        new = self._new_errors(result)
        if new:
            return False, "\n".join(d.render() for d in new[:10])
        return True, ""

    # -- the run -----------------------------------------------------------------------------
    async def run(self, path: Path | str) -> RefactorResult:
        t0 = time.perf_counter()
        base, files = load_inputs(path)
        self._files = dict(files)
        notes: list[str] = []
        self._event(ev.SessionStarted(
            participants={r: e.model_id for r, e in self.executors.items()},
            protocol="refactor", prompt=f"refactor {path}",
            limits={"max_iterations": self.options.max_iterations,
                    "proposal_repairs": self.options.proposal_repairs}))
        before = await self._compile(files)
        self._baseline = {d.key() for d in before.errors}
        if before.errors:
            notes.append(f"The input already had {len(before.errors)} compile errors; a change was "
                         "kept only if it added none.")
        measures_before = {f: _measures(f, t) for f, t in files.items()}
        chunk_tokens = self.options.chunk_tokens or self._chunk_budget()
        splits = {f: split_source(f, t, max_chunk_tokens=chunk_tokens) for f, t in files.items()
                  if not f.endswith(".d.ts")}
        targets = self._select(splits)
        changes: list[ChangeRecord] = []
        for n, (f, idx) in enumerate(targets, 1):
            sf = splits[f]
            chunk = sf.chunks[idx]
            self._progress(f"[{n}/{len(targets)}] {chunk.label}")
            record = await self._refactor_chunk(len(changes) + 1, sf, chunk)
            changes.append(record)
        after_files = {f: (splits[f].assemble() if f in splits else t) for f, t in files.items()}
        after = await self._compile(after_files)
        if self._new_errors(after):
            # Each change compiled in context when it was kept; if their sum does not, undo the
            # latest ones until it does, so a breaking change is never presented.
            for record in reversed([c for c in changes if c.status == "accepted"]):
                sf = splits[record.file]
                for i, old_text in self._undo[record.index].items():
                    sf.texts[i] = old_text
                record.status, record.reason = "rejected", "undone: broke the combined program"
                after_files = {f: (splits[f].assemble() if f in splits else t)
                               for f, t in files.items()}
                after = await self._compile(after_files)
                if not self._new_errors(after):
                    break
        measures_after = {f: _measures(f, t) for f, t in after_files.items()}
        assert self.toolchain is not None  # set in __post_init__
        if not any(c.status == "accepted" for c in changes):
            notes.append("No change was kept: the output files equal the input.")
        for c in changes:
            self._event(ev.Note(event="change", change=c.index, chunk=c.chunk, status=c.status,
                                reason=c.reason))
        self._event(ev.SessionFinished(
            accepted=sum(c.status == "accepted" for c in changes), changes=len(changes),
            compiles=not self._new_errors(after), tokens=self.ledger.as_dict()))
        return RefactorResult(
            run_id=self.run_id, input_path=str(path),
            roles={r: e.model_id for r, e in self.executors.items()},
            files_before=files, files_after=after_files, compile_before=before,
            compile_after=after, measures_before=measures_before, measures_after=measures_after,
            changes=changes, messages=self.messages, tokens=self.ledger.as_dict(),
            seconds=round(time.perf_counter() - t0, 2),
            typescript_version=self.toolchain.version, notes=notes)

    def _chunk_budget(self) -> int:
        n_ctx = min(e.n_ctx for e in self.executors.values())
        # prompt (system + instructions + chunk + analysis) and a reply the size of the chunk
        return max(120, min(3000, int((n_ctx - 450) / 2.4)))

    def _select(self, splits: dict[str, SplitFile]) -> list[tuple[str, int]]:
        scored = []
        for f, sf in splits.items():
            for i, c in enumerate(sf.chunks):
                if c.kind == "imports":
                    continue
                score = sum(int(x.split()[0]) for x in chunk_findings(c.text))
                if score or self.options.all_chunks:
                    scored.append((score, f, i))
        if self.options.max_chunks is not None:
            scored = sorted(scored, key=lambda s: -s[0])[:self.options.max_chunks]
        return [(f, i) for _, f, i in sorted(scored, key=lambda s: (s[1], s[2]))]

    async def _refactor_chunk(self, number: int, sf: SplitFile, chunk: Chunk) -> ChangeRecord:
        idx = chunk.index
        current = sf.texts[idx]
        # Line numbers in the file as it is now (earlier changes may have moved this chunk).
        first_line = "".join(sf.texts[:idx]).count("\n") + 1
        findings = chunk_hints(sf.assemble(), sf.file, first_line, current) or \
            chunk_findings(current)
        rec = ChangeRecord(index=number, file=sf.file, chunk=chunk.label, name=chunk.parent or
                           chunk.name, status="unchanged", findings=findings)
        label = f"`{chunk.parent or chunk.name}` ({chunk.kind}, lines {chunk.start_line}-"\
                f"{chunk.end_line} of {sf.file})"
        # Round 0: analysis
        analysis_msg = None
        try:
            prompt, result, secs = await self._ask(
                self.roles.analyzer, prompts.analysis(label, chunk.context, current,
                                                      "\n".join(f"- {f}" for f in findings)),
                max_tokens=200)
            rec.analysis = result.text.strip()
            analysis_msg = self._record(self.roles.analyzer, rec.analysis, MessageType.ANALYSIS,
                                        0, result, secs, prompt, chunk=chunk.label,
                                        phase="analysis")
            rec.message_ids.append(analysis_msg.id)
        except StepFailed as exc:
            rec.status, rec.reason = "skipped", _skip_reason(exc)
            return rec
        refs = [analysis_msg.id] if analysis_msg else []

        # Round 1: proposals, each repaired with diagnostics
        candidates: dict[str, str] = {}
        for role in self.roles.proposers:
            pid = f"P{len(rec.proposals) + 1}"
            try:
                text, prec = await self._propose(role, pid, sf, idx, label, chunk, current,
                                                 rec.analysis, refs, rec.findings)
            except StepFailed as exc:
                rec.reason = _skip_reason(exc)
                continue
            rec.proposals.append(prec)
            rec.message_ids.append(prec.message_id)
            if prec.compiled and text is not None:
                candidates[pid] = text
        if not rec.proposals:
            rec.status = "skipped"
            rec.reason = rec.reason or "no proposer could fit this chunk in its window"
            return rec

        # Round 2: critiques and votes over the compiling proposals
        winner = None
        crit_text = ""
        if candidates:
            winner, crit_text = await self._critique(rec, label, current, candidates)
        rec.winner = winner

        # Round 3: synthesis with the compiler loop
        base = candidates.get(winner, current) if winner else current
        if not candidates:
            crit_text = "No proposal compiled. Their errors:\n" + "\n".join(
                f"{p.id} ({p.role}): {'; '.join(p.diagnostics[:3])}" for p in rec.proposals)
        final, from_ = await self._synthesize(rec, sf, idx, label, chunk, current, base,
                                              crit_text)
        if final is None:
            rec.status = "no-compiling-candidate"
            rec.reason = ("no candidate compiled within the budget "
                          f"({len(rec.proposals)} proposals, {rec.compile_attempts} synthesis "
                          "attempts); the code is unchanged")
            return rec
        repl = self._replacements(sf, idx, final)
        if _normalize(repl[idx]) == _normalize(current):
            rec.status, rec.reason = "unchanged", "the final candidate equals the original"
            return rec
        rec.final_from = from_
        before_file = sf.assemble()
        rec.diff = unified_diff(before_file, sf.assemble(repl), sf.file)

        # Round 4: review
        approvals, rejections = await self._review(rec, label)
        if rejections > approvals:
            rec.status = "rejected"
            rec.reason = f"review rejected it ({approvals} approve, {rejections} reject)"
            return rec
        self._undo[number] = {i: sf.texts[i] for i in repl}
        for i, t in repl.items():
            sf.texts[i] = t
        self._files[sf.file] = sf.assemble()
        rec.status = "accepted"
        rec.reason = f"compiles; review {approvals} approve, {rejections} reject"
        await self._document(rec, label, current, repl[idx])
        return rec

    async def _propose(self, role: str, pid: str, sf: SplitFile, idx: int, label: str,
                       chunk: Chunk, current: str, analysis: str, refs: list[str],
                       rec_findings: list[str]) -> tuple[str | None, ProposalRecord]:
        reply_cap = _reply_cap(current, self.options.max_reply_tokens)
        history: list[dict[str, str]] = []
        # Each proposer leads with a different finding: small models follow one concrete task
        # far better than a list, and the proposals then differ for the critics to weigh.
        nth = self.roles.proposers.index(role) if role in self.roles.proposers else 0
        task = rec_findings[nth % len(rec_findings)] if rec_findings else ""
        content = prompts.proposal(label, chunk.context, current, analysis,
                                   "\n".join(f"- {f}" for f in rec_findings), task)
        attempts, diags, how = 0, [], ""
        text: str | None = None
        msg = None
        compiled = False
        for attempt in range(max(0, self.options.proposal_repairs) + 1):
            attempts += 1
            # A rewrite needs room for at least the chunk itself, or it is cut off mid-code.
            try:
                prompt, result, secs = await self._ask(role, content, history=history,
                                                       max_tokens=reply_cap,
                                                       min_reply=estimate_tokens(current) + 32,
                                                       attempt=attempt)
            except StepFailed:
                if msg is None:
                    raise
                break  # a failed repair leaves the proposal as it last was
            text, how = extract_change(result.text, current)
            feedback = ""
            if text is None:
                feedback = how
            elif _normalize(text) == _normalize(current):
                feedback = "that is the original code unchanged"
                text = None
            else:
                repl = self._replacements(sf, idx, text)
                ok, feedback = await self._verify(sf, repl, current, repl[idx])
                compiled = ok
            msg = self._record(role, result.text, MessageType.PROPOSAL, 1, result, secs, prompt,
                               refs=refs, confidence=0.6 if compiled else 0.3, chunk=chunk.label,
                               phase="proposal", proposal_id=pid, attempt=attempt + 1,
                               compiled=compiled, feedback=feedback)
            if compiled:
                break
            diags = [x for x in feedback.splitlines() if x.strip()]
            history = [*history, {"role": "user", "content": content},
                       {"role": "assistant", "content": result.text}]
            history = history[-2:]  # keep only the last exchange so the window holds
            content = prompts.repair(feedback) if "error TS" in feedback else \
                prompts.retry(feedback)
            try:
                await self._fits(role, history, content, estimate_tokens(current) + 32)
            except StepFailed:
                break
        assert msg is not None  # the first attempt either recorded a message or raised
        return (text if compiled else None), ProposalRecord(
            id=pid, role=role, model_id=self.executors[role].model_id, message_id=msg.id,
            compiled=compiled, attempts=attempts, how=how, diagnostics=[] if compiled else diags)

    async def _fits(self, role: str, history: list[dict[str, str]], content: str,
                    need: int) -> None:
        from .executors import prompt_tokens

        used = await prompt_tokens(self.executors[role], [prompts.system(role), *history,
                                                          {"role": "user", "content": content}])
        if self.executors[role].n_ctx - used < need:
            raise WindowTooSmall(role)

    async def _critique(self, rec: ChangeRecord, label: str, current: str,
                        candidates: dict[str, str]) -> tuple[str, str]:
        ids = list(candidates)
        authors = {p.id: p for p in rec.proposals}
        tally = {pid: 0.0 for pid in ids}
        lines = []
        for role in self.roles.all:
            executor = self.executors[role]
            room = max(200, executor.n_ctx - 400)
            per = max(60, room // max(1, len(ids)))
            shown = [(pid, authors[pid].role,
                      _clip(unified_diff(current, candidates[pid], "code"), per)) for pid in ids]
            try:
                prompt, result, secs = await self._ask(
                    role, prompts.critique(label, shown), max_tokens=160,
                    json_schema=prompts.critique_schema(ids))
            except StepFailed:
                continue
            data = _parse_json(result.text)
            vote = str(data.get("vote", "")).strip().upper()
            if vote not in tally:
                found = re.search(r"\bP\d+\b", result.text.upper())
                vote = found.group(0) if found and found.group(0) in tally else ""
            text = str(data.get("critique") or result.text).strip()
            conf = _as_float(data.get("confidence"), 0.5)
            refs = [authors[pid].message_id for pid in ids]
            msg = self._record(role, text, MessageType.CRITIQUE, 2, result, secs, prompt,
                               refs=refs, confidence=conf, chunk=rec.chunk, phase="critique",
                               vote=vote or None)
            rec.message_ids.append(msg.id)
            rec.critiques.append({"role": role, "vote": vote or None, "critique": text,
                                  "message_id": msg.id})
            if vote:
                tally[vote] += 1.0
                self._vote(rec, Vote(voter=role, target_id=authors[vote].message_id, round=2,
                                     rationale=text[:300]))
                lines.append(f"- {role} votes {vote}: {text[:200]}")
            else:
                lines.append(f"- {role}: {text[:200]}")
        for p in rec.proposals:
            p.votes = int(tally.get(p.id, 0))
        # Ties go to the proposal from the strongest model, then to the earliest.
        strongest = self.roles.synthesizer
        winner = max(ids, key=lambda pid: (tally[pid], authors[pid].role == strongest,
                                           -ids.index(pid)))
        return winner, "\n".join(lines)

    async def _synthesize(self, rec: ChangeRecord, sf: SplitFile, idx: int, label: str,
                          chunk: Chunk, current: str, base: str, critiques: str
                          ) -> tuple[str | None, str]:
        role = self.roles.synthesizer
        rec.synthesized_by = role
        reply_cap = _reply_cap(base, self.options.max_reply_tokens)
        content = prompts.synthesis(label, chunk.context, current, base, critiques)
        history: list[dict[str, str]] = []
        fallback = (base, f"proposal {rec.winner}") if rec.winner else (None, "")
        if rec.winner:
            rec.final_message_id = next(p.message_id for p in rec.proposals if p.id == rec.winner)
        for attempt in range(self.options.max_iterations):
            rec.compile_attempts = attempt + 1
            try:
                prompt, result, secs = await self._ask(role, content, history=history,
                                                       max_tokens=reply_cap,
                                                       min_reply=estimate_tokens(base) + 32,
                                                       attempt=attempt)
            except StepFailed:
                break
            text, how = extract_change(result.text, current)
            unchanged = text is not None and _normalize(text) == _normalize(current)
            if unchanged and rec.winner:
                # The synthesizer kept the original: the voted proposal stands instead.
                ok, feedback, text = False, "unchanged", None
            elif text is None:
                ok, feedback = False, how
            elif unchanged:
                ok, feedback = False, "that is the original code unchanged; change it"
            else:
                repl = self._replacements(sf, idx, text)
                ok, feedback = await self._verify(sf, repl, current, repl[idx])
            msg = self._record(role, result.text, MessageType.CONSENSUS, 3, result, secs, prompt,
                               refs=[m for m in rec.message_ids], confidence=0.7 if ok else 0.3,
                               chunk=chunk.label, phase="synthesis", attempt=attempt + 1,
                               compiled=ok, feedback=feedback)
            rec.message_ids.append(msg.id)
            if ok and text is not None:
                rec.synthesis_compiled = True
                rec.final_message_id = msg.id
                return text, "synthesis"
            if feedback == "unchanged":
                break
            history = [{"role": "user", "content": content},
                       {"role": "assistant", "content": result.text}]
            content = prompts.repair(feedback) if "error TS" in feedback else \
                prompts.retry(feedback)
        return fallback

    async def _review(self, rec: ChangeRecord, label: str) -> tuple[int, int]:
        approvals = rejections = 0
        reviewers = [r for r in self.roles.all if r != self.roles.synthesizer] or self.roles.all
        for role in reviewers:
            try:
                prompt, result, secs = await self._ask(
                    role, prompts.review(label, _clip(rec.diff, self.executors[role].n_ctx - 400)),
                    max_tokens=120, json_schema=prompts.REVIEW_SCHEMA)
            except StepFailed:
                continue
            data = _parse_json(result.text)
            approve = data.get("approve")
            if not isinstance(approve, bool):
                approve = not re.search(r"\b(reject|no|false)\b", result.text, re.I)
            comment = str(data.get("comment") or result.text).strip()
            msg = self._record(role, comment, MessageType.CONSENSUS if approve
                               else MessageType.CRITIQUE, 4, result, secs, prompt,
                               refs=[rec.final_message_id] if rec.final_message_id else [], confidence=0.6, chunk=rec.chunk,
                               phase="review", approve=approve)
            rec.message_ids.append(msg.id)
            rec.reviews.append({"role": role, "approve": approve, "comment": comment,
                                "message_id": msg.id})
            self._vote(rec, Vote(voter=role, target_id=rec.final_message_id or msg.id,
                                 approve=approve, round=4, rationale=comment[:300]))
            approvals += approve
            rejections += not approve
        return approvals, rejections

    async def _document(self, rec: ChangeRecord, label: str, old: str, new: str) -> None:
        role = self.roles.documenter
        rationale = rec.analysis.splitlines()[0] if rec.analysis else rec.reason
        try:
            prompt, result, secs = await self._ask(
                role, prompts.documentation(label, _clip(rec.diff, self.executors[role].n_ctx - 500),
                                            rationale), max_tokens=220)
            doc = result.text.strip()
            msg = self._record(role, doc, MessageType.ANALYSIS, 5, result, secs, prompt,
                               refs=rec.message_ids[-1:], chunk=rec.chunk, phase="documentation")
            rec.message_ids.append(msg.id)
        except StepFailed:
            doc = ""
        rec.documentation = doc
        names = set(re.findall(r"[A-Za-z_$][\w$]*", old + new))
        rec.doc_identifiers_unknown = sorted({
            ident for ident in re.findall(r"`([A-Za-z_$][\w$.]*)(?:\(\))?`", doc)
            if ident.split(".")[0] not in names})


def _skip_reason(exc: StepFailed) -> str:
    if isinstance(exc, WindowTooSmall):
        return f"too large for the windows: {exc}"
    return f"a model call failed: {exc}"


def _reply_cap(code: str, limit: int) -> int:
    """Tokens to allow for a rewrite of ``code``: ``limit`` unless that would cut the rewrite
    off mid-code (a cut-off rewrite never compiles), and not more than 1.5x the code."""
    size = estimate_tokens(code)
    return max(size + 48, min(limit, int(size * 1.5) + 64))


def _measures(file: str, text: str) -> dict:
    m: Measures = measure_source(text, file)
    return {"headline": m.headline(), "missing_deps": m.missing_deps,
            "unstable_deps": m.unstable_deps}


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _clip(text: str, max_tokens: int) -> str:
    limit = int(max_tokens * 3.2)
    return text if len(text) <= limit else text[:limit] + "\n... (cut to fit the window)"


def _parse_json(text: str) -> dict:
    try:
        data = json.loads(text)
        return data if isinstance(data, dict) else {}
    except ValueError:
        m = re.search(r"\{.*\}", text, re.S)
        if m:
            try:
                data = json.loads(m.group(0))
                return data if isinstance(data, dict) else {}
            except ValueError:
                return {}
    return {}


def _as_float(value, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


async def run_refactor(executors: Mapping[str, TurnExecutor], path: Path | str, *,
                       options: RefactorOptions | None = None,
                       toolchain: Toolchain | None = None,
                       on_progress: Callable[[str], None] | None = None,
                       on_message: Callable[[LLMMessage], None] | None = None,
                       recorder: Any = None) -> RefactorResult:
    """Refactor ``path`` with the given role executors; see the module doc for the rounds.

    ``recorder`` (e.g. ``SessionStore().recorder()``) records the run as a session."""
    load_inputs(path)  # fail on a bad path before starting anything
    pipeline = RefactorPipeline(dict(executors), toolchain=toolchain, options=options or RefactorOptions(),
                                on_progress=on_progress, on_message=on_message, recorder=recorder)
    return await pipeline.run(path)
