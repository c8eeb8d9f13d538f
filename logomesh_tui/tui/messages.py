"""Textual messages: what the dashboard's panes react to.

Workers and engine listeners never touch widgets; they post one of these to the app, and the
app's handlers update the panes. Every message carries plain data (engine pydantic models or
primitives), so tests can assert on what was posted with ``run_test(message_hook=...)``. Each is
a dataclass (Textual's Message initialises itself in ``__post_init__``).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from textual.message import Message

from ..conversation.messages import LLMMessage
from ..pool.types import PoolEvent
from ..sessions.events import Event


@dataclass
class PoolChanged(Message):
    """The engine reported a pool event (loading, loaded, swap_started, busy, failed ...)."""

    event: PoolEvent


@dataclass
class TurnStarted(Message):
    """A role began a turn; its tokens follow as TokenStreamed with the same ``turn_id``."""

    turn_id: str
    role: str
    model_id: str


@dataclass
class TokenStreamed(Message):
    turn_id: str
    role: str
    text: str


@dataclass
class TurnFinished(Message):
    """A turn ended: generation metrics for the metrics pane."""

    turn_id: str
    role: str
    model_id: str
    _: KW_ONLY
    tokens_per_s: float
    latency_s: float
    completion_tokens: int
    finish_reason: str


@dataclass
class ConversationMessage(Message):
    """A structured message was added to the conversation."""

    message: LLMMessage


@dataclass
class ConversationEvent(Message):
    """A recorded session event (swap, vote, consensus, arbitration, failure, note ...).

    Live runs and replays of a session file take this one path; ``replayed`` marks events read
    back from a file rather than happening now.
    """

    event: Event
    replayed: bool = False


@dataclass
class TimelineReset(Message):
    """A new conversation starts or a session is opened: clear the timeline and its metrics."""

    session_id: str


@dataclass
class TurnAborted(Message):
    """A turn ended without a reply (error or stop); its streaming entry is closed."""

    turn_id: str
    role: str


@dataclass
class ConversationState(Message):
    """The conversation moved to ``state``: idle | running | paused | stopped | finished."""

    state: str
    detail: str = ""


@dataclass
class CommandFinished(Message):
    """The command pane's command finished; ``ok`` False means ``text`` is an error and
    ``detail`` (when given) shows the command with a caret under the wrong part.
    ``to_timeline`` keeps a one-line result in the timeline too (a refactor's outcome)."""

    command: str
    ok: bool
    text: str
    detail: str | None = None
    to_timeline: bool = False


@dataclass
class CommandProgress(Message):
    """A progress line from a long command (code.refactor) while it runs; ``to_timeline`` asks
    for it to be kept in the timeline too."""

    command: str
    text: str
    to_timeline: bool = False


@dataclass
class PullProgress(Message):
    """Download progress of one model; ``done`` and ``total`` are bytes (total may be 0)."""

    name: str
    done: int
    total: int
    finished: bool = False
    error: str | None = None
