"""Branches of recorded sessions: fork a session at a message, read a branch with its prefix.

A branch's file starts with a ``fork`` event (:class:`~.events.SessionForked`) naming its parent
and the last shared message; the shared prefix stays in the parent's file. Reading a branch
(:meth:`SessionStore.read`) reads the parent's history up to the fork point, then the branch's
own events, so every message keeps one id across branches and a branch of a branch works the
same way. The branch's own events number on from the prefix's last ``seq``, so the history a
branch reads is ordered by ``seq`` like a single file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from . import events as ev
from .events import Event

if TYPE_CHECKING:
    from .store import ReadResult, SessionStore

MAX_DEPTH = 64
"""Branches of branches deeper than this are refused (a loop in hand-edited files)."""

START = "start"
"""The fork point before the first turn: the branch shares only the session's start (the
prompt, the task and the roles), so it differs from its parent from the very first message.
Message ids are hex and short ids are ``m<n>``, so the word cannot name a message."""


@dataclass
class ForkResult:
    """A new branch: its id, its parent, and the message it forked after."""

    id: str
    parent: str
    fork_at: str
    fork_short_id: str
    assignment: dict[str, str] = field(default_factory=dict)
    participants: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "parent": self.parent, "fork_at": self.fork_at,
                "fork_short_id": self.fork_short_id, "assignment": self.assignment,
                "participants": self.participants}


def fork_event(events: list[Event]) -> ev.SessionForked | None:
    """The ``fork`` event that opens a branch's own file (None: a root session)."""
    first = events[0] if events else None
    return first if isinstance(first, ev.SessionForked) else None


def find_message(events: list[Event], ref: str) -> ev.MessagePosted | None:
    """The message event whose id is ``ref``, else the one whose short id is (``m3``)."""
    posted = [e for e in events if isinstance(e, ev.MessagePosted)]
    for e in posted:
        if e.message.id == ref:
            return e
    return next((e for e in posted if e.message.short_id == ref), None)


def cut_at(events: list[Event], message_id: str) -> list[Event]:
    """The events up to and including message ``message_id``, with the vote (or the note that
    it gave none) the message carried, which are recorded right after it; with
    :data:`START`, the events up to and including the session's start."""
    if message_id == START:
        begin = next((i for i, e in enumerate(events) if isinstance(e, ev.SessionStarted)),
                     None)
        if begin is None:
            raise UsageError("the parent session has no start event; it cannot be forked")
        return events[:begin + 1]
    index = next((i for i, e in enumerate(events)
                  if isinstance(e, ev.MessagePosted) and e.message.id == message_id), None)
    if index is None:
        raise UsageError(f"message {message_id!r} is not in the parent session; "
                         "see `logomesh-tui sessions show PARENT`")
    role = events[index].message.from_role  # type: ignore[attr-defined]
    end = index + 1
    while end < len(events):
        e = events[end]
        if isinstance(e, ev.VoteCast) and e.message_id == message_id:
            end += 1
        elif isinstance(e, ev.Note) and e.event == "no_vote" and e.role == role:
            end += 1
        else:
            break
    return events[:end]


def with_prefix(store: SessionStore, session_id: str, own: ReadResult,
                depth: int = 0) -> ReadResult:
    """``own`` (a file's events) with the shared prefix of its ancestors in front."""
    fork = fork_event(own.events)
    if fork is None:
        return own
    if depth >= MAX_DEPTH:
        raise UsageError(f"session {session_id!r} descends from more than {MAX_DEPTH} "
                         "branches (a loop of parents?); check its first line")
    parent = store.read_lineage(fork.parent, depth + 1)
    prefix = cut_at(parent.events, fork.fork_at)
    damaged = [d.model_copy(update={"error": f"in {fork.parent}: {d.error}"})
               for d in parent.damaged] + list(own.damaged)
    return own.model_copy(update={"events": prefix + list(own.events), "damaged": damaged,
                                  "parent": fork.parent, "fork_at": fork.fork_at,
                                  "prefix_events": len(prefix)})


def parse_assignment(items: list[str] | None) -> dict[str, str]:
    """``["ROLE=MODEL", ...]`` as a dict; a malformed item is a one-line UsageError."""
    out: dict[str, str] = {}
    for item in items or []:
        role, sep, model = item.partition("=")
        role, model = role.strip(), model.strip()
        if not sep or not role or not model:
            raise UsageError(f"bad role assignment {item!r}: write ROLE=MODEL, e.g. "
                             "architecture-critic=qwen2.5-coder-0.5b")
        out[role] = model
    return out


