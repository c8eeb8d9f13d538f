"""Run model-written JavaScript under node, confined: the only way model code is executed.

A :class:`Sandbox` is a temporary folder. ``run_node`` starts node in it with

- node's permission model (``--experimental-permission``): reads only from the folder, the
  ``read_paths`` given and the network-blocking preload; writes only inside the folder; no child
  processes, no worker threads, no native addons;
- no network: a ``--require`` preload replaces the net/tls/http/https/http2/dgram/dns entry points,
  ``fetch`` and ``WebSocket`` with functions that throw, and, where ``unshare -n`` works, the
  process gets an empty network namespace as well;
- limits: a wall-clock timeout after which the whole process group is killed, a V8 heap cap
  (``--max-old-space-size``) plus an ``RLIMIT_DATA`` cap for memory outside the heap, a file-size
  cap, and stdout/stderr truncated at ``output_bytes``;
- a minimal environment (``PATH``, ``HOME`` = the folder, ``TZ=UTC``, ``LANG=C``), so none of the
  user's variables, and so none of their secrets, reach the script.

Every refusal (a write outside, a spawn, a connect) is reported as ``denied`` even when the script
catches the exception, because the preload writes a marker to stderr first.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LogoMeshError

PRELOAD = Path(__file__).resolve().with_name("preload.cjs")
DENIED_MARK = "LOGOMESH_SANDBOX_DENIED"
# What V8 and node print when an allocation cannot be served under the caps.
_MEMORY_SIGNS = ("JavaScript heap out of memory", "Reached heap limit", "Allocation failed",
                 "Array buffer allocation failed", "Cannot allocate memory")
# Node itself (code, ICU, libuv) needs this much data segment beyond the JS heap.
_NODE_BASE_DATA_MB = 256
_MAX_FILE_MB = 64


class SandboxError(LogoMeshError):
    """A sandbox could not be set up or was asked to do something it refuses."""


@dataclass(frozen=True)
class SandboxLimits:
    """What one run may use."""

    timeout_s: float = 10.0
    memory_mb: int = 256
    output_bytes: int = 1_000_000


@dataclass(frozen=True)
class SandboxResult:
    """How one run ended."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    memory_exceeded: bool
    denied: bool
    wall_s: float

    @property
    def ok(self) -> bool:
        """The script exited 0 within its limits and nothing was refused."""
        return (self.exit_code == 0 and not self.timed_out and not self.memory_exceeded
                and not self.denied)

    def reason(self) -> str:
        """One short phrase for a failed run (empty when ok)."""
        if self.timed_out:
            return "timed out"
        if self.memory_exceeded:
            return "ran out of memory"
        if self.denied:
            return "tried something the sandbox refuses (file write outside, process, network)"
        if self.exit_code != 0:
            return f"exited with {self.exit_code}"
        return ""


@functools.cache
def _unshare_prefix() -> tuple[str, ...]:
    """``unshare -n`` when it exists and this user may create a network namespace."""
    exe = shutil.which("unshare")
    if exe is None:
        return ()
    for cmd in ([exe, "-n", "true"], [exe, "-r", "-n", "true"]):
        try:
            if subprocess.run(cmd, capture_output=True, timeout=5).returncode == 0:
                return tuple(cmd[:-1])
        except (OSError, subprocess.TimeoutExpired):
            continue
    return ()


def _find_node() -> str:
    node = shutil.which("node")
    if node is None:
        raise SandboxError("node is not installed or not on PATH: install Node.js >= 20 to run "
                           "checks in the sandbox")
    return node


