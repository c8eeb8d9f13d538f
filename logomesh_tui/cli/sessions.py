"""`logomesh-tui sessions list|show ID` and `logomesh-tui resume ID`."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..config import EngineConfig
from .args import actions, command, json_flag
from .run import (
    PrinterView,
    add_run_options,
    headless_runner,
    load_roles,
    make_engine,
    outcome_code,
    print_outcome,
    progress_line,
)


def register(sub: argparse._SubParsersAction) -> None:
    ssub = actions(sub, "sessions", "list recorded sessions or show one as a timeline",
                   "sessions_command")
    json_flag(command(ssub, "list", cmd_list, "every session in the sessions folder, newest first"),
              "print JSON for scripts")
    sp = command(ssub, "show", cmd_show, "replay a session as a readable timeline")
    sp.add_argument("session_id", metavar="ID", help="session id (a unique prefix is enough)")
    sp.add_argument("--metrics", action="store_true", help="show per-turn token timings")
    json_flag(sp, "print the session as one JSON document (its id and raw events)")
    rp = command(sub, "resume", cmd_resume, "continue an interrupted session from its next turn")
    rp.add_argument("session_id", metavar="ID", help="session id (a unique prefix is enough)")
    add_run_options(rp)


def _store():
    from ..sessions.store import SessionStore

    return SessionStore(EngineConfig.load().sessions_dir)


def cmd_list(args: argparse.Namespace) -> int:
    from ..sessions.lineage import tree_order

    store = _store()
    rows = store.list()
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return 0
    console = Console()
    if not rows:
        console.print(f"no sessions in {store.dir}; start one with `logomesh-tui run "
                      "examples/seed-scenario.toml`")
        return 0
    table = Table(title=f"Sessions ({store.dir})", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("id", no_wrap=True, min_width=22)
    table.add_column("started", no_wrap=True, min_width=11)
    table.add_column("roles", justify="right", min_width=5)
    table.add_column("msgs", justify="right", min_width=4)
    table.add_column("state", no_wrap=True, min_width=10)
    table.add_column("prompt", no_wrap=True)
    room = max(12, console.width - 66)
    for r, depth in tree_order(rows):
        started = r.started.strftime("%m-%d %H:%M") if r.started else "?"
        state = (f"done {r.final_score:.2f}" if r.finished and r.final_score is not None
                 else "done" if r.finished else "[yellow]unfinished[/]")
        prompt = " ".join(r.prompt.split())
        if r.parent:
            prompt = f"after {r.fork_short_id or r.fork_at}: {prompt}"
        name = ("  " * (depth - 1) + "└ " + r.id) if depth else r.id
        table.add_row(name, started, str(len(r.roles)), str(r.message_count), state,
                      prompt if len(prompt) <= room else prompt[:room - 3] + "...")
    console.print(table)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ..sessions.timeline import TimelinePrinter

    store = _store()
    sid = store.resolve_id(args.session_id)
    result = store.read(sid)
    if args.json:
        print(json.dumps({"session_id": sid, "torn_tail": result.torn_tail,
                          "finished": any(e.kind == "session_finished" for e in result.events),
                          "events": [ev.model_dump(mode="json") for ev in result.events]},
                         indent=2))
        return 0
    console = Console()
    TimelinePrinter(console, metrics=args.metrics).replay(result.events)
    for warning in result.warnings():
        console.print(Text(f"({warning})", style="yellow"))
    if not any(e.kind == "session_finished" for e in result.events):
        console.print(Text(f"unfinished; continue with: logomesh-tui resume {sid}",
                           style="yellow"))
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    store = _store()
    sid = store.resolve_id(args.session_id)
    return asyncio.run(_resume(store, sid, args, Console(stderr=args.json)))


async def _resume(store: Any, sid: str, args: argparse.Namespace, console: Console) -> int:
    from ..sessions.events import SessionStarted
    from ..sessions.timeline import TimelinePrinter

    result = store.read(sid)
    events = result.events
    start = next((e for e in events if isinstance(e, SessionStarted)), None)
    n_ctx = max(start.n_ctx.values(), default=None) if start else None
    timeout = start.limits.get("turn_timeout_s") if start else None
    config = EngineConfig.load(n_ctx=n_ctx, turn_timeout_s=timeout,
                               sessions_dir=store.dir)
    engine = make_engine(config, args.fake)
    try:
        runner = headless_runner(engine, config, console, metrics=args.metrics)
        session = await runner.restore(sid, arbitration=args.arbitration)
        if args.max_rounds:
            session.limits.max_rounds = args.max_rounds
        printer = next((v.printer for v in runner.views if isinstance(v, PrinterView)), None)
        (printer or TimelinePrinter(console, metrics=args.metrics)).replay(events)
        for warning in result.warnings():
            console.print(Text(f"({warning})", style="yellow"))
        await load_roles(engine, session.participants(), console)
        await runner.seat_restored(session)
        with progress_line(runner, session, console):
            response = await runner.run(session)
        print_outcome(console, response, store.dir, args.json)
        return outcome_code(response)
    finally:
        await engine.close()
