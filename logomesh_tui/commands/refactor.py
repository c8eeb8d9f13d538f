"""``code.refactor(path, output=...)``: the code pipeline run from the command language.

The pipeline runs on the caller's event loop, beside the engine's workers it talks to. What
blocks (``tsc`` subprocesses, the first-time ``npm install``, writing the output folder) runs in
threads through :func:`asyncio.to_thread`, so the dashboard keeps drawing while it waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import LogoMeshError
from ..safe_names import safe_component

DEFAULT_OUTPUT_ROOT = Path("refactor-out")


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
                   sessions_dir: Path | None = None, options: Any = None,
                   apply: bool = False) -> str:
    """Refactor ``path`` with every loaded role, write ``out_dir``; return a summary line.

    ``on_progress`` is called on the caller's loop with each progress line. ``apply`` also
    writes the kept changes into the files (see :mod:`logomesh_tui.codepipe.apply`); a tree
    git does not hold clean is refused before any model turn.
    """
    from ..codepipe.apply import apply_changes, check_clean
    from ..codepipe.pipeline import load_inputs, run_refactor
    from ..codepipe.report import write_output
    from ..verify.toolchain import ensure_tsc

    roles = check_inputs(engine, path)
    base, files = load_inputs(path)
    if apply:
        await asyncio.to_thread(check_clean, [base / f for f in files])
    executors = {r: engine.executor(r) for r in roles}
    recorder = None
    if sessions_dir is not None:
        from ..sessions.store import SessionStore

        recorder = SessionStore(sessions_dir).recorder()

    if on_progress is not None:
        on_progress(f"checking the TypeScript toolchain; roles: {', '.join(roles)}")
    toolchain = await asyncio.to_thread(ensure_tsc)
    result = await run_refactor(executors, path, options=options, toolchain=toolchain,
                                on_progress=on_progress, recorder=recorder)
    applied = None
    if apply and result.accepted:
        applied = await asyncio.to_thread(apply_changes, base, result.files_before,
                                          result.files_after, out_dir / "revert.patch")
    await asyncio.to_thread(write_output, result, out_dir, applied)
    compiles = "yes" if result.compile_after.ok else "no"
    if not result.compile_before.ok and not result.compile_after.ok:
        compiles = "no (the input did not either)"
    saved = "" if recorder is None or not getattr(recorder, "saving", True) else \
        f"; session {recorder.session_id}"
    wrote = (f"; applied to {', '.join(applied.files)} (undo: {applied.undo_command()})"
             if applied is not None and applied.files else "")
    return (f"refactor {path}: compiles {compiles}; {len(result.accepted)} of "
            f"{len(result.changes)} change(s) kept; output {out_dir}/ (report.md){saved}{wrote}")
