"""How subcommands declare themselves: one call per command or action, and the ``--json`` flag
every scriptable command takes."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Handler = Callable[[argparse.Namespace], int]


def command(sub: argparse._SubParsersAction, name: str, func: Handler, help: str,
            **kw: Any) -> argparse.ArgumentParser:
    """The subcommand (or action) ``name``, run by ``func(args)``; ``kw`` go to add_parser."""
    p = sub.add_parser(name, help=help, **kw)
    p.set_defaults(func=func)
    return p


def actions(sub: argparse._SubParsersAction, name: str, help: str, dest: str,
            **kw: Any) -> argparse._SubParsersAction:
    """A subcommand made of actions (``models list``); one action must be named."""
    p = sub.add_parser(name, help=help, **kw)
    return p.add_subparsers(dest=dest, metavar="ACTION", required=True)


def json_flag(p: argparse.ArgumentParser, help: str = "print one JSON document") -> None:
    p.add_argument("--json", action="store_true", help=help)
