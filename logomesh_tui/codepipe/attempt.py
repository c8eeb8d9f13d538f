"""Working on one finding: candidate edits, smallest first, until one passes the gate.

The order: eslint's own suggestions for the finding, the rule-based edits (memoize an unstable
dependency, clear a timer in the effect's cleanup), then the editing model's search/replace
edit of the lines the finding is about, one repair turn from the gate's facts, and sampled
edits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..conversation.executors import StepFailed
from ..conversation.messages import MessageType
from ..source.patches import unified_diff
from ..source.splitter import estimate_tokens
from ..verify.harness import HarnessRun
from ..verify.lint import RULE_TEXT, LintFinding
from . import prompts
from .edits import (
    apply_edit_set,
    apply_range_fix,
    clear_timer_in_effect,
    edits_from_reply,
    ensure_react_imports,
    excerpt_range,
    lines_of,
    memoize_declaration,
)
from .gate import Verdict
from .records import CandidateRecord, ChangeRecord, Finding

if TYPE_CHECKING:
    from .pipeline import RefactorPipeline

Kept = tuple[dict[str, str], Verdict]
# Findings that come from a value that is new every render.
LOOP_RULES = {"runtime/never-settles", "runtime/render-loop", "measure/hooks_unstable_deps"}


@dataclass
class FindingAttempt:
    """The candidates for one finding in ``files``, each judged by the pipeline's gate against
    ``findings`` (the current version's) and the behaviour references ``refs``."""

    pipeline: RefactorPipeline
    rec: ChangeRecord
    target: Finding
    files: dict[str, str]
    findings: list[Finding]
    lint_now: list[LintFinding]
    refs: dict[str, HarnessRun]
    scripts: dict[str, dict]
    tried: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        target = self.target
        self.text = self.files[target.file]
        line_text = lines_of(self.text, target.line or 1, target.line or 1)
        hook = target.rule.startswith(("react-hooks/", "measure/hooks")) or (
            target.source == "runtime" and not re.match(r"\s*(?:const|let|var)\s", line_text))
        self.a, self.b = excerpt_range(self.text, target.line or 1, hook=hook)
        self.excerpt = lines_of(self.text, self.a, self.b)
        self.rec.excerpt = f"lines {self.a}-{self.b}"

    async def run(self) -> Kept | None:
        """The first candidate that passes the gate (the new files and its verdict), or None
        with the reason in the record."""
        options = self.pipeline.options
        if options.use_suggestions:
            for step in (self._suggestions, self._memoize, self._clear_timer):
                kept = await step()
                if kept:
                    return kept
        if not options.use_models:
            self.rec.reason = self.rec.reason or last_verdict(self.rec)
            return None
        return await self._model_edits()

    async def judge(self, candidate: CandidateRecord, new_text: str | None) -> Kept | None:
        """Record ``candidate`` and run the gate on the file it makes (None: no match)."""
        if new_text is None:
            return await self.judge_files(candidate, "the edit did not match the file")
        return await self.judge_files(candidate, {**self.files, self.target.file: new_text})

    async def judge_files(self, candidate: CandidateRecord, made: dict[str, str] | str
                          ) -> Kept | None:
        """Record ``candidate`` and run the gate on the files it makes (a string: why it
        made none). A change may touch several files; each changed file gets its diff."""
        rec = self.rec
        rec.candidates.append(candidate)
        if isinstance(made, str):
            candidate.verdict = candidate.verdict or made
            return None
        new_files = {f: ensure_react_imports(t) if t != self.files[f] else t
                     for f, t in made.items()}
        key = repr(sorted((f, t) for f, t in new_files.items() if t != self.files[f]))
        if new_files == self.files or key in self.tried:
            candidate.verdict = "changes nothing" if new_files == self.files \
                else "same as an earlier candidate"
            return None
        self.tried.add(key)
        candidate.diff = files_diff(self.files, new_files)
        verdict = await self.pipeline.gate.judge(new_files, self.findings, self.refs,
                                                 self.scripts)
        candidate.passed, candidate.verdict = verdict.passed, verdict.reason
        if verdict.passed:
            rec.final_from = candidate.origin
            rec.final_message_id = candidate.message_id
            rec.reason = verdict.reason
            return new_files, verdict
        return None

    async def _suggestions(self) -> Kept | None:
        """eslint's own fixes and suggestions for this very finding (LogoMesh's rules, or the
        project's eslint inside a project): tiny, smallest first."""
        sugg = sorted(self.pipeline.gate.suggestions(self.files, self.target, self.lint_now),
                      key=lambda s: (s.end - s.start) + len(s.replacement))
        for s in sugg[:2]:
            new = apply_range_fix(self.text, s.start, s.end, s.replacement)
            cand = CandidateRecord(origin=f"eslint suggestion: {s.description[:60]}",
                                   size=(s.end - s.start) + len(s.replacement))
            kept = await self.judge(cand, new)
            if kept:
                return kept
        return None

    async def _memoize(self) -> Kept | None:
        """A loop from a dependency that is new every render: what the react-hooks lint itself
        advises, keep the value's identity with useMemo/useCallback; the gate's lint then
        names the dependencies that wrapper needs, and eslint's suggestion adds them."""
        text, a = self.text, self.a
        if self.target.rule not in LOOP_RULES:
            return None
        memo = memoize_declaration(text, a, self.b)
        if memo is None:
            return None
        kept = await self.judge(CandidateRecord(origin="rule: memoize the unstable dependency",
                                                size=len(memo) - len(text)), memo)
        if kept:
            return kept
        memo = ensure_react_imports(memo)
        linted = self.rec.candidates[-1].verdict.startswith("adds a finding")
        deps = [sg for f in self.pipeline.gate.last_lint if linted and f.line == a
                and f.rule == "react-hooks/exhaustive-deps" for sg in f.suggestions]
        if not deps:
            return None
        filled = apply_range_fix(memo, deps[0].start, deps[0].end, deps[0].replacement)
        return await self.judge(CandidateRecord(
            origin="rule: memoize, with the dependencies eslint names",
            size=len(filled) - len(text)), filled)

    async def _clear_timer(self) -> Kept | None:
        if self.target.rule != "runtime/timers-left-running":
            return None
        cleared = clear_timer_in_effect(self.text, self.target.line)
        if cleared is None:
            return None
        return await self.judge(CandidateRecord(origin="rule: clear the timer in the effect's "
                                                       "cleanup",
                                                size=len(cleared) - len(self.text)), cleared)

    def _turns(self) -> list[tuple[str, float, int]]:
        """The model turns: (origin, temperature, seed shift)."""
        options = self.pipeline.options
        plan = [("model greedy", options.temperature, 0)]
        plan += [("model repair", options.temperature, 0)] * options.repairs
        plan += [("model sample", options.sample_temperature, k + 1)
                 for k in range(options.samples)]
        return plan

    async def _model_edits(self) -> Kept | None:
        """The editing model's edits: greedy, repaired from the gate's facts, sampled."""
        p, rec, target = self.pipeline, self.rec, self.target
        feedback = ""
        last_reply = ""
        for origin, temperature, seed_shift in self._turns():
            if origin == "model repair" and not feedback:
                continue
            if p.time_left() < 30:
                rec.reason = "time budget spent"
                break
            content, history = self._edit_prompt(origin, feedback, last_reply)
            try:
                messages, result, secs = await p.ask_role(
                    p.editor, content, history=history, temperature=temperature,
                    seed=7 + seed_shift)
            except StepFailed as exc:
                rec.reason = f"model turn failed: {exc}"
                continue
            msg = p.record(p.editor, result.text, MessageType.PROPOSAL, result, secs,
                           messages, phase="edit", finding=target.label(), origin=origin)
            rec.message_ids.append(msg.id)
            last_reply = result.text
            kept, feedback = await self._judge_reply(origin, msg.id, result.text, feedback)
            if kept:
                return kept
        if rec.candidates or not rec.reason:
            rec.reason = rec.reason if rec.reason == "time budget spent" else last_verdict(rec)
        return None

    def _edit_prompt(self, origin: str, feedback: str, last_reply: str
                     ) -> tuple[str, list[dict[str, str]]]:
        """The user turn and the history before it: a repair follows the model's last reply."""
        target, text = self.target, self.text
        content = prompts.edit(target.file, text, target.rule, target.line, target.message,
                               RULE_TEXT.get(target.rule, ""), self.a, self.b, self.excerpt,
                               whole=estimate_tokens(text)
                               <= self.pipeline.options.whole_file_tokens,
                               others=[f for f in self.files if f != target.file])
        if origin != "model repair":
            return content, []
        history = [{"role": "user", "content": content},
                   {"role": "assistant", "content": last_reply}]
        return prompts.edit_repair(feedback, self.a, self.b), history

    async def _judge_reply(self, origin: str, message_id: str, reply: str, feedback: str
                           ) -> tuple[Kept | None, str]:
        """Each edit set the reply holds, smallest first; the feedback for a repair turn."""
        p = self.pipeline
        options = edits_from_reply(reply, self.excerpt)
        if not options:
            self.rec.candidates.append(CandidateRecord(
                origin=origin, model_id=p.executors[p.editor].model_id,
                message_id=message_id, verdict="the reply held no edit"))
            return None, ("your reply held no usable edit; reply with the corrected lines "
                          "in one ```tsx block")
        for edit_set in sorted(options, key=lambda es: sum(e.size for e in es)):
            cand = CandidateRecord(origin=origin, model_id=p.executors[p.editor].model_id,
                                   message_id=message_id, size=sum(e.size for e in edit_set))
            kept = await self.judge_files(cand, apply_edit_set(self.files, self.target.file,
                                                               edit_set))
            if kept:
                return kept, feedback
            feedback = cand.verdict
        return None, feedback


def files_diff(before: dict[str, str], after: dict[str, str]) -> str:
    """One unified diff with a section per changed file."""
    return "".join(unified_diff(before[f], after[f], f) for f in before
                   if after.get(f, before[f]) != before[f])


def last_verdict(rec: ChangeRecord) -> str:
    verdicts = [c.verdict for c in rec.candidates if c.verdict]
    return (f"no candidate passed ({len(rec.candidates)} tried); last: {verdicts[-1]}"
            if verdicts else "no candidate")
