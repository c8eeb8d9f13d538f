"""Realistic recorded sessions for export tests, written with the real message models and the
real session recorder: four roles, four rounds, critiques that cite proposals, a hot-swap in
round 2, a failed turn, a synthesis with competing proposals, votes, consensus scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from logomesh_tui.conversation.messages import LLMMessage, MessageType, Vote
from logomesh_tui.sessions import events as ev
from logomesh_tui.sessions.store import SessionStore

TASK = ("Please analyze this React component for performance bottlenecks, maintainability, "
        "TypeScript type safety and architectural improvements.\n\nFILE Dashboard.tsx:\n"
        "```\nexport function Dashboard({ rows }: { rows: Row[] }) {\n"
        "  useEffect(() => { fetchAll(); });\n  return <Table rows={rows} />;\n}\n```")

ROLES = {
    "primary-analyzer": "qwen2.5-coder-1.5b",
    "architecture-critic": "qwen2.5-coder-0.5b",
    "optimization-specialist": "gemma-3-270m",
    "documentation-writer": "smollm2-135m",
}

SYSTEM = {role: f"You are the {role}. Reply with JSON: message_type, content, references, "
                f"confidence." for role in ROLES}


class SessionBuilder:
    """Posts messages like the orchestrator does: short ids, prompts, votes, events."""

    def __init__(self, sessions_dir: Path, session_id: str = "20261125-120000-abc123",
                 task: str = TASK, roles: dict[str, str] | None = None) -> None:
        self.store = SessionStore(sessions_dir)
        self.session_id = session_id
        self.recorder = self.store.recorder(session_id)
        self.models = dict(roles or ROLES)
        self.messages: list[LLMMessage] = []
        self.task = task
        self.t0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
        self.recorder.append(ev.SessionStarted(
            participants=dict(self.models), protocol="four-round", prompt=task, task=task,
            limits={"max_rounds": 4}, conversation_id="conv1"))

    def post(self, role: str, content: str, mtype: MessageType, round_: int, *,
             refs: list[LLMMessage] = (), confidence: float = 0.7, record_prompt: bool = True,
             recipients: list[str] | None = None, meta: dict | None = None) -> LLMMessage:
        visible = [m for m in self.messages if m.is_visible_to(role)]
        prompt = None
        if record_prompt:
            history = "\n".join(f"[{m.short_id}] {m.from_role}: {m.content}" for m in visible)
            prompt = [{"role": "system", "content": SYSTEM.get(role, role)},
                      {"role": "user", "content": f"Task:\n{self.task}\n\n{history}".strip()}]
        msg = LLMMessage(
            from_role=role, content=content, message_type=mtype,
            references_to=[r.id for r in refs], confidence=confidence,
            short_id=f"m{len(self.messages) + 1}", conversation_id="conv1", round=round_,
            model_id=self.models.get(role, ""), prompt_tokens=180 + 40 * len(visible),
            completion_tokens=60, latency_s=1.5 + 0.1 * len(self.messages),
            self_rating=confidence, token_confidence=0.6, prompt_messages=prompt,
            recipients=recipients or [], meta=meta or {},
            timestamp=self.t0 + timedelta(seconds=10 * len(self.messages)))
        self.messages.append(msg)
        self.recorder.append(ev.MessagePosted(message=msg))
        self.recorder.append(ev.TurnMetrics(
            role=role, model_id=msg.model_id, round=round_,
            prompt_tokens=msg.prompt_tokens, completion_tokens=msg.completion_tokens,
            latency_s=msg.latency_s, tokens_per_s=40.0, ttft_s=0.25,
            prompt_tokens_evaluated=40 if visible else msg.prompt_tokens))
        return msg

    def vote(self, voter_msg: LLMMessage, target: LLMMessage, round_: int,
             approve: bool = True) -> None:
        vote = Vote(voter=voter_msg.from_role, target_id=target.id, round=round_,
                    weight=round(voter_msg.confidence, 4), approve=approve,
                    rationale=voter_msg.content[:200])
        self.recorder.append(ev.VoteCast(vote=vote, target_short_id=target.short_id,
                                         message_id=voter_msg.id))

    def swap(self, role: str, new_model: str, round_: int) -> None:
        old = self.models[role]
        self.models[role] = new_model
        self.recorder.append(ev.Swap(role=role, old_model_id=old, new_model_id=new_model,
                                     seconds=0.8, source="command", round=round_))

    def fail(self, role: str, round_: int, reason: str = "output cut off at max_tokens") -> None:
        self.recorder.append(ev.TurnFailed(role=role, model_id=self.models[role],
                                           reason=reason, round=round_, attempts=2))

    def consensus(self, round_: int, score: float) -> None:
        self.recorder.append(ev.ConsensusScored(round=round_, score=score))

    def finish(self, score: float, converged: bool, rounds: int) -> None:
        self.recorder.append(ev.SessionFinished(consensus_score=score, converged=converged,
                                                rounds_run=rounds))

    @property
    def path(self) -> Path:
        return self.store.path_for(self.session_id)


def four_round_session(sessions_dir: Path, session_id: str = "20261125-120000-abc123",
                       secret_in_text: str | None = None) -> SessionBuilder:
    """The seed's refactoring conversation, scaled to the default pool."""
    b = SessionBuilder(sessions_dir, session_id)
    P, C, A, Q = (MessageType.PROPOSAL, MessageType.CRITIQUE, MessageType.ANALYSIS,
                  MessageType.QUESTION)
    leak = f" (debug: key={secret_in_text})" if secret_in_text else ""
    # Round 1: everyone proposes.
    p1 = b.post("primary-analyzer", "I detect 3 performance issues in useEffect dependencies: "
                "the effect has no dependency array and refetches on every render." + leak,
                P, 1, confidence=0.82)
    p2 = b.post("architecture-critic", "Extract data loading into a custom hook useRows() "
                "before optimizing.", P, 1, confidence=0.74)
    p3 = b.post("optimization-specialist", "Profile first, then memoize the Table rows.",
                P, 1, confidence=0.55)
    b.fail("documentation-writer", 1)
    b.consensus(1, 0.27)
    # Round 2: critiques; the documentation writer is hot-swapped and speaks on a new model.
    c1 = b.post("architecture-critic", "Agreed on m1, but the hook extraction should come "
                "first so the fix lives in one place.", C, 2, refs=[p1], confidence=0.7)
    c2 = b.post("optimization-specialist", "m2 adds indirection; measure before refactoring.",
                C, 2, refs=[p2], confidence=0.6)
    b.swap("documentation-writer", "gemma-3-270m", 2)
    d1 = b.post("documentation-writer", "I'll draft documentation for each proposed change; "
                "which order do we settle on?", Q, 2, refs=[p1, p2], confidence=0.5,
                record_prompt=False)
    a1 = b.post("primary-analyzer", "Building on m2: useRows() with [rows] dependency fixes "
                "the refetch loop.", A, 2, refs=[p2, c1], confidence=0.8,
                meta={"compile_ok": True})
    b.consensus(2, 0.45)
    # Round 3: synthesis, two competing proposals.
    s1 = b.post("primary-analyzer", "Synthesis: extract useRows(rows) with a dependency "
                "array, memoize Table, document the hook.", P, 3, refs=[a1, c1, d1],
                confidence=0.86, meta={"compile": {"ok": True, "errors": 0}})
    s2 = b.post("optimization-specialist", "Synthesis: keep the component, add useMemo "
                "around rows only.", P, 3, refs=[c2], confidence=0.52,
                meta={"compile_ok": False})
    b.consensus(3, 0.5)
    # Round 4: final review with votes (three peers back s1, the author of s2 backs s2).
    v1 = b.post("architecture-critic", "s1 combines the hook and memoization; I vote m8.",
                MessageType.CONSENSUS, 4, refs=[s1], confidence=0.9)
    v2 = b.post("documentation-writer", "I back m8 and will document useRows.",
                MessageType.CONSENSUS, 4, refs=[s1], confidence=0.7)
    v3 = b.post("optimization-specialist", "My m9 is smaller, but m8 is fine.",
                MessageType.CONSENSUS, 4, refs=[s2], confidence=0.6)
    v4 = b.post("primary-analyzer", "m8.", MessageType.CONSENSUS, 4, refs=[s1], confidence=0.9)
    b.vote(v1, s1, 4)
    b.vote(v2, s1, 4)
    b.vote(v3, s2, 4)
    b.vote(v4, s1, 4)
    b.consensus(4, 0.82)
    b.finish(0.82, True, 4)
    b.ids = {"p1": p1, "p2": p2, "p3": p3, "c1": c1, "c2": c2, "d1": d1, "a1": a1, "s1": s1,
             "s2": s2, "v1": v1, "v2": v2, "v3": v3, "v4": v4}
    return b


def tied_session(sessions_dir: Path, session_id: str = "20261125-130000-tie000") -> SessionBuilder:
    """Two proposals with equal peer support: no preference pair may come out of it."""
    b = SessionBuilder(sessions_dir, session_id,
                       roles={"primary-analyzer": "smollm2-135m",
                              "architecture-critic": "qwen2.5-coder-0.5b"})
    p1 = b.post("primary-analyzer", "Use a reducer.", MessageType.PROPOSAL, 1, confidence=0.6)
    p2 = b.post("architecture-critic", "Use context.", MessageType.PROPOSAL, 1, confidence=0.6)
    v1 = b.post("primary-analyzer", "m2 is good", MessageType.CONSENSUS, 2, refs=[p2],
                confidence=0.6)
    v2 = b.post("architecture-critic", "m1 is good", MessageType.CONSENSUS, 2, refs=[p1],
                confidence=0.6)
    b.vote(v1, p2, 2)
    b.vote(v2, p1, 2)
    b.finish(0.5, False, 2)
    return b
