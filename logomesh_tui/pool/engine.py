"""HotSwapEngine: named roles served by models in worker processes, under a memory budget.

Mirrors the seed's ``LLMHotSwapEngine`` (loadModel, unloadModel, hotSwap, getActiveModels,
getMemoryUsage) as async Python. Each role is a slot holding one backend; a turn holds the slot's
turn lock, so a hot-swap switches backends between turns and a turn in flight ends on the old model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

from ..catalog.catalog import Catalog
from ..catalog.gguf_meta import read_gguf_info
from ..catalog.specs import LocalSource, RemoteSource
from ..config import EngineConfig
from ..errors import (
    LogoMeshError,
    MemoryBudgetError,
    ModelFileError,
    UnknownRoleError,
    WorkerCrashedError,
)
from .local import LocalBackend
from .remote import RemoteBackend
from .types import (
    Backend,
    GenerationRequest,
    GenerationResult,
    MemoryStats,
    ModelInfo,
    ModelStatus,
    PoolEvent,
    TokenCallback,
)

log = logging.getLogger(__name__)
Listener = Callable[[PoolEvent], None]


def _fmt_bytes(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


class DefaultBackendFactory:
    """Builds a LocalBackend for catalog names and .gguf paths, a RemoteBackend for ``remote:NAME``."""

    def __init__(self, config: EngineConfig, catalog: Catalog) -> None:
        self.config = config
        self.catalog = catalog

    def estimate(self, model_id: str) -> int:
        spec = self.catalog.get(model_id)
        if isinstance(spec.source, RemoteSource):
            return 0
        self._check_file(model_id)
        return self.catalog.estimate_bytes(model_id, self.config.n_ctx)

    def _check_file(self, model_id: str):
        spec = self.catalog.get(model_id)
        path = self.catalog.path_for(spec)
        if not path.exists() and not isinstance(spec.source, LocalSource):
            raise ModelFileError(f"{model_id} is not on disk; run `logomesh-tui models pull {model_id}`")
        return read_gguf_info(path)

    def __call__(self, model_id: str, config: EngineConfig) -> Backend:
        spec = self.catalog.get(model_id)
        if isinstance(spec.source, RemoteSource):
            return RemoteBackend(model_id, self.catalog.remote(spec.source.endpoint))
        info = self._check_file(model_id)
        chat_format = spec.chat_format
        if chat_format is None and not info.has_chat_template:
            # No template in the file: llama-cpp-python would fall back to llama-2 and talk nonsense.
            chat_format = "gemma" if info.arch.startswith("gemma") else "chatml"
        return LocalBackend(
            model_id, info.path, n_ctx=min(config.n_ctx, info.context_length or config.n_ctx),
            n_threads=config.n_threads, chat_format=chat_format,
            load_timeout_s=config.load_timeout_s, turn_timeout_s=config.turn_timeout_s,
            nice=config.worker_nice)


@dataclass
class _Slot:
    role: str
    model_id: str
    backend: Backend | None = None
    status: ModelStatus = ModelStatus.LOADING
    pinned: bool = False
    priority: int = 0
    reserved: int = 0
    last_used: float = field(default_factory=time.monotonic)
    last_response_s: float | None = None
    tokens_per_s: float | None = None
    load_s: float | None = None
    error: str | None = None
    inflight: int = 0
    turn_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RoleExecutor:
    """A stable handle on a role that follows hot-swaps: what the orchestrator talks to."""

    def __init__(self, engine: HotSwapEngine, role: str) -> None:
        self._engine = engine
        self.role = role

    @property
    def model_id(self) -> str:
        return self._engine._slot(self.role).model_id

    @property
    def n_ctx(self) -> int:
        slot = self._engine._slot(self.role)
        return slot.backend.n_ctx if slot.backend else self._engine.config.n_ctx

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        return await self._engine.generate(self.role, request, on_token)

    async def count_tokens(self, text: str) -> int:
        return await self._engine.count_tokens(self.role, text)

    async def cancel(self) -> None:
        await self._engine.cancel(self.role)


class HotSwapEngine:
    """The model pool. ``HotSwapEngine()`` uses the default config and the built-in catalog.

    ``backend_factory(model_id, config) -> Backend`` may be given to serve roles from something
    else (tests hand it FakeBackends); if it has an ``estimate(model_id) -> bytes`` method the
    memory budget is enforced with it.
    """

    def __init__(self, config: EngineConfig | None = None, *,
                 backend_factory: Callable[[str, EngineConfig], Backend] | None = None,
                 catalog: Catalog | None = None) -> None:
        self.config = config or EngineConfig()
        self.catalog = catalog or Catalog.from_config(self.config)
        self.backend_factory = backend_factory or DefaultBackendFactory(self.config, self.catalog)
        self._slots: dict[str, _Slot] = {}
        self._loads: dict[tuple[str, str], asyncio.Future] = {}
        self._admit = asyncio.Lock()
        self._listeners: list[Listener] = []
        self._executors: dict[str, RoleExecutor] = {}
        self._tasks: set[asyncio.Task] = set()
        self._restarts: dict[str, asyncio.Task] = {}
        self._closed = False

    # -- context manager ---------------------------------------------------------------------
    async def __aenter__(self) -> HotSwapEngine:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- events ------------------------------------------------------------------------------
    def add_listener(self, callback: Listener) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(callback)

    def _emit(self, kind: str, role: str, model_id: str = "", **kw) -> None:
        event = PoolEvent(kind=kind, role=role, model_id=model_id, **kw)
        for cb in list(self._listeners):
            try:
                cb(event)
            except Exception:  # a broken listener must not break the pool
                log.exception("pool listener failed")

    # -- lookups -----------------------------------------------------------------------------
    def roles(self) -> list[str]:
        return list(self._slots)

    def _slot(self, role: str) -> _Slot:
        slot = self._slots.get(role)
        if slot is None:
            known = ", ".join(self._slots) or "none loaded"
            raise UnknownRoleError(f"no role {role!r}; roles: {known} — load one with "
                                   f'llm.registry.load("MODEL", "{role}")')
        return slot

    def executor(self, role: str) -> RoleExecutor:
        self._slot(role)
        if role not in self._executors:
            self._executors[role] = RoleExecutor(self, role)
        return self._executors[role]

    def pin(self, role: str, pinned: bool = True) -> None:
        self._slot(role).pinned = pinned
        self._emit("pinned" if pinned else "unpinned", role, self._slots[role].model_id)

    def set_priority(self, role: str, priority: int) -> None:
        self._slot(role).priority = priority

    # -- memory ------------------------------------------------------------------------------
    def _estimate(self, model_id: str) -> int:
        est = getattr(self.backend_factory, "estimate", None)
        return int(est(model_id)) if est else 0

    def _used(self, exclude: frozenset[str] = frozenset()) -> int:
        used = 0
        for role, slot in self._slots.items():
            if role in exclude:
                continue
            rss = slot.backend.rss_bytes() if slot.backend else 0
            used += max(rss or 0, slot.reserved)
        return used

    async def _make_room(self, need: int, for_role: str, keep: set[str]) -> None:
        """Evict least-recently-used idle unpinned roles until ``need`` fits, or refuse."""
        budget = self.config.memory_budget
        if need > budget:
            raise MemoryBudgetError(
                f"model needs about {_fmt_bytes(need)} but the whole memory budget is "
                f"{_fmt_bytes(budget)}; raise LOGOMESH_MEMORY_BUDGET or pick a smaller model")
        while self._used() + need > budget:
            victims = sorted(
                (s for r, s in self._slots.items()
                 if r not in keep and not s.pinned and s.inflight == 0
                 and s.status == ModelStatus.READY and not (s.backend and s.backend.is_remote)),
                key=lambda s: (s.priority, s.last_used))
            if not victims:
                holders = ", ".join(
                    f"{r} ({s.model_id}, {_fmt_bytes(max(s.backend.rss_bytes() or 0, s.reserved) if s.backend else s.reserved)}"
                    f"{', pinned' if s.pinned else ''}{', busy' if s.inflight else ''})"
                    for r, s in self._slots.items() if r != for_role) or "nothing"
                raise MemoryBudgetError(
                    f"not enough memory for {for_role}: needs {_fmt_bytes(need)}, budget "
                    f"{_fmt_bytes(budget)} is held by {holders}; unload or unpin a role")
            victim = victims[0]
            await self._evict(victim)

    async def _evict(self, slot: _Slot) -> None:
        backend, slot.backend = slot.backend, None
        slot.status = ModelStatus.UNLOADED
        slot.reserved = 0
        if backend:
            await backend.close()
        self._emit("evicted", slot.role, slot.model_id, detail="least recently used, to free memory")

    def get_memory_usage(self) -> MemoryStats:
        per_role = {}
        for role, slot in self._slots.items():
            rss = slot.backend.rss_bytes() if slot.backend else 0
            per_role[role] = rss or 0
        vm = psutil.virtual_memory()
        return MemoryStats(per_role=per_role, total=sum(per_role.values()),
                           budget=self.config.memory_budget, system_available=vm.available,
                           system_total=vm.total)

    def get_active_models(self) -> list[ModelInfo]:
        out = []
        for role, s in self._slots.items():
            b = s.backend
            if b is not None and s.status in (ModelStatus.READY, ModelStatus.BUSY) and not b.alive() \
                    and not b.is_remote:
                self._mark_failed(s, getattr(b, "death_reason", None) or "worker exited")
            out.append(ModelInfo(
                role=role, model_id=s.model_id, status=s.status, pid=b.pid() if b else None,
                rss_bytes=(b.rss_bytes() if b else 0), n_ctx=b.n_ctx if b else 0,
                remote=bool(b and b.is_remote), pinned=s.pinned, priority=s.priority,
                last_response_s=s.last_response_s, tokens_per_s=s.tokens_per_s, load_s=s.load_s,
                error=s.error, last_used=s.last_used))
        return out

    def _mark_failed(self, slot: _Slot, reason: str) -> None:
        if slot.status == ModelStatus.FAILED:
            return
        slot.status = ModelStatus.FAILED
        slot.error = reason
        self._emit("failed", slot.role, slot.model_id, detail=reason)
        if self.config.auto_restart_failed and not self._closed:
            task = asyncio.get_running_loop().create_task(self._restart(slot.role, slot.model_id))
            self._tasks.add(task)
            self._restarts[slot.role] = task
            task.add_done_callback(self._tasks.discard)
            role = slot.role
            task.add_done_callback(
                lambda t: self._restarts.pop(role, None) if self._restarts.get(role) is t
                else None)

    async def _restart(self, role: str, model_id: str) -> None:
        with contextlib.suppress(LogoMeshError):
            await self.load_model(model_id, role)

    # -- load / unload -----------------------------------------------------------------------
    async def load_model(self, model_id: str, role: str, *, pinned: bool = False,
                         priority: int = 0) -> ModelInfo:
        """Load ``model_id`` to serve ``role``. Loading into a role that already serves another
        model hot-swaps it. Concurrent identical calls share one load."""
        if not role or not role.strip():
            raise UnknownRoleError("role name is empty; give a name such as primary-analyzer")
        existing = self._slots.get(role)
        if existing and existing.model_id != model_id and existing.status in (
                ModelStatus.READY, ModelStatus.BUSY):
            await self.hot_swap(role, model_id)
            return self._info(role)
        if existing and existing.model_id == model_id and existing.status in (
                ModelStatus.READY, ModelStatus.BUSY):
            existing.pinned = existing.pinned or pinned
            return self._info(role)
        key = (role, model_id)
        if key in self._loads:
            await asyncio.shield(self._loads[key])
            return self._info(role)
        fut = asyncio.get_running_loop().create_future()
        self._loads[key] = fut
        try:
            await self._load_into_slot(model_id, role, pinned=pinned, priority=priority)
            fut.set_result(None)
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            self._loads.pop(key, None)
        return self._info(role)

    async def _load_into_slot(self, model_id: str, role: str, *, pinned: bool, priority: int) -> None:
        # raises for unknown ids and bad files, before any process; reading GGUF metadata takes
        # seconds for large vocabularies, so it runs off the event loop (the dashboard shares it)
        need = await asyncio.to_thread(self._estimate, model_id)
        async with self._admit:
            old = self._slots.get(role)
            if old and old.backend:
                await old.backend.close()
            slot = _Slot(role=role, model_id=model_id, pinned=pinned or bool(old and old.pinned),
                         priority=priority)
            self._slots[role] = slot
            try:
                await self._make_room(need, role, keep={role})
                slot.reserved = need
            except LogoMeshError as exc:
                slot.status = ModelStatus.FAILED
                slot.error = str(exc)
                slot.reserved = 0
                self._emit("load_failed", role, model_id, detail=str(exc))
                raise
        self._emit("loading", role, model_id)
        slot.status = ModelStatus.LOADING
        try:
            backend = await self._start_backend(model_id)
        except LogoMeshError as exc:
            slot.status, slot.error, slot.reserved = ModelStatus.FAILED, str(exc), 0
            self._emit("load_failed", role, model_id, detail=str(exc))
            raise
        if self._slots.get(role) is not slot or self._closed:
            # Superseded while it loaded (another model loaded into this role, an unload, or
            # close): nothing would ever stop this worker, so stop it now.
            await backend.close()
            raise LogoMeshError(f"loading {model_id} as {role} was superseded by a later load or "
                                f"unload of {role}; see the registry for what it serves now")
        self._attach(slot, backend)
        self._emit("loaded", role, model_id, seconds=slot.load_s)

    async def _start_backend(self, model_id: str) -> Backend:
        backend = self.backend_factory(model_id, self.config)
        try:
            load_s = await backend.start()
        except LogoMeshError:
            raise
        except Exception as exc:
            await backend.close()
            raise ModelFileError(f"{model_id}: could not start ({type(exc).__name__}: {exc})") from exc
        backend.load_s = load_s  # type: ignore[attr-defined]
        return backend

    def _attach(self, slot: _Slot, backend: Backend) -> None:
        slot.backend = backend
        slot.model_id = backend.model_id
        slot.status = ModelStatus.READY
        slot.error = None
        slot.reserved = 0
        slot.load_s = getattr(backend, "load_s", None)
        slot.last_used = time.monotonic()
        if isinstance(backend, LocalBackend):
            backend.on_exit = lambda reason, s=slot, b=backend: self._on_worker_exit(s, b, reason)

    def _on_worker_exit(self, slot: _Slot, backend: Backend, reason: str) -> None:
        if slot.backend is backend:
            self._mark_failed(slot, reason)

    async def unload_model(self, role: str) -> None:
        """Stop the role's worker and forget the role; all its memory goes back to the system."""
        slot = self._slot(role)
        async with slot.turn_lock:
            self._slots.pop(role, None)
            self._executors.pop(role, None)
            if slot.backend:
                await slot.backend.close()
        self._emit("unloaded", role, slot.model_id)

    async def hot_swap(self, role: str, new_model_id: str) -> dict:
        """Replace the model behind ``role`` without stopping its conversation.

        The new model loads while the old one keeps serving when memory allows (otherwise the
        old one is unloaded first); the switch happens between turns."""
        slot = self._slot(role)
        old_id = slot.model_id
        t0 = time.perf_counter()
        need = await asyncio.to_thread(self._estimate, new_model_id)
        self._emit("swap_started", role, new_model_id, old_model_id=old_id)
        side_by_side = True
        async with self._admit:
            try:
                await self._make_room(need, role, keep={role})
            except MemoryBudgetError:
                side_by_side = False
        try:
            if side_by_side:
                slot.reserved = need  # count the incoming model while both are resident
                try:
                    backend = await self._start_backend(new_model_id)
                finally:
                    slot.reserved = 0
                async with slot.turn_lock:
                    old = slot.backend
                    self._attach(slot, backend)
                if old:
                    await old.close()
            else:
                async with slot.turn_lock:
                    old, slot.backend = slot.backend, None
                    slot.status = ModelStatus.LOADING
                    if old:
                        await old.close()
                    async with self._admit:
                        await self._make_room(need, role, keep={role})
                        slot.reserved = need
                    try:
                        backend = await self._start_backend(new_model_id)
                    except LogoMeshError as exc:
                        slot.status, slot.error, slot.reserved = ModelStatus.FAILED, str(exc), 0
                        raise
                    self._attach(slot, backend)
        except LogoMeshError as exc:
            self._emit("swap_failed", role, new_model_id, old_model_id=old_id, detail=str(exc))
            raise
        seconds = time.perf_counter() - t0
        self._emit("swap_finished", role, new_model_id, old_model_id=old_id, seconds=seconds)
        return {"role": role, "old_model_id": old_id, "new_model_id": new_model_id, "seconds": seconds}

    def _info(self, role: str) -> ModelInfo:
        return next(i for i in self.get_active_models() if i.role == role)

    # -- generation --------------------------------------------------------------------------
    async def generate(self, role: str, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        """One turn on ``role``'s current model; requests to one role queue in arrival order."""
        await self._await_reload(role)
        slot = self._slot(role)
        slot.inflight += 1
        try:
            async with slot.turn_lock:
                if self._slots.get(role) is slot:
                    return await self._turn(slot, request, on_token)
        finally:
            slot.inflight -= 1
        # The role was reloaded or unloaded while this request waited: serve it from whatever
        # holds the role now (an unloaded role raises UnknownRoleError).
        return await self.generate(role, request, on_token)

    async def _turn(self, slot: _Slot, request: GenerationRequest,
                    on_token: TokenCallback | None) -> GenerationResult:
        """Run one request on ``slot``; the caller holds its turn lock."""
        role = slot.role
        if slot.status == ModelStatus.UNLOADED:  # evicted earlier: bring it back
            await self._reload_evicted(slot)
        backend = slot.backend
        if backend is None or slot.status == ModelStatus.FAILED:
            raise self._no_working_model(slot)
        slot.status = ModelStatus.BUSY
        slot.last_used = time.monotonic()
        self._emit("busy", role, slot.model_id)
        try:
            result = await backend.generate(request, on_token)
        except WorkerCrashedError as exc:
            if slot.backend is backend:
                self._mark_failed(slot, str(exc))
            raise
        except BaseException:
            if slot.status == ModelStatus.BUSY:
                slot.status = ModelStatus.READY
            raise
        slot.status = ModelStatus.READY
        slot.last_used = time.monotonic()
        slot.last_response_s = result.timings.total_s
        slot.tokens_per_s = result.tokens_per_s
        self._emit("idle", role, slot.model_id, seconds=result.timings.total_s,
                   tokens_per_s=result.tokens_per_s, detail=f"{result.completion_tokens} tokens")
        return result

    async def _reload_evicted(self, slot: _Slot) -> None:
        need = await asyncio.to_thread(self._estimate, slot.model_id)
        async with self._admit:
            await self._make_room(need, slot.role, keep={slot.role})
            slot.reserved = need
        slot.status = ModelStatus.LOADING
        self._emit("loading", slot.role, slot.model_id, detail="reloading after eviction")
        try:
            backend = await self._start_backend(slot.model_id)
        except LogoMeshError as exc:
            slot.status, slot.error, slot.reserved = ModelStatus.FAILED, str(exc), 0
            raise
        self._attach(slot, backend)
        self._emit("loaded", slot.role, slot.model_id, seconds=slot.load_s)

    @staticmethod
    def _no_working_model(slot: _Slot) -> WorkerCrashedError:
        return WorkerCrashedError(f"{slot.role} has no working model ({slot.error or slot.status}); "
                                  f'reload it with llm.registry.load("{slot.model_id}", "{slot.role}")')

    async def _await_reload(self, role: str) -> None:
        """A turn that arrives while the role's model is loading (an automatic restart after a
        crash, a load still under way) waits for it instead of failing at once."""
        waits = [f for (r, _m), f in self._loads.items() if r == role]
        if role in self._restarts:
            waits.append(self._restarts[role])
        if waits:
            await asyncio.wait(waits)  # outcomes are the loader's to report; a failure shows below

    async def count_tokens(self, role: str, text: str) -> int:
        await self._await_reload(role)
        slot = self._slot(role)
        if slot.status == ModelStatus.FAILED:
            # Same one-line advice as generate, not the bare crash of the dead worker's pipe.
            raise self._no_working_model(slot)
        if slot.backend is None:
            return len(text) // 3 + 1
        return await slot.backend.count_tokens(text)

    async def cancel(self, role: str) -> None:
        slot = self._slot(role)
        if slot.backend:
            await slot.backend.cancel()

    async def close(self) -> None:
        """Unload every role and end every worker."""
        self._closed = True
        for t in list(self._tasks):
            t.cancel()
        slots = list(self._slots.values())
        self._slots.clear()
        self._executors.clear()
        await asyncio.gather(*(s.backend.close() for s in slots if s.backend), return_exceptions=True)
        for s in slots:
            self._emit("unloaded", s.role, s.model_id)
