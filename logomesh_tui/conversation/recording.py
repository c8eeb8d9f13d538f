"""EventLog: a session's events, appended to its file as they happen and fanned out to views.

Events recorded before the file is opened (seating roles before the run starts) wait and are
written after ``session_started``.
"""

from __future__ import annotations

from collections.abc import Callable

from ..sessions.events import Event
from ..sessions.store import SessionRecorder, SessionStore
from .bus import Subscription


class EventLog:
    """Records one session's events into ``store`` (``None``: memory only)."""

    def __init__(self, store: SessionStore | None, session_id: str) -> None:
        self.store = store
        self.session_id = session_id
        self.recorder: SessionRecorder | None = None
        self._pending: list[Event] = []
        self._listeners: list[Callable[[Event], None]] = []
        self._feeds: set[Subscription[Event]] = set()

    @property
    def opened(self) -> bool:
        return self.recorder is not None

    @property
    def saving(self) -> bool:
        """False once the session file could not be written (the run goes on in memory)."""
        return self.recorder.saving if self.recorder else self.store is not None

    @property
    def save_warning(self) -> str | None:
        if self.store is None:
            return "not saving: sessions disabled"
        return self.recorder.warning if self.recorder else None

    @property
    def events(self) -> list[Event]:
        return list(self.recorder.events) if self.recorder else []

    def add_listener(self, callback: Callable[[Event], None]) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[Event], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def subscribe(self) -> Subscription[Event]:
        sub: Subscription[Event] = Subscription(self._feeds.discard)
        self._feeds.add(sub)
        return sub

    def _dispatch(self, event: Event) -> None:
        for cb in list(self._listeners):
            try:
                cb(event)
            except Exception:  # noqa: BLE001 - a broken view must not stop the conversation
                pass
        for feed in list(self._feeds):
            feed.deliver(event)

    def record(self, event: Event) -> None:
        if self.recorder is None:
            # Before the run starts (add_model calls): kept and written after session_started.
            self._pending.append(event)
            return
        self.recorder.append(event)

    def flush_pending(self) -> None:
        for event in self._pending:
            self.record(event)
        self._pending.clear()

    def open(self, resume: bool = False) -> None:
        """Open the session file (appending to it when ``resume``); a file that cannot be
        opened leaves the run in memory, with a warning."""
        if self.store is not None:
            try:
                self.recorder = self.store.recorder(self.session_id, resume=resume)
            except OSError as exc:
                self.recorder = SessionRecorder(self.session_id, None)
                self.recorder.warning = f"not saving: {exc}"
        else:
            self.recorder = SessionRecorder(self.session_id, None)
            self.recorder.warning = "not saving: sessions disabled"
        self.recorder.listeners.append(self._dispatch)
