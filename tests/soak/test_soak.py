"""Soak: many real hot-swaps with generation between them, and a long conversation.

The full sizes (100 swaps, a 200-message conversation) are marked ``soak`` and left out of the
default run (``python -m pytest -m soak tests/soak`` runs them); a shorter form of each runs in
the default suite. Checked: the parent's RSS does not grow beyond a small bound, no worker
process outlives its model (nor the engine), and no message is lost.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time

import psutil
import pytest

from logomesh_tui.config import EngineConfig
from logomesh_tui.conversation import MultiModelSession, ResourceLimits
from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.sessions import SessionStore
from tests.conftest import require_model
from tests.faults.helpers import SMOL, FakeFactory, ask, child_pids, worker_pids

GEMMA = "gemma-3-270m"
MB = 1_000_000


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


@pytest.mark.real
@pytest.mark.parametrize("swaps", [10, pytest.param(100, marks=pytest.mark.soak)])
async def test_hot_swaps_with_generation_between_them(tmp_path, swaps):
    """A role alternates between smollm2-135m and gemma-3-270m; after every swap both roles
    generate. Exactly two workers exist after each swap, none after close, and the parent's RSS
    stays flat after the first round trip."""
    require_model(SMOL)
    require_model(GEMMA)
    config = EngineConfig(n_ctx=512, n_threads=1, sessions_dir=tmp_path / "sessions",
                          turn_timeout_s=60, load_timeout_s=60)
    before = child_pids()
    events = []
    samples: list[int] = []
    t0 = time.perf_counter()
    async with HotSwapEngine(config) as engine:
        engine.add_listener(events.append)
        await engine.load_model(SMOL, "swapper")
        await engine.load_model(SMOL, "steady")
        ex = engine.executor("swapper")
        models = [GEMMA, SMOL]
        for i in range(swaps):
            target = models[i % 2]
            result = await engine.hot_swap("swapper", target)
            assert result.new_model_id == target and ex.model_id == target
            reply = await ex.generate(ask("Say ok", 4))
            assert reply.model_id == target and reply.completion_tokens > 0
            assert (await engine.generate("steady", ask("Hi", 4))).text is not None
            live = worker_pids(os.getpid())
            # Both roles on smollm2 share one worker; on two models, two workers.
            assert live == {m.pid for m in engine.get_active_models()} and \
                len(live) == (1 if target == SMOL else 2), f"swap {i}: workers {live}"
            if i >= 1:  # after one round trip every code path has been imported and warmed
                samples.append(rss())
    elapsed = time.perf_counter() - t0
    await asyncio.sleep(0.2)
    assert child_pids() - before == set(), "worker processes outlived close()"
    finished = [e for e in events if e.kind == "swap_finished" and e.role == "swapper"]
    assert len(finished) == swaps
    growth = max(samples) - samples[0]
    assert growth < 25 * MB, f"parent RSS grew {growth / MB:.1f} MB over {swaps} swaps"
    print(f"{swaps} swaps in {elapsed:.1f} s; parent RSS {samples[0] / MB:.0f} -> "
          f"{samples[-1] / MB:.0f} MB (max growth {growth / MB:.1f} MB)")


@pytest.mark.parametrize("messages", [60, pytest.param(200, marks=pytest.mark.soak)])
async def test_long_conversation_loses_no_message(tmp_path, messages):
    """Four scripted roles talk for messages/4 rounds while roles are hot-swapped every few
    rounds; every message is in the response and in the session file, in order, each
    reference resolves, and memory grows only by what the history itself holds."""
    roles = ["primary-analyzer", "architecture-critic", "optimization-specialist",
             "documentation-writer"]
    rounds = messages // len(roles)
    config = EngineConfig(n_ctx=2048, n_threads=1, sessions_dir=tmp_path / "sessions")
    factory = FakeFactory()
    store = SessionStore(config.sessions_dir)
    async with HotSwapEngine(config, backend_factory=factory) as engine:
        for role in roles:
            await engine.load_model(f"fake-{role}", role)
        session = MultiModelSession(
            engine=engine, config=config, protocol="round-robin", store=store,
            summarize_with_model=False,
            limits=ResourceLimits(max_rounds=rounds, min_rounds=rounds, max_tokens=64,
                                  consensus_threshold=1.0))
        for role in roles:
            await session.add_model(role, engine.executor(role))
        swaps: list[asyncio.Task] = []

        def swap_every_five_rounds(event) -> None:
            if (event.kind == "consensus" and event.round % 5 == 0
                    and event.round < rounds):  # after the last round: not its business
                role = roles[(event.round // 5) % len(roles)]
                swaps.append(asyncio.ensure_future(
                    engine.hot_swap(role, f"fake-{role}-v{event.round}")))

        session.add_listener(swap_every_five_rounds)
        rss0 = rss()
        response = await session.execute_collaborative_prompt("Review the component.")
        await asyncio.gather(*swaps)
        growth = rss() - rss0

    spoken = [m for m in response.messages if m.from_role != "human"]
    assert len(spoken) == messages and not response.failures
    assert response.rounds_run == rounds
    assert len({m.id for m in spoken}) == messages
    position = {m.id: i for i, m in enumerate(response.messages)}
    for i, m in enumerate(response.messages):
        assert all(position[ref] < i for ref in m.references_to)
    # The file holds every message, byte-identical to what the run returned, and nothing torn.
    on_disk = store.read(session.session_id)
    assert not on_disk.torn_tail and on_disk.bad_lines == 0
    saved = [e.message for e in on_disk.events if e.kind == "message"]
    assert [d.id for d in saved] == [m.id for m in response.messages]
    assert [e.seq for e in on_disk.events] == list(range(len(on_disk.events)))
    swapped = [e for e in on_disk.events if e.kind == "swap"]
    assert len(swapped) == len(swaps) > 0
    assert on_disk.events[-1].kind == "session_finished"
    # Memory: the history (with each turn's prompt) is kept on purpose; beyond it, a bound.
    history_bytes = sum(len(d.model_dump_json()) for d in saved)
    assert growth < 30 * MB + 4 * history_bytes, (
        f"RSS grew {growth / MB:.1f} MB for {history_bytes / MB:.1f} MB of history")
