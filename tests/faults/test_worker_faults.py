"""A model's worker dies or hangs in the middle of a running conversation (real smollm2-135m).

Each case: the turn in flight is recorded as a failure, the role is marked failed in the pool's
registry (``get_active_models``) with a ``failed`` pool event, the other role keeps talking, and
with ``auto_restart_failed`` the role comes back by itself and speaks again.
"""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from logomesh_tui.catalog import Catalog
from logomesh_tui.config import EngineConfig
from logomesh_tui.conversation import MultiModelSession, ResourceLimits
from logomesh_tui.pool.engine import DefaultBackendFactory, HotSwapEngine
from logomesh_tui.pool.types import ModelStatus
from logomesh_tui.sessions import SessionStore
from tests.faults.helpers import PROMPT, SMOL, FakeFactory, ask, ensure_dead

pytestmark = pytest.mark.real


class RealAFakeB:
    """Role a on a real worker, role b on a scripted fake: b's turns cannot time out on a
    busy machine, so a short turn timeout tests only a's hang."""

    def __init__(self, config: EngineConfig) -> None:
        self.real = DefaultBackendFactory(config, Catalog.from_config(config))
        self.fake = FakeFactory()

    def estimate(self, model_id: str) -> int:
        return self.real.estimate(model_id) if model_id == SMOL else 0

    def __call__(self, model_id: str, config: EngineConfig):
        return (self.real if model_id == SMOL else self.fake)(model_id, config)


async def run_with_fault(config: EngineConfig, sig: int, rounds: int, b_model: str = SMOL):
    """Roles a (smollm2) and b, round-robin; ``sig`` hits role a's worker at its first token.

    Returns (response, session, pool events, registry snapshot right after the run, hit pid,
    registry at the end after any restart)."""
    factory = None if b_model == SMOL else RealAFakeB(config)
    async with HotSwapEngine(config, backend_factory=factory) as engine:
        await engine.load_model(SMOL, "a")
        await engine.load_model(b_model, "b")
        pool_events = []
        engine.add_listener(pool_events.append)
        session = MultiModelSession(
            engine=engine, config=config, protocol="round-robin",
            store=SessionStore(config.sessions_dir),
            limits=ResourceLimits(max_rounds=rounds, min_rounds=rounds, max_tokens=48,
                                  max_content_chars=48,
                                  temperature=0.0))
        for role in ("a", "b"):
            await session.add_model(role, engine.executor(role))
        hit: dict[str, int] = {}

        def on_token(role: str, _piece: str) -> None:
            if role == "a" and not hit:
                pid = next(m.pid for m in engine.get_active_models() if m.role == "a")
                hit["pid"] = pid
                os.kill(pid, sig)

        session.token_listeners.append(on_token)
        try:
            response = await session.execute_collaborative_prompt(PROMPT)
            registry = {m.role: m for m in engine.get_active_models()}
            if config.auto_restart_failed:
                # The restart may still be loading when the last turn ends.
                for _ in range(200):
                    if {m.role: m.status for m in engine.get_active_models()}["a"] == \
                            ModelStatus.READY:
                        break
                    await asyncio.sleep(0.1)
            final = {m.role: m for m in engine.get_active_models()}
            if final["a"].status == ModelStatus.READY:
                assert (await engine.generate("a", ask("Say ok"))).text
        finally:
            ensure_dead({hit["pid"]} if hit else set())
    return response, session, pool_events, registry, hit.get("pid"), final


