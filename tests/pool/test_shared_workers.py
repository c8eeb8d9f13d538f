"""One worker per model shared by every role that uses it, with each role's KV state kept apart
(real smollm2-135m in real worker processes)."""

from __future__ import annotations

import asyncio
import os
import signal

import psutil
import pytest

from logomesh_tui import EngineConfig, GenerationRequest, HotSwapEngine, ModelStatus
from logomesh_tui.errors import WorkerCrashedError
from tests.conftest import require_model

pytestmark = pytest.mark.real
SMOL = "smollm2-135m"
GEMMA = "gemma-3-270m"
ROLES = ["primary-analyzer", "architecture-critic", "optimization-specialist",
         "documentation-writer"]


def chat(*turns: str, max_tokens: int = 8) -> GenerationRequest:
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": t}
                for i, t in enumerate(turns)]
    return GenerationRequest(messages=messages, max_tokens=max_tokens, temperature=0.0, seed=1)


def workers() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


async def test_four_roles_on_one_model_share_one_worker_and_count_its_memory_once(real_config):
    before = workers()
    async with HotSwapEngine(real_config) as engine:
        for role in ROLES:
            await engine.load_model(SMOL, role)
        infos = engine.get_active_models()
        assert len({i.pid for i in infos}) == 1 and workers() - before == {infos[0].pid}
        assert {i.shared_with for i in infos} == {4}
        rss = psutil.Process(infos[0].pid).memory_info().rss
        # Each role shows its share; the pool's total is the one process, not four of it.
        assert abs(engine.get_memory_usage().total - rss) < 0.05 * rss
        for role in ROLES:
            assert (await engine.generate(role, chat("Say hi."))).completion_tokens > 0
    assert workers() - before == set()


async def test_roles_loaded_at_once_start_one_worker(real_config):
    before = workers()
    async with HotSwapEngine(real_config) as engine:
        infos = await asyncio.gather(*(engine.load_model(SMOL, role) for role in ROLES))
        assert len({i.pid for i in infos}) == 1 and len(workers() - before) == 1


async def test_each_role_resumes_its_own_prefix_after_another_role_spoke(real_config):
    a_first = ("You review TypeScript. List the risks of using `any` in a React props type, "
               "one per line, with an example for each.")
    b_first = "Write a haiku about garbage collection in JavaScript engines, then explain it."
    async with HotSwapEngine(real_config) as engine:
        await engine.load_model(SMOL, "a")
        await engine.load_model(SMOL, "b")
        ra = await engine.generate("a", chat(a_first))
        rb = await engine.generate("b", chat(b_first))
        # a's second turn extends its own first prompt: only the new part is evaluated, though
        # b's prompt replaced the live cache in between.
        ra2 = await engine.generate("a", chat(a_first, ra.text, "Now pick the worst one."))
        new_tokens = ra2.prompt_tokens - ra.prompt_tokens
        assert ra2.prompt_tokens_evaluated <= new_tokens + 2
        [info_a] = [i for i in engine.get_active_models() if i.role == "a"]
        [info_b] = [i for i in engine.get_active_models() if i.role == "b"]
        assert info_b.kv_state_bytes and info_b.kv_state_bytes > 0  # b's state was put aside
        rb2 = await engine.generate("b", chat(b_first, rb.text, "Shorter, please."))
        assert rb2.prompt_tokens_evaluated <= rb2.prompt_tokens - rb.prompt_tokens + 2
        assert info_a.shared_with == 2


async def test_a_first_prompt_reuses_the_shared_context_another_role_evaluated(real_config):
    task = "TASK:\n" + "\n".join(f"const value{i} = compute({i}); // step {i}" for i in range(40))
    async with HotSwapEngine(real_config) as engine:
        await engine.load_model(SMOL, "a")
        await engine.load_model(SMOL, "b")
        ra = await engine.generate("a", chat(task + "\n\nYou are the critic. Say one thing."))
        rb = await engine.generate("b", chat(task + "\n\nYou are the writer. Say one thing."))
        # b's prompt starts with the same task: only its own tail is evaluated.
        assert rb.prompt_tokens_evaluated < ra.prompt_tokens_evaluated / 3


