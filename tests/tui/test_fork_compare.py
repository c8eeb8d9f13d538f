"""Fork from the timeline and compare branches in the dashboard, by keys, at two sizes."""

from __future__ import annotations

import pytest

from logomesh_tui.sessions.store import SessionStore
from logomesh_tui.tui.palette import PaletteActions
from logomesh_tui.tui.screens.compare import CompareScreen
from logomesh_tui.tui.screens.pick import PromptScreen
from logomesh_tui.tui.widgets.timeline import TimelinePane

from .conftest import wait_for
from .keys import load_by_keys, result_line, start_by_keys


@pytest.mark.parametrize("size", [(160, 50), (80, 24)])
async def test_fork_at_the_third_message_run_the_branch_and_compare(app, size):
    async with app.run_test(size=size) as pilot:
        await load_by_keys(pilot, "primary-analyzer", "smollm2-135m")
        await load_by_keys(pilot, "architecture-critic", "gemma-3-270m")
        await start_by_keys(pilot, "Analyse the component")
        await wait_for(pilot, lambda: app.conversation_state == "finished",
                       what="the first session to finish", detail=lambda: result_line(app))
        root = app.runner.session_id
        timeline = app.query_one(TimelinePane)
        third = [e for e in timeline.entries if e.kind == "message"][2]
        assert third.short_id == "m3"
        timeline.focus()
        assert timeline.select_key(third.key)
        await pilot.pause()
        names = [name for name, _cb, _help in PaletteActions(app.screen)._entries()]
        assert "Fork at the selected message…" in names and "Compare branches…" in names

        await pilot.press("k")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("ctrl+u", *"architecture-critic=qwen2.5-coder-0.5b", "enter")
        store = SessionStore(app.config.sessions_dir)

        def branch() -> str | None:
            return next((r.id for r in store.list() if r.parent == root), None)

        await wait_for(pilot, lambda: branch() is not None and app.runner.session_id == branch()
                       and app.conversation_state == "finished",
                       what="the branch to run to its end", detail=lambda: result_line(app))
        bid = branch()
        events = store.read(bid).events
        after = [e.message for e in events if e.kind == "message"][3:]
        assert {m.model_id for m in after if m.from_role == "architecture-critic"} == {
            "qwen2.5-coder-0.5b"}

        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen),
                       what="the comparison view", detail=lambda: result_line(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        rows = screen.summary_rows()
        assert [r[0] for r in rows] == [root[-6:], bid[-6:]]
        assert "gemma-3-270m" in rows[0][1] and "qwen2.5-coder-0.5b" in rows[1][1]
        assert all(r[4].isdigit() and int(r[4]) > 0 for r in rows), "tokens per branch"
        columns = screen.query(".compare-branch")
        assert len(columns) == 2
        bodies = [str(b.render()) for b in screen.query(".compare-branch-body")]
        assert "qwen2.5-coder-0.5b" in bodies[1] and "qwen2.5-coder-0.5b" not in bodies[0]
        assert all("consensus r" in b for b in bodies)
        # Side by side: the two columns share a row and neither is off screen.
        a, b = (c.region for c in columns)
        assert a.y == b.y and a.right <= b.x and b.right <= size[0]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen),
                       what="back to the dashboard")
