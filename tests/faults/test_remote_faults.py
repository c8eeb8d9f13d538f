"""A remote OpenAI-compatible server that is slow, goes down mid-conversation, or streams
garbage: each turn on it ends in one clear error after retries with backoff, and the other roles
of the same conversation are unaffected.

The server is a small asyncio HTTP server on 127.0.0.1 whose behaviour the test switches; the
other role is a scripted fake, so these tests are quick. (A real llama_cpp.server is exercised in
tests/pool/test_remote_real.py.)
"""

from __future__ import annotations

import asyncio
import json
import time

from logomesh_tui.catalog import Catalog
from logomesh_tui.config import EngineConfig, RemoteEndpoint
from logomesh_tui.conversation import MultiModelSession, ResourceLimits
from logomesh_tui.errors import RemoteServerError
from logomesh_tui.pool.engine import DefaultBackendFactory, HotSwapEngine
from logomesh_tui.pool.types import GenerationRequest, ModelStatus
from tests.faults.helpers import FakeFactory


class FlakyServer:
    """``mode``: ok | slow | garbage | http500. Counts chat requests and their arrival times.

    A slow server answers nothing until it is stopped, so only the client's own timeouts can end
    a request to it, however busy the machine is.
    """

    def __init__(self) -> None:
        self.mode = "ok"
        self.hits: list[float] = []
        self.server: asyncio.AbstractServer | None = None
        self.stopping = asyncio.Event()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        self.stopping.set()
        if self.server:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader, writer) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            body = await reader.readexactly(length) if length else b""
            if b"/v1/models" in head.split(b"\r\n")[0]:
                await self._send(writer, 200, b'{"object":"list","data":[{"id":"x"}]}',
                                 "application/json")
                return
            if b"/chat/completions" not in head.split(b"\r\n")[0]:
                # No tokenize endpoint: the backend falls back to estimating token counts.
                await self._send(writer, 404, b'{"detail":"Not Found"}', "application/json")
                return
            self.hits.append(time.monotonic())
            if self.mode == "slow":
                await self.stopping.wait()
            if self.mode == "http500":
                await self._send(writer, 500, b'{"error":"overloaded"}', "application/json")
                return
            if self.mode == "garbage":
                await self._send(writer, 200, b"data: {not json at all\n\n", "text/event-stream")
                return
            await self._send(writer, 200, self._reply(json.loads(body)), "text/event-stream")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _reply(request: dict) -> bytes:
        schema = (request.get("response_format") or {}).get("schema") or {}
        props = schema.get("properties", {})
        content = json.dumps({
            "message_type": (props.get("message_type", {}).get("enum") or ["analysis"])[0],
            "content": "remote says: memoise the filtered rows", "references": [],
            "confidence": 0.7, **({"vote": props["vote"]["enum"][0]} if "vote" in props else {})})
        chunks = [{"choices": [{"delta": {"content": content}, "finish_reason": None}]},
                  {"choices": [{"delta": {}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 50, "completion_tokens": 20}}]
        return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + \
            b"data: [DONE]\n\n"

    @staticmethod
    async def _send(writer, status: int, body: bytes, ctype: str) -> None:
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: "
                     f"{len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()


class Mixed:
    """Remote roles through the real factory; everything else a scripted fake."""

    def __init__(self, config: EngineConfig) -> None:
        self.real = DefaultBackendFactory(config, Catalog.from_config(config))
        self.fake = FakeFactory()

    def estimate(self, model_id: str) -> int:
        return 0

    def __call__(self, model_id: str, config: EngineConfig):
        return (self.real if model_id.startswith("remote:") else self.fake)(model_id, config)


def config_for(url: str, tmp_path, **kw) -> EngineConfig:
    return EngineConfig(sessions_dir=tmp_path / "sessions", n_ctx=1024, n_threads=1, remotes=[
        RemoteEndpoint(name="lab", base_url=url, model="x", n_ctx=1024, **kw)])


async def run_session(engine: HotSwapEngine, config: EngineConfig, rounds: int = 2,
                      on_round=None):
    session = MultiModelSession(engine=engine, config=config, protocol="round-robin",
                                store=False, limits=ResourceLimits(
                                    max_rounds=rounds, min_rounds=rounds, max_tokens=64))
    for role in ("local", "remote"):
        await session.add_model(role, engine.executor(role))
    if on_round:
        session.add_listener(on_round)
    return await session.execute_collaborative_prompt("Review the component.")


async def test_slow_server_times_out_with_retries_and_the_local_role_goes_on(tmp_path):
    server = FlakyServer()
    url = await server.start()
    server.mode = "slow"
    config = config_for(url, tmp_path, timeout_s=0.5, max_retries=2)
    try:
        async with HotSwapEngine(config, backend_factory=Mixed(config)) as engine:
            await engine.load_model("fake-local", "local")
            await engine.load_model("remote:lab", "remote")
            # A generous bound (the run takes about 5 s) that turns a hang into a clear failure.
            response = await asyncio.wait_for(run_session(engine, config), 120)
    finally:
        await server.stop()
    remote_fails = [f for f in response.failures if f["role"] == "remote"]
    assert [f["round"] for f in remote_fails] == [1, 2]
    for f in remote_fails:
        assert "RemoteServerError" in f["reason"] and "after 3 tries" in f["reason"]
        assert "ReadTimeout: no answer within 0.5 s" in f["reason"] and "\n" not in f["reason"]
    # 3 tries per turn, waiting 0.25 s then 0.5 s between them (backoff).
    assert len(server.hits) == 6
    gaps = [b - a for a, b in zip(server.hits[:3], server.hits[1:3], strict=False)]
    # Lower bounds only (a busy machine makes waits longer, never shorter): the 0.5 s timeout
    # plus a 0.25 s backoff, then the timeout plus a doubled 0.5 s backoff.
    assert gaps[0] >= 0.7 and gaps[1] >= 0.95, gaps
    assert [m.round for m in response.messages if m.from_role == "local"] == [1, 2]
    assert response.final_answer


async def test_server_down_mid_conversation_then_back(tmp_path):
    """The server answers round 1, is gone in round 2 (connection refused), and the role can
    be used again once it is back: the role is not poisoned by the outage."""
    server = FlakyServer()
    url = await server.start()
    port = int(url.rsplit(":", 1)[1])
    config = config_for(url, tmp_path, timeout_s=2, max_retries=1)
    events = []

    def stop_after_round_one(event) -> None:
        if event.kind == "consensus" and event.round == 1:
            events.append(asyncio.ensure_future(server.stop()))

    async with HotSwapEngine(config, backend_factory=Mixed(config)) as engine:
        await engine.load_model("fake-local", "local")
        await engine.load_model("remote:lab", "remote")
        response = await run_session(engine, config, on_round=stop_after_round_one)
        await asyncio.gather(*events)
        remote_msgs = [m.round for m in response.messages if m.from_role == "remote"]
        assert remote_msgs == [1]
        [fail] = [f for f in response.failures if f["role"] == "remote"]
        assert fail["round"] == 2 and "ConnectError" in fail["reason"]
        assert [m.round for m in response.messages if m.from_role == "local"] == [1, 2]
        # Remote outages do not mark the role failed: the next request simply tries again.
        status = {m.role: m.status for m in engine.get_active_models()}
        assert status["remote"] != ModelStatus.FAILED
        back = await asyncio.start_server(server._handle, "127.0.0.1", port)
        try:
            server.mode = "ok"
            result = await engine.generate("remote", GenerationRequest(
                messages=[{"role": "user", "content": "hi"}], max_tokens=8))
            assert "remote says" in result.text
        finally:
            back.close()
            await back.wait_closed()


async def test_garbage_and_server_errors_in_a_conversation(tmp_path):
    server = FlakyServer()
    url = await server.start()
    config = config_for(url, tmp_path, timeout_s=2, max_retries=1)
    try:
        async with HotSwapEngine(config, backend_factory=Mixed(config)) as engine:
            await engine.load_model("fake-local", "local")
            await engine.load_model("remote:lab", "remote")
            modes = iter(["garbage", "http500"])
            server.mode = next(modes)

            def switch(event) -> None:
                if event.kind == "failure" and event.role == "remote":
                    server.mode = next(modes, server.mode)

            response = await run_session(engine, config, on_round=switch)
            reasons = [f["reason"] for f in response.failures if f["role"] == "remote"]
            assert len(reasons) == 2
            assert "garbled stream" in reasons[0] and "HTTP 500" in reasons[1]
            assert all("after 2 tries" in r for r in reasons)
            assert len(server.hits) == 4
            assert [m.round for m in response.messages if m.from_role == "local"] == [1, 2]
            with __import__("pytest").raises(RemoteServerError, match="HTTP 500"):
                await engine.generate("remote", GenerationRequest(
                    messages=[{"role": "user", "content": "hi"}], max_tokens=8))
    finally:
        await server.stop()
