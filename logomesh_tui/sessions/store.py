"""Durable sessions: one JSON line per event in ``<sessions_dir>/<session-id>.jsonl``.

Every event (a typed model from ``sessions.events``) is written, flushed and fsync'd before the
conversation goes on, so killing the process loses at most the turn in flight. A torn last line
(the process died mid-write) is ignored on read and cut off before a resumed session appends to
the file. A damaged line anywhere else is skipped and reported in ``ReadResult.damaged`` (its
line number and what it held), so readers can say what was lost. When the folder
cannot be written (read-only, disk full), the recorder keeps every event in memory, sets
``saving = False`` and ``warning = "not saving: ..."`` and never raises into the conversation.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from ..config import default_sessions_dir
from ..errors import UsageError
from .events import (
    ConsensusScored,
    Event,
    SessionFinished,
    SessionForked,
    SessionStarted,
    Swap,
    parse_event,
)

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
    unreadable_lines: int = Field(default=0, description="lines that are not JSON at all")
    path: Path
    parent: str | None = Field(default=None, description="the session this one branched from")
    fork_at: str | None = Field(default=None, description="the last message shared with parent")
    fork_short_id: str | None = None


class DamagedLine(BaseModel):
    """A line in the middle of a session file that could not be read back."""

    line: int = Field(description="1-based line number in the file")
    kind: str | None = Field(default=None, description="the event kind, when it could be told")
    seq: int | None = None
    error: str

    def describe(self) -> str:
        what = f"a {self.kind} event" if self.kind else "an event"
        seq = f" (seq {self.seq})" if self.seq is not None else ""
        return f"line {self.line}: {what}{seq} could not be read and is left out: {self.error}"


class ReadResult(BaseModel):
    """The events of one file, and what could not be read (a torn last line, damaged lines)."""

    events: list[Event]
    torn_tail: bool = False
    damaged: list[DamagedLine] = Field(default_factory=list)
    parent: str | None = Field(default=None, description="a branch's parent session")
    fork_at: str | None = Field(default=None, description="a branch's last shared message")
    prefix_events: int = Field(default=0, description="events read from the ancestors' files")

    @property
    def bad_lines(self) -> int:
        return len(self.damaged)

    def warnings(self) -> list[str]:
        """One line per problem, for ``sessions show``, resume and the dashboard."""
        out = [d.describe() for d in self.damaged]
        if self.torn_tail:
            out.append("the last line was torn by a crash mid-write and is ignored")
        return out


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
        """All complete events of a session. A torn last line is skipped (``torn_tail``).
        A branch's history starts with its ancestors' shared prefix (``sessions.lineage``)."""
        return self.read_lineage(session_id)

    def read_lineage(self, session_id: str, depth: int = 0) -> ReadResult:
        from .lineage import with_prefix

        return with_prefix(self, session_id, self.read_own(session_id), depth)

    def read_own(self, session_id: str) -> ReadResult:
        """The events of the session's own file only (a branch without its prefix)."""
        path = self.path_for(session_id)
        if not path.is_file():
            raise SessionNotFoundError(
                f"no session {session_id!r} in {self.dir}; see `logomesh-tui sessions list`")
        return read_events(path)

    def ids(self) -> list[str]:
        """Every session id in the folder (names only: no file is read)."""
        if not self.dir.is_dir():
            return []
        return sorted(p.stem for p in self.dir.glob("*.jsonl") if _ID_RE.match(p.stem))

    def list(self) -> list[SessionSummary]:
        """Every session in the folder, newest first.

        Reads each file once per change (summaries are cached by size and mtime) and validates
        only the few events a summary needs; the dashboard calls it from a worker thread.
        """
        rows = []
        for sid in self.ids():
            path = self.dir / f"{sid}.jsonl"
            try:
                rows.append(quick_summary(sid, path))
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


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"{where}: {first.get('msg')}{more}" if where else f"{first.get('msg')}{more}"
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__


def parse_line(line: bytes | str, number: int = 0) -> Event | DamagedLine:
    """One line of a session file as an event, or what is known about it when it is damaged."""
    try:
        raw = json.loads(line)
    except ValueError as exc:
        return DamagedLine(line=number, error=f"not JSON ({_error_text(exc)})")
    if not isinstance(raw, dict):
        return DamagedLine(line=number, error="not a JSON object")
    kind = raw.get("kind") if isinstance(raw.get("kind"), str) else None
    seq = raw.get("seq") if isinstance(raw.get("seq"), int) else None
    try:
        return parse_event(raw)
    except (ValidationError, ValueError, KeyError) as exc:
        return DamagedLine(line=number, kind=kind, seq=seq, error=_error_text(exc))


