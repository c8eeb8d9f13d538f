"""Structured output to a real OpenAI-compatible server (llama-cpp-python's, on 127.0.0.1):
the exact response_format a remote role sends, recorded from the wire, and what the server does
with it."""

from __future__ import annotations

import json

import httpx
import pytest

from logomesh_tui import GenerationRequest, RemoteEndpoint
from logomesh_tui.pool.remote import RemoteBackend
from tests.pool.test_remote_real import llama_server  # noqa: F401 - the real server fixture

pytestmark = pytest.mark.real

SCHEMA = {
    "title": "turn reply",
    "type": "object",
    "properties": {"message_type": {"type": "string", "enum": ["analysis", "critique"]},
                   "confidence": {"type": "number"}},
    "required": ["message_type", "confidence"],
}


def recording_backend(url: str, monkeypatch) -> tuple[RemoteBackend, list]:
    """A RemoteBackend whose HTTP client records every request and response status as sent."""
    monkeypatch.setenv("LAB_API_KEY", "sekret-test-key")
    backend = RemoteBackend("remote:lab", RemoteEndpoint(
        name="lab", base_url=url, model="smollm2", api_key_env="LAB_API_KEY", n_ctx=1024,
        max_retries=0))
    seen: list[dict] = []

    async def on_request(request: httpx.Request) -> None:
        if request.url.path.endswith("/chat/completions"):
            seen.append({"body": json.loads(request.content)})

    async def on_response(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/chat/completions"):
            seen[-1]["status"] = response.status_code

    backend._client.event_hooks = {"request": [on_request], "response": [on_response]}
    return backend, seen


async def test_json_schema_form_first_then_what_the_server_takes(llama_server, monkeypatch):  # noqa: F811
    backend, seen = recording_backend(llama_server, monkeypatch)
    request = GenerationRequest(messages=[{"role": "user", "content": "Rate this code."}],
                                max_tokens=48, temperature=0, json_schema=SCHEMA)
    try:
        await backend.start()
        result = await backend.generate(request)
        # The request on the wire is the OpenAI json_schema form, exactly.
        assert seen[0]["body"]["response_format"] == {
            "type": "json_schema",
            "json_schema": {"name": "turn_reply", "schema": SCHEMA, "strict": True}}
        if seen[0]["status"] == 200:
            assert len(seen) == 1
        else:
            # llama-cpp-python's server predates json_schema (its request model allows only
            # "text" and "json_object"; it answers 500 naming response_format): the role falls
            # back to the older form once, gets schema-constrained output, and keeps that form.
            assert seen[0]["status"] >= 400 and len(seen) == 2
            assert seen[1]["body"]["response_format"] == {"type": "json_object", "schema": SCHEMA}
            assert seen[1]["status"] == 200
        reply = json.loads(result.text)
        assert reply["message_type"] in ("analysis", "critique")
        assert isinstance(reply["confidence"], int | float)

        before = len(seen)
        await backend.generate(request)
        assert len(seen) == before + 1  # the form is remembered: one request per turn
        assert seen[-1]["status"] == 200
    finally:
        await backend.close()
