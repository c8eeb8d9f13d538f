"""MultiModelSession: runs a protocol among role executors on the bus, durably.

The seed's ``MultiModelSession``: ``add_model(role, executor)``, ``remove_model(role)``,
``execute_collaborative_prompt(prompt) -> CollaborativeResponse`` under ``ResourceLimits``.

The session holds the run's state and is composed of its parts: ``recording.EventLog`` (the
session file and live feeds), ``seating.Seating`` (roles, executors, hot-swaps),
``rounds.RoundLoop`` (rounds, scoring, arbitration) and ``turns.TurnRunner`` (one turn, its
retry and its vote). Every event is appended to the session file as it happens
(``sessions.store``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..config import EngineConfig
from ..errors import LogoMeshError
from ..sessions import events as ev
from ..sessions.events import Event
from ..sessions.store import SessionRecorder, SessionStore, new_session_id
from .bus import ConversationBus, Subscription
from .consensus import (
    ARBITRATION_POLICIES,
    ArbitrationCallback,
    ArbitrationDecision,
    ConsensusTracker,
    arbitration_policy,
)
from .context import ContextBuilder, TurnExecutor, model_summarizer
from .messages import LLMMessage, Vote
from .protocols import ConversationProtocol, get_protocol
from .recording import EventLog
from .replay import Replayed, replay
from .rounds import RoundLoop
from .seating import Seating
from .turns import CHARS_PER_TOKEN, RETRY_TEMPERATURE_STEP, TurnRunner

__all__ = ["CHARS_PER_TOKEN", "RETRY_TEMPERATURE_STEP", "CollaborativeResponse",
           "MultiModelSession", "ResourceLimits", "TokenListener", "read_input_files",
           "read_inputs"]

TokenListener = Callable[[str, str], None]
"""(role, text piece) for live views of a turn being generated."""


class ResourceLimits(BaseModel):
    """Bounds on one collaborative run. ``None`` fields fall back to the engine config."""

    max_rounds: int | None = Field(default=None, ge=1, description="None: the protocol's own")
    min_rounds: int = Field(default=1, ge=1, description="no early stop before this round")
    max_tokens: int = Field(default=256, ge=16, description="completion tokens per turn")
    max_content_chars: int | None = Field(
        default=None, ge=40,
        description="cap on a reply's content; None: about 3 characters per max_tokens")
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    turn_timeout_s: float | None = Field(default=None, gt=0)
    concurrency: int | None = Field(default=None, ge=1,
                                    description="turns at once; None: config.concurrency_limit()")
    consensus_threshold: float = Field(default=0.75, gt=0.0, le=1.0)
    max_total_tokens: int | None = Field(default=None, ge=1,
                                         description="stop after this many tokens in all")

    def content_chars(self) -> int:
        # Roughly 3 characters per token leaves room for the JSON around the content.
        return self.max_content_chars or max(40, int(self.max_tokens * 2.6) - 60)


class CollaborativeResponse(BaseModel):
    """What a collaborative run produced."""

    session_id: str
    conversation_id: str
    final_answer: str
    final_message_id: str | None = None
    consensus_score: float
    converged: bool
    rounds_run: int
    stopped_reason: str
    arbitration: ArbitrationDecision | None = None
    contributions: dict[str, list[LLMMessage]] = Field(default_factory=dict)
    votes: list[Vote] = Field(default_factory=list)
    scores: list[float] = Field(default_factory=list, description="consensus after each round")
    failures: list[dict[str, Any]] = Field(default_factory=list)
    messages: list[LLMMessage] = Field(default_factory=list)
    saving: bool = True
    save_warning: str | None = None


class MultiModelSession:
    """A collaboration among roles, each served by a :class:`TurnExecutor`.

    ``engine`` (optional, a ``HotSwapEngine``) lets the session record swap timings from its
    ``swap_finished`` events. ``store`` is where the session file goes (``None``: the default
    sessions folder; ``False``: memory only). ``arbitration`` is a policy name
    (``highest-score``, ``first``, ``ask``) or an async callback ``(state, reason) ->
    ArbitrationDecision`` (the dashboard passes one that opens a dialog).

    The session holds the run's state; its parts do the work: ``log`` (an :class:`EventLog`)
    records events, ``seating`` (:class:`Seating`) seats roles and records swaps, ``rounds``
    (:class:`RoundLoop`) runs the rounds and ``turns`` (:class:`TurnRunner`) each turn.
    """

    def __init__(self, *, protocol: str | ConversationProtocol = "four-round",
                 limits: ResourceLimits | None = None, config: EngineConfig | None = None,
                 engine: Any = None, store: SessionStore | None | bool = None,
                 session_id: str | None = None, bus: ConversationBus | None = None,
                 arbitration: str | ArbitrationCallback = "highest-score",
                 role_weights: dict[str, float] | None = None,
                 role_instructions: dict[str, str] | None = None,
                 input_files: dict[str, str] | None = None,
                 summarize_with_model: bool = True) -> None:
        self.protocol = get_protocol(protocol)
        self.limits = limits or ResourceLimits()
        self.engine = engine
        self.config = config or getattr(engine, "config", None) or EngineConfig()
        if store is False:
            self.store = None
        else:
            self.store = store if isinstance(store, SessionStore) else SessionStore(
                self.config.sessions_dir)
        self.session_id = session_id or new_session_id()
        self.bus = bus or ConversationBus()
        self.conversation_id: str | None = None
        self.arbitration = (arbitration_policy(arbitration) if isinstance(arbitration, str)
                            else arbitration)
        self.arbitration_name = arbitration if isinstance(arbitration, str) else "callback"
        self.tracker = ConsensusTracker(role_weights, self.limits.consensus_threshold)
        self.role_instructions = dict(role_instructions or {})
        self.input_files = dict(input_files or {})
        self.token_listeners: list[TokenListener] = []
        self.context: ContextBuilder | None = None
        self.summarizer = model_summarizer if summarize_with_model else None
        self.prompt = ""
        self.scores: list[float] = []
        self.failures: list[dict[str, Any]] = []
        self.rounds_run = 0
        self.total_tokens = 0
        self._done: set[tuple[int, str]] = set()
        self.started_rounds: set[int] = set()
        self.scored_rounds: set[int] = set()
        self.running = False
        self.finished = False
        # Set by restore(): what the session file says, used by resume().
        self._restored_task: str | None = None
        self._torn_tail = False
        self._damaged: list[str] = []
        self.log = EventLog(self.store, self.session_id)
        self.seating = Seating(self)
        self.rounds = RoundLoop(self)
        self.turns = TurnRunner(self)
        if engine is not None and hasattr(engine, "add_listener"):
            engine.add_listener(self.seating.on_pool_event)

    # -- events ----------------------------------------------------------------------------

    @property
    def recorder(self) -> SessionRecorder | None:
        return self.log.recorder

    @property
    def saving(self) -> bool:
        """False once the session file could not be written (the run goes on in memory)."""
        return self.log.saving

    @property
    def save_warning(self) -> str | None:
        return self.log.save_warning

    @property
    def events(self) -> list[Event]:
        return self.log.events

    def add_listener(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` for every event recorded from now on (sync, in the loop)."""
        self.log.add_listener(callback)

    def remove_listener(self, callback: Callable[[Event], None]) -> None:
        self.log.remove_listener(callback)

    def subscribe(self) -> Subscription[Event]:
        """A live async feed of this session's events."""
        return self.log.subscribe()

    def _record(self, event: Event) -> None:
        """Record ``event`` (program rounds record theirs through this too)."""
        self.log.record(event)

    # -- models ----------------------------------------------------------------------------

    @property
    def active_models(self) -> dict[str, TurnExecutor]:
        """role -> the executor serving it now."""
        return self.seating.active_models

    async def add_model(self, role: str, executor: TurnExecutor) -> None:
        """Seat ``executor`` as ``role``. Replacing a role's executor counts as a hot-swap."""
        await self.seating.add_model(role, executor)

    async def remove_model(self, role: str) -> None:
        """Take ``role`` out of the conversation; its past messages stay in the history."""
        await self.seating.remove_model(role)

    def roles(self) -> list[str]:
        return self.seating.roles()

    # -- the run ---------------------------------------------------------------------------

    def task_text(self) -> str:
        """The prompt with the input files appended: what every role is told to work on."""
        parts = [self.prompt.strip()]
        for name, text in self.input_files.items():
            parts.append(f"FILE {name}:\n```\n{text.rstrip()}\n```")
        return "\n\n".join(parts)

    async def execute_collaborative_prompt(self, prompt: str) -> CollaborativeResponse:
        """Run the protocol on ``prompt`` with the seated roles; return the outcome."""
        if not self.active_models:
            raise LogoMeshError("no models in the session; add_model(role, executor) first")
        if self.running or self.conversation_id is not None:
            raise LogoMeshError("this session already ran; create a new MultiModelSession")
        if not prompt.strip():
            raise LogoMeshError("the prompt is empty; say what the models should work on")
        self.prompt = prompt
        self.conversation_id = self.bus.initialize_conversation(list(self.active_models),
                                                                self.session_id)
        self.log.open()
        self._record(ev.SessionStarted(
            participants=dict(self.seating.models), protocol=self.protocol.name,
            n_ctx={r: ex.n_ctx for r, ex in self.active_models.items()},
            prompt=prompt, task=self.task_text(),
            input_files=list(self.input_files), limits=self.limits.model_dump(mode="json"),
            role_weights=self.tracker.role_weights,
            role_instructions=self.role_instructions,
            conversation_id=self.conversation_id, arbitration=self.arbitration_name))
        self.log.flush_pending()
        return await self.rounds.run(start_round=1)

    # -- resume ----------------------------------------------------------------------------

    @classmethod
    def restore(cls, store: SessionStore, session_id: str, *,
                executors: dict[str, TurnExecutor] | None = None,
                **kwargs: Any) -> MultiModelSession:
        """Rebuild a session from its file (messages, votes, scores, done turns).

        Returns a session whose roles still need executors (``participants()`` says which
        model each role had last); seat them with ``add_model`` and call :meth:`resume`.
        """
        result = store.read(session_id)
        state = replay(session_id, result.events)
        start = state.start
        if "arbitration" not in kwargs and start.arbitration in ARBITRATION_POLICIES:
            kwargs["arbitration"] = start.arbitration
        limits = kwargs.pop("limits", None) or ResourceLimits.model_validate(start.limits)
        session = cls(protocol=start.protocol or "four-round", limits=limits, store=store,
                      session_id=session_id, role_weights=start.role_weights or None,
                      role_instructions=start.role_instructions or None, **kwargs)
        session._apply(state)
        session._torn_tail = result.torn_tail
        session._damaged = result.warnings() if result.damaged else []
        session.seating.pending = dict(executors or {})
        return session

    def _apply(self, state: Replayed) -> None:
        """Take on a replayed run: its conversation, consensus, done turns and models."""
        start = state.start
        self.prompt = start.prompt
        self._restored_task = start.task or self.prompt
        if not self.input_files and start.input_files and start.task:
            # The files' text as the models saw it, so an evidence round after a resume has
            # its task (the files on disk may have changed since).
            self.input_files = files_from_task(start.task, list(start.input_files))
        self.conversation_id = cid = self.bus.initialize_conversation(
            list(start.participants) or ["?"], start.conversation_id or self.session_id)
        for step in state.steps:
            if isinstance(step, Vote):
                self.tracker.add_vote(step)
                continue
            for role in [step.from_role, *step.recipients]:
                if role not in ("human", "system"):
                    self.bus.add_participant(role, cid)
            self.tracker.observe(self.bus.post(step.from_role, step.recipients, step))
        self.failures = list(state.failures)
        self.scores = list(state.scores)
        self._done = set(state.done)
        self.started_rounds = set(state.started_rounds)
        self.scored_rounds = set(state.scored_rounds)
        self.rounds_run = state.rounds_run
        self.total_tokens = state.total_tokens
        self.seating.restored = dict(state.models)
        # add_model compares against these, so a different model on resume counts as a swap.
        self.seating.models = dict(state.models)

    @property
    def damaged_lines(self) -> list[str]:
        """What a restored session's file lost in the middle (one line per damaged line)."""
        return list(self._damaged)

    def participants(self) -> dict[str, str]:
        """Role -> model id the restored session had last (what to load to resume)."""
        return self.seating.participants()

    def next_round(self) -> int:
        """The round a resumed session continues from."""
        started = sorted(self.started_rounds)
        if not started:
            return 1
        last = started[-1]
        return last + 1 if last in self.scored_rounds else last

    async def resume(self) -> CollaborativeResponse:
        """Continue a restored session from its next turn, appending to the same file."""
        await self.seating.seat_pending()
        missing = [r for r in self.participants() if r not in self.active_models]
        if missing:
            raise LogoMeshError(f"cannot resume: no executor for {', '.join(missing)}")
        for role in self.active_models:
            self.bus.add_participant(role, self.conversation_id)
        self.log.open(resume=True)
        start = self.next_round()
        self._record(ev.Note(event="resumed", round=start, torn_tail=self._torn_tail,
                             damaged_lines=self._damaged,
                             participants={r: e.model_id
                                           for r, e in self.active_models.items()}))
        self.log.flush_pending()
        self.context = ContextBuilder(self._restored_task or self.prompt, self.roles,
                                      self.role_instructions, self.summarizer,
                                      models=self.seating.role_models)
        return await self.rounds.run(start_round=start)


