"""A session file read back as typed data: messages, votes, swaps, failures, scores, metrics."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..conversation.messages import LLMMessage, SessionEvent, Vote
from ..errors import LogoMeshError
from ..sessions.store import SessionStore, read_events


@dataclass
class SessionView:
    """Everything an export needs from one session, in conversation order."""

    session_id: str
    events: list[SessionEvent]
    prompt: str = ""
    task: str = ""
    protocol: str = ""
    participants: dict[str, str] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    messages: list[LLMMessage] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    vote_message_ids: list[str | None] = field(default_factory=list)
    swaps: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    consensus: list[dict[str, Any]] = field(default_factory=list)
    arbitrations: list[dict[str, Any]] = field(default_factory=list)
    turn_metrics: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    finished: dict[str, Any] | None = None
    torn_tail: bool = False
    bad_lines: int = 0
    skipped_messages: int = 0
    by_id: dict[str, LLMMessage] = field(default_factory=dict)
    _refs: dict[str, LLMMessage] = field(default_factory=dict, repr=False)

    @classmethod
    def from_events(cls, session_id: str, events: list[SessionEvent]) -> SessionView:
        view = cls(session_id=session_id, events=list(events))
        for ev in events:
            data = ev.data or {}
            if ev.kind == "session_started":
                view.prompt = str(data.get("prompt", ""))
                view.task = str(data.get("task") or view.prompt)
                view.protocol = str(data.get("protocol", ""))
                view.participants = {str(k): str(v) for k, v in
                                     dict(data.get("participants") or {}).items()}
                view.limits = dict(data.get("limits") or {})
            elif ev.kind == "message":
                try:
                    view.messages.append(LLMMessage.model_validate(data))
                except ValidationError:
                    view.skipped_messages += 1
            elif ev.kind == "vote":
                try:
                    view.votes.append(Vote.model_validate(data))
                    mid = data.get("message_id")
                    view.vote_message_ids.append(str(mid) if mid else None)
                except ValidationError:
                    view.skipped_messages += 1
            elif ev.kind == "swap":
                view.swaps.append(dict(data, at=ev.at.isoformat()))
            elif ev.kind == "failure":
                view.failures.append(dict(data, at=ev.at.isoformat()))
            elif ev.kind == "consensus":
                view.consensus.append(dict(data))
            elif ev.kind == "arbitration":
                view.arbitrations.append(dict(data))
            elif ev.kind == "turn_metrics":
                view.turn_metrics.append(dict(data))
            elif ev.kind == "note":
                view.notes.append(dict(data))
            elif ev.kind == "session_finished":
                view.finished = dict(data)
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
            if s.get("role") and s["role"] not in roles:
                roles.append(str(s["role"]))
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
        rounds = [m.round for m in self.messages] + [int(c.get("round", 0)) for c in self.consensus]
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

    A torn last line (a crash mid-write) is ignored; unreadable lines are counted in
    ``bad_lines`` and skipped.
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
    view.bad_lines = result.bad_lines
    return view
