"""RoleSlot: what the pool holds for one role (its backend, status, memory and timings)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from .types import Backend, ModelStatus


@dataclass
class RoleSlot:
    role: str
    model_id: str
    backend: Backend | None = None
    status: ModelStatus = ModelStatus.LOADING
    pinned: bool = False
    priority: int = 0
    reserved: int = 0
    #: Estimated device (GPU) bytes of the role's model, held while it is loaded or loading.
    device: int = 0
    #: Unload after this many idle seconds (None: never); it reloads on the next turn.
    ttl_s: float | None = None
    idle_unloaded: bool = False
    last_used: float = field(default_factory=time.monotonic)
    last_response_s: float | None = None
    tokens_per_s: float | None = None
    load_s: float | None = None
    error: str | None = None
    inflight: int = 0
    turn_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
