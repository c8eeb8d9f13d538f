"""LocalBackend: a llama.cpp model in its own worker process (see worker.py)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import json
import os
import re
import signal
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil

from ..errors import (
    ContextOverflowError,
    GenerationCancelled,
    ModelFileError,
    RequestError,
    WorkerCrashedError,
)
from .types import GenerationRequest, GenerationResult, Timings, TokenCallback

_STREAM_LIMIT = 16 * 1024 * 1024
#: The folder that holds the logomesh_tui package: a checkout's root, or site-packages.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# llama-cpp-python's words for a prompt that does not fit the window.
_OVERFLOW_RE = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


class LocalBackend:
    """Serves one model from a worker process. One request at a time, FIFO (asyncio.Lock is fair)."""

    is_remote = False

    def __init__(self, model_id: str, path: Path, *, n_ctx: int, n_threads: int,
                 chat_format: str | None = None, load_timeout_s: float = 120.0,
                 turn_timeout_s: float = 300.0, token_probs: bool = True, nice: int = 0) -> None:
        self.model_id = model_id
        self.path = Path(path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.chat_format = chat_format
        self.load_timeout_s = load_timeout_s
        self.turn_timeout_s = turn_timeout_s
        self.token_probs = token_probs
        self.nice = nice
        self.load_s: float | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._ps: psutil.Process | None = None
        self._lock = asyncio.Lock()
        self._pending: dict[str, asyncio.Queue] = {}
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._ready: asyncio.Future | None = None
        self._tasks: list[asyncio.Task] = []
        self._current: str | None = None
        self._dead_reason: str | None = None
        self._closing = False
        # Called with a reason when the worker dies without being asked to (crash, kill, OOM).
        self.on_exit: Callable[[str], None] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> float:
        cfg = {"path": str(self.path), "n_ctx": self.n_ctx, "n_threads": self.n_threads,
               "chat_format": self.chat_format, "nice": self.nice}
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
        if unexpected and self.on_exit is not None and self._ready and self._ready.done():
            self.on_exit(self._dead_reason)
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
    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        t_queue = time.perf_counter()
        async with self._lock:
            queue_s = time.perf_counter() - t_queue

            async def on_event(ev: dict) -> None:
                if ev.get("ev") == "token" and on_token is not None:
                    r = on_token(ev["text"])
                    if inspect.isawaitable(r):
                        await r

            msg = {"op": "generate", "request": request.model_dump(), "token_probs": self.token_probs}
            done = await self._request_within_timeout(msg, on_event)
            res = done["result"]
            timings = Timings(queue_s=queue_s, **res.pop("timings"))
            result = GenerationResult(**res, timings=timings, model_id=self.model_id)
            if result.finish_reason == "cancelled" and not result.text:
                raise GenerationCancelled(f"{self.model_id}: generation cancelled")
            return result

    async def cancel(self) -> None:
        if self._current is not None:
            with contextlib.suppress(WorkerCrashedError):
                await self._send({"op": "cancel", "id": self._current})

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
