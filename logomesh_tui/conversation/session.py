"""MultiModelSession: runs a protocol among role executors on the bus, durably.

The seed's ``MultiModelSession``: ``add_model(role, executor)``, ``remove_model(role)``,
``execute_collaborative_prompt(prompt) -> CollaborativeResponse`` under ``ResourceLimits``.

A turn is: fit the role's prompt to its model (``ContextBuilder``), ask for grammar-constrained
JSON (``structured.turn_schema``), parse it, post it on the bus, update consensus. An unusable
reply is retried once with a smaller prompt and a shorter answer; a second failure, a crashed
worker or a timeout becomes a ``failure`` event and the conversation goes on without that turn.
Every event is appended to the session file as it happens (``sessions.store``).
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..config import EngineConfig
from ..errors import ContextOverflowError, LogoMeshError, UnknownRoleError
from ..pool.types import GenerationRequest, GenerationResult, PoolEvent
from ..sessions import events as ev
from ..sessions.events import Event
from ..sessions.store import SessionRecorder, SessionStore, new_session_id
from .bus import ConversationBus, Subscription
from .consensus import (
    ARBITRATION_POLICIES,
    ArbitrationCallback,
    ArbitrationDecision,
    ConsensusState,
    ConsensusTracker,
    arbitration_policy,
    candidates_with_unbacked,
)
from .context import ContextBuilder, TurnExecutor, model_summarizer
from .messages import LLMMessage, MessageType, Vote
from .protocols import ConversationProtocol, RoundPlan, get_protocol, program_runner
from .replay import Replayed, replay
from .structured import CUT_OFF, combine_confidence, parse_turn, repeats_prompt, turn_schema

#: Characters per token assumed when turning a token budget into a content length.
CHARS_PER_TOKEN = 3.0
#: A retry samples hotter than the first try: the same prompt at the same temperature tends to
#: give the same unusable reply.
RETRY_TEMPERATURE_STEP = 0.3


def _retry_seed(session_id: str, round_index: int, role: str) -> int:
    """A seed for a retry that differs from the first try's but is the same on every rerun."""
    return zlib.crc32(f"{session_id}/{round_index}/{role}".encode()) & 0x7FFFFFFF

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
        self.active_models: dict[str, TurnExecutor] = {}
        self._models: dict[str, str] = {}
        self.recorder: SessionRecorder | None = None
        self._pending: list[Event] = []
        self._listeners: list[Callable[[Event], None]] = []
        self._feeds: set[Subscription[Event]] = set()
        self.token_listeners: list[TokenListener] = []
        self.context: ContextBuilder | None = None
        self._summarizer = model_summarizer if summarize_with_model else None
        self.prompt = ""
        self.scores: list[float] = []
        self.failures: list[dict[str, Any]] = []
        self.rounds_run = 0
        self.total_tokens = 0
        self._done: set[tuple[int, str]] = set()
        self._started_rounds: set[int] = set()
        self._scored_rounds: set[int] = set()
        self._semaphore: asyncio.Semaphore | None = None
        self._running = False
        self.finished = False
        # Set by restore(): what the session file says, used by resume().
        self._restored_task: str | None = None
        self._restored_participants: dict[str, str] | None = None
        self._torn_tail = False
        self._damaged: list[str] = []
        self._pending_executors: dict[str, TurnExecutor] = {}
        if engine is not None and hasattr(engine, "add_listener"):
            engine.add_listener(self._on_pool_event)

    # -- events ----------------------------------------------------------------------------

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
        """Call ``callback(event)`` for every event recorded from now on (sync, in the loop)."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[Event], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def subscribe(self) -> Subscription[Event]:
        """A live async feed of this session's events."""
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

    def _record(self, event: Event) -> None:
        if self.recorder is None:
            # Before the run starts (add_model calls): kept and written after session_started.
            self._pending.append(event)
            return
        self.recorder.append(event)

    def _flush_pending(self) -> None:
        for event in self._pending:
            self._record(event)
        self._pending.clear()

    def _open_recorder(self, resume: bool = False) -> None:
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

    # -- models ----------------------------------------------------------------------------

    async def add_model(self, role: str, executor: TurnExecutor) -> None:
        """Seat ``executor`` as ``role``. Replacing a role's executor counts as a hot-swap."""
        for attr in ("model_id", "n_ctx", "generate", "count_tokens"):
            if not hasattr(executor, attr):
                raise LogoMeshError(f"executor for {role!r} lacks {attr}; pass an engine "
                                    "executor(role) or a Backend")
        old = self._models.get(role)
        self.active_models[role] = executor
        if self.conversation_id is not None:
            self.bus.add_participant(role, self.conversation_id)
        if old is None:
            self._models[role] = executor.model_id
            if self.recorder is not None:
                self._record(ev.RoleLoaded(role=role, model_id=executor.model_id))
        elif old != executor.model_id:
            self._swap(role, old, executor.model_id, None, "add_model")

    async def remove_model(self, role: str) -> None:
        """Take ``role`` out of the conversation; its past messages stay in the history."""
        if role not in self.active_models:
            raise UnknownRoleError(f"no role {role!r} in this session; roles: "
                                   f"{', '.join(self.active_models) or 'none'}")
        ex = self.active_models.pop(role)
        if self.context is not None:
            self.context.forget(role)
        if self.recorder is not None:
            self._record(ev.RoleUnloaded(role=role, model_id=ex.model_id))

    def roles(self) -> list[str]:
        return list(self.active_models)

    def _on_pool_event(self, event: PoolEvent) -> None:
        if event.kind != "swap_finished" or event.role not in self.active_models:
            return
        old = event.old_model_id or self._models.get(event.role, "")
        if self._models.get(event.role) == event.model_id:
            return
        self._swap(event.role, old, event.model_id, event.seconds, "engine")

    def _swap(self, role: str, old: str, new: str, seconds: float | None, source: str) -> None:
        self._models[role] = new
        if self.context is not None:
            self.context.forget(role)
        self._record(ev.Swap(role=role, old_model_id=old, new_model_id=new,
                             seconds=None if seconds is None else round(seconds, 3),
                             source=source, round=self.rounds_run + (1 if self._running else 0)))

    # -- the run ---------------------------------------------------------------------------

    def _task_text(self) -> str:
        parts = [self.prompt.strip()]
        for name, text in self.input_files.items():
            parts.append(f"FILE {name}:\n```\n{text.rstrip()}\n```")
        return "\n\n".join(parts)

    def _limits_payload(self) -> dict[str, Any]:
        return self.limits.model_dump(mode="json")

    async def execute_collaborative_prompt(self, prompt: str) -> CollaborativeResponse:
        """Run the protocol on ``prompt`` with the seated roles; return the outcome."""
        if not self.active_models:
            raise LogoMeshError("no models in the session; add_model(role, executor) first")
        if self._running or self.conversation_id is not None:
            raise LogoMeshError("this session already ran; create a new MultiModelSession")
        if not prompt.strip():
            raise LogoMeshError("the prompt is empty; say what the models should work on")
        self.prompt = prompt
        self.conversation_id = self.bus.initialize_conversation(list(self.active_models),
                                                                self.session_id)
        self._open_recorder()
        self._record(ev.SessionStarted(
            participants=dict(self._models), protocol=self.protocol.name,
            n_ctx={r: ex.n_ctx for r, ex in self.active_models.items()},
            prompt=prompt, task=self._task_text(),
            input_files=list(self.input_files), limits=self._limits_payload(),
            role_weights=self.tracker.role_weights,
            role_instructions=self.role_instructions,
            conversation_id=self.conversation_id, arbitration=self.arbitration_name))
        self._flush_pending()
        return await self._run(start_round=1)

    def _role_models(self) -> dict[str, str]:
        """role -> model id of the roles taking part now (roles on one model share a prompt
        transcript, see ``conversation.context``)."""
        return {r: e.model_id for r, e in self.active_models.items()}

    def _max_rounds(self) -> int:
        return self.limits.max_rounds or self.protocol.default_rounds

    async def _run(self, start_round: int) -> CollaborativeResponse:
        self._running = True
        self.context = self.context or ContextBuilder(
            self._task_text(), self.roles, self.role_instructions, self._summarizer,
            models=self._role_models)
        self._semaphore = asyncio.Semaphore(
            self.limits.concurrency or self.config.concurrency_limit())
        stopped = "round limit"
        state: ConsensusState | None = None
        try:
            for r in range(start_round, self._max_rounds() + 1):
                plan = self.protocol.plan(r, self.roles())
                if plan is None:
                    stopped = "protocol finished"
                    break
                await self._run_round(plan)
                state = self._score_round(r)
                if self.tracker.converged(state, len(self.protocol.electorate(self.roles()))) and r >= self.limits.min_rounds:
                    stopped = "converged"
                    break
                if (self.limits.max_total_tokens
                        and self.total_tokens >= self.limits.max_total_tokens):
                    stopped = "token limit"
                    break
            if state is None:
                state = self.tracker.score(self.protocol.electorate(self.roles()))
            return await self._finish(state, stopped)
        finally:
            self._running = False
            if self.engine is not None and hasattr(self.engine, "remove_listener"):
                # One engine outlives many sessions (the dashboard): do not leak listeners.
                self.engine.remove_listener(self._on_pool_event)

    async def _run_round(self, plan: RoundPlan) -> None:
        r = plan.index
        speakers = [s for s in plan.speakers if s in self.active_models
                    and (r, s) not in self._done]
        if r not in self._started_rounds:
            self._record(ev.Note(event="round_started", round=r, name=plan.name,
                                 speakers=list(plan.speakers)))
            self._started_rounds.add(r)
        if plan.program:
            await program_runner(plan.program)(self, plan, speakers)
            self.rounds_run = max(self.rounds_run, r)
            return
        if plan.concurrent:
            # Everyone answers the same state: the messages that existed when the round began.
            snapshot = {m.id for m in self.bus.get_conversation_history(self.conversation_id)}
            await asyncio.gather(*(self._turn(role, plan, snapshot) for role in speakers))
        else:
            for role in speakers:
                await self._turn(role, plan, None)
        self.rounds_run = max(self.rounds_run, r)

    def _score_round(self, r: int) -> ConsensusState:
        state = self.tracker.score(self.protocol.electorate(self.roles()))
        self.scores.append(state.score)
        leader = state.leader
        self._record(ev.ConsensusScored(
            round=r, score=state.score, tied=state.tied,
            leader=leader.message.short_id if leader else None,
            backers=list(leader.backers) if leader else [],
            voters=len(self.protocol.electorate(self.roles())),
            converged=self.tracker.converged(
                state, len(self.protocol.electorate(self.roles()))),
            tally={c.message.short_id: round(c.weight, 4) for c in state.candidates}))
        self._scored_rounds.add(r)
        return state

    async def _finish(self, state: ConsensusState, stopped: str) -> CollaborativeResponse:
        converged = self.tracker.converged(state, len(self.protocol.electorate(self.roles())))
        decision: ArbitrationDecision | None = None
        final: LLMMessage | None = state.leader.message if state.leader else None
        proposals = list(self.tracker.proposals.values())
        if not converged and proposals:
            reason = ("tie between " + " and ".join(
                c.message.short_id for c in state.candidates[:2]) if state.tied
                else f"no consensus after {self.rounds_run} rounds "
                     f"(score {state.score:.2f} < {self.tracker.threshold:.2f})")
            decision, final = await self._arbitrate(
                candidates_with_unbacked(state, proposals), reason)
            stopped = "arbitrated"
        if final is None:
            history = self.bus.get_conversation_history(self.conversation_id)
            spoken = [m for m in history if m.from_role not in ("human", "system")]
            final = max(spoken, key=lambda m: m.confidence) if spoken else None
            stopped = stopped if spoken else "no usable replies"
        history = self.bus.get_conversation_history(self.conversation_id)
        contributions: dict[str, list[LLMMessage]] = {}
        for m in history:
            contributions.setdefault(m.from_role, []).append(m)
        score = state.score
        self._record(ev.SessionFinished(
            consensus_score=score, converged=converged, rounds_run=self.rounds_run,
            stopped_reason=stopped, final_message_id=final.id if final else None,
            final_short_id=final.short_id if final else None,
            total_tokens=self.total_tokens))
        self.finished = True
        return CollaborativeResponse(
            session_id=self.session_id, conversation_id=self.conversation_id or "",
            final_answer=final.content if final else "",
            final_message_id=final.id if final else None, consensus_score=score,
            converged=converged, rounds_run=self.rounds_run, stopped_reason=stopped,
            arbitration=decision, contributions=contributions,
            votes=list(self.tracker.votes), scores=list(self.scores),
            failures=list(self.failures), messages=history, saving=self.saving,
            save_warning=self.save_warning)

    async def _arbitrate(self, state: ConsensusState,
                         reason: str) -> tuple[ArbitrationDecision, LLMMessage]:
        try:
            decision = await self.arbitration(state, reason)
        except (EOFError, KeyboardInterrupt):
            decision = await arbitration_policy("highest-score")(state, reason + "; no answer")
        chosen = self.bus.get(decision.choice_id, self.conversation_id)
        if chosen is None:
            # A callback that returned a short id or garbage: fall back rather than fail.
            decision = await arbitration_policy("highest-score")(
                state, reason + f"; arbiter chose unknown {decision.choice_id!r}")
            chosen = self.bus.get(decision.choice_id, self.conversation_id)
        assert chosen is not None
        decision.choice_id = chosen.id
        self._record(ev.Arbitration(**decision.model_dump(), choice_short_id=chosen.short_id))
        note = LLMMessage(
            from_role="human", message_type=MessageType.CONSENSUS, confidence=1.0,
            content=f"Arbitration ({decision.decided_by}): adopt {chosen.short_id} by "
                    f"{chosen.from_role}. {decision.reason}",
            references_to=[chosen.id], round=self.rounds_run,
            conversation_id=self.conversation_id or "", meta={"arbitration": True})
        posted = self.bus.post("human", [], note)
        self._record(ev.MessagePosted(message=posted))
        return decision, chosen

    # -- one turn --------------------------------------------------------------------------

    def _fail(self, role: str, model_id: str, round_index: int, reason: str,
              attempts: int, raw_tail: str | None = None) -> None:
        event = ev.TurnFailed(role=role, model_id=model_id, reason=reason, round=round_index,
                              attempts=attempts)
        if raw_tail is not None:
            event.raw_tail = raw_tail  # the end of what the model wrote, for diagnosis
        self.failures.append(event.payload())
        self._done.add((round_index, role))
        self._record(event)

    def _check_swap(self, role: str, ex: TurnExecutor) -> None:
        known = self._models.get(role)
        if known is not None and known != ex.model_id:
            # Not announced by an engine event (a swapped executor object): no timing known.
            self._swap(role, known, ex.model_id, None, "detected")

    def _vote_candidates(self, visible: list[LLMMessage]) -> list[LLMMessage]:
        latest: dict[str, LLMMessage] = {}
        coded: list[LLMMessage] = []
        for m in visible:
            if m.message_type == MessageType.PROPOSAL:
                if m.artifact is not None:
                    coded.append(m)
                else:
                    latest[m.from_role] = m
        if coded:
            # Code is on the table: the vote is among the candidates that did not fail
            # verification (all of them if every one failed), whoever wrote them.
            ok = [m for m in coded if self.tracker.verdicts.get(m.id) is not False]
            return sorted(ok or coded, key=lambda m: int(m.short_id[1:] or 0))
        return sorted(latest.values(), key=lambda m: int(m.short_id[1:] or 0))

    async def _turn(self, role: str, plan: RoundPlan, snapshot: set[str] | None) -> None:
        assert self._semaphore is not None and self.context is not None
        async with self._semaphore:
            ex = self.active_models.get(role)
            if ex is None:
                return
            try:
                self._check_swap(role, ex)
            except LogoMeshError as exc:
                # The engine no longer serves the role (unloaded under us): skip the turn.
                self._fail(role, self._models.get(role, ""), plan.index, str(exc), 0)
                return
            await self._turn_locked(role, ex, plan, snapshot)

    async def _turn_locked(self, role: str, ex: TurnExecutor, plan: RoundPlan,
                           snapshot: set[str] | None) -> None:
        assert self.context is not None
        r = plan.index
        visible = self.bus.visible_history(role, self.conversation_id)
        if snapshot is not None:
            visible = [m for m in visible if m.id in snapshot]
        candidates = self._vote_candidates(visible) if plan.vote else []
        timeout = self.limits.turn_timeout_s or self.config.turn_timeout_s
        reason = ""
        model_id = ex.model_id
        citable = [m.short_id for m in visible]
        built = None
        for attempt in (1, 2):
            # The retry sends the same prompt (its whole prefix is in the KV cache already) and
            # asks for less: fewer references and half the words, sampled afresh.
            max_refs = 3 if attempt == 1 else 1
            try:
                chars, envelope = await self._content_chars(ex, plan, citable, candidates,
                                                            max_refs)
                # After a cut-off, the retry asks for what fits even at one character a token
                # (runs of digits or symbols; at three the first reply ran past max_tokens).
                max_chars = (chars if attempt == 1 else
                             max(16, int(chars / CHARS_PER_TOKEN)) if reason == CUT_OFF
                             else max(16, chars // 2))
                if built is None:
                    built = await self.context.build(
                        role, ex, visible, plan.instruction, max_tokens=self.limits.max_tokens,
                        vote_candidates=candidates, allowed=plan.message_types)
                    if built.summary:
                        self._record(ev.ContextSummary(**built.summary, round=r))
            except ContextOverflowError as exc:
                self._fail(role, model_id, r, str(exc), attempt)
                return
            except LogoMeshError as exc:
                self._fail(role, model_id, r, f"{exc.__class__.__name__}: {exc}", attempt)
                return
            schema = turn_schema(list(plan.message_types), citable,
                                 vote_candidates=[m.short_id for m in candidates] or None,
                                 max_refs=max_refs, max_content_chars=max_chars)
            max_new = self.limits.max_tokens
            if attempt == 2 and reason == CUT_OFF:
                # The grammar writes the JSON around the content, and a model unsure of itself
                # spells it out a character or two a token (measured on smollm2: replies of 80
                # characters with a two-character content cut off at 48 tokens). The retry lets
                # the envelope take a token a character; its content stays within the budget.
                max_new = max(max_new, min(max_new + envelope, ex.n_ctx - built.tokens))
            request = GenerationRequest(
                messages=built.messages, max_tokens=max_new,
                temperature=self.limits.temperature if attempt == 1 else min(
                    1.0, self.limits.temperature + RETRY_TEMPERATURE_STEP),
                seed=None if attempt == 1 else _retry_seed(self.session_id, r, role),
                json_schema=schema)
            started = time.perf_counter()
            try:
                result = await asyncio.wait_for(
                    ex.generate(request, on_token=self._token_hook(role)), timeout)
            except TimeoutError:
                await _quiet_cancel(ex)
                self.context.forget(role)
                self._fail(role, model_id, r, f"timeout after {timeout:g}s", attempt)
                return
            except LogoMeshError as exc:
                # WorkerCrashedError, GenerationCancelled, RemoteServerError ...
                self.context.forget(role)
                self._fail(role, model_id, r, f"{exc.__class__.__name__}: {exc}", attempt)
                return
            latency = time.perf_counter() - started
            model_id = result.model_id or ex.model_id
            self.total_tokens += result.prompt_tokens + result.completion_tokens
            self._record(self._metrics(role, model_id, r, attempt, result, latency,
                                       built.tokens, built.fresh))
            parsed = parse_turn(result.text, result.finish_reason, list(plan.message_types))
            if parsed.ok and repeats_prompt(parsed.content, [
                    self.prompt, self.context.system_text(role), self.context.instruction_text(
                        role, plan.instruction, candidates, plan.message_types)]):
                parsed.error = "the reply repeats the turn's instructions instead of answering"
            if parsed.ok:
                await self._post(role, ex, plan, visible, candidates, parsed, result, request,
                                 latency)
                return
            reason = parsed.error or "unusable reply"
            raw_tail = result.text[-160:]
            if attempt == 1:
                self._record(ev.Note(event="retry", role=role, model_id=model_id, round=r,
                                     reason=reason, raw_tail=raw_tail))
        # The transcript ends with a request nobody answered: the role's next turn starts afresh.
        self.context.forget(role)
        self._fail(role, model_id, r, reason, 2, raw_tail=raw_tail)

    async def _content_chars(self, ex: TurnExecutor, plan: RoundPlan, citable: list[str],
                             candidates: list[LLMMessage], max_refs: int) -> tuple[int, int]:
        """How long ``content`` may be so the whole JSON reply fits in ``max_tokens``, and how
        many characters the JSON around it takes at most.

        The JSON around the content (type, references, confidence, vote) is counted with the
        model's own tokenizer; the rest of the token budget, at about 3 characters a token, is
        the content's ``maxLength`` (never more than ``limits.content_chars()``).
        """
        assert self.context is not None
        skeleton: dict[str, Any] = {
            "message_type": max((t.value for t in plan.message_types), key=len),
            "content": "", "references": citable[-max_refs:], "confidence": 0.85}
        if candidates:
            skeleton["vote"] = candidates[-1].short_id
        # Local workers constrain replies to compact JSON (no spaces), as counted here.
        text = json.dumps(skeleton, separators=(",", ":"))
        # The end-of-turn token, and servers that add spaces the grammar does not forbid.
        overhead = await self.context.count(ex, text) + 8
        room = int((self.limits.max_tokens - overhead) * CHARS_PER_TOKEN)
        return max(16, min(self.limits.content_chars(), room)), len(text)

    def _token_hook(self, role: str):
        if not self.token_listeners:
            return None

        def hook(piece: str) -> None:
            for cb in list(self.token_listeners):
                try:
                    cb(role, piece)
                except Exception:  # noqa: BLE001 - a broken view must not stop the turn
                    pass

        return hook

    @staticmethod
    def _metrics(role: str, model_id: str, r: int, attempt: int, result: GenerationResult,
                 latency: float, prompt_budgeted: int, fresh: bool) -> ev.TurnMetrics:
        return ev.TurnMetrics(
            role=role, model_id=model_id, round=r, attempt=attempt,
            prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens,
            prompt_tokens_evaluated=result.prompt_tokens_evaluated,
            prompt_tokens_counted=prompt_budgeted, fresh_prompt=fresh,
            finish_reason=result.finish_reason, latency_s=round(latency, 4),
            tokens_per_s=round(result.tokens_per_s, 2),
            ttft_s=result.timings.time_to_first_token_s,
            mean_token_prob=result.mean_token_prob)

    async def _post(self, role: str, ex: TurnExecutor, plan: RoundPlan,
                    visible: list[LLMMessage], candidates: list[LLMMessage], parsed,
                    result: GenerationResult, request: GenerationRequest,
                    latency: float) -> None:
        assert self.context is not None and parsed.message_type is not None
        confidence = combine_confidence(parsed.self_rating, result.mean_token_prob)
        meta: dict[str, Any] = {}
        if parsed.notes:
            meta["notes"] = parsed.notes
        message = LLMMessage(
            from_role=role, content=parsed.content, message_type=parsed.message_type,
            references_to=parsed.references, confidence=confidence,
            conversation_id=self.conversation_id or "", round=plan.index,
            model_id=result.model_id or ex.model_id, prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens, latency_s=round(latency, 4),
            self_rating=parsed.self_rating, token_confidence=result.mean_token_prob,
            prompt_messages=request.messages, meta=meta)
        # References must point at what this speaker saw when it spoke.
        seen = {m.short_id for m in visible} | {m.id for m in visible}
        outside = [ref for ref in message.references_to if ref not in seen]
        message.references_to = [ref for ref in message.references_to if ref in seen]
        recipients = plan.recipients(role)
        if recipients:
            recipients = [x for x in recipients if x in self.bus.conversation(
                self.conversation_id).participants]
            posted = await self.bus.send_message(role, recipients, message)
        else:
            posted = await self.bus.broadcast_message(role, message)
        if outside:
            posted.meta.setdefault("invalid_references", []).extend(outside)
        self._done.add((plan.index, role))
        self.context.record_reply(role, ex.model_id, result.text, posted.short_id)
        self.tracker.observe(posted)
        self._record(ev.MessagePosted(message=posted))
        if plan.vote:
            self._cast_vote(posted, parsed.vote, candidates, plan.index)

    def _cast_vote(self, message: LLMMessage, choice: str | None,
                   candidates: list[LLMMessage], r: int) -> None:
        by_short = {m.short_id: m for m in candidates} | {m.id: m for m in candidates}
        target = by_short.get(choice or "")
        if target is None:
            # No valid vote field: fall back to the newest cited candidate, if any.
            cited = [c for c in candidates if c.id in message.references_to]
            target = cited[-1] if cited else None
        if target is None:
            self._record(ev.Note(event="no_vote", role=message.from_role, round=r,
                                 given=choice))
            return
        vote = self.tracker.make_vote(message, target.id, r)
        self.tracker.add_vote(vote)
        self._record(ev.VoteCast(vote=vote, target_short_id=target.short_id,
                                 message_id=message.id))

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
        session._pending_executors = dict(executors or {})
        return session

    def _apply(self, state: Replayed) -> None:
        """Take on a replayed run: its conversation, consensus, done turns and models."""
        start = state.start
        self.prompt = start.prompt
        self._restored_task = start.task or self.prompt
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
        self._started_rounds = set(state.started_rounds)
        self._scored_rounds = set(state.scored_rounds)
        self.rounds_run = state.rounds_run
        self.total_tokens = state.total_tokens
        self._restored_participants = dict(state.models)
        # add_model compares against these, so a different model on resume counts as a swap.
        self._models = dict(state.models)

    @property
    def damaged_lines(self) -> list[str]:
        """What a restored session's file lost in the middle (one line per damaged line)."""
        return list(self._damaged)

    def participants(self) -> dict[str, str]:
        """Role -> model id the restored session had last (what to load to resume)."""
        if self._restored_participants is not None:
            return dict(self._restored_participants)
        return dict(self._models)

    def next_round(self) -> int:
        """The round a resumed session continues from."""
        started = sorted(self._started_rounds)
        if not started:
            return 1
        last = started[-1]
        return last + 1 if last in self._scored_rounds else last

    async def resume(self) -> CollaborativeResponse:
        """Continue a restored session from its next turn, appending to the same file."""
        for role, ex in self._pending_executors.items():
            if role not in self.active_models:
                await self.add_model(role, ex)
        missing = [r for r in self.participants() if r not in self.active_models]
        if missing:
            raise LogoMeshError(f"cannot resume: no executor for {', '.join(missing)}")
        for role in self.active_models:
            self.bus.add_participant(role, self.conversation_id)
        self._open_recorder(resume=True)
        start = self.next_round()
        self._record(ev.Note(event="resumed", round=start, torn_tail=self._torn_tail,
                             damaged_lines=self._damaged,
                             participants={r: e.model_id
                                           for r, e in self.active_models.items()}))
        self._flush_pending()
        self.context = ContextBuilder(self._restored_task or self.prompt, self.roles,
                                      self.role_instructions, self._summarizer,
                                      models=self._role_models)
        return await self._run(start_round=start)


async def _quiet_cancel(ex: TurnExecutor) -> None:
    try:
        await asyncio.wait_for(ex.cancel(), 5)
    except Exception:  # noqa: BLE001 - best effort; the turn already counts as failed
        pass


def read_input_files(names: list[str] | None) -> dict[str, str]:
    """Files named by the user (relative to the current folder), by base name, for a session's
    ``input_files``. A file that cannot be read is a one-line LogoMeshError."""
    inputs: dict[str, str] = {}
    for name in names or []:
        path = Path(name).expanduser()
        try:
            inputs[path.name] = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise LogoMeshError(f"cannot read input file {name!r}: {exc.strerror}") from exc
    return inputs
