"""The dashboard's conversation controller: runs a MultiModelSession for the panes.

It implements the command language's ``ConversationController`` (start, pause, resume, stop,
export, open_session), so the DevShell, the keys and the palette drive the same object. It
feeds the panes by posting messages to the app:

- each role's executor is wrapped so its tokens stream into the timeline as they arrive, and
  so "pause" holds new turns at a gate (turns in flight finish);
- the session recorder's listener forwards every recorded event (message, swap, vote,
  consensus, arbitration, failure), so live runs and replays of a session file take one path;
- arbitration opens a dialog with the competing proposals and their votes.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import TYPE_CHECKING, Any

from ..conversation.gate import GatedExecutor
from ..errors import LogoMeshError
from ..pool.types import GenerationRequest, GenerationResult, TokenCallback
from ..sessions.events import Event
from .messages import (
    ConversationEvent,
    ConversationState,
    TimelineReset,
    TokenStreamed,
    TurnAborted,
    TurnFinished,
    TurnStarted,
)
from .screens.arbitration import ArbitrationScreen, Proposal

if TYPE_CHECKING:
    from ..config import EngineConfig
    from .app import LogoMeshApp

_turn_ids = itertools.count(1)

# The command language's arbitration names -> the orchestrator's headless policies; "ask"
# (None here) means the dashboard's dialog.
HEADLESS_POLICIES: dict[str, str | None] = {
    "ask": None,
    "highest-confidence": "highest-score",
    "highest-score": "highest-score",
    "first-proposal": "first",
    "first": "first",
}


class StreamingExecutor(GatedExecutor):
    """A role's executor as the orchestrator sees it, reporting its turns to the dashboard.

    Waits at ``gate`` before each turn (the pause), like every GatedExecutor, and posts
    TurnStarted / TokenStreamed / TurnFinished.
    """

    def __init__(self, app: LogoMeshApp, inner: Any, role: str, gate: asyncio.Event) -> None:
        super().__init__(inner, gate)
        self._app = app
        self.role = role

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        await self._gate.wait()
        turn_id = f"turn-{next(_turn_ids)}"
        model_id = self.model_id
        self._app.post_message(TurnStarted(turn_id, self.role, model_id))

        async def token(text: str) -> None:
            self._app.post_message(TokenStreamed(turn_id, self.role, text))
            if on_token is not None:
                out = on_token(text)
                if asyncio.iscoroutine(out):
                    await out

        t0 = time.perf_counter()
        try:
            result = await self._inner.generate(request, on_token=token)
        except BaseException:
            self._app.post_message(TurnAborted(turn_id, self.role))
            raise
        self._app.post_message(TurnFinished(
            turn_id, self.role, result.model_id or model_id, tokens_per_s=result.tokens_per_s,
            latency_s=result.timings.total_s or (time.perf_counter() - t0),
            completion_tokens=result.completion_tokens, finish_reason=result.finish_reason))
        return result

def proposals_from_state(state: Any) -> list[Proposal]:
    """Arbitration candidates (a consensus ConsensusState) as dialog rows."""
    out = []
    for cand in getattr(state, "candidates", []):
        msg = cand.message
        out.append(Proposal(id=msg.id, role=msg.from_role, content=msg.content,
                            short_id=msg.short_id, model_id=msg.model_id,
                            votes_for=round(cand.weight, 3), voters=list(cand.backers)))
    return out


class DashboardConversation:
    """Runs one conversation at a time for the dashboard (see the module docstring)."""

    def __init__(self, app: LogoMeshApp, engine: Any, config: EngineConfig) -> None:
        self.app = app
        self.engine = engine
        self.config = config
        self.session_id: str | None = None
        self.session: Any = None
        self.state = "idle"
        self._gate = asyncio.Event()
        self._gate.set()
        self._worker: Any = None

    # -- state -----------------------------------------------------------------------------

    def _set(self, state: str, detail: str = "") -> None:
        self.state = state
        self.app.post_message(ConversationState(state, detail))

    def _on_event(self, event: Event) -> None:
        """The session recorder's listener: forward every recorded event to the panes."""
        self.app.post_message(ConversationEvent(event))

    # -- arbitration -----------------------------------------------------------------------

    async def arbitrate(self, state: Any, reason: str) -> Any:
        """The orchestrator's arbitration callback: ask the person in a dialog."""
        from ..conversation.consensus import ArbitrationDecision, highest_score_policy

        proposals = proposals_from_state(state)
        loop = asyncio.get_running_loop()
        choice: asyncio.Future[str | None] = loop.create_future()

        def done(picked: str | None) -> None:
            if not choice.done():
                choice.set_result(picked)

        self.app.push_screen(ArbitrationScreen(proposals, reason=reason), done)
        picked = await choice
        if picked is None:
            decision = await highest_score_policy()(state, reason + "; left to policy by the user")
            return decision
        short = next((p.short_id for p in proposals if p.id == picked), picked)
        return ArbitrationDecision(choice_id=picked, decided_by="human", policy="dialog",
                                   reason=f"{reason}; {short} chosen in the dashboard")

    # -- ConversationController --------------------------------------------------------------

    async def start(self, prompt: str, protocol: str = "four-round", *,
                    max_rounds: int | None = None, roles: list[str] | None = None,
                    files: list[str] | None = None, arbitration: str | None = None) -> str:
        """Start a collaboration among the loaded roles (or ``roles``) in the background."""
        if self.state in ("running", "paused"):
            raise LogoMeshError("a conversation is already running; stop it first "
                                "(conversation.stop() or F7)")
        loaded = [m.role for m in self.engine.get_active_models()]
        chosen = roles or loaded
        missing = [r for r in chosen if r not in loaded]
        if missing:
            raise LogoMeshError(f"roles without a model: {', '.join(missing)}; load them first")
        if not chosen:
            raise LogoMeshError('no models loaded; llm.registry.load("smollm2-135m", '
                                '"primary-analyzer") first')
        session = await self._build_session(protocol, chosen, max_rounds=max_rounds,
                                            files=files or [], arbitration=arbitration)
        self.session = session
        self.session_id = session.session_id
        self._gate.set()
        self.app.post_message(TimelineReset(self.session_id))
        self._set("running")
        self._worker = self.app.run_worker(self._run(session, prompt), group="conversation",
                                           exclusive=True, exit_on_error=False,
                                           name="conversation")
        return f"conversation started ({protocol}, {len(chosen)} roles), session {self.session_id}"

    async def _build_session(self, protocol: str, roles: list[str], *,
                             max_rounds: int | None, files: list[str],
                             arbitration: str | None) -> Any:
        from ..conversation.session import MultiModelSession, ResourceLimits, read_input_files

        policy = HEADLESS_POLICIES.get(arbitration or "ask", arbitration)
        inputs = read_input_files(files)
        session = MultiModelSession(
            protocol=protocol, limits=ResourceLimits(max_rounds=max_rounds),
            config=self.config, engine=self.engine, input_files=inputs,
            arbitration=self.arbitrate if policy is None else policy)
        for role in roles:
            await session.add_model(role, StreamingExecutor(
                self.app, self.engine.executor(role), role, self._gate))
        session.add_listener(self._on_event)
        return session

    async def _run(self, session: Any, prompt: str) -> None:
        try:
            result = await session.execute_collaborative_prompt(prompt)
        except asyncio.CancelledError:
            self._set("stopped", "stopped by the user")
            raise
        except Exception as exc:  # noqa: BLE001 - shown to the user, the dashboard goes on
            self._set("failed", str(exc))
            return
        finally:
            # Later pool events (a swap after the end) belong to no conversation.
            session.remove_listener(self._on_event)
        score = getattr(result, "consensus_score", None)
        detail = f"consensus {score:.2f}" if isinstance(score, int | float) else ""
        self._set("finished", detail)

    def pause(self) -> str:
        if self.state != "running":
            raise LogoMeshError("no conversation is running; start one with F5")
        self._gate.clear()
        self._set("paused")
        return "paused: turns in flight finish, no new turn starts (F6 or resume to go on)"

    def resume(self) -> str:
        if self.state != "paused":
            raise LogoMeshError("the conversation is not paused")
        self._gate.set()
        self._set("running")
        return "resumed"

    async def stop(self) -> str:
        if self.state not in ("running", "paused"):
            raise LogoMeshError("no conversation is running")
        worker = self._worker
        self._gate.set()
        if worker is not None:
            worker.cancel()
        for role in list(getattr(self.session, "roles", lambda: [])() or []):
            try:
                await self.engine.executor(role).cancel()
            except Exception:  # noqa: BLE001 - the role may have been unloaded meanwhile
                pass
        self._set("stopped", "stopped by the user")
        return "conversation stopped" + (f"; session {self.session_id} kept"
                                         if self.session_id else "")

    async def export(self, name: str, format: str) -> str:
        if not self.session_id:
            raise LogoMeshError("nothing to export yet: start a conversation or open a session")
        from ..export import export_session_async

        # On the app's loop: the files are written with aiofiles so the UI keeps answering.
        report = await export_session_async(self.session_id, format, name=name,
                                            sessions_dir=self.config.sessions_dir,
                                            config=self.config)
        return report.summary()

    def open_session(self, session_id: str) -> str:
        """Replay a recorded session into the timeline and make it the current one."""
        from ..sessions.store import SessionStore

        if self.state in ("running", "paused"):
            raise LogoMeshError("stop the running conversation before opening another session")
        store = SessionStore(self.config.sessions_dir)
        sid = store.resolve_id(session_id)
        result = store.read(sid)
        self.session_id = sid
        self.session = None
        self.app.post_message(TimelineReset(sid))
        for event in result.events:
            self.app.post_message(ConversationEvent(event, replayed=True))
        self._set("opened")
        torn = " (its torn last line was skipped)" if result.torn_tail else ""
        return "\n".join([f"opened session {sid}: {len(result.events)} events{torn}",
                          *(d.describe() for d in result.damaged)])
