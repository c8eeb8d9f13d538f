"""Responsiveness benchmark: the headless dashboard while four models generate.

Event-loop lag is measured by a 10 ms ticker inside the app's own loop (how late each tick
fires). Key-to-screen time is how long F1 takes, posted as the terminal would post it, until the help
screen is the active screen and has been painted (a ``call_after_refresh`` callback on it ran);
key-to-stack is until it is the active screen only, before its layout and paint. It lives on the
TUI side because it drives the app; the engine's benchmarks are in ``logomesh_tui.bench``.
"""

from __future__ import annotations

import asyncio
import os
import time

from textual import events

from ..bench.speed import DEFAULT_POOL, _pct
from ..config import EngineConfig
from ..conversation.roles import SEED_ROLES
from ..pool.engine import HotSwapEngine
from ..pool.types import GenerationRequest
from .app import LogoMeshApp
from .screens.help import HelpScreen
from .widgets.timeline import TimelinePane


async def _ticker(sink: list[float], stop: asyncio.Event) -> None:
    """Append how late each 10 ms tick fires until ``stop`` is set."""
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(0.01)
        sink.append(time.perf_counter() - t - 0.01)


async def _open_and_close_help(app: LogoMeshApp) -> tuple[float, float]:
    """Post F1, wait for the help screen, then Escape: (seconds until it was the active screen,
    seconds until it had been painted)."""
    t0 = time.perf_counter()
    app.post_message(events.Key("f1", None))
    while not isinstance(app.screen, HelpScreen) and time.perf_counter() - t0 < 5:
        await asyncio.sleep(0.001)
    to_stack = time.perf_counter() - t0
    painted = asyncio.Event()
    app.screen.call_after_refresh(painted.set)
    try:
        await asyncio.wait_for(painted.wait(), 5)
    except TimeoutError:
        pass
    to_screen = time.perf_counter() - t0
    app.post_message(events.Key("escape", None))
    while isinstance(app.screen, HelpScreen) and time.perf_counter() - t0 < 10:
        await asyncio.sleep(0.001)
    return to_stack, to_screen


async def bench_ui(models: list[str] | None = None, seconds: float = 20.0, n_ctx: int = 1024) -> dict:
    models = models or DEFAULT_POOL
    cfg = EngineConfig(n_ctx=n_ctx, n_threads=max(1, (os.cpu_count() or 2) // 2))
    lags: list[float] = []
    keys: list[float] = []
    stacked: list[float] = []
    idle_lags: list[float] = []
    key_lags: list[float] = []
    async with HotSwapEngine(cfg) as engine:
        app = LogoMeshApp(engine, config=cfg, offer_pull=False)
        async with app.run_test(size=(120, 40)) as pilot:
            for role, model in zip(SEED_ROLES, models * 4, strict=False):
                await engine.load_model(model, role)

            stop_idle = asyncio.Event()
            idle_task = asyncio.create_task(_ticker(idle_lags, stop_idle))
            await asyncio.sleep(2.0)
            stop_idle.set()
            await idle_task

            # Four models generating at once, streaming into the timeline.
            gen_stop = asyncio.Event()

            async def generate(role: str) -> int:
                n = 0
                while not gen_stop.is_set():
                    req = GenerationRequest(messages=[{"role": "user", "content":
                                                       "Write a long review of a React component."}],
                                            max_tokens=96, temperature=0.7)
                    res = await engine.generate(role, req)
                    n += res.completion_tokens
                return n

            # The conversation itself runs too, so tokens stream into the timeline pane.
            app.run_command('conversation.start("Review: function add(a, b) { return a - b }", '
                            'protocol="round-robin")')  # a worker: it runs on in the app
            await pilot.pause()
            gens = [asyncio.create_task(generate(r)) for r in SEED_ROLES]
            # Phase 1: event-loop lag while the models stream, nothing else going on.
            stop = asyncio.Event()
            tick = asyncio.create_task(_ticker(lags, stop))
            await asyncio.sleep(seconds / 2)
            stop.set()
            await tick
            # Phase 2: key-to-screen. Post F1 as the terminal would (Pilot.press waits for an
            # idle app, which a streaming dashboard never is) and time until the help screen is
            # up; Escape closes it. Lag here includes composing the help screen itself.
            stop = asyncio.Event()
            tick = asyncio.create_task(_ticker(key_lags, stop))
            t_end = time.perf_counter() + seconds / 2
            while time.perf_counter() < t_end:
                to_stack, to_screen = await _open_and_close_help(app)
                stacked.append(to_stack)
                keys.append(to_screen)
                await asyncio.sleep(0.3)
            stop.set()
            await tick
            gen_stop.set()
            tokens = sum(await asyncio.gather(*gens))
            streamed = len(app.query_one(TimelinePane).entries)
            app.run_command("conversation.stop()")
            await pilot.pause()
    ms = [x * 1000 for x in lags]
    key_ms = [x * 1000 for x in keys]
    stack_ms = [x * 1000 for x in stacked]
    return {"part": "ui", "models": models[:4], "seconds": seconds,
            "idle_lag_ms": {"p50": round(_pct([x * 1000 for x in idle_lags], 50), 2),
                            "p99": round(_pct([x * 1000 for x in idle_lags], 99), 2)},
            "lag_ms": {"p50": round(_pct(ms, 50), 2), "p99": round(_pct(ms, 99), 2),
                       "max": round(max(ms, default=0.0), 2), "samples": len(ms)},
            "lag_while_opening_help_ms": {"p50": round(_pct([x * 1000 for x in key_lags], 50), 2),
                                          "p99": round(_pct([x * 1000 for x in key_lags], 99), 2)},
            "key_to_screen_ms": {"p50": round(_pct(key_ms, 50), 2), "p99": round(_pct(key_ms, 99), 2),
                                 "max": round(max(key_ms, default=0.0), 2), "presses": len(key_ms)},
            "key_to_stack_ms": {"p50": round(_pct(stack_ms, 50), 2),
                                "p99": round(_pct(stack_ms, 99), 2)},
            "tokens_generated_meanwhile": tokens, "timeline_entries": streamed,
            "target": "event-loop lag p99 < 50 ms", "met": _pct(ms, 99) < 50.0}
