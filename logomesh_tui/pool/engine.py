"""HotSwapEngine: named roles served by models in worker processes, under a memory budget.

Mirrors the seed's ``LLMHotSwapEngine`` (loadModel, unloadModel, hotSwap, getActiveModels,
getMemoryUsage) as async Python. Each role is a slot holding one backend; a turn holds the slot's
turn lock, so a hot-swap switches backends between turns and a turn in flight ends on the old model.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable

import psutil

from ..catalog.catalog import Catalog
from ..catalog.gguf_meta import MemoryEstimate, read_gguf_info
from ..catalog.specs import LocalSource, RemoteSource
from ..config import EngineConfig
from ..errors import (
    GenerationCancelled,
    LogoMeshError,
    MemoryBudgetError,
    ModelFileError,
    UnknownRoleError,
    WorkerCrashedError,
)
from .idle import IdleReaper
from .local import LocalBackend, WorkerPool, WorkerSettings
from .memory import MemoryPlanner
from .remote import RemoteBackend
from .slots import RoleSlot
from .types import (
    Backend,
    GenerationRequest,
    GenerationResult,
    MemoryStats,
    ModelInfo,
    ModelStatus,
    PoolEvent,
    SwapReport,
    TokenCallback,
)

log = logging.getLogger(__name__)
Listener = Callable[[PoolEvent], None]


@functools.cache
def gpu_offload_supported() -> bool:
    """Whether this llama.cpp build can offload layers to a GPU (Metal, CUDA, Vulkan ...)."""
    try:
        import llama_cpp
    except ImportError:
        return False
    return bool(llama_cpp.llama_supports_gpu_offload())


def resolve_gpu_layers(config: EngineConfig) -> int:
    """``config.n_gpu_layers``, with None meaning all layers when the build offers offload."""
    if config.n_gpu_layers is not None:
        return config.n_gpu_layers
    return -1 if gpu_offload_supported() else 0


class DefaultBackendFactory:
    """Builds a LocalBackend for catalog names and .gguf paths, a RemoteBackend for ``remote:NAME``.

    Local backends of equal settings share one worker process (``config.share_workers``).
    """

    def __init__(self, config: EngineConfig, catalog: Catalog) -> None:
        self.config = config
        self.catalog = catalog
        self.workers = WorkerPool()

    def estimate(self, model_id: str, config: EngineConfig | None = None) -> MemoryEstimate:
        """What loading ``model_id`` with ``config`` adds: a whole worker, or nothing when a
        worker with the same settings already runs and may be shared (roles' KV states are
        sequences in the worker's one, preallocated KV cache)."""
        config = config or self.config
        spec = self.catalog.get(model_id)
        if isinstance(spec.source, RemoteSource):
            return MemoryEstimate(ram=0)
        settings = self.settings(model_id, config)  # raises for a missing or damaged file
        if config.share_workers and self.workers.running(settings) is not None:
            return MemoryEstimate(ram=0)
        return self.catalog.estimate(model_id, config.n_ctx, resolve_gpu_layers(config),
                                     type_k=config.type_k, type_v=config.type_v)

    def settings(self, model_id: str, config: EngineConfig) -> WorkerSettings:
        spec = self.catalog.get(model_id)
        info = self._check_file(model_id)
        chat_format = spec.chat_format
        if chat_format is None and not info.has_chat_template:
            # No template in the file: llama-cpp-python would fall back to llama-2 and talk nonsense.
            chat_format = "gemma" if info.arch.startswith("gemma") else "chatml"
        return WorkerSettings(
            path=info.path.resolve(), n_ctx=min(config.n_ctx, info.context_length or config.n_ctx),
            n_threads=config.n_threads, chat_format=chat_format,
            n_gpu_layers=resolve_gpu_layers(config), flash_attn=config.flash_attn,
            type_k=config.type_k, type_v=config.type_v, prompt_lookup=config.prompt_lookup,
            nice=config.worker_nice)

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
        # Without sharing every backend gets a pool of its own, hence a worker of its own.
        pool = self.workers if config.share_workers else WorkerPool()
        return LocalBackend(model_id, self.settings(model_id, config), pool,
                            load_timeout_s=config.load_timeout_s,
                            turn_timeout_s=config.turn_timeout_s)


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
        self._slots: dict[str, RoleSlot] = {}
        self.memory = MemoryPlanner(self.config, self._slots, lambda: self.backend_factory,
                                    self._evict)
        self._loads: dict[tuple[str, str], asyncio.Future] = {}
        self._admit = asyncio.Lock()
        self._listeners: list[Listener] = []
        self._executors: dict[str, RoleExecutor] = {}
        self._tasks: set[asyncio.Task] = set()
        self._restarts: dict[str, asyncio.Task] = {}
        self._closed = False
        self._idle = IdleReaper(self._slots, self._evict, lambda: self._closed)
        if self.config.metrics_port:
            from .metrics import serve_metrics

            serve_metrics(self, self.config.metrics_port)

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

    def _slot(self, role: str) -> RoleSlot:
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

    # -- memory ------------------------------------------------------------------------------
    async def _evict(self, slot: RoleSlot,
                     detail: str = "least recently used, to free memory") -> None:
        backend, slot.backend = slot.backend, None
        slot.status = ModelStatus.UNLOADED
        slot.reserved = slot.device = 0
        if backend:
            await backend.close()
        self._emit("evicted", slot.role, slot.model_id, detail=detail)

    def get_memory_usage(self) -> MemoryStats:
        per_role = {}
        for role, slot in self._slots.items():
            rss = slot.backend.rss_bytes() if slot.backend else 0
            per_role[role] = rss or 0
        vm = psutil.virtual_memory()
        return MemoryStats(per_role=per_role, total=sum(per_role.values()),
                           budget=self.config.memory_budget, system_available=vm.available,
                           system_total=vm.total,
                           device_per_role={r: s.device for r, s in self._slots.items()},
                           device_total=self.memory.used_device(),
                           device_budget=self.config.device_memory_budget)

    def get_active_models(self) -> list[ModelInfo]:
        out = []
        for role, s in self._slots.items():
            b = s.backend
            if b is not None and s.status in (ModelStatus.READY, ModelStatus.BUSY) and not b.alive() \
                    and not b.is_remote:
                self._mark_failed(s, b.death_reason or "worker exited")
            idle_left = None
            if s.ttl_s and s.status == ModelStatus.READY and not s.pinned:
                idle_left = max(0.0, s.ttl_s - (time.monotonic() - s.last_used))
            out.append(ModelInfo(
                role=role, model_id=s.model_id, status=s.status, pid=b.pid() if b else None,
                rss_bytes=(b.rss_bytes() if b else 0), device_bytes=s.device,
                n_ctx=b.n_ctx if b else 0,
                remote=bool(b and b.is_remote), pinned=s.pinned, priority=s.priority,
                last_response_s=s.last_response_s, tokens_per_s=s.tokens_per_s, load_s=s.load_s,
                error=s.error, last_used=s.last_used, ttl_s=s.ttl_s, unload_in_s=idle_left,
                idle_unloaded=s.idle_unloaded and s.status == ModelStatus.UNLOADED,
                shared_with=b.shared_with() if b else 0,
                kv_state_bytes=b.state_bytes() if b else None))
        return out

    def _mark_failed(self, slot: RoleSlot, reason: str) -> None:
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
                         priority: int = 0, ttl_s: float | None = None) -> ModelInfo:
        """Load ``model_id`` to serve ``role``. Loading into a role that already serves another
        model hot-swaps it. Concurrent identical calls share one load. ``ttl_s`` unloads the
        role after that many idle seconds (default: the config's ``ttl_s`` for the role)."""
        if not role or not role.strip():
            raise UnknownRoleError("role name is empty; give a name such as primary-analyzer")
        existing = self._slots.get(role)
        if existing and existing.model_id != model_id and existing.status in (
                ModelStatus.READY, ModelStatus.BUSY):
            await self.hot_swap(role, model_id)
            if ttl_s is not None:
                existing.ttl_s = ttl_s
            return self._info(role)
        if existing and existing.model_id == model_id and existing.status in (
                ModelStatus.READY, ModelStatus.BUSY):
            existing.pinned = existing.pinned or pinned
            if ttl_s is not None:
                existing.ttl_s = ttl_s
                self._idle.ensure()
            return self._info(role)
        key = (role, model_id)
        if key in self._loads:
            await asyncio.shield(self._loads[key])
            return self._info(role)
        fut = asyncio.get_running_loop().create_future()
        self._loads[key] = fut
        try:
            await self._load_into_slot(model_id, role, pinned=pinned, priority=priority,
                                       ttl_s=ttl_s)
            fut.set_result(None)
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            self._loads.pop(key, None)
        return self._info(role)

    async def _load_into_slot(self, model_id: str, role: str, *, pinned: bool, priority: int,
                              ttl_s: float | None = None) -> None:
        # raises for unknown ids and bad files, before any process; reading GGUF metadata takes
        # seconds for large vocabularies, so it runs off the event loop (the dashboard shares it)
        need = await asyncio.to_thread(self.memory.estimate, model_id, role)
        async with self._admit:
            old = self._slots.get(role)
            if old and old.backend:
                await old.backend.close()
            slot = RoleSlot(role=role, model_id=model_id, pinned=pinned or bool(old and old.pinned),
                         priority=priority,
                         ttl_s=ttl_s if ttl_s is not None else self.config.for_role(role).ttl_s)
            self._slots[role] = slot
            try:
                await self.memory.make_room(need, role, keep={role})
                slot.reserved, slot.device = need.ram, need.device
            except LogoMeshError as exc:
                slot.status = ModelStatus.FAILED
                slot.error = str(exc)
                slot.reserved = slot.device = 0
                self._emit("load_failed", role, model_id, detail=str(exc))
                raise
        self._emit("loading", role, model_id)
        slot.status = ModelStatus.LOADING
        try:
            backend = await self._start_backend(model_id, role)
        except LogoMeshError as exc:
            slot.status, slot.error, slot.reserved, slot.device = ModelStatus.FAILED, str(exc), 0, 0
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
        self._idle.ensure()

    async def _start_backend(self, model_id: str, role: str) -> Backend:
        backend = self.backend_factory(model_id, self.config.for_role(role))
        try:
            load_s = await backend.start()
        except LogoMeshError:
            raise
        except Exception as exc:
            await backend.close()
            raise ModelFileError(f"{model_id}: could not start ({type(exc).__name__}: {exc})") from exc
        backend.load_s = load_s
        return backend

    def _attach(self, slot: RoleSlot, backend: Backend) -> None:
        slot.backend = backend
        slot.model_id = backend.model_id
        slot.status = ModelStatus.READY
        slot.error = None
        slot.reserved = 0
        slot.idle_unloaded = False
        slot.load_s = backend.load_s
        slot.last_used = time.monotonic()
        backend.on_exit = lambda reason, s=slot, b=backend: self._on_worker_exit(s, b, reason)

    def _on_worker_exit(self, slot: RoleSlot, backend: Backend, reason: str) -> None:
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

    async def hot_swap(self, role: str, new_model_id: str) -> SwapReport:
        """Replace the model behind ``role`` without stopping its conversation.

        The new model loads while the old one keeps serving when memory allows (otherwise the
        old one is unloaded first); the switch happens between turns."""
        slot = self._slot(role)
        old_id = slot.model_id
        t0 = time.perf_counter()
        need = await asyncio.to_thread(self.memory.estimate, new_model_id, role)
        self._emit("swap_started", role, new_model_id, old_model_id=old_id)
        side_by_side = True
        async with self._admit:
            try:
                await self.memory.make_room(need, role, keep={role})
            except MemoryBudgetError:
                side_by_side = False
        try:
            if side_by_side:
                # count the incoming model while both are resident
                old_device = slot.device
                slot.reserved, slot.device = need.ram, old_device + need.device
                try:
                    backend = await self._start_backend(new_model_id, role)
                except BaseException:
                    slot.device = old_device
                    raise
                finally:
                    slot.reserved = 0
                async with slot.turn_lock:
                    old = slot.backend
                    self._attach(slot, backend)
                    slot.device = need.device
                if old:
                    await old.close()
            else:
                async with slot.turn_lock:
                    old, slot.backend = slot.backend, None
                    slot.status = ModelStatus.LOADING
                    slot.device = 0
                    if old:
                        await old.close()
                    async with self._admit:
                        await self.memory.make_room(need, role, keep={role})
                        slot.reserved, slot.device = need.ram, need.device
                    try:
                        backend = await self._start_backend(new_model_id, role)
                    except LogoMeshError as exc:
                        slot.status, slot.error, slot.reserved = ModelStatus.FAILED, str(exc), 0
                        slot.device = 0
                        raise
                    self._attach(slot, backend)
        except LogoMeshError as exc:
            self._emit("swap_failed", role, new_model_id, old_model_id=old_id, detail=str(exc))
            raise
        seconds = time.perf_counter() - t0
        self._emit("swap_finished", role, new_model_id, old_model_id=old_id, seconds=seconds)
        return SwapReport(role=role, old_model_id=old_id, new_model_id=new_model_id,
                          seconds=seconds, side_by_side=side_by_side)

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

    async def _turn(self, slot: RoleSlot, request: GenerationRequest,
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
        except BaseException as exc:
            if slot.status == ModelStatus.BUSY:
                slot.status = ModelStatus.READY
            if isinstance(exc, LogoMeshError) and not isinstance(exc, GenerationCancelled):
                self._emit("turn_failed", role, slot.model_id, detail=str(exc))
            raise
        slot.status = ModelStatus.READY
        slot.last_used = time.monotonic()
        slot.last_response_s = result.timings.total_s
        slot.tokens_per_s = result.tokens_per_s
        self._emit("idle", role, slot.model_id, seconds=result.timings.total_s,
                   tokens_per_s=result.tokens_per_s, detail=f"{result.completion_tokens} tokens",
                   completion_tokens=result.completion_tokens,
                   prompt_tokens=result.prompt_tokens,
                   prompt_tokens_evaluated=result.prompt_tokens_evaluated,
                   time_to_first_token_s=result.timings.time_to_first_token_s)
        return result

    async def _reload_evicted(self, slot: RoleSlot) -> None:
        need = await asyncio.to_thread(self.memory.estimate, slot.model_id, slot.role)
        async with self._admit:
            await self.memory.make_room(need, slot.role, keep={slot.role})
            slot.reserved, slot.device = need.ram, need.device
        why = "idle unload" if slot.idle_unloaded else "eviction"
        slot.status = ModelStatus.LOADING
        self._emit("loading", slot.role, slot.model_id, detail=f"reloading after {why}")
        try:
            backend = await self._start_backend(slot.model_id, slot.role)
        except LogoMeshError as exc:
            slot.status, slot.error, slot.reserved, slot.device = ModelStatus.FAILED, str(exc), 0, 0
            raise
        self._attach(slot, backend)
        self._emit("loaded", slot.role, slot.model_id, seconds=slot.load_s)
        self._idle.ensure()

    @staticmethod
    def _no_working_model(slot: RoleSlot) -> WorkerCrashedError:
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
        for t in list(self._tasks) + ([self._idle.task] if self._idle.task else []):
            t.cancel()
        slots = list(self._slots.values())
        self._slots.clear()
        self._executors.clear()
        await asyncio.gather(*(s.backend.close() for s in slots if s.backend), return_exceptions=True)
        for s in slots:
            self._emit("unloaded", s.role, s.model_id)
