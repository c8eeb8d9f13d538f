"""What the registry pane shows per role: the engine's view, plus statuses it has not reported
yet (a load or swap the user just asked for shows at once, before the engine's first event)."""

from __future__ import annotations

from ..conversation.roles import SEED_ROLES
from ..pool.types import MemoryStats, ModelInfo, PoolEvent
from .widgets.registry import RoleRow

# Pool events that end a transient status. The old model keeps serving turns while a swap
# loads the new one, so busy/idle do not end "swapping".
ENDS = {
    "loading": ("loaded", "load_failed", "failed", "unloaded", "evicted", "swap_finished"),
    "swapping": ("swap_finished", "swap_failed", "failed", "unloaded"),
}


class RegistryRows:
    """Role -> transient status ("loading", "swapping"), and the rows built from it."""

    def __init__(self) -> None:
        self.transient: dict[str, str] = {}

    def mark(self, role: str, status: str) -> None:
        self.transient[role] = status

    def clear(self, role: str) -> None:
        self.transient.pop(role, None)

    def observe(self, event: PoolEvent) -> None:
        """Follow the engine: a load or swap starts or ends a transient status."""
        if event.kind == "loading":
            self.transient[event.role] = "loading"
        elif event.kind == "swap_started":
            self.transient[event.role] = "swapping"
        elif event.kind in ENDS.get(self.transient.get(event.role, ""), ()):
            self.transient.pop(event.role, None)

    def rows(self, infos: list[ModelInfo], memory: MemoryStats) -> list[RoleRow]:
        """The seed's roles first, then any other loaded or pending role."""
        by_role = {m.role: m for m in infos}
        rows = []
        for role in dict.fromkeys([*SEED_ROLES, *by_role, *self.transient]):
            info = by_role.get(role)
            status = self.transient.get(role)
            if info is None:
                rows.append(RoleRow(role=role, status=status or "empty"))
            else:
                row = RoleRow.from_info(info, status)
                if row.rss_bytes is None:
                    row.rss_bytes = memory.per_role.get(role)
                rows.append(row)
        return rows
