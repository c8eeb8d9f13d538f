"""`logomesh-tui` with no subcommand: open the dashboard (or serve it in a browser)."""

from __future__ import annotations

import argparse
import asyncio

from ..config import EngineConfig


def run_dashboard(args: argparse.Namespace) -> int:
    """Open the Textual dashboard on this terminal; ``--serve`` puts it in a browser instead."""
    if getattr(args, "serve", False):
        return serve(port=getattr(args, "port", 8000), options=_global_options(args))
    return asyncio.run(_run())


async def _run() -> int:
    # Imported here so the headless subcommands never load textual.
    from ..pool.engine import HotSwapEngine
    from ..tui import LogoMeshApp

    config = EngineConfig.load()
    async with HotSwapEngine(config) as engine:
        app = LogoMeshApp(engine, config=config)
        await app.run_async()
        return app.return_code or 0


def _global_options(args: argparse.Namespace) -> list[str]:
    """The global options given, to hand on to each served dashboard's command line."""
    out = []
    for flag, value in (("--config", getattr(args, "config", None)),
                        ("--sessions-dir", getattr(args, "sessions_dir", None))):
        if value is not None:
            out += [flag, str(value)]
    return out


def serve(port: int = 8000, host: str = "localhost", options: list[str] | None = None) -> int:
    """Serve the same app through textual-serve: each browser tab runs its own dashboard,
    started with the global ``options`` given here (--config, --sessions-dir). SIGTERM or
    SIGINT ends the server and every dashboard it started (see ``cli.serve``)."""
    from .serve import serve as serve_dashboards

    return serve_dashboards(port=port, host=host, options=options)
