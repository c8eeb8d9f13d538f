"""Data the pool speaks: requests, streamed tokens, results, model and memory reports."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field


class ModelStatus(StrEnum):
    LOADING = "loading"
    READY = "ready"
    BUSY = "busy"
    FAILED = "failed"
    UNLOADED = "unloaded"


class GenerationRequest(BaseModel):
    """One chat completion. ``messages`` are OpenAI-style ``{"role", "content"}`` dicts."""

    messages: list[dict[str, str]]
    max_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    json_schema: dict[str, Any] | None = Field(
        default=None, description="constrain output to this JSON schema (llama.cpp grammar)")
    stop: list[str] = Field(default_factory=list)
    seed: int | None = None


class Timings(BaseModel):
    """Seconds spent per phase, as llama-swap / Ollama report them."""

    queue_s: float = 0.0
    prompt_eval_s: float = 0.0
    generation_s: float = 0.0
    total_s: float = 0.0
    time_to_first_token_s: float | None = None


class GenerationResult(BaseModel):
    text: str
    finish_reason: str = "stop"  # stop | length | cancelled | error
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_tokens_evaluated: int | None = Field(
        default=None, description="prompt tokens not served from the KV cache (local only)")
    timings: Timings = Field(default_factory=Timings)
    mean_token_prob: float | None = Field(
        default=None, description="geometric mean probability of the sampled tokens, 0..1")
    model_id: str = ""

    @property
    def tokens_per_s(self) -> float:
        g = self.timings.generation_s
        return self.completion_tokens / g if g > 0 else 0.0


TokenCallback = Callable[[str], Awaitable[None] | None]


async def emit_token(on_token: TokenCallback | None, text: str) -> None:
    """Hand one streamed piece to the caller's callback (sync or async), if there is one."""
    if on_token is not None:
        r = on_token(text)
        if inspect.isawaitable(r):
            await r


class TokenStream:
    """The pieces of one reply as they stream in: kept in order, timed from creation to the
    first piece (``ttft``), and each handed to ``on_token`` as it arrives."""

    def __init__(self, on_token: TokenCallback | None) -> None:
        self.t0 = time.perf_counter()
        self.parts: list[str] = []
        self.ttft: float | None = None
        self._on_token = on_token

    async def add(self, piece: str) -> None:
        if self.ttft is None:
            self.ttft = time.perf_counter() - self.t0
        self.parts.append(piece)
        await emit_token(self._on_token, piece)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


ExitCallback = Callable[[str], None]
"""Called with a reason when a backend's process dies without being asked to."""


@runtime_checkable
class Backend(Protocol):
    """What serves one role: a local llama.cpp worker process or a remote OpenAI server.

    Everything the engine reads or sets on a backend is declared here: ``load_s`` is set by
    ``start()``; ``death_reason`` says why a backend that is no longer ``alive()`` stopped;
    the engine sets ``on_exit`` to hear about a crash between turns (backends whose process
    cannot die unasked, such as a remote one, never call it).
    """

    model_id: str
    n_ctx: int
    is_remote: bool
    load_s: float | None
    on_exit: ExitCallback | None

    @property
    def death_reason(self) -> str | None:
        """Why the backend stopped (``worker killed by SIGKILL``); None while it runs."""

    async def start(self) -> float:
        """Bring the model up; return load seconds. Raises a LogoMeshError on failure."""

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult: ...

    async def cancel(self) -> None:
        """Cancel the generation in flight, if any; it returns finish_reason='cancelled'."""

    async def count_tokens(self, text: str) -> int:
        """Count tokens with this model's own tokenizer."""

    def rss_bytes(self) -> int | None:
        """Resident memory of the serving process; None when remote."""

    def pid(self) -> int | None: ...

    def alive(self) -> bool: ...

    def shared_with(self) -> int:
        """Roles served by the same process, this one included (1 when not shared)."""

    def state_bytes(self) -> int | None:
        """Bytes of this role's saved KV state in a shared process; None when not tracked."""

    async def close(self) -> None: ...


class InProcessBackend:
    """What a backend without a worker process of its own (scripted replies, a remote server)
    answers alike: no pid, no KV state counted here, one role on it; alive until closed; one
    generation at a time (``_lock``), cancelled through ``_cancel``. Such a backend has no
    process of ours that could die unasked, so ``on_exit`` is called only by what simulates it."""

    is_remote: bool

    def __init__(self, model_id: str, n_ctx: int) -> None:
        self.model_id = model_id
        self.n_ctx = n_ctx
        self._alive = False
        self.load_s: float | None = None
        self.on_exit: ExitCallback | None = None
        self._cancel = asyncio.Event()
        self._lock = asyncio.Lock()

    async def cancel(self) -> None:
        self._cancel.set()

    def pid(self) -> int | None:
        return None

    def alive(self) -> bool:
        return self._alive

    def shared_with(self) -> int:
        return 1

    def state_bytes(self) -> int | None:
        return None


class SwapReport(BaseModel):
    """What a hot-swap did: which model replaced which behind a role, and how long it took."""

    role: str
    old_model_id: str
    new_model_id: str
    seconds: float = Field(description="from the call until the new model served the role")
    side_by_side: bool = Field(
        description="True: the new model loaded while the old one kept serving; False: memory "
                    "allowed only one, so the old one was unloaded first")

    def describe(self) -> str:
        """The one line every view shows for a finished swap."""
        return (f"swapped {self.role}: {self.old_model_id} -> {self.new_model_id} "
                f"in {self.seconds:.1f} s")


class ModelInfo(BaseModel):
    role: str
    model_id: str
    status: ModelStatus
    pid: int | None = None
    rss_bytes: int | None = Field(
        default=None, description="RAM: the role's share of its worker's RSS")
    device_bytes: int = Field(default=0, description="GPU memory (estimated from GGUF metadata)")
    n_ctx: int = 0
    remote: bool = False
    pinned: bool = False
    priority: int = 0
    last_response_s: float | None = None
    tokens_per_s: float | None = None
    load_s: float | None = None
    error: str | None = None
    last_used: float = Field(default_factory=time.monotonic)
    ttl_s: float | None = Field(default=None, description="idle seconds before an unload")
    unload_in_s: float | None = Field(default=None, description="seconds left until then")
    idle_unloaded: bool = Field(default=False, description="unloaded for being idle (ttl)")
    shared_with: int = Field(default=1, description="roles served by the same worker process")
    kv_state_bytes: int | None = Field(
        default=None, description="the role's saved KV cache in a shared worker")


class MemoryStats(BaseModel):
    per_role: dict[str, int]
    total: int
    budget: int
    system_available: int
    system_total: int
    device_per_role: dict[str, int] = Field(default_factory=dict)
    device_total: int = 0
    device_budget: int | None = None


class PoolEvent(BaseModel):
    """Something happened in the pool; the dashboard and sessions subscribe to these."""

    kind: str  # loading | loaded | load_failed | unloaded | swap_started | swap_finished | failed | busy | idle | evicted
    role: str
    model_id: str = ""
    detail: str = ""
    seconds: float | None = None
    old_model_id: str | None = None
    tokens_per_s: float | None = None
    # On "idle" (a turn finished): what the turn measured, for the metrics exporter.
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    prompt_tokens_evaluated: int | None = None
    time_to_first_token_s: float | None = None
    at: float = Field(default_factory=time.time)
