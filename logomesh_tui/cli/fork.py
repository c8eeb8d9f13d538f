"""`logomesh-tui fork SESSION --at MESSAGE --role ROLE=MODEL` and `logomesh-tui compare A B`."""

from __future__ import annotations

import argparse
import json

from rich import box
from rich.console import Console, Group
from rich.table import Table

from ..config import EngineConfig
from ..conversation.protocols import protocol_names
from ..errors import UnknownModelError, UsageError
from ..sessions.compare import Comparison, compare_sessions
from ..sessions.lineage import START, fork_session, parse_assignment
from ..sessions.store import SessionStore


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fork", help="branch a recorded session after one of its messages",
        description="Make a new session that shares SESSION's history up to and including "
                    "message --at and goes on with another assignment; run it with "
                    "`logomesh-tui resume ID` (or --run).")
    p.add_argument("session", metavar="SESSION", help="session id (a unique prefix is enough)")
    p.add_argument("--at", required=True, metavar="MESSAGE_ID",
                   help=f"the last shared message: its id or short id (m3), or {START!r} "
                        "(before the first turn: only the task is shared)")
    p.add_argument("--role", action="append", metavar="ROLE=MODEL", default=[],
                   help="a role the branch gives another model (repeatable)")
    p.add_argument("--protocol", choices=protocol_names(), help="another protocol")
    p.add_argument("--max-rounds", type=int, metavar="N", help="another round limit")
    p.add_argument("--json", action="store_true",
                   help="print {id, parent, fork_at, ...} as one JSON document")
    p.add_argument("--run", action="store_true", help="run the branch at once (like resume)")
    p.add_argument("--fake", action="store_true", help="with --run: scripted fake models")
    p.set_defaults(func=cmd_fork)
    c = sub.add_parser(
        "compare", help="compare branches of one session from their fork point",
        description="A summary row per session from the point they share: consensus (round, "
                    "score), artifacts that passed verification, tokens, wall time, tokens "
                    "per second per role.")
    c.add_argument("sessions", nargs="+", metavar="SESSION", help="two or more session ids")
    c.add_argument("--json", action="store_true", help="print one JSON document")
    c.set_defaults(func=cmd_compare)


def check_models(assignment: dict[str, str], config: EngineConfig, flag: str = "--role") -> None:
    """Every model named must be one the catalog knows (a name, remote:..., a .gguf path);
    ``flag`` is the option the error names."""
    from ..catalog.catalog import Catalog

    catalog = Catalog.from_config(config)
    for role, model in assignment.items():
        try:
            catalog.get(model)
        except UnknownModelError as exc:
            raise UsageError(f"{flag} {role}={model}: {exc}") from exc


def cmd_fork(args: argparse.Namespace) -> int:
    config = EngineConfig.load()
    assignment = parse_assignment(args.role)
    check_models(assignment, config)
    if args.max_rounds is not None and args.max_rounds < 1:
        raise UsageError(f"--max-rounds must be 1 or more, got {args.max_rounds}")
    store = SessionStore(config.sessions_dir)
    result = fork_session(store, args.session, args.at, assignment=assignment,
                          protocol=args.protocol,
                          limits={"max_rounds": args.max_rounds} if args.max_rounds else None)
    if not args.run:
        print(json.dumps(result.as_json(), indent=2) if args.json else result.id)
        return 0
    import asyncio

    from .sessions import _resume

    Console(stderr=True).print(f"branch {result.id} of {result.parent} after "
                               f"{result.fork_short_id}")
    args.arbitration = None
    args.metrics = False
    return asyncio.run(_resume(store, result.id, args, Console(stderr=args.json)))


def comparison_table(comparison: Comparison) -> Group:
    """One row per branch (the models it varies, consensus, passing artifacts, tokens, wall
    time), then tokens per second per role and branch."""
    point = ("the start" if comparison.fork_at == START
             else f"{comparison.fork_short_id} ({comparison.fork_at})")
    table = Table(title=f"from {point}",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    differ = comparison.differing_roles()
    table.add_column("session", no_wrap=True)
    table.add_column("\n".join(differ) or "models", overflow="fold")
    for name in ("consensus", "passed", "tokens", "wall"):
        table.add_column(name, no_wrap=True)
    speed = Table(title="tokens per second", box=box.SIMPLE_HEAD, pad_edge=False)
    speed.add_column("role", no_wrap=True)
    roles: list[str] = []
    for b in comparison.branches:
        row = b.row()
        cons = row["consensus"]
        score = "-" if cons["score"] is None else f"{cons['score']:.2f}"
        consensus = (f"yes r{cons['round']} {score}" if cons["reached"]
                     else f"no {score}" + ("" if row["finished"] else " (unfinished)"))
        table.add_row(b.id, "\n".join(b.assignment.get(r, "-") for r in differ) or "same",
                      consensus, f"{row['artifacts_passed']}/{row['artifacts_verified']}",
                      str(row["tokens"]), f"{row['wall_s']:.1f}s")
        speed.add_column(b.id[-6:], justify="right")
        roles += [r for r in b.speeds if r not in roles]
    for role in roles:
        cells = []
        for b in comparison.branches:
            tps = b.speeds[role].tokens_per_s if role in b.speeds else None
            cells.append("-" if tps is None else f"{tps:.1f}")
        speed.add_row(role, *cells)
    return Group(table, speed)


def cmd_compare(args: argparse.Namespace) -> int:
    store = SessionStore(EngineConfig.load().sessions_dir)
    comparison = compare_sessions(store, args.sessions)
    if args.json:
        print(json.dumps(comparison.as_json(), indent=2))
        return 0
    Console().print(comparison_table(comparison))
    return 0
