"""What a session file says about a run so far, folded from its events (for resume).

A pure function of the events: :func:`replay` needs no models, bus or recorder, so what resume
will continue from can be read (and tested) without running anything. The session applies it
(:meth:`MultiModelSession.restore`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import LogoMeshError
from ..sessions import events as ev
from ..sessions.events import Event
from .messages import LLMMessage, Vote


@dataclass
class Replayed:
    """The state of an unfinished run, as its events left it."""

    start: ev.SessionStarted
    steps: list[LLMMessage | Vote] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    done: set[tuple[int, str]] = field(default_factory=set)
    started_rounds: set[int] = field(default_factory=set)
    scored_rounds: set[int] = field(default_factory=set)
    rounds_run: int = 0
    models: dict[str, str] = field(default_factory=dict)
    total_tokens: int = 0


def replay(session_id: str, events: list[Event]) -> Replayed:
    """Fold ``events`` in order. Messages and votes stay interleaved in ``steps`` because a
    later message or vote replaces a role's standing support."""
    start = next((e for e in events if isinstance(e, ev.SessionStarted)), None)
    if start is None:
        raise LogoMeshError(f"session {session_id!r} has no start event; cannot resume it")
    if any(isinstance(e, ev.SessionFinished) for e in events):
        raise LogoMeshError(f"session {session_id!r} already finished; "
                            f"see `logomesh-tui sessions show {session_id}`")
    out = Replayed(start=start, models=dict(start.participants))
    for event in events:
        if isinstance(event, ev.SessionForked):
            # A branch goes on with its own assignment, protocol and limits.
            out.models = dict(event.participants) or out.models
            out.start = out.start.model_copy(update={
                "participants": dict(out.models),
                "protocol": event.protocol or out.start.protocol,
                "limits": {**out.start.limits, **event.limits}})
        elif isinstance(event, ev.MessagePosted):
            out.steps.append(event.message)
            out.done.add((event.message.round, event.message.from_role))
        elif isinstance(event, ev.VoteCast):
            out.steps.append(event.vote)
        elif isinstance(event, ev.TurnFailed):
            out.done.add((event.round, event.role))
            out.failures.append(event.payload())
        elif isinstance(event, ev.ConsensusScored):
            out.scores.append(event.score)
            out.scored_rounds.add(event.round)
            out.rounds_run = max(out.rounds_run, event.round)
        elif isinstance(event, ev.Note) and event.event == "round_started":
            out.started_rounds.add(event.round or 0)
        elif isinstance(event, ev.Swap):
            out.models[event.role] = event.new_model_id
        elif isinstance(event, ev.RoleLoaded):
            out.models[event.role] = event.model_id
        elif isinstance(event, ev.RoleUnloaded):
            out.models.pop(event.role, None)
        elif isinstance(event, ev.TurnMetrics):
            out.total_tokens += event.prompt_tokens + event.completion_tokens
    return out
