"""Local models: one worker process per (model file, settings), shared by every role that uses it.

:class:`LocalWorker` owns a worker process (see worker.py). :class:`WorkerPool` hands out
reference-counted workers keyed by :class:`WorkerSettings`, so the same model in four roles runs
once. :class:`LocalBackend` is one role's handle on a shared worker: its requests carry the role's
session, whose KV state the worker keeps apart from the other roles'.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import re
import signal
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from ..errors import (
    ContextOverflowError,
    GenerationCancelled,
    ModelFileError,
    RequestError,
    WorkerCrashedError,
)
from .types import (
    ExitCallback,
    GenerationRequest,
    GenerationResult,
    Timings,
    TokenCallback,
    emit_token,
)

_STREAM_LIMIT = 16 * 1024 * 1024
#: The folder that holds the logomesh_tui package: a checkout's root, or site-packages.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# llama-cpp-python's words for a prompt that does not fit the window.
_OVERFLOW_RE = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


@dataclass(frozen=True)
class WorkerSettings:
    """Everything a worker process is started with; roles with equal settings share a worker."""

    path: Path
    n_ctx: int
    n_threads: int
    chat_format: str | None = None
    n_gpu_layers: int | None = None
    flash_attn: bool = False
    type_k: str | None = None
    type_v: str | None = None
    prompt_lookup: bool = False
    nice: int = 0

    def worker_config(self) -> dict:
        return {**asdict(self), "path": str(self.path)}


class LocalWorker:
    """One worker process. One request at a time, FIFO (asyncio.Lock is fair)."""

    def __init__(self, model_id: str, settings: WorkerSettings, *, load_timeout_s: float = 120.0,
                 turn_timeout_s: float = 300.0, token_probs: bool = True) -> None:
        self.model_id = model_id
        self.settings = settings
        self.path = Path(settings.path)
        self.n_ctx = settings.n_ctx
        self.n_threads = settings.n_threads
        self.load_timeout_s = load_timeout_s
        self.turn_timeout_s = turn_timeout_s
        self.token_probs = token_probs
        self.load_s: float | None = None
        #: The settings llama.cpp reports it was given (n_gpu_layers, flash_attn, type_k ...).
        self.applied: dict = {}
        #: Bytes of KV snapshot the worker holds per session (updated after every turn).
        self.state_bytes: dict[str, int] = {}
        self._proc: asyncio.subprocess.Process | None = None
        self._ps: psutil.Process | None = None
        self._lock = asyncio.Lock()
        self._pending: dict[str, asyncio.Queue] = {}
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._ready: asyncio.Future | None = None
        self._tasks: list[asyncio.Task] = []
        self._current: str | None = None
        self._current_session: str | None = None
        self._dead_reason: str | None = None
        self._closing = False
        # Called with a reason when the worker dies without being asked to (crash, kill, OOM).
        self.exit_listeners: list[ExitCallback] = []

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> float:
        cfg = self.settings.worker_config()
        env = dict(os.environ)
        env.setdefault("OMP_NUM_THREADS", str(self.n_threads))
        # The worker imports this very package. Run from a checkout (not installed, any
        # folder), put the checkout first on the worker's path so it runs the same code.
        if (Path(_PACKAGE_ROOT) / "pyproject.toml").is_file():
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "logomesh_tui.pool.worker", json.dumps(cfg),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, limit=_STREAM_LIMIT, env=env)
        self._ps = psutil.Process(self._proc.pid)
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._tasks = [asyncio.create_task(self._read_stdout()), asyncio.create_task(self._read_stderr())]
        try:
            msg = await asyncio.wait_for(asyncio.shield(self._ready), self.load_timeout_s)
        except TimeoutError:
            await self.close()
            raise ModelFileError(f"{self.model_id}: worker did not load within {self.load_timeout_s:.0f} s") from None
        if msg.get("ev") != "ready":
            await self.close()
            raise ModelFileError(f"{self.model_id}: llama.cpp could not load {self.path.name}: "
                                 f"{msg.get('message', 'worker exited')}")
        self.n_ctx = int(msg["n_ctx"])
        self.load_s = float(msg["load_s"])
        self.applied = dict(msg.get("applied") or {})
        return self.load_s

    async def close(self) -> None:
        proc = self._proc
        if proc is None:
            return
        self._closing = True
        if proc.returncode is None:
            if proc.stdin is not None:  # always a pipe; None only in the type
                with contextlib.suppress(Exception):
                    proc.stdin.write(b'{"op":"shutdown"}\n')
                    await proc.stdin.drain()
                    proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 3.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for t in self._tasks:
            t.cancel()
        self._dead_reason = self._dead_reason or "unloaded"
        self._fail_pending(WorkerCrashedError(f"{self.model_id}: unloaded"))

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self._proc and self._proc.returncode is None:
            self._proc.send_signal(sig)

    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None and self._dead_reason is None

    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def rss_bytes(self) -> int | None:
        if not self.alive() or self._ps is None:
            return 0
        try:
            return self._ps.memory_info().rss
        except psutil.Error:
            return 0

    @property
    def death_reason(self) -> str | None:
        return self._dead_reason

    # -- I/O -------------------------------------------------------------------------------
    async def _read_stderr(self) -> None:
        assert self._proc and self._proc.stderr
        async for raw in self._proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._stderr.append(line)

    async def _read_stdout(self) -> None:
        assert self._proc and self._proc.stdout
        async for raw in self._proc.stdout:
            try:
                msg = json.loads(raw)
            except json.JSONDecodeError:
                continue
            ev = msg.get("ev")
            if ev in ("ready", "load_failed"):
                if self._ready and not self._ready.done():
                    self._ready.set_result(msg)
                continue
            q = self._pending.get(msg.get("id", ""))
            if q is not None:
                q.put_nowait(msg)
        rc = await self._proc.wait()
        reason = self._describe_exit(rc)
        unexpected = not self._closing
        if self._dead_reason is None:
            self._dead_reason = reason
        if unexpected and self._ready and self._ready.done():
            for listener in list(self.exit_listeners):
                listener(self._dead_reason)
        if self._ready and not self._ready.done():
            self._ready.set_result({"ev": "load_failed", "message": reason})
        self._fail_pending(WorkerCrashedError(f"{self.model_id}: {reason}"))

    def _describe_exit(self, rc: int) -> str:
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = str(-rc)
            why = f"worker killed by {name}"
        else:
            why = f"worker exited with status {rc}"
        tail = next((line for line in reversed(self._stderr) if line.strip()), "")
        return f"{why}" + (f" ({tail[:160]})" if tail else "")

    def _fail_pending(self, exc: Exception) -> None:
        for q in self._pending.values():
            q.put_nowait({"ev": "crash", "error": exc})

    async def _send(self, msg: dict) -> None:
        if not self.alive():
            raise WorkerCrashedError(f"{self.model_id}: {self._dead_reason or 'worker not running'}")
        assert self._proc and self._proc.stdin
        try:
            self._proc.stdin.write(json.dumps(msg).encode() + b"\n")
            await self._proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise WorkerCrashedError(f"{self.model_id}: worker pipe closed") from exc

    def _request_error(self, message: str) -> Exception:
        """The error for a request the worker refused; the worker itself is fine."""
        m = _OVERFLOW_RE.search(message or "")
        if m:
            return ContextOverflowError(
                f"{self.model_id}: the prompt is {m.group(1)} tokens but the context window is "
                f"{m.group(2)}; shorten the prompt or load the model with a larger n_ctx "
                f"(LOGOMESH_N_CTX)")
        return RequestError(f"{self.model_id}: request failed: {message}")

    async def _request(self, msg: dict, on_event) -> dict:
        rid = uuid.uuid4().hex[:10]
        q: asyncio.Queue = asyncio.Queue()
        self._pending[rid] = q
        watched = False
        try:
            await self._send({**msg, "id": rid})
            self._current = rid
            while True:
                ev = await q.get()
                kind = ev.get("ev")
                if kind == "crash":
                    raise ev["error"]
                if kind == "error":
                    # A bad request (e.g. a prompt over the window) must not count as a crash:
                    # the engine would mark a healthy worker failed.
                    raise self._request_error(str(ev.get("message")))
                if kind in ("done", "count"):
                    return ev
                await on_event(ev)
        except asyncio.CancelledError:
            if self._current == rid and self.alive():
                # The caller gave up (its own turn timeout, a stop). Tell the worker; if it does
                # not even acknowledge, it hangs (SIGSTOP, a deadlock) and is ended, so the
                # engine marks the role failed instead of queueing turns behind a dead process.
                watched = True
                task = asyncio.get_running_loop().create_task(self._watch_abandoned(rid, q))
                self._tasks.append(task)
                task.add_done_callback(
                    lambda t: self._tasks.remove(t) if t in self._tasks else None)
            raise
        finally:
            self._current = None
            if not watched:
                self._pending.pop(rid, None)

    async def _watch_abandoned(self, rid: str, q: asyncio.Queue) -> None:
        """Cancel an abandoned request and kill the worker if it does not answer within a
        turn timeout (a worker that is merely slow acknowledges the cancel at its next token)."""
        try:
            with contextlib.suppress(WorkerCrashedError):
                await self._send({"op": "cancel", "id": rid})
            try:
                async with asyncio.timeout(self.turn_timeout_s):
                    while (await q.get()).get("ev") not in ("done", "count", "error", "crash"):
                        pass
            except TimeoutError:
                if self.alive():
                    self._dead_reason = (f"worker stopped answering (no reply within "
                                         f"{self.turn_timeout_s:g} s of a cancelled turn)")
                    self.kill()
        finally:
            self._pending.pop(rid, None)

    # -- API -------------------------------------------------------------------------------
    async def generate(self, request: GenerationRequest, on_token: TokenCallback | None = None,
                       *, session: str = "") -> GenerationResult:
        t_queue = time.perf_counter()
        async with self._lock:
            queue_s = time.perf_counter() - t_queue

            async def on_event(ev: dict) -> None:
                if ev.get("ev") == "token":
                    await emit_token(on_token, ev["text"])

            msg = {"op": "generate", "request": request.model_dump(), "session": session,
                   "token_probs": self.token_probs}
            self._current_session = session
            try:
                done = await self._request_within_timeout(msg, on_event)
            finally:
                self._current_session = None
            self.state_bytes = {k: int(v) for k, v in (done.get("states") or {}).items()}
            res = done["result"]
            timings = Timings(queue_s=queue_s, **res.pop("timings"))
            result = GenerationResult(**res, timings=timings, model_id=self.model_id)
            if result.finish_reason == "cancelled" and not result.text:
                raise GenerationCancelled(f"{self.model_id}: generation cancelled")
            return result

    async def cancel(self, session: str | None = None) -> None:
        """Cancel the request in flight; with ``session``, only if it is that session's."""
        if self._current is not None and (session is None or session == self._current_session):
            with contextlib.suppress(WorkerCrashedError):
                await self._send({"op": "cancel", "id": self._current})

    async def forget(self, session: str) -> None:
        """Drop a session's KV snapshot (its role left this worker)."""
        async def ignore(ev: dict) -> None:
            return None

        self.state_bytes.pop(session, None)
        if not self.alive():
            return
        async with self._lock:
            with contextlib.suppress(WorkerCrashedError):
                await self._request_within_timeout({"op": "forget", "session": session}, ignore)

    async def count_tokens(self, text: str) -> int:
        async def ignore(ev: dict) -> None:
            return None

        # Tokenizing is quick; it may interleave with nothing else on this worker's queue.
        async with self._lock:
            done = await self._request_within_timeout({"op": "tokenize", "text": text}, ignore)
        return int(done["n"])

    async def _request_within_timeout(self, msg: dict, on_event) -> dict:
        """A request that must be answered within the turn timeout; a worker that does not
        answer hangs: it is killed (the engine then marks the role failed)."""
        try:
            return await asyncio.wait_for(self._request(msg, on_event), self.turn_timeout_s)
        except TimeoutError:
            if self.alive():
                self._dead_reason = (f"worker stopped answering (no reply within "
                                     f"{self.turn_timeout_s:g} s)")
                self.kill()
            raise WorkerCrashedError(f"{self.model_id}: {self._dead_reason}") from None



