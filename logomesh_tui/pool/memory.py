"""MemoryPlanner: the pool's memory budget (RAM and, when set, device memory).

It estimates what a model adds, counts what the roles hold, and makes room for a load by
evicting least-recently-used idle unpinned roles, or refuses with a one-line error naming
the holders.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from ..catalog.gguf_meta import MemoryEstimate
from ..config import EngineConfig
from ..errors import MemoryBudgetError
from ..units import format_bytes
from .slots import RoleSlot
from .types import ModelStatus


class MemoryPlanner:
    """Plans memory for the roles in ``slots`` (the engine's own dict, read live).

    ``factory()`` returns the engine's current backend factory; if it has an
    ``estimate(model_id[, config])`` method, loads are measured against the budget with it.
    ``evict(slot)`` unloads a role's model to free its memory.
    """

    def __init__(self, config: EngineConfig, slots: dict[str, RoleSlot],
                 factory: Callable[[], Any],
                 evict: Callable[[RoleSlot], Awaitable[None]]) -> None:
        self.config = config
        self._slots = slots
        self._factory = factory
        self._evict = evict
        self._signature_of: Any = None
        self._takes_config = False

    def estimate(self, model_id: str, role: str) -> MemoryEstimate:
        """What loading ``model_id`` as ``role`` adds (nothing when the factory cannot say)."""
        est = getattr(self._factory(), "estimate", None)
        if est is None:
            return MemoryEstimate(ram=0)
        if est != self._signature_of:
            self._signature_of = est
            self._takes_config = len(inspect.signature(est).parameters) >= 2
        out = est(model_id, self.config.for_role(role)) if self._takes_config else est(model_id)
        return out if isinstance(out, MemoryEstimate) else MemoryEstimate(ram=int(out))

    def used_device(self) -> int:
        return sum(s.device for s in self._slots.values())

    def used(self, exclude: frozenset[str] = frozenset()) -> int:
        used = 0
        for role, slot in self._slots.items():
            if role in exclude:
                continue
            rss = slot.backend.rss_bytes() if slot.backend else 0
            used += max(rss or 0, slot.reserved)
        return used

    async def make_room(self, estimate: MemoryEstimate, for_role: str, keep: set[str]) -> None:
        """Evict least-recently-used idle unpinned roles until the model fits both budgets (RAM
        and, when set, device memory), or refuse."""
        budget, need = self.config.memory_budget, estimate.ram
        device_budget = self.config.device_memory_budget
        self._check_fits_at_all(estimate, budget, device_budget)

        def device_short() -> bool:
            return device_budget is not None and estimate.device > 0 and \
                self.used_device() + estimate.device > device_budget

        while self.used() + need > budget or device_short():
            on_device = device_short() and self.used() + need <= budget
            victims = sorted(
                (s for r, s in self._slots.items()
                 if r not in keep and not s.pinned and s.inflight == 0
                 and s.status == ModelStatus.READY and not (s.backend and s.backend.is_remote)
                 and (s.device > 0 or not on_device)),
                key=lambda s: (s.priority, s.last_used))
            if not victims:
                if on_device:
                    raise MemoryBudgetError(
                        f"not enough GPU memory for {for_role}: needs "
                        f"{format_bytes(estimate.device)}, device budget "
                        f"{format_bytes(device_budget or 0)} is held by "
                        f"{self.holders(for_role, device=True)}; unload or unpin a role")
                raise MemoryBudgetError(
                    f"not enough memory for {for_role}: needs {format_bytes(need)}, budget "
                    f"{format_bytes(budget)} is held by {self.holders(for_role)}; unload or "
                    f"unpin a role")
            await self._evict(victims[0])

    @staticmethod
    def _check_fits_at_all(estimate: MemoryEstimate, budget: int,
                           device_budget: int | None) -> None:
        """Refuse a model bigger than a whole budget: no eviction could make room for it."""
        if estimate.ram > budget:
            raise MemoryBudgetError(
                f"model needs about {format_bytes(estimate.ram)} but the whole memory budget is "
                f"{format_bytes(budget)}; raise LOGOMESH_MEMORY_BUDGET or pick a smaller model")
        if device_budget is not None and estimate.device > device_budget:
            raise MemoryBudgetError(
                f"model needs about {format_bytes(estimate.device)} of GPU memory but the device "
                f"budget is {format_bytes(device_budget)}; offload fewer layers (n_gpu_layers) or "
                f"raise LOGOMESH_DEVICE_MEMORY_BUDGET")

    def holders(self, for_role: str, device: bool = False) -> str:
        """The other roles and what each holds, for an error that says what to unload."""
        def size(s: RoleSlot) -> int:
            if device:
                return s.device
            return max(s.backend.rss_bytes() or 0, s.reserved) if s.backend else s.reserved

        return ", ".join(
            f"{r} ({s.model_id}, {format_bytes(size(s))}"
            f"{', pinned' if s.pinned else ''}{', busy' if s.inflight else ''})"
            for r, s in self._slots.items() if r != for_role) or "nothing"
