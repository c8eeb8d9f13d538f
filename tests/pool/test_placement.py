"""Where a model runs and for how long: the RAM / GPU memory split of the estimate and the
budgets, per-role options, and idle unload (ttl). Scripted backends, except the estimate, which
reads a real GGUF header."""

from __future__ import annotations

import asyncio

import pytest

from logomesh_tui import EngineConfig, GenerationRequest, HotSwapEngine, ModelStatus
from logomesh_tui.catalog import Catalog
from logomesh_tui.catalog.gguf_meta import MemoryEstimate
from logomesh_tui.errors import MemoryBudgetError
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.tui.widgets.registry import RoleRow
from tests.conftest import require_model

MB = 1_000_000


class SplitFactory:
    """FakeBackends whose estimates have a RAM and a device part, given per model."""

    def __init__(self, sizes: dict[str, tuple[int, int]]) -> None:
        self.sizes = sizes
        self.configs: list[EngineConfig] = []

    def estimate(self, model_id: str, config: EngineConfig) -> MemoryEstimate:
        self.configs.append(config)
        ram, device = self.sizes[model_id]
        return MemoryEstimate(ram=ram, device=device)

    def __call__(self, model_id: str, config: EngineConfig) -> FakeBackend:
        return FakeBackend(model_id, rss=self.sizes[model_id][0])


def ask() -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": "hi"}], max_tokens=4)


@pytest.mark.real
def test_estimate_moves_offloaded_layers_from_ram_to_the_device():
    require_model("smollm2-135m")
    catalog = Catalog.from_config(EngineConfig())
    info = catalog.info("smollm2-135m")
    cpu = catalog.estimate("smollm2-135m", 2048, 0)
    half = catalog.estimate("smollm2-135m", 2048, info.n_layer // 2)
    full = catalog.estimate("smollm2-135m", 2048, -1)
    assert cpu.device == 0 and cpu.ram == catalog.estimate_bytes("smollm2-135m", 2048)
    assert 0 < half.device < full.device and cpu.ram > half.ram > full.ram
    # All layers offloaded: every layer's weights and the whole KV cache are on the device.
    assert full.device >= info.layer_bytes + info.kv_cache_bytes(2048)
    assert full.ram < cpu.ram - info.layer_bytes
    # A quantized KV cache shrinks the estimate by what the cache saves.
    q8 = catalog.estimate("smollm2-135m", 2048, 0, type_k="q8_0", type_v="q8_0")
    assert cpu.ram - q8.ram == info.kv_cache_bytes(2048) - info.kv_cache_bytes(
        2048, "q8_0", "q8_0") > 0


def test_role_options_override_the_engine_settings_for_that_role_only():
    config = EngineConfig(flash_attn=False, n_gpu_layers=10, role_options={
        "critic": {"flash_attn": True, "type_k": "q8_0", "ttl_s": 30}})
    critic = config.for_role("critic")
    assert critic.flash_attn is True and critic.type_k == "q8_0" and critic.ttl_s == 30
    assert critic.n_gpu_layers == 10  # not overridden: the engine's value
    assert config.for_role("writer") is config


async def test_the_device_budget_is_checked_apart_from_ram():
    factory = SplitFactory({"gpu-a": (100 * MB, 600 * MB), "gpu-b": (100 * MB, 600 * MB),
                            "cpu-c": (100 * MB, 0)})
    config = EngineConfig(memory_budget=10_000 * MB, device_memory_budget=1000 * MB)
    async with HotSwapEngine(config, backend_factory=factory) as engine:
        await engine.load_model("gpu-a", "a", pinned=True)
        await engine.load_model("cpu-c", "c")  # no device memory: fits beside a
        with pytest.raises(MemoryBudgetError, match="GPU memory"):
            await engine.load_model("gpu-b", "b")  # RAM is plenty; the device is not
        usage = engine.get_memory_usage()
        assert usage.device_per_role["a"] == 600 * MB and usage.device_total == 600 * MB
        assert usage.per_role["a"] == 100 * MB  # RAM stays its own column
        engine.pin("a", False)
        await engine.load_model("gpu-b", "b")  # evicts a (the only role on the device)
        states = {i.role: i.status for i in engine.get_active_models()}
        assert states["a"] == ModelStatus.UNLOADED and states["c"] == ModelStatus.READY
        row = RoleRow.from_info(next(i for i in engine.get_active_models() if i.role == "b"))
        assert row.device_bytes == 600 * MB and row.rss_bytes == 100 * MB
        # The estimate was asked with each role's own settings.
        assert len(factory.configs) >= 4


async def test_an_idle_role_unloads_after_its_ttl_and_reloads_on_its_next_turn():
    factory = SplitFactory({"m": (10 * MB, 0)})
    config = EngineConfig(memory_budget=1000 * MB, role_options={"sleepy": {"ttl_s": 0.2}})
    events = []
    async with HotSwapEngine(config, backend_factory=factory) as engine:
        engine.add_listener(events.append)
        await engine.load_model("m", "sleepy")
        await engine.load_model("m", "awake")
        [info] = [i for i in engine.get_active_models() if i.role == "sleepy"]
        assert info.ttl_s == 0.2 and info.unload_in_s is not None and info.unload_in_s <= 0.2
        assert RoleRow.from_info(info).unload_in_s == info.unload_in_s
        for _ in range(200):  # the reaper runs every ttl/4; wait for it, however slow
            if any(e.kind == "evicted" and e.role == "sleepy" for e in events):
                break
            await asyncio.sleep(0.05)
        infos = {i.role: i for i in engine.get_active_models()}
        assert infos["sleepy"].status == ModelStatus.UNLOADED and infos["sleepy"].idle_unloaded
        assert infos["sleepy"].rss_bytes == 0
        assert RoleRow.from_info(infos["sleepy"]).status == "idle off"
        assert infos["awake"].status == ModelStatus.READY and infos["awake"].ttl_s is None
        evicted = [e for e in events if e.kind == "evicted"]
        assert [e.role for e in evicted] == ["sleepy"] and "ttl" in evicted[0].detail
        reply = await engine.generate("sleepy", ask())  # comes back by itself
        assert reply.model_id == "m"
        assert {i.role: i.status for i in engine.get_active_models()}["sleepy"] in (
            ModelStatus.READY, ModelStatus.UNLOADED)  # may already be idle again


async def test_a_pinned_or_busy_role_is_not_unloaded_by_its_ttl():
    factory = SplitFactory({"m": (10 * MB, 0)})
    async with HotSwapEngine(EngineConfig(memory_budget=1000 * MB),
                             backend_factory=factory) as engine:
        await engine.load_model("m", "pinned", pinned=True, ttl_s=0.1)
        await engine.load_model("m", "other", ttl_s=60)
        await asyncio.sleep(0.5)
        infos = {i.role: i for i in engine.get_active_models()}
        assert infos["pinned"].status == ModelStatus.READY and infos["pinned"].unload_in_s is None
        assert infos["other"].status == ModelStatus.READY and infos["other"].unload_in_s > 1
