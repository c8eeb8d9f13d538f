"""`logomesh-tui`: the dashboard with no arguments, subcommands for headless work.

Each subcommand lives in its own module under ``logomesh_tui.cli`` and exposes
``register(subparsers)``; this file only wires them together.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import LogoMeshError

# One module per subcommand group; each defines register(subparsers) and sets args.func.
COMMAND_MODULES = [
    "models",     # models list / pull
    "sessions",   # sessions list / show, resume
    "run",        # run SCENARIO.toml
    "shell",      # shell REPL and shell -c
    "export",     # export SESSION --format F -o PATH
    "refactor",   # refactor PATH
    "bench",      # bench PART
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logomesh-tui",
        description="Run several local LLMs as named roles in a structured conversation.")
    parser.add_argument("--sessions-dir", help="folder for session files (env LOGOMESH_SESSIONS_DIR)")
    parser.add_argument("--config", help="config TOML file (env LOGOMESH_CONFIG)")
    parser.add_argument("--serve", action="store_true", help="serve the dashboard in a browser")
    parser.add_argument("--port", type=int, default=8000, help="port for --serve")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.{name}":
                continue  # subcommand not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.sessions_dir:
        import os

        os.environ["LOGOMESH_SESSIONS_DIR"] = args.sessions_dir
    if args.config:
        import os

        os.environ["LOGOMESH_CONFIG"] = args.config
    try:
        if args.command is None:
            from .dashboard import run_dashboard

            return run_dashboard(args)
        return int(args.func(args) or 0)
    except LogoMeshError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
