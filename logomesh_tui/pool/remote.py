"""RemoteBackend: a role served by an OpenAI-compatible server (llama-server, vLLM, Ollama).

The API key is read from the environment variable the endpoint names, at request time, and is
sent only in the Authorization header: it is never stored on the object, logged or recorded.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time

import httpx

from ..config import RemoteEndpoint
from ..errors import GenerationCancelled, RemoteServerError
from .types import (
    GenerationRequest,
    GenerationResult,
    InProcessBackend,
    Timings,
    TokenCallback,
    TokenStream,
)

_RETRYABLE = (httpx.ConnectError, httpx.ReadTimeout, httpx.ConnectTimeout, httpx.RemoteProtocolError,
              httpx.ReadError, httpx.PoolTimeout)


def response_format(schema: dict, form: str = "json_schema") -> dict:
    """``response_format`` for a JSON schema. ``json_schema`` is the OpenAI form that
    llama-server, vLLM, Ollama and LM Studio accept (LM Studio refuses ``json_object`` with a
    schema, vLLM ignores the schema there); ``json_object`` with ``schema`` is the older form
    that llama-cpp-python's server still requires."""
    if form == "json_object":
        return {"type": "json_object", "schema": schema}
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title") or "reply"))[:64]
    return {"type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": True}}