def check_common(response, session, pool_events, hit_pid, reason_part: str) -> None:
    assert hit_pid is not None, "role a never produced a token"
    first = [f for f in response.failures if f["role"] == "a" and f["round"] == 1]
    assert len(first) == 1 and reason_part in first[0]["reason"], response.failures
    # The failure is in the session file, not only in memory.
    on_disk = SessionStore(session.config.sessions_dir).read(session.session_id).events
    assert any(e.kind == "failure" and e.role == "a" and e.round == 1
               for e in on_disk)
    assert any(e.kind == "session_finished" for e in on_disk)
    assert any(e.kind == "failed" and e.role == "a" for e in pool_events)
    # The other role kept talking: it was asked in every round and none of its turns crashed.
    b_rounds = {e.round for e in session.events
                if e.kind == "turn_metrics" and e.role == "b"}
    assert b_rounds == set(range(1, response.rounds_run + 1)), [
        (f["role"], f["round"], f["reason"][:80]) for f in response.failures]
    assert not [f for f in response.failures if f["role"] == "b"
                and ("Crashed" in f["reason"] or "timeout" in f["reason"])]
    assert any(m.from_role == "b" for m in response.messages)


async def test_sigkill_mid_turn_fails_the_turn_marks_the_role_and_the_rest_goes_on(small_config):
    response, session, events, registry, pid, _ = await run_with_fault(
        small_config, signal.SIGKILL, rounds=2)
    check_common(response, session, events, pid, "SIGKILL")
    assert registry["a"].status == ModelStatus.FAILED and "SIGKILL" in registry["a"].error
    assert registry["b"].status == ModelStatus.READY
    # Without auto-restart a's later turn is skipped with a pointer to reloading it.
    later = [f for f in response.failures if f["role"] == "a" and f["round"] == 2]
    assert later and "reload it" in later[0]["reason"]


async def test_sigkill_with_auto_restart_brings_the_role_back(small_config):
    config = small_config.model_copy(update={"auto_restart_failed": True})
    response, session, events, registry, pid, final = await run_with_fault(
        config, signal.SIGKILL, rounds=2)
    check_common(response, session, events, pid, "SIGKILL")
    kinds = [e.kind for e in events if e.role == "a"]
    assert "failed" in kinds and "loaded" in kinds[kinds.index("failed"):]
    assert final["a"].status == ModelStatus.READY and final["a"].pid != pid
    # It came back during the conversation: its next turn waited for the restart and the new
    # worker answered (whether a 135M model's reply is usable JSON is not this test's concern).
    assert any(e.kind == "turn_metrics" and e.role == "a" and e.round == 2
               for e in session.events), response.failures
    assert not [f for f in response.failures if f["role"] == "a" and f["round"] == 2
                and "Crashed" in f["reason"]]


async def test_hung_worker_is_ended_by_the_turn_timeout(small_config):
    """SIGSTOP: the worker neither answers nor dies. The turn times out, the worker is killed
    and marked failed, and with auto-restart it is replaced."""
    config = small_config.model_copy(update={"turn_timeout_s": 5.0, "auto_restart_failed": True})
    response, session, events, registry, pid, final = await run_with_fault(
        config, signal.SIGSTOP, rounds=2, b_model="scripted-b")
    check_common(response, session, events, pid, "timeout")
    failed = [e for e in events if e.kind == "failed" and e.role == "a"]
    assert "stopped answering" in failed[0].detail
    assert final["a"].status == ModelStatus.READY and final["a"].pid != pid
    import psutil

    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


async def test_hung_worker_does_not_hang_or_crash_token_counting(small_config):
    """Counting tokens (every turn does, before generating) on a stopped worker ends in a
    one-line WorkerCrashedError after the turn timeout, never a bare TimeoutError."""
    from logomesh_tui.errors import WorkerCrashedError

    config = small_config.model_copy(update={"turn_timeout_s": 2.0})
    async with HotSwapEngine(config) as engine:
        info = await engine.load_model(SMOL, "a")
        os.kill(info.pid, signal.SIGSTOP)
        try:
            with pytest.raises(WorkerCrashedError, match="stopped answering") as exc:
                await engine.count_tokens("a", "hello world")
            assert "\n" not in str(exc.value)
            for _ in range(50):  # the kill is delivered asynchronously
                status = {m.role: m for m in engine.get_active_models()}["a"]
                if status.status == ModelStatus.FAILED:
                    break
                await asyncio.sleep(0.1)
            assert status.status == ModelStatus.FAILED and "stopped answering" in status.error
        finally:
            ensure_dead({info.pid})
