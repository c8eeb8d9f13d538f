"""`logomesh-tui refactor PATH -o DIR`: findings-driven small edits, kept only when verified.

The path and the TypeScript toolchain are checked before any model is loaded, so a typo or a
missing node fails in a second with one line saying what to do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ..config import EngineConfig
from ..conversation.roles import SEED_ROLES
from ..errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, LogoMeshError

# The default pool: the four offline models, strongest as the analyzer (it also synthesizes).
DEFAULT_ROLES = dict(zip(SEED_ROLES, ["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b",
                                       "gemma-3-270m", "smollm2-135m"], strict=True))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "refactor", help="findings-driven, verified refactor of a .ts/.tsx file or folder",
        description="Finds problems (eslint react-hooks and typescript-eslint, a behaviour "
                    "harness that renders the component under node, static measures) and fixes "
                    "them one at a time with small edits; a change is kept only if the program "
                    "compiles under tsc --strict, the DOM after every scripted step is unchanged, "
                    "no finding is added and one is removed. Writes the result to --output.")
    p.add_argument("path", help="a .ts/.tsx file or a folder of them")
    p.add_argument("-o", "--output", default="refactor-out", help="output folder (default: %(default)s)")
    p.add_argument("--role", action="append", default=[], metavar="ROLE=MODEL",
                   help="assign a model to a role (repeat); default: the four offline models")
    p.add_argument("--script", metavar="JSON",
                   help="interaction script for the behaviour check (default: derived from the "
                        "component); it must run cleanly on the input")
    p.add_argument("--budget", type=float, default=780.0, metavar="S",
                   help="seconds after which no new finding or model turn starts (default 780: "
                        "with loading and the final checks, a run stays within 15 minutes)")
    p.add_argument("--max-findings", type=int, default=None, metavar="N",
                   help="work on at most N findings (most important first)")
    p.add_argument("--samples", type=int, default=1, metavar="N",
                   help="sampled edits per finding after the greedy one and its repair")
    p.add_argument("--no-models", action="store_true",
                   help="only eslint's own suggestions, no model edits")
    p.add_argument("--n-ctx", type=int, default=None,
                   help="context window per model (default: enough for the file)")
    p.add_argument("--turn-timeout", type=float, default=240.0, metavar="S",
                   help="seconds one model turn may take before it costs its step (default 240)")
    p.add_argument("--fake", action="store_true",
                   help="scripted fake models (to try the flow; they change nothing)")
    p.add_argument("--apply", action="store_true",
                   help="also write the kept changes into the files themselves: only when git "
                        "holds them committed and unchanged; OUTPUT/revert.patch undoes it "
                        "(git apply)")
    p.add_argument("--json", action="store_true",
                   help="print report.json as one JSON document (progress goes to stderr)")
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
    from ..codepipe.pipeline import InputError, RefactorOptions, load_inputs
    from ..source.splitter import estimate_tokens
    from ..verify.harness import load_script
    from ..verify.toolchain import ensure_checks, ensure_tsc

    base, files = load_inputs(args.path)
    if args.apply:
        from ..codepipe.apply import check_clean

        check_clean([base / f for f in files])
    options = RefactorOptions(time_budget_s=args.budget, max_findings=args.max_findings,
                              samples=max(0, args.samples), use_models=not args.no_models,
                              script=load_script(args.script) if args.script else None)
    largest = max(estimate_tokens(t) for t in files.values())
    if largest > options.max_file_tokens:
        name = max(files, key=lambda f: len(files[f]))
        raise InputError(f"{name} is about {largest} tokens; the pool handles files up to "
                         f"{options.max_file_tokens} tokens (the whole file is in every prompt): "
                         "split it")
    toolchain = ensure_tsc()
    ensure_checks()
    roles = parse_roles(args.role)
    # The whole file is in every edit prompt: give the windows room for it and a reply.
    n_ctx = args.n_ctx or max(4096, -(-(largest + 1200) // 1024) * 1024)
    config = EngineConfig.load(n_ctx=n_ctx, turn_timeout_s=args.turn_timeout)
    return asyncio.run(_run(args, roles, options, config, toolchain))


async def _run(args: argparse.Namespace, roles: dict[str, str], options: Any,
               config: EngineConfig, toolchain: Any) -> int:
    from ..codepipe.pipeline import load_inputs, run_refactor
    from ..codepipe.report import outcome, report_json, write_output
    from ..sessions.store import SessionStore
    from .run import fake_factory

    try:
        from ..pool.engine import HotSwapEngine
    except ImportError as exc:  # pragma: no cover - only before the pool exists
        raise LogoMeshError(f"the model engine is not available: {exc}") from exc
    # With --json, stdout carries only the report: progress goes to stderr.
    out = sys.stderr if args.json else sys.stdout
    engine = HotSwapEngine(config, backend_factory=fake_factory if args.fake else None)
    try:
        for role, model in roles.items():
            print(f"loading {model} as {role} ...", file=out, flush=True)
            await engine.load_model(model, role)
        executors = {r: engine.executor(r) for r in roles}
        recorder = SessionStore(config.sessions_dir).recorder()
        result = await run_refactor(executors, args.path, options=options, toolchain=toolchain,
                                    on_progress=lambda s: print(s, file=out, flush=True),
                                    recorder=recorder)
    finally:
        await engine.close()
    applied, refused = None, None
    if args.apply and result.accepted:
        from ..codepipe.apply import ApplyError, apply_changes

        try:
            applied = apply_changes(load_inputs(args.path)[0], result.files_before,
                                    result.files_after, Path(args.output) / "revert.patch")
        except ApplyError as exc:
            refused = exc
    report = write_output(result, Path(args.output), applied=applied)
    print(f"{outcome(result)}: {len(result.findings_before)} findings before, "
          f"{len(result.findings_after)} after; {result.seconds} s.", file=out)
    print(f"report: {report}  diff: {Path(args.output) / 'changes.diff'}", file=out)
    if recorder.saving:
        print(f"session: {recorder.session_id} (logomesh-tui sessions show {recorder.session_id})",
              file=out)
    else:
        print(recorder.warning, file=out)
    if applied is not None and applied.files:
        print(f"applied to {len(applied.files)} file(s): {', '.join(applied.files)}; undo with: "
              f"{applied.undo_command()}", file=out)
    elif args.apply and refused is None:
        print("nothing applied: no change was kept", file=out)
    if args.json:
        print(json.dumps(report_json(result, applied=applied), indent=2))
    if refused is not None:
        print(f"error: {refused}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return refactor_exit_code(result)


def refactor_exit_code(result: Any) -> int:
    """EXIT_BAD_INPUT when the input does not parse (tsc's TS1xxx syntax errors) and nothing was
    kept; EXIT_FAILED when the result has errors the input did not have, or changes were tried
    and none was kept; EXIT_OK when a change was kept, or the scan found nothing to change."""
    before = {d.key() for d in result.compile_before.errors}
    if any(d.key() not in before for d in result.compile_after.errors):
        return EXIT_FAILED
    if result.accepted:
        return EXIT_OK
    syntax = [d for d in result.compile_before.errors if 1000 <= d.code < 2000]
    if syntax:
        print(f"error: {syntax[0].render()}: the input does not parse; fix it first",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK if not result.changes else EXIT_FAILED
