"""Textual messages: what the dashboard's panes react to.

Workers and engine listeners never touch widgets; they post one of these to the app, and the
app's handlers update the panes. Every message carries plain data (engine pydantic models or
primitives), so tests can assert on what was posted with ``run_test(message_hook=...)``.
"""

from __future__ import annotations

from textual.message import Message

from ..conversation.messages import LLMMessage
from ..pool.types import PoolEvent
from ..sessions.events import Event


class PoolChanged(Message):
    """The engine reported a pool event (loading, loaded, swap_started, busy, failed ...)."""

    def __init__(self, event: PoolEvent) -> None:
        super().__init__()
        self.event = event


class TurnStarted(Message):
    """A role began a turn; its tokens follow as TokenStreamed with the same ``turn_id``."""

    def __init__(self, turn_id: str, role: str, model_id: str) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.role = role
        self.model_id = model_id


class TokenStreamed(Message):
    def __init__(self, turn_id: str, role: str, text: str) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.role = role
        self.text = text


class TurnFinished(Message):
    """A turn ended: generation metrics for the metrics pane."""

    def __init__(self, turn_id: str, role: str, model_id: str, *, tokens_per_s: float,
                 latency_s: float, completion_tokens: int, finish_reason: str) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.role = role
        self.model_id = model_id
        self.tokens_per_s = tokens_per_s
        self.latency_s = latency_s
        self.completion_tokens = completion_tokens
        self.finish_reason = finish_reason


class ConversationMessage(Message):
    """A structured message was added to the conversation."""

    def __init__(self, message: LLMMessage) -> None:
        super().__init__()
        self.message = message


class ConversationEvent(Message):
    """A recorded session event (swap, vote, consensus, arbitration, failure, note ...).

    Live runs and replays of a session file take this one path; ``replayed`` marks events read
    back from a file rather than happening now.
    """

    def __init__(self, event: Event, replayed: bool = False) -> None:
        super().__init__()
        self.event = event
        self.replayed = replayed


class TimelineReset(Message):
    """A new conversation starts or a session is opened: clear the timeline and its metrics."""

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id


class TurnAborted(Message):
    """A turn ended without a reply (error or stop); its streaming entry is closed."""

    def __init__(self, turn_id: str, role: str) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.role = role


class ConversationState(Message):
    """The conversation moved to ``state``: idle | running | paused | stopped | finished."""

    def __init__(self, state: str, detail: str = "") -> None:
        super().__init__()
        self.state = state
        self.detail = detail


class CommandFinished(Message):
    """The command pane's command finished; ``ok`` False means ``text`` is an error and
    ``detail`` (when given) shows the command with a caret under the wrong part.
    ``to_timeline`` keeps a one-line result in the timeline too (a refactor's outcome)."""

    def __init__(self, command: str, ok: bool, text: str, detail: str | None = None,
                 to_timeline: bool = False) -> None:
        super().__init__()
        self.command = command
        self.ok = ok
        self.text = text
        self.detail = detail
        self.to_timeline = to_timeline


class CommandProgress(Message):
    """A progress line from a long command (code.refactor) while it runs; ``to_timeline`` asks
    for it to be kept in the timeline too."""

    def __init__(self, command: str, text: str, to_timeline: bool = False) -> None:
        super().__init__()
        self.command = command
        self.text = text
        self.to_timeline = to_timeline


class PullProgress(Message):
    """Download progress of one model; ``done`` and ``total`` are bytes (total may be 0)."""

    def __init__(self, name: str, done: int, total: int, finished: bool = False,
                 error: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.done = done
        self.total = total
        self.finished = finished
        self.error = error
