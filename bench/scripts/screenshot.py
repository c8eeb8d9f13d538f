"""Write the README's picture of the dashboard: the real app, headless, as an SVG screenshot.

    .venv/bin/python bench/scripts/screenshot.py [--out docs/images/dashboard.svg]

The app is the one `logomesh-tui` opens (LogoMeshApp on a HotSwapEngine); only the models are
the scripted ones of `logomesh-tui run --fake` instead of GGUF workers, so no model is loaded and
the picture is the same on every machine. The script types into the command pane as a user
would: it loads the default pool's four roles, pins one, runs a four-round conversation on
examples/Dashboard.tsx, hot-swaps a role after the first round, and saves the screen at 160x50. Sessions, models and
the remembered theme go to a temporary folder, never to the user's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIZE = (160, 50)


async def shoot(out: Path, tmp: Path) -> Path:
    os.environ["LOGOMESH_STATE_DIR"] = str(tmp / "state")  # the theme is not the user's
    os.environ["LOGOMESH_EXPORTS_DIR"] = str(tmp / "exports")

    from textual.widgets import OptionList

    from logomesh_tui.cli.run import demo_responder
    from logomesh_tui.config import DEFAULT_ROLES, EngineConfig
    from logomesh_tui.pool.engine import HotSwapEngine
    from logomesh_tui.pool.fake import FakeBackend
    from logomesh_tui.tui import LogoMeshApp
    from logomesh_tui.tui.screens.pick import PickScreen
    from logomesh_tui.tui.widgets.timeline import TimelinePane

    def fake_factory(model_id: str, config: EngineConfig) -> FakeBackend:
        # `run --fake`'s replies, streamed slowly enough that the swap lands mid-conversation.
        return FakeBackend(model_id, n_ctx=config.n_ctx, responder=demo_responder,
                           token_delay_s=0.01)

    models = tmp / "models"
    models.mkdir(parents=True)
    for name in set(DEFAULT_ROLES.values()):
        (models / f"{name}.gguf").write_bytes(b"GGUF")  # the fake models never read them
    config = EngineConfig(models_dir=models, sessions_dir=tmp / "sessions",
                          memory_budget=8_000_000_000, n_threads=2)
    async with HotSwapEngine(config, backend_factory=fake_factory) as engine:
        app = LogoMeshApp(engine, config=config, offer_pull=False, offer_roles=False)
        async with app.run_test(size=SIZE) as pilot:

            async def wait(condition, what: str, timeout: float = 60.0) -> None:
                deadline = time.monotonic() + timeout
                while not condition():
                    if time.monotonic() > deadline:
                        raise SystemExit(f"timed out waiting for {what}")
                    await pilot.pause(0.05)

            async def command(text: str) -> None:
                await pilot.press(*text, "enter")

            async def pick(value: str) -> None:
                await wait(lambda: isinstance(app.screen, PickScreen), f"the list for {value}")
                screen = app.screen
                assert isinstance(screen, PickScreen)
                values = [v for v, _ in screen.options]
                options = screen.query_one("#pick-list", OptionList)
                for _ in range(len(values) + 1):
                    if options.highlighted is not None and values[options.highlighted] == value:
                        break
                    await pilot.press("down")
                await pilot.press("enter")
                await pilot.pause()

            await pilot.press("colon")
            for role, model in DEFAULT_ROLES.items():
                await command(f'llm.registry.load("{model}", "{role}")')
            await wait(lambda: len(engine.get_active_models()) == len(DEFAULT_ROLES),
                       "the four roles to load")
            await command('llm.registry.pin("primary-analyzer")')
            await command('conversation.start("Review the Dashboard component: hooks, '
                          'rendering cost, types", protocol="four-round", '
                          'files=["examples/Dashboard.tsx"])')
            timeline = app.query_one(TimelinePane)
            await wait(lambda: sum(e.kind == "message" for e in timeline.entries) >= 4,
                       "the first round")
            # The hot-swap by keys, as the dashboard offers it: pause (F6), swap (F4), pick the
            # role and the new model, resume. It lands between turns of the running conversation.
            await pilot.press("f6")
            await wait(lambda: app.conversation_state == "paused", "the pause")
            await pilot.press("f4")
            await pick("documentation-writer")
            await pick("qwen2.5-coder-0.5b")
            await wait(lambda: any(m.role == "documentation-writer"
                                   and m.model_id == "qwen2.5-coder-0.5b"
                                   for m in engine.get_active_models()), "the swap")
            await pilot.press("f6")
            await wait(lambda: app.conversation_state in ("finished", "failed", "stopped"),
                       "the conversation to end", timeout=120)
            app.refresh_registry()
            app.screen.set_focus(None)  # no cursor or completion hint in the command pane
            await pilot.pause(1.5)  # one metrics refresh after the last turn
            out.parent.mkdir(parents=True, exist_ok=True)
            return Path(app.save_screenshot(filename=out.name, path=str(out.parent)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images" / "dashboard.svg"))
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # examples/Dashboard.tsx is attached by its path from the checkout
    with tempfile.TemporaryDirectory(prefix="logomesh-screenshot-") as tmp:
        written = asyncio.run(shoot(Path(args.out).resolve(), Path(tmp)))
    print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