def read_events(path: Path) -> ReadResult:
    """Every event of a session file, any schema version, in order."""
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    # Text after the last newline is a line whose write did not finish.
    tail = lines[-1]
    events: list[Event] = []
    damaged: list[DamagedLine] = []
    for number, line in enumerate(lines[:-1], 1):
        if not line.strip():
            continue
        parsed = parse_line(line, number)
        if isinstance(parsed, DamagedLine):
            damaged.append(parsed)
        else:
            events.append(parsed)
    torn = False
    if tail.strip():
        parsed = parse_line(tail, len(lines))
        if isinstance(parsed, DamagedLine):
            torn = True
        else:
            events.append(parsed)  # complete JSON that only lacks its newline
    return ReadResult(events=events, torn_tail=torn, damaged=damaged)


def summarize(session_id: str, path: Path, events: list[Event]) -> SessionSummary:
    """A summary from events already read."""
    summary = _Summary(session_id, path)
    for ev in events:
        summary.add(ev)
    return summary.result()


class _Summary:
    def __init__(self, session_id: str, path: Path) -> None:
        self.row = SessionSummary(id=session_id, started=None, prompt="", roles={},
                                  message_count=0, finished=False, path=path)

    def add(self, ev: Event) -> None:
        row = self.row
        if isinstance(ev, SessionStarted):
            row.started, row.prompt = ev.at, ev.prompt
            row.roles, row.protocol = dict(ev.participants), ev.protocol
        elif isinstance(ev, SessionForked):
            row.started, row.prompt = ev.at, ev.prompt
            row.roles, row.protocol = dict(ev.participants), ev.protocol
            row.parent, row.fork_at, row.fork_short_id = ev.parent, ev.fork_at, ev.fork_short_id
        elif ev.kind == "message":
            row.message_count += 1
        elif isinstance(ev, Swap):
            row.roles[ev.role] = ev.new_model_id
        elif isinstance(ev, ConsensusScored):
            row.final_score = ev.score
        elif isinstance(ev, SessionFinished):
            row.finished = True
            if ev.consensus_score is not None:
                row.final_score = ev.consensus_score

    def result(self) -> SessionSummary:
        return self.row


# Only these kinds change a summary; every other line is counted by its kind alone.
_SUMMARY_KINDS = frozenset({"session_started", "fork", "swap", "consensus", "session_finished"})
_summary_cache: dict[Path, tuple[tuple[int, int], SessionSummary]] = {}
_cache_lock = threading.Lock()


def quick_summary(session_id: str, path: Path) -> SessionSummary:
    """A session's summary without validating every event: lines are decoded, messages only
    counted, and the result is kept until the file changes (size or mtime)."""
    stat = path.stat()
    key = (stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        hit = _summary_cache.get(path)
    if hit is not None and hit[0] == key:
        return hit[1].model_copy(deep=True)
    summary = _Summary(session_id, path)
    unreadable = 0
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            kind = raw.get("kind")
        except (ValueError, AttributeError):
            unreadable += 1
            continue
        if kind == "message":
            summary.row.message_count += 1
        elif kind in _SUMMARY_KINDS:
            try:
                summary.add(parse_event(raw))
            except (ValidationError, ValueError, KeyError):
                unreadable += 1
    row = summary.result()
    # A torn last line is not JSON either; it is reported when the session is read.
    row.unreadable_lines = unreadable
    with _cache_lock:
        _summary_cache[path] = (key, row.model_copy(deep=True))
    return row


class SessionRecorder:
    """Appends events to one session file; keeps them in memory too.

    ``listeners`` are called with every event (sync, in the caller's thread) — the timeline
    printer and the dashboard use them.
    """

    def __init__(self, session_id: str, path: Path | None, *, next_seq: int = 0,
                 repair_tail: bool = False, history: list[Event] | None = None) -> None:
        self.session_id = session_id
        self.path = path
        self.events: list[Event] = list(history or [])
        self._seq = next_seq
        self.saving = path is not None
        self.warning: str | None = None if path is not None else "not saving: no sessions folder"
        self.listeners: list[Callable[[Event], None]] = []
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
            if not isinstance(parse_line(tail), DamagedLine):
                # A complete last event that only lacks its newline: keep it.
                with self.path.open("ab") as f:
                    f.write(b"\n")
                return
            with self.path.open("r+b") as f:
                f.truncate(keep)

    def append(self, event: Event) -> Event:
        """Record ``event`` (its ``seq`` and ``session_id`` are set here). Never raises for
        I/O problems (see ``saving``/``warning``)."""
        event.seq = self._seq
        event.session_id = self.session_id
        self._seq += 1
        self.events.append(event)
        if self.saving:
            try:
                self._write((event.model_dump_json(by_alias=True) + "\n").encode())
            except OSError as exc:
                # The file may now end with a partial line; stop writing so it stays the last.
                self._fail(exc)
        for listener in list(self.listeners):
            listener(event)
        return event
