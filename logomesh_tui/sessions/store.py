"""Durable sessions: one JSON line per event in ``<sessions_dir>/<session-id>.jsonl``.

Every event is written, flushed and fsync'd before the conversation goes on, so killing the
process loses at most the turn in flight. A torn last line (the process died mid-write) is
ignored on read and cut off before a resumed session appends to the file. When the folder
cannot be written (read-only, disk full), the recorder keeps every event in memory, sets
``saving = False`` and ``warning = "not saving: ..."`` and never raises into the conversation.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..config import default_sessions_dir
from ..conversation.messages import EventKind, SessionEvent
from ..errors import UsageError

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class SessionNotFoundError(UsageError):
    """No session matches the id given."""


def validate_session_id(session_id: str) -> str:
    """Return ``session_id`` if it is a safe file stem; raise a one-line error otherwise."""
    if not isinstance(session_id, str) or not _ID_RE.match(session_id) or ".." in session_id:
        raise UsageError(
            f"invalid session id {session_id!r}: use letters, digits, '-', '_' and '.' only "
            "(see `logomesh-tui sessions list`)")
    return session_id


def new_session_id() -> str:
    """Sortable and readable: ``20261125-210531-3fa2c1``."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


class SessionSummary(BaseModel):
    """One row of ``sessions list``."""

    id: str
    started: datetime | None
    prompt: str
    roles: dict[str, str]
    protocol: str = ""
    message_count: int
    finished: bool
    final_score: float | None = None
    path: Path


class ReadResult(BaseModel):
    events: list[SessionEvent]
    torn_tail: bool = False
    bad_lines: int = 0


class SessionStore:
    """The folder of session files."""

    def __init__(self, sessions_dir: Path | str | None = None) -> None:
        self.dir = Path(sessions_dir) if sessions_dir is not None else default_sessions_dir()

    def path_for(self, session_id: str) -> Path:
        """The file of ``session_id``; the id is validated so the path stays in the folder."""
        validate_session_id(session_id)
        path = (self.dir / f"{session_id}.jsonl")
        if path.resolve().parent != self.dir.resolve():
            raise UsageError(f"invalid session id {session_id!r}: it leaves the sessions folder")
        return path

    def exists(self, session_id: str) -> bool:
        return self.path_for(session_id).is_file()

    def recorder(self, session_id: str | None = None, *, resume: bool = False) -> SessionRecorder:
        """A recorder for a new session, or (``resume=True``) one that appends to an old one."""
        sid = session_id or new_session_id()
        path = self.path_for(sid)
        if resume:
            if not path.is_file():
                raise SessionNotFoundError(
                    f"no session {sid!r} in {self.dir}; see `logomesh-tui sessions list`")
            result = self.read(sid)
            return SessionRecorder(sid, path, next_seq=(result.events[-1].seq + 1
                                                        if result.events else 0),
                                   repair_tail=True, history=result.events)
        return SessionRecorder(sid, path)

    def read(self, session_id: str) -> ReadResult:
        """All complete events of a session. A torn last line is skipped (``torn_tail``)."""
        path = self.path_for(session_id)
        if not path.is_file():
            raise SessionNotFoundError(
                f"no session {session_id!r} in {self.dir}; see `logomesh-tui sessions list`")
        return read_events(path)

    def list(self) -> list[SessionSummary]:
        """Every session in the folder, newest first."""
        if not self.dir.is_dir():
            return []
        rows = []
        for path in self.dir.glob("*.jsonl"):
            if not _ID_RE.match(path.stem):
                continue
            try:
                rows.append(summarize(path.stem, path, read_events(path).events))
            except OSError:
                continue
        return sorted(rows, key=lambda r: (r.started or datetime.min.replace(tzinfo=UTC)),
                      reverse=True)

    def resolve_id(self, prefix: str) -> str:
        """Accept a unique prefix of a session id, as git does for commits."""
        validate_session_id(prefix)
        if self.path_for(prefix).is_file():
            return prefix
        matches = [p.stem for p in self.dir.glob(f"{prefix}*.jsonl")] if self.dir.is_dir() else []
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UsageError(f"session id {prefix!r} is ambiguous: "
                                f"{', '.join(sorted(matches)[:5])}")
        raise SessionNotFoundError(
            f"no session {prefix!r} in {self.dir}; see `logomesh-tui sessions list`")


