"""The shell's ConversationController: background runs, pause/resume/stop, export, open."""

from __future__ import annotations

import asyncio
import io

import pytest
from rich.console import Console

from logomesh_tui.cli.run import fake_factory
from logomesh_tui.cli.shell import build_context
from logomesh_tui.commands import ConversationController, Dispatcher
from logomesh_tui.commands.controller import RunnerController
from logomesh_tui.config import EngineConfig
from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.sessions.store import SessionStore


def slow_factory(model_id, config):
    backend = fake_factory(model_id, config)
    backend.token_delay_s = 0.02
    return backend


@pytest.fixture
async def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("LOGOMESH_EXPORTS_DIR", str(tmp_path / "exports"))
    config = EngineConfig(memory_budget=10_000_000_000, sessions_dir=tmp_path / "sessions")
    engine = HotSwapEngine(config, backend_factory=slow_factory)
    out = io.StringIO()
    context = build_context(engine, config, Console(file=out, width=120), wait=False)
    d = Dispatcher(context)
    for model, role in [("smollm2-135m", "primary-analyzer"),
                        ("gemma-3-270m", "architecture-critic")]:
        assert (await d.run(f'llm.registry.load("{model}", "{role}")')).ok
    yield d, context.conversation, config, out
    await engine.close()


async def test_background_run_pause_resume_and_stop(setup):
    d, conv, config, out = setup
    assert isinstance(conv, RunnerController) and isinstance(conv, ConversationController)
    r = await d.run('conversation.start("Analyse the hook", max_rounds=4)')
    assert r.ok and r.lines[0].startswith("conversation started (four-round, 2 roles)")
    assert conv.runner.running and conv.state == "running"
    r = await d.run('conversation.start("again")')
    assert not r.ok and "already running" in r.error
    assert (await d.run("conversation.pause()")).ok
    await asyncio.sleep(0.5)
    recorded = len(SessionStore(config.sessions_dir).read(conv.session_id).events)
    await asyncio.sleep(0.5)
    # Paused: no new turn started, so nothing new is recorded.
    assert len(SessionStore(config.sessions_dir).read(conv.session_id).events) == recorded
    assert (await d.run("conversation.resume()")).ok
    r = await d.run("conversation.stop()")
    assert r.ok and r.lines == [f"conversation stopped; session {conv.session_id} kept"]
    assert not conv.runner.running and conv.state == "stopped"
    assert SessionStore(config.sessions_dir).exists(conv.session_id)
    r = await d.run("conversation.pause()")
    assert not r.ok and "no conversation is running" in r.error


async def test_finished_run_exports_and_reopens(setup):
    d, conv, config, out = setup
    assert (await d.run('conversation.start("Analyse", max_rounds=2)')).ok
    await asyncio.wait_for(conv.runner.task, timeout=60)
    assert "final answer:" in out.getvalue()
    r = await d.run('conversation.export("run-1", format="openai-chat")')
    assert r.ok and "openai-chat records" in r.lines[0]
    sid = conv.session_id
    r = await d.run(f'session.open("{sid[:12]}")')
    assert r.ok and r.lines[0].startswith(f"opened session {sid}:")


async def test_start_refuses_what_it_cannot_do(setup):
    d, conv, config, out = setup
    r = await d.run('conversation.start("x", arbitration="ask")')
    assert not r.ok and "needs the dashboard" in r.error
    r = await d.run('conversation.start("x", files=["/nonexistent/file.tsx"])')
    assert not r.ok and "cannot read input file" in r.error
    r = await d.run('conversation.export("x")')
    assert not r.ok and "nothing to export yet" in r.error


async def test_conversation_failure_in_background_is_reported(tmp_path):
    config = EngineConfig(memory_budget=10_000_000_000, sessions_dir=tmp_path / "sessions")
    engine = HotSwapEngine(config, backend_factory=lambda m, c: FakeBackend(m))
    out = io.StringIO()
    conv = build_context(engine, config, Console(file=out, width=120), wait=False).conversation
    try:
        await engine.load_model("smollm2-135m", "primary-analyzer")
        assert (await conv.start("   ")).startswith("conversation started")
        assert await conv.runner.task is None  # reported, not raised into a task nobody awaits
        assert conv.state == "failed"
        assert "conversation failed: the prompt is empty" in out.getvalue()
    finally:
        await engine.close()
