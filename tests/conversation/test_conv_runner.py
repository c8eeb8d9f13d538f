"""The conversation runner: one state machine the dashboard, the shell and `run` attach to."""

from __future__ import annotations

import asyncio

import pytest
from conv_helpers import schema_reply

from logomesh_tui.config import EngineConfig
from logomesh_tui.conversation.consensus import ArbitrationDecision
from logomesh_tui.conversation.runner import ConversationRunner, RunnerView, RunState
from logomesh_tui.conversation.session import ResourceLimits
from logomesh_tui.errors import LogoMeshError
from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.sessions.events import MessagePosted, Swap
from logomesh_tui.sessions.store import SessionStore


class Recorder(RunnerView):
    def __init__(self) -> None:
        self.states: list[str] = []
        self.events: list = []
        self.turns: list[tuple[str, str]] = []
        self.tokens = 0
        self.resets: list[str] = []

    def state_changed(self, change):
        self.states.append(change.state.value)

    def reset(self, session_id):
        self.resets.append(session_id)

    def event(self, event, replayed):
        self.events.append((event, replayed))

    def turn(self, report):
        self.turns.append((report.phase, report.role))

    def token(self, turn_id, role, text):
        self.tokens += 1


def split_votes(request, backend):
    # Each model votes for a different proposal, so the run ends without consensus.
    return schema_reply(request, backend, vote_index=backend.calls % 3)


@pytest.fixture
async def engine(tmp_path):
    config = EngineConfig(memory_budget=10_000_000_000, sessions_dir=tmp_path / "sessions")
    delay = {"value": 0.0}

    def factory(model_id, config):
        return FakeBackend(model_id, n_ctx=2048, responder=split_votes,
                           token_delay_s=delay["value"])

    eng = HotSwapEngine(config, backend_factory=factory)
    eng.delay = delay
    for model, role in [("m-a", "a"), ("m-b", "b"), ("m-c", "c")]:
        await eng.load_model(model, role)
    yield eng
    await eng.close()


async def test_a_run_moves_through_arbitration_to_finished(engine):
    asked = []

    async def ask(state, reason):
        asked.append(runner.state)
        return ArbitrationDecision(choice_id=state.candidates[-1].message.id,
                                   decided_by="human", policy="test", reason=reason)

    runner = ConversationRunner(engine, engine.config, ask=ask)
    view = runner.attach(Recorder())
    session = await runner.prepare(limits=ResourceLimits(max_rounds=4,
                                                          consensus_threshold=1.0))
    assert session.arbitration_name == "ask" and runner.state == RunState.IDLE
    response = await runner.run(session, "Review it.")
    assert response.stopped_reason == "arbitrated"
    assert asked == [RunState.ARBITRATING]
    assert view.states == ["running", "arbitrating", "running", "finished"]
    assert view.resets == [session.session_id]
    recorded = SessionStore(engine.config.sessions_dir).read(session.session_id).events
    assert [e.seq for e, _ in view.events] == [e.seq for e in recorded]
    assert not any(replayed for _, replayed in view.events)
    # Every turn was reported as started and then finished, with its tokens.
    assert view.turns.count(("started", "a")) == view.turns.count(("finished", "a")) > 0
    assert view.tokens > 0


async def test_pause_holds_new_turns_and_stop_ends_the_run(engine):
    engine.delay["value"] = 0.01
    runner = ConversationRunner(engine, engine.config)
    paused: list[str] = []

    class PauseOnFirstMessage(Recorder):
        # Paused as the first message is posted, while the run is certainly still going (a
        # polling loop once saw the message only after the whole fast conversation had ended).
        def event(self, event, replayed):
            super().event(event, replayed)
            if isinstance(event, MessagePosted) and not paused:
                paused.append(runner.pause())

    view = runner.attach(PauseOnFirstMessage())
    reply = await runner.start("Review it.", max_rounds=4)
    assert reply.startswith("conversation started (four-round, 3 roles)")
    with pytest.raises(LogoMeshError, match="already running"):
        await runner.start("again")
    for _ in range(6000):  # a generous bound that only a stuck run reaches
        if paused:
            break
        await asyncio.sleep(0.01)
    assert paused and paused[0].startswith("paused")
    assert runner.state == RunState.PAUSED and runner.running
    started = sum(1 for phase, _ in view.turns if phase == "started")
    # Turns in flight finish; none starts while paused.
    for _ in range(50):
        await asyncio.sleep(0.02)
    assert sum(1 for phase, _ in view.turns if phase == "started") == started
    assert runner.resume() == "resumed" and runner.state == RunState.RUNNING
    assert (await runner.stop()).startswith("conversation stopped")
    assert runner.state == RunState.STOPPED and not runner.running
    assert view.states[-1] == "stopped" and view.states.count("stopped") == 1
    with pytest.raises(LogoMeshError, match="no conversation is running"):
        runner.pause()


async def test_a_hot_swap_between_turns_is_recorded_and_the_run_goes_on(engine):
    runner = ConversationRunner(engine, engine.config)
    view = runner.attach(Recorder())
    session = await runner.prepare(limits=ResourceLimits(max_rounds=3))
    swapped = []

    def swap_after_first_message(event):
        if isinstance(event, MessagePosted) and not swapped:
            swapped.append(asyncio.ensure_future(engine.hot_swap("b", "m-b2")))

    session.add_listener(swap_after_first_message)
    await runner.run(session, "Review it.")
    await swapped[0]
    swaps = [e for e, _ in view.events if isinstance(e, Swap)]
    assert len(swaps) == 1 and swaps[0].new_model_id == "m-b2"
    later = [e.message.model_id for e, _ in view.events if isinstance(e, MessagePosted)
             and e.message.from_role == "b" and e.seq > swaps[0].seq]
    assert later and set(later) == {"m-b2"}
    assert runner.state == RunState.FINISHED


async def test_a_failed_run_is_a_state_and_a_message(engine):
    runner = ConversationRunner(engine, engine.config)
    view = runner.attach(Recorder())
    await runner.start("   ")
    await runner.wait_done()
    assert runner.state == RunState.FAILED and "prompt is empty" in runner.detail
    assert view.states == ["running", "failed"]


async def test_ask_without_a_person_is_refused_and_open_replays(engine):
    runner = ConversationRunner(engine, engine.config)
    with pytest.raises(LogoMeshError, match="needs the dashboard"):
        await runner.start("x", arbitration="ask")
    session = await runner.prepare(limits=ResourceLimits(max_rounds=1))
    await runner.run(session, "Review it.")
    view = runner.attach(Recorder())
    result = runner.open_session(session.session_id[:10])
    assert runner.state == RunState.OPENED and runner.session_id == session.session_id
    assert [e.seq for e, replayed in view.events if replayed] == [e.seq for e in result.events]
