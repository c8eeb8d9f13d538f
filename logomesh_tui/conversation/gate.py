"""GatedExecutor: how front ends pause a conversation without stopping turns in flight."""

from __future__ import annotations

import asyncio
from typing import Any

from ..pool.types import GenerationRequest, GenerationResult, TokenCallback


class GatedExecutor:
    """A role's executor that waits at ``gate`` before each turn; clearing the gate pauses the
    conversation at its next turn, setting it resumes. Delegates everything else to ``inner``
    (normally the engine's RoleExecutor, which follows hot-swaps)."""

    def __init__(self, inner: Any, gate: asyncio.Event) -> None:
        self._inner = inner
        self._gate = gate

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def n_ctx(self) -> int:
        return self._inner.n_ctx

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        await self._gate.wait()
        return await self._inner.generate(request, on_token)

    async def count_tokens(self, text: str) -> int:
        return await self._inner.count_tokens(text)

    async def cancel(self) -> None:
        await self._inner.cancel()
