"""Seating: which executor serves each role of a session, and the hot-swaps between models.

A swap is recorded whichever way it happens: announced by the engine (``swap_finished``, with
its timing), by ``add_model`` with another model for a seated role, or found at the start of
a turn (a swapped executor object; no timing known). A swap makes the role's next prompt start
afresh, since the new model has none of the old one's KV cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import LogoMeshError, UnknownRoleError
from ..pool.types import PoolEvent
from ..sessions import events as ev
from .context import TurnExecutor

if TYPE_CHECKING:
    from .session import MultiModelSession


class Seating:
    """The roles of ``session``: their executors and the model each was last known to run."""

    def __init__(self, session: MultiModelSession) -> None:
        self._session = session
        self.active_models: dict[str, TurnExecutor] = {}
        #: role -> the model id last recorded for it (what swaps are detected against).
        self.models: dict[str, str] = {}
        #: What a restored session's file says each role ran last (None: not restored).
        self.restored: dict[str, str] | None = None
        #: Executors handed to ``restore``, seated by ``resume``.
        self.pending: dict[str, TurnExecutor] = {}

    async def add_model(self, role: str, executor: TurnExecutor) -> None:
        """Seat ``executor`` as ``role``. Replacing a role's executor counts as a hot-swap."""
        s = self._session
        for attr in ("model_id", "n_ctx", "generate", "count_tokens"):
            if not hasattr(executor, attr):
                raise LogoMeshError(f"executor for {role!r} lacks {attr}; pass an engine "
                                    "executor(role) or a Backend")
        old = self.models.get(role)
        self.active_models[role] = executor
        if s.conversation_id is not None:
            s.bus.add_participant(role, s.conversation_id)
        if old is None:
            self.models[role] = executor.model_id
            if s.log.opened:
                s.log.record(ev.RoleLoaded(role=role, model_id=executor.model_id))
        elif old != executor.model_id:
            self.swap(role, old, executor.model_id, None, "add_model")

    async def remove_model(self, role: str) -> None:
        """Take ``role`` out of the conversation; its past messages stay in the history."""
        s = self._session
        if role not in self.active_models:
            raise UnknownRoleError(f"no role {role!r} in this session; roles: "
                                   f"{', '.join(self.active_models) or 'none'}")
        ex = self.active_models.pop(role)
        if s.context is not None:
            s.context.forget(role)
        if s.log.opened:
            s.log.record(ev.RoleUnloaded(role=role, model_id=ex.model_id))

    async def seat_pending(self) -> None:
        """Seat the executors given to ``restore`` for roles not seated since."""
        for role, ex in self.pending.items():
            if role not in self.active_models:
                await self.add_model(role, ex)

    def roles(self) -> list[str]:
        return list(self.active_models)

    def role_models(self) -> dict[str, str]:
        """role -> model id of the roles taking part now (roles on one model share a prompt
        transcript, see ``conversation.context``)."""
        return {r: e.model_id for r, e in self.active_models.items()}

    def participants(self) -> dict[str, str]:
        """Role -> model id the restored session had last (what to load to resume)."""
        if self.restored is not None:
            return dict(self.restored)
        return dict(self.models)

    def on_pool_event(self, event: PoolEvent) -> None:
        if event.kind != "swap_finished" or event.role not in self.active_models:
            return
        old = event.old_model_id or self.models.get(event.role, "")
        if self.models.get(event.role) == event.model_id:
            return
        self.swap(event.role, old, event.model_id, event.seconds, "engine")

    def check_swap(self, role: str, ex: TurnExecutor) -> None:
        known = self.models.get(role)
        if known is not None and known != ex.model_id:
            # Not announced by an engine event (a swapped executor object): no timing known.
            self.swap(role, known, ex.model_id, None, "detected")

    def swap(self, role: str, old: str, new: str, seconds: float | None, source: str) -> None:
        s = self._session
        self.models[role] = new
        if s.context is not None:
            s.context.forget(role)
        s.log.record(ev.Swap(role=role, old_model_id=old, new_model_id=new,
                             seconds=None if seconds is None else round(seconds, 3),
                             source=source, round=s.rounds_run + (1 if s.running else 0)))
