"""One model-call step, as the code pipeline, the evidence engine and the quality bench make it.

``HotSwapEngine.executor(role)`` and ``FakeBackend`` both satisfy :class:`TurnExecutor`; nothing
here knows which. :func:`ask` fits a request into the executor's window and accounts its tokens.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import LogoMeshError
from ..pool.types import GenerationRequest, GenerationResult, TokenCallback
from .context import TurnExecutor
from .roles import SEED_ROLES

ROLE_ORDER = list(SEED_ROLES)
# Fixed overhead a chat template adds around messages, kept free when fitting a prompt.
TEMPLATE_SLACK_TOKENS = 48


class ExecutorWrapper:
    """A :class:`TurnExecutor` that hands everything to ``inner`` (normally the engine's
    RoleExecutor, which follows hot-swaps); a wrapper overrides what it changes, mostly
    ``generate``."""

    def __init__(self, inner: TurnExecutor) -> None:
        self.inner = inner

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def n_ctx(self) -> int:
        return self.inner.n_ctx

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        return await self.inner.generate(request, on_token)

    async def count_tokens(self, text: str) -> int:
        return await self.inner.count_tokens(text)

    async def cancel(self) -> None:
        await self.inner.cancel()


@dataclass
class TokenLedger:
    """Tokens and calls spent, in total and per role."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    seconds: float = 0.0
    per_role: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, role: str, result: GenerationResult, seconds: float) -> None:
        self.prompt_tokens += result.prompt_tokens
        self.completion_tokens += result.completion_tokens
        self.calls += 1
        self.seconds += seconds
        r = self.per_role.setdefault(role, {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0})
        r["prompt_tokens"] += result.prompt_tokens
        r["completion_tokens"] += result.completion_tokens
        r["calls"] += 1

    def as_dict(self) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens, "calls": self.calls,
                "model_seconds": round(self.seconds, 3), "per_role": self.per_role}


class StepFailed(Exception):
    """One model call could not be made or did not finish; the step is skipped, the run goes on."""


class WindowTooSmall(StepFailed):
    """The prompt leaves no room for a useful reply in this executor's window."""


async def prompt_tokens(executor: TurnExecutor, messages: list[dict[str, str]]) -> int:
    total = 0
    for m in messages:
        total += await executor.count_tokens(m["content"]) + 4
    return total + TEMPLATE_SLACK_TOKENS


async def ask(executor: TurnExecutor, role: str, messages: list[dict[str, str]], *,
              max_tokens: int, ledger: TokenLedger, min_reply_tokens: int = 32,
              temperature: float = 0.2, json_schema: dict | None = None,
              seed: int | None = 7, on_token: TokenCallback | None = None
              ) -> tuple[GenerationResult, float]:
    """Generate with ``max_tokens`` capped to what the window has left after the prompt.

    Raises :class:`WindowTooSmall` when fewer than ``min_reply_tokens`` would be left.
    """
    used = await prompt_tokens(executor, messages)
    room = executor.n_ctx - used
    if room < min_reply_tokens:
        raise WindowTooSmall(
            f"{role} ({executor.model_id}, n_ctx={executor.n_ctx}) has {room} tokens left after a "
            f"{used}-token prompt")
    request = GenerationRequest(messages=messages, max_tokens=min(max_tokens, room),
                                temperature=temperature, json_schema=json_schema, seed=seed)
    t0 = time.perf_counter()
    try:
        result = await executor.generate(request, on_token)
    except LogoMeshError as exc:
        # A timed-out or crashed worker fails this call, not the whole refactor or benchmark.
        raise StepFailed(f"{role} ({executor.model_id}): {exc}") from exc
    seconds = time.perf_counter() - t0
    ledger.add(role, result, seconds)
    return result, seconds


_SIZE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([bm])\b", re.I)


def model_size_hint(model_id: str) -> float:
    """Parameter count guessed from a model name (``qwen2.5-coder-1.5b`` -> 1.5e9); 0 if none."""
    best = 0.0
    for num, unit in _SIZE_RE.findall(model_id.replace("_", "-")):
        value = float(num) * (1e9 if unit.lower() == "b" else 1e6)
        best = max(best, value)
    return best


def strongest_role(executors: Mapping[str, TurnExecutor]) -> str:
    """The role whose model looks largest by name (ties: the earlier role in ROLE_ORDER)."""
    if not executors:
        raise ValueError("no executors given")

    def rank(role: str) -> tuple[float, int]:
        order = ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)
        return (-model_size_hint(executors[role].model_id), order)

    return min(executors, key=rank)