def participants(events: list[Event]) -> dict[str, str]:
    """Role -> model as the history leaves it (start, fork, swaps, loads, unloads)."""
    models: dict[str, str] = {}
    for e in events:
        if isinstance(e, ev.SessionStarted | ev.SessionForked):
            models = dict(e.participants) or models
        elif isinstance(e, ev.Swap):
            models[e.role] = e.new_model_id
        elif isinstance(e, ev.RoleLoaded):
            models[e.role] = e.model_id
        elif isinstance(e, ev.RoleUnloaded):
            models.pop(e.role, None)
    return models


def fork_session(store: SessionStore, session_id: str, at: str, *,
                 assignment: dict[str, str] | None = None, protocol: str | None = None,
                 limits: dict[str, Any] | None = None,
                 new_id: str | None = None) -> ForkResult:
    """Record a branch of ``session_id`` after message ``at`` (an id, a short id, or
    :data:`START` for before the first turn) that goes on with ``assignment`` (role -> model),
    another ``protocol`` or other ``limits``. The branch is not run here: it is an unfinished
    session that ``resume`` continues."""
    from .store import SessionRecorder, new_session_id

    sid = store.resolve_id(session_id)
    history = store.read(sid).events
    fork_at, fork_short_id = _fork_point(sid, history, at)
    prefix = cut_at(history, fork_at)
    start = next((e for e in prefix if isinstance(e, ev.SessionStarted)), None)
    if start is None:
        raise UsageError(f"session {sid} has no start event; it cannot be forked")
    models = participants(prefix)
    changes = dict(assignment or {})
    unknown = [r for r in changes if r not in models]
    if unknown:
        raise UsageError(f"session {sid} has no role {unknown[0]!r}; its roles are "
                         f"{', '.join(models)}")
    if not changes and protocol is None and not limits:
        raise UsageError("a fork needs a change: --role ROLE=MODEL, --protocol or --max-rounds")
    models.update(changes)
    merged = {**start.limits, **(limits or {})}
    branch = new_id or new_session_id()
    recorder = SessionRecorder(branch, store.path_for(branch), next_seq=prefix[-1].seq + 1)
    recorder.append(ev.SessionForked(
        parent=sid, fork_at=fork_at, fork_short_id=fork_short_id,
        prefix_seq=prefix[-1].seq, assignment=changes, participants=models,
        protocol=protocol or start.protocol, limits=merged, prompt=start.prompt))
    if not recorder.saving:
        raise UsageError(f"cannot write the branch into {store.dir}: {recorder.warning}")
    return ForkResult(branch, sid, fork_at, fork_short_id, changes, models)


def _fork_point(sid: str, history: list[Event], at: str) -> tuple[str, str]:
    """The id and short id of the message ``at`` names (both :data:`START` for the start)."""
    if at == START:
        return START, START
    posted = find_message(history, at)
    if posted is None:
        known = [e.message.short_id for e in history if isinstance(e, ev.MessagePosted)]
        raise UsageError(f"session {sid} has no message {at!r}; its messages are "
                         f"{', '.join(known[:12]) or 'none'}{' ...' if len(known) > 12 else ''}"
                         f" (or {START!r}: before the first turn)")
    return posted.message.id, posted.message.short_id


def common_prefix(histories: list[list[Event]]) -> int:
    """How many events the histories share from the start (by the session and seq that
    recorded each): the fork point of a comparison."""
    if not histories:
        return 0
    keys = [[(e.session_id, e.seq) for e in h] for h in histories]
    n = min(len(k) for k in keys)
    for i in range(n):
        if len({k[i] for k in keys}) != 1:
            return i
    return n


def shared_point(shared: list[Event]) -> tuple[str, str] | None:
    """Where sessions that share the events ``shared`` part: the id and short id of the last
    shared message, :data:`START` twice when they share the start but no message (branches
    forked before the first turn), None when they share nothing."""
    last = next((e.message for e in reversed(shared) if isinstance(e, ev.MessagePosted)), None)
    if last is not None:
        return last.id, last.short_id
    if any(isinstance(e, ev.SessionStarted) for e in shared):
        return START, START
    return None


def tree_order(rows: list[Any]) -> list[tuple[Any, int]]:
    """Session summaries (each with ``id`` and ``parent``) as a tree: roots in the order
    given, each followed by its branches (oldest first), with each row's depth. A branch
    whose parent is missing is shown as a root."""
    ids = {r.id for r in rows}
    children: dict[str, list[Any]] = {}
    roots = []
    for r in rows:
        if r.parent and r.parent in ids and r.parent != r.id:
            children.setdefault(r.parent, []).append(r)
        else:
            roots.append(r)
    out: list[tuple[Any, int]] = []
    seen: set[str] = set()

    def walk(row: Any, depth: int) -> None:
        if row.id in seen:
            return
        seen.add(row.id)
        out.append((row, depth))
        for child in reversed(children.get(row.id, [])):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return out
