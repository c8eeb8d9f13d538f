"""Fixtures for dashboard tests: an engine on FakeBackends, a models folder whose files exist
(FakeBackend never reads them) and helpers to wait for what the panes show."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from logomesh_tui.config import EngineConfig
from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.tui import LogoMeshApp

from .scripted import fake_factory

POOL = ["smollm2-135m", "gemma-3-270m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]


def make_models_dir(path: Path, names: list[str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name in names:
        (path / f"{name}.gguf").write_bytes(b"GGUF")
    return path


@pytest.fixture
def fake_config(tmp_path, monkeypatch) -> EngineConfig:
    monkeypatch.setenv("LOGOMESH_EXPORTS_DIR", str(tmp_path / "exports"))
    return EngineConfig(models_dir=make_models_dir(tmp_path / "models", POOL),
                        sessions_dir=tmp_path / "sessions", memory_budget=2_000_000_000,
                        n_threads=1)


@pytest.fixture
async def fake_engine(fake_config):
    engine = HotSwapEngine(fake_config, backend_factory=fake_factory(token_delay_s=0.002))
    yield engine
    await engine.close()


@pytest.fixture
def app(fake_engine, fake_config) -> LogoMeshApp:
    return LogoMeshApp(fake_engine, config=fake_config, offer_pull=False)


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 30.0,
                   what: str = "condition", detail: Callable[[], object] | None = None) -> None:
    """Let the app run until ``condition()`` holds; fail with ``what`` after ``timeout``.

    The wait ends as soon as the condition holds, so ``timeout`` is a generous bound that only
    a stuck app reaches, never a claim about speed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            seen = f"; {detail()}" if detail else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{seen}")
        await pilot.pause(0.02)
