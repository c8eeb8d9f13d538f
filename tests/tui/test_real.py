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
                           timeout=120, what="tokens streaming from a real model")
            # Pause (turns in flight finish, no new one starts), swap the critic by keys,
            # resume: round 1 never converges (proposals are made blind), so the critic speaks
            # again, on the new model.
            await pilot.press("f6")
            assert app.conversation_state == "paused"
            await pilot.press("f4")
            await pick(pilot, "architecture-critic")
            await pick(pilot, "gemma-3-270m")
            await wait_for(pilot, lambda: (registry(app).rows_by_role["architecture-critic"]
                                           .model_id == "gemma-3-270m"),
                           timeout=300, what="the swap", detail=lambda: result_line(app))
            assert app.conversation_state == "paused"
            await pilot.press("f6")
            await wait_for(pilot, lambda: app.conversation_state in ("finished", "failed"),
                           timeout=600, what="the conversation to end",
                           detail=lambda: app.conversation_state)
            assert app.conversation_state == "finished", result_line(app)

            entries = timeline.entries
            swaps = [i for i, e in enumerate(entries)
                     if e.kind == "event" and e.event_kind == "swap"]
            assert len(swaps) == 1
            assert entries[swaps[0]].event.new_model_id == "gemma-3-270m"
            assert app.metrics.consensus and app.metrics.throughput["smollm2-135m"]
            assert registry(app).rows_by_role["primary-analyzer"].tokens_per_s

            # The critic's turns (usable or not) ran on smollm2 before the swap, gemma after.
            events = SessionStore(real_config.sessions_dir).read(app.controller.session_id).events
            at = next(i for i, e in enumerate(events) if e.kind == "swap")
            critic = [(i, e.model_id) for i, e in enumerate(events)
                      if e.kind == "turn_metrics" and e.role == "architecture-critic"]
            assert {m for i, m in critic if i < at} == {"smollm2-135m"}
            assert {m for i, m in critic if i > at} == {"gemma-3-270m"}

            await pilot.press("f9")
            await pick(pilot, "training-data")
            assert isinstance(app.screen, PromptScreen)
            await pilot.press("ctrl+u", *"real-run", "enter")
            folder = tmp_path / "exports" / "real-run"
            await wait_for(pilot, lambda: any(folder.glob("*.jsonl")), timeout=30,
                           what="the export", detail=lambda: result_line(app))
            first = json.loads(next(folder.glob("*.jsonl")).read_text().splitlines()[0])
            assert first