class WorkerPool:
    """Reference-counted workers: :meth:`acquire` starts a worker or shares a running one with
    the same model and settings; :meth:`release` ends it when its last role lets go."""

    def __init__(self, make: Callable[[str, WorkerSettings], LocalWorker] | None = None) -> None:
        self._make = make or (lambda model_id, settings: LocalWorker(model_id, settings))
        self._workers: dict[WorkerSettings, LocalWorker] = {}
        self._refs: dict[WorkerSettings, int] = {}
        self._starting: dict[WorkerSettings, asyncio.Future] = {}

    def running(self, settings: WorkerSettings) -> LocalWorker | None:
        worker = self._workers.get(settings)
        return worker if worker is not None and worker.alive() else None

    def refs(self, worker: LocalWorker) -> int:
        return self._refs.get(worker.settings, 0) if self._workers.get(worker.settings) is worker \
            else 0

    async def acquire(self, model_id: str, settings: WorkerSettings,
                      make: Callable[[], LocalWorker] | None = None) -> tuple[LocalWorker, float]:
        """A started worker for ``settings`` and the seconds this call waited for it."""
        t0 = time.perf_counter()
        while True:
            worker = self.running(settings)
            if worker is not None:
                self._refs[settings] = self._refs.get(settings, 0) + 1
                return worker, time.perf_counter() - t0
            pending = self._starting.get(settings)
            if pending is None:
                break
            # Another role is starting this very worker: share it once it is up (or, if that
            # start failed, try again ourselves).
            with contextlib.suppress(Exception):
                await asyncio.shield(pending)
        fut = asyncio.get_running_loop().create_future()
        self._starting[settings] = fut
        worker = make() if make is not None else self._make(model_id, settings)
        try:
            await worker.start()
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: waiters only need to know it is over
            raise
        finally:
            self._starting.pop(settings, None)
        stale = self._workers.get(settings)
        if stale is not None and stale is not worker:
            await stale.close()  # a dead worker with this key: replaced
        self._workers[settings] = worker
        self._refs[settings] = 1
        fut.set_result(worker)
        return worker, time.perf_counter() - t0

    async def release(self, worker: LocalWorker, session: str) -> None:
        """One role lets go of ``worker``: its KV snapshot is dropped; the last one ends it."""
        settings = worker.settings
        if self._workers.get(settings) is not worker:
            await worker.close()  # replaced after a crash: nobody shares it any more
            return
        self._refs[settings] = self._refs.get(settings, 1) - 1
        if self._refs[settings] > 0:
            await worker.forget(session)
            return
        self._workers.pop(settings, None)
        self._refs.pop(settings, None)
        await worker.close()

    def workers(self) -> list[LocalWorker]:
        return list(self._workers.values())


