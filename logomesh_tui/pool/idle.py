"""IdleReaper: unloads roles idle for longer than their ttl; they reload on their next turn."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from .slots import RoleSlot
from .types import ModelStatus


class IdleReaper:
    """One background task that runs while some role has a ttl and the pool is open.

    ``evict(slot, detail)`` unloads a role's model; ``closed()`` says whether the pool closed.
    """

    def __init__(self, slots: dict[str, RoleSlot],
                 evict: Callable[[RoleSlot, str], Awaitable[None]],
                 closed: Callable[[], bool]) -> None:
        self._slots = slots
        self._evict = evict
        self._closed = closed
        self.task: asyncio.Task | None = None

    def ensure(self) -> None:
        """Start the task when a role has a ttl and none runs."""
        if self.task is None and not self._closed() and any(
                s.ttl_s for s in self._slots.values()):
            self.task = asyncio.get_running_loop().create_task(self._reap())

    async def _reap(self) -> None:
        try:
            while not self._closed():
                ttls = [s.ttl_s for s in self._slots.values() if s.ttl_s]
                if not ttls:
                    return
                await asyncio.sleep(min(5.0, max(0.05, min(ttls) / 4)))
                now = time.monotonic()
                for slot in list(self._slots.values()):
                    if (slot.ttl_s and slot.status == ModelStatus.READY and slot.inflight == 0
                            and not slot.pinned and not slot.turn_lock.locked()
                            and now - slot.last_used >= slot.ttl_s
                            and not (slot.backend and slot.backend.is_remote)):
                        async with slot.turn_lock:
                            if slot.status != ModelStatus.READY or slot.inflight:
                                continue
                            await self._evict(slot, f"idle for {slot.ttl_s:g} s (ttl)")
                            slot.idle_unloaded = True
        finally:
            self.task = None
