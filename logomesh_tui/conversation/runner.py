"""ConversationRunner: one conversation at a time, as a state machine front ends attach views to.

States::

    idle ──start──> running ⇄ paused          (pause holds new turns; turns in flight finish)
                      │
                      └──> arbitrating ──> finished | failed
    running | paused | arbitrating ──stop──> stopped
    any but running/paused/arbitrating ──open_session──> opened

The runner owns the session, the pause gate and the background task; it seats each role as a
:class:`ReportingExecutor` (the engine's executor behind the gate, reporting turns and tokens).
A hot-swap needs nothing from it: the engine's executor follows the swap between turns and the
session records it. Front ends attach a :class:`RunnerView` (the dashboard posts Textual
messages, the shell and ``run`` print a timeline) and read ``state`` from here; nobody keeps a
second copy.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..config import EngineConfig
from ..errors import LogoMeshError
from ..pool.types import GenerationRequest, GenerationResult, TokenCallback, emit_token
from ..sessions.events import Event
from ..sessions.store import ReadResult, SessionStore
from .consensus import ArbitrationCallback, ArbitrationDecision, ConsensusState, arbitration_policy
from .gate import GatedExecutor
from .session import (
    CollaborativeResponse,
    MultiModelSession,
    ResourceLimits,
    mentioned_paths,
    read_inputs,
)


class RunState(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    ARBITRATING = "arbitrating"
    FINISHED = "finished"
    FAILED = "failed"
    STOPPED = "stopped"
    OPENED = "opened"


ACTIVE = frozenset({RunState.RUNNING, RunState.PAUSED, RunState.ARBITRATING})
"""States in which a conversation is under way (start and open_session are refused)."""


@dataclass(frozen=True)
class StateChange:
    state: RunState
    previous: RunState
    detail: str = ""
    session_id: str | None = None


@dataclass(frozen=True)
class TurnReport:
    """A turn of one role: ``started`` (no result yet), ``finished`` or ``aborted``."""

    turn_id: str
    role: str
    model_id: str
    phase: str
    tokens_per_s: float = 0.0
    latency_s: float = 0.0
    completion_tokens: int = 0
    finish_reason: str = ""


class RunnerView:
    """What a front end shows. Every method is optional; all are called in the runner's loop
    and must not block (the dashboard posts messages, the shell prints)."""

    def state_changed(self, change: StateChange) -> None:
        """The conversation moved to a new state."""

    def reset(self, session_id: str) -> None:
        """A new conversation starts or a recorded one is opened: forget what was shown."""

    def event(self, event: Event, replayed: bool) -> None:
        """A session event was recorded (``replayed``: read back from a file)."""

    def turn(self, report: TurnReport) -> None:
        """A role's turn started, finished or was aborted."""

    def token(self, turn_id: str, role: str, text: str) -> None:
        """A piece of a turn's reply arrived."""


_turn_ids = itertools.count(1)


def tell_views(views: list[RunnerView], call: Callable[[RunnerView], None]) -> None:
    """``call`` each view (a copy of the list, so a view may detach itself); a view that
    raises is passed over: a broken view must not stop the turn or the conversation."""
    for view in list(views):
        try:
            call(view)
        except Exception:  # noqa: BLE001
            pass


class ReportingExecutor(GatedExecutor):
    """A role's executor as the session sees it: waits at the pause gate before each turn and
    reports the turn and its tokens to the runner's views."""

    def __init__(self, inner: Any, gate: asyncio.Event, role: str, views: list[RunnerView]):
        super().__init__(inner, gate)
        self.role = role
        self._views = views

    def _each(self, call: Callable[[RunnerView], None]) -> None:
        tell_views(self._views, call)

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        await self._gate.wait()
        turn_id = f"turn-{next(_turn_ids)}"
        model_id = self.model_id
        self._each(lambda v: v.turn(TurnReport(turn_id, self.role, model_id, "started")))

        async def token(text: str) -> None:
            self._each(lambda v: v.token(turn_id, self.role, text))
            await emit_token(on_token, text)

        t0 = time.perf_counter()
        try:
            result = await self.inner.generate(request, on_token=token)
        except BaseException:
            self._each(lambda v: v.turn(TurnReport(turn_id, self.role, model_id, "aborted")))
            raise
        report = TurnReport(
            turn_id, self.role, result.model_id or model_id, "finished",
            tokens_per_s=result.tokens_per_s,
            latency_s=result.timings.total_s or (time.perf_counter() - t0),
            completion_tokens=result.completion_tokens, finish_reason=result.finish_reason)
        self._each(lambda v: v.turn(report))
        return result