class LocalBackend:
    """One role's handle on a (possibly shared) :class:`LocalWorker`.

    Memory is reported per role as the role's share of the worker: its RSS divided among the
    roles using it, so the pool's total counts each process once.
    """

    is_remote = False

    def __init__(self, model_id: str, settings: WorkerSettings, pool: WorkerPool, *,
                 load_timeout_s: float = 120.0, turn_timeout_s: float = 300.0,
                 token_probs: bool = True) -> None:
        self.model_id = model_id
        self.settings = settings
        self.n_ctx = settings.n_ctx
        self.load_s: float | None = None
        self.on_exit: ExitCallback | None = None
        self.session = uuid.uuid4().hex[:12]
        self._pool = pool
        self._worker: LocalWorker | None = None
        self._closed = False
        self._make = lambda: LocalWorker(model_id, settings, load_timeout_s=load_timeout_s,
                                         turn_timeout_s=turn_timeout_s, token_probs=token_probs)

    @property
    def worker(self) -> LocalWorker | None:
        return self._worker

    async def start(self) -> float:
        worker, waited = await self._pool.acquire(self.model_id, self.settings, self._make)
        self._worker = worker
        worker.exit_listeners.append(self._exited)
        self.n_ctx = worker.n_ctx
        # A role that joins a running worker is ready as soon as it joined.
        self.load_s = waited if self._pool.refs(worker) > 1 else (worker.load_s or waited)
        return self.load_s

    def _exited(self, reason: str) -> None:
        if self.on_exit is not None and not self._closed:
            self.on_exit(reason)

    def _require(self) -> LocalWorker:
        if self._worker is None or self._closed:
            raise WorkerCrashedError(f"{self.model_id}: worker not running")
        return self._worker

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        return await self._require().generate(request, on_token, session=self.session)

    async def count_tokens(self, text: str) -> int:
        return await self._require().count_tokens(text)

    async def cancel(self) -> None:
        if self._worker is not None:
            await self._worker.cancel(self.session)

    def shared_with(self) -> int:
        """How many roles (this one included) the worker serves."""
        return self._pool.refs(self._worker) if self._worker is not None else 0

    def state_bytes(self) -> int:
        """Bytes of this role's KV snapshot in the worker (0 while its cache is the live one)."""
        return self._worker.state_bytes.get(self.session, 0) if self._worker else 0

    def rss_bytes(self) -> int | None:
        if self._worker is None or not self.alive():
            return 0
        return (self._worker.rss_bytes() or 0) // max(1, self.shared_with())

    def pid(self) -> int | None:
        return self._worker.pid() if self._worker else None

    def alive(self) -> bool:
        return not self._closed and self._worker is not None and self._worker.alive()

    @property
    def death_reason(self) -> str | None:
        if self._worker is not None and self._worker.death_reason:
            return self._worker.death_reason
        return "unloaded" if self._closed else None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the worker process (every role sharing it goes down with it)."""
        if self._worker is not None:
            self._worker.kill(sig)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        worker, self._worker = self._worker, None
        if worker is not None:
            with contextlib.suppress(ValueError):
                worker.exit_listeners.remove(self._exited)
            await self._pool.release(worker, self.session)
            self._worker = worker  # death_reason and pid stay readable after close
