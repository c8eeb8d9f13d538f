"""`logomesh-tui`: the dashboard with no arguments, subcommands for headless work.

Each subcommand lives in its own module under ``logomesh_tui.cli`` and exposes
``register(subparsers)``; this file only wires them together.

Exit codes (the same for every subcommand): 0 done; 1 the operation failed (a model did not
load, a pull failed, a run produced no answer, a refactor kept no compiling change); 2 bad usage
or input (unknown option, bad config, unknown model, missing or invalid file); 130 interrupted.
With ``--json`` stdout holds exactly one JSON document; progress and errors go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ..config import check_command_line_config, set_command_line
from ..errors import EXIT_INTERRUPTED, LogoMeshError
from ..evidence.program import register_evidence_program

# One module per subcommand group; each defines register(subparsers) and sets args.func.
COMMAND_MODULES = [
    "models",     # models list / show / pull / rm
    "config_cmd", # config show
    "sessions",   # sessions list / show, resume
    "fork",       # fork SESSION --at M --role R=M, compare A B
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--sessions-dir", help="folder for session files (env LOGOMESH_SESSIONS_DIR)")
    parser.add_argument("--config", help="config TOML file (env LOGOMESH_CONFIG)")
    parser.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="serve Prometheus metrics on this port (env LOGOMESH_METRICS_PORT)")
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


# 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe.
EXIT_BROKEN_PIPE = 141


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("logomesh-tui")
    except PackageNotFoundError:  # a checkout that was never pip-installed
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    register_evidence_program()  # run, resume, shell and the dashboard can use the protocol
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, bad usage exits 2
        return int(exc.code or 0)
    set_command_line({"sessions_dir": args.sessions_dir, "metrics_port": args.metrics_port},
                     config_file=args.config)
    try:
        check_command_line_config()  # every command, even those that never load the config
        if args.command is None:
            from .dashboard import run_dashboard

            return run_dashboard(args)
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below, not at exit
        return code
    except LogoMeshError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`... --json | head`): say nothing more, like other Unix tools.
        # Point stdout at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        set_command_line({})  # an in-process caller (tests, scripts) gets a clean slate


if __name__ == "__main__":
    sys.exit(main())
