"""Rounds run by a program participant: the evidence engine inside a conversation.

:func:`register_evidence_program` makes :func:`run_program_round` the runner of
``"evidence"`` rounds (the ``evidence`` protocol's first round). The conversation layer cannot
import this engine, so the front ends that run conversations (the CLI's ``main``, the
dashboard) call it once at start; nothing registers on import.

:func:`run_program_round` runs a :class:`RoundPlan` whose ``program`` is ``"evidence"``: the
session's roles become coders and tester of the evidence engine (by measured pass rate), and
everything it does is posted on the bus and recorded in the session:

- each candidate as a PROPOSAL message from the role that wrote it, carrying the file as an
  artifact;
- each probe as an ANALYSIS message from the tester, carrying the probe script as an artifact;
- each verdict as an EVIDENCE message from ``verifier`` that references the candidate's message
  and carries the typed evidence; the consensus tracker learns the verdict from it, so a vote
  for a failing candidate counts for nothing;
- the selection as an ``evidence`` session event, and each author's standing support moved to
  its best verified candidate (a recorded vote).

The file worked on is the first TypeScript input file; one too big for the models' replies is
narrowed to the part with the first compiler or lint finding (or its largest component).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..conversation.messages import Artifact, LLMMessage, MessageType, Vote
from ..conversation.protocols import RoundPlan, register_program
from ..errors import LogoMeshError
from ..sessions import events as ev
from ..verify.project import is_test_name

if TYPE_CHECKING:
    from ..conversation.session import MultiModelSession
    from .engine import EngineResult, EvidenceEngine
    from .select import Selection
    from .types import Candidate, CodeTask, Evidence, Probe

PART_TOKENS = 600
#: Repair rounds in a conversation's evidence round (the benchmark's default is one).
CONVERSATION_REPAIR_ROUNDS = 3
_TS_SUFFIXES = (".ts", ".tsx", ".mts", ".cts")


async def _starter_findings(checker: Any, task: Any) -> list[str]:
    """LogoMesh's lint rules and the project's eslint on the file as it is, typed by the
    project, as lines (``line N: rule: message``)."""
    from ..verify.toolchain import ToolchainError, ensure_checks

    target = checker.targets[0]
    try:
        checks = ensure_checks(install=False)
    except ToolchainError:
        checks = None
    found = await checker.lint_ours({}, [target], checks) if checks is not None else None
    rel = target.relative_to(checker.project.root).as_posix()
    lines = [f"line {f.line}: {f.rule}: {f.message}" for f in found or []]
    lines += [f"line {m['line']}: {m['rule']}: {m['message']}"
              for m in (await checker.baseline()).lint if m["file"] == rel]
    return lines[:8]


def _is_source(name: str) -> bool:
    """A TypeScript file to work on (a test file is evidence, not the task)."""
    return name.endswith(_TS_SUFFIXES) and not is_test_name(name)


def _first_ts(files: dict[str, str]) -> tuple[str, str] | None:
    return next(((n, t) for n, t in files.items() if _is_source(n)), None)


async def code_task_for(prompt: str, files: dict[str, str]) -> CodeTask | None:
    """The engine's task for a conversation: the prompt on the first TypeScript input file,
    focused on one part when the file is too big for a reply."""
    from ..source.splitter import estimate_tokens, split_source
    from .types import Candidate, CodeTask
    from .verifier import Verifier, VerifierConfig

    picked = _first_ts(files)
    if picked is None:
        return None
    name, text = picked
    support = {n: t for n, t in files.items() if n != name and _is_source(n)}
    task = CodeTask(instruction=prompt.strip(), file_name=name.rsplit("/", 1)[-1],
                    starter=text, support={n.rsplit("/", 1)[-1]: t for n, t in support.items()})
    if estimate_tokens(text) <= PART_TOKENS:
        return task
    split = split_source(task.file_name, text, max_chunk_tokens=PART_TOKENS)
    verifier = Verifier(task, config=VerifierConfig(with_types=True))
    probe = Candidate(id="original", text=text, author="system")
    ev = (await verifier.verify([probe], []))[probe.id]
    lines = [d.line for d in ev.compile_errors + ev.lint_errors if d.line]
    fitting = [c for c in split.chunks if estimate_tokens(c.text) <= PART_TOKENS
               and c.kind not in ("imports", "type")]
    chunk = None
    for line in sorted(lines):
        chunk = next((c for c in fitting if c.start_line <= line <= c.end_line), None)
        if chunk is not None:
            break
    if chunk is None and fitting:
        chunk = max(fitting, key=lambda c: (c.kind in ("component", "hook", "part"), len(c.text)))
    if chunk is None:
        return None
    # The findings that chose the part are what it is to fix: say them (told only the prompt,
    # a small model leaves the part's own findings in place).
    src = text.splitlines()
    found = [f"- {d.render(src)}" for d in ev.compile_errors + ev.lint_errors
             if chunk.start_line <= d.line <= chunk.end_line][:6]
    instruction = task.instruction
    if found:
        instruction += ("\n\nThe compiler and the linter report on this part now (fix these "
                        "first):\n" + "\n".join(found))
    return task.model_copy(update={"focus": (chunk.start, chunk.end), "instruction": instruction})


async def run_program_round(session: MultiModelSession, plan: RoundPlan,
                            speakers: list[str]) -> None:
    """Run ``plan`` with its program; see the module docstring."""
    if plan.program != "evidence":
        raise LogoMeshError(f"unknown program round {plan.program!r}: only 'evidence' exists")
    from .engine import EvidenceConfig, EvidenceEngine
    from .rates import PassRates, plan_roles
    from .verifier import Verifier, VerifierConfig, project_checker_for

    task = await code_task_for(session.prompt, session.input_files)
    executors = {r: session.active_models[r] for r in speakers}
    if task is None or not executors:
        session._record(ev.EvidenceRecorded(
            event="skipped", round=plan.index,
            reason="no TypeScript input file" if task is None else "no roles to run"))
        return
    roles = plan_roles(executors, PassRates.load())
    notes: list[str] = []
    picked = _first_ts(session.input_files)
    checker = project_checker_for(Path(picked[0]), notes) if picked else None
    if checker is not None:
        base = await checker.baseline()
        notes += checker.project.notes() + [
            f"covering tests: {', '.join(checker.test_files) or 'none'} — "
            f"{base.tests.summary()}"]
        found = await _starter_findings(checker, task)
        if found:
            # What the project-typed checks say of the file as it is: the models' best lead.
            notes.append(f"findings on {task.file_name}: " + "; ".join(found))
            task = task.model_copy(update={"instruction": task.instruction.rstrip() + "\n\n"
                                           "The project's checks report on the file as it is:\n"
                                           + "\n".join(f"- {f}" for f in found)})
    session._record(ev.EvidenceRecorded(event="plan", round=plan.index, file=task.file_name,
                                        focus=task.focus, notes=notes,
                                        **roles.describe(executors)))
    # A conversation is watched, not timed per task like the benchmark: it may repair a few
    # rounds more (each stops as soon as a candidate passes).
    engine = EvidenceEngine(executors=executors, plan=roles,
                            verifier=Verifier(task, config=VerifierConfig(with_types=True),
                                              project=checker),
                            config=EvidenceConfig(repair_rounds=CONVERSATION_REPAIR_ROUNDS))
    poster = _RoundPoster(session, plan, task, engine)
    engine.on_event = poster.on_event
    result = await engine.solve(task)
    session.total_tokens += engine.ledger.total_tokens
    for role in speakers:
        session._done.add((plan.index, role))
    poster.back_verified(result)


class _RoundPoster:
    """Posts what the engine does in one evidence round on the bus and in the session record."""

    def __init__(self, session: MultiModelSession, plan: RoundPlan, task: CodeTask,
                 engine: EvidenceEngine) -> None:
        self.session, self.plan, self.task, self.engine = session, plan, task, engine
        self.conv_id = session.conversation_id or ""
        self.by_candidate: dict[str, LLMMessage] = {}
        self.authored: dict[str, list[str]] = {}

    def post(self, role: str, message: LLMMessage) -> LLMMessage:
        posted = self.session.bus.post(role, [], message)
        self.session.tracker.observe(posted)
        self.session._record(ev.MessagePosted(message=posted))
        return posted

    def on_event(self, event: tuple[str, Any]) -> None:
        kind, obj = event
        if kind == "candidate":
            self.candidate(obj)
        elif kind == "probe":
            self.probe(obj)
        elif kind == "evidence":
            self.evidence(obj)
        elif kind == "selection":
            self.selection(obj)

    def candidate(self, cand: Candidate) -> None:
        from .engine import CODER_SYSTEM

        task = self.task
        temp = (f", temperature {cand.temperature:g}" if cand.temperature > 0 else "") + (
            f", framing {cand.framing}" if cand.framing not in ("", "direct") else "")
        parent = self.by_candidate.get(cand.parent or "")
        # A candidate records the task prompt it was written for, in its framing (the DPO
        # export pairs the round's candidates); a repair's prompt carried its own facts and
        # is not recorded.
        seen = None if cand.origin == "repair" else [
            {"role": "system", "content": CODER_SYSTEM},
            {"role": "user", "content": self.engine.task_prompt(task, cand.framing or None)}]
        msg = self.post(cand.author, LLMMessage(
            from_role=cand.author, message_type=MessageType.PROPOSAL, confidence=0.5,
            content=f"Candidate {cand.id}: a new {task.file_name} ({cand.origin}{temp})"
                    + (f", repairing {parent.short_id} from the verifier's facts"
                       if parent else ""),
            references_to=[parent.id] if parent else [], round=self.plan.index,
            conversation_id=self.conv_id, model_id=cand.model_id, prompt_messages=seen,
            artifact=Artifact(kind="file", path=task.file_name, text=cand.text,
                              candidate_id=cand.id)))
        self.by_candidate[cand.id] = msg
        self.authored.setdefault(cand.author, []).append(cand.id)

    def probe(self, probe: Probe) -> None:
        self.post(probe.author, LLMMessage(
            from_role=probe.author, message_type=MessageType.ANALYSIS, confidence=0.5,
            content=f"Probe {probe.id}: a script that calls {self.task.file_name} and prints "
                    "what it returns" + (" (with assertions the task states)"
                                         if probe.asserts else ""),
            round=self.plan.index, conversation_id=self.conv_id, model_id=probe.model_id,
            artifact=Artifact(kind="file", path=f"probe_{probe.id}.ts", text=probe.code)))

    def evidence(self, verdict: Evidence) -> None:
        target = self.by_candidate.get(verdict.candidate)
        facts = verdict.facts(
            source=target.artifact.text if target and target.artifact else None)
        self.post("verifier", LLMMessage(
            from_role="verifier", message_type=MessageType.EVIDENCE, confidence=1.0,
            content=(f"{target.short_id if target else verdict.candidate} "
                     + verdict.summary().split(": ", 1)[1]
                     + (f"; {verdict.tests_line()}" if verdict.tests_line() else "")
                     + (f"\n{facts}" if facts else "")),
            references_to=[target.id] if target else [], round=self.plan.index,
            conversation_id=self.conv_id,
            evidence={**verdict.model_dump(mode="json"), "passed": verdict.passes_all,
                      "failed_checks": verdict.failed_checks()}))

    def selection(self, sel: Selection) -> None:
        chosen = self.by_candidate.get(sel.chosen or "")
        self.session._record(ev.EvidenceRecorded(
            event="selection", round=self.plan.index, reason=sel.reason, chosen=sel.chosen,
            chosen_message=chosen.id if chosen else None, groups=sel.groups,
            scores=sel.scores, dropped=sel.dropped))

    def back_verified(self, result: EngineResult) -> None:
        """Each author stands behind its best verified candidate: the selected one if it wrote
        it, else its first that passed; an author with none backs nothing."""
        session, plan = self.session, self.plan
        chosen = result.chosen.id if result.chosen else None
        for role, ids in self.authored.items():
            passing = [i for i in ids if result.evidence.get(i) and result.evidence[i].passes_all]
            best = chosen if chosen in ids else (passing[0] if passing else None)
            if best is None:
                continue
            target = self.by_candidate[best]
            vote = Vote(voter=role, target_id=target.id, round=plan.index,
                        weight=session.tracker.weight_of(role),
                        rationale=f"author backs its verified candidate {best}")
            session.tracker.add_vote(vote)
            session._record(ev.VoteCast(vote=vote, target_short_id=target.short_id,
                                        message_id=target.id))


def register_evidence_program() -> None:
    """Let conversations run the ``evidence`` protocol's program round with this engine
    (calling it again changes nothing)."""
    register_program("evidence", run_program_round)