def files_from_task(task: str, names: list[str]) -> dict[str, str]:
    """The input files inside a task text made by :meth:`MultiModelSession.task_text`
    (``FILE name:`` and a fenced block per file, in order); a name not found is left out."""
    heads: list[tuple[str, int, int]] = []
    for name in names:
        at = task.find(f"\n\nFILE {name}:\n```\n", heads[-1][2] if heads else 0)
        if at >= 0:
            heads.append((name, at, at + len(f"\n\nFILE {name}:\n```\n")))
    out = {}
    for i, (name, _, body) in enumerate(heads):
        end = heads[i + 1][1] if i + 1 < len(heads) else len(task)
        out[name] = task[body:end].rstrip().removesuffix("```").rstrip("\n") + "\n"
    return out


_MENTION_RE = re.compile(r"(?<![\w@])@([\w.~/-][^\s,;:!?()\[\]{}\"'`]*)")


def mentioned_paths(prompt: str, cwd: Path | None = None) -> list[str]:
    """Files and folders a prompt names with ``@`` (``review @src/features/auth``) that exist,
    in order; a mention of something that is not there (``@/components``, a path alias) is
    left as text."""
    base = cwd or Path.cwd()
    out: list[str] = []
    for m in _MENTION_RE.finditer(prompt):
        name = m.group(1).rstrip(".")
        if name and name not in out and (base / Path(name).expanduser()).exists():
            out.append(name)
    return out


def read_input_files(names: list[str] | None) -> dict[str, str]:
    """Files named by the user (relative to the current folder), by the name given, for a
    session's ``input_files``; a folder stands for its scope (see :func:`read_inputs`)."""
    return read_inputs(names)[0]


def read_inputs(names: list[str] | None) -> tuple[dict[str, str], str]:
    """(texts by name, scope outlines) for the files and folders named by the user. A folder
    gives its TypeScript sources and the tests that cover them, as far as the context budget
    allows, and an outline (files, their imports, tests) for the prompt. A file that cannot be
    read is a one-line LogoMeshError."""
    from ..verify.scope import read_scope

    inputs: dict[str, str] = {}
    outlines: list[str] = []
    for name in names or []:
        path = Path(name).expanduser()
        if path.is_dir():
            scope = read_scope(path)
            inputs.update(scope.texts())
            outlines.append(scope.outline())
            continue
        try:
            inputs[name] = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise LogoMeshError(f"cannot read input file {name!r}: {exc.strerror}") from exc
    return inputs, "\n\n".join(outlines)
