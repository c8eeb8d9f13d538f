"""The pool's bookkeeping with scripted backends: budget, eviction, pins, single-flight, swaps."""

from __future__ import annotations

import asyncio

import pytest

from logomesh_tui import EngineConfig, GenerationRequest, HotSwapEngine, ModelStatus
from logomesh_tui.errors import MemoryBudgetError, UnknownModelError, UnknownRoleError
from logomesh_tui.pool.fake import FakeBackend

MB = 1_000_000


class Factory:
    """Builds FakeBackends; sizes stand in for GGUF estimates."""

    def __init__(self, sizes: dict[str, int], load_delay_s: float = 0.0, **kw) -> None:
        self.sizes = sizes
        self.created: list[str] = []
        self.made: list[FakeBackend] = []
        self.load_delay_s = load_delay_s
        self.kw = kw

    def estimate(self, model_id: str) -> int:
        if model_id not in self.sizes:
            raise UnknownModelError(f"unknown model {model_id!r}")
        return self.sizes[model_id]

    def __call__(self, model_id: str, config: EngineConfig) -> FakeBackend:
        self.created.append(model_id)
        backend = FakeBackend(model_id, rss=self.sizes[model_id], load_delay_s=self.load_delay_s,
                              **self.kw)
        self.made.append(backend)
        return backend


def engine_with(sizes, budget, **kw) -> tuple[HotSwapEngine, Factory]:
    factory = Factory(sizes, **kw)
    return HotSwapEngine(EngineConfig(memory_budget=budget), backend_factory=factory), factory


def req(text="hi") -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": text}], max_tokens=8)


async def test_load_generate_unload_reports_status_and_metrics():
    engine, _ = engine_with({"a": 100 * MB}, 1000 * MB)
    info = await engine.load_model("a", "primary-analyzer")
    assert info.status == ModelStatus.READY and info.model_id == "a"
    res = await engine.generate("primary-analyzer", req())
    assert res.text.startswith("a reply")
    [m] = engine.get_active_models()
    assert m.last_response_s is not None and m.tokens_per_s is not None
    assert engine.get_memory_usage().total == 100 * MB
    await engine.unload_model("primary-analyzer")
    assert engine.get_active_models() == []
    assert engine.get_memory_usage().total == 0


async def test_lru_idle_unpinned_model_is_evicted_to_fit():
    engine, _ = engine_with({"a": 400 * MB, "b": 400 * MB, "c": 400 * MB}, 1000 * MB)
    await engine.load_model("a", "r1")
    await engine.load_model("b", "r2")
    await engine.generate("r1", req())  # r1 used more recently than r2
    events = []
    engine.add_listener(events.append)
    await engine.load_model("c", "r3")
    statuses = {m.role: m.status for m in engine.get_active_models()}
    assert statuses == {"r1": ModelStatus.READY, "r2": ModelStatus.UNLOADED, "r3": ModelStatus.READY}
    assert any(e.kind == "evicted" and e.role == "r2" for e in events)
    # an evicted role comes back on its next turn
    await engine.unload_model("r3")
    res = await engine.generate("r2", req())
    assert res.model_id == "b"


async def test_pinned_models_are_not_evicted_and_error_names_holders():
    engine, _ = engine_with({"a": 600 * MB, "b": 600 * MB}, 1000 * MB)
    await engine.load_model("a", "critic", pinned=True)
    with pytest.raises(MemoryBudgetError) as exc:
        await engine.load_model("b", "writer")
    assert "critic" in str(exc.value) and "pinned" in str(exc.value)
    # the pool keeps serving
    assert (await engine.generate("critic", req())).model_id == "a"


async def test_model_larger_than_budget_is_refused():
    engine, _ = engine_with({"huge": 5000 * MB}, 1000 * MB)
    with pytest.raises(MemoryBudgetError, match="whole memory budget"):
        await engine.load_model("huge", "r")


async def test_single_flight_loads_once():
    engine, factory = engine_with({"a": 10 * MB}, 1000 * MB, load_delay_s=0.05)
    infos = await asyncio.gather(*(engine.load_model("a", "r") for _ in range(5)))
    assert factory.created == ["a"]
    assert {i.status for i in infos} == {ModelStatus.READY}


async def test_hot_swap_waits_for_turn_in_flight_and_next_turn_uses_new_model():
    engine, _ = engine_with({"a": 10 * MB, "b": 10 * MB}, 1000 * MB, token_delay_s=0.01)
    await engine.load_model("a", "writer")
    ex = engine.executor("writer")
    turn = asyncio.create_task(ex.generate(req()))
    await asyncio.sleep(0.005)
    swap = await engine.hot_swap("writer", "b")
    first = await turn
    assert first.model_id == "a"  # the turn in flight finished on the old model
    assert swap.old_model_id == "a" and swap.new_model_id == "b" and swap.seconds >= 0
    assert swap.side_by_side  # both fit the budget: the old model served until the switch
    assert ex.model_id == "b"
    assert (await ex.generate(req())).model_id == "b"


async def test_hot_swap_unloads_first_when_both_do_not_fit():
    engine, factory = engine_with({"a": 700 * MB, "b": 700 * MB}, 1000 * MB)
    await engine.load_model("a", "writer")
    report = await engine.hot_swap("writer", "b")
    assert not report.side_by_side and report.describe().startswith("swapped writer: a -> b")
    [m] = engine.get_active_models()
    assert m.model_id == "b" and m.status == ModelStatus.READY


async def test_a_backend_that_dies_between_turns_marks_its_role_failed_with_the_reason():
    engine, factory = engine_with({"a": 10 * MB}, 1000 * MB)
    events = []
    engine.add_listener(events.append)
    await engine.load_model("a", "writer")
    [backend] = [b for b in factory.made if b.alive()]
    backend.crash("worker killed by SIGSEGV")
    [m] = engine.get_active_models()
    assert m.status == ModelStatus.FAILED and m.error == "worker killed by SIGSEGV"
    assert [e.detail for e in events if e.kind == "failed"] == ["worker killed by SIGSEGV"]


async def test_unknown_role_and_model_errors_are_one_line():
    engine, _ = engine_with({"a": 10 * MB}, 1000 * MB)
    with pytest.raises(UnknownRoleError) as e1:
        await engine.generate("nobody", req())
    with pytest.raises(UnknownModelError):
        await engine.load_model("nope", "r")
    assert "\n" not in str(e1.value)
    assert engine.get_active_models() == []


async def test_close_unloads_everything():
    engine, _ = engine_with({"a": 10 * MB, "b": 10 * MB}, 1000 * MB)
    async with engine:
        await engine.load_model("a", "r1")
        await engine.load_model("b", "r2")
    assert engine.get_active_models() == []