async def test_unload_and_hot_swap_count_references(real_config):
    require_model(GEMMA)
    before = workers()
    async with HotSwapEngine(real_config) as engine:
        await engine.load_model(SMOL, "a")
        await engine.load_model(SMOL, "b")
        [pid] = {i.pid for i in engine.get_active_models()}
        await engine.hot_swap("a", GEMMA)
        assert len(workers() - before) == 2
        assert {i.role: i.shared_with for i in engine.get_active_models()} == {"a": 1, "b": 1}
        await engine.hot_swap("a", SMOL)  # back onto the running smollm2 worker
        assert {i.pid for i in engine.get_active_models()} == {pid}
        assert workers() - before == {pid}  # gemma's worker ended with its last role
        await engine.unload_model("b")
        assert psutil.pid_exists(pid) and (await engine.generate("a", chat("Hi"))).text != ""
        await engine.unload_model("a")  # the last role: the worker ends
        assert workers() - before == set()


async def test_a_crashed_shared_worker_fails_every_role_on_it_and_a_reload_starts_a_new_one(
        real_config):
    async with HotSwapEngine(real_config) as engine:
        await engine.load_model(SMOL, "a")
        await engine.load_model(SMOL, "b")
        [pid] = {i.pid for i in engine.get_active_models()}
        os.kill(pid, signal.SIGKILL)
        psutil.Process(pid).wait(timeout=10)
        with pytest.raises(WorkerCrashedError):
            await engine.generate("a", chat("Hi"))
        statuses = {i.role: i.status for i in engine.get_active_models()}
        assert statuses == {"a": ModelStatus.FAILED, "b": ModelStatus.FAILED}
        await engine.load_model(SMOL, "a")
        await engine.load_model(SMOL, "b")
        pids = {i.pid for i in engine.get_active_models()}
        assert len(pids) == 1 and pid not in pids


async def test_share_workers_off_gives_each_role_its_own_process(real_config):
    config = real_config.model_copy(update={"share_workers": False})
    async with HotSwapEngine(config) as engine:
        await engine.load_model(SMOL, "a")
        await engine.load_model(SMOL, "b")
        assert len({i.pid for i in engine.get_active_models()}) == 2


async def test_gpu_and_kv_settings_reach_llama(real_config):
    import llama_cpp

    config = EngineConfig(**{
        **real_config.model_dump(), "n_gpu_layers": 0, "flash_attn": True, "type_k": "q8_0",
        "type_v": "q8_0",
        "role_options": {"b": {"type_k": "q4_0", "type_v": "f16", "flash_attn": False}}})
    async with HotSwapEngine(config) as engine:
        await engine.load_model(SMOL, "a")
        await engine.load_model(SMOL, "b")
        applied = {role: engine._slot(role).backend.worker.applied for role in ("a", "b")}
        assert applied["a"]["type_k"] == applied["a"]["type_v"] == llama_cpp.GGML_TYPE_Q8_0
        assert applied["a"]["flash_attn"] is True and applied["a"]["n_gpu_layers"] == 0
        # b's overrides are other settings, so b gets a worker of its own.
        assert applied["b"]["type_k"] == llama_cpp.GGML_TYPE_Q4_0
        assert applied["b"]["type_v"] == llama_cpp.GGML_TYPE_F16
        assert applied["b"]["flash_attn"] is False
        assert len({i.pid for i in engine.get_active_models()}) == 2
        assert (await engine.generate("a", chat("Say hi."))).completion_tokens > 0


async def test_a_conversation_of_roles_on_one_model_evaluates_mostly_new_tokens(real_config):
    from logomesh_tui.conversation import MultiModelSession, ResourceLimits
    from logomesh_tui.sessions.events import TurnMetrics

    async with HotSwapEngine(real_config) as engine:
        for role in ROLES[:3]:
            await engine.load_model(SMOL, role)
        session = MultiModelSession(
            protocol="round-robin", engine=engine, store=False, summarize_with_model=False,
            limits=ResourceLimits(max_rounds=2, min_rounds=2, max_tokens=32, temperature=0.2,
                                  consensus_threshold=1.0))
        for role in ROLES[:3]:
            await session.add_model(role, engine.executor(role))
        await session.execute_collaborative_prompt(
            "Review: function useData(id) { const [d, setD] = useState(); useEffect(() => { "
            "fetch('/x/' + id).then(r => r.json()).then(setD); }); return d; }")
    metrics = [e for e in session.events if isinstance(e, TurnMetrics)]
    assert len(metrics) >= 6
    later = metrics[1:]
    # After the first turn, each role's prompt extends the one before it in the shared worker's
    # cache: what is evaluated is the new message and the role's own part, not the prompt.
    assert all((m.prompt_tokens_evaluated or 0) < m.prompt_tokens for m in later)
    assert (sum(m.prompt_tokens_evaluated or 0 for m in later)
            < 0.6 * sum(m.prompt_tokens for m in later))
