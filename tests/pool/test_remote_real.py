"""A role served by a real OpenAI-compatible server: llama-cpp-python's server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import httpx
import pytest

from logomesh_tui import EngineConfig, GenerationRequest, HotSwapEngine, RemoteEndpoint
from logomesh_tui.errors import RemoteServerError
from tests.conftest import require_model

pytestmark = pytest.mark.real


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server():
    path = require_model("smollm2-135m")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "1024", "--n_threads", "1", "--api_key", "sekret-test-key"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer sekret-test-key"},
                         timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not start within 60 s")
    yield url
    proc.terminate()
    proc.wait(10)


def config_for(url: str, tmp_path, **kw) -> EngineConfig:
    return EngineConfig(sessions_dir=tmp_path, n_ctx=1024, n_threads=1, remotes=[
        RemoteEndpoint(name="lab", base_url=url, model="smollm2", api_key_env="LAB_API_KEY",
                       n_ctx=1024, **kw)])


async def test_remote_role_streams_with_metrics_and_key_from_env(llama_server, tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_API_KEY", "sekret-test-key")
    require_model("smollm2-135m")
    async with HotSwapEngine(config_for(llama_server, tmp_path)) as engine:
        info = await engine.load_model("remote:lab", "architecture-critic")
        assert info.remote and info.rss_bytes is None
        await engine.load_model("smollm2-135m", "primary-analyzer")
        tokens = []
        res = await engine.generate("architecture-critic", GenerationRequest(
            messages=[{"role": "user", "content": "Say hi"}], max_tokens=12, temperature=0), tokens.append)
        assert res.text and "".join(tokens) == res.text and res.tokens_per_s > 0
        assert res.completion_tokens > 0
        [critic] = [m for m in engine.get_active_models() if m.role == "architecture-critic"]
        assert critic.last_response_s and critic.tokens_per_s
        assert await engine.count_tokens("architecture-critic", "hello world") >= 2
        # the same API hot-swaps a remote role to a local model
        await engine.hot_swap("architecture-critic", "smollm2-135m")
        dump = json.dumps([m.model_dump(mode="json") for m in engine.get_active_models()])
        assert "sekret-test-key" not in dump and "sekret-test-key" not in engine.config.model_dump_json()


async def test_wrong_key_is_a_clear_error(llama_server, tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_API_KEY", "wrong")
    async with HotSwapEngine(config_for(llama_server, tmp_path)) as engine:
        with pytest.raises(RemoteServerError, match="not answering"):
            await engine.load_model("remote:lab", "critic")


async def test_server_down_retries_then_fails_without_hurting_other_roles(tmp_path):
    port = free_port()  # nothing listens here
    cfg = config_for(f"http://127.0.0.1:{port}", tmp_path, max_retries=2, timeout_s=2)
    require_model("smollm2-135m")
    async with HotSwapEngine(cfg) as engine:
        await engine.load_model("smollm2-135m", "local")
        t0 = time.perf_counter()
        with pytest.raises(RemoteServerError, match="is it running"):
            await engine.load_model("remote:lab", "critic")
        assert time.perf_counter() - t0 < 10
        res = await engine.generate("local", GenerationRequest(
            messages=[{"role": "user", "content": "Hi"}], max_tokens=4))
        assert res.text


async def test_garbage_stream_is_retried_with_backoff_then_reported(tmp_path):
    """A server that answers /v1/models but streams garbage: retries, then one clear error."""
    hits = {"n": 0}

    async def handle(reader, writer):
        data = await reader.read(65536)
        if b"/v1/models" in data:
            body = b'{"data":[{"id":"x"}]}'
        else:
            hits["n"] += 1
            body = b"data: {not json\n\n"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cfg = config_for(f"http://127.0.0.1:{port}", tmp_path, max_retries=2, timeout_s=5)
    async with server, HotSwapEngine(cfg) as engine:
        await engine.load_model("remote:lab", "critic")
        with pytest.raises(RemoteServerError, match="after 3 tries"):
            await engine.generate("critic", GenerationRequest(
                messages=[{"role": "user", "content": "Hi"}], max_tokens=4))
        assert hits["n"] == 3
