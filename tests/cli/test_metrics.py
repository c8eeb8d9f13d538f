"""`--metrics-port`: Prometheus metrics per role, scraped over HTTP as Prometheus would."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from logomesh_tui.config import EngineConfig
from logomesh_tui.errors import RequestError, UsageError
from logomesh_tui.pool.engine import HotSwapEngine
from logomesh_tui.pool.fake import FakeBackend
from logomesh_tui.pool.metrics import serve_metrics, stop_metrics
from logomesh_tui.pool.types import GenerationRequest
from tests.conftest import require_model


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} from /metrics, fetched off the event loop (the
    exporter reads memory on the loop while it answers)."""
    r = await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def role(name: str, model: str, **extra: str) -> tuple:
    return tuple(sorted({"role": name, "model": model, **extra}.items()))


def responder(request: GenerationRequest, backend: FakeBackend) -> str:
    if "fail" in request.messages[-1]["content"]:
        raise RequestError("the model refused this request")
    return "memoise the rows"


async def test_metrics_per_role_over_http(tmp_path):
    port = free_port()
    config = EngineConfig(sessions_dir=tmp_path, metrics_port=port, memory_budget=10**9)

    def factory(model_id: str, cfg: EngineConfig) -> FakeBackend:
        return FakeBackend(model_id, responder=responder, rss=123_000_000,
                           fail_on_load="no such file" if model_id == "gemma-3-270m" else None)

    try:
        async with HotSwapEngine(config, backend_factory=factory) as engine:
            await engine.load_model("smollm2-135m", "primary-analyzer")
            for _ in range(2):
                await engine.generate("primary-analyzer", GenerationRequest(
                    messages=[{"role": "user", "content": "review it"}], max_tokens=8))
            with pytest.raises(RequestError):
                await engine.generate("primary-analyzer", GenerationRequest(
                    messages=[{"role": "user", "content": "fail now"}]))
            with pytest.raises(Exception):  # noqa: B017 - any load error; counted below
                await engine.load_model("gemma-3-270m", "architecture-critic")
            m = await scrape(port)
    finally:
        stop_metrics(port)
    pa = role("primary-analyzer", "smollm2-135m")
    assert m[("logomesh_turns_total", pa)] == 2
    assert m[("logomesh_completion_tokens_total", pa)] > 0
    assert m[("logomesh_time_to_first_token_seconds_count", pa)] == 2
    assert m[("logomesh_tokens_per_second", pa)] > 0
    assert m[("logomesh_failures_total", role("primary-analyzer", "smollm2-135m", kind="turn"))] == 1
    assert m[("logomesh_failures_total", role("architecture-critic", "gemma-3-270m", kind="load"))] == 1
    assert m[("logomesh_memory_bytes", pa)] == 123_000_000
    assert m[("logomesh_memory_budget_bytes", ())] == 10**9


@pytest.mark.real
async def test_metrics_of_a_real_model_show_kv_reuse(real_config):
    """Two turns sharing a prompt prefix on smollm2: the second reuses the KV cache."""
    require_model("smollm2-135m")
    port = free_port()
    real_config.metrics_port = port
    system = {"role": "system", "content": "You review React code. " * 20}
    try:
        async with HotSwapEngine(real_config) as engine:
            await engine.load_model("smollm2-135m", "primary-analyzer")
            for question in ("Name one hook.", "Name one other hook."):
                await engine.generate("primary-analyzer", GenerationRequest(
                    messages=[system, {"role": "user", "content": question}], max_tokens=8,
                    temperature=0))
            m = await scrape(port)
    finally:
        stop_metrics(port)
    pa = role("primary-analyzer", "smollm2-135m")
    assert m[("logomesh_turns_total", pa)] == 2
    assert m[("logomesh_prompt_tokens_reused_total", pa)] > 0
    assert 0 < m[("logomesh_kv_reuse_ratio", pa)] <= 1
    assert m[("logomesh_prompt_tokens_reused_total", pa)] < m[("logomesh_prompt_tokens_total", pa)]
    assert m[("logomesh_memory_bytes", pa)] > 50_000_000  # a real worker's RSS


async def test_a_taken_port_is_one_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        engine = HotSwapEngine(EngineConfig(sessions_dir=tmp_path))
        with pytest.raises(UsageError, match=f"--metrics-port {port}: cannot listen"):
            serve_metrics(engine, port)
        await engine.close()
