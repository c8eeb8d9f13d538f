"""The pool with real GGUF models in real worker processes (smollm2-135m keeps it quick)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from logomesh_tui import GenerationRequest, HotSwapEngine, ModelStatus
from logomesh_tui.catalog.gguf_meta import read_gguf_info
from logomesh_tui.errors import (
    MemoryBudgetError,
    ModelFileError,
    UnknownModelError,
    WorkerCrashedError,
)
from tests.conftest import require_model
from tests.faults.helpers import child_pids, children_left

pytestmark = pytest.mark.real
SMOL = "smollm2-135m"


def ask(text: str, max_tokens: int = 16, **kw) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": text}], max_tokens=max_tokens,
                             temperature=0.0, **kw)


async def test_generate_streams_tokens_with_usage_and_timings(real_config):
    async with HotSwapEngine(real_config) as engine:
        info = await engine.load_model(SMOL, "primary-analyzer")
        assert info.status == ModelStatus.READY and info.pid and info.rss_bytes > 50_000_000
        tokens: list[str] = []
        res = await engine.generate("primary-analyzer", ask("Name three colours.", 24), tokens.append)
        assert res.text and "".join(tokens) == res.text
        assert res.completion_tokens >= len(tokens) > 0
        assert res.prompt_tokens > 5 and res.timings.total_s > 0 and res.tokens_per_s > 0
        assert 0 < res.mean_token_prob <= 1
        n = await engine.count_tokens("primary-analyzer", "hello world " * 10)
        assert 10 <= n <= 40


async def test_json_schema_output_is_valid(real_config):
    import json

    schema = {"type": "object", "properties": {
        "message_type": {"type": "string", "enum": ["analysis", "critique"]},
        "content": {"type": "string", "maxLength": 120}, "confidence": {"type": "number"}},
        "required": ["message_type", "content", "confidence"]}
    async with HotSwapEngine(real_config) as engine:
        await engine.load_model(SMOL, "r")
        res = await engine.generate("r", ask("Review: let x: any = 1. Reply in JSON.", 160,
                                             json_schema=schema))
        data = json.loads(res.text)
        assert data["message_type"] in ("analysis", "critique") and isinstance(data["content"], str)


async def test_two_roles_twenty_swaps_leave_no_workers_and_no_growth(real_config):
    require_model("gemma-3-270m")
    before = child_pids()
    proc = psutil.Process()
    async with HotSwapEngine(real_config) as engine:
        await engine.load_model(SMOL, "primary-analyzer")
        await engine.load_model("gemma-3-270m", "architecture-critic")
        await engine.generate("primary-analyzer", ask("Hi", 4))
        rss0 = proc.memory_info().rss
        models = ["gemma-3-270m", SMOL]
        for i in range(20):
            await engine.hot_swap("primary-analyzer", models[i % 2])
            res = await engine.generate("primary-analyzer", ask("Say ok", 4))
            assert res.model_id == models[i % 2]
        assert (await engine.generate("architecture-critic", ask("Hi", 4))).text
        growth = proc.memory_info().rss - rss0
    assert await children_left(before) == set(), "worker processes outlived close()"
    assert growth < 20_000_000, f"dashboard RSS grew {growth / 1e6:.1f} MB over 20 swaps"


async def test_sigkill_mid_generation_marks_failed_others_serve_and_reload_works(real_config):
    # Separate workers per role: the crash of one role's process must not touch the other.
    config = real_config.model_copy(update={"share_workers": False})
    async with HotSwapEngine(config) as engine:
        await engine.load_model(SMOL, "a")
        await engine.load_model(SMOL, "b")
        events = []
        engine.add_listener(events.append)
        pid = engine.get_active_models()[0].pid
        started = asyncio.Event()
        turn = asyncio.create_task(engine.generate("a", ask("Write a long story.", 200),
                                                   lambda t: started.set()))
        await asyncio.wait_for(started.wait(), 30)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(WorkerCrashedError, match="SIGKILL"):
            await turn
        status = {m.role: m for m in engine.get_active_models()}
        assert status["a"].status == ModelStatus.FAILED and "SIGKILL" in status["a"].error
        assert any(e.kind == "failed" and e.role == "a" for e in events)
        assert (await engine.generate("b", ask("Hi", 4))).text  # the other role keeps serving
        with pytest.raises(WorkerCrashedError, match="reload"):
            await engine.generate("a", ask("Hi", 4))
        await engine.load_model(SMOL, "a")
        assert (await engine.generate("a", ask("Hi", 4))).text


async def test_bad_files_unknown_ids_and_budget_give_clear_errors(real_config, tmp_path):
    good = require_model(SMOL)
    truncated = tmp_path / "truncated.gguf"
    with good.open("rb") as src:
        truncated.write_bytes(src.read(5_000_000))
    notgguf = tmp_path / "notes.gguf"
    notgguf.write_text("this is not a model\n" * 100)
    missing = tmp_path / "missing.gguf"
    async with HotSwapEngine(real_config) as engine:
        await engine.load_model(SMOL, "keeper")
        for path, pattern in ((truncated, "truncated"), (notgguf, "not a GGUF"), (missing, "not found")):
            with pytest.raises(ModelFileError, match=pattern) as exc:
                await engine.load_model(str(path), "victim")
            assert "\n" not in str(exc.value)
        with pytest.raises(UnknownModelError, match="known:"):
            await engine.load_model("gpt-17", "victim")
        engine.config.memory_budget = 50_000_000
        with pytest.raises(MemoryBudgetError):
            await engine.load_model("gemma-3-270m", "victim")
        assert (await engine.generate("keeper", ask("Hi", 4))).text


def test_unknown_architecture_is_refused(tmp_path):
    import gguf

    path = tmp_path / "alien.gguf"
    w = gguf.GGUFWriter(str(path), "alien-arch")
    w.add_block_count(1)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(ModelFileError, match="unknown model architecture 'alien-arch'"):
        read_gguf_info(path)


def test_workers_die_when_the_dashboard_is_killed(real_config, tmp_path):
    """SIGKILL the process that owns the pool: its workers must not outlive it."""
    script = tmp_path / "owner.py"
    script.write_text(textwrap.dedent(f"""
        import asyncio, sys
        from logomesh_tui import EngineConfig, HotSwapEngine
        async def main():
            engine = HotSwapEngine(EngineConfig(n_ctx=512, n_threads=1))
            await engine.load_model({SMOL!r}, "a")
            await engine.load_model({SMOL!r}, "b")
            print(" ".join(str(m.pid) for m in engine.get_active_models()), flush=True)
            await asyncio.sleep(600)
        asyncio.run(main())
    """))
    # The script lives in tmp_path: give it this checkout, installed or not.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")])))
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                             env=env)
    pids = [int(p) for p in owner.stdout.readline().split()]
    assert len(pids) == 2 and all(psutil.pid_exists(p) for p in pids)
    owner.kill()
    owner.wait()
    gone, alive = psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], timeout=10)
    assert not alive, f"workers {[p.pid for p in alive]} outlived their parent"