class Sandbox:
    """A temporary folder in which node runs model-written JavaScript.

    ``with Sandbox(read_paths=[node_modules_dir]) as sb:`` creates the folder; leaving removes it.
    """

    root: Path

    def __init__(self, *, read_paths: Sequence[Path] = (),
                 limits: SandboxLimits = SandboxLimits()) -> None:
        self.read_paths = [Path(p).resolve() for p in read_paths]
        self.limits = limits
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Sandbox:
        self._tmp = tempfile.TemporaryDirectory(prefix="logomesh-sandbox-")
        self.root = Path(self._tmp.name).resolve()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _inside(self, relpath: str) -> Path:
        if self._tmp is None:
            raise SandboxError("the sandbox is not open: use `with Sandbox() as sb:`")
        p = Path(relpath)
        if not relpath or p.is_absolute() or ".." in p.parts:
            raise SandboxError(f"file name {relpath!r} leaves the sandbox folder: use a relative "
                               "path without '..'")
        dest = (self.root / p).resolve()
        if not dest.is_relative_to(self.root):
            raise SandboxError(f"file name {relpath!r} leaves the sandbox folder through a link: "
                               "use a plain relative path")
        return dest

    def write(self, relpath: str, text: str) -> Path:
        """Write ``text`` to ``relpath`` inside the folder; refuse a path that leaves it."""
        dest = self._inside(relpath)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
        return dest

    def link(self, relpath: str, target: Path) -> Path:
        """A symlink inside the folder to ``target`` (e.g. ``node_modules``); the target must be
        one of ``read_paths`` or inside one, so the permission model lets node read it."""
        target = Path(target).resolve()
        if not any(target == r or target.is_relative_to(r) for r in self.read_paths):
            raise SandboxError(f"{target} is not among the sandbox's read paths: pass it in "
                               "read_paths")
        dest = self._inside(relpath)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(target, target_is_directory=target.is_dir())
        return dest

    def _command(self, entry: str, args: Sequence[str], limits: SandboxLimits) -> list[str]:
        script = self._inside(entry)
        reads = [str(self.root), str(PRELOAD), *map(str, self.read_paths)]
        return [*_unshare_prefix(), _find_node(),
                "--experimental-permission",
                # One flag per path: Node 20.20 does not split a comma-separated list.
                *(f"--allow-fs-read={r}" for r in reads),
                f"--allow-fs-write={self.root}",
                "--disable-warning=ExperimentalWarning",
                f"--max-old-space-size={limits.memory_mb}",
                "--require", str(PRELOAD),
                str(script), *args]

    def _env(self) -> dict[str, str]:
        node_dir = str(Path(_find_node()).parent)
        return {"PATH": f"{node_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": str(self.root),
                "TZ": "UTC", "LANG": "C"}

    async def run_node(self, entry: str, *, args: Sequence[str] = (), stdin: str = "",
                       limits: SandboxLimits | None = None) -> SandboxResult:
        """Run ``node entry`` in the folder under the limits; never raises for what the script
        does (a crash, a loop, a refusal all come back in the result)."""
        limits = limits or self.limits
        cmd = self._command(entry, args, limits)
        data_bytes = (limits.memory_mb + _NODE_BASE_DATA_MB) * 2**20

        def confine() -> None:
            resource.setrlimit(resource.RLIMIT_DATA, (data_bytes, data_bytes))
            resource.setrlimit(resource.RLIMIT_FSIZE, (_MAX_FILE_MB * 2**20,) * 2)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        t0 = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=self.root, env=self._env(), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True, preexec_fn=confine)
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(stdin.encode())
            await proc.stdin.drain()
        proc.stdin.close()
        out_task = asyncio.create_task(_read_capped(proc.stdout, limits.output_bytes))
        err_task = asyncio.create_task(_read_capped(proc.stderr, limits.output_bytes))
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), timeout=limits.timeout_s)
        except TimeoutError:
            timed_out = True
        finally:
            # Also on cancellation: nothing the script started may outlive the run.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            if proc.returncode is None:
                await proc.wait()
        stdout, stderr = await out_task, await err_task
        wall = time.perf_counter() - t0
        code = None if timed_out else proc.returncode
        memory = any(sign in stderr for sign in _MEMORY_SIGNS)
        denied = DENIED_MARK in stderr or "ERR_ACCESS_DENIED" in stderr
        return SandboxResult(exit_code=code, stdout=stdout, stderr=stderr, timed_out=timed_out,
                             memory_exceeded=memory and not timed_out, denied=denied,
                             wall_s=round(wall, 3))

    def run_node_sync(self, entry: str, **kw: Any) -> SandboxResult:
        """:meth:`run_node` for synchronous callers (also from inside a running event loop)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.run_node(entry, **kw))
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self.run_node(entry, **kw)).result()


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> str:
    """Read a stream to its end, keeping the first ``cap`` bytes (the rest is drained, so the
    child never blocks on a full pipe)."""
    kept = bytearray()
    dropped = 0
    while chunk := await stream.read(65536):
        room = cap - len(kept)
        if room > 0:
            kept += chunk[:room]
        dropped += max(0, len(chunk) - max(room, 0))
    text = kept.decode("utf-8", errors="replace")
    if dropped:
        text += f"\n[... {dropped} more bytes cut by the sandbox]"
    return text

