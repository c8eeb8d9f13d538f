"""Compare branches of one session from their fork point: a summary per branch and the
messages each wrote after the point they share.

The fork point is where the branches' histories stop sharing events (each event is known by
the session and ``seq`` that recorded it), so a root compared with its branch, two branches of
one root, or a branch with its own branch all compare from the last message they share.
Branches forked before the first turn share only the start and compare from there
(``fork_at`` is :data:`~.lineage.START`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from . import events as ev
from .events import Event
from .lineage import common_prefix, participants, shared_point
from .records import LLMMessage, MessageType
from .store import SessionStore


@dataclass
class RoleSpeed:
    model: str = ""
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_s(self) -> float | None:
        return round(self.completion_tokens / self.seconds, 2) if self.seconds > 0 else None


@dataclass
class Branch:
    """One session's part after the fork point."""

    id: str
    parent: str | None
    assignment: dict[str, str]
    messages: list[LLMMessage] = field(default_factory=list)
    votes: list[ev.VoteCast] = field(default_factory=list)
    scores: list[ev.ConsensusScored] = field(default_factory=list)
    finished: ev.SessionFinished | None = None
    tokens: int = 0
    wall_s: float = 0.0
    speeds: dict[str, RoleSpeed] = field(default_factory=dict)
    verdicts: dict[str, bool] = field(default_factory=dict)

    @property
    def consensus_round(self) -> int | None:
        """The first round whose score converged (None: no consensus reached)."""
        return next((c.round for c in self.scores if c.converged), None)

    @property
    def score(self) -> float | None:
        if self.finished is not None and self.finished.consensus_score is not None:
            return self.finished.consensus_score
        return self.scores[-1].score if self.scores else None

    def passing_artifacts(self) -> list[LLMMessage]:
        """Code messages of this branch that the verifier passed."""
        return [m for m in self.messages if m.artifact is not None and self.verdicts.get(m.id)]

    def verified_artifacts(self) -> list[LLMMessage]:
        return [m for m in self.messages if m.artifact is not None and m.id in self.verdicts]

    def row(self) -> dict[str, Any]:
        """The summary as JSON-ready data (``compare --json``)."""
        return {
            "id": self.id, "parent": self.parent, "assignment": dict(self.assignment),
            "finished": self.finished is not None, "messages": len(self.messages),
            "consensus": {"reached": self.consensus_round is not None,
                          "round": self.consensus_round
                          if self.consensus_round is not None else
                          (self.scores[-1].round if self.scores else None),
                          "score": self.score},
            "artifacts_passed": len(self.passing_artifacts()),
            "artifacts_verified": len(self.verified_artifacts()),
            "passed_artifacts": [{"message": m.id, "short_id": m.short_id, "role": m.from_role,
                                  "model": m.model_id, "path": m.artifact.path if m.artifact
                                  else ""} for m in self.passing_artifacts()],
            "tokens": self.tokens, "wall_s": round(self.wall_s, 3),
            "tokens_per_s": {role: {"model": s.model, "tokens_per_s": s.tokens_per_s}
                             for role, s in self.speeds.items()},
        }


@dataclass
class Comparison:
    """Branches compared from the last event they share."""

    fork_at: str | None
    fork_short_id: str | None
    shared: list[Event]
    branches: list[Branch]

    def differing_roles(self) -> list[str]:
        """Roles whose model is not the same in every branch (what the branches vary)."""
        roles: list[str] = []
        for b in self.branches:
            roles += [r for r in b.assignment if r not in roles]
        return [r for r in roles if len({b.assignment.get(r) for b in self.branches}) > 1]

    def as_json(self) -> dict[str, Any]:
        return {"fork_at": self.fork_at, "fork_short_id": self.fork_short_id,
                "shared_messages": sum(isinstance(e, ev.MessagePosted) for e in self.shared),
                "branches": [b.row() for b in self.branches]}


def _verdicts(messages: list[LLMMessage]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for m in messages:
        if m.message_type == MessageType.EVIDENCE and m.evidence is not None:
            for ref in m.references_to:
                out[ref] = bool(m.evidence.get("passed"))
    return out


def branch_from(session_id: str, parent: str | None, history: list[Event],
                shared: int) -> Branch:
    """The part of ``history`` after its first ``shared`` events, summarised."""
    tail = history[shared:]
    b = Branch(session_id, parent, participants(history))
    for e in tail:
        if isinstance(e, ev.MessagePosted):
            b.messages.append(e.message)
        elif isinstance(e, ev.VoteCast):
            b.votes.append(e)
        elif isinstance(e, ev.ConsensusScored):
            b.scores.append(e)
        elif isinstance(e, ev.SessionFinished):
            b.finished = e
        elif isinstance(e, ev.TurnMetrics):
            b.tokens += e.prompt_tokens + e.completion_tokens
            speed = b.speeds.setdefault(e.role, RoleSpeed(e.model_id))
            speed.model = e.model_id or speed.model
            speed.completion_tokens += e.completion_tokens
            speed.seconds += e.latency_s
    b.verdicts = _verdicts([e.message for e in history if isinstance(e, ev.MessagePosted)])
    b.wall_s = _wall(history, shared)
    return b


def _wall(history: list[Event], shared: int) -> float:
    """Seconds from the fork point to the branch's last event: a branch's run starts when it
    is resumed (not when it was forked); the session it forked from goes on from the last
    shared event."""
    tail = history[shared:]
    if not tail:
        return 0.0
    start_at = history[shared - 1].at if shared else tail[0].at
    if isinstance(tail[0], ev.SessionForked):
        rest = tail[1:]
        if not rest:
            return 0.0
        start_at = rest[0].at
    return max(0.0, (tail[-1].at - start_at).total_seconds())


def compare_sessions(store: SessionStore, session_ids: list[str]) -> Comparison:
    """Read every session (a unique id prefix is enough) and compare them from the fork point
    they share. Sessions that share no history are refused."""
    if len(session_ids) < 2:
        raise UsageError("compare needs two or more sessions: compare A B [C ...]")
    ids = [store.resolve_id(s) for s in session_ids]
    if len(set(ids)) != len(ids):
        raise UsageError("a session is named twice; name each branch once")
    results = [store.read(i) for i in ids]
    histories = [r.events for r in results]
    shared = common_prefix(histories)
    point = shared_point(histories[0][:shared])
    if point is None:
        raise UsageError(f"{', '.join(ids)} share no history: compare branches of one "
                         "session (made with `logomesh-tui fork`)")
    branches = [branch_from(i, r.parent, r.events, shared)
                for i, r in zip(ids, results, strict=True)]
    return Comparison(*point, histories[0][:shared], branches)
