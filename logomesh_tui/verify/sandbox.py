"""Run model-written JavaScript under node, confined: the only way model code is executed.

A :class:`Sandbox` is a temporary folder. ``run_node`` starts node in it behind three walls:

1. **Kernel namespaces** (the outer wall), where the machine allows them: bubblewrap
   (``bwrap --unshare-all``) gives the run empty network, PID, IPC and mount namespaces, the
   system, node and every read path bound read-only, and the run's folder as the one writable
   place; without bubblewrap, ``unshare --net --pid --fork --mount-proc`` gives network and PID
   namespaces. Either way a signal reaches only the run's own processes and no socket reaches
   anything.
2. **Node's permission model** (``--experimental-permission``): reads only from the folder, the
   read paths and the preload; writes only inside the folder (its real, resolved path); no child
   processes, worker threads or native addons. Links to read paths (``link``) live beside the
   folder, never inside it, so a write through one falls outside the writable path.
3. **A preload** (``--require preload.cjs``) that closes every socket-making API (net, tls, http,
   http2, dgram, dns and its resolvers, ``fetch``, ``WebSocket``), signals to other processes,
   the inspector of other processes and child-process internals, and that records every refusal,
   its own and the permission model's, on stderr even when the script catches it.

Limits: a wall-clock timeout after which the whole process group is killed, a V8 heap cap plus an
``RLIMIT_DATA`` cap, a file-size cap, and stdout/stderr truncated at ``output_bytes``. The
environment is minimal (``PATH``, ``HOME`` = the folder, ``TZ=UTC``, ``LANG=C``), so none of the
user's variables, and none of their secrets, reach the script. The result says which walls were
in force (``walls``) and what was refused (``refusals``). docs/sandbox.md is the threat model.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
import re
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
_DENIED_LINE_RE = re.compile(re.escape(DENIED_MARK) + r": ([^\n]{0,200})")
# What V8 and node print when an allocation cannot be served under the caps.
_MEMORY_SIGNS = ("JavaScript heap out of memory", "Reached heap limit", "Allocation failed",
                 "Array buffer allocation failed", "Cannot allocate memory")
# Node itself (code, ICU, libuv) needs this much data segment beyond the JS heap.
_NODE_BASE_DATA_MB = 256
_MAX_FILE_MB = 64
_MAX_REFUSALS_KEPT = 50
# The system folders a run sees, read-only, under bubblewrap.
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

WALL_BWRAP = "namespaces (bwrap)"
WALL_UNSHARE = "namespaces (unshare)"
WALL_PERMISSION = "node permission model"
WALL_PRELOAD = "preload"


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
    # The walls that were in force, outermost first (``WALL_*``).
    walls: tuple[str, ...] = ()
    # What the preload and the permission model refused, in order (at most 50 kept).
    refusals: tuple[str, ...] = ()

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
            what = f" ({self.refusals[0]})" if self.refusals else ""
            return f"tried something the sandbox refuses{what}"
        if self.exit_code != 0:
            return f"exited with {self.exit_code}"
        return ""


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def _bwrap() -> str | None:
    """bubblewrap's path when it exists and may create namespaces here."""
    exe = shutil.which("bwrap")
    if exe is None:
        return None
    probe = [exe, "--unshare-all", "--die-with-parent", *_system_binds(), "--proc", "/proc",
             "--dev", "/dev", "--", "/bin/true"]
    return exe if _works(probe) else None


@functools.cache
def _unshare_prefix() -> tuple[str, ...]:
    """``unshare`` with network and PID namespaces, when this user may create them."""
    exe = shutil.which("unshare")
    if exe is None:
        return ()
    for cmd in ([exe, "--net", "--pid", "--fork", "--mount-proc"],
                [exe, "--map-root-user", "--net", "--pid", "--fork", "--mount-proc"]):
        if _works([*cmd, "true"]):
            return tuple(cmd)
    return ()


def _system_binds() -> list[str]:
    args: list[str] = []
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    return args


def _find_node() -> str:
    node = shutil.which("node")
    if node is None:
        raise SandboxError("node is not installed or not on PATH: install Node.js >= 20 to run "
                           "checks in the sandbox")
    return node


def kernel_walls() -> str | None:
    """The outer wall this machine gives (``WALL_BWRAP`` or ``WALL_UNSHARE``), or None."""
    if _bwrap():
        return WALL_BWRAP
    if _unshare_prefix():
        return WALL_UNSHARE
    return None


