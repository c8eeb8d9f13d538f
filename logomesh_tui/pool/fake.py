"""A scripted in-process backend for fast tests of orchestration logic and the UI.

It is not a model: it replies with what a script tells it. Tests of the pool itself use real
GGUF models in real worker processes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence

from .types import (
    GenerationRequest,
    GenerationResult,
    InProcessBackend,
    Timings,
    TokenCallback,
    TokenStream,
)

Responder = Callable[[GenerationRequest, "FakeBackend"], str]


def default_responder(request: GenerationRequest, backend: FakeBackend) -> str:
    """A schema-valid structured message when a schema is asked for, else plain text."""
    if request.json_schema is not None:
        return json.dumps({
            "message_type": "analysis",
            "content": f"{backend.model_id} reply #{backend.calls}",
            "references": [],
            "confidence": 0.6,
        })
    return f"{backend.model_id} reply #{backend.calls}"


class FakeBackend(InProcessBackend):
    is_remote = False

    def __init__(self, model_id: str, *, n_ctx: int = 2048,
                 responder: Responder | Sequence[str] | None = None,
                 token_delay_s: float = 0.0, load_delay_s: float = 0.0,
                 rss: int = 100_000_000, fail_on_load: str | None = None) -> None:
        super().__init__(model_id, n_ctx)
        self.calls = 0
        self.requests: list[GenerationRequest] = []
        self._script = list(responder) if isinstance(responder, (list, tuple)) else None
        self._responder = responder if callable(responder) else default_responder
        self.token_delay_s = token_delay_s
        self.load_delay_s = load_delay_s
        self._rss = rss
        self._fail_on_load = fail_on_load
        self.death_reason: str | None = None

    async def start(self) -> float:
        from ..errors import ModelFileError

        t = time.perf_counter()
        await asyncio.sleep(self.load_delay_s)
        if self._fail_on_load:
            raise ModelFileError(self._fail_on_load)
        self._alive = True
        self.death_reason = None
        self.load_s = time.perf_counter() - t
        return self.load_s

    def _reply(self, request: GenerationRequest) -> str:
        if self._script is not None:
            return self._script[(self.calls - 1) % len(self._script)] if self._script else ""
        return self._responder(request, self)

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        async with self._lock:
            self.calls += 1
            self.requests.append(request)
            self._cancel.clear()
            stream = TokenStream(on_token)
            text = self._reply(request)
            pieces = [p + " " for p in text.split(" ")] if text else []
            if pieces:
                pieces[-1] = pieces[-1][:-1]
            finish = "stop"
            for i, piece in enumerate(pieces):
                if i >= request.max_tokens:
                    finish = "length"
                    break
                if self._cancel.is_set():
                    finish = "cancelled"
                    break
                if self.token_delay_s:
                    await asyncio.sleep(self.token_delay_s)
                await stream.add(piece)
            total = stream.elapsed()
            prompt_tokens = sum([await self.count_tokens(m["content"]) for m in request.messages])
            return GenerationResult(
                text=stream.text, finish_reason=finish, prompt_tokens=prompt_tokens,
                completion_tokens=len(stream.parts), prompt_tokens_evaluated=prompt_tokens,
                timings=Timings(generation_s=total, total_s=total,
                                time_to_first_token_s=stream.ttft),
                mean_token_prob=0.5, model_id=self.model_id)

    async def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def rss_bytes(self) -> int | None:
        return self._rss if self._alive else 0

    def crash(self, reason: str = "worker killed by SIGKILL") -> None:
        """Die between turns as a worker process can: the engine hears it through ``on_exit``."""
        self._alive = False
        self.death_reason = reason
        if self.on_exit is not None:
            self.on_exit(reason)

    async def close(self) -> None:
        self._alive = False
        self.death_reason = self.death_reason or "unloaded"
