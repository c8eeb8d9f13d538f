"""``code.refactor(path, output=...)``: the code pipeline run from the command language.

The pipeline type-checks with ``tsc`` through blocking ``subprocess.run`` calls (and may run
``npm install`` the first time), so running it on the caller's event loop would freeze the
dashboard for each check. It therefore runs on its own loop in a daemon thread; the role
executors stay on the caller's loop and every model call hops back there
(:class:`ThreadBridgeExecutor`), because the engine's workers belong to that loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import LogoMeshError
from ..pool.types import GenerationRequest, GenerationResult, TokenCallback
from ..safe_names import safe_component

DEFAULT_OUTPUT_ROOT = Path("refactor-out")


class RefactorCancelled(LogoMeshError):
    """The front end cancelled the refactor while it ran."""


def output_name(name: str) -> str:
    """A safe single-component folder name for ``name`` (the same rules as export names)."""
    return safe_component(name, what="output", example='"refactor-out/my-run" (it is created '
                          'under refactor-out/)')


def output_dir(path: str, output: str | None, root: Path = DEFAULT_OUTPUT_ROOT) -> Path:
    """Where a refactor of ``path`` writes: ``root/<name>``, never outside ``root``.

    ``output`` may be ``"NAME"`` or ``"refactor-out/NAME"`` (the root's own name as prefix);
    ``None`` names the folder after the input file or folder.
    """
    if output is None:
        name = output_name(Path(path).stem or "refactor")
    else:
        text = output.strip().replace("\\", "/")
        prefix = root.name + "/"
        name = output_name(text[len(prefix):] if text.startswith(prefix) else text)
    target = root / name
    real_root = root.resolve()
    real = target.resolve()
    if real == real_root or not real.is_relative_to(real_root):
        raise LogoMeshError(f"output {output!r} resolves outside {root}/; choose another name")
    return target


class ThreadBridgeExecutor:
    """A role executor used from another thread's loop: each call runs on ``loop``.

    ``on_token`` callbacks must be plain functions; they are called on the calling thread's loop.
    """

    def __init__(self, inner: Any, loop: asyncio.AbstractEventLoop,
                 cancelled: threading.Event) -> None:
        self._inner = inner
        self._loop = loop
        self._cancelled = cancelled
        self.role = getattr(inner, "role", None)

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def n_ctx(self) -> int:
        return self._inner.n_ctx

    async def _on_home_loop(self, make: Callable[[], Any]) -> Any:
        if self._cancelled.is_set():
            raise RefactorCancelled("refactor cancelled")

        async def call() -> Any:
            return await make()

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call(), self._loop))

    async def generate(self, request: GenerationRequest,
                       on_token: TokenCallback | None = None) -> GenerationResult:
        here = asyncio.get_running_loop()
        relay = None
        if on_token is not None:
            def relay(text: str) -> None:
                here.call_soon_threadsafe(on_token, text)
        return await self._on_home_loop(lambda: self._inner.generate(request, on_token=relay))

    async def count_tokens(self, text: str) -> int:
        return await self._on_home_loop(lambda: self._inner.count_tokens(text))

    async def cancel(self) -> None:
        await self._on_home_loop(self._inner.cancel)


def check_inputs(engine: Any, path: str) -> list[str]:
    """The loaded roles, after the cheap checks that need no thread: a role, and the path."""
    from ..codepipe.pipeline import load_inputs

    if engine is None:
        raise LogoMeshError("no model pool is running here; start the dashboard or "
                            "`logomesh-tui shell` to load models")
    roles = [m.role for m in engine.get_active_models()]
    if not roles:
        raise LogoMeshError('no role is loaded; llm.registry.load("qwen2.5-coder-1.5b", '
                            '"primary-analyzer") first')
    load_inputs(path)  # raises InputError: missing path, not TypeScript
    return roles


async def refactor(engine: Any, path: str, out_dir: Path, *,
                   on_progress: Callable[[str], None] | None = None,
                   sessions_dir: Path | None = None, options: Any = None) -> str:
    """Refactor ``path`` with every loaded role, write ``out_dir``; return a summary line.

    ``on_progress`` is called on the caller's loop with each progress line.
    """
    from ..codepipe.pipeline import run_refactor
    from ..codepipe.report import write_output
    from ..codepipe.toolchain import ensure_tsc

    roles = check_inputs(engine, path)
    home = asyncio.get_running_loop()
    cancelled = threading.Event()
    executors = {r: ThreadBridgeExecutor(engine.executor(r), home, cancelled) for r in roles}

    def progress(line: str) -> None:
        if on_progress is not None:
            home.call_soon_threadsafe(on_progress, line)

    recorder = None
    if sessions_dir is not None:
        from ..sessions.store import SessionStore

        recorder = SessionStore(sessions_dir).recorder()

    async def work() -> Any:
        progress(f"checking the TypeScript toolchain; roles: {', '.join(roles)}")
        toolchain = ensure_tsc()
        result = await run_refactor(executors, path, options=options, toolchain=toolchain,
                                    on_progress=progress, recorder=recorder)
        write_output(result, out_dir)
        return result

    done: asyncio.Future[Any] = home.create_future()

    def settle(fn: Callable[..., None], value: Any) -> None:
        if not done.done():
            fn(value)

    def thread_main() -> None:
        try:
            value = asyncio.run(work())
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            home.call_soon_threadsafe(settle, done.set_exception, exc)
        else:
            home.call_soon_threadsafe(settle, done.set_result, value)

    # daemon: an app that quits mid-run does not wait for tsc; model calls then fail at once.
    threading.Thread(target=thread_main, name="code.refactor", daemon=True).start()
    try:
        result = await asyncio.shield(done)
    except asyncio.CancelledError:
        cancelled.set()
        raise
    compiles = "yes" if result.compile_after.ok else "no"
    if not result.compile_before.ok and not result.compile_after.ok:
        compiles = "no (the input did not either)"
    saved = "" if recorder is None or not getattr(recorder, "saving", True) else \
        f"; session {recorder.session_id}"
    return (f"refactor {path}: compiles {compiles}; {len(result.accepted)} of "
            f"{len(result.changes)} change(s) kept; output {out_dir}/ (report.md){saved}")
