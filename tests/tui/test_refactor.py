"""ctrl+r in the dashboard: ask for a path, refactor it in a worker, show progress and outcome."""

from __future__ import annotations

import asyncio
import threading

import pytest

from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.tui import LogoMeshApp
from logomesh_tui.tui.palette import PaletteActions
from logomesh_tui.tui.screens.pick import PromptScreen
from logomesh_tui.tui.widgets.timeline import TimelinePane, describe_event
from logomesh_tui.verify import compiler
from logomesh_tui.verify.toolchain import ensure_tsc
from tests.codepipe.scripted import FIXTURES, refactor_responder

from .conftest import wait_for
from .keys import result_line

pytestmark = pytest.mark.toolchain

# How long a tsc call waits for the app's loop to prove it is free; only a blocked loop takes it.
LOOP_WAIT_S = 10.0


@pytest.fixture(scope="module")
def toolchain():
    return ensure_tsc()


@pytest.fixture
async def refactor_engine(fake_config):
    engine = HotSwapEngine(fake_config, backend_factory=lambda model_id, config: FakeBackend(
        model_id, n_ctx=4096, responder=refactor_responder))
    yield engine
    await engine.close()


def notes(app: LogoMeshApp) -> list[str]:
    return [describe_event(e.event) for e in app.query_one(TimelinePane).entries
            if e.kind == "event" and e.event_kind == "note"]


async def test_ctrl_r_refactors_in_a_worker_and_shows_the_result(
        refactor_engine, fake_config, tmp_path, monkeypatch, toolchain):
    monkeypatch.chdir(tmp_path)
    # Each tsc call waits until the app's loop runs a callback. If tsc ran on that loop, the
    # callback could not run before the call returned: the loop would be blocked by the check.
    loop = asyncio.get_running_loop()
    loop_ran_during_tsc: list[bool] = []
    real_tsc = compiler.run_tsc

    def tsc_that_needs_the_loop(*args, **kwargs):
        ran = threading.Event()
        loop.call_soon_threadsafe(ran.set)
        loop_ran_during_tsc.append(ran.wait(LOOP_WAIT_S))
        return real_tsc(*args, **kwargs)

    monkeypatch.setattr(compiler, "run_tsc", tsc_that_needs_the_loop)
    app = LogoMeshApp(refactor_engine, config=fake_config, offer_pull=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+r")
        assert "load at least one model" in result_line(app)
        assert not isinstance(app.screen, PromptScreen)
        await refactor_engine.load_model("qwen2.5-coder-1.5b", "primary-analyzer")
        entries = [n for n, _, _ in PaletteActions(app.screen)._entries()]
        assert "Refactor TypeScript code…" in entries
        assert ("ctrl+r", "refactor", "Refactor code") in app.key_table()

        await pilot.press("ctrl+r")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*str(FIXTURES / "Counter.tsx"))

        await pilot.press("enter")
        assert not isinstance(app.screen, PromptScreen)
        await wait_for(pilot, lambda: "refactor " in result_line(app)
                       and "change(s) kept" in result_line(app), timeout=120,
                       what="the refactor's outcome", detail=lambda: result_line(app))
        line = result_line(app)
        assert "compiles yes" in line and "1 of 1 change(s) kept" in line, line
        assert "refactor-out/Counter/" in line
        # Several tsc checks ran, and the app's loop ran during every one of them.
        assert len(loop_ran_during_tsc) >= 2 and all(loop_ran_during_tsc), loop_ran_during_tsc
        seen = notes(app)
        assert any(n.startswith("[1/1]") for n in seen), seen
        assert seen[-1] == line
        assert (tmp_path / "refactor-out" / "Counter" / "report.md").is_file()

        # An error is one line in the pane and stays in the timeline.
        await pilot.press("ctrl+r", *"nowhere/App.tsx", "enter")
        await wait_for(pilot, lambda: "error:" in result_line(app), what="the error line")
        assert "does not exist" in result_line(app)
        assert "does not exist" in notes(app)[-1]
