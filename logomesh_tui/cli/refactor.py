"""`logomesh-tui refactor PATH -o DIR`: the roles refactor a .ts/.tsx file or folder; tsc verifies.

The path and the TypeScript toolchain are checked before any model is loaded, so a typo or a
missing node fails in a second with one line saying what to do.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from ..config import EngineConfig
from ..conversation.roles import SEED_ROLES
from ..errors import LogoMeshError

# The default pool: the four offline models, strongest as the analyzer (it also synthesizes).
DEFAULT_ROLES = dict(zip(SEED_ROLES, ["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b",
                                       "gemma-3-270m", "smollm2-135m"], strict=True))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "refactor", help="models refactor a .ts/.tsx file or folder, verified by tsc",
        description="The roles analyse the code (performance, maintainability, type safety, "
                    "architecture), propose changes, critique, synthesize and review; every kept "
                    "change compiles under tsc --strict. Writes the result to --output.")
    p.add_argument("path", help="a .ts/.tsx file or a folder of them")
    p.add_argument("-o", "--output", default="refactor-out", help="output folder (default: %(default)s)")
    p.add_argument("--role", action="append", default=[], metavar="ROLE=MODEL",
                   help="assign a model to a role (repeat); default: the four offline models")
    p.add_argument("--iterations", type=int, default=3, metavar="N",
                   help="compile-repair rounds for the synthesis of each change (default 3)")
    p.add_argument("--repairs", type=int, default=1, metavar="N",
                   help="compile-repair rounds for each proposal (default 1)")
    p.add_argument("--max-chunks", type=int, default=None, metavar="N",
                   help="refactor at most N chunks (those with the most findings)")
    p.add_argument("--all-chunks", action="store_true",
                   help="also work on chunks the static scan found nothing in")
    p.add_argument("--n-ctx", type=int, default=None, help="context window per model")
    p.add_argument("--turn-timeout", type=float, default=None, metavar="S",
                   help="seconds one model turn may take (default: the config's)")
    p.add_argument("--fake", action="store_true",
                   help="scripted fake models (to try the flow; they change nothing)")
    p.set_defaults(func=cmd_refactor)


def parse_roles(pairs: list[str]) -> dict[str, str]:
    if not pairs:
        return dict(DEFAULT_ROLES)
    roles = {}
    for pair in pairs:
        role, sep, model = pair.partition("=")
        if not sep or not role.strip() or not model.strip():
            raise LogoMeshError(f"--role {pair!r} is not ROLE=MODEL, e.g. "
                                "--role primary-analyzer=qwen2.5-coder-1.5b")
        roles[role.strip()] = model.strip()
    return roles


def cmd_refactor(args: argparse.Namespace) -> int:
    from ..codepipe.pipeline import RefactorOptions, load_inputs
    from ..codepipe.toolchain import ensure_tsc

    load_inputs(args.path)
    toolchain = ensure_tsc()
    roles = parse_roles(args.role)
    options = RefactorOptions(max_iterations=max(1, args.iterations),
                              proposal_repairs=max(0, args.repairs), max_chunks=args.max_chunks,
                              all_chunks=args.all_chunks)
    config = EngineConfig.load(n_ctx=args.n_ctx, turn_timeout_s=args.turn_timeout)
    return asyncio.run(_run(args, roles, options, config, toolchain))


async def _run(args: argparse.Namespace, roles: dict[str, str], options: Any,
               config: EngineConfig, toolchain: Any) -> int:
    from ..codepipe.pipeline import run_refactor
    from ..codepipe.report import outcome, write_output
    from ..sessions.store import SessionStore
    from .run import fake_factory

    try:
        from ..pool.engine import HotSwapEngine
    except ImportError as exc:  # pragma: no cover - only before the pool exists
        raise LogoMeshError(f"the model engine is not available: {exc}") from exc
    engine = HotSwapEngine(config, backend_factory=fake_factory if args.fake else None)
    try:
        for role, model in roles.items():
            print(f"loading {model} as {role} ...", flush=True)
            await engine.load_model(model, role)
        executors = {r: engine.executor(r) for r in roles}
        recorder = SessionStore(config.sessions_dir).recorder()
        result = await run_refactor(executors, args.path, options=options, toolchain=toolchain,
                                    on_progress=lambda s: print(s, flush=True),
                                    recorder=recorder)
    finally:
        await engine.close()
    report = write_output(result, Path(args.output))
    print(f"{outcome(result)}.")
    print(f"report: {report}  diff: {Path(args.output) / 'changes.diff'}")
    if recorder.saving:
        print(f"session: {recorder.session_id} (logomesh-tui sessions show {recorder.session_id})")
    else:
        print(recorder.warning)
    return 0
