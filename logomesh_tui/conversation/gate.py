"""GatedExecutor: how front ends pause a conversation without stopping turns in flight."""

from __future__ import annotations

import asyncio

from ..pool.types import GenerationRequest, GenerationResult, TokenCallback
from .context import TurnExecutor
from .executors import ExecutorWrapper


class GatedExecutor(ExecutorWrapper):
    """A role's executor that waits at ``gate`` before each turn; clearing the gate pauses the
    conversation at its next turn, setting it resumes. Everything else goes to ``inner``."""

    def __init__(self, inner: TurnExecutor, gate: asyncio.Event) -> None:
        super().__init__(inner)
        self._gate = gate

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        await self._gate.wait()
        return await self.inner.generate(request, on_token)