class RemoteBackend(InProcessBackend):
    is_remote = True

    def __init__(self, model_id: str, endpoint: RemoteEndpoint) -> None:
        super().__init__(model_id, endpoint.n_ctx)
        self.endpoint = endpoint
        self.base = endpoint.base_url.rstrip("/")
        if not self.base.endswith("/v1"):
            self.base += "/v1"
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(endpoint.timeout_s, connect=5.0))
        # Which response_format form this server takes; learnt from its first refusal.
        self.schema_form = "json_schema"

    def _headers(self) -> dict[str, str]:
        env = self.endpoint.api_key_env
        key = os.environ.get(env) if env else None
        return {"Authorization": f"Bearer {key}"} if key else {}

    async def start(self) -> float:
        t0 = time.perf_counter()
        try:
            r = await self._client.get(f"{self.base}/models", headers=self._headers())
            r.raise_for_status()
            r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RemoteServerError(f"{self.endpoint.name}: server at {self.endpoint.base_url} is not "
                                    f"answering /v1/models ({type(exc).__name__}); is it running?") from exc
        self._alive = True
        self.load_s = time.perf_counter() - t0
        return self.load_s

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        t_queue = time.perf_counter()
        async with self._lock:
            queue_s = time.perf_counter() - t_queue
            self._cancel.clear()
            body: dict = {"model": self.endpoint.model, "messages": request.messages,
                          "max_tokens": request.max_tokens, "temperature": request.temperature,
                          "top_p": request.top_p, "stream": True,
                          "stream_options": {"include_usage": True}}
            if request.stop:
                body["stop"] = request.stop
            if request.seed is not None:
                body["seed"] = request.seed
            if request.json_schema is not None:
                body["response_format"] = response_format(request.json_schema, self.schema_form)
            why = ""
            for attempt in range(self.endpoint.max_retries + 1):
                try:
                    return await self._stream(body, on_token, queue_s)
                except _FormatRefused:
                    # An older server (llama-cpp-python's) that knows only json_object: use
                    # that form from now on; this does not count as a retry.
                    assert request.json_schema is not None
                    self.schema_form = "json_object"
                    body["response_format"] = response_format(request.json_schema, "json_object")
                    return await self._stream(body, on_token, queue_s)
                except _RemoteRetry as exc:
                    why = self._describe_retry(exc)
                    if attempt < self.endpoint.max_retries:
                        await asyncio.sleep(min(8.0, 0.25 * 2 ** attempt))
            self._alive = False
            raise RemoteServerError(f"{self.endpoint.name}: request failed after "
                                    f"{self.endpoint.max_retries + 1} tries: {why}")

    def _describe_retry(self, exc: _RemoteRetry) -> str:
        """What went wrong, in words: httpx timeouts have empty messages and a JSON decoder's
        message does not say it was the server's stream."""
        what, cause = str(exc), exc.__cause__
        if isinstance(cause, httpx.TimeoutException):
            return (f"{what}: no answer within {self.endpoint.timeout_s:g} s; check the server "
                    f"or raise timeout_s for {self.endpoint.name}")
        if isinstance(cause, json.JSONDecodeError):
            return f"{what}: the server sent data that is not JSON"
        if cause is not None and str(cause):
            return f"{what}: {cause}"
        return what

    async def _stream(self, body: dict, on_token: TokenCallback | None, queue_s: float) -> GenerationResult:
        stream = TokenStream(on_token)
        usage: dict = {}
        finish = "stop"
        try:
            async with self._client.stream("POST", f"{self.base}/chat/completions", json=body,
                                           headers=self._headers()) as resp:
                if resp.status_code >= 400:
                    answer = (await resp.aread()).decode("utf-8", "replace")
                    # A server that predates the json_schema form names response_format in its
                    # refusal: 400/422, or llama-cpp-python's 500 for a request validation error.
                    rf = body.get("response_format") or {}
                    if rf.get("type") == "json_schema" and "response_format" in answer:
                        raise _FormatRefused(answer[:200])
                    if resp.status_code >= 500 or resp.status_code == 429:
                        raise _RemoteRetry(f"HTTP {resp.status_code}")
                    raise RemoteServerError(f"{self.endpoint.name}: HTTP {resp.status_code}: "
                                            f"{answer[:200]}")
                async for line in resp.aiter_lines():
                    if self._cancel.is_set():
                        finish = "cancelled"
                        break
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        chunk = json.loads(data)
                    except json.JSONDecodeError as exc:
                        if stream.parts:  # tokens already shown: do not replay them on retry
                            raise RemoteServerError(f"{self.endpoint.name}: garbled stream") from exc
                        raise _RemoteRetry("garbled stream") from exc
                    if chunk.get("usage"):
                        usage = chunk["usage"]
                    for choice in chunk.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            await stream.add(text)
                        if choice.get("finish_reason"):
                            finish = choice["finish_reason"]
        except _RETRYABLE as exc:
            if stream.parts:
                raise RemoteServerError(f"{self.endpoint.name}: connection lost mid-reply ({type(exc).__name__})") from exc
            raise _RemoteRetry(type(exc).__name__) from exc
        if not stream.parts and finish != "cancelled" and not usage:
            raise _RemoteRetry("empty reply")
        if finish == "cancelled" and not stream.parts:
            raise GenerationCancelled(f"{self.model_id}: generation cancelled")
        total = stream.elapsed()
        ttft = stream.ttft
        self._alive = True
        completion = int(usage.get("completion_tokens") or len(stream.parts))
        return GenerationResult(
            text=stream.text, finish_reason=finish,
            prompt_tokens=int(usage.get("prompt_tokens") or 0), completion_tokens=completion,
            timings=Timings(queue_s=queue_s, prompt_eval_s=ttft or 0.0,
                            generation_s=max(total - (ttft or 0.0), 1e-9), total_s=total,
                            time_to_first_token_s=ttft),
            model_id=self.model_id)

    async def count_tokens(self, text: str) -> int:
        """The server's own tokenizer when it offers one (llama-server /tokenize, llama-cpp-python
        /extras/tokenize); otherwise an estimate of 1 token per 3.5 characters."""
        root = self.base[: -len("/v1")]
        for url, payload in ((f"{root}/extras/tokenize", {"input": text}),
                             (f"{root}/tokenize", {"content": text})):
            try:
                r = await self._client.post(url, json=payload, headers=self._headers())
                if r.status_code == 200:
                    toks = r.json().get("tokens")
                    if isinstance(toks, list):
                        return len(toks)
            except (httpx.HTTPError, ValueError):
                continue
        return int(len(text) / 3.5) + 1

    def rss_bytes(self) -> int | None:
        return None

    @property
    def death_reason(self) -> str | None:
        return None if self._alive else "closed"

    async def close(self) -> None:
        self._alive = False
        await self._client.aclose()


class _RemoteRetry(Exception):
    """A failure worth retrying: nothing was streamed to the caller yet."""


class _FormatRefused(Exception):
    """The server refused the ``json_schema`` response format (it predates it)."""
