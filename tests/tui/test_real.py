"""The dashboard on real models (smollm2-135m and gemma-3-270m in worker processes), driven
by keys: load two roles, start a conversation, hot-swap a role while it runs, export."""

from __future__ import annotations

import json

import pytest

from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.sessions.store import SessionStore
from logomesh_tui.tui import LogoMeshApp
from logomesh_tui.tui.screens.pick import PromptScreen
from logomesh_tui.tui.widgets.timeline import TimelinePane
from tests.conftest import require_model

from .conftest import wait_for
from .keys import load_by_keys, pick, registry, result_line, start_by_keys

pytestmark = pytest.mark.real


async def test_real_models_by_keys_swap_while_running_and_export(real_config, tmp_path,
                                                                  monkeypatch):
    require_model("gemma-3-270m")
    monkeypatch.setenv("LOGOMESH_EXPORTS_DIR", str(tmp_path / "exports"))
    async with HotSwapEngine(real_config) as engine:
        app = LogoMeshApp(engine, config=real_config, offer_pull=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await load_by_keys(pilot, "primary-analyzer", "smollm2-135m", timeout=60)
            await load_by_keys(pilot, "architecture-critic", "smollm2-135m", timeout=60)
            rss = registry(app).rows_by_role["primary-analyzer"].rss_bytes
            assert rss and rss > 50_000_000, "the registry shows the worker's real RSS"

            await start_by_keys(pilot, "Review: function add(a, b) { return a - b }")
            timeline = app.query_one(TimelinePane)
            await wait_for(pilot, lambda: any(e.kind == "streaming" and e.content
                                              for e in timeline.entries),
                           timeout=60, what="tokens streaming from a real model")
            await wait_for(pilot, lambda: any(e.kind == "message" for e in timeline.entries),
                           timeout=120, what="a first real message")
            assert app.conversation_state == "running"

            await pilot.press("f4")
            await pick(pilot, "architecture-critic")
            await pick(pilot, "gemma-3-270m")
            await wait_for(pilot, lambda: app.conversation_state in ("finished", "failed"),
                           timeout=400, what="the conversation to end",
                           detail=lambda: app.conversation_state)
            assert app.conversation_state == "finished", result_line(app)

            entries = timeline.entries
            swap = next(e for e in entries if e.kind == "event" and e.event_kind == "swap")
            assert swap.data["new_model_id"] == "gemma-3-270m"
            messages = [e for e in entries if e.kind == "message"]
            assert {m.role for m in messages} >= {"primary-analyzer", "architecture-critic"}
            assert any(m.model_id == "gemma-3-270m" for m in messages[messages.index(
                next(m for m in messages if m.model_id == "gemma-3-270m")):]), \
                "gemma spoke for the critic after the swap"
            assert app.metrics.consensus and app.metrics.throughput["smollm2-135m"]
            assert registry(app).rows_by_role["primary-analyzer"].tokens_per_s

            events = SessionStore(real_config.sessions_dir).read(app.controller.session_id)
            assert "swap" in [e.kind for e in events.events]

            await pilot.press("f9")
            await pick(pilot, "training-data")
            assert isinstance(app.screen, PromptScreen)
            await pilot.press("ctrl+u", *"real-run", "enter")
            folder = tmp_path / "exports" / "real-run"
            await wait_for(pilot, lambda: any(folder.glob("*.jsonl")), timeout=30,
                           what="the export", detail=lambda: result_line(app))
            first = json.loads(next(folder.glob("*.jsonl")).read_text().splitlines()[0])
            assert first