class Sandbox:
    """A temporary folder in which node runs model-written JavaScript.

    ``with Sandbox(read_paths=[node_modules_dir]) as sb:`` creates the folder; leaving removes it.
    ``namespaces=False`` runs behind the inner walls only (node's permission model and the
    preload), as on a machine where namespaces cannot be made.
    """

    root: Path

    def __init__(self, *, read_paths: Sequence[Path] = (),
                 limits: SandboxLimits = SandboxLimits(), namespaces: bool = True) -> None:
        self.read_paths = [Path(p).resolve() for p in read_paths]
        self.limits = limits
        self.namespaces = namespaces
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._base: Path | None = None

    def __enter__(self) -> Sandbox:
        self._tmp = tempfile.TemporaryDirectory(prefix="logomesh-sandbox-")
        # The run's folder is one level down: what ``link`` places beside it is readable and
        # found by node's module resolution, but outside the one writable path.
        self._base = Path(self._tmp.name).resolve()
        self.root = self._base / "run"
        self.root.mkdir()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self._base = None

    def _under(self, base: Path, relpath: str) -> Path:
        if self._tmp is None:
            raise SandboxError("the sandbox is not open: use `with Sandbox() as sb:`")
        p = Path(relpath)
        if not relpath or p.is_absolute() or ".." in p.parts:
            raise SandboxError(f"file name {relpath!r} leaves the sandbox folder: use a relative "
                               "path without '..'")
        dest = (base / p).resolve()
        if not dest.is_relative_to(base):
            raise SandboxError(f"file name {relpath!r} leaves the sandbox folder through a link: "
                               "use a plain relative path")
        return dest

    def _inside(self, relpath: str) -> Path:
        return self._under(self.root, relpath)

    def write(self, relpath: str, text: str) -> Path:
        """Write ``text`` to ``relpath`` inside the folder; refuse a path that leaves it."""
        dest = self._inside(relpath)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
        return dest

    def link(self, name: str, target: Path) -> Path:
        """A read-only view of ``target`` (e.g. ``node_modules``) beside the folder, where node's
        module resolution finds it from every script in the folder. The target must be one of
        ``read_paths`` or inside one; the run can read it and never write it."""
        target = Path(target).resolve()
        if not any(target == r or target.is_relative_to(r) for r in self.read_paths):
            raise SandboxError(f"{target} is not among the sandbox's read paths: pass it in "
                               "read_paths")
        assert self._base is not None or self._tmp is None
        if "/" in name or name in ("run", ".", ".."):
            raise SandboxError(f"link name {name!r} must be one plain name, such as node_modules")
        dest = self._under(self._base or self.root, name)
        dest.symlink_to(target, target_is_directory=target.is_dir())
        return dest

    def walls(self) -> tuple[str, ...]:
        """The walls a run of this sandbox gets, outermost first."""
        outer = kernel_walls() if self.namespaces else None
        return (*((outer,) if outer else ()), WALL_PERMISSION, WALL_PRELOAD)

    def _node_argv(self, script: Path, args: Sequence[str], limits: SandboxLimits) -> list[str]:
        assert self._base is not None
        reads = [str(self._base), str(PRELOAD), *map(str, self.read_paths)]
        return [_find_node(),
                "--experimental-permission",
                # One flag per path: Node 20.20 does not split a comma-separated list.
                *(f"--allow-fs-read={r}" for r in reads),
                f"--allow-fs-write={self.root}",
                "--disable-warning=ExperimentalWarning",
                f"--max-old-space-size={limits.memory_mb}",
                "--require", str(PRELOAD),
                str(script), *args]

    def _bwrap_argv(self, exe: str) -> list[str]:
        assert self._base is not None
        node = Path(_find_node()).resolve()
        binds = [*_system_binds(), "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        ro = [self._base, PRELOAD.parent, node.parent, *self.read_paths]
        for path in dict.fromkeys(ro):
            binds += ["--ro-bind", str(path), str(path)]
        binds += ["--bind", str(self.root), str(self.root)]
        return [exe, "--unshare-all", "--die-with-parent", "--new-session",
                "--hostname", "sandbox", *binds, "--chdir", str(self.root), "--"]

    def _command(self, entry: str, args: Sequence[str], limits: SandboxLimits) -> list[str]:
        argv = self._node_argv(self._inside(entry), args, limits)
        outer = kernel_walls() if self.namespaces else None
        if outer == WALL_BWRAP:
            exe = _bwrap()
            assert exe is not None
            return [*self._bwrap_argv(exe), *argv]
        if outer == WALL_UNSHARE:
            return [*_unshare_prefix(), *argv]
        return argv

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
        walls = self.walls()
        run = await run_confined(cmd, cwd=self.root, env=self._env(), stdin=stdin,
                                 timeout_s=limits.timeout_s,
                                 data_mb=limits.memory_mb + _NODE_BASE_DATA_MB,
                                 file_mb=_MAX_FILE_MB, output_bytes=limits.output_bytes)
        memory = any(sign in run.stderr for sign in _MEMORY_SIGNS)
        return SandboxResult(exit_code=run.exit_code, stdout=run.stdout, stderr=run.stderr,
                             timed_out=run.timed_out,
                             memory_exceeded=memory and not run.timed_out,
                             denied=bool(run.refusals), wall_s=run.wall_s, walls=walls,
                             refusals=tuple(run.refusals))

    def run_node_sync(self, entry: str, **kw: Any) -> SandboxResult:
        """:meth:`run_node` for synchronous callers (also from inside a running event loop)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.run_node(entry, **kw))
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self.run_node(entry, **kw)).result()


@dataclass(frozen=True)
class ConfinedRun:
    """How one confined process ended (exit code None when it was killed at its timeout)."""

    exit_code: int | None
    stdout: str
    stderr: str
    refusals: list[str]
    timed_out: bool
    wall_s: float


async def run_confined(argv: Sequence[str], *, cwd: Path, env: dict[str, str], stdin: str | None,
                       timeout_s: float, data_mb: int, file_mb: int,
                       output_bytes: int) -> ConfinedRun:
    """Run ``argv`` in a session of its own under data and file-size limits; at the timeout
    (or on cancellation) its whole process group is killed. Output is capped, and the
    preload's refusal records are collected from all of stderr."""

    def confine() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (data_mb * 2**20,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * 2**20,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        start_new_session=True, preexec_fn=confine)
    assert proc.stdout is not None and proc.stderr is not None
    if stdin is not None:
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(stdin.encode())
            await proc.stdin.drain()
        proc.stdin.close()
    out_task = asyncio.create_task(_read_capped(proc.stdout, output_bytes))
    err_task = asyncio.create_task(_read_capped(proc.stderr, output_bytes))
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), timeout=timeout_s)
    except TimeoutError:
        timed_out = True
    finally:
        # Also on cancellation: nothing the process started may outlive the run. Under
        # bwrap, killing it takes its namespace (and every process in it) down with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.returncode is None:
            await proc.wait()
    (stdout, _), (stderr, refusals) = await out_task, await err_task
    return ConfinedRun(exit_code=None if timed_out else proc.returncode, stdout=stdout,
                       stderr=stderr, refusals=refusals, timed_out=timed_out,
                       wall_s=round(time.perf_counter() - t0, 3))


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> tuple[str, list[str]]:
    """Read a stream to its end, keeping the first ``cap`` bytes (the rest is drained, so the
    child never blocks on a full pipe), and every refusal the preload recorded in it, also in
    the part that is cut (output flooded before a refusal cannot hide it)."""
    kept = bytearray()
    dropped = 0
    refusals: list[str] = []
    pending = b""
    while chunk := await stream.read(65536):
        room = cap - len(kept)
        if room > 0:
            kept += chunk[:room]
        dropped += max(0, len(chunk) - max(room, 0))
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop()[-4096:]
        _collect(lines, refusals)
    _collect([pending], refusals)
    text = kept.decode("utf-8", errors="replace")
    if dropped:
        text += f"\n[... {dropped} more bytes cut by the sandbox]"
    return text, refusals


def _collect(lines: list[bytes], refusals: list[str]) -> None:
    for line in lines:
        if DENIED_MARK.encode() in line:
            m = _DENIED_LINE_RE.search(line.decode("utf-8", errors="replace"))
            what = m.group(1).strip() if m else "refused"
        elif b"ERR_ACCESS_DENIED" in line:
            # node's own report of a refusal nothing caught.
            what = "permission model"
        else:
            continue
        if len(refusals) < _MAX_REFUSALS_KEPT:
            refusals.append(what)
        elif refusals[-1] != "...":
            refusals.append("...")