Spawn = Callable[[Coroutine[Any, Any, Any]], Any]
"""Runs a coroutine in the background and returns a handle with ``cancel()``."""

AskCallback = Callable[[ConsensusState, str], Awaitable[ArbitrationDecision]]


class ConversationRunner:
    """Runs one conversation at a time for a front end (see the module docstring).

    ``ask`` is how this front end asks a person to arbitrate (the dashboard's dialog, a terminal
    prompt); without one, the policy ``ask`` is refused. ``spawn`` starts the background task
    (the dashboard passes a Textual worker so the app cancels it on exit). ``wait`` makes
    :meth:`start` return only when the conversation has ended (``shell -c``).
    """

    def __init__(self, engine: Any, config: EngineConfig | None = None, *,
                 ask: AskCallback | None = None, spawn: Spawn | None = None,
                 wait: bool = False) -> None:
        self.engine = engine
        self.config = config or getattr(engine, "config", None) or EngineConfig()
        self.ask = ask
        self.wait = wait
        self._spawn = spawn or asyncio.ensure_future
        self.views: list[RunnerView] = []
        self.state = RunState.IDLE
        self.detail = ""
        self.session: MultiModelSession | None = None
        self.session_id: str | None = None
        self.response: CollaborativeResponse | None = None
        self.error: BaseException | None = None
        self.task: Any = None
        self._done: asyncio.Event | None = None
        self._gate = asyncio.Event()
        self._gate.set()

    # -- views -----------------------------------------------------------------------------

    def attach(self, view: RunnerView) -> RunnerView:
        self.views.append(view)
        return view

    def detach(self, view: RunnerView) -> None:
        if view in self.views:
            self.views.remove(view)

    def _each(self, call: Callable[[RunnerView], None]) -> None:
        tell_views(self.views, call)

    def _set(self, state: RunState, detail: str = "") -> None:
        change = StateChange(state, self.state, detail, self.session_id)
        self.state, self.detail = state, detail
        self._each(lambda v: v.state_changed(change))

    def _on_event(self, event: Event) -> None:
        self._each(lambda v: v.event(event, False))

    def _replay(self, event: Event) -> None:
        self._each(lambda v: v.event(event, True))

    @property
    def running(self) -> bool:
        """A conversation is under way (running, paused or waiting for arbitration)."""
        return self.state in ACTIVE

    # -- building a session ----------------------------------------------------------------

    def _policy(self, name: str) -> str | ArbitrationCallback:
        if name == "ask":
            if self.ask is None:
                raise LogoMeshError("arbitration \"ask\" needs the dashboard or `logomesh-tui "
                                    "run --arbitration ask`; here use highest-score or first")
            return self.ask
        arbitration_policy(name)  # a one-line error for an unknown name
        return name

    def _arbitration(self, policy: str | ArbitrationCallback) -> ArbitrationCallback:
        inner = arbitration_policy(policy) if isinstance(policy, str) else policy

        async def arbitrate(state: ConsensusState, reason: str) -> ArbitrationDecision:
            self._set(RunState.ARBITRATING, reason)
            try:
                return await inner(state, reason)
            finally:
                if self.state == RunState.ARBITRATING:
                    self._set(RunState.RUNNING)

        return arbitrate

    def _loaded_roles(self, roles: list[str] | None) -> list[str]:
        loaded = [m.role for m in self.engine.get_active_models()]
        chosen = roles or loaded
        if not chosen:
            raise LogoMeshError('no models loaded; llm.registry.load("smollm2-135m", '
                                '"primary-analyzer") first')
        missing = [r for r in chosen if r not in loaded]
        if missing:
            raise LogoMeshError(f"roles without a model: {', '.join(missing)}; load them first")
        return chosen

    def _executor(self, role: str) -> ReportingExecutor:
        return ReportingExecutor(self.engine.executor(role), self._gate, role, self.views)

    async def prepare(self, roles: list[str] | None = None, *, protocol: str = "four-round",
                      limits: ResourceLimits | None = None, arbitration: str | None = None,
                      role_weights: dict[str, float] | None = None,
                      role_instructions: dict[str, str] | None = None,
                      input_files: dict[str, str] | None = None) -> MultiModelSession:
        """A new session among ``roles`` (default: every loaded role), seated and wired."""
        if self.running:
            raise LogoMeshError("a conversation is already running; stop it first "
                                "(conversation.stop() or F7)")
        chosen = self._loaded_roles(roles)
        # Without a policy named, a front end that can ask a person does.
        name = arbitration or ("ask" if self.ask is not None else "highest-score")
        session = MultiModelSession(
            protocol=protocol, limits=limits or ResourceLimits(), config=self.config,
            engine=self.engine, store=SessionStore(self.config.sessions_dir),
            arbitration=self._arbitration(self._policy(name)),
            role_weights=role_weights, role_instructions=role_instructions,
            input_files=input_files)
        session.arbitration_name = name
        for role in chosen:
            await session.add_model(role, self._executor(role))
        return session

    async def restore(self, session_id: str, *, arbitration: str | None = None,
                      limits: ResourceLimits | None = None) -> MultiModelSession:
        """A recorded, unfinished session, ready to :meth:`run` on from its next turn once its
        roles are loaded (``session.participants()`` says with which models)."""
        if self.running:
            raise LogoMeshError("a conversation is already running; stop it first")
        store = SessionStore(self.config.sessions_dir)
        kwargs: dict[str, Any] = {}
        if arbitration is not None:
            kwargs["arbitration"] = self._arbitration(self._policy(arbitration))
        session = MultiModelSession.restore(store, store.resolve_id(session_id),
                                            engine=self.engine, config=self.config,
                                            limits=limits, **kwargs)
        if arbitration is not None:
            session.arbitration_name = arbitration
        elif session.arbitration_name == "ask" and self.ask is not None:
            session.arbitration = self._arbitration(self.ask)
        else:
            session.arbitration = self._arbitration(session.arbitration)
        return session

    async def seat_restored(self, session: MultiModelSession) -> None:
        """Seat every role of a restored session on the engine's (loaded) executors."""
        for role in session.participants():
            await session.add_model(role, self._executor(role))

    # -- running ---------------------------------------------------------------------------

    async def run(self, session: MultiModelSession,
                  prompt: str | None = None) -> CollaborativeResponse:
        """Run ``session`` to its end here (``prompt`` None: resume a restored session)."""
        self._begin(session)
        response = await self._drive(session, prompt, reraise=True)
        assert response is not None  # reraise: a failure raised instead
        return response

    def launch(self, session: MultiModelSession, prompt: str | None = None) -> None:
        """Run ``session`` in the background; :attr:`task` is its handle."""
        self._begin(session)
        self.task = self._spawn(self._drive(session, prompt, reraise=False))

    def _begin(self, session: MultiModelSession) -> None:
        if self.running:
            raise LogoMeshError("a conversation is already running; stop it first "
                                "(conversation.stop() or F7)")
        self.session = session
        self.session_id = session.session_id
        self.response = None
        self.error = None
        self._done = asyncio.Event()
        self._gate.set()
        session.add_listener(self._on_event)
        self._each(lambda v: v.reset(session.session_id))
        self._set(RunState.RUNNING)

    async def _drive(self, session: MultiModelSession, prompt: str | None, *,
                     reraise: bool) -> CollaborativeResponse | None:
        assert self._done is not None
        done = self._done
        try:
            if prompt is None:
                response = await session.resume()
            else:
                response = await session.execute_collaborative_prompt(prompt)
        except asyncio.CancelledError:
            if self.session is session and self.running:
                self._set(RunState.STOPPED, "stopped by the user")
            raise
        except Exception as exc:
            self.error = exc
            self._set(RunState.FAILED, str(exc))
            if reraise or not isinstance(exc, LogoMeshError):
                raise
            return None
        finally:
            # Later pool events (a swap after the end) belong to no conversation.
            session.remove_listener(self._on_event)
            done.set()
        self.response = response
        self._set(RunState.FINISHED, f"consensus {response.consensus_score:.2f}")
        return response

    async def start(self, prompt: str, protocol: str = "four-round", *,
                    max_rounds: int | None = None, roles: list[str] | None = None,
                    files: list[str] | None = None, arbitration: str | None = None) -> str:
        """Start a collaboration among the loaded roles (or ``roles``) in the background.
        ``files``, and the files and folders the prompt names with ``@``, are what the models
        work on."""
        names = list(files or [])
        names += [m for m in mentioned_paths(prompt) if m not in names]
        inputs, outline = read_inputs(names)
        session = await self.prepare(roles, protocol=protocol,
                                     limits=ResourceLimits(max_rounds=max_rounds),
                                     arbitration=arbitration, input_files=inputs)
        self.launch(session, f"{prompt.rstrip()}\n\n{outline}" if outline else prompt)
        if self.wait:
            await self.wait_done()
            if self.error is not None:
                raise self.error
            return f"conversation finished; session {self.session_id}"
        return (f"conversation started ({protocol}, {len(session.roles())} roles), "
                f"session {self.session_id}")

    async def wait_done(self) -> None:
        """Return when the current conversation has ended (at once when none runs)."""
        if self._done is not None:
            await self._done.wait()

    def pause(self) -> str:
        if self.state == RunState.PAUSED:
            raise LogoMeshError("the conversation is already paused")
        if self.state != RunState.RUNNING:
            raise LogoMeshError("no conversation is running")
        self._gate.clear()
        self._set(RunState.PAUSED)
        return "paused: turns in flight finish, no new turn starts (resume to go on)"

    def resume(self) -> str:
        if self.state != RunState.PAUSED:
            raise LogoMeshError("the conversation is not paused")
        self._gate.set()
        self._set(RunState.RUNNING)
        return "resumed"

    async def stop(self) -> str:
        """Stop the conversation: the task is cancelled and every role's turn aborted."""
        if not self.running:
            raise LogoMeshError("no conversation is running")
        task = self.task
        self._gate.set()
        self._set(RunState.STOPPED, "stopped by the user")
        if task is not None:
            task.cancel()
        for role in self.session.roles() if self.session is not None else []:
            try:
                await self.engine.executor(role).cancel()
            except Exception:  # noqa: BLE001 - the role may have been unloaded meanwhile
                pass
        if isinstance(task, asyncio.Future):
            # Let it unwind, so nothing of it is recorded after stop() returns.
            await asyncio.wait([task])
        return f"conversation stopped; session {self.session_id} kept"

    # -- recorded sessions -----------------------------------------------------------------

    def open_session(self, session_id: str) -> ReadResult:
        """Make a recorded session the current one and replay its events to the views."""
        if self.running:
            raise LogoMeshError("stop the running conversation before opening another session")
        store = SessionStore(self.config.sessions_dir)
        sid = store.resolve_id(session_id)
        result = store.read(sid)
        self.session_id = sid
        self.session = None
        self._each(lambda v: v.reset(sid))
        for event in result.events:
            self._replay(event)
        self._set(RunState.OPENED)
        return result