def read_events(path: Path) -> ReadResult:
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    # Text after the last newline is a line whose write did not finish.
    torn = bool(lines[-1].strip())
    complete = lines[:-1]
    events, bad = [], 0
    for line in complete:
        if not line.strip():
            continue
        try:
            events.append(SessionEvent.model_validate_json(line))
        except (ValidationError, ValueError):
            bad += 1
    if torn:
        try:
            events.append(SessionEvent.model_validate_json(lines[-1]))
            torn = False  # complete JSON that only lacks its newline
        except (ValidationError, ValueError):
            pass
    return ReadResult(events=events, torn_tail=torn, bad_lines=bad)


def summarize(session_id: str, path: Path, events: list[SessionEvent]) -> SessionSummary:
    started, prompt, roles, protocol = None, "", {}, ""
    count, finished, score = 0, False, None
    for ev in events:
        if ev.kind == "session_started":
            started = ev.at
            prompt = str(ev.data.get("prompt", ""))
            roles = dict(ev.data.get("participants", {}))
            protocol = str(ev.data.get("protocol", ""))
        elif ev.kind == "message":
            count += 1
        elif ev.kind == "swap":
            roles[ev.data.get("role", "")] = ev.data.get("new_model_id", "")
        elif ev.kind == "consensus":
            score = ev.data.get("score")
        elif ev.kind == "session_finished":
            finished = True
            score = ev.data.get("consensus_score", score)
    return SessionSummary(id=session_id, started=started, prompt=prompt, roles=roles,
                          protocol=protocol, message_count=count, finished=finished,
                          final_score=score, path=path)


class SessionRecorder:
    """Appends events to one session file; keeps them in memory too.

    ``listeners`` are called with every event (sync, in the caller's thread) — the timeline
    printer and the dashboard use them.
    """

    def __init__(self, session_id: str, path: Path | None, *, next_seq: int = 0,
                 repair_tail: bool = False, history: list[SessionEvent] | None = None) -> None:
        self.session_id = session_id
        self.path = path
        self.events: list[SessionEvent] = list(history or [])
        self._seq = next_seq
        self.saving = path is not None
        self.warning: str | None = None if path is not None else "not saving: no sessions folder"
        self.listeners: list[Callable[[SessionEvent], None]] = []
        self._repair = repair_tail

    def _fail(self, exc: BaseException) -> None:
        self.saving = False
        self.warning = f"not saving: {exc.__class__.__name__}: {exc}"

    def _write(self, line: bytes) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._repair and self.path.exists():
            self._cut_torn_tail()
            self._repair = False
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(line)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)

    def _cut_torn_tail(self) -> None:
        assert self.path is not None
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            tail = data[keep:]
            try:
                SessionEvent.model_validate_json(tail)
                # A complete last event that only lacks its newline: keep it.
                with self.path.open("ab") as f:
                    f.write(b"\n")
                return
            except (ValidationError, ValueError):
                pass
            with self.path.open("r+b") as f:
                f.truncate(keep)

    def append(self, kind: EventKind, data: dict[str, Any] | None = None) -> SessionEvent:
        """Record one event. Never raises for I/O problems (see ``saving``/``warning``)."""
        event = SessionEvent(seq=self._seq, kind=kind, session_id=self.session_id,
                             data=data or {})
        self._seq += 1
        self.events.append(event)
        if self.saving:
            try:
                self._write((event.model_dump_json() + "\n").encode())
            except OSError as exc:
                # The file may now end with a partial line; stop writing so it stays the last.
                self._fail(exc)
        for listener in list(self.listeners):
            listener(event)
        return event


def event_payload(obj: Any) -> dict[str, Any]:
    """JSON-ready dict of a pydantic model (aliases used, so LLMMessage has ``from``)."""
    return json.loads(obj.model_dump_json(by_alias=True))
