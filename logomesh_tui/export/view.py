"""A session file read back as typed data: messages, votes, swaps, failures, scores, metrics."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..conversation.messages import LLMMessage, Vote
from ..errors import LogoMeshError
from ..sessions import events as ev
from ..sessions.events import Event
from ..sessions.store import DamagedLine, SessionStore, read_events

# The events a view keeps whole, each kind in its own list (the field named here).
_KEPT_AS_IS: dict[type[Event], str] = {
    ev.Swap: "swaps", ev.TurnFailed: "failures", ev.ConsensusScored: "consensus",
    ev.Arbitration: "arbitrations", ev.TurnMetrics: "turn_metrics", ev.Note: "notes",
}


@dataclass
class SessionView:
    """Everything an export needs from one session, in conversation order."""

    session_id: str
    events: list[Event]
    prompt: str = ""
    task: str = ""
    protocol: str = ""
    participants: dict[str, str] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    messages: list[LLMMessage] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    vote_message_ids: list[str | None] = field(default_factory=list)
    swaps: list[ev.Swap] = field(default_factory=list)
    failures: list[ev.TurnFailed] = field(default_factory=list)
    consensus: list[ev.ConsensusScored] = field(default_factory=list)
    arbitrations: list[ev.Arbitration] = field(default_factory=list)
    turn_metrics: list[ev.TurnMetrics] = field(default_factory=list)
    notes: list[ev.Note] = field(default_factory=list)
    finished: ev.SessionFinished | None = None
    torn_tail: bool = False
    damaged: list[DamagedLine] = field(default_factory=list)
    by_id: dict[str, LLMMessage] = field(default_factory=dict)
    _refs: dict[str, LLMMessage] = field(default_factory=dict, repr=False)

    @property
    def bad_lines(self) -> int:
        return len(self.damaged)

    @property
    def skipped_messages(self) -> int:
        """Messages and votes lost to damaged lines."""
        return sum(1 for d in self.damaged if d.kind in ("message", "vote"))

    @classmethod
    def from_events(cls, session_id: str, events: list[Event]) -> SessionView:
        view = cls(session_id=session_id, events=list(events))
        for e in events:
            if isinstance(e, ev.SessionStarted):
                view.prompt = e.prompt
                view.task = e.task or e.prompt
                view.protocol = e.protocol
                view.participants = dict(e.participants)
                view.limits = dict(e.limits)
            elif isinstance(e, ev.SessionForked):
                # A branch: its own assignment, protocol and limits from the fork on.
                view.participants = dict(e.participants) or view.participants
                view.protocol = e.protocol or view.protocol
                view.limits = {**view.limits, **e.limits}
            elif isinstance(e, ev.MessagePosted):
                view.messages.append(e.message)
            elif isinstance(e, ev.VoteCast):
                view.votes.append(e.vote)
                view.vote_message_ids.append(e.message_id or None)
            elif isinstance(e, ev.SessionFinished):
                view.finished = e
            elif type(e) in _KEPT_AS_IS:
                getattr(view, _KEPT_AS_IS[type(e)]).append(e)
        view.by_id = {m.id: m for m in view.messages}
        # Short ids first, so a full id that happens to look like "m3" still wins.
        view._refs = {m.short_id: m for m in view.messages if m.short_id} | view.by_id
        return view

    def resolve(self, ref: str) -> LLMMessage | None:
        """A message by full id or by short id (``m3``)."""
        return self._refs.get(ref)

    def roles(self) -> list[str]:
        """Roles that were served by a model at some point (not the human arbiter)."""
        roles = list(self.participants)
        for s in self.swaps:
            if s.role and s.role not in roles:
                roles.append(s.role)
        for m in self.messages:
            if m.model_id and m.from_role not in roles:
                roles.append(m.from_role)
        return roles

    def model_turns(self) -> list[LLMMessage]:
        """Messages a model wrote (arbitration by a person and system notes excluded)."""
        roles = set(self.roles())
        return [m for m in self.messages
                if m.from_role not in ("human", "system") and (m.model_id or m.from_role in roles)]

    def rounds_run(self) -> int:
        rounds = [m.round for m in self.messages] + [c.round for c in self.consensus]
        return max(rounds, default=0)

    def referenced_by(self) -> dict[str, list[str]]:
        """message id -> ids of later messages that cite it."""
        out: dict[str, list[str]] = defaultdict(list)
        for m in self.messages:
            for ref in m.references_to:
                target = self.resolve(ref)
                if target is not None and target.id != m.id:
                    out[target.id].append(m.id)
        return out


def load_session(session: str | Path, sessions_dir: Path | str | None = None) -> SessionView:
    """Read a session by id (from the sessions folder; a unique prefix is enough) or by path.

    A torn last line (a crash mid-write) is ignored; damaged lines are skipped and listed in
    ``damaged``.
    """
    path = Path(session)
    if str(session).endswith(".jsonl") and path.is_file():
        result = read_events(path)
        session_id = path.stem
    else:
        store = SessionStore(sessions_dir)
        session_id = store.resolve_id(str(session))
        result = store.read(session_id)
    if not result.events:
        raise LogoMeshError(f"session {session_id!r} has no readable events; nothing to export")
    view = SessionView.from_events(session_id, result.events)
    view.torn_tail = result.torn_tail
    view.damaged = list(result.damaged)
    return view
